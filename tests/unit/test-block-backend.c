/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-block-backend.c: BlockBackend: range checks, asynchronous completion,
 * opening with the tools' sharing rules, names, error policy and io-status.
 */
#include "block-fake.h"
#include "qobject/qdict.h"

static void test_range(void)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[1024] = { 0 };

    g_assert_cmpint(blk_getlength(blk), ==, 64 * KiB);
    g_assert_cmpint(blk_pread(blk, 64 * KiB - 512, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 64 * KiB - 512, 1024, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pwrite(blk, 64 * KiB, 1, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 64 * KiB + 512, 512, 0), ==, -EIO);
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 1);
    blk_unref(blk);
}

typedef struct AioResult {
    int ret;
    int calls;
} AioResult;

static void aio_cb(void *opaque, int ret)
{
    AioResult *r = opaque;

    r->ret = ret;
    r->calls++;
}

static void test_aio_completion(void)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[512];
    QEMUIOVector qiov;
    AioResult r = { -1, 0 }, r2 = { -1, 0 };

    memset(buf, 0x3c, sizeof(buf));
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    /* the fake completes synchronously, yet the callback must wait for the loop */
    blk_aio_pwritev(blk, 0, &qiov, 0, aio_cb, &r);
    g_assert_cmpint(r.calls, ==, 0);
    g_assert_cmpuint(blk_in_flight(blk), ==, 1);
    blk_aio_preadv(blk, 64 * KiB, &qiov, 0, aio_cb, &r2);   /* past the end */
    while (r.calls == 0 || r2.calls == 0) {
        aio_poll(qemu_get_aio_context(), true);
    }
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpint(r2.ret, ==, -EIO);
    g_assert_cmpint(r.calls, ==, 1);
    g_assert_cmpint(fake_state(bs)->data[0], ==, 0x3c);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    blk_unref(blk);
}

static void test_drain_aio(void)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[512];
    QEMUIOVector qiov;
    AioResult r = { -1, 0 };

    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    fake_state(bs)->hold = true;
    blk_aio_preadv(blk, 0, &qiov, 0, aio_cb, &r);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), (QEMUBHFunc *)fake_release, bs);
    blk_drain(blk);
    g_assert_cmpint(r.calls, ==, 1);
    g_assert_cmpint(r.ret, ==, 0);
    blk_unref(blk);
}

static void test_new_open_sharing(void)
{
    QDict *o = qdict_new();
    BlockBackend *w, *r;
    Error *err = NULL;

    qdict_put_str(o, "driver", "null-co");
    qdict_put_str(o, "node-name", "shared");
    w = blk_new_open(NULL, NULL, o, BDRV_O_RDWR | BDRV_O_NO_SHARE, &error_abort);
    g_assert_nonnull(w);
    g_assert_false(blk_is_read_only(w));
    /* a second writer on the same node conflicts: the first one shares no write */
    r = blk_new(PERM_RW, BLK_PERM_ALL);
    g_assert_cmpint(blk_insert_bs(r, bdrv_find_node("shared"), &err), <, 0);
    g_assert_nonnull(strstr(error_get_pretty(err), "permissions 'write' are both required"));
    error_free(err);
    blk_unref(r);
    blk_unref(w);
    g_assert_null(bdrv_find_node("shared"));
}

static BlockBackend *hook_blk;
static int hook_calls;

static void error_hook(BlockBackend *blk, bool is_read, BlockErrorAction action, int error)
{
    hook_blk = blk;
    hook_calls++;
}

static void test_error_policy(void)
{
    BlockBackend *blk = blk_new(0, BLK_PERM_ALL);
    Error *err = NULL;

    g_assert_true(blk_set_name(blk, "ide0", &error_abort));
    g_assert_true(blk_by_name("ide0") == blk);
    BlockBackend *other = blk_new(0, BLK_PERM_ALL);
    g_assert_false(blk_set_name(other, "ide0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Device with id 'ide0' already exists");
    error_free(err);
    blk_unref(other);

    blk_set_on_error(blk, BLOCKDEV_ON_ERROR_REPORT, BLOCKDEV_ON_ERROR_ENOSPC);
    g_assert_cmpint(blk_get_error_action(blk, true, EIO), ==, BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, false, EIO), ==, BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==, BLOCK_ERROR_ACTION_STOP);
    blk_set_io_error_hook(error_hook);
    blk_error_action(blk, BLOCK_ERROR_ACTION_STOP, false, ENOSPC);
    g_assert_cmpint(hook_calls, ==, 1);
    g_assert_true(hook_blk == blk);
    g_assert_cmpint(blk_iostatus(blk), ==, BLOCK_DEVICE_IO_STATUS_NOSPACE);
    blk_iostatus_reset(blk);
    g_assert_cmpint(blk_iostatus(blk), ==, BLOCK_DEVICE_IO_STATUS_OK);
    blk_set_io_error_hook(NULL);
    /* without a medium, I/O fails cleanly */
    uint8_t b;
    g_assert_cmpint(blk_pread(blk, 0, 1, &b, 0), ==, -ENOMEDIUM);
    blk_unref(blk);
    g_assert_null(blk_by_name("ide0"));
}

static void test_write_through(void)
{
    BlockDriverState *bs = fake_node(NULL, 64 * KiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    uint8_t buf[512] = { 0 };

    blk_set_enable_write_cache(blk, false);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    /* writethrough: every write is FUA, emulated by a flush on the fake */
    g_assert_cmpuint(fake_state(bs)->log->len, ==, 2);
    g_assert_cmpint(fake_req(bs, 1)->op, ==, 'f');
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_get_aio_context();
    g_test_add_func("/block-backend/range", test_range);
    g_test_add_func("/block-backend/aio-completion", test_aio_completion);
    g_test_add_func("/block-backend/drain-aio", test_drain_aio);
    g_test_add_func("/block-backend/new-open-sharing", test_new_open_sharing);
    g_test_add_func("/block-backend/error-policy", test_error_policy);
    g_test_add_func("/block-backend/write-through", test_write_through);
    return g_test_run();
}
