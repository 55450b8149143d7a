/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * cache.c: a write-back cache of cluster-sized metadata tables (L2 tables or
 * refcount blocks), indexed by host offset, evicting the least recently used
 * unpinned table. Tables stay big-endian, as on disk, so write-back is a plain
 * write. The caller holds BDRVQcow2State.lock for every call.
 *
 * Ordering: writing back an L2 table first puts the refcount cache on disk and
 * flushes the file (see qcow2.h, crash safety), so no L2 entry on disk can point
 * to a cluster whose refcount is still 0 on disk.
 */
#include "qcow2.h"

Qcow2Cache *qcow2_cache_new(int entries, bool is_l2)
{
    Qcow2Cache *c = g_new0(Qcow2Cache, 1);

    c->size = MAX(entries, 2);
    c->entries = g_new0(Qcow2CacheEntry, c->size);
    c->index = g_hash_table_new(g_int64_hash, g_int64_equal);
    c->is_l2 = is_l2;
    return c;
}

void qcow2_cache_free(Qcow2Cache *c)
{
    if (!c) {
        return;
    }
    for (int i = 0; i < c->size; i++) {
        bdrv_blockfree(c->entries[i].table);
    }
    g_hash_table_destroy(c->index);
    g_free(c->entries);
    g_free(c);
}

bool qcow2_cache_has_dirty(Qcow2Cache *c)
{
    for (int i = 0; i < c->size; i++) {
        if (c->entries[i].dirty) {
            return true;
        }
    }
    return false;
}

static int coroutine_fn qcow2_cache_writeback(BlockDriverState *bs, Qcow2Cache *c,
                                              Qcow2CacheEntry *e)
{
    BDRVQcow2State *s = bs->opaque;

    if (!e->dirty) {
        return 0;
    }
    if (c->is_l2 && !s->lazy_refcounts) {
        int ret = qcow2_refcount_sync(bs);
        if (ret < 0) {
            return ret;
        }
    }
    int ret = qcow2_pre_write_check(bs, c->is_l2 ? QCOW2_OL_L2 : QCOW2_OL_REFBLOCK,
                                    e->offset, s->cluster_size);
    if (ret < 0) {
        return ret;
    }
    BLKDBG_EVENT(bs->file, c->is_l2 ? BLKDBG_L2_UPDATE : BLKDBG_REFBLOCK_UPDATE);
    ret = bdrv_co_pwrite(bs->file, e->offset, s->cluster_size, e->table, 0);
    if (ret < 0) {
        return ret;
    }
    e->dirty = false;
    if (!c->is_l2) {
        s->rb_unsynced = true;
    }
    return 0;
}

/* A free slot, evicting the least recently used unpinned table if needed. */
static int coroutine_fn qcow2_cache_victim(BlockDriverState *bs, Qcow2Cache *c,
                                           Qcow2CacheEntry **out)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CacheEntry *best = NULL;

    for (int i = 0; i < c->size; i++) {
        Qcow2CacheEntry *e = &c->entries[i];
        if (!e->offset) {
            best = e;
            break;
        }
        if (!e->ref && (!best || e->lru < best->lru)) {
            best = e;
        }
    }
    if (!best) {
        return -ENOSPC;             /* everything pinned: a bug in the caller */
    }
    if (best->offset) {
        int ret = qcow2_cache_writeback(bs, c, best);
        if (ret < 0) {
            return ret;
        }
        g_hash_table_remove(c->index, &best->offset);
        best->offset = 0;
    }
    if (!best->table) {
        best->table = bdrv_blockalign(bs, s->cluster_size);
    }
    *out = best;
    return 0;
}

static int coroutine_fn qcow2_cache_do_get(BlockDriverState *bs, Qcow2Cache *c,
                                           uint64_t offset, bool read,
                                           Qcow2CacheEntry **out)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CacheEntry *e = g_hash_table_lookup(c->index, &offset);

    if (!e) {
        int ret = qcow2_cache_victim(bs, c, &e);
        if (ret < 0) {
            return ret;
        }
        if (read) {
            BLKDBG_EVENT(bs->file, c->is_l2 ? BLKDBG_L2_LOAD : BLKDBG_REFBLOCK_LOAD);
            ret = bdrv_co_pread(bs->file, offset, s->cluster_size, e->table, 0);
            if (ret < 0) {
                return ret;
            }
        } else {
            memset(e->table, 0, s->cluster_size);
        }
        e->offset = offset;
        e->dirty = false;
        g_hash_table_insert(c->index, &e->offset, e);
    } else if (!read) {
        memset(e->table, 0, s->cluster_size);
    }
    e->ref++;
    e->lru = ++c->lru_clock;
    *out = e;
    return 0;
}

int coroutine_fn qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset,
                                 Qcow2CacheEntry **out)
{
    return qcow2_cache_do_get(bs, c, offset, true, out);
}

int coroutine_fn qcow2_cache_get_empty(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset,
                                       Qcow2CacheEntry **out)
{
    return qcow2_cache_do_get(bs, c, offset, false, out);
}

void qcow2_cache_put(Qcow2CacheEntry **e)
{
    if (*e) {
        assert((*e)->ref > 0);
        (*e)->ref--;
        *e = NULL;
    }
}

void qcow2_cache_mark_dirty(Qcow2CacheEntry *e)
{
    e->dirty = true;
}

int coroutine_fn qcow2_cache_write(BlockDriverState *bs, Qcow2Cache *c)
{
    int result = 0;

    for (int i = 0; i < c->size; i++) {
        if (c->entries[i].offset && c->entries[i].dirty) {
            int ret = qcow2_cache_writeback(bs, c, &c->entries[i]);
            if (ret < 0 && !result) {
                result = ret;
            }
        }
    }
    return result;
}

void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset)
{
    Qcow2CacheEntry *e = g_hash_table_lookup(c->index, &offset);

    if (e && !e->ref) {
        g_hash_table_remove(c->index, &e->offset);
        e->offset = 0;
        e->dirty = false;
    }
}

void qcow2_cache_clear(Qcow2Cache *c)
{
    for (int i = 0; i < c->size; i++) {
        c->entries[i].offset = 0;
        c->entries[i].dirty = false;
        c->entries[i].ref = 0;
    }
    g_hash_table_remove_all(c->index);
}
