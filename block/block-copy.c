/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-copy.c: the copy map and in-flight tracking behind copy-before-write,
 * shared by the copy-before-write filter and the backup job (block-copy.h).
 */
#include "util/osdep.h"
#include "util/coroutine.h"
#include "block/block-copy.h"

typedef struct BlockCopyRange {
    int64_t offset, bytes;
} BlockCopyRange;

struct BlockCopyState {
    int64_t cluster, length;
    BdrvDirtyBitmap *copy_map;        /* on the source: clusters not copied yet */
    GSList *in_flight;                /* BlockCopyRange * being copied */
    CoQueue copy_done;                /* waiters for an area in flight */
    const BlockCopyOps *ops;
    void *opaque;
};

BlockCopyState *block_copy_state_new(BlockDriverState *source, int64_t cluster,
                                     int64_t length, const BlockCopyOps *ops,
                                     void *opaque, Error **errp)
{
    BdrvDirtyBitmap *map = bdrv_create_dirty_bitmap(source, cluster, NULL, errp);
    BlockCopyState *s;

    if (!map) {
        return NULL;
    }
    bdrv_disable_dirty_bitmap(map);   /* only we set and clear it */
    s = g_new0(BlockCopyState, 1);
    s->cluster = cluster;
    s->length = length;
    s->copy_map = map;
    s->ops = ops;
    s->opaque = opaque;
    qemu_co_queue_init(&s->copy_done);
    return s;
}

void block_copy_state_free(BlockCopyState *s)
{
    if (!s) {
        return;
    }
    assert(!s->in_flight);
    bdrv_release_dirty_bitmap(s->copy_map);
    g_free(s);
}

BdrvDirtyBitmap *block_copy_dirty_bitmap(BlockCopyState *s)
{
    return s->copy_map;
}

bool block_copy_busy(BlockCopyState *s, int64_t offset, int64_t bytes)
{
    for (GSList *l = s->in_flight; l; l = l->next) {
        BlockCopyRange *r = l->data;
        if (offset < r->offset + r->bytes && r->offset < offset + bytes) {
            return true;
        }
    }
    return false;
}

void coroutine_fn block_copy_wait(BlockCopyState *s)
{
    qemu_co_queue_wait(&s->copy_done, NULL);
}

int coroutine_fn block_copy_area(BlockCopyState *s, int64_t offset, int64_t bytes,
                                 bool *is_read)
{
    BlockCopyRange r = { offset, bytes };
    int ret;

    /* cleared up front so nobody else starts on it while we yield in the I/O */
    s->in_flight = g_slist_prepend(s->in_flight, &r);
    bdrv_reset_dirty_bitmap(s->copy_map, offset, bytes);
    *is_read = false;
    ret = s->ops->copy(s->opaque, offset, bytes, is_read);
    if (ret < 0) {
        bdrv_set_dirty_bitmap(s->copy_map, offset, bytes);   /* not copied after all */
    } else if (s->ops->copied) {
        s->ops->copied(s->opaque, offset, bytes);
    }
    s->in_flight = g_slist_remove(s->in_flight, &r);
    qemu_co_queue_restart_all(&s->copy_done);
    return ret;
}

int coroutine_fn block_copy_range(BlockCopyState *s, int64_t offset, int64_t bytes)
{
    int64_t start = QEMU_ALIGN_DOWN(offset, s->cluster);
    int64_t end = MIN(QEMU_ALIGN_UP(offset + bytes, s->cluster), s->length);

    while (start < end) {
        int64_t dstart, dcount;
        bool is_read;
        int ret;

        /* a copy of these clusters in flight must land before we look again */
        while (block_copy_busy(s, start, end - start)) {
            block_copy_wait(s);
        }
        if (!bdrv_dirty_bitmap_next_dirty_area(s->copy_map, start, end, BLOCK_COPY_MAX_IO,
                                               &dstart, &dcount)) {
            break;
        }
        ret = block_copy_area(s, dstart, dcount, &is_read);
        if (ret < 0) {
            return ret;               /* the old data must not be lost */
        }
        start = dstart + dcount;
    }
    return 0;
}
