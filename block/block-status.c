/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-status.c: what a range of a node looks like (data, zero, allocated where)
 * for one node and through a backing chain. qemu-img map, convert and compare,
 * the stream and mirror jobs and copy-on-read are built on it.
 */
#include "util/osdep.h"
#include "block/block-core.h"

/* Status of one node; *pnum is 0 only at or past the end. */
static int coroutine_fn node_block_status(BlockDriverState *bs, bool want_zero, int64_t offset,
                                          int64_t bytes, int64_t *pnum, int64_t *map,
                                          BlockDriverState **file)
{
    BlockDriverState *local_file = NULL;
    int64_t total, local_map = 0, align, aligned_off, aligned_bytes;
    int ret;

    *pnum = 0;
    if (map) {
        *map = 0;
    }
    if (file) {
        *file = NULL;
    }
    if (!bs->drv) {
        return -ENOMEDIUM;
    }
    total = bdrv_co_getlength(bs);
    if (total < 0) {
        return total;
    }
    if (offset < 0 || bytes < 0) {
        return -EINVAL;
    }
    if (offset >= total) {
        return BDRV_BLOCK_EOF;
    }
    bytes = MIN(bytes, total - offset);
    if (bytes == 0) {
        return 0;
    }

    if (!bs->drv->co_block_status) {
        BlockDriverState *f = bdrv_filter_or_cow_bs(bs);
        *pnum = bytes;
        if ((bs->drv->flags & BDRV_F_FILTER) && f) {
            ret = BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID;
            local_file = f;
        } else {
            ret = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
            local_file = bs;
        }
        local_map = offset;
        goto have_status;
    }

    /* the driver sees aligned ranges only; the answer is trimmed back to ours */
    align = bs->bl.request_alignment;
    aligned_off = QEMU_ALIGN_DOWN(offset, align);
    aligned_bytes = QEMU_ALIGN_UP(offset + bytes, align) - aligned_off;
    ret = bs->drv->co_block_status(bs, want_zero, aligned_off, aligned_bytes, pnum,
                                   &local_map, &local_file);
    if (ret < 0) {
        *pnum = 0;
        return ret;
    }
    assert(*pnum > 0 && *pnum <= aligned_bytes);
    *pnum -= offset - aligned_off;
    if (*pnum <= 0) {
        /* the extent ended inside the padding: report one aligned block */
        *pnum = MIN(bytes, align - (offset - aligned_off));
    }
    *pnum = MIN(*pnum, bytes);
    if (ret & BDRV_BLOCK_OFFSET_VALID) {
        local_map += offset - aligned_off;
    }

have_status:
    if (ret & BDRV_BLOCK_RAW) {
        assert((ret & BDRV_BLOCK_OFFSET_VALID) && local_file);
        return node_block_status(local_file, want_zero, local_map, *pnum, pnum, map, file);
    }
    if (ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) {
        ret |= BDRV_BLOCK_ALLOCATED;
    } else if (bs->drv->flags & BDRV_F_SUPPORTS_BACKING) {
        /* unallocated: reads come from the backing file, or are zero without one */
        BlockDriverState *cow = bdrv_backing_bs(bs);
        if (!cow) {
            ret |= BDRV_BLOCK_ZERO;
        } else if (want_zero) {
            int64_t cow_len = bdrv_co_getlength(cow);
            if (cow_len >= 0 && offset >= cow_len) {
                ret |= BDRV_BLOCK_ZERO;
            }
        }
    }
    if (want_zero && (ret & BDRV_BLOCK_RECURSE) && local_file && local_file != bs
        && (ret & BDRV_BLOCK_DATA) && !(ret & BDRV_BLOCK_ZERO)
        && (ret & BDRV_BLOCK_OFFSET_VALID)) {
        int64_t file_pnum;
        int ret2 = node_block_status(local_file, want_zero, local_map, *pnum, &file_pnum,
                                     NULL, NULL);
        if (ret2 >= 0) {
            if ((ret2 & BDRV_BLOCK_EOF) && (!file_pnum || (ret2 & BDRV_BLOCK_ZERO))) {
                /* zero up to the end of the file, and past it reads as zeroes too */
                ret |= BDRV_BLOCK_ZERO;
            } else {
                *pnum = file_pnum;
                ret |= ret2 & BDRV_BLOCK_ZERO;
            }
        }
    }
    ret &= ~(BDRV_BLOCK_RECURSE | BDRV_BLOCK_EOF);
    if (offset + *pnum == total) {
        ret |= BDRV_BLOCK_EOF;
    }
    if (map) {
        *map = local_map;
    }
    if (file) {
        *file = local_file;
    }
    return ret;
}

/*
 * Walk down from bs until a layer provides the range (or base is reached);
 * each layer only examines the part the layers above left unallocated.
 */
static int coroutine_fn chain_block_status(BlockDriverState *bs, BlockDriverState *base,
                                           bool include_base, bool want_zero, int64_t offset,
                                           int64_t bytes, int64_t *pnum, int64_t *map,
                                           BlockDriverState **file, int *depth)
{
    int64_t eof = -1;
    int d = 1;
    int ret;

    ret = node_block_status(bs, want_zero, offset, bytes, pnum, map, file);
    if (ret < 0 || *pnum == 0 || (ret & BDRV_BLOCK_ALLOCATED) || (bs == base && include_base)) {
        goto out;
    }
    if (ret & BDRV_BLOCK_EOF) {
        eof = offset + *pnum;
    }
    for (BlockDriverState *p = bdrv_filter_or_cow_bs(bs); p; p = bdrv_filter_or_cow_bs(p)) {
        if (p == base && !include_base) {
            break;
        }
        bytes = *pnum;
        d++;
        ret = node_block_status(p, want_zero, offset, bytes, pnum, map, file);
        if (ret < 0) {
            goto out;
        }
        if (*pnum == 0) {
            /* this layer is shorter: its synthesized zeroes count as its own */
            *pnum = bytes;
            if (file) {
                *file = p;
            }
            ret = BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED;
            break;
        }
        if (ret & BDRV_BLOCK_ALLOCATED) {
            ret &= ~BDRV_BLOCK_EOF;     /* the EOF of a lower layer is not ours */
            break;
        }
        if (p == base) {
            break;
        }
    }
    if (offset + *pnum == eof) {
        ret |= BDRV_BLOCK_EOF;
    }
out:
    if (depth) {
        *depth = d;
    }
    return ret;
}

int coroutine_fn bdrv_co_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    return node_block_status(bs, true, offset, bytes, pnum, map, file);
}

int coroutine_fn bdrv_co_block_status_above(BlockDriverState *bs, BlockDriverState *base,
                                            bool want_zero, int64_t offset, int64_t bytes,
                                            int64_t *pnum, int64_t *map,
                                            BlockDriverState **file, int *depth)
{
    if (bs == base) {
        *pnum = bytes;
        if (depth) {
            *depth = 0;
        }
        return 0;
    }
    return chain_block_status(bs, base, false, want_zero, offset, bytes, pnum, map, file,
                              depth);
}

int coroutine_fn bdrv_co_is_allocated(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      int64_t *pnum)
{
    int64_t dummy;
    int ret = node_block_status(bs, false, offset, bytes, pnum ? pnum : &dummy, NULL, NULL);

    return ret < 0 ? ret : !!(ret & BDRV_BLOCK_ALLOCATED);
}

int coroutine_fn bdrv_co_is_allocated_above(BlockDriverState *top, BlockDriverState *base,
                                            bool include_base, int64_t offset, int64_t bytes,
                                            int64_t *pnum)
{
    int64_t dummy;
    int depth;
    int ret = chain_block_status(top, base, include_base, false, offset, bytes,
                                 pnum ? pnum : &dummy, NULL, NULL, &depth);

    if (ret < 0) {
        return ret;
    }
    return !!(ret & BDRV_BLOCK_ALLOCATED);
}
