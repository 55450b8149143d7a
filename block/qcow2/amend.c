/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * amend.c: qemu-img amend for qcow2 (compat 0.10 <-> 1.1, lazy_refcounts,
 * refcount_bits, size) and qemu-img measure. Error texts are qemu-img 7.2's.
 *
 * Downgrading to v2 has to remove what v2 cannot express: zero flags in L2
 * entries (a preallocated zero cluster is zeroed on disk; a plain one becomes
 * unallocated without a backing file, else a zeroed data cluster), lazy
 * refcounts (the image is made clean) and persistent bitmaps (removed).
 * Changing refcount_bits rebuilds the refcount structure with the new width.
 *
 * measure: metadata is counted as qemu-img does: one header cluster, the L1
 * and every L2 table for the whole virtual size, and refcount blocks plus
 * table covering all of that and every data cluster (a fixed point, since the
 * refcount structure covers itself).
 */
#include "qcow2.h"
#include "block/dirty-bitmap.h"
#include "qobject/qdict.h"

/* ---- measure ---- */

/* Refcount blocks + table clusters that cover `clusters` clusters and themselves. */
static uint64_t qcow2_refcount_clusters(uint64_t clusters, uint64_t cs, uint32_t refcount_bits)
{
    uint64_t per_block = cs * 8 / refcount_bits, blocks = 0, table = 0;

    for (;;) {
        uint64_t nb = DIV_ROUND_UP(clusters + blocks + table, per_block);
        uint64_t nt = DIV_ROUND_UP(nb * 8, cs);
        if (nb == blocks && nt == table) {
            return blocks + table;
        }
        blocks = nb;
        table = nt;
    }
}

/* Metadata bytes for a fully allocated image of size bytes (size cluster aligned). */
static uint64_t qcow2_meta_size(uint64_t size, uint64_t cs, uint32_t refcount_bits)
{
    uint64_t l2_cover = cs * (cs / 8);
    uint64_t l2 = DIV_ROUND_UP(size, l2_cover);
    uint64_t l1 = DIV_ROUND_UP(l2 * 8, cs);
    uint64_t meta = 1 + l1 + l2;

    meta += qcow2_refcount_clusters(meta + size / cs, cs, refcount_bits);
    return meta * cs;
}

/* Bytes of guest data the chain of in_bs holds, counted in whole clusters of cs. */
static int qcow2_measure_allocated(BlockDriverState *in_bs, uint64_t size, uint64_t cs,
                                   uint64_t *out)
{
    uint64_t last = UINT64_MAX, total = 0;

    for (uint64_t off = 0; off < size;) {
        int64_t pnum = 0;
        int ret = bdrv_block_status_above(in_bs, NULL, off, size - off, &pnum, NULL, NULL,
                                          NULL);
        if (ret < 0) {
            return ret;
        }
        if (pnum <= 0) {
            break;
        }
        /* zeroes and holes are not written by convert, so they take no room */
        if (!(ret & BDRV_BLOCK_ZERO) && (ret & BDRV_BLOCK_DATA) &&
            (ret & BDRV_BLOCK_ALLOCATED)) {
            uint64_t first = off / cs, end = DIV_ROUND_UP(off + pnum, cs);
            if (first == last) {
                first++;
            }
            if (end > first) {
                total += (end - first) * cs;
            }
            last = end - 1;
        }
        off += pnum;
    }
    *out = total;
    return 0;
}

bool qcow2_measure(QDict *opts, BlockDriverState *in_bs, BlockMeasureInfo *info, Error **errp)
{
    uint64_t size = 0, cs, refcount_bits;
    bool has_size = qdict_haskey(opts, "size");

    if (!bdrv_opt_take_size(opts, "size", 0, &size, errp) ||
        !bdrv_opt_take_size(opts, "cluster_size", 65536, &cs, errp) ||
        !bdrv_opt_take_uint(opts, "refcount_bits", 16, &refcount_bits, errp)) {
        return false;
    }
    g_autofree char *prealloc = bdrv_opt_take_str(opts, "preallocation");
    if (cs < 512 || cs > 2 * MiB || (cs & (cs - 1))) {
        error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
        return false;
    }
    if (!refcount_bits || refcount_bits > 64 || (refcount_bits & (refcount_bits - 1))) {
        error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
        return false;
    }
    if (prealloc && strcmp(prealloc, "off") && strcmp(prealloc, "metadata") &&
        strcmp(prealloc, "falloc") && strcmp(prealloc, "full")) {
        error_setg(errp, "Parameter 'preallocation' does not accept value '%s'", prealloc);
        return false;
    }
    if (in_bs && !has_size) {
        int64_t len = bdrv_getlength(in_bs);
        if (len < 0) {
            error_setg_errno(errp, -len, "Unable to get image virtual_size");
            return false;
        }
        size = len;
    }
    uint64_t vsize = ROUND_UP(size, cs);
    uint64_t meta = qcow2_meta_size(vsize, cs, refcount_bits), data = 0;
    bool full = prealloc && (!strcmp(prealloc, "falloc") || !strcmp(prealloc, "full"));

    if (in_bs && !full) {
        int ret = qcow2_measure_allocated(in_bs, MIN(size, (uint64_t)bdrv_getlength(in_bs)),
                                          cs, &data);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Unable to get block status");
            return false;
        }
    }
    info->fully_allocated = meta + vsize;
    info->required = full ? info->fully_allocated : meta + data;
    info->has_bitmaps = in_bs != NULL;
    info->bitmaps = 0;
    if (in_bs) {
        uint64_t dir = 0;
        for (BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(in_bs); bm;
             bm = bdrv_dirty_bitmap_next(bm)) {
            const char *name = bdrv_dirty_bitmap_name(bm);
            if (!name || !bdrv_dirty_bitmap_get_persistence(bm)) {
                continue;
            }
            info->bitmaps += qcow2_bitmap_measure(vsize, bdrv_dirty_bitmap_granularity(bm),
                                                  __builtin_ctzll(cs));
            dir += ROUND_UP(24 + strlen(name), 8);
        }
        info->bitmaps += ROUND_UP(dir, cs);
    }
    return true;
}

/* ---- amend ---- */

typedef struct Qcow2AmendArgs {
    int version;                    /* 0 = unchanged */
    int lazy;                       /* -1 unchanged, 0 off, 1 on */
    uint64_t refcount_bits;         /* 0 = unchanged */
    bool has_size;
    uint64_t size;
} Qcow2AmendArgs;

static bool qcow2_amend_parse(BlockDriverState *bs, QDict *opts, Qcow2AmendArgs *a,
                              Error **errp)
{
    static const char *const create_only[] = {
        "cluster_size", "encryption", "preallocation", "extended_l2", "compression_type",
        "encrypt.format", "encrypt.key-secret", "encrypt.cipher-alg", "encrypt.cipher-mode",
        "encrypt.ivgen-alg", "encrypt.ivgen-hash-alg", "encrypt.hash-alg", NULL,
    };
    /* LUKS keyslot changes: we open no encrypted image, so there is never one to change */
    static const char *const keyslot_opts[] = {
        "encrypt.state", "encrypt.keyslot", "encrypt.old-secret", "encrypt.new-secret",
        "encrypt.iter-time", NULL,
    };
    for (int i = 0; create_only[i]; i++) {
        if (qdict_haskey(opts, create_only[i])) {
            error_setg(errp, "Invalid parameter '%s'", create_only[i]);
            error_append_hint(errp, "This option is only supported for image creation\n");
            return false;
        }
    }
    for (int i = 0; keyslot_opts[i]; i++) {
        if (qdict_haskey(opts, keyslot_opts[i])) {
            error_setg(errp, "Can't amend encryption options - encryption not present");
            return false;
        }
    }
    if (qdict_haskey(opts, "backing_file") || qdict_haskey(opts, "backing_fmt")) {
        error_setg(errp, "Cannot amend the backing file");
        error_append_hint(errp, "You can use 'qemu-img rebase' instead.\n");
        return false;
    }
    if (qdict_haskey(opts, "data_file") || qdict_haskey(opts, "data_file_raw")) {
        error_setg(errp, "data-file can only be set for images that use an external data "
                   "file");
        return false;
    }
    g_autofree char *compat = bdrv_opt_take_str(opts, "compat");
    if (compat) {
        if (!strcmp(compat, "0.10") || !strcmp(compat, "v2")) {
            a->version = 2;
        } else if (!strcmp(compat, "1.1") || !strcmp(compat, "v3")) {
            a->version = 3;
        } else {
            error_setg(errp, "Unknown compatibility level %s", compat);
            return false;
        }
    }
    a->lazy = -1;
    if (qdict_haskey(opts, "lazy_refcounts")) {
        bool on;
        if (!bdrv_opt_take_bool(opts, "lazy_refcounts", false, &on, errp)) {
            return false;
        }
        a->lazy = on;
    }
    if (qdict_haskey(opts, "refcount_bits")) {
        if (!bdrv_opt_take_uint(opts, "refcount_bits", 16, &a->refcount_bits, errp)) {
            return false;
        }
        uint64_t b = a->refcount_bits;
        if (!b || b > 64 || (b & (b - 1))) {
            error_setg(errp, "Refcount width must be a power of two and may not exceed 64 "
                       "bits");
            return false;
        }
    }
    a->has_size = qdict_haskey(opts, "size");
    if (a->has_size && !bdrv_opt_take_size(opts, "size", 0, &a->size, errp)) {
        return false;
    }
    return true;
}

/* Rewrite one L2 table's zero entries for v2; *dirty when something changed. */
static int coroutine_fn qcow2_expand_zero_l2(BlockDriverState *bs, uint64_t l2off,
                                             uint64_t *l2, bool *dirty)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *zero = g_malloc0(s->cluster_size);
    uint64_t l2_rc = 0;
    int rc_ret = qcow2_get_refcount(bs, l2off >> s->cluster_bits, &l2_rc);

    if (rc_ret < 0) {
        return rc_ret;
    }

    for (uint32_t i = 0; i < s->l2_entries; i++) {
        uint64_t e = GUINT64_FROM_BE(l2[i]);
        Qcow2ClusterType t = qcow2_l2_entry_type(e, 3);
        if (t == QCOW2_CLUSTER_ZERO_ALLOC) {
            uint64_t host = e & QCOW2_L2E_OFFSET_MASK;
            int ret = bdrv_co_pwrite(bs->file, host, s->cluster_size, zero, 0);
            if (ret < 0) {
                return ret;
            }
            /* as QEMU: COPIED follows the L2 table's refcount, not the cluster's */
            e = host | (l2_rc == 1 ? QCOW2_OFLAG_COPIED : 0);
        } else if (t == QCOW2_CLUSTER_ZERO_PLAIN && !bs->backing) {
            e = 0;
        } else if (t == QCOW2_CLUSTER_ZERO_PLAIN) {
            int64_t host = qcow2_alloc_clusters(bs, 1);
            int ret = host < 0 ? host : qcow2_refcount_sync(bs);
            ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, host, s->cluster_size, zero, 0);
            if (ret < 0) {
                return ret;
            }
            e = (uint64_t)host | QCOW2_OFLAG_COPIED;
        } else {
            continue;
        }
        l2[i] = GUINT64_TO_BE(e);
        *dirty = true;
    }
    return 0;
}

/* Every L2 table (active and snapshots, each once) without zero flags. */
static int coroutine_fn qcow2_expand_zero_clusters(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_autofree uint64_t *l2 = g_malloc(s->cluster_size);
    GArray *l2s = g_array_new(false, false, sizeof(uint64_t));
    int ret = qcow2_flush_metadata(bs);

    qcow2_cache_clear(s->l2_cache);     /* flushed: we go to the disk directly */
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t o = s->l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (o) {
            g_array_append_val(l2s, o);
        }
    }
    for (int k = 0; k < s->nb_snapshots && ret == 0; k++) {
        Qcow2Snapshot *sn = &s->snapshots[k];
        g_autofree uint64_t *l1 = g_new0(uint64_t, MAX(sn->l1_size, 1u));
        ret = bdrv_co_pread(bs->file, sn->l1_table_offset, (uint64_t)sn->l1_size * 8, l1, 0);
        for (uint32_t i = 0; ret == 0 && i < sn->l1_size; i++) {
            uint64_t o = GUINT64_FROM_BE(l1[i]) & QCOW2_L1E_OFFSET_MASK;
            if (o) {
                g_array_append_val(l2s, o);
            }
        }
    }
    for (guint i = 0; ret == 0 && i < l2s->len; i++) {
        uint64_t *o = &g_array_index(l2s, uint64_t, i);
        bool dirty = false;
        if (g_hash_table_contains(seen, o)) {
            continue;
        }
        g_hash_table_add(seen, o);
        ret = bdrv_co_pread(bs->file, *o, s->cluster_size, l2, 0);
        ret = ret < 0 ? ret : qcow2_expand_zero_l2(bs, *o, l2, &dirty);
        if (ret == 0 && dirty) {
            ret = qcow2_refcount_sync(bs);
            ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, *o, s->cluster_size, l2, 0);
        }
    }
    g_array_free(l2s, true);
    return ret < 0 ? ret : qcow2_flush_metadata(bs);
}

static int coroutine_fn qcow2_downgrade(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    if (s->refcount_order != 4) {
        error_setg(errp, "compat=0.10 requires refcount_bits=16");
        return -ENOTSUP;
    }
    if (s->h.compression_type != QCOW2_COMPRESSION_ZLIB) {
        error_setg(errp, "Cannot downgrade an image with a compression type other than "
                   "zlib");
        return -ENOTSUP;
    }
    ret = qcow2_expand_zero_clusters(bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to turn zero into data clusters");
        return ret;
    }
    ret = bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to flush the image");
        return ret;
    }
    s->lazy_refcounts = false;
    s->version = 2;
    s->h.version = 2;
    s->h.header_length = QCOW2_V2_HEADER_LEN;
    s->h.incompatible_features = s->h.compatible_features = s->h.autoclear_features = 0;
    ret = qcow2_update_header(bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to update the image header");
    }
    return ret;
}

static int coroutine_fn qcow2_co_amend(BlockDriverState *bs, void *opaque, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2AmendArgs *a = opaque;
    int version = a->version ? a->version : s->version;
    int ret = 0;

    if (version < 3 && a->lazy == 1) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (version < 3 && a->refcount_bits && a->refcount_bits != 16) {
        error_setg(errp, "compat=0.10 requires refcount_bits=16");
        return -EINVAL;
    }
    if (a->refcount_bits && a->refcount_bits != (1u << s->refcount_order)) {
        qemu_co_mutex_lock(&s->lock);
        ret = qcow2_change_refcount_order(bs, __builtin_ctzll(a->refcount_bits));
        qemu_co_mutex_unlock(&s->lock);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to change the refcount width");
            return ret;
        }
    }
    qemu_co_mutex_lock(&s->lock);
    if (version > s->version) {
        s->version = s->h.version = 3;
        s->h.refcount_order = s->refcount_order;
        ret = qcow2_update_header(bs);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to update the image header");
        }
    }
    if (ret == 0 && a->lazy >= 0 && version >= 3) {
        ret = qcow2_flush_metadata(bs);
        ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
        if (a->lazy) {
            s->h.compatible_features |= QCOW2_COMPAT_LAZY_REFCOUNTS;
        } else {
            /* everything is on disk: the refcounts are right, the image clean */
            s->h.compatible_features &= ~(uint64_t)QCOW2_COMPAT_LAZY_REFCOUNTS;
            s->h.incompatible_features &= ~(uint64_t)QCOW2_INCOMPAT_DIRTY;
            s->lazy_refcounts = false;
        }
        ret = ret < 0 ? ret : qcow2_update_header(bs);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to update the image header");
        }
    }
    if (ret == 0 && version < s->version) {
        ret = qcow2_downgrade(bs, errp);
    }
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

static int coroutine_fn qcow2_co_amend_size(BlockDriverState *bs, void *opaque, Error **errp)
{
    Qcow2AmendArgs *a = opaque;
    int ret = bs->drv->co_truncate(bs, a->size, false, PREALLOC_MODE_OFF, 0, errp);

    if (ret == 0) {
        bs->total_size = a->size;
        bdrv_dirty_bitmap_truncate(bs, a->size);
    }
    return ret;
}

int qcow2_amend_options(BlockDriverState *bs, QDict *opts,
                        void (*status_cb)(BlockDriverState *bs, int64_t offset,
                                          int64_t total, void *opaque),
                        void *cb_opaque, bool force, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2AmendArgs a = { 0 };

    if (!qcow2_amend_parse(bs, opts, &a, errp)) {
        return -EINVAL;
    }
    if (a.version == 2 && s->version >= 3) {
        /* v2 has no bitmaps extension: the bitmaps leave the file first */
        for (BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(bs), *next; bm; bm = next) {
            next = bdrv_dirty_bitmap_next(bm);
            if (bdrv_dirty_bitmap_name(bm) && bdrv_dirty_bitmap_get_persistence(bm)) {
                if (!bdrv_remove_persistent_dirty_bitmap(bs, bdrv_dirty_bitmap_name(bm),
                                                         errp)) {
                    return -EIO;
                }
                bdrv_release_dirty_bitmap(bm);
            }
        }
    }
    int ret = qcow2_run_co(qcow2_co_amend, bs, &a, errp);
    if (ret == 0 && a.has_size && a.size != s->h.size) {
        ret = qcow2_run_co(qcow2_co_amend_size, bs, &a, errp);
    }
    if (status_cb) {
        status_cb(bs, 1, 1, cb_opaque);
    }
    return ret;
}
