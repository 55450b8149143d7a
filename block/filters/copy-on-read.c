/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * copy-on-read.c: the copy-on-read filter. Reads through it are copy-on-read
 * reads of its child: what the child's backing chain provides is written into
 * the child on the way (the request layer's copy-on-read does the work). With
 * "bottom", only data from the chain down to and including bottom is copied up;
 * block-stream puts one above the node it streams into, bounded by the lowest
 * node it streams. Writes and everything else pass through.
 *
 * Opened by blockdev-add ({"driver": "copy-on-read", "file": ...}) or inserted by
 * bdrv_filter_insert().
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/filter.h"

typedef struct CorState {
    BlockDriverState *bottom;         /* NULL: copy whatever the chain provides */
} CorState;

static const char *const cor_open_options[] = { "bottom", NULL };

static int cor_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    CorState *s = bs->opaque;
    g_autofree char *bottom = bdrv_opt_take_str(options, "bottom");

    if (!bdrv_open_child(NULL, options, "file", bs, BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY,
                         false, errp)) {
        return -EINVAL;
    }
    if (bottom) {
        s->bottom = bdrv_lookup_bs(NULL, bottom, errp);
        if (!s->bottom) {
            return -EINVAL;
        }
        if (!bdrv_chain_contains(bs->file->bs, s->bottom)) {
            error_setg(errp, "Bottom node '%s' is not in the backing chain of '%s'",
                       bottom, bdrv_get_node_name(bs->file->bs));
            return -EINVAL;
        }
    }
    return 0;
}

void cor_filter_set_bottom(BlockDriverState *cor, BlockDriverState *bottom)
{
    ((CorState *)cor->opaque)->bottom = bottom;
}

static int coroutine_fn cor_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    CorState *s = bs->opaque;
    BlockDriverState *top = bs->file->bs;

    if (bs->read_only) {
        return bdrv_co_preadv_part(bs->file, offset, bytes, qiov, qiov_offset, flags);
    }
    if (!s->bottom) {
        return bdrv_co_preadv_part(bs->file, offset, bytes, qiov, qiov_offset,
                                   flags | BDRV_REQ_COPY_ON_READ);
    }
    /* extent by extent: copy up only what lies between top and bottom */
    while (bytes > 0) {
        int64_t n;
        int ret = bdrv_co_is_allocated_above(top, s->bottom, true, offset, bytes, &n);
        BdrvRequestFlags f = flags;

        if (ret < 0 || n <= 0) {
            n = bytes;                /* the read reports a real error, if any */
        } else if (ret) {
            f |= BDRV_REQ_COPY_ON_READ;
        }
        ret = bdrv_co_preadv_part(bs->file, offset, n, qiov, qiov_offset, f);
        if (ret < 0) {
            return ret;
        }
        offset += n;
        qiov_offset += n;
        bytes -= n;
    }
    return 0;
}

static void cor_child_perm(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                           uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    bdrv_filter_child_perm(bs, c, role, perm, shared, nperm, nshared);
    *nperm |= BLK_PERM_CONSISTENT_READ;
    if (!bs->read_only) {
        *nperm |= BLK_PERM_WRITE_UNCHANGED;   /* the copies */
    }
}

/* A job's unnamed filter is named after its child; a named one gets json:{} */
static void cor_refresh_filename(BlockDriverState *bs)
{
    if (bs->implicit) {
        bdrv_filter_refresh_filename(bs);
    } else {
        bs->exact_filename[0] = '\0';
    }
}

const BlockDriver bdrv_copy_on_read = {
    .format_name = "copy-on-read",
    .instance_size = sizeof(CorState),
    .flags = BDRV_F_FILTER,
    .open_options = cor_open_options,
    .open = cor_open,
    .co_preadv = cor_co_preadv,
    .co_pwritev = bdrv_filter_co_pwritev,
    .co_pwrite_zeroes = bdrv_filter_co_pwrite_zeroes,
    .co_pdiscard = bdrv_filter_co_pdiscard,
    .co_truncate = bdrv_filter_co_truncate,
    .co_get_allocated_file_size = bdrv_filter_co_get_allocated_file_size,
    .child_perm = cor_child_perm,
    .refresh_filename = cor_refresh_filename,
};
