/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-fake.h: an in-memory driver for the block-layer unit tests. It records
 * every request it receives (so tests can check alignment, splitting and flushes),
 * can hold requests (to test drain and serialisation) and can act as a format with
 * a backing child whose allocation is tracked per 512-byte sector.
 */
#ifndef TEST_BLOCK_FAKE_H
#define TEST_BLOCK_FAKE_H

#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-core.h"
#include "block/block-backend.h"

typedef struct FakeReq {
    char op;                    /* 'r', 'w', 'z', 'd', 'f' */
    int64_t offset, bytes;
    int flags;
} FakeReq;

typedef struct FakeState {
    uint8_t *data;
    uint8_t *alloc;             /* one byte per 512-byte sector: allocated in this layer */
    int64_t size;
    uint32_t align;
    int64_t max_transfer;
    bool has_zeroes;            /* implements co_pwrite_zeroes */
    bool native_fua;
    GArray *log;                /* FakeReq */
    bool hold;                  /* park requests until released */
    GQueue held;                /* Coroutine * */
    int active, max_active;     /* concurrency observed */
} FakeState;

static G_GNUC_UNUSED void fake_log(BlockDriverState *bs, char op, int64_t off, int64_t bytes, int flags)
{
    FakeState *s = bs->opaque;
    FakeReq r = { op, off, bytes, flags };

    g_array_append_val(s->log, r);
}

static G_GNUC_UNUSED void coroutine_fn fake_maybe_hold(FakeState *s)
{
    s->active++;
    s->max_active = MAX(s->max_active, s->active);
    if (s->hold) {
        g_queue_push_tail(&s->held, qemu_coroutine_self());
        qemu_coroutine_yield();
    }
}

static G_GNUC_UNUSED void fake_release(BlockDriverState *bs)
{
    FakeState *s = bs->opaque;
    Coroutine *co;

    s->hold = false;
    while ((co = g_queue_pop_head(&s->held))) {
        aio_co_wake(co);
    }
}

static G_GNUC_UNUSED void fake_mark(FakeState *s, int64_t off, int64_t bytes)
{
    for (int64_t sec = off / 512; sec < DIV_ROUND_UP(off + bytes, 512); sec++) {
        s->alloc[sec] = 1;
    }
}

static G_GNUC_UNUSED int coroutine_fn fake_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset, BdrvRequestFlags f)
{
    FakeState *s = bs->opaque;

    g_assert(offset % s->align == 0 && bytes % s->align == 0);
    fake_log(bs, 'r', offset, bytes, f);
    fake_maybe_hold(s);
    s->active--;
    /* per sector: our data if allocated here, else the backing file's */
    for (int64_t pos = offset; pos < offset + bytes; pos += 512) {
        int64_t n = MIN(512, offset + bytes - pos);
        if (!bs->backing || (pos < s->size && s->alloc[pos / 512])) {
            uint8_t tmp[512] = { 0 };
            if (pos < s->size) {
                memcpy(tmp, s->data + pos, MIN(n, s->size - pos));
            }
            qemu_iovec_from_buf(qiov, qiov_offset + pos - offset, tmp, n);
        } else {
            uint8_t tmp[512];
            int ret = bdrv_co_pread(bs->backing, pos, n, tmp, 0);
            if (ret < 0) {
                return ret;
            }
            qemu_iovec_from_buf(qiov, qiov_offset + pos - offset, tmp, n);
        }
    }
    return 0;
}

static G_GNUC_UNUSED int coroutine_fn fake_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset, BdrvRequestFlags f)
{
    FakeState *s = bs->opaque;

    g_assert(offset % s->align == 0 && bytes % s->align == 0);
    g_assert(offset + bytes <= s->size);
    fake_log(bs, 'w', offset, bytes, f);
    fake_maybe_hold(s);
    s->active--;
    qemu_iovec_to_buf(qiov, qiov_offset, s->data + offset, bytes);
    fake_mark(s, offset, bytes);
    return 0;
}

static G_GNUC_UNUSED int coroutine_fn fake_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                              int64_t bytes, BdrvRequestFlags f)
{
    FakeState *s = bs->opaque;

    if (!s->has_zeroes) {
        return -ENOTSUP;
    }
    fake_log(bs, 'z', offset, bytes, f);
    memset(s->data + offset, 0, bytes);
    fake_mark(s, offset, bytes);
    return 0;
}

static G_GNUC_UNUSED int coroutine_fn fake_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    fake_log(bs, 'd', offset, bytes, 0);
    return 0;
}

static G_GNUC_UNUSED int coroutine_fn fake_co_flush(BlockDriverState *bs)
{
    FakeState *s = bs->opaque;

    fake_log(bs, 'f', 0, 0, 0);
    fake_maybe_hold(s);
    s->active--;
    return 0;
}

static G_GNUC_UNUSED int64_t coroutine_fn fake_co_getlength(BlockDriverState *bs)
{
    return ((FakeState *)bs->opaque)->size;
}

static G_GNUC_UNUSED int coroutine_fn fake_co_block_status(BlockDriverState *bs, bool want_zero,
                                             int64_t offset, int64_t bytes, int64_t *pnum,
                                             int64_t *map, BlockDriverState **file)
{
    FakeState *s = bs->opaque;
    int64_t sec = offset / 512;
    uint8_t a = s->alloc[sec];
    int64_t n = 0;

    while (offset + n < offset + bytes && s->alloc[(offset + n) / 512] == a) {
        n += 512 - (offset + n) % 512;
    }
    *pnum = MIN(n, bytes);
    *map = offset;
    *file = bs;
    return a ? BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID : 0;
}

static G_GNUC_UNUSED void fake_refresh_limits(BlockDriverState *bs, Error **errp)
{
    FakeState *s = bs->opaque;

    bs->bl.request_alignment = s->align;
    bs->bl.max_transfer = s->max_transfer;
}

static G_GNUC_UNUSED void fake_close(BlockDriverState *bs)
{
    FakeState *s = bs->opaque;

    g_free(s->data);
    g_free(s->alloc);
    g_array_free(s->log, true);
}

static const BlockDriver fake_drv = {
    .format_name = "fake",
    .flags = BDRV_F_SUPPORTS_BACKING,
    .instance_size = sizeof(FakeState),
    .co_preadv = fake_co_preadv,
    .co_pwritev = fake_co_pwritev,
    .co_pwrite_zeroes = fake_co_pwrite_zeroes,
    .co_pdiscard = fake_co_pdiscard,
    .co_flush_to_disk = fake_co_flush,
    .co_getlength = fake_co_getlength,
    .co_block_status = fake_co_block_status,
    .refresh_limits = fake_refresh_limits,
    .close = fake_close,
};

/* A writable fake node named name (NULL: automatic) of size bytes. */
static BlockDriverState *fake_node(const char *name, int64_t size, uint32_t align,
                                   int64_t max_transfer)
{
    BlockDriverState *bs = bdrv_new();
    FakeState *s = g_new0(FakeState, 1);

    bdrv_assign_node_name(bs, name, &error_abort);
    s->data = g_malloc0(size);
    s->alloc = g_malloc0(DIV_ROUND_UP(size, 512) + 1);
    s->size = size;
    s->align = align;
    s->max_transfer = max_transfer;
    s->log = g_array_new(false, true, sizeof(FakeReq));
    g_queue_init(&s->held);
    bs->opaque = s;
    bs->drv = &fake_drv;
    bs->open_flags = BDRV_O_RDWR;
    bdrv_refresh_limits(bs, &error_abort);
    return bs;
}

static FakeState *fake_state(BlockDriverState *bs)
{
    return bs->opaque;
}

static G_GNUC_UNUSED FakeReq *fake_req(BlockDriverState *bs, guint i)
{
    return &g_array_index(fake_state(bs)->log, FakeReq, i);
}

static BlockBackend *fake_blk(BlockDriverState *bs, uint64_t perm)
{
    BlockBackend *blk = blk_new(perm, BLK_PERM_ALL);

    g_assert_cmpint(blk_insert_bs(blk, bs, &error_abort), ==, 0);
    return blk;
}

#define PERM_RW (BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE)

#endif /* TEST_BLOCK_FAKE_H */
