/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-block-io.c: the request layer (block/io.c, block/block-status.c) on the
 * in-memory fake driver: alignment and read-modify-write, serialisation of
 * overlapping unaligned writes, splitting, zero writes, discard, FUA, flush,
 * block status through a chain, drain.
 */
#include "block-fake.h"
#include "block/dirty-bitmap.h"
#include "qobject/qdict.h"

static void check_rmw(uint32_t align)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, align, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    FakeState *s = fake_state(bs);
    uint8_t buf[100], out[300];

    memset(s->data, 0xaa, s->size);
    memset(buf, 0x11, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, align + 10, 100, buf, 0), ==, 0);
    /* one read of the containing block (head and tail share it), one full-block write */
    g_assert_cmpuint(s->log->len, ==, 2);
    g_assert_cmpint(fake_req(bs, 0)->op, ==, 'r');
    g_assert_cmpint(fake_req(bs, 0)->offset, ==, align);
    g_assert_cmpint(fake_req(bs, 0)->bytes, ==, align);
    g_assert_cmpint(fake_req(bs, 1)->op, ==, 'w');
    g_assert_cmpint(fake_req(bs, 1)->offset, ==, align);
    g_assert_cmpint(fake_req(bs, 1)->bytes, ==, align);
    g_assert_cmpint(s->data[align + 9], ==, 0xaa);
    g_assert_cmpint(s->data[align + 10], ==, 0x11);
    g_assert_cmpint(s->data[align + 109], ==, 0x11);
    g_assert_cmpint(s->data[align + 110], ==, 0xaa);

    /* an unaligned read sees exactly the bytes asked for */
    g_assert_cmpint(blk_pread(blk, align, 300, out, 0), ==, 0);
    g_assert_cmpint(out[9], ==, 0xaa);
    g_assert_cmpint(out[10], ==, 0x11);
    g_assert_cmpint(out[110], ==, 0xaa);
    g_assert_cmpint(fake_req(bs, 2)->offset, ==, align);
    g_assert_cmpint(fake_req(bs, 2)->bytes, ==, align);

    /* a write spanning two blocks with both ends unaligned reads both ends */
    g_array_set_size(s->log, 0);
    uint8_t big[2 * 4096];
    memset(big, 0x22, sizeof(big));
    g_assert_cmpint(blk_pwrite(blk, align - 1, align + 2, big, 0), ==, 0);
    g_assert_cmpuint(s->log->len, ==, 3);
    g_assert_cmpint(fake_req(bs, 0)->offset, ==, 0);
    g_assert_cmpint(fake_req(bs, 1)->offset, ==, 2 * align);
    g_assert_cmpint(fake_req(bs, 2)->op, ==, 'w');
    g_assert_cmpint(fake_req(bs, 2)->offset, ==, 0);
    g_assert_cmpint(fake_req(bs, 2)->bytes, ==, 3 * align);
    g_assert_cmpint(s->data[align - 2], ==, 0xaa);
    g_assert_cmpint(s->data[align - 1], ==, 0x22);
    g_assert_cmpint(s->data[2 * align], ==, 0x22);
    g_assert_cmpint(s->data[2 * align + 1], ==, 0xaa);
    blk_unref(blk);
}

static void test_rmw_512(void)
{
    check_rmw(512);
}

static void test_rmw_4096(void)
{
    check_rmw(4096);
}

static void test_aligned_no_bounce(void)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[1024];

    memset(buf, 1, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 512, 1024, buf, 0), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 1);
    g_assert_cmpint(fake_req(bs, 0)->op, ==, 'w');
    blk_unref(blk);
}

typedef struct WriteCo {
    BlockBackend *blk;
    int64_t offset, bytes;
    uint8_t fill;
    int ret;
    bool done;
} WriteCo;

static void coroutine_fn write_co(void *opaque)
{
    WriteCo *w = opaque;
    g_autofree uint8_t *buf = g_malloc(w->bytes);

    memset(buf, w->fill, w->bytes);
    w->ret = blk_co_pwrite(w->blk, w->offset, w->bytes, buf, 0);
    w->done = true;
}

/* Two unaligned writes into the same block must not lose each other's bytes. */
static void test_serialise_unaligned(void)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, 4096, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    FakeState *s = fake_state(bs);
    WriteCo a = { blk, 100, 10, 0x01 }, b = { blk, 2000, 10, 0x02 };

    s->hold = true;
    qemu_coroutine_enter(qemu_coroutine_create(write_co, &a));
    qemu_coroutine_enter(qemu_coroutine_create(write_co, &b));
    /* a holds its RMW read; b must wait without reaching the driver */
    g_assert_cmpuint(s->log->len, ==, 1);
    fake_release(bs);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !a.done || !b.done);
    g_assert_cmpint(a.ret, ==, 0);
    g_assert_cmpint(b.ret, ==, 0);
    g_assert_cmpint(s->max_active, ==, 1);
    g_assert_cmpint(s->data[100], ==, 0x01);
    g_assert_cmpint(s->data[2000], ==, 0x02);
    blk_unref(blk);
}

static void test_max_transfer(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 64 * KiB);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    g_autofree uint8_t *buf = g_malloc0(200 * KiB);

    g_assert_cmpint(blk_pwrite(blk, 0, 200 * KiB, buf, 0), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 4);
    g_assert_cmpint(fake_req(bs, 3)->offset, ==, 192 * KiB);
    g_assert_cmpint(fake_req(bs, 3)->bytes, ==, 8 * KiB);
    g_assert_cmpint(blk_pread(blk, 0, 200 * KiB, buf, 0), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 8);
    blk_unref(blk);
}

static void test_write_zeroes(void)
{
    BlockDriverState *bs = fake_node(NULL, 4 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    FakeState *s = fake_state(bs);

    memset(s->data, 0xff, s->size);
    /* no native support: real zeroes, at most 1 MiB per write */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 3 * MiB, 0), ==, 0);
    g_assert_cmpuint(s->log->len, ==, 3);
    g_assert_cmpint(fake_req(bs, 0)->op, ==, 'w');
    g_assert_cmpint(fake_req(bs, 0)->bytes, ==, 1 * MiB);
    g_assert_true(buffer_is_zero(s->data, 3 * MiB));
    g_assert_cmpint(s->data[3 * MiB], ==, 0xff);
    /* NO_FALLBACK refuses instead */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 4096, BDRV_REQ_NO_FALLBACK), ==, -ENOTSUP);
    /* native support: one request, unaligned edges done by RMW */
    s->has_zeroes = true;
    g_array_set_size(s->log, 0);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 3 * MiB + 100, 2048, 0), ==, 0);
    g_assert_cmpint(s->data[3 * MiB + 99], ==, 0xff);
    g_assert_cmpint(s->data[3 * MiB + 100], ==, 0);
    g_assert_cmpint(s->data[3 * MiB + 2147], ==, 0);
    g_assert_cmpint(s->data[3 * MiB + 2148], ==, 0xff);
    gboolean saw_z = false;
    for (guint i = 0; i < s->log->len; i++) {
        saw_z |= fake_req(bs, i)->op == 'z';
    }
    g_assert_true(saw_z);
    blk_unref(blk);
}

static void test_discard_needs_unmap(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);

    g_assert_cmpint(blk_pdiscard(blk, 0, 64 * KiB), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 0);
    bs->open_flags |= BDRV_O_UNMAP;
    g_assert_cmpint(blk_pdiscard(blk, 100, 64 * KiB), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 1);
    g_assert_cmpint(fake_req(bs, 0)->offset, ==, 512);
    blk_unref(blk);
}

static void test_fua_emulation(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[512] = { 0 };

    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, BDRV_REQ_FUA), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 2);
    g_assert_cmpint(fake_req(bs, 0)->flags & BDRV_REQ_FUA, ==, 0);
    g_assert_cmpint(fake_req(bs, 1)->op, ==, 'f');
    /* native FUA: passed down, no flush */
    bs->supported_write_flags = BDRV_REQ_FUA;
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, BDRV_REQ_FUA), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 3);
    g_assert_cmpint(fake_req(bs, 2)->flags & BDRV_REQ_FUA, ==, BDRV_REQ_FUA);
    blk_unref(blk);
}

static void test_flush_write_gen(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[512] = { 0 };

    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);      /* nothing written since: skipped */
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 2);
    bs->open_flags |= BDRV_O_NO_FLUSH;
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 3);
    blk_unref(blk);
}

static void test_dirty_bitmap(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    BdrvDirtyBitmap *bm;
    Error *err = NULL;
    uint8_t buf[100] = { 1 };

    g_assert_null(bdrv_create_dirty_bitmap(bs, 1000, "x", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Granularity must be power of 2 and at least 512");
    error_free(err);
    err = NULL;
    bm = bdrv_create_dirty_bitmap(bs, 64 * KiB, "b0", &error_abort);
    g_assert_null(bdrv_create_dirty_bitmap(bs, 64 * KiB, "b0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Bitmap already exists: b0");
    error_free(err);
    g_assert_cmpint(blk_pwrite(blk, 70 * KiB, 100, buf, 0), ==, 0);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 64 * KiB);
    g_assert_true(bdrv_dirty_bitmap_get(bm, 64 * KiB));
    g_assert_false(bdrv_dirty_bitmap_get(bm, 0));
    g_assert_cmpint(bdrv_dirty_bitmap_next_dirty(bm, 0, -1), ==, 64 * KiB);
    bdrv_disable_dirty_bitmap(bm);
    g_assert_cmpint(blk_pwrite(blk, 0, 100, buf, 0), ==, 0);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 64 * KiB);
    blk_unref(blk);
}

/* top (fake, with backing) -> mid -> base: status and depth */
static void test_block_status_chain(void)
{
    BlockDriverState *base = fake_node("base", 1 * MiB, 512, 0);
    BlockDriverState *mid = fake_node("mid", 1 * MiB, 512, 0);
    BlockDriverState *top = fake_node("top", 1 * MiB, 512, 0);
    int64_t pnum, map;
    int depth, ret;
    BlockDriverState *file;

    base->read_only = mid->read_only = true;
    g_assert_cmpint(bdrv_set_backing_hd(mid, base, &error_abort), ==, 0);
    g_assert_cmpint(bdrv_set_backing_hd(top, mid, &error_abort), ==, 0);
    bdrv_unref(base);
    bdrv_unref(mid);
    fake_mark(fake_state(base), 0, 64 * KiB);
    fake_mark(fake_state(mid), 64 * KiB, 64 * KiB);
    fake_mark(fake_state(top), 128 * KiB, 4096);

    ret = bdrv_block_status_above(top, NULL, 0, 1 * MiB, &pnum, &map, &file, &depth);
    g_assert_cmpint(ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED);
    g_assert_cmpint(pnum, ==, 64 * KiB);
    g_assert_cmpint(depth, ==, 3);
    g_assert_true(file == base);
    ret = bdrv_block_status_above(top, NULL, 64 * KiB, 1 * MiB, &pnum, &map, &file, &depth);
    g_assert_cmpint(depth, ==, 2);
    g_assert_cmpint(pnum, ==, 64 * KiB);
    ret = bdrv_block_status_above(top, NULL, 128 * KiB, 1 * MiB, &pnum, &map, &file, &depth);
    g_assert_cmpint(depth, ==, 1);
    g_assert_cmpint(pnum, ==, 4096);
    /* unallocated everywhere: zero at the bottom, not allocated */
    ret = bdrv_block_status_above(top, NULL, 512 * KiB, 4096, &pnum, &map, &file, &depth);
    g_assert_cmpint(ret & BDRV_BLOCK_ALLOCATED, ==, 0);
    g_assert_cmpint(ret & BDRV_BLOCK_ZERO, ==, BDRV_BLOCK_ZERO);
    /* is_allocated_above with a base stops above it */
    g_assert_cmpint(bdrv_is_allocated_above(top, base, false, 0, 4096, &pnum), ==, 0);
    g_assert_cmpint(bdrv_is_allocated_above(top, base, true, 0, 4096, &pnum), ==, 1);
    g_assert_cmpint(bdrv_is_allocated(top, 128 * KiB, 8192, &pnum), ==, 1);
    g_assert_cmpint(pnum, ==, 4096);
    /* EOF */
    ret = bdrv_block_status(top, 1 * MiB, 512, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, 0);

    /* reads fall through the chain */
    BlockBackend *blk = fake_blk(top, BLK_PERM_CONSISTENT_READ);
    uint8_t b;
    fake_state(base)->data[10] = 0x5a;
    g_assert_cmpint(blk_pread(blk, 10, 1, &b, 0), ==, 0);
    g_assert_cmpint(b, ==, 0x5a);
    blk_unref(blk);
}

static void test_copy_on_read(void)
{
    BlockDriverState *base = fake_node(NULL, 1 * MiB, 512, 0);
    BlockDriverState *top = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk;
    uint8_t buf[1000];

    base->read_only = true;
    g_assert_cmpint(bdrv_set_backing_hd(top, base, &error_abort), ==, 0);
    bdrv_unref(base);
    memset(fake_state(base)->data, 0x77, 4096);
    fake_mark(fake_state(base), 0, 4096);
    blk = blk_new(PERM_RW | BLK_PERM_WRITE_UNCHANGED, BLK_PERM_ALL);
    g_assert_cmpint(blk_insert_bs(blk, top, &error_abort), ==, 0);
    g_assert_cmpint(blk_pread(blk, 100, 1000, buf, BDRV_REQ_COPY_ON_READ), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x77);
    g_assert_cmpint(buf[999], ==, 0x77);
    /* the covering sectors now live in top */
    g_assert_cmpint(fake_state(top)->data[100], ==, 0x77);
    g_assert_cmpint(bdrv_is_allocated(top, 0, 512, NULL), ==, 1);
    blk_unref(blk);
}

typedef struct ReadCo {
    BlockBackend *blk;
    bool done;
} ReadCo;

static void coroutine_fn read_co(void *opaque)
{
    ReadCo *r = opaque;
    uint8_t b[512];

    blk_co_pread(r->blk, 0, 512, b, 0);
    r->done = true;
}

static void test_drain_waits(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    ReadCo r = { blk };

    fake_state(bs)->hold = true;
    qemu_coroutine_enter(qemu_coroutine_create(read_co, &r));
    g_assert_false(r.done);
    g_assert_cmpuint(bs->in_flight, ==, 1);
    /* release the request from a BH that runs while the drain polls */
    aio_bh_schedule_oneshot(qemu_get_aio_context(), (QEMUBHFunc *)fake_release, bs);
    bdrv_drained_begin(bs);
    g_assert_true(r.done);
    g_assert_cmpuint(bs->in_flight, ==, 0);
    /* a new request waits for the end of the drain */
    ReadCo r2 = { blk };
    qemu_coroutine_enter(qemu_coroutine_create(read_co, &r2));
    for (int i = 0; i < 5; i++) {
        aio_poll(qemu_get_aio_context(), false);
    }
    g_assert_false(r2.done);
    bdrv_drained_end(bs);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !r2.done);
    blk_unref(blk);
}

/* More elements than max_iov: several driver requests, never one big bounce buffer. */
static void test_max_iov_split(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    FakeState *s = fake_state(bs);
    g_autofree uint8_t *buf = g_malloc(10 * 512);
    g_autofree uint8_t *out = g_malloc0(10 * 512);
    struct iovec iov[10];
    QEMUIOVector qiov;

    bs->bl.max_iov = 4;
    for (int i = 0; i < 10; i++) {
        memset(buf + i * 512, i + 1, 512);
        iov[i] = (struct iovec) { buf + i * 512, 512 };
    }
    qemu_iovec_init_external(&qiov, iov, 10);
    g_assert_cmpint(blk_pwritev(blk, 4096, 10 * 512, &qiov, 0), ==, 0);
    g_assert_cmpuint(s->log->len, ==, 3);
    g_assert_cmpint(fake_req(bs, 0)->bytes, ==, 2048);
    g_assert_cmpint(fake_req(bs, 1)->offset, ==, 4096 + 2048);
    g_assert_cmpint(fake_req(bs, 2)->bytes, ==, 1024);
    g_assert_cmpmem(s->data + 4096, 10 * 512, buf, 10 * 512);

    /* four elements hold less than one block: that block goes through a buffer */
    struct iovec small[16];
    for (int i = 0; i < 16; i++) {
        small[i] = (struct iovec) { out + i * 64, 64 };
    }
    qemu_iovec_init_external(&qiov, small, 16);
    g_array_set_size(s->log, 0);
    g_assert_cmpint(blk_preadv(blk, 4096, 1024, &qiov, 0), ==, 0);
    g_assert_cmpuint(s->log->len, ==, 2);
    g_assert_cmpint(fake_req(bs, 0)->bytes, ==, 512);
    g_assert_cmpmem(out, 1024, buf, 1024);
    blk_unref(blk);
}

typedef struct FlushCo {
    BlockBackend *blk;
    bool done;
} FlushCo;

static void coroutine_fn flush_co(void *opaque)
{
    FlushCo *f = opaque;

    g_assert_cmpint(blk_co_flush(f->blk), ==, 0);
    f->done = true;
}

static int count_flushes(BlockDriverState *bs)
{
    int n = 0;

    for (guint i = 0; i < fake_state(bs)->log->len; i++) {
        n += fake_req(bs, i)->op == 'f';
    }
    return n;
}

/*
 * Flushes run one at a time; one that waited skips the disk flush when nothing
 * was written since the flush it waited for began.
 */
static void test_flush_serialised(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    FakeState *s = fake_state(bs);
    FlushCo f[3] = { { blk }, { blk }, { blk } };
    uint8_t buf[512] = { 0 };

    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    s->hold = true;
    for (int i = 0; i < 3; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(flush_co, &f[i]));
    }
    g_assert_cmpint(count_flushes(bs), ==, 1);          /* the others queue */
    fake_release(bs);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !f[0].done || !f[1].done || !f[2].done);
    g_assert_cmpint(count_flushes(bs), ==, 1);
    g_assert_cmpint(s->max_active, ==, 1);

    /* a write while a flush runs: the flush queued after it must really flush */
    FlushCo g[2] = { { blk }, { blk } };
    g_array_set_size(s->log, 0);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    s->hold = true;
    qemu_coroutine_enter(qemu_coroutine_create(flush_co, &g[0]));
    s->hold = false;
    g_assert_cmpint(blk_pwrite(blk, 512, 512, buf, 0), ==, 0);
    s->hold = true;
    qemu_coroutine_enter(qemu_coroutine_create(flush_co, &g[1]));
    fake_release(bs);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !g[0].done || !g[1].done);
    g_assert_cmpint(count_flushes(bs), ==, 2);
    blk_unref(blk);
}

/* Unaligned discard: sub-request_alignment bits dropped, head and tail sent apart. */
static void test_discard_alignment(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);

    bs->open_flags |= BDRV_O_UNMAP;
    bs->bl.pdiscard_alignment = 4096;
    bs->bl.max_pdiscard = 8192;
    g_assert_cmpint(blk_pdiscard(blk, 1000, 30000), ==, 0);
    /* [1024, 30720): head to 4096, 8 KiB max pieces, then the tail */
    static const int64_t want[][2] = {
        { 1024, 3072 }, { 4096, 8192 }, { 12288, 8192 }, { 20480, 8192 }, { 28672, 2048 },
    };
    g_assert_cmpuint(fake_state(bs)->log->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(fake_req(bs, i)->op, ==, 'd');
        g_assert_cmpint(fake_req(bs, i)->offset, ==, want[i][0]);
        g_assert_cmpint(fake_req(bs, i)->bytes, ==, want[i][1]);
    }
    /* inside one request_alignment block: nothing to send */
    g_array_set_size(fake_state(bs)->log, 0);
    g_assert_cmpint(blk_pdiscard(blk, 10, 400), ==, 0);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 0);
    blk_unref(blk);
}

static void test_reopen_options(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    QDict *opts;
    Error *err = NULL;
    uint8_t buf[512] = { 0 };

    opts = qdict_new();
    qdict_put_str(opts, "discard", "unmap");
    qdict_put_str(opts, "detect-zeroes", "unmap");
    qdict_put_str(opts, "cache.no-flush", "on");
    g_assert_cmpint(bdrv_reopen(bs, opts, &error_abort), ==, 0);
    g_assert_true(bs->open_flags & BDRV_O_UNMAP);
    g_assert_true(bs->open_flags & BDRV_O_NO_FLUSH);
    g_assert_cmpint(bs->detect_zeroes, ==, BLOCKDEV_DETECT_ZEROES_OPTIONS_UNMAP);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(count_flushes(bs), ==, 0);

    /* detect-zeroes=unmap stays: discard cannot go off under it */
    opts = qdict_new();
    qdict_put_str(opts, "discard", "ignore");
    g_assert_cmpint(bdrv_reopen(bs, opts, &err), <, 0);
    g_assert_cmpstr(error_get_pretty(err), ==, "setting detect-zeroes to unmap is not allowed "
                    "without setting discard operation to unmap");
    g_clear_pointer(&err, error_free);
    g_assert_true(bs->open_flags & BDRV_O_UNMAP);

    opts = qdict_new();
    qdict_put_str(opts, "detect-zeroes", "off");
    qdict_put_str(opts, "discard", "off");
    qdict_put_str(opts, "cache.no-flush", "off");
    g_assert_cmpint(bdrv_reopen(bs, opts, &error_abort), ==, 0);
    g_assert_false(bs->open_flags & (BDRV_O_UNMAP | BDRV_O_NO_FLUSH));
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(count_flushes(bs), ==, 1);

    opts = qdict_new();
    qdict_put_str(opts, "node-name", "x");
    g_assert_cmpint(bdrv_reopen(bs, opts, &err), ==, -ENOTSUP);
    g_assert_cmpstr(error_get_pretty(err), ==, "Cannot change the option 'node-name'");
    g_clear_pointer(&err, error_free);
    blk_unref(blk);
}

static void test_range_checks(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, BLK_PERM_CONSISTENT_READ);
    uint8_t b[512] = { 0 };

    g_assert_cmpint(blk_pread(blk, 1 * MiB - 256, 512, b, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, -1, 1, b, 0), ==, -EIO);
    g_assert_cmpint(bdrv_pread(blk_root(blk), -1, 1, b, 0), ==, -EINVAL);
    /* no write permission taken: refused */
    g_assert_cmpint(bdrv_pwrite(blk_root(blk), 0, 512, b, 0), ==, -EPERM);
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_get_aio_context();
    g_test_add_func("/block-io/rmw/512", test_rmw_512);
    g_test_add_func("/block-io/rmw/4096", test_rmw_4096);
    g_test_add_func("/block-io/aligned-no-bounce", test_aligned_no_bounce);
    g_test_add_func("/block-io/serialise-unaligned", test_serialise_unaligned);
    g_test_add_func("/block-io/max-transfer", test_max_transfer);
    g_test_add_func("/block-io/write-zeroes", test_write_zeroes);
    g_test_add_func("/block-io/discard-needs-unmap", test_discard_needs_unmap);
    g_test_add_func("/block-io/fua-emulation", test_fua_emulation);
    g_test_add_func("/block-io/flush-write-gen", test_flush_write_gen);
    g_test_add_func("/block-io/dirty-bitmap", test_dirty_bitmap);
    g_test_add_func("/block-io/block-status-chain", test_block_status_chain);
    g_test_add_func("/block-io/copy-on-read", test_copy_on_read);
    g_test_add_func("/block-io/drain-waits", test_drain_waits);
    g_test_add_func("/block-io/range-checks", test_range_checks);
    g_test_add_func("/block-io/max-iov-split", test_max_iov_split);
    g_test_add_func("/block-io/flush-serialised", test_flush_serialised);
    g_test_add_func("/block-io/discard-alignment", test_discard_alignment);
    g_test_add_func("/block-io/reopen-options", test_reopen_options);
    return g_test_run();
}
