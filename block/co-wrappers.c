/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * co-wrappers.c: the blocking forms of coroutine_fn block functions, for callers
 * outside coroutines (tools, tests, QMP handlers). Each fills a CoCall, which
 * co_call_run() executes in a new coroutine while polling the main AioContext until
 * it is done. Called from inside a coroutine, the work simply runs inline.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-core.h"
#include "block/block-backend.h"

typedef enum CoOp {
    OP_PREAD, OP_PWRITE, OP_PWRITE_ZEROES, OP_FLUSH, OP_TRUNCATE, OP_GETLENGTH,
    OP_ALLOC_SIZE, OP_BLOCK_STATUS, OP_BLOCK_STATUS_ABOVE, OP_IS_ALLOCATED,
    OP_IS_ALLOCATED_ABOVE, OP_CHECK,
    OP_BLK_PREADV, OP_BLK_PWRITEV, OP_BLK_PWRITE_ZEROES, OP_BLK_PDISCARD, OP_BLK_FLUSH,
    OP_BLK_TRUNCATE, OP_BLK_GETLENGTH,
} CoOp;

typedef struct CoCall {
    CoOp op;
    BdrvChild *child;
    BlockDriverState *bs, *base;
    BlockBackend *blk;
    int64_t offset, bytes;
    void *buf;
    QEMUIOVector *qiov;
    BdrvRequestFlags flags;
    bool exact, include_base;
    PreallocMode prealloc;
    Error **errp;
    int64_t *pnum, *map;
    BlockDriverState **file;
    int *depth;
    BdrvCheckResult *res;
    BdrvCheckMode fix;
    int64_t ret;
    bool done;
} CoCall;

static void coroutine_fn co_call_entry(void *opaque)
{
    CoCall *c = opaque;

    switch (c->op) {
    case OP_PREAD:
        c->ret = bdrv_co_pread(c->child, c->offset, c->bytes, c->buf, c->flags);
        break;
    case OP_PWRITE:
        c->ret = bdrv_co_pwrite(c->child, c->offset, c->bytes, c->buf, c->flags);
        break;
    case OP_PWRITE_ZEROES:
        c->ret = bdrv_co_pwrite_zeroes(c->child, c->offset, c->bytes, c->flags);
        break;
    case OP_FLUSH:
        c->ret = bdrv_co_flush(c->bs);
        break;
    case OP_TRUNCATE:
        c->ret = bdrv_co_truncate(c->child, c->offset, c->exact, c->prealloc, c->flags, c->errp);
        break;
    case OP_GETLENGTH:
        c->ret = bdrv_co_getlength(c->bs);
        break;
    case OP_ALLOC_SIZE:
        c->ret = bdrv_co_get_allocated_file_size(c->bs);
        break;
    case OP_BLOCK_STATUS:
        c->ret = bdrv_co_block_status(c->bs, c->offset, c->bytes, c->pnum, c->map, c->file);
        break;
    case OP_BLOCK_STATUS_ABOVE:
        c->ret = bdrv_co_block_status_above(c->bs, c->base, true, c->offset, c->bytes,
                                            c->pnum, c->map, c->file, c->depth);
        break;
    case OP_IS_ALLOCATED:
        c->ret = bdrv_co_is_allocated(c->bs, c->offset, c->bytes, c->pnum);
        break;
    case OP_IS_ALLOCATED_ABOVE:
        c->ret = bdrv_co_is_allocated_above(c->bs, c->base, c->include_base, c->offset,
                                            c->bytes, c->pnum);
        break;
    case OP_CHECK:
        c->ret = bdrv_co_check(c->bs, c->res, c->fix);
        break;
    case OP_BLK_PREADV:
        c->ret = blk_co_preadv(c->blk, c->offset, c->bytes, c->qiov, c->flags);
        break;
    case OP_BLK_PWRITEV:
        c->ret = blk_co_pwritev(c->blk, c->offset, c->bytes, c->qiov, c->flags);
        break;
    case OP_BLK_PWRITE_ZEROES:
        c->ret = blk_co_pwrite_zeroes(c->blk, c->offset, c->bytes, c->flags);
        break;
    case OP_BLK_PDISCARD:
        c->ret = blk_co_pdiscard(c->blk, c->offset, c->bytes);
        break;
    case OP_BLK_FLUSH:
        c->ret = blk_co_flush(c->blk);
        break;
    case OP_BLK_TRUNCATE:
        c->ret = blk_co_truncate(c->blk, c->offset, c->exact, c->prealloc, c->flags, c->errp);
        break;
    case OP_BLK_GETLENGTH:
        c->ret = blk_co_getlength(c->blk);
        break;
    }
    c->done = true;
    aio_kick(qemu_get_aio_context());
}

static int64_t co_call_run(CoCall *c)
{
    if (qemu_in_coroutine()) {
        co_call_entry(c);
    } else {
        qemu_coroutine_enter(qemu_coroutine_create(co_call_entry, c));
        AIO_WAIT_WHILE(qemu_get_aio_context(), !c->done);
    }
    return c->ret;
}

int bdrv_pread(BdrvChild *child, int64_t offset, int64_t bytes, void *buf, BdrvRequestFlags flags)
{
    CoCall c = { .op = OP_PREAD, .child = child, .offset = offset, .bytes = bytes,
                 .buf = buf, .flags = flags };
    return co_call_run(&c);
}

int bdrv_pwrite(BdrvChild *child, int64_t offset, int64_t bytes, const void *buf,
                BdrvRequestFlags flags)
{
    CoCall c = { .op = OP_PWRITE, .child = child, .offset = offset, .bytes = bytes,
                 .buf = (void *)buf, .flags = flags };
    return co_call_run(&c);
}

int bdrv_pwrite_zeroes(BdrvChild *child, int64_t offset, int64_t bytes, BdrvRequestFlags flags)
{
    CoCall c = { .op = OP_PWRITE_ZEROES, .child = child, .offset = offset, .bytes = bytes,
                 .flags = flags };
    return co_call_run(&c);
}

int bdrv_flush(BlockDriverState *bs)
{
    CoCall c = { .op = OP_FLUSH, .bs = bs };
    return co_call_run(&c);
}

int bdrv_truncate(BdrvChild *child, int64_t offset, bool exact, PreallocMode prealloc,
                  BdrvRequestFlags flags, Error **errp)
{
    CoCall c = { .op = OP_TRUNCATE, .child = child, .offset = offset, .exact = exact,
                 .prealloc = prealloc, .flags = flags, .errp = errp };
    return co_call_run(&c);
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    CoCall c = { .op = OP_GETLENGTH, .bs = bs };
    return co_call_run(&c);
}

int64_t bdrv_get_allocated_file_size(BlockDriverState *bs)
{
    CoCall c = { .op = OP_ALLOC_SIZE, .bs = bs };
    return co_call_run(&c);
}

int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                      int64_t *map, BlockDriverState **file)
{
    CoCall c = { .op = OP_BLOCK_STATUS, .bs = bs, .offset = offset, .bytes = bytes,
                 .pnum = pnum, .map = map, .file = file };
    return co_call_run(&c);
}

int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base, int64_t offset,
                            int64_t bytes, int64_t *pnum, int64_t *map,
                            BlockDriverState **file, int *depth)
{
    CoCall c = { .op = OP_BLOCK_STATUS_ABOVE, .bs = bs, .base = base, .offset = offset,
                 .bytes = bytes, .pnum = pnum, .map = map, .file = file, .depth = depth };
    return co_call_run(&c);
}

int bdrv_is_allocated(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum)
{
    CoCall c = { .op = OP_IS_ALLOCATED, .bs = bs, .offset = offset, .bytes = bytes,
                 .pnum = pnum };
    return co_call_run(&c);
}

int bdrv_is_allocated_above(BlockDriverState *top, BlockDriverState *base, bool include_base,
                            int64_t offset, int64_t bytes, int64_t *pnum)
{
    CoCall c = { .op = OP_IS_ALLOCATED_ABOVE, .bs = top, .base = base,
                 .include_base = include_base, .offset = offset, .bytes = bytes, .pnum = pnum };
    return co_call_run(&c);
}

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    CoCall c = { .op = OP_CHECK, .bs = bs, .res = res, .fix = fix };
    return co_call_run(&c);
}

/* ---- BlockBackend ---- */

int blk_preadv(BlockBackend *blk, int64_t offset, int64_t bytes, QEMUIOVector *qiov,
               BdrvRequestFlags flags)
{
    CoCall c = { .op = OP_BLK_PREADV, .blk = blk, .offset = offset, .bytes = bytes,
                 .qiov = qiov, .flags = flags };
    return co_call_run(&c);
}

int blk_pwritev(BlockBackend *blk, int64_t offset, int64_t bytes, QEMUIOVector *qiov,
                BdrvRequestFlags flags)
{
    CoCall c = { .op = OP_BLK_PWRITEV, .blk = blk, .offset = offset, .bytes = bytes,
                 .qiov = qiov, .flags = flags };
    return co_call_run(&c);
}

int blk_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf,
              BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, bytes);
    return blk_preadv(blk, offset, bytes, &qiov, flags);
}

int blk_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes, const void *buf,
               BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, (void *)buf, bytes);
    return blk_pwritev(blk, offset, bytes, &qiov, flags);
}

int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, BdrvRequestFlags flags)
{
    CoCall c = { .op = OP_BLK_PWRITE_ZEROES, .blk = blk, .offset = offset, .bytes = bytes,
                 .flags = flags };
    return co_call_run(&c);
}

int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    CoCall c = { .op = OP_BLK_PDISCARD, .blk = blk, .offset = offset, .bytes = bytes };
    return co_call_run(&c);
}

int blk_flush(BlockBackend *blk)
{
    CoCall c = { .op = OP_BLK_FLUSH, .blk = blk };
    return co_call_run(&c);
}

int blk_truncate(BlockBackend *blk, int64_t offset, bool exact, PreallocMode prealloc,
                 BdrvRequestFlags flags, Error **errp)
{
    CoCall c = { .op = OP_BLK_TRUNCATE, .blk = blk, .offset = offset, .exact = exact,
                 .prealloc = prealloc, .flags = flags, .errp = errp };
    return co_call_run(&c);
}

int64_t blk_getlength(BlockBackend *blk)
{
    CoCall c = { .op = OP_BLK_GETLENGTH, .blk = blk };
    return co_call_run(&c);
}
