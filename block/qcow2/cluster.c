/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * cluster.c: guest offsets to host clusters. The L1 table (in memory) points to
 * L2 tables (in the L2 cache); an L2 entry describes one guest cluster:
 *
 *   63 COPIED (refcount is exactly 1: may be written in place)
 *   62 COMPRESSED (then bits 0..61 are the compressed descriptor, see header.c)
 *   9..55 host cluster offset        0 ZERO (v3: reads as zeroes)
 *
 * Writes to clusters that are not "normal and COPIED" allocate fresh clusters:
 * the allocation happens under the lock, the guest data (padded with the old
 * contents, copy-on-write) is written without it, and the new entries are linked
 * under the lock again. While that runs, the guest range is in s->in_flight so
 * that overlapping writers wait, and writers elsewhere proceed in parallel.
 */
#include "qcow2.h"

void qcow2_in_flight_add(BDRVQcow2State *s, Qcow2InFlight *r, uint64_t start, uint64_t end)
{
    r->start = start;
    r->end = end;
    qemu_co_queue_init(&r->waiters);
    r->next = s->in_flight;
    s->in_flight = r;
}

void qcow2_in_flight_remove(BDRVQcow2State *s, Qcow2InFlight *r)
{
    for (Qcow2InFlight **p = &s->in_flight; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    qemu_co_queue_restart_all(&r->waiters);
}

void coroutine_fn qcow2_in_flight_wait(BDRVQcow2State *s, uint64_t start, uint64_t end)
{
    Qcow2InFlight *r;

again:
    for (r = s->in_flight; r; r = r->next) {
        if (r->start < end && start < r->end) {
            qemu_co_queue_wait(&r->waiters, &s->lock);
            goto again;
        }
    }
}

/* Pin the L2 table for guest offset if there is one (*l2 = NULL if not). */
static int coroutine_fn qcow2_get_l2_ro(BlockDriverState *bs, uint64_t offset,
                                        Qcow2CacheEntry **l2)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t idx = qcow2_offset_to_l1_index(s, offset);

    *l2 = NULL;
    if (idx >= s->l1_size) {
        return 0;
    }
    uint64_t l2off = s->l1[idx] & QCOW2_L1E_OFFSET_MASK;
    if (!l2off) {
        return 0;
    }
    if (l2off & s->cluster_mask) {
        qcow2_signal_corruption(bs, "L2 table offset %#" PRIx64 " unaligned (L1 index: %#"
                                PRIx64 ")", l2off, idx);
        return -EIO;
    }
    return qcow2_cache_get(bs, s->l2_cache, l2off, l2);
}

static bool qcow2_entry_continues(BDRVQcow2State *s, Qcow2ClusterType type, uint64_t first,
                                  uint64_t entry, uint32_t k)
{
    Qcow2ClusterType t = qcow2_l2_entry_type(entry, s->version);

    switch (type) {
    case QCOW2_CLUSTER_NORMAL:
        return t == type && (entry & QCOW2_L2E_OFFSET_MASK) ==
               (first & QCOW2_L2E_OFFSET_MASK) + ((uint64_t)k << s->cluster_bits);
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        return t == QCOW2_CLUSTER_ZERO_PLAIN || t == QCOW2_CLUSTER_ZERO_ALLOC;
    case QCOW2_CLUSTER_UNALLOCATED:
        return t == type;
    default:
        return false;
    }
}

int coroutine_fn qcow2_get_mapping(BlockDriverState *bs, uint64_t offset, uint64_t max,
                                   uint64_t *bytes, uint64_t *host, uint64_t *l2_entry)
{
    BDRVQcow2State *s = bs->opaque;
    uint32_t i = qcow2_offset_to_l2_index(s, offset);
    uint64_t in_cluster = offset & s->cluster_mask;
    uint64_t avail = ((uint64_t)(s->l2_entries - i) << s->cluster_bits) - in_cluster;
    Qcow2CacheEntry *l2;

    max = MIN(max, avail);
    *host = 0;
    *l2_entry = 0;
    int ret = qcow2_get_l2_ro(bs, offset, &l2);
    if (ret < 0) {
        return ret;
    }
    if (!l2) {
        *bytes = max;
        return QCOW2_CLUSTER_UNALLOCATED;
    }
    uint64_t entry = qcow2_l2_get(l2, i);
    Qcow2ClusterType type = qcow2_l2_entry_type(entry, s->version);
    if ((type == QCOW2_CLUSTER_NORMAL || type == QCOW2_CLUSTER_ZERO_ALLOC) &&
        (entry & QCOW2_L2E_OFFSET_MASK & s->cluster_mask)) {
        uint64_t l2off = l2->offset;
        qcow2_cache_put(&l2);
        qcow2_signal_corruption(bs, "Cluster allocation offset %#" PRIx64 " unaligned (L2 "
                                "offset: %#" PRIx64 ", L2 index: %#" PRIx32 ")",
                                entry & QCOW2_L2E_OFFSET_MASK, l2off, i);
        return -EIO;
    }
    uint64_t len = MIN(max, s->cluster_size - in_cluster);
    for (uint32_t k = 1; len < max; k++) {
        if (!qcow2_entry_continues(s, type, entry, qcow2_l2_get(l2, i + k), k)) {
            break;
        }
        len = MIN(max, len + s->cluster_size);
    }
    qcow2_cache_put(&l2);
    *bytes = len;
    *l2_entry = entry;
    if (type == QCOW2_CLUSTER_NORMAL || type == QCOW2_CLUSTER_ZERO_ALLOC) {
        *host = (entry & QCOW2_L2E_OFFSET_MASK) + in_cluster;
    }
    return type;
}

int coroutine_fn qcow2_write_l1_entry(BlockDriverState *bs, uint32_t index)
{
    BDRVQcow2State *s = bs->opaque;
    uint32_t first = index & ~63u, n = MIN(64u, s->l1_alloc - first);
    g_autofree uint64_t *buf = g_new(uint64_t, n);

    for (uint32_t i = 0; i < n; i++) {
        buf[i] = GUINT64_TO_BE(first + i < s->l1_size ? s->l1[first + i] : 0);
    }
    int ret = qcow2_pre_write_check(bs, QCOW2_OL_L1, s->l1_offset + first * 8, n * 8);
    if (ret < 0) {
        return ret;
    }
    BLKDBG_EVENT(bs->file, BLKDBG_L1_UPDATE);
    return bdrv_co_pwrite(bs->file, s->l1_offset + first * 8, n * 8, buf, 0);
}

int coroutine_fn qcow2_grow_l1(BlockDriverState *bs, uint64_t min_size, bool exact)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t size = exact ? min_size : MAX(min_size, (uint64_t)s->l1_size * 3 / 2);

    if (min_size <= s->l1_size) {
        return 0;
    }
    if (size > QCOW2_MAX_L1_BYTES / 8) {
        if (min_size > QCOW2_MAX_L1_BYTES / 8) {
            return -EFBIG;
        }
        size = min_size;
    }
    uint64_t bytes = ROUND_UP(size * 8, s->cluster_size);
    uint32_t alloc = bytes / 8;
    BLKDBG_EVENT(bs->file, BLKDBG_L1_GROW_ALLOC_TABLE);
    int64_t off = qcow2_alloc_clusters(bs, bytes >> s->cluster_bits);
    if (off < 0) {
        return off;
    }
    g_autofree uint64_t *be = g_new0(uint64_t, alloc);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        be[i] = GUINT64_TO_BE(s->l1[i]);
    }
    /* refcounts and the new table on disk before the header points to it */
    int ret = qcow2_refcount_sync(bs);
    BLKDBG_EVENT(bs->file, BLKDBG_L1_GROW_WRITE_TABLE);
    ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, off, size * 8, be, 0);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        qcow2_update_refcount(bs, off, bytes, -1);
        return ret;
    }
    uint8_t hdr[12];
    uint32_t be_size = GUINT32_TO_BE((uint32_t)size);
    uint64_t be_off = GUINT64_TO_BE((uint64_t)off);
    memcpy(hdr, &be_size, 4);
    memcpy(hdr + 4, &be_off, 8);
    BLKDBG_EVENT(bs->file, BLKDBG_L1_GROW_ACTIVATE_TABLE);
    ret = bdrv_co_pwrite(bs->file, 36, sizeof(hdr), hdr, 0);
    if (ret < 0) {
        qcow2_update_refcount(bs, off, bytes, -1);
        return ret;
    }
    uint64_t old_off = s->l1_offset, old_bytes = ROUND_UP((uint64_t)s->l1_size * 8,
                                                          s->cluster_size);
    uint64_t *l1 = g_new0(uint64_t, alloc);
    memcpy(l1, s->l1, (size_t)s->l1_size * 8);
    g_free(s->l1);
    s->l1 = l1;
    s->l1_alloc = alloc;
    s->l1_size = size;
    s->l1_offset = off;
    s->h.l1_size = size;
    s->h.l1_table_offset = off;
    if (old_off && old_bytes) {
        qcow2_free_deferred(bs, old_off, old_bytes, false);
    }
    return 0;
}

int coroutine_fn qcow2_get_l2_for_write(BlockDriverState *bs, uint64_t offset,
                                        Qcow2CacheEntry **l2, uint32_t *index)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t idx = qcow2_offset_to_l1_index(s, offset);
    int ret;

    *index = qcow2_offset_to_l2_index(s, offset);
    if (idx >= s->l1_size) {
        ret = qcow2_grow_l1(bs, idx + 1, false);
        if (ret < 0) {
            return ret;
        }
    }
    uint64_t l1e = s->l1[idx], old = l1e & QCOW2_L1E_OFFSET_MASK;
    if (old && (l1e & QCOW2_OFLAG_COPIED)) {
        return qcow2_get_l2_ro(bs, offset, l2);
    }
    /* no table yet, or one shared with a snapshot: give this L1 entry its own */
    int64_t new = qcow2_alloc_clusters(bs, 1);
    if (new < 0) {
        return new;
    }
    Qcow2CacheEntry *src = NULL;
    if (old) {
        BLKDBG_EVENT(bs->file, BLKDBG_L2_ALLOC_COW_READ);
        ret = qcow2_get_l2_ro(bs, offset, &src);
        if (ret < 0) {
            qcow2_update_refcount(bs, new, s->cluster_size, -1);
            return ret;
        }
    }
    ret = qcow2_cache_get_empty(bs, s->l2_cache, new, l2);
    if (ret < 0) {
        qcow2_cache_put(&src);
        qcow2_update_refcount(bs, new, s->cluster_size, -1);
        return ret;
    }
    if (src) {
        memcpy((*l2)->table, src->table, s->cluster_size);
        qcow2_cache_put(&src);
    }
    qcow2_cache_mark_dirty(*l2);
    BLKDBG_EVENT(bs->file, BLKDBG_L2_ALLOC_WRITE);
    /* the table (and the refcounts it relies on) must be durable before L1 points to it */
    ret = qcow2_cache_write(bs, s->l2_cache);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    if (ret == 0) {
        s->l1[idx] = (uint64_t)new | QCOW2_OFLAG_COPIED;
        ret = qcow2_write_l1_entry(bs, idx);
        if (ret < 0) {
            s->l1[idx] = l1e;
        }
    }
    if (ret < 0) {
        qcow2_cache_put(l2);
        qcow2_cache_discard(s->l2_cache, new);
        qcow2_update_refcount(bs, new, s->cluster_size, -1);
        return ret;
    }
    if (old) {
        qcow2_free_deferred(bs, old, s->cluster_size, false);
    }
    return 0;
}

/* The host clusters an L2 entry holds (to free them when it is replaced). */
void qcow2_free_l2_entry(BlockDriverState *bs, uint64_t entry, bool discard)
{
    BDRVQcow2State *s = bs->opaque;

    switch (qcow2_l2_entry_type(entry, s->version)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        qcow2_free_deferred(bs, entry & QCOW2_L2E_OFFSET_MASK, s->cluster_size, discard);
        break;
    case QCOW2_CLUSTER_COMPRESSED: {
        uint64_t host, bytes;
        qcow2_compressed_location(entry, s->cluster_bits, &host, &bytes);
        qcow2_free_deferred(bs, host, bytes, discard);
        break;
    }
    default:
        break;
    }
}

static bool qcow2_in_place(BDRVQcow2State *s, uint64_t entry)
{
    return qcow2_l2_entry_type(entry, s->version) == QCOW2_CLUSTER_NORMAL &&
           (entry & QCOW2_OFLAG_COPIED);
}

/* Copy-on-write padding of a new cluster: old contents of [offset, offset+bytes). */
static int coroutine_fn qcow2_cow_read(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                       uint64_t entry, void *buf)
{
    QEMUIOVector qiov;

    if (!bytes) {
        return 0;
    }
    BLKDBG_EVENT(bs->file, BLKDBG_COW_READ);
    qemu_iovec_init_buf(&qiov, buf, bytes);
    return qcow2_co_read_cluster_data(bs, offset, bytes, entry, &qiov, 0);
}

/* Allocate k clusters for guest [cl_start, +k clusters) and write data into them. */
static int coroutine_fn qcow2_alloc_and_write(BlockDriverState *bs, uint64_t offset,
                                              uint64_t len, uint32_t k, uint64_t *old,
                                              QEMUIOVector *qiov, size_t qiov_offset)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t cl_start = offset & ~s->cluster_mask, total = (uint64_t)k << s->cluster_bits;
    uint64_t head = offset - cl_start, tail = total - head - len;
    Qcow2InFlight inf;
    Qcow2CacheEntry *l2 = NULL;
    uint32_t i;

    int64_t host = qcow2_alloc_clusters(bs, k);
    if (host < 0) {
        return host;
    }
    qcow2_in_flight_add(s, &inf, cl_start, cl_start + total);
    qemu_co_mutex_unlock(&s->lock);

    g_autofree uint8_t *hbuf = head ? g_malloc(head) : NULL;
    g_autofree uint8_t *tbuf = tail ? g_malloc(tail) : NULL;
    int ret = qcow2_cow_read(bs, cl_start, head, old[0], hbuf);
    if (ret == 0) {
        ret = qcow2_cow_read(bs, offset + len, tail, old[k - 1], tbuf);
    }
    if (ret == 0) {
        ret = qcow2_pre_write_check(bs, 0, host, total);
    }
    if (ret == 0) {
        QEMUIOVector v;
        qemu_iovec_init(&v, qiov->niov + 2);
        if (head) {
            qemu_iovec_add(&v, hbuf, head);
        }
        qemu_iovec_concat(&v, qiov, qiov_offset, len);
        if (tail) {
            qemu_iovec_add(&v, tbuf, tail);
        }
        BLKDBG_EVENT(bs->file, head || tail ? BLKDBG_COW_WRITE : BLKDBG_WRITE_AIO);
        ret = bdrv_co_pwritev(bs->file, host, total, &v, 0);
        qemu_iovec_destroy(&v);
    }

    qemu_co_mutex_lock(&s->lock);
    if (ret == 0) {
        ret = qcow2_get_l2_for_write(bs, cl_start, &l2, &i);
    }
    if (ret < 0) {
        qcow2_update_refcount(bs, host, total, -1);   /* never linked: free at once */
        qcow2_in_flight_remove(s, &inf);
        return ret;
    }
    for (uint32_t j = 0; j < k; j++) {
        uint64_t cur = qcow2_l2_get(l2, i + j);
        qcow2_l2_set(l2, i + j, (host + ((uint64_t)j << s->cluster_bits)) | QCOW2_OFLAG_COPIED);
        qcow2_free_l2_entry(bs, cur, false);
    }
    qcow2_cache_mark_dirty(l2);
    qcow2_cache_put(&l2);
    qcow2_in_flight_remove(s, &inf);
    return 0;
}

int coroutine_fn qcow2_co_write_clusters(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                         QEMUIOVector *qiov, size_t qiov_offset)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    while (bytes && ret == 0) {
        uint64_t in_cl = offset & s->cluster_mask, cl_start = offset - in_cl;
        Qcow2CacheEntry *l2;
        uint32_t i;

        qemu_co_mutex_lock(&s->lock);
        if (s->corrupt) {
            qemu_co_mutex_unlock(&s->lock);
            return -EIO;
        }
        qcow2_in_flight_wait(s, cl_start, ROUND_UP(offset + bytes, s->cluster_size));
        ret = qcow2_get_l2_for_write(bs, offset, &l2, &i);
        if (ret < 0) {
            qemu_co_mutex_unlock(&s->lock);
            return ret;
        }
        uint64_t want = (in_cl + bytes + s->cluster_mask) >> s->cluster_bits;
        uint32_t n = MIN(want, (uint64_t)(s->l2_entries - i)), k = 1;
        uint64_t e0 = qcow2_l2_get(l2, i);
        bool in_place = qcow2_in_place(s, e0);
        while (k < n) {
            uint64_t e = qcow2_l2_get(l2, i + k);
            if (in_place ? !qcow2_entry_continues(s, QCOW2_CLUSTER_NORMAL, e0, e, k) ||
                           !(e & QCOW2_OFLAG_COPIED)
                         : qcow2_in_place(s, e)) {
                break;
            }
            k++;
        }
        uint64_t len = MIN(bytes, ((uint64_t)k << s->cluster_bits) - in_cl);
        if (in_place) {
            uint64_t host = (e0 & QCOW2_L2E_OFFSET_MASK) + in_cl;
            qcow2_cache_put(&l2);
            qemu_co_mutex_unlock(&s->lock);
            ret = qcow2_pre_write_check(bs, 0, host, len);
            if (ret == 0) {
                BLKDBG_EVENT(bs->file, BLKDBG_WRITE_AIO);
                ret = bdrv_co_pwritev_part(bs->file, host, len, qiov, qiov_offset, 0);
            }
        } else {
            g_autofree uint64_t *old = g_new(uint64_t, k);
            for (uint32_t j = 0; j < k; j++) {
                old[j] = qcow2_l2_get(l2, i + j);
            }
            qcow2_cache_put(&l2);
            ret = qcow2_alloc_and_write(bs, offset, len, k, old, qiov, qiov_offset);
            qemu_co_mutex_unlock(&s->lock);
        }
        offset += len;
        bytes -= len;
        qiov_offset += len;
    }
    return ret;
}

/* The entry a zeroed/discarded cluster gets; UINT64_MAX: not representable (v2). */
static uint64_t qcow2_zeroed_entry(BlockDriverState *bs, uint64_t cur, Qcow2ZeroMode mode)
{
    BDRVQcow2State *s = bs->opaque;
    bool backing = bs->backing != NULL;

    if (mode == QCOW2_DISCARD_FULL) {
        return 0;
    }
    if (s->version < 3) {
        return (!backing || mode == QCOW2_DISCARD) ? 0 : UINT64_MAX;
    }
    if (mode == QCOW2_DISCARD) {
        return backing ? QCOW2_OFLAG_ZERO : 0;
    }
    if (mode == QCOW2_ZERO_KEEP) {
        Qcow2ClusterType t = qcow2_l2_entry_type(cur, s->version);
        if (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) {
            /* keep the cluster (shared or not) and its flags, as QEMU does */
            return cur | QCOW2_OFLAG_ZERO;
        }
    }
    return QCOW2_OFLAG_ZERO;
}

int coroutine_fn qcow2_co_zero_clusters(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                        Qcow2ZeroMode mode)
{
    BDRVQcow2State *s = bs->opaque;
    bool discard = mode >= QCOW2_DISCARD;
    int ret = 0;

    if (s->version < 3 && bs->backing && !discard) {
        return -ENOTSUP;
    }
    bytes = ROUND_UP(bytes, s->cluster_size);
    qemu_co_mutex_lock(&s->lock);
    if (s->corrupt) {
        qemu_co_mutex_unlock(&s->lock);
        return -EIO;
    }
    qcow2_in_flight_wait(s, offset, offset + bytes);
    while (bytes && ret == 0) {
        uint32_t i = qcow2_offset_to_l2_index(s, offset);
        uint64_t n = MIN(bytes >> s->cluster_bits, (uint64_t)(s->l2_entries - i));
        uint64_t idx = qcow2_offset_to_l1_index(s, offset);
        Qcow2CacheEntry *l2;

        bool no_table = idx >= s->l1_size || !(s->l1[idx] & QCOW2_L1E_OFFSET_MASK);
        if (no_table && qcow2_zeroed_entry(bs, 0, mode) == 0) {
            goto next;                  /* the entries would stay 0: nothing to write */
        }
        ret = qcow2_get_l2_for_write(bs, offset, &l2, &i);
        if (ret < 0) {
            break;
        }
        for (uint64_t j = 0; j < n; j++) {
            uint64_t cur = qcow2_l2_get(l2, i + j);
            uint64_t new = qcow2_zeroed_entry(bs, cur, mode);
            if (new == cur) {
                continue;
            }
            qcow2_l2_set(l2, i + j, new);
            qcow2_cache_mark_dirty(l2);
            if ((new & QCOW2_L2E_OFFSET_MASK) != (cur & QCOW2_L2E_OFFSET_MASK) ||
                (cur & QCOW2_OFLAG_COMPRESSED)) {
                qcow2_free_l2_entry(bs, cur, discard);
            }
        }
        qcow2_cache_put(&l2);
next:
        offset += n << s->cluster_bits;
        bytes -= n << s->cluster_bits;
    }
    if (ret == 0 && s->pending_frees->len > 1024) {
        ret = qcow2_flush_metadata(bs);
    }
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

static int coroutine_fn qcow2_read_backing(BlockDriverState *bs, uint64_t offset,
                                           uint64_t bytes, QEMUIOVector *qiov,
                                           size_t qiov_offset)
{
    if (!bs->backing) {
        qemu_iovec_memset(qiov, qiov_offset, 0, bytes);
        return 0;
    }
    int64_t blen = bdrv_co_getlength(bs->backing->bs);
    if (blen < 0) {
        return blen;
    }
    uint64_t n = (int64_t)offset >= blen ? 0 : MIN(bytes, (uint64_t)blen - offset);
    if (n) {
        BLKDBG_EVENT(bs->file, BLKDBG_READ_BACKING_AIO);
        int ret = bdrv_co_preadv_part(bs->backing, offset, n, qiov, qiov_offset, 0);
        if (ret < 0) {
            return ret;
        }
    }
    if (n < bytes) {
        qemu_iovec_memset(qiov, qiov_offset + n, 0, bytes - n);
    }
    return 0;
}

static int coroutine_fn qcow2_read_compressed(BlockDriverState *bs, uint64_t offset,
                                              uint64_t bytes, uint64_t entry,
                                              QEMUIOVector *qiov, size_t qiov_offset)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t host, clen;

    qcow2_compressed_location(entry, s->cluster_bits, &host, &clen);
    int64_t flen = bdrv_co_getlength(bs->file->bs);
    if (flen < 0) {
        return flen;
    }
    if (host >= (uint64_t)flen) {
        return -EIO;
    }
    clen = MIN(clen, (uint64_t)flen - host);
    g_autofree uint8_t *cbuf = g_malloc(clen);
    g_autofree uint8_t *out = g_malloc(s->cluster_size);
    BLKDBG_EVENT(bs->file, BLKDBG_READ_COMPRESSED);
    int ret = bdrv_co_pread(bs->file, host, clen, cbuf, 0);
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_decompress(s->h.compression_type, cbuf, clen, out, s->cluster_size);
    if (ret < 0) {
        return ret;
    }
    qemu_iovec_from_buf(qiov, qiov_offset, out + (offset & s->cluster_mask), bytes);
    return 0;
}

int coroutine_fn qcow2_co_read_cluster_data(BlockDriverState *bs, uint64_t offset,
                                            uint64_t bytes, uint64_t l2_entry,
                                            QEMUIOVector *qiov, size_t qiov_offset)
{
    BDRVQcow2State *s = bs->opaque;

    switch (qcow2_l2_entry_type(l2_entry, s->version)) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return qcow2_read_backing(bs, offset, bytes, qiov, qiov_offset);
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        qemu_iovec_memset(qiov, qiov_offset, 0, bytes);
        return 0;
    case QCOW2_CLUSTER_COMPRESSED:
        return qcow2_read_compressed(bs, offset, bytes, l2_entry, qiov, qiov_offset);
    default: {
        uint64_t host = (l2_entry & QCOW2_L2E_OFFSET_MASK) + (offset & s->cluster_mask);
        BLKDBG_EVENT(bs->file, BLKDBG_READ_AIO);
        return bdrv_co_preadv_part(bs->file, host, bytes, qiov, qiov_offset, 0);
    }
    }
}
