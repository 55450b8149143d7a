/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-qcow2-bitmaps.c: qcow2 persistent dirty bitmaps (directory parsing and
 * serialisation, store at close and load at open, in_use, removal), the
 * refcount rebuild used by amend refcount_bits, amend compat/lazy_refcounts and
 * measure (numbers taken from qemu-img 7.2).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"
#include "qobject/qdict.h"
#include <fcntl.h>
#include "../../block/qcow2/qcow2.h"
#include "qcow2-test-image.h"

static void test_dir_roundtrip(void)
{
    Qcow2Bitmap in[2] = {
        { .table_offset = 0x50000, .table_size = 1, .flags = 2, .type = 1,
          .granularity_bits = 16, .name = (char *)"b1" },
        { .table_offset = 0x70000, .table_size = 3, .flags = 5, .type = 1,
          .granularity_bits = 9, .name = (char *)"second-bitmap",
          .extra_data_size = 3, .extra_data = (uint8_t *)"xyz" },
    };
    uint64_t len;
    g_autofree uint8_t *buf = qcow2_bitmap_dir_serialize(in, 2, &len);
    Qcow2Bitmap *out = NULL;

    g_assert_cmpuint(len, ==, 32 + 40);                 /* 24+2 -> 32, 24+3+13 = 40 */
    g_assert_cmpint(qcow2_bitmap_dir_parse(buf, len, 2, &out, &error_abort), ==, 2);
    g_assert_cmpstr(out[0].name, ==, "b1");
    g_assert_cmpuint(out[0].table_offset, ==, 0x50000);
    g_assert_cmpuint(out[0].flags, ==, 2);
    g_assert_cmpstr(out[1].name, ==, "second-bitmap");
    g_assert_cmpuint(out[1].extra_data_size, ==, 3);
    g_assert_cmpmem(out[1].extra_data, 3, "xyz", 3);
    g_assert_cmpuint(out[1].granularity_bits, ==, 9);
    qcow2_bitmap_list_free(out, 2);

    /* truncated, reserved flags, duplicate names */
    Error *err = NULL;
    g_assert_cmpint(qcow2_bitmap_dir_parse(buf, len - 1, 2, &out, &err), <, 0);
    error_free(err);
    err = NULL;
    buf[12 + 3] |= 0x80;
    g_assert_cmpint(qcow2_bitmap_dir_parse(buf, len, 2, &out, &err), <, 0);
    error_free(err);
    err = NULL;
    buf[12 + 3] &= 0x7f;
    in[1].name = (char *)"b1";
    in[1].extra_data_size = 0;
    g_autofree uint8_t *dup = qcow2_bitmap_dir_serialize(in, 2, &len);
    g_assert_cmpint(qcow2_bitmap_dir_parse(dup, len, 2, &out, &err), <, 0);
    error_free(err);
}

static void test_ext_parse(void)
{
    uint8_t e[24] = { 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64,
                      0, 0, 0, 0, 0, 5, 0, 0 };
    Qcow2BitmapExt x;
    Error *err = NULL;

    g_assert_true(qcow2_bitmap_ext_parse(e, 24, &x, &error_abort));
    g_assert_cmpuint(x.nb_bitmaps, ==, 2);
    g_assert_cmpuint(x.dir_size, ==, 64);
    g_assert_cmpuint(x.dir_offset, ==, 0x50000);
    g_assert_false(qcow2_bitmap_ext_parse(e, 16, &x, &err));
    error_free(err);
    err = NULL;
    e[3] = 0;
    g_assert_false(qcow2_bitmap_ext_parse(e, 24, &x, &err));
    error_free(err);
    g_assert_cmpuint(qcow2_bitmap_table_entries(64 * MiB, 16, 16), ==, 1);
    g_assert_cmpuint(qcow2_bitmap_table_entries(64 * MiB, 9, 9), ==, 32);
}

static char *make_image(const char *opts)
{
    return qcow2_test_make_image("test-qcow2-bm", opts);
}

static BlockBackend *open_image(const char *path, int flags)
{
    QDict *o = qdict_new();
    qdict_put_str(o, "driver", "qcow2");
    return blk_new_open(path, NULL, o, flags, &error_abort);
}

static void check_clean(BlockBackend *blk)
{
    BdrvCheckResult res = { 0 };
    g_assert_cmpint(bdrv_check(blk_bs(blk), &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions, ==, 0);
    g_assert_cmpint(res.leaks, ==, 0);
    g_assert_cmpint(res.check_errors, ==, 0);
}

static void test_store_load(void)
{
    g_autofree char *path = make_image("size=64M");
    BlockBackend *blk = open_image(path, BDRV_O_RDWR);
    BlockDriverState *bs = blk_bs(blk);
    g_autofree uint8_t *buf = g_malloc0(128 * KiB);

    g_assert_true(bdrv_can_store_new_dirty_bitmap(bs, "a", 65536, &error_abort));
    BdrvDirtyBitmap *a = bdrv_create_dirty_bitmap(bs, 65536, "a", &error_abort);
    bdrv_dirty_bitmap_set_persistence(a, true);
    BdrvDirtyBitmap *b = bdrv_create_dirty_bitmap(bs, 512, "b", &error_abort);
    bdrv_dirty_bitmap_set_persistence(b, true);
    bdrv_disable_dirty_bitmap(b);
    bdrv_set_dirty_bitmap(b, 0, 64 * MiB);              /* all ones: no data clusters */
    g_assert_cmpint(blk_pwrite(blk, 3 * MiB, 128 * KiB, buf, 0), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 40 * MiB, 512, buf, 0), ==, 0);
    g_autofree char *sha_a = bdrv_dirty_bitmap_sha256(a, &error_abort);
    g_autofree char *sha_b = bdrv_dirty_bitmap_sha256(b, &error_abort);
    blk_unref(blk);

    blk = open_image(path, BDRV_O_RDWR);
    bs = blk_bs(blk);
    a = bdrv_find_dirty_bitmap(bs, "a");
    b = bdrv_find_dirty_bitmap(bs, "b");
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(bdrv_dirty_bitmap_get_persistence(a) && bdrv_dirty_bitmap_enabled(a));
    g_assert_false(bdrv_dirty_bitmap_enabled(b));
    g_assert_false(bdrv_dirty_bitmap_inconsistent(a));
    g_autofree char *sha_a2 = bdrv_dirty_bitmap_sha256(a, &error_abort);
    g_autofree char *sha_b2 = bdrv_dirty_bitmap_sha256(b, &error_abort);
    g_assert_cmpstr(sha_a, ==, sha_a2);
    g_assert_cmpstr(sha_b, ==, sha_b2);
    g_assert_cmpint(bdrv_get_dirty_count(a), ==, 3 * 65536);
    BDRVQcow2State *s = bs->opaque;
    g_assert_cmpint(s->nb_bitmaps, ==, 2);
    g_assert_true(s->bitmaps[0].flags & 1);             /* in_use while open rw */
    check_clean(blk);

    /* removal takes it out of the file at once */
    g_assert_true(bdrv_remove_persistent_dirty_bitmap(bs, "b", &error_abort));
    bdrv_release_dirty_bitmap(b);
    g_assert_cmpint(s->nb_bitmaps, ==, 1);
    check_clean(blk);
    Error *err = NULL;
    g_assert_false(bdrv_can_store_new_dirty_bitmap(bs, "a", 256, &err));
    error_free(err);
    blk_unref(blk);

    /* read-only: loaded readonly, nothing marked in use */
    blk = open_image(path, 0);
    s = blk_bs(blk)->opaque;
    g_assert_cmpint(s->nb_bitmaps, ==, 1);
    g_assert_false(s->bitmaps[0].flags & 1);
    g_assert_true(bdrv_dirty_bitmap_readonly(bdrv_find_dirty_bitmap(blk_bs(blk), "a")));
    blk_unref(blk);
    unlink(path);
}

static void test_v2_refused(void)
{
    g_autofree char *path = make_image("size=1M,compat=0.10");
    BlockBackend *blk = open_image(path, BDRV_O_RDWR);
    Error *err = NULL;

    g_assert_false(bdrv_can_store_new_dirty_bitmap(blk_bs(blk), "x", 65536, &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "Cannot store dirty bitmaps in qcow2 v2 files"));
    error_free(err);
    blk_unref(blk);
    unlink(path);
}

static void amend(BlockBackend *blk, const char *k, const char *v, int expect)
{
    QDict *o = qdict_new();
    Error *err = NULL;

    qdict_put_str(o, k, v);
    BlockDriverState *bs = blk_bs(blk);
    int ret = bs->drv->amend_options(bs, o, NULL, NULL, false, &err);
    g_assert_cmpint(ret, ==, expect);
    error_free(err);
    qobject_unref(o);
}

static void test_amend(void)
{
    g_autofree char *path = make_image("size=8M,cluster_size=4k");
    BlockBackend *blk = open_image(path, BDRV_O_RDWR);
    BDRVQcow2State *s = blk_bs(blk)->opaque;
    g_autofree uint8_t *buf = g_malloc(64 * KiB);

    memset(buf, 0x5a, 64 * KiB);
    g_assert_cmpint(blk_pwrite(blk, 0, 64 * KiB, buf, 0), ==, 0);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 1 * MiB, 64 * KiB, BDRV_REQ_MAY_UNMAP), ==, 0);
    amend(blk, "lazy_refcounts", "on", 0);
    g_assert_true(s->h.compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
    amend(blk, "cluster_size", "65536", -EINVAL);
    amend(blk, "compat", "2.0", -EINVAL);
    amend(blk, "refcount_bits", "3", -EINVAL);
    amend(blk, "refcount_bits", "8", 0);
    g_assert_cmpuint(s->refcount_order, ==, 3);
    check_clean(blk);
    amend(blk, "compat", "0.10", -ENOTSUP);             /* needs 16-bit refcounts */
    amend(blk, "refcount_bits", "16", 0);
    amend(blk, "compat", "0.10", 0);
    g_assert_cmpint(s->version, ==, 2);
    check_clean(blk);
    amend(blk, "lazy_refcounts", "on", -EINVAL);
    blk_unref(blk);

    blk = open_image(path, BDRV_O_RDWR);
    s = blk_bs(blk)->opaque;
    g_assert_cmpint(s->version, ==, 2);
    g_autofree uint8_t *rd = g_malloc(64 * KiB);
    g_assert_cmpint(blk_pread(blk, 0, 64 * KiB, rd, 0), ==, 0);
    g_assert_cmpmem(rd, 64 * KiB, buf, 64 * KiB);
    amend(blk, "compat", "1.1", 0);
    g_assert_cmpint(s->version, ==, 3);
    check_clean(blk);
    blk_unref(blk);
    unlink(path);
}

static void measure(const char *size, const char *cs, uint64_t req, uint64_t full)
{
    QDict *o = qdict_new();
    BlockMeasureInfo info = { 0 };

    qdict_put_str(o, "size", size);
    if (cs) {
        qdict_put_str(o, "cluster_size", cs);
    }
    g_assert_true(qcow2_measure(o, NULL, &info, &error_abort));
    g_assert_cmpuint(info.required, ==, req);
    g_assert_cmpuint(info.fully_allocated, ==, full);
    g_assert_false(info.has_bitmaps);
    qobject_unref(o);
}

static void test_measure(void)
{
    /* qemu-img 7.2: measure -O qcow2 --size N [-o cluster_size=C] */
    measure("64M", NULL, 327680, 67436544);
    measure("1G", "4k", 2637824, 1076379648);
    measure("10G", NULL, 1900544, 10739318784ULL);
    g_assert_cmpuint(qcow2_bitmap_measure(64 * MiB, 65536, 16), ==, 131072);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2-bitmaps/dir/roundtrip", test_dir_roundtrip);
    g_test_add_func("/qcow2-bitmaps/ext/parse", test_ext_parse);
    g_test_add_func("/qcow2-bitmaps/driver/store-load", test_store_load);
    g_test_add_func("/qcow2-bitmaps/driver/v2-refused", test_v2_refused);
    g_test_add_func("/qcow2-bitmaps/amend", test_amend);
    g_test_add_func("/qcow2-bitmaps/measure", test_measure);
    return g_test_run();
}
