/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * raw.c: the "raw" format. Guest bytes are the file child's bytes, optionally a
 * window of them: offset= skips a prefix, size= fixes the length. Everything is
 * passed through; block status answers BDRV_BLOCK_RAW so io.c asks the child.
 * Probing scores 1: raw is the fallback when no other format recognises a file.
 */
#include "util/osdep.h"
#include "block/block.h"
#include "block/block-int.h"

/* bs->opaque; set at open, main loop only. */
typedef struct BDRVRawState {
    uint64_t offset;                /* where the guest's byte 0 lives in the child */
    uint64_t size;                  /* guest length when has_size */
    bool has_size;
} BDRVRawState;

/* Check offset/size against the child's length (QEMU's texts). */
static int raw_check_window(BlockDriverState *bs, BDRVRawState *s, Error **errp)
{
    int64_t real = bdrv_getlength(bs->file->bs);

    if (real < 0) {
        error_setg_errno(errp, -real, "Could not get image size");
        return real;
    }
    if (s->offset > (uint64_t)real) {
        error_setg(errp, "Offset (%" PRIu64 ") cannot be greater than size of the "
                   "containing file (%" PRId64 ")", s->offset, real);
        return -EINVAL;
    }
    if (s->has_size && (uint64_t)real - s->offset < s->size) {
        error_setg(errp, "The sum of offset (%" PRIu64 ") and size (%" PRIu64 ") has to be "
                   "smaller or equal to the  actual size of the containing file (%" PRId64 ")",
                   s->offset, s->size, real);
        return -EINVAL;
    }
    if (s->has_size && !QEMU_IS_ALIGNED(s->size, BDRV_SECTOR_SIZE)) {
        error_setg(errp, "Specified size is not multiple of %llu", BDRV_SECTOR_SIZE);
        return -EINVAL;
    }
    return 0;
}

static int raw_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    uint64_t none = UINT64_MAX;     /* no valid offset or size is this large */

    if (!bdrv_opt_take_size(options, "offset", none, &s->offset, errp) ||
        !bdrv_opt_take_size(options, "size", none, &s->size, errp)) {
        return -EINVAL;
    }
    bool windowed = s->offset != none || s->size != none;
    s->has_size = s->size != none;
    if (s->offset == none) {
        s->offset = 0;
    }

    /* Without a window, raw only filters its child: a guest byte is a file byte. */
    BdrvChildRole role = windowed ? BDRV_CHILD_DATA | BDRV_CHILD_PRIMARY
                                  : BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY;
    BdrvChild *file = bdrv_open_child(NULL, options, "file", bs, role, false, errp);
    if (!file) {
        return -EINVAL;
    }
    if (!bs->file) {
        bs->file = file;
    }
    int ret = windowed ? raw_check_window(bs, s, errp) : 0;
    if (ret < 0) {
        return ret;
    }
    bs->supported_write_flags = BDRV_REQ_WRITE_UNCHANGED |
                                (BDRV_REQ_FUA & file->bs->supported_write_flags);
    bs->supported_zero_flags = BDRV_REQ_WRITE_UNCHANGED |
        ((BDRV_REQ_FUA | BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK) &
         file->bs->supported_zero_flags);
    bs->supported_truncate_flags = file->bs->supported_truncate_flags;
    if (bs->probed && !bs->read_only) {
        bdrv_refresh_filename(file->bs);
        fprintf(stderr,
                "WARNING: Image format was not specified for '%s' and probing guessed raw.\n"
                "         Automatically detecting the format is dangerous for raw images, "
                "write operations on block 0 will be restricted.\n"
                "         Specify the 'raw' format explicitly to remove the restrictions.\n",
                file->bs->filename);
    }
    return 0;
}

/* A probed image keeps whole sectors, so block 0 is always checked in one piece. */
static void raw_refresh_limits(BlockDriverState *bs, Error **errp)
{
    if (bs->probed) {
        bs->bl.request_alignment = MAX(bs->bl.request_alignment, BDRV_SECTOR_SIZE);
    }
}

static int coroutine_fn raw_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    BDRVRawState *s = bs->opaque;

    BLKDBG_EVENT(bs->file, BLKDBG_READ_AIO);
    return bdrv_co_preadv_part(bs->file, s->offset + offset, bytes, qiov, qiov_offset, flags);
}

static int coroutine_fn raw_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    BDRVRawState *s = bs->opaque;

    if (bs->probed && offset < BDRV_SECTOR_SIZE && bytes) {
        /*
         * A guest of a probed image must not turn it into another format
         * (that would change how it is opened next time). Check a private
         * copy of sector 0 and write that copy, not the caller's buffer.
         */
        uint8_t *buf = bdrv_blockalign(bs->file->bs, BDRV_SECTOR_SIZE);
        QEMUIOVector local;
        int ret;

        assert(offset == 0 && bytes >= (int64_t)BDRV_SECTOR_SIZE);
        qemu_iovec_to_buf(qiov, qiov_offset, buf, BDRV_SECTOR_SIZE);
        if (bdrv_probe_format(buf, BDRV_SECTOR_SIZE, NULL) != bs->drv) {
            bdrv_blockfree(buf);
            return -EPERM;
        }
        qemu_iovec_init(&local, 2);
        qemu_iovec_add(&local, buf, BDRV_SECTOR_SIZE);
        qemu_iovec_concat(&local, qiov, qiov_offset + BDRV_SECTOR_SIZE,
                          bytes - BDRV_SECTOR_SIZE);
        BLKDBG_EVENT(bs->file, BLKDBG_WRITE_AIO);
        ret = bdrv_co_pwritev_part(bs->file, s->offset, bytes, &local, 0, flags);
        qemu_iovec_destroy(&local);
        bdrv_blockfree(buf);
        return ret;
    }
    BLKDBG_EVENT(bs->file, BLKDBG_WRITE_AIO);
    return bdrv_co_pwritev_part(bs->file, s->offset + offset, bytes, qiov, qiov_offset, flags);
}

static int coroutine_fn raw_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                             int64_t bytes, BdrvRequestFlags flags)
{
    BDRVRawState *s = bs->opaque;

    return bdrv_co_pwrite_zeroes(bs->file, s->offset + offset, bytes, flags);
}

static int coroutine_fn raw_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    BDRVRawState *s = bs->opaque;

    return bdrv_co_pdiscard(bs->file, s->offset + offset, bytes);
}

static int coroutine_fn raw_co_block_status(BlockDriverState *bs, bool want_zero,
                                            int64_t offset, int64_t bytes, int64_t *pnum,
                                            int64_t *map, BlockDriverState **file)
{
    BDRVRawState *s = bs->opaque;

    *pnum = bytes;
    *file = bs->file->bs;
    *map = s->offset + offset;
    return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID;
}

static int64_t coroutine_fn raw_co_getlength(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;

    if (s->has_size) {
        return s->size;
    }
    int64_t len = bdrv_co_getlength(bs->file->bs);
    if (len < 0) {
        return len;
    }
    return len > (int64_t)s->offset ? len - (int64_t)s->offset : 0;
}

static int64_t coroutine_fn raw_co_get_allocated_file_size(BlockDriverState *bs)
{
    return bdrv_co_get_allocated_file_size(bs->file->bs);
}

static int coroutine_fn raw_co_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                                        PreallocMode prealloc, BdrvRequestFlags flags,
                                        Error **errp)
{
    BDRVRawState *s = bs->opaque;

    if (s->has_size) {
        error_setg(errp, "Cannot resize fixed-size raw disks");
        return -ENOTSUP;
    }
    if (INT64_MAX - offset < (int64_t)s->offset) {
        error_setg(errp, "Disk size too large for the chosen offset");
        return -EINVAL;
    }
    return bdrv_co_truncate(bs->file, s->offset + offset, exact, prealloc, flags, errp);
}

static int raw_probe(const uint8_t *buf, int buf_size, const char *filename)
{
    return 1;       /* anything is a raw image; every real format scores higher */
}

static int raw_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    return 0;
}

static int coroutine_fn raw_co_create_opts(BlockDriver *drv, const char *filename,
                                           QDict *opts, Error **errp)
{
    /* A raw image is just a file of the right size: the protocol creates it. */
    return bdrv_create_file(filename, opts, errp);
}

static const CreateOption raw_create_opts[] = {
    { "size", CREATE_OPT_SIZE, "Virtual disk size" },
    { NULL }
};

static const char *const raw_open_options[] = { "offset", "size", NULL };

const BlockDriver bdrv_raw = {
    .format_name                = "raw",
    .instance_size              = sizeof(BDRVRawState),
    .flags                      = BDRV_F_FORMAT,
    .open_options               = raw_open_options,
    .probe                      = raw_probe,
    .open                       = raw_open,
    .refresh_limits             = raw_refresh_limits,
    .co_preadv                  = raw_co_preadv,
    .co_pwritev                 = raw_co_pwritev,
    .co_pwrite_zeroes           = raw_co_pwrite_zeroes,
    .co_pdiscard                = raw_co_pdiscard,
    .co_block_status            = raw_co_block_status,
    .co_getlength               = raw_co_getlength,
    .co_get_allocated_file_size = raw_co_get_allocated_file_size,
    .co_truncate                = raw_co_truncate,
    .get_info                   = raw_get_info,
    .create_opts                = raw_create_opts,
    .co_create_opts             = raw_co_create_opts,
};
