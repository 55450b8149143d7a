/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * refcount.c: reference counts of host clusters. The refcount table (in memory,
 * host byte order) points to refcount blocks (in the refcount cache); block i
 * covers clusters [i << refblock_bits, (i + 1) << refblock_bits).
 *
 * Allocation scans for free clusters from free_hint. A missing refcount block is
 * placed at the first cluster of the range it covers (every cluster of that range
 * is free, since nothing counts it), so it describes itself; a refcount table that
 * is too small is replaced by a larger one built past the last covered cluster.
 * Decrements are deferred (qcow2_free_deferred) until the metadata that dropped
 * the references is on disk: see the crash-safety rules in qcow2.h.
 *
 * Every function here expects BDRVQcow2State.lock to be held.
 */
#include "qcow2.h"
#include <stdarg.h>

int coroutine_fn qcow2_load_reftable(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t bytes = (uint64_t)s->h.refcount_table_clusters << s->cluster_bits;

    s->reftable_offset = s->h.refcount_table_offset;
    s->reftable_size = bytes / 8;
    s->reftable = g_try_malloc0(MAX(bytes, 8));
    if (!s->reftable) {
        error_setg(errp, "Could not allocate refcount table");
        return -ENOMEM;
    }
    if (bytes) {
        int ret = bdrv_co_pread(bs->file, s->reftable_offset, bytes, s->reftable, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not read refcount table");
            return ret;
        }
    }
    s->reftable_used = 0;
    for (uint64_t i = 0; i < s->reftable_size; i++) {
        s->reftable[i] = GUINT64_FROM_BE(s->reftable[i]);
        if (s->reftable[i]) {
            s->reftable_used = i + 1;
        }
    }
    return 0;
}

/* Pin the refcount block covering cluster; *e = NULL when there is none. */
static int coroutine_fn qcow2_refblock_for(BlockDriverState *bs, uint64_t cluster,
                                           Qcow2CacheEntry **e)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t idx = cluster >> s->refblock_bits;

    *e = NULL;
    if (idx >= s->reftable_size || !(s->reftable[idx] & QCOW2_REFT_OFFSET_MASK)) {
        return 0;
    }
    uint64_t off = s->reftable[idx] & QCOW2_REFT_OFFSET_MASK;
    if (off & s->cluster_mask) {
        qcow2_signal_corruption(bs, "Refblock offset %#" PRIx64 " unaligned (reftable "
                                "index: %#" PRIx64 ")", off, idx);
        return -EIO;
    }
    if (off < s->cluster_size) {
        qcow2_signal_corruption(bs, "Refblock at %#" PRIx64 " is invalid (reftable "
                                "index: %#" PRIx64 ")", off, idx);
        return -EIO;
    }
    return qcow2_cache_get(bs, s->rb_cache, off, e);
}

int coroutine_fn qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster, uint64_t *rc)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CacheEntry *e;
    int ret = qcow2_refblock_for(bs, cluster, &e);

    if (ret < 0) {
        return ret;
    }
    *rc = e ? qcow2_refblock_get(e->table, s->refcount_order,
                                 cluster & ((1ULL << s->refblock_bits) - 1)) : 0;
    qcow2_cache_put(&e);
    return 0;
}

/*
 * QEMU's guess, with its numbers, so that map and convert see the extents it
 * sees: the image counts as metadata-preallocated when at least
 * max(allocated * 10/9, allocated + 2) clusters have a refcount, allocated being
 * the clusters' worth of blocks the file really has. The scan stops at that
 * count, so a normal image costs one pass over its refcounts.
 */
int coroutine_fn qcow2_detect_metadata_prealloc(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t file_len = bdrv_co_getlength(bs->file->bs);
    int64_t allocated = bdrv_co_get_allocated_file_size(bs->file->bs);

    if (file_len < 0 || allocated < 0) {
        return file_len < 0 ? file_len : allocated;
    }
    uint64_t real = allocated >> s->cluster_bits;
    uint64_t threshold = MAX(real * 10 / 9, real + 2);
    uint64_t end = DIV_ROUND_UP(file_len, s->cluster_size), used = 0;

    for (uint64_t i = 0; i < end && used < threshold; i++) {
        uint64_t rc;
        int ret = qcow2_get_refcount(bs, i, &rc);
        if (ret < 0) {
            return ret;
        }
        used += rc != 0;
    }
    return used >= threshold;
}

static int coroutine_fn qcow2_write_reftable_entry(BlockDriverState *bs, uint64_t idx)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t be = GUINT64_TO_BE(s->reftable[idx]);
    uint64_t off = s->reftable_offset + idx * 8;
    int ret = qcow2_pre_write_check(bs, QCOW2_OL_REFT, off, 8);

    if (ret < 0) {
        return ret;
    }
    BLKDBG_EVENT(bs->file, BLKDBG_REFBLOCK_ALLOC_HOOKUP);
    return bdrv_co_pwrite(bs->file, off, 8, &be, 0);
}

/*
 * Replace the refcount table by one with at least min_entries entries, built in
 * the clusters right after the last covered one: first the new refcount blocks
 * that cover the new structures themselves, then the table.
 */
static int coroutine_fn qcow2_grow_reftable(BlockDriverState *bs, uint64_t min_entries)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t per_block = 1ULL << s->refblock_bits, per_cluster = s->cluster_size / 8;
    uint64_t old = s->reftable_size, start = old * per_block;
    uint64_t entries = MAX(min_entries, old + old / 2 + 1), nb_rb = 1, nb_tc;

    for (;;) {
        entries = ROUND_UP(MAX(entries, old + nb_rb), per_cluster);
        nb_tc = entries / per_cluster;
        if (start + nb_rb + nb_tc <= (old + nb_rb) * per_block && entries >= old + nb_rb) {
            break;
        }
        nb_rb++;
    }
    if (entries * 8 > QCOW2_MAX_REFTABLE_BYTES ||
        ((start + nb_rb + nb_tc) << s->cluster_bits) >= (1ULL << 56)) {
        return -EFBIG;
    }

    BLKDBG_EVENT(bs->file, BLKDBG_REFTABLE_GROW);
    g_autofree uint8_t *rb = g_malloc0(s->cluster_size);
    for (uint64_t j = 0; j < nb_rb; j++) {
        uint64_t first = (old + j) * per_block;
        memset(rb, 0, s->cluster_size);
        for (uint64_t c = start; c < start + nb_rb + nb_tc; c++) {
            if (c >= first && c < first + per_block) {
                qcow2_refblock_set(rb, s->refcount_order, c - first, 1);
            }
        }
        int ret = bdrv_co_pwrite(bs->file, (start + j) << s->cluster_bits, s->cluster_size,
                                 rb, 0);
        if (ret < 0) {
            return ret;
        }
    }
    g_autofree uint64_t *table = g_malloc0(entries * 8);
    for (uint64_t i = 0; i < entries; i++) {
        uint64_t v = i < old ? s->reftable[i] :
                     i < old + nb_rb ? (start + i - old) << s->cluster_bits : 0;
        table[i] = GUINT64_TO_BE(v);
    }
    uint64_t table_off = (start + nb_rb) << s->cluster_bits;
    int ret = bdrv_co_pwrite(bs->file, table_off, entries * 8, table, 0);
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_refcount_sync(bs);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        return ret;
    }
    uint8_t hdr[12];
    uint64_t be_off = GUINT64_TO_BE(table_off);
    uint32_t be_clusters = GUINT32_TO_BE((uint32_t)nb_tc);
    memcpy(hdr, &be_off, 8);
    memcpy(hdr + 8, &be_clusters, 4);
    BLKDBG_EVENT(bs->file, BLKDBG_REFBLOCK_ALLOC_SWITCH_TABLE);
    ret = bdrv_co_pwrite(bs->file, 48, sizeof(hdr), hdr, 0);
    if (ret < 0) {
        return ret;
    }
    uint64_t old_off = s->reftable_offset, old_bytes = ROUND_UP(old * 8, s->cluster_size);
    for (uint64_t i = 0; i < entries; i++) {
        table[i] = GUINT64_FROM_BE(table[i]);
    }
    g_free(s->reftable);
    s->reftable = g_steal_pointer(&table);
    s->reftable_size = entries;
    s->reftable_used = MAX(s->reftable_used, old + nb_rb);
    s->reftable_offset = table_off;
    s->h.refcount_table_offset = table_off;
    s->h.refcount_table_clusters = nb_tc;
    if (old_bytes) {
        qcow2_free_deferred(bs, old_off, old_bytes, false);
    }
    return 0;
}

/* Give refcount block idx a home at the first cluster of the range it covers. */
static int coroutine_fn qcow2_create_refblock(BlockDriverState *bs, uint64_t idx)
{
    BDRVQcow2State *s = bs->opaque;

    if (idx >= s->reftable_size) {
        int ret = qcow2_grow_reftable(bs, idx + 1);
        if (ret < 0 || s->reftable[idx]) {
            return ret;
        }
    }
    uint64_t off = (idx << s->refblock_bits) << s->cluster_bits;
    if (!idx || off >= (1ULL << 56)) {
        return off ? -EFBIG : -EIO;
    }
    int ret = qcow2_pre_write_check(bs, 0, off, s->cluster_size);
    if (ret < 0) {
        return ret;
    }
    Qcow2CacheEntry *e;
    BLKDBG_EVENT(bs->file, BLKDBG_REFBLOCK_ALLOC);
    ret = qcow2_cache_get_empty(bs, s->rb_cache, off, &e);
    if (ret < 0) {
        return ret;
    }
    qcow2_refblock_set(e->table, s->refcount_order, 0, 1);
    qcow2_cache_mark_dirty(e);
    qcow2_cache_put(&e);
    /* the block must be on disk before the table points to it */
    ret = qcow2_refcount_sync(bs);
    if (ret < 0) {
        return ret;
    }
    s->reftable[idx] = off;
    s->reftable_used = MAX(s->reftable_used, idx + 1);
    ret = qcow2_write_reftable_entry(bs, idx);
    if (ret < 0) {
        s->reftable[idx] = 0;
        qcow2_cache_discard(s->rb_cache, off);
    }
    return ret;
}

int coroutine_fn qcow2_update_refcount(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                       int delta)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + bytes - 1) >> s->cluster_bits;
    Qcow2CacheEntry *e = NULL;
    uint64_t cur_idx = UINT64_MAX;
    int ret = 0;

    if (!bytes) {
        return 0;
    }
    for (uint64_t c = first; c <= last; c++) {
        if ((c >> s->refblock_bits) != cur_idx) {
            qcow2_cache_put(&e);
            cur_idx = c >> s->refblock_bits;
            ret = qcow2_refblock_for(bs, c, &e);
            if (ret < 0) {
                return ret;
            }
            if (!e) {
                qcow2_signal_corruption(bs, "Refcount block missing for cluster %#" PRIx64,
                                        c << s->cluster_bits);
                return -EIO;
            }
        }
        uint64_t i = c & ((1ULL << s->refblock_bits) - 1);
        uint64_t rc = qcow2_refblock_get(e->table, s->refcount_order, i);
        if ((delta < 0 && rc < (uint64_t)-delta) ||
            (delta > 0 && rc + delta > s->refcount_max)) {
            ret = delta < 0 ? -EINVAL : -ERANGE;
            break;
        }
        rc += delta;
        qcow2_refblock_set(e->table, s->refcount_order, i, rc);
        qcow2_cache_mark_dirty(e);
        if (!rc) {
            if (s->free_byte_offset && (s->free_byte_offset >> s->cluster_bits) == c) {
                s->free_byte_offset = 0;    /* the packing cluster is gone */
            }
            s->free_hint = MIN(s->free_hint, c);
            qcow2_cache_discard(s->l2_cache, c << s->cluster_bits);
        }
    }
    qcow2_cache_put(&e);
    return ret;
}

/*
 * First run of n free clusters at or after *start; sets *start. Scans a whole
 * refcount block per cache lookup; clusters without a refcount block are free.
 */
static int coroutine_fn qcow2_find_free(BlockDriverState *bs, uint64_t n, uint64_t *start)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t c = *start, run = 0, per_block = 1ULL << s->refblock_bits;
    uint64_t limit = (1ULL << 56) >> s->cluster_bits;

    while (run < n) {
        if (c >= limit) {
            return -EFBIG;
        }
        Qcow2CacheEntry *e;
        int ret = qcow2_refblock_for(bs, c, &e);
        if (ret < 0) {
            return ret;
        }
        uint64_t end = MIN(QEMU_ALIGN_DOWN(c, per_block) + per_block, limit);
        for (; c < end && run < n; c++) {
            uint64_t rc = e ? qcow2_refblock_get(e->table, s->refcount_order,
                                                 c & (per_block - 1)) : 0;
            if (rc) {
                run = 0;
            } else if (!run++) {
                *start = c;
            }
        }
        qcow2_cache_put(&e);
    }
    return 0;
}

int64_t coroutine_fn qcow2_alloc_clusters(BlockDriverState *bs, uint64_t n)
{
    BDRVQcow2State *s = bs->opaque;

    BLKDBG_EVENT(bs->file, BLKDBG_CLUSTER_ALLOC);
    for (;;) {
        uint64_t start = s->free_hint;
        int ret = qcow2_find_free(bs, n, &start);
        if (ret < 0) {
            return ret;
        }
        bool created = false;
        for (uint64_t idx = start >> s->refblock_bits;
             idx <= (start + n - 1) >> s->refblock_bits; idx++) {
            if (idx >= s->reftable_size || !s->reftable[idx]) {
                ret = qcow2_create_refblock(bs, idx);
                if (ret < 0) {
                    return ret;
                }
                created = true;
                break;
            }
        }
        if (created) {
            continue;           /* the new metadata may sit where we looked */
        }
        ret = qcow2_update_refcount(bs, start << s->cluster_bits, n << s->cluster_bits, 1);
        if (ret < 0) {
            return ret;
        }
        if (start <= s->free_hint + 1) {
            s->free_hint = start + n;
        }
        return start << s->cluster_bits;
    }
}

int64_t coroutine_fn qcow2_alloc_bytes(BlockDriverState *bs, uint64_t size)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->free_byte_offset;

    assert(size > 0 && size <= s->cluster_size);
    if (off && (off & s->cluster_mask) && s->cluster_size - (off & s->cluster_mask) >= size) {
        int ret = qcow2_update_refcount(bs, off, 1, 1);     /* one more user */
        if (ret < 0) {
            return ret;
        }
    } else {
        int64_t c = qcow2_alloc_clusters(bs, 1);
        if (c < 0) {
            return c;
        }
        off = c;
    }
    s->free_byte_offset = off + size;
    if (!(s->free_byte_offset & s->cluster_mask)) {
        s->free_byte_offset = 0;                            /* cluster full */
    }
    return off;
}

void qcow2_free_deferred(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool discard)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2PendingFree f = { .offset = offset, .bytes = bytes, .discard = discard };

    BLKDBG_EVENT(bs->file, BLKDBG_CLUSTER_FREE);
    g_array_append_val(s->pending_frees, f);
}

int coroutine_fn qcow2_refcount_sync(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = qcow2_cache_write(bs, s->rb_cache);

    if (ret < 0) {
        return ret;
    }
    if (s->rb_unsynced) {
        ret = bdrv_co_flush(bs->file->bs);
        if (ret < 0) {
            return ret;
        }
        s->rb_unsynced = false;
    }
    return 0;
}

int coroutine_fn qcow2_flush_metadata(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = qcow2_cache_write(bs, s->l2_cache);

    ret = ret < 0 ? ret : qcow2_cache_write(bs, s->rb_cache);
    if (ret < 0 || !s->pending_frees->len) {
        return ret;
    }
    /* the unlinking L1/L2 entries are written: make them durable, then free */
    ret = bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        return ret;
    }
    s->rb_unsynced = false;
    g_autoptr(GArray) frees = s->pending_frees;
    s->pending_frees = g_array_new(false, false, sizeof(Qcow2PendingFree));
    for (guint i = 0; i < frees->len; i++) {
        Qcow2PendingFree *f = &g_array_index(frees, Qcow2PendingFree, i);
        int r = qcow2_update_refcount(bs, f->offset, f->bytes, -1);
        if (r < 0) {
            ret = ret ? ret : r;
            continue;
        }
        if (f->discard && s->discard_passthrough && !(f->offset & s->cluster_mask)) {
            uint64_t rc;
            if (qcow2_get_refcount(bs, f->offset >> s->cluster_bits, &rc) == 0 && !rc) {
                bdrv_co_pdiscard(bs->file, f->offset, f->bytes);
            }
        }
    }
    int r = qcow2_cache_write(bs, s->rb_cache);
    return ret ? ret : r;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

int qcow2_check_overlap(BlockDriverState *bs, int ign, uint64_t offset, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    int chk = QCOW2_OL_ALL & ~ign;

    if ((chk & QCOW2_OL_HEADER) && offset < s->cluster_size) {
        return QCOW2_OL_HEADER;
    }
    if ((chk & QCOW2_OL_L1) && ranges_overlap(offset, bytes, s->l1_offset, s->l1_size * 8)) {
        return QCOW2_OL_L1;
    }
    if ((chk & QCOW2_OL_REFT) &&
        ranges_overlap(offset, bytes, s->reftable_offset, s->reftable_size * 8)) {
        return QCOW2_OL_REFT;
    }
    if (chk & QCOW2_OL_SNAPSHOTS) {
        for (int i = 0; i < s->nb_snapshots; i++) {
            if (ranges_overlap(offset, bytes, s->snapshots[i].l1_table_offset,
                               (uint64_t)s->snapshots[i].l1_size * 8)) {
                return QCOW2_OL_SNAPSHOTS;
            }
        }
        if (s->nb_snapshots && ranges_overlap(offset, bytes, s->h.snapshots_offset, s->snapshots_size)) {
            return QCOW2_OL_SNAPSHOTS;
        }
    }
    if (chk & QCOW2_OL_L2) {
        for (uint32_t i = 0; i < s->l1_size; i++) {
            uint64_t l2 = s->l1[i] & QCOW2_L1E_OFFSET_MASK;
            if (l2 && ranges_overlap(offset, bytes, l2, s->cluster_size)) {
                return QCOW2_OL_L2;
            }
        }
    }
    if (chk & QCOW2_OL_REFBLOCK) {
        for (uint64_t i = 0; i < s->reftable_used; i++) {
            uint64_t rb = s->reftable[i] & QCOW2_REFT_OFFSET_MASK;
            if (rb && ranges_overlap(offset, bytes, rb, s->cluster_size)) {
                return QCOW2_OL_REFBLOCK;
            }
        }
    }
    return 0;
}

static const char *qcow2_ol_name(int ol)
{
    switch (ol) {
    case QCOW2_OL_HEADER:    return "qcow2_header";
    case QCOW2_OL_L1:        return "active L1 table";
    case QCOW2_OL_L2:        return "active L2 table";
    case QCOW2_OL_REFT:      return "refcount table";
    case QCOW2_OL_REFBLOCK:  return "refcount block";
    default:                 return "snapshot table";
    }
}

int qcow2_pre_write_check(BlockDriverState *bs, int ign, uint64_t offset, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;

    if (s->corrupt) {
        return -EIO;
    }
    int ol = qcow2_check_overlap(bs, ign, offset, bytes);
    if (ol) {
        qcow2_signal_corruption_at(bs, offset, bytes,
                                   "Preventing invalid write on metadata (overlaps with %s)",
                                   qcow2_ol_name(ol));
        return -EIO;
    }
    return 0;
}

static void qcow2_signal_corruption_va(BlockDriverState *bs, int64_t offset, int64_t size,
                                       const char *fmt, va_list ap)
{
    BDRVQcow2State *s = bs->opaque;

    s->corrupt = true;
    /* as QEMU: a writable image becomes unusable, later requests find no medium */
    s->dead = s->dead || s->rw;
    if (s->signalled_corrupt) {
        return;
    }
    s->signalled_corrupt = true;
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    /* QEMU prints these without the program name prefix */
    if (s->rw) {
        fprintf(stderr, "qcow2: Marking image as corrupt: %s; further corruption events "
                "will be suppressed\n", msg);
    } else {
        fprintf(stderr, "qcow2: Image is corrupt: %s; further non-fatal corruption events "
                "will be suppressed\n", msg);
    }
    bdrv_report_corruption(bs, msg, offset, size, s->rw);
    if (s->rw && s->version >= 3 && qemu_in_coroutine()) {
        uint64_t be = GUINT64_TO_BE(s->h.incompatible_features | QCOW2_INCOMPAT_CORRUPT);
        s->h.incompatible_features |= QCOW2_INCOMPAT_CORRUPT;
        if (bdrv_co_pwrite(bs->file, 72, 8, &be, 0) == 0) {
            bdrv_co_flush(bs->file->bs);
        }
    }
}

void qcow2_signal_corruption(BlockDriverState *bs, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qcow2_signal_corruption_va(bs, -1, -1, fmt, ap);
    va_end(ap);
}

void qcow2_signal_corruption_at(BlockDriverState *bs, int64_t offset, int64_t size,
                                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    qcow2_signal_corruption_va(bs, offset, size, fmt, ap);
    va_end(ap);
}
