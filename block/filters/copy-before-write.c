/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * copy-before-write.c: the copy-before-write filter. Before a write, zero-write
 * or discard through it reaches the source (its "file" child), the old data of
 * the clusters it touches is copied out, so that whoever holds the copies sees
 * the source as it was when the filter was put in.
 *
 *  - blockdev-add {"driver": "copy-before-write", "file": SRC, "target": TGT}: the
 *    filter copies to TGT itself, each cluster once (a copy map on the source
 *    lists the clusters not copied yet; block-copy.c keeps it, as for backup).
 *  - backup inserts one above its source and hooks its own copy-before-write in
 *    (cbw_filter_set_hook): the job owns the copy map and the copying.
 *
 * Writes the request layer marks "unchanged" (copy-on-read) change nothing and
 * are not copied. Like QEMU's, the node carries two disabled bitmaps: what has
 * been copied ("done") and what may be read from the snapshot ("access").
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/filter.h"
#include "block/dirty-bitmap.h"
#include "block/block-copy.h"

#define CBW_CLUSTER_DEFAULT (64 * 1024)

typedef struct CbwState {
    BdrvChild *target;                /* blockdev-add form only */
    BdrvWriteNotifier *hook;          /* the active copy-before-write */
    BdrvWriteNotifier own;            /* the blockdev-add form's hook */
    BlockDriverState *bs;             /* the filter itself, for the copy callbacks */
    int64_t cluster, length;
    BlockCopyState *bcs;              /* blockdev-add form: what is not copied yet */
    BdrvDirtyBitmap *done, *access;   /* on the filter */
} CbwState;

static const char *const cbw_open_options[] = { "target", NULL };

/* Copy one area of the source to the target (the blockdev-add form). */
static int coroutine_fn cbw_co_copy(void *opaque, int64_t offset, int64_t bytes,
                                    bool *is_read)
{
    CbwState *s = opaque;
    void *buf = bdrv_blockalign(s->bs, bytes);
    int ret;

    ret = bdrv_co_pread(s->bs->file, offset, bytes, buf, 0);
    *is_read = ret < 0;
    if (ret >= 0) {
        ret = bdrv_co_pwrite(s->target, offset, bytes, buf, 0);
    }
    bdrv_blockfree(buf);
    return ret;
}

static void cbw_copied(void *opaque, int64_t offset, int64_t bytes)
{
    CbwState *s = opaque;

    bdrv_set_dirty_bitmap(s->done, offset, bytes);
}

static const BlockCopyOps cbw_copy_ops = {
    .copy = cbw_co_copy,
    .copied = cbw_copied,
};

static int coroutine_fn cbw_own_notify(BdrvWriteNotifier *n, BlockDriverState *bs,
                                       int64_t offset, int64_t bytes)
{
    CbwState *s = bs->opaque;

    return block_copy_range(s->bcs, offset, bytes);
}

static BdrvDirtyBitmap *cbw_new_bitmap(BlockDriverState *bs, int64_t cluster, bool full,
                                       Error **errp)
{
    BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, cluster, NULL, errp);

    if (bm) {
        bdrv_disable_dirty_bitmap(bm);
        if (full) {
            bdrv_set_dirty_bitmap(bm, 0, bdrv_getlength(bs));
        }
    }
    return bm;
}

static void cbw_close(BlockDriverState *bs)
{
    CbwState *s = bs->opaque;

    block_copy_state_free(s->bcs);    /* its copy map lives on the child */
    s->bcs = NULL;
}

static int cbw_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    CbwState *s = bs->opaque;
    BlockDriverInfo bdi = { 0 };

    if (!bdrv_open_child(NULL, options, "file", bs, BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY,
                         false, errp)) {
        return -EINVAL;
    }
    s->target = bdrv_open_child(NULL, options, "target", bs, BDRV_CHILD_DATA, true, errp);
    if (!s->target && qdict_haskey(options, "target")) {
        return -EINVAL;
    }
    s->bs = bs;
    s->length = bdrv_getlength(bs->file->bs);
    if (s->length < 0) {
        error_setg_errno(errp, -s->length, "Cannot get length of '%s'",
                         bdrv_get_node_name(bs->file->bs));
        return s->length;
    }
    s->cluster = CBW_CLUSTER_DEFAULT;
    if (s->target && bdrv_get_info(s->target->bs, &bdi) == 0 && bdi.cluster_size > s->cluster) {
        s->cluster = bdi.cluster_size;
    }
    if (s->target) {
        int64_t tlen = bdrv_getlength(s->target->bs);
        if (tlen != s->length) {
            error_setg(errp, "Source and target image have different sizes");
            return -EINVAL;
        }
        s->bcs = block_copy_state_new(bs->file->bs, s->cluster, s->length, &cbw_copy_ops,
                                      s, errp);
        if (!s->bcs) {
            return -EINVAL;
        }
        bdrv_set_dirty_bitmap(block_copy_dirty_bitmap(s->bcs), 0, s->length);
        s->own.notify = cbw_own_notify;
        s->hook = &s->own;
    }
    s->done = cbw_new_bitmap(bs, s->cluster, false, errp);
    s->access = s->done ? cbw_new_bitmap(bs, s->cluster, true, errp) : NULL;
    if (!s->access) {
        cbw_close(bs);
        return -EINVAL;
    }
    return 0;
}

void cbw_filter_set_hook(BlockDriverState *cbw, BdrvWriteNotifier *hook)
{
    CbwState *s = cbw->opaque;

    s->hook = hook ? hook : (s->target ? &s->own : NULL);
}

static int coroutine_fn cbw_co_before_write(BlockDriverState *bs, int64_t offset,
                                            int64_t bytes, BdrvRequestFlags flags)
{
    CbwState *s = bs->opaque;

    if ((flags & BDRV_REQ_WRITE_UNCHANGED) || !s->hook || !s->hook->notify) {
        return 0;
    }
    return s->hook->notify(s->hook, bs, offset, bytes);
}

static int coroutine_fn cbw_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    int ret = cbw_co_before_write(bs, offset, bytes, flags);

    return ret < 0 ? ret : bdrv_filter_co_pwritev(bs, offset, bytes, qiov, qiov_offset, flags);
}

static int coroutine_fn cbw_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                             int64_t bytes, BdrvRequestFlags flags)
{
    int ret = cbw_co_before_write(bs, offset, bytes, flags);

    return ret < 0 ? ret : bdrv_filter_co_pwrite_zeroes(bs, offset, bytes, flags);
}

static int coroutine_fn cbw_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    int ret = cbw_co_before_write(bs, offset, bytes, 0);

    return ret < 0 ? ret : bdrv_filter_co_pdiscard(bs, offset, bytes);
}

static void cbw_child_perm(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                           uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    if (!(role & BDRV_CHILD_FILTERED)) {
        /* the target: we write it, and others may do what they like with it */
        *nperm = BLK_PERM_WRITE;
        *nshared = BLK_PERM_ALL;
        return;
    }
    bdrv_filter_child_perm(bs, c, role, perm, shared, nperm, nshared);
    *nperm |= BLK_PERM_CONSISTENT_READ;       /* the old data we copy */
}

const BlockDriver bdrv_copy_before_write = {
    .format_name = "copy-before-write",
    .instance_size = sizeof(CbwState),
    .flags = BDRV_F_FILTER,
    .open_options = cbw_open_options,
    .open = cbw_open,
    .close = cbw_close,
    .co_preadv = bdrv_filter_co_preadv,
    .co_pwritev = cbw_co_pwritev,
    .co_pwrite_zeroes = cbw_co_pwrite_zeroes,
    .co_pdiscard = cbw_co_pdiscard,
    .co_get_allocated_file_size = bdrv_filter_co_get_allocated_file_size,
    .child_perm = cbw_child_perm,
    .refresh_filename = bdrv_filter_refresh_filename,
};
