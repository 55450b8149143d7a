/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * filter.c: putting a filter node above a node and taking it out again, and the
 * passthrough callbacks every filter driver shares (see include/block/filter.h).
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/filter.h"
#include "../block-core.h"

BdrvChild *bdrv_filter_child(BlockDriverState *bs)
{
    return bs->file ? bs->file : bs->backing;
}

/* The node itself, before it has a child: named, flagged like bs, no parents yet. */
static BlockDriverState *filter_new(const BlockDriver *drv, BlockDriverState *bs,
                                    const char *node_name, Error **errp)
{
    BlockDriverState *f = bdrv_new();

    if (!bdrv_assign_node_name(f, node_name, errp)) {
        bdrv_unref(f);
        return NULL;
    }
    f->implicit = !node_name;
    f->open_flags = bs->open_flags & ~(BDRV_O_PROTOCOL | BDRV_O_NO_BACKING | BDRV_O_SNAPSHOT);
    f->read_only = bs->read_only;
    f->options = qdict_new();
    qdict_put_str(f->options, "driver", drv->format_name);
    if (!(drv->flags & BDRV_F_SUPPORTS_BACKING)) {
        /* json:{} names of copy-on-read show the child it was opened on */
        qdict_put_str(f->options, "file", bdrv_get_node_name(bs));
    }
    f->explicit_options = qdict_clone_shallow(f->options);
    f->drv = drv;
    f->opaque = g_malloc0(MAX(drv->instance_size, 1));
    return f;
}

BlockDriverState *bdrv_filter_insert(const BlockDriver *drv, BlockDriverState *bs,
                                     const char *node_name, Error **errp)
{
    BlockDriverState *f = filter_new(drv, bs, node_name, errp);
    int ret;

    if (!f) {
        return NULL;
    }
    if (drv->open) {
        /* drivers that blockdev-add can open take their child the same way */
        QDict *opts = qdict_new();

        qdict_put_str(opts, "file", bdrv_get_node_name(bs));
        ret = drv->open(f, opts, f->open_flags, errp);
        qobject_unref(opts);
        if (ret < 0) {
            /* a failed open() cleaned up after itself: no close() */
            while (f->children) {
                bdrv_unref_child(f, f->children->data);
            }
            f->drv = NULL;
            bdrv_unref(f);
            return NULL;
        }
    } else {
        f->backing = bdrv_attach_child(f, bs, "backing",
                                       BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY, errp);
        if (!f->backing) {
            goto fail;
        }
    }
    bdrv_refresh_limits(f, NULL);
    if (bdrv_replace_node(bs, f, errp) < 0) {
        goto fail;
    }
    bdrv_refresh_filename(f);
    return f;

fail:
    bdrv_unref(f);                    /* closes it and lets go of the child */
    return NULL;
}

void bdrv_filter_drop(BlockDriverState **filter)
{
    BlockDriverState *f = *filter;
    BdrvChild *c;

    if (!f) {
        return;
    }
    *filter = NULL;
    c = bdrv_filter_child(f);
    if (c && f->parents) {
        /* the parents only ever needed what the child gave through us */
        bdrv_replace_node(f, c->bs, NULL);
    }
    bdrv_unref(f);
}

/* ---- passthrough ---- */

int coroutine_fn bdrv_filter_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    return bdrv_co_preadv_part(bdrv_filter_child(bs), offset, bytes, qiov, qiov_offset,
                               flags);
}

int coroutine_fn bdrv_filter_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset,
                                        BdrvRequestFlags flags)
{
    return bdrv_co_pwritev_part(bdrv_filter_child(bs), offset, bytes, qiov, qiov_offset,
                                flags);
}

int coroutine_fn bdrv_filter_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                              int64_t bytes, BdrvRequestFlags flags)
{
    return bdrv_co_pwrite_zeroes(bdrv_filter_child(bs), offset, bytes, flags);
}

int coroutine_fn bdrv_filter_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    return bdrv_co_pdiscard(bdrv_filter_child(bs), offset, bytes);
}

int coroutine_fn bdrv_filter_co_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                                         PreallocMode prealloc, BdrvRequestFlags flags,
                                         Error **errp)
{
    return bdrv_co_truncate(bdrv_filter_child(bs), offset, exact, prealloc, flags, errp);
}

int64_t coroutine_fn bdrv_filter_co_get_allocated_file_size(BlockDriverState *bs)
{
    return bdrv_co_get_allocated_file_size(bdrv_filter_child(bs)->bs);
}

void bdrv_filter_child_perm(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                            uint64_t perm, uint64_t shared, uint64_t *nperm,
                            uint64_t *nshared)
{
    bdrv_default_perms(bs, c, BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY, perm, shared,
                       nperm, nshared);
}

void bdrv_filter_refresh_filename(BlockDriverState *bs)
{
    BdrvChild *c = bdrv_filter_child(bs);

    if (c) {
        BlockDriverState *child = c->bs;
        g_strlcpy(bs->exact_filename,
                  child->exact_filename[0] ? child->exact_filename : child->filename,
                  sizeof(bs->exact_filename));
    }
}
