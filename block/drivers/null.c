/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * null.c: "null-co" and "null-aio", protocols with no storage. Writes vanish;
 * reads leave the buffer untouched unless read-zeroes=on (QEMU 7.2's default is
 * off, so benchmarks measure the block layer alone). null-co completes in the
 * calling coroutine; null-aio completes through a bottom half, i.e. after one
 * trip through the event loop, like a real asynchronous back end. latency-ns
 * delays every request on the realtime clock.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-int.h"
#include "qobject/qdict.h"

/* bs->opaque; set at open. */
typedef struct BDRVNullState {
    int64_t length;
    int64_t latency_ns;
    bool read_zeroes;
    bool aio;                       /* null-aio: complete via a BH */
} BDRVNullState;

static int null_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    BDRVNullState *s = bs->opaque;
    uint64_t size, latency;

    /* The filename can only be "<driver>://": the core checked it already. */
    g_free(bdrv_opt_take_str(options, "filename"));
    if (!bdrv_opt_take_size(options, "size", 1 * GiB, &size, errp) ||
        !bdrv_opt_take_uint(options, "latency-ns", 0, &latency, errp) ||
        !bdrv_opt_take_bool(options, "read-zeroes", false, &s->read_zeroes, errp)) {
        return -EINVAL;
    }
    if (latency > INT64_MAX || size > INT64_MAX) {
        error_setg(errp, latency > INT64_MAX ? "latency-ns is invalid"
                                             : "size of the null block is invalid");
        return -EINVAL;
    }
    s->length = size;
    s->latency_ns = latency;
    s->aio = !strcmp(bs->drv->format_name, "null-aio");
    bs->supported_write_flags = BDRV_REQ_FUA;
    bs->supported_zero_flags = BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK | BDRV_REQ_FUA;
    return 0;
}

static void null_check_filename(const char *filename, QDict *options, const char *prefix,
                                Error **errp)
{
    if (filename && *filename && strcmp(filename, prefix)) {
        error_setg(errp, "The only allowed filename for this driver is '%s'", prefix);
        return;
    }
    qdict_del(options, "filename");
}

static void null_co_parse_filename(const char *filename, QDict *options, Error **errp)
{
    null_check_filename(filename, options, "null-co://", errp);
}

static void null_aio_parse_filename(const char *filename, QDict *options, Error **errp)
{
    null_check_filename(filename, options, "null-aio://", errp);
}

static void null_bh_wake(void *opaque)
{
    aio_co_wake(opaque);
}

/* Every request ends here: the latency, then (null-aio) one event-loop round. */
static int coroutine_fn null_co_complete(BlockDriverState *bs)
{
    BDRVNullState *s = bs->opaque;

    if (s->latency_ns) {
        qemu_co_sleep_ns(QEMU_CLOCK_REALTIME, s->latency_ns);
    }
    if (s->aio) {
        aio_bh_schedule_oneshot(qemu_get_current_aio_context(), null_bh_wake,
                                qemu_coroutine_self());
        qemu_coroutine_yield();
    }
    return 0;
}

static int coroutine_fn null_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    BDRVNullState *s = bs->opaque;

    if (s->read_zeroes) {
        qemu_iovec_memset(qiov, qiov_offset, 0, bytes);
    }
    return null_co_complete(bs);
}

static int coroutine_fn null_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset,
                                        BdrvRequestFlags flags)
{
    return null_co_complete(bs);
}

static int coroutine_fn null_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                              int64_t bytes, BdrvRequestFlags flags)
{
    return null_co_complete(bs);
}

static int coroutine_fn null_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    return null_co_complete(bs);
}

static int coroutine_fn null_co_flush(BlockDriverState *bs)
{
    return null_co_complete(bs);
}

static int64_t coroutine_fn null_co_getlength(BlockDriverState *bs)
{
    BDRVNullState *s = bs->opaque;

    return s->length;
}

static int64_t coroutine_fn null_co_get_allocated_file_size(BlockDriverState *bs)
{
    return 0;
}

/* Nothing is stored: unallocated, and zero when reads return zeroes. */
static int coroutine_fn null_co_block_status(BlockDriverState *bs, bool want_zero,
                                             int64_t offset, int64_t bytes, int64_t *pnum,
                                             int64_t *map, BlockDriverState **file)
{
    BDRVNullState *s = bs->opaque;

    *pnum = bytes;
    *map = offset;
    *file = bs;
    return BDRV_BLOCK_OFFSET_VALID | (s->read_zeroes ? BDRV_BLOCK_ZERO : 0);
}

/* With default options the node is fully described by "<driver>://". */
static void null_refresh_filename(BlockDriverState *bs)
{
    BDRVNullState *s = bs->opaque;

    if (s->length == 1 * GiB && !s->latency_ns && !s->read_zeroes) {
        snprintf(bs->exact_filename, sizeof(bs->exact_filename), "%s://",
                 bs->drv->format_name);
    }
}

static const char *const null_open_options[] = {
    "filename", "size", "latency-ns", "read-zeroes", NULL
};

/* null-co and null-aio differ only in their names: the rest is one driver. */
#define NULL_DRIVER_COMMON                                          \
    .instance_size              = sizeof(BDRVNullState),            \
    .flags                      = BDRV_F_PROTOCOL,                  \
    .open_options               = null_open_options,                \
    .open                       = null_open,                        \
    .co_preadv                  = null_co_preadv,                   \
    .co_pwritev                 = null_co_pwritev,                  \
    .co_pwrite_zeroes           = null_co_pwrite_zeroes,            \
    .co_pdiscard                = null_co_pdiscard,                 \
    .co_flush_to_disk           = null_co_flush,                    \
    .co_getlength               = null_co_getlength,                \
    .co_get_allocated_file_size = null_co_get_allocated_file_size,  \
    .co_block_status            = null_co_block_status,             \
    .refresh_filename           = null_refresh_filename

const BlockDriver bdrv_null_co = {
    .format_name                = "null-co",
    .protocol_name              = "null-co",
    .parse_filename             = null_co_parse_filename,
    NULL_DRIVER_COMMON,
};

const BlockDriver bdrv_null_aio = {
    .format_name                = "null-aio",
    .protocol_name              = "null-aio",
    .parse_filename             = null_aio_parse_filename,
    NULL_DRIVER_COMMON,
};
