/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qcow2.c: the qcow2 format driver: open (read_header -> validate -> load_tables
 * -> apply_options), close, the request callbacks and the BlockDriver table.
 * The on-disk layout is drawn in header.c (header), cluster.c (L1/L2) and
 * refcount.c (refcounts); the lock and crash-safety rules are in qcow2.h.
 */
#include "qcow2.h"
#include "util/aio.h"
#include "qobject/qdict.h"
#include "block/dirty-bitmap.h"

/* ---- running a coroutine_fn from the control path ---- */

typedef struct Qcow2CoCall {
    int (*fn)(BlockDriverState *bs, void *opaque, Error **errp);
    BlockDriverState *bs;
    void *opaque;
    Error **errp;
    int ret;
    bool done;
} Qcow2CoCall;

static void coroutine_fn qcow2_co_call_entry(void *opaque)
{
    Qcow2CoCall *c = opaque;

    c->ret = c->fn(c->bs, c->opaque, c->errp);
    c->done = true;
    aio_notify(qemu_get_aio_context());
}

int qcow2_run_co(int (*fn)(BlockDriverState *, void *, Error **), BlockDriverState *bs,
                 void *opaque, Error **errp)
{
    Qcow2CoCall c = { .fn = fn, .bs = bs, .opaque = opaque, .errp = errp };

    if (qemu_in_coroutine()) {
        qcow2_co_call_entry(&c);
    } else {
        qemu_coroutine_enter(qemu_coroutine_create(qcow2_co_call_entry, &c));
        AIO_WAIT_WHILE(qemu_get_aio_context(), !c.done);
    }
    return c.ret;
}

/* ---- header ---- */

int coroutine_fn qcow2_update_header(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *buf = g_malloc(s->cluster_size);

    s->h.l1_size = s->l1_size;
    s->h.l1_table_offset = s->l1_offset;
    s->h.refcount_table_offset = s->reftable_offset;
    s->h.refcount_table_clusters = (s->reftable_size * 8) >> s->cluster_bits;
    int len = qcow2_header_serialize(&s->h, &s->exts, bs->backing_file, buf, s->cluster_size);
    if (len < 0) {
        return len;
    }
    return bdrv_co_pwrite(bs->file, 0, ROUND_UP(len, 512), buf, 0);
}

static int qcow2_probe(const uint8_t *buf, int buf_size, const char *filename);

/*
 * A probed version 1 image is the older qcow format, which QEMU opens with
 * another driver: its header checks and their words, then our refusal.
 */
static int qcow2_reject_qcow1(const uint8_t *h, Error **errp)
{
    uint64_t size = 0;
    uint32_t crypt = ((uint32_t)h[36] << 24) | (h[37] << 16) | (h[38] << 8) | h[39];

    for (int i = 24; i < 32; i++) {
        size = (size << 8) | h[i];
    }
    if (size <= 1) {
        error_setg(errp, "Image size is too small (must be at least 2 bytes)");
    } else if (h[32] < 9 || h[32] > 16) {
        error_setg(errp, "Cluster size must be between 512 and 64k");
    } else if (h[33] < 9 - 3 || h[33] > 16 - 3) {
        error_setg(errp, "L2 table size must be between 512 and 64k");
    } else if (crypt > 1) {
        error_setg(errp, "invalid encryption method in qcow header");
    } else {
        error_setg(errp, "qcow (version 1) images are not supported");
    }
    return -EINVAL;
}

static int coroutine_fn qcow2_read_header(BlockDriverState *bs, uint8_t **cluster,
                                          Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint8_t first[QCOW2_V3_HEADER_LEN] = { 0 };
    int64_t flen = bdrv_co_getlength(bs->file->bs);

    if (flen < 0) {
        error_setg_errno(errp, -flen, "Could not get the size of the image file");
        return flen;
    }
    int ret = bdrv_co_pread(bs->file, 0, MIN((int64_t)sizeof(first), flen), first, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read qcow2 header");
        return ret;
    }
    if (bs->probed && flen >= 48 && qcow2_probe(first, sizeof(first), NULL) &&
        first[4] == 0 && first[5] == 0 && first[6] == 0 && first[7] == 1) {
        return qcow2_reject_qcow1(first, errp);
    }
    if (!qcow2_header_parse(first, MIN((int64_t)sizeof(first), flen), &s->h, errp) ||
        !qcow2_header_validate(&s->h, errp)) {
        return -EINVAL;
    }
    uint64_t cs = 1ULL << s->h.cluster_bits;
    *cluster = g_malloc0(cs);
    ret = bdrv_co_pread(bs->file, 0, MIN((int64_t)cs, flen), *cluster, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read qcow2 header");
        return ret;
    }
    size_t end = s->h.backing_file_offset ? s->h.backing_file_offset : cs;
    if (end > s->h.header_length &&
        !qcow2_header_read_exts(*cluster, s->h.header_length, end, &s->exts, errp)) {
        return -EINVAL;
    }
    if (s->h.backing_file_offset) {
        memcpy(bs->backing_file, *cluster + s->h.backing_file_offset, s->h.backing_file_size);
        bs->backing_file[s->h.backing_file_size] = 0;
        g_strlcpy(bs->backing_format, s->exts.backing_format, sizeof(bs->backing_format));
    }
    return 0;
}

static bool qcow2_validate_features(BlockDriverState *bs, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t incompat = s->h.incompatible_features;

    if (incompat & ~(uint64_t)QCOW2_INCOMPAT_KNOWN) {
        g_autofree char *names = qcow2_unsupported_features(&s->exts,
                                    incompat & ~(uint64_t)QCOW2_INCOMPAT_KNOWN);
        error_setg(errp, "Unsupported qcow2 feature(s): %s", names);
        return false;
    }
    if ((incompat & QCOW2_INCOMPAT_CORRUPT) && (flags & BDRV_O_RDWR) &&
        !(flags & BDRV_O_CHECK)) {
        error_setg(errp, "qcow2: Image is corrupt; cannot be opened read/write");
        return false;
    }
    if (s->h.compression_type > QCOW2_COMPRESSION_ZSTD) {
        error_setg(errp, "qcow2: Unknown compression type %u", s->h.compression_type);
        return false;
    }
    if (s->h.compression_type == QCOW2_COMPRESSION_ZLIB &&
        (incompat & QCOW2_INCOMPAT_COMPRESSION)) {
        error_setg(errp, "qcow2: Compression type incompatible feature bit must not be set");
        return false;
    }
    if (s->h.compression_type != QCOW2_COMPRESSION_ZLIB &&
        !(incompat & QCOW2_INCOMPAT_COMPRESSION)) {
        error_setg(errp, "qcow2: Compression type incompatible feature bit must be set");
        return false;
    }
#ifndef CONFIG_ZSTD
    if (s->h.compression_type == QCOW2_COMPRESSION_ZSTD) {
        error_setg(errp, "qcow2: zstd compression is not supported by this build");
        return false;
    }
#endif
    if ((incompat & QCOW2_INCOMPAT_DATA_FILE) || s->exts.has_data_file) {
        error_setg(errp, "qcow2: external data files are not supported");
        return false;
    }
    if (incompat & QCOW2_INCOMPAT_EXTL2) {
        error_setg(errp, "qcow2: extended L2 entries (subclusters) are not supported");
        return false;
    }
    if (s->h.crypt_method > 2) {
        error_setg(errp, "Unsupported encryption method %" PRIu32, s->h.crypt_method);
        return false;
    }
    if (s->h.crypt_method == 1) {
        /* QEMU's words when no secret is given; with one we still refuse below */
        error_setg(errp, "Parameter 'encrypt.key-secret' is required for cipher");
        return false;
    }
    if (s->h.crypt_method) {
        error_setg(errp, "encrypted qcow2 images are not supported");
        return false;
    }
    return true;
}

static bool qcow2_validate_tables(BlockDriverState *bs, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2Header *h = &s->h;

    if (!qcow2_validate_table(h->refcount_table_offset,
                              (uint64_t)h->refcount_table_clusters << s->cluster_bits, 1,
                              QCOW2_MAX_REFTABLE_BYTES, s->cluster_bits,
                              "Reference count table", errp)) {
        return false;
    }
    if (!h->refcount_table_clusters) {
        error_setg(errp, "Image does not contain a reference count table");
        return false;
    }
    /* check opens the image anyway and reports the table itself, as QEMU */
    s->snapshot_table_error = 0;
    if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        if (!(flags & BDRV_O_CHECK)) {
            error_setg(errp, "Snapshot table too large");
            return false;
        }
        s->snapshot_table_error = -EFBIG;
    } else if (h->nb_snapshots && (h->snapshots_offset & s->cluster_mask)) {
        if (!(flags & BDRV_O_CHECK)) {
            error_setg(errp, "Snapshot table offset invalid");
            return false;
        }
        s->snapshot_table_error = -EINVAL;
    }
    if (!qcow2_validate_table(h->l1_table_offset, h->l1_size, 8, QCOW2_MAX_L1_BYTES,
                              s->cluster_bits, "Active L1 table", errp)) {
        return false;
    }
    uint64_t per_l1 = (uint64_t)s->l2_entries << s->cluster_bits;
    uint64_t need = DIV_ROUND_UP(h->size, per_l1);
    if (h->size > INT64_MAX - per_l1 || need > QCOW2_MAX_L1_BYTES / 8) {
        error_setg(errp, "Image is too big");
        return false;
    }
    if (h->l1_size < need) {
        error_setg(errp, "L1 table is too small");
        return false;
    }
    return true;
}

static int coroutine_fn qcow2_load_tables(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;

    s->l1_size = s->h.l1_size;
    s->l1_offset = s->h.l1_table_offset;
    s->l1_alloc = ROUND_UP(MAX(s->l1_size, 1u), 64);
    s->l1 = g_try_new0(uint64_t, s->l1_alloc);
    if (!s->l1) {
        error_setg(errp, "Could not allocate L1 table");
        return -ENOMEM;
    }
    if (s->l1_size) {
        int ret = bdrv_co_pread(bs->file, s->l1_offset, s->l1_size * 8, s->l1, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not read L1 table");
            return ret;
        }
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        s->l1[i] = GUINT64_FROM_BE(s->l1[i]);
    }
    int ret = qcow2_load_reftable(bs, errp);
    ret = ret < 0 ? ret : qcow2_read_snapshots(bs, errp);
    return ret < 0 ? ret : qcow2_bitmaps_read_dir(bs, errp);
}

typedef struct Qcow2OpenOpts {
    uint64_t l2_cache, rb_cache, cache;
    bool pass_discard;
    int lazy;                       /* lazy-refcounts: -1 image default, 0 off, 1 on */
    int flags;
} Qcow2OpenOpts;

static bool qcow2_take_options(QDict *options, Qcow2OpenOpts *o, Error **errp)
{
    static const char *const ignored[] = {
        "pass-discard-snapshot", "pass-discard-other", "overlap-check",
        "overlap-check.template", "cache-clean-interval", "l2-cache-entry-size",
        "discard-no-unref", "encrypt.format", "encrypt.key-secret", NULL,
    };
    if (!bdrv_opt_take_size(options, "l2-cache-size", 0, &o->l2_cache, errp) ||
        !bdrv_opt_take_size(options, "refcount-cache-size", 0, &o->rb_cache, errp) ||
        !bdrv_opt_take_size(options, "cache-size", 0, &o->cache, errp) ||
        !bdrv_opt_take_bool(options, "pass-discard-request", true, &o->pass_discard, errp)) {
        return false;
    }
    g_autofree char *lazy = bdrv_opt_take_str(options, "lazy-refcounts");
    o->lazy = !lazy ? -1 : !strcmp(lazy, "on") || !strcmp(lazy, "true") ? 1 : 0;
    for (int i = 0; ignored[i]; i++) {
        g_free(bdrv_opt_take_str(options, ignored[i]));
    }
    if (o->cache && o->l2_cache && o->rb_cache) {
        error_setg(errp, "cache-size, l2-cache-size and refcount-cache-size may not be "
                   "set at the same time");
        return false;
    }
    return true;
}

static int coroutine_fn qcow2_apply_options(BlockDriverState *bs, Qcow2OpenOpts *o,
                                            Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    uint64_t cover = DIV_ROUND_UP(s->h.size, (uint64_t)s->l2_entries * cs) * cs;
    uint64_t l2 = o->l2_cache ? o->l2_cache : MIN(cover, 32 * MiB);
    uint64_t rb = o->rb_cache ? o->rb_cache : 4 * cs;

    if (o->cache && !o->l2_cache) {
        l2 = o->cache > rb ? o->cache - rb : cs;
    }
    s->l2_cache = qcow2_cache_new(MAX(l2 / cs, 2), true);
    s->rb_cache = qcow2_cache_new(MAX(rb / cs, 4), false);
    s->discard_passthrough = o->pass_discard;
    s->pending_frees = g_array_new(false, false, sizeof(Qcow2PendingFree));
    s->free_hint = 0;                   /* as QEMU: even cluster 0 is looked at */
    if (!s->rw) {
        return 0;
    }
    if (s->h.incompatible_features & QCOW2_INCOMPAT_DIRTY) {
        /* lazy refcounts left stale counts behind: rebuild them before writing */
        BdrvCheckResult res = { 0 };
        int ret = qcow2_co_check(bs, &res, BDRV_FIX_ERRORS | BDRV_FIX_LEAKS);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not repair dirty image");
            return ret;
        }
        s->h.incompatible_features &= ~(uint64_t)QCOW2_INCOMPAT_DIRTY;
    }
    s->lazy_refcounts = s->version >= 3 && o->lazy != 0 &&
                        (o->lazy > 0 || (s->h.compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS));
    if (s->lazy_refcounts) {
        /* refcounts on disk may lag from now on until a clean close */
        s->h.incompatible_features |= QCOW2_INCOMPAT_DIRTY;
    }
    if (s->h.autoclear_features || s->h.version == 3) {
        /* autoclear bits we do not maintain say "stale" by being clear */
        s->h.autoclear_features &= s->nb_bitmaps ? QCOW2_AUTOCLEAR_BITMAPS : 0;
        int ret = qcow2_update_header(bs);
        ret = ret < 0 || !s->lazy_refcounts ? ret : bdrv_co_flush(bs->file->bs);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not update qcow2 header");
            return ret;
        }
    }
    return 0;
}

static int coroutine_fn qcow2_co_open(BlockDriverState *bs, void *opaque, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2OpenOpts *o = opaque;
    g_autofree uint8_t *cluster = NULL;

    int ret = qcow2_read_header(bs, &cluster, errp);
    if (ret < 0) {
        return ret;
    }
    s->version = s->h.version;
    s->cluster_bits = s->h.cluster_bits;
    s->cluster_size = 1u << s->cluster_bits;
    s->cluster_mask = s->cluster_size - 1;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_entries = 1u << s->l2_bits;
    s->refcount_order = s->h.refcount_order;
    s->refblock_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refcount_max = s->refcount_order == 6 ? UINT64_MAX
                                             : (1ULL << (1u << s->refcount_order)) - 1;
    /* inactive: the migration peer owns the image; read it, change nothing */
    s->rw = (o->flags & BDRV_O_RDWR) && !(o->flags & BDRV_O_INACTIVE);
    if (!qcow2_validate_features(bs, o->flags, errp) || !qcow2_validate_tables(bs, o->flags, errp)) {
        return -EINVAL;
    }
    s->corrupt = false;
    s->metadata_prealloc = -1;
    ret = qcow2_load_tables(bs, errp);
    if (ret < 0) {
        return ret;
    }
    bs->total_size = s->h.size;
    ret = qcow2_apply_options(bs, o, errp);
    if (ret < 0) {
        return ret;
    }
    if (o->flags & (BDRV_O_CHECK | BDRV_O_INACTIVE)) {
        /* check reads the directory, not the bitmaps; inactive: loaded at activation */
        return 0;
    }
    qemu_co_mutex_lock(&s->lock);
    ret = qcow2_bitmaps_load(bs, errp);
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

static void qcow2_free_state(BDRVQcow2State *s)
{
    qcow2_cache_free(s->l2_cache);
    qcow2_cache_free(s->rb_cache);
    s->l2_cache = s->rb_cache = NULL;
    g_free(s->l1);
    g_free(s->reftable);
    s->l1 = NULL;
    s->reftable = NULL;
    if (s->pending_frees) {
        g_array_free(s->pending_frees, true);
        s->pending_frees = NULL;
    }
    qcow2_free_snapshots(s);
    qcow2_bitmap_list_free(s->bitmaps, s->nb_bitmaps);
    s->bitmaps = NULL;
    s->nb_bitmaps = 0;
    qcow2_header_exts_clear(&s->exts);
}

static int qcow2_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2OpenOpts o = { .flags = flags, .lazy = -1 };

    if (!qcow2_take_options(options, &o, errp)) {
        return -EINVAL;
    }
    BdrvChild *file = bdrv_open_child(NULL, options, "file", bs,
                                      BDRV_CHILD_IMAGE | BDRV_CHILD_PRIMARY, false, errp);
    if (!file) {
        return -EINVAL;
    }
    if (!bs->file) {
        bs->file = file;
    }
    qemu_co_mutex_init(&s->lock);
    int ret = qcow2_run_co(qcow2_co_open, bs, &o, errp);
    if (ret < 0) {
        bdrv_release_all_dirty_bitmaps(bs);     /* the ones we loaded */
        qcow2_free_state(s);
        return ret;
    }
    bs->supported_zero_flags = BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK;
    bs->supported_truncate_flags = 0;
    bs->supported_write_flags = BDRV_REQ_WRITE_COMPRESSED;
    return 0;
}

static int coroutine_fn qcow2_co_close(BlockDriverState *bs, void *opaque, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;

    qemu_co_mutex_lock(&s->lock);
    int ret = s->corrupt ? 0 : qcow2_bitmaps_store(bs, false);
    if (ret < 0) {
        error_report("Lost persistent bitmaps during inactivation of node '%s': %s",
                     bdrv_get_device_or_node_name(bs), strerror(-ret));
    }
    ret = s->corrupt ? 0 : qcow2_flush_metadata(bs);
    if (ret == 0 && !s->corrupt && s->lazy_refcounts) {
        /* everything is on disk: the refcounts are right again */
        ret = bdrv_co_flush(bs->file->bs);
        if (ret == 0) {
            s->h.incompatible_features &= ~(uint64_t)QCOW2_INCOMPAT_DIRTY;
            ret = qcow2_update_header(bs);
        }
    }
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

static void qcow2_close(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;

    if (s->rw && s->l2_cache) {
        qcow2_run_co(qcow2_co_close, bs, NULL, NULL);
        bdrv_flush(bs->file->bs);
    } else if (qcow2_has_new_persistent_bitmaps(bs)) {
        error_report("Lost persistent bitmaps during inactivation of node '%s': "
                     "No write access", bdrv_get_device_or_node_name(bs));
    }
    qcow2_free_state(s);
}

/* ---- migration hand-over (contracts in block-int.h) ---- */

/* Everything to the file, header clean, persistent bitmaps stored and dropped. */
static int qcow2_inactivate(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    if (s->rw) {
        ret = qcow2_run_co(qcow2_co_close, bs, NULL, NULL);
        ret = ret < 0 ? ret : bdrv_flush(bs->file->bs);
        if (ret < 0) {
            return ret;
        }
    }
    BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(bs);
    while (bm) {
        BdrvDirtyBitmap *next = bdrv_dirty_bitmap_next(bm);
        if (bdrv_dirty_bitmap_get_persistence(bm)) {
            bdrv_release_dirty_bitmap(bm);      /* the file has them; reloaded on activation */
        }
        bm = next;
    }
    s->bitmaps_loaded = false;
    s->rw = false;                      /* nothing more reaches the file, not even at close */
    return 0;
}

/*
 * The peer wrote to the image while we were inactive: header, L1, refcounts,
 * snapshots and bitmaps may all have moved. Forget them and open again.
 */
static int qcow2_invalidate_cache(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2OpenOpts o = { .flags = bs->open_flags, .lazy = -1 };
    g_autoptr(QDict) opts = qdict_clone_shallow(bs->options);

    if (!qcow2_take_options(opts, &o, errp)) {
        return -EINVAL;
    }
    qcow2_free_state(s);
    s->bitmaps_loaded = false;
    s->dead = false;
    s->signalled_corrupt = false;
    int ret = qcow2_run_co(qcow2_co_open, bs, &o, errp);
    if (ret < 0) {
        qcow2_free_state(s);
        s->dead = true;                 /* no tables: requests must not reach them */
    }
    return ret;
}

/* ---- data path ---- */

static int coroutine_fn qcow2_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset,
                                        BdrvRequestFlags flags)
{
    BDRVQcow2State *s = bs->opaque;

    if (s->dead) {
        return -ENOMEDIUM;
    }

    while (bytes > 0) {
        uint64_t n, host, entry;
        qemu_co_mutex_lock(&s->lock);
        int ret = s->corrupt ? -EIO : qcow2_get_mapping(bs, offset, bytes, &n, &host, &entry);
        qemu_co_mutex_unlock(&s->lock);
        if (ret < 0) {
            return ret;
        }
        ret = qcow2_co_read_cluster_data(bs, offset, n, entry, qiov, qiov_offset);
        if (ret < 0) {
            return ret;
        }
        offset += n;
        bytes -= n;
        qiov_offset += n;
    }
    return 0;
}

static int coroutine_fn qcow2_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                         QEMUIOVector *qiov, size_t qiov_offset,
                                         BdrvRequestFlags flags)
{
    if (((BDRVQcow2State *)bs->opaque)->dead) {
        return -ENOMEDIUM;
    }
    if (!bytes) {
        return 0;
    }
    if (flags & BDRV_REQ_WRITE_COMPRESSED) {
        return qcow2_co_write_compressed(bs, offset, bytes, qiov, qiov_offset);
    }
    return qcow2_co_write_clusters(bs, offset, bytes, qiov, qiov_offset);
}

/* Does the whole cluster at offset read as zeroes already? */
static bool coroutine_fn qcow2_cluster_is_zero(BlockDriverState *bs, uint64_t offset)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t n, host, entry;

    offset &= ~s->cluster_mask;
    qemu_co_mutex_lock(&s->lock);
    int type = qcow2_get_mapping(bs, offset, s->cluster_size, &n, &host, &entry);
    qemu_co_mutex_unlock(&s->lock);
    return type == QCOW2_CLUSTER_ZERO_PLAIN || type == QCOW2_CLUSTER_ZERO_ALLOC ||
           (type == QCOW2_CLUSTER_UNALLOCATED && !bs->backing);
}

static int coroutine_fn qcow2_write_zero_buf(BlockDriverState *bs, uint64_t offset,
                                             uint64_t bytes)
{
    if (!bytes || qcow2_cluster_is_zero(bs, offset)) {
        return 0;
    }
    g_autofree void *buf = g_malloc0(bytes);
    QEMUIOVector qiov;
    qemu_iovec_init_buf(&qiov, buf, bytes);
    return qcow2_co_write_clusters(bs, offset, bytes, &qiov, 0);
}

static int coroutine_fn qcow2_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                               int64_t bytes, BdrvRequestFlags flags)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t end = offset + bytes, size = s->h.size;
    uint64_t a_start = ROUND_UP(offset, s->cluster_size);
    uint64_t a_end = end >= size ? end : QEMU_ALIGN_DOWN(end, s->cluster_size);
    Qcow2ZeroMode mode = (flags & BDRV_REQ_MAY_UNMAP) ? QCOW2_ZERO_UNMAP : QCOW2_ZERO_KEEP;
    int ret;

    if (s->dead) {
        return -ENOMEDIUM;
    }

    if (a_start >= a_end) {             /* within one cluster */
        if (flags & BDRV_REQ_NO_FALLBACK) {
            return qcow2_cluster_is_zero(bs, offset) ? 0 : -ENOTSUP;
        }
        return qcow2_write_zero_buf(bs, offset, bytes);
    }
    if (s->version < 3 && bs->backing) {
        return -ENOTSUP;
    }
    ret = qcow2_write_zero_buf(bs, offset, a_start - offset);
    if (ret == 0) {
        ret = qcow2_co_zero_clusters(bs, a_start, a_end - a_start, mode);
    }
    if (ret == 0 && a_end < end) {
        ret = qcow2_write_zero_buf(bs, a_end, end - a_end);
    }
    return ret;
}

static int coroutine_fn qcow2_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t start = ROUND_UP(offset, s->cluster_size), end = offset + bytes;

    if (s->dead) {
        return -ENOMEDIUM;
    }

    end = end >= s->h.size ? end : QEMU_ALIGN_DOWN(end, s->cluster_size);
    if (start >= end) {
        return 0;
    }
    return qcow2_co_zero_clusters(bs, start, end - start, QCOW2_DISCARD);
}

static int coroutine_fn qcow2_co_flush_to_os(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;

    qemu_co_mutex_lock(&s->lock);
    int ret = s->corrupt ? 0 : qcow2_flush_metadata(bs);
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

static int64_t coroutine_fn qcow2_co_getlength(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;

    return s->h.size;
}

static int64_t coroutine_fn qcow2_co_get_allocated_file_size(BlockDriverState *bs)
{
    return bdrv_co_get_allocated_file_size(bs->file->bs);
}

static int coroutine_fn qcow2_write_size(BlockDriverState *bs, uint64_t size)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t be = GUINT64_TO_BE(size);
    int ret = qcow2_flush_metadata(bs);

    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, 24, 8, &be, 0);
    if (ret == 0) {
        s->h.size = size;
        bs->total_size = size;
    }
    return ret;
}

static int coroutine_fn qcow2_co_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                                          PreallocMode prealloc, BdrvRequestFlags flags,
                                          Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t old = s->h.size, per_l1 = (uint64_t)s->l2_entries << s->cluster_bits;
    int ret;

    if (prealloc != PREALLOC_MODE_OFF) {
        error_setg(errp, "Preallocation is not supported when resizing qcow2 images");
        return -ENOTSUP;
    }
    if (s->nb_snapshots) {
        error_setg(errp, "Can't resize an image which has snapshots");
        return -ENOTSUP;
    }
    if (offset & 511) {
        error_setg(errp, "The new size must be a multiple of 512");
        return -EINVAL;
    }
    qemu_co_mutex_lock(&s->lock);
    if ((uint64_t)offset > old) {
        ret = qcow2_grow_l1(bs, DIV_ROUND_UP((uint64_t)offset, per_l1), true);
        ret = ret < 0 ? ret : qcow2_write_size(bs, offset);
        qemu_co_mutex_unlock(&s->lock);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to grow the L1 table");
        }
        return ret;
    }
    qemu_co_mutex_unlock(&s->lock);
    uint64_t from = ROUND_UP((uint64_t)offset, s->cluster_size);
    ret = from < old ? qcow2_co_zero_clusters(bs, from, old - from, QCOW2_DISCARD_FULL) : 0;
    qemu_co_mutex_lock(&s->lock);
    for (uint64_t i = DIV_ROUND_UP((uint64_t)offset, per_l1); ret == 0 && i < s->l1_size; i++) {
        uint64_t l2 = s->l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (l2) {
            s->l1[i] = 0;
            ret = qcow2_write_l1_entry(bs, i);
            qcow2_cache_discard(s->l2_cache, l2);
            qcow2_free_deferred(bs, l2, s->cluster_size, false);
        }
    }
    ret = ret < 0 ? ret : qcow2_write_size(bs, offset);
    qemu_co_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to shrink the image");
    }
    return ret;
}

static int coroutine_fn qcow2_co_block_status(BlockDriverState *bs, bool want_zero,
                                              int64_t offset, int64_t bytes, int64_t *pnum,
                                              int64_t *map, BlockDriverState **file)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t n, host, entry;

    qemu_co_mutex_lock(&s->lock);
    if (s->metadata_prealloc < 0 && !s->corrupt) {
        s->metadata_prealloc = qcow2_detect_metadata_prealloc(bs) == 1;
    }
    int type = s->corrupt ? -EIO : qcow2_get_mapping(bs, offset, bytes, &n, &host, &entry);
    qemu_co_mutex_unlock(&s->lock);
    if (type < 0) {
        return type;
    }
    *pnum = n;
    switch (type) {
    case QCOW2_CLUSTER_NORMAL:
        *map = host;
        *file = bs->file->bs;
        /*
         * Data clusters of a metadata-preallocated image are mostly holes in
         * the file: have the generic code ask the file which parts read as
         * zeroes. Like QEMU, only then, so fallocated clusters stay data.
         */
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID
               | (s->metadata_prealloc > 0 ? BDRV_BLOCK_RECURSE : 0);
    case QCOW2_CLUSTER_ZERO_ALLOC:
        *map = host;
        *file = bs->file->bs;
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID;
    case QCOW2_CLUSTER_ZERO_PLAIN:
        return BDRV_BLOCK_ZERO;
    case QCOW2_CLUSTER_COMPRESSED:
        return BDRV_BLOCK_DATA;
    default:
        return 0;
    }
}

/* ---- information ---- */

static int qcow2_probe(const uint8_t *buf, int buf_size, const char *filename)
{
    /* any version >= 2 is ours, so that open can name the unsupported one */
    if (buf_size >= 8 && buf[0] == 'Q' && buf[1] == 'F' && buf[2] == 'I' && buf[3] == 0xfb) {
        uint32_t version = ((uint32_t)buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7];
        return version >= 1 ? 100 : 0;   /* 1: qcow, refused by name at open */
    }
    return 0;
}

static int qcow2_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    BDRVQcow2State *s = bs->opaque;

    memset(bdi, 0, sizeof(*bdi));
    bdi->cluster_size = s->cluster_size;
    bdi->is_dirty = s->h.incompatible_features & QCOW2_INCOMPAT_DIRTY;
    bdi->unallocated_blocks_are_zero = !bs->backing;
    return 0;
}

static QDict *qcow2_get_specific_info(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    QDict *d = qdict_new();

    /* inserted in QEMU's schema order (ImageInfoSpecificQCow2) */
    qdict_put_str(d, "compat", s->version >= 3 ? "1.1" : "0.10");
    if (s->version >= 3) {
        qdict_put_bool(d, "extended-l2", false);
        qdict_put_bool(d, "lazy-refcounts",
                       s->h.compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
        qdict_put_bool(d, "corrupt", s->h.incompatible_features & QCOW2_INCOMPAT_CORRUPT);
    }
    qdict_put_int(d, "refcount-bits", 1 << s->refcount_order);
    if (s->nb_bitmaps) {
        qdict_put_obj(d, "bitmaps", QOBJECT(qcow2_bitmaps_info(bs)));
    }
    qdict_put_str(d, "compression-type",
                  s->h.compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
    return d;
}

static void qcow2_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;

    bs->bl.pdiscard_alignment = s->cluster_size;
    bs->bl.pwrite_zeroes_alignment = s->cluster_size;
}

/* qemu-img commit: every cluster becomes unallocated again (reads go to the backing file). */
static int coroutine_fn qcow2_co_make_empty(BlockDriverState *bs, void *opaque, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = qcow2_co_zero_clusters(bs, 0, s->h.size, QCOW2_DISCARD_FULL);

    if (ret == 0) {
        qemu_co_mutex_lock(&s->lock);
        ret = qcow2_flush_metadata(bs);
        qemu_co_mutex_unlock(&s->lock);
    }
    return ret;
}

static int qcow2_make_empty(BlockDriverState *bs)
{
    return qcow2_run_co(qcow2_co_make_empty, bs, NULL, NULL);
}

static int coroutine_fn qcow2_co_change_backing(BlockDriverState *bs, void *opaque,
                                                Error **errp)
{
    BDRVQcow2State *s = bs->opaque;

    qemu_co_mutex_lock(&s->lock);
    int ret = qcow2_update_header(bs);
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

static int qcow2_change_backing_file(BlockDriverState *bs, const char *backing_file,
                                     const char *backing_fmt)
{
    BDRVQcow2State *s = bs->opaque;

    if (backing_file && strlen(backing_file) > QCOW2_MAX_BACKING_NAME) {
        return -EINVAL;
    }
    if (backing_fmt && strlen(backing_fmt) >= sizeof(s->exts.backing_format)) {
        return -EINVAL;
    }
    g_strlcpy(bs->backing_file, backing_file ? backing_file : "", sizeof(bs->backing_file));
    g_strlcpy(s->exts.backing_format, backing_fmt ? backing_fmt : "",
              sizeof(s->exts.backing_format));
    g_strlcpy(bs->backing_format, s->exts.backing_format, sizeof(bs->backing_format));
    s->exts.has_backing_format = backing_fmt && *backing_fmt;
    return qcow2_run_co(qcow2_co_change_backing, bs, NULL, NULL);
}

static const char *const qcow2_open_options[] = {
    "l2-cache-size", "refcount-cache-size", "cache-size", "lazy-refcounts",
    "pass-discard-request", "pass-discard-snapshot", "pass-discard-other", "overlap-check",
    "overlap-check.template", "cache-clean-interval", "l2-cache-entry-size",
    "discard-no-unref", "encrypt.format", "encrypt.key-secret", NULL,
};

const BlockDriver bdrv_qcow2 = {
    .format_name                = "qcow2",
    .instance_size              = sizeof(BDRVQcow2State),
    .flags                      = BDRV_F_FORMAT | BDRV_F_SUPPORTS_BACKING,
    .open_options               = qcow2_open_options,
    .probe                      = qcow2_probe,
    .open                       = qcow2_open,
    .close                      = qcow2_close,
    .refresh_limits             = qcow2_refresh_limits,
    .co_preadv                  = qcow2_co_preadv,
    .co_pwritev                 = qcow2_co_pwritev,
    .co_pwrite_zeroes           = qcow2_co_pwrite_zeroes,
    .co_pdiscard                = qcow2_co_pdiscard,
    .co_flush_to_os             = qcow2_co_flush_to_os,
    .co_truncate                = qcow2_co_truncate,
    .co_getlength               = qcow2_co_getlength,
    .co_get_allocated_file_size = qcow2_co_get_allocated_file_size,
    .co_block_status            = qcow2_co_block_status,
    .create_opts                = qcow2_create_opts,
    .co_create_opts             = qcow2_co_create_opts,
    .co_create_node             = qcow2_co_create_node,
    .co_check                   = qcow2_co_check,
    .get_info                   = qcow2_get_info,
    .get_specific_info          = qcow2_get_specific_info,
    .change_backing_file        = qcow2_change_backing_file,
    .make_empty                 = qcow2_make_empty,
    .snapshot_create            = qcow2_snapshot_create,
    .snapshot_goto              = qcow2_snapshot_goto,
    .snapshot_delete            = qcow2_snapshot_delete,
    .snapshot_list              = qcow2_snapshot_list,
    .inactivate                 = qcow2_inactivate,
    .invalidate_cache           = qcow2_invalidate_cache,
    .bitmap_can_store           = qcow2_bitmap_can_store,
    .bitmap_remove_persistent   = qcow2_bitmap_remove_persistent,
    .amend_options              = qcow2_amend_options,
    .measure                    = qcow2_measure,
};
