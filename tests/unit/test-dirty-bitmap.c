/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-dirty-bitmap.c: block/dirty-bitmap.c on the in-memory fake driver: creation
 * checks and QEMU's error texts, ranges and counts, io.c marking only enabled
 * bitmaps, busy/readonly/inconsistent checks, successors (abdicate, reclaim),
 * clear and merge with undo, searching and iterating, sha256, serialisation,
 * query info, truncate.
 */
#include "block-fake.h"
#include "block/dirty-bitmap.h"

static char *err_text(Error *err)
{
    char *s = g_strdup(error_get_pretty(err));

    error_free(err);
    return s;
}

#define ASSERT_ERR(call, text)                                   \
    do {                                                         \
        Error *err_ = NULL;                                      \
        g_assert_false(call);                                    \
        g_autofree char *msg_ = err_text(err_);                  \
        g_assert_cmpstr(msg_, ==, text);                         \
    } while (0)

static void test_create(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BdrvDirtyBitmap *bm;
    g_autofree char *long_name = g_strnfill(BDRV_BITMAP_MAX_NAME_SIZE + 1, 'a');
    g_autofree char *long_msg = g_strdup_printf("Bitmap name too long: %s", long_name);

    ASSERT_ERR(bdrv_create_dirty_bitmap(bs, 256, "a", &err_),
               "Granularity must be power of 2 and at least 512");
    ASSERT_ERR(bdrv_create_dirty_bitmap(bs, 3 * 512, "a", &err_),
               "Granularity must be power of 2 and at least 512");
    ASSERT_ERR(bdrv_create_dirty_bitmap(bs, 512, long_name, &err_), long_msg);
    long_name[BDRV_BITMAP_MAX_NAME_SIZE] = 0;
    g_assert_nonnull(bdrv_create_dirty_bitmap(bs, 512, long_name, &error_abort));
    bm = bdrv_create_dirty_bitmap(bs, 64 * KiB, "b0", &error_abort);
    ASSERT_ERR(bdrv_create_dirty_bitmap(bs, 4096, "b0", &err_), "Bitmap already exists: b0");
    /* unnamed bitmaps never clash */
    g_assert_nonnull(bdrv_create_dirty_bitmap(bs, 4096, NULL, &error_abort));
    g_assert_nonnull(bdrv_create_dirty_bitmap(bs, 4096, NULL, &error_abort));

    g_assert_true(bdrv_find_dirty_bitmap(bs, "b0") == bm);
    g_assert_null(bdrv_find_dirty_bitmap(bs, "b1"));
    g_assert_null(bdrv_find_dirty_bitmap(bs, NULL));
    g_assert_cmpuint(bdrv_dirty_bitmap_granularity(bm), ==, 64 * KiB);
    g_assert_cmpint(bdrv_dirty_bitmap_size(bm), ==, 1 * MiB);
    g_assert_true(bdrv_dirty_bitmap_enabled(bm));
    g_assert_true(bdrv_has_named_dirty_bitmaps(bs));

    int n = 0;
    for (BdrvDirtyBitmap *b = bdrv_dirty_bitmap_first(bs); b; b = bdrv_dirty_bitmap_next(b)) {
        n++;
    }
    g_assert_cmpint(n, ==, 4);
    bdrv_release_dirty_bitmap(bm);
    g_assert_null(bdrv_find_dirty_bitmap(bs, "b0"));
    bdrv_unref(bs);        /* releases the rest */
}

static void test_ranges(void)
{
    /* 1 MiB + 100 bytes: the last 4 KiB chunk is partial */
    BlockDriverState *bs = fake_node(NULL, 1 * MiB + 512, 512, 0);
    BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, 4096, "b", &error_abort);

    bdrv_set_dirty_bitmap(bm, 4096 + 1, 1);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 4096);
    g_assert_true(bdrv_dirty_bitmap_get(bm, 4096));
    g_assert_true(bdrv_dirty_bitmap_get(bm, 8191));
    g_assert_false(bdrv_dirty_bitmap_get(bm, 8192));
    g_assert_false(bdrv_dirty_bitmap_get(bm, -1));
    g_assert_false(bdrv_dirty_bitmap_get(bm, 2 * MiB));

    /* a reset that only partly covers a chunk keeps it */
    bdrv_reset_dirty_bitmap(bm, 4096 + 100, 4096);
    g_assert_true(bdrv_dirty_bitmap_get(bm, 4096));
    bdrv_reset_dirty_bitmap(bm, 0, 3 * 4096);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 0);

    /* count is whole chunks, not clipped at the end (QEMU's query-block count) */
    bdrv_set_dirty_bitmap(bm, 1 * MiB, 512);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 4096);
    /* a reset reaching the end may end mid-chunk */
    bdrv_reset_dirty_bitmap(bm, 1 * MiB, 512);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 0);

    /* out of range is clipped, not fatal */
    bdrv_set_dirty_bitmap(bm, 1 * MiB, 1 * MiB);
    bdrv_set_dirty_bitmap(bm, 4 * MiB, 1);
    bdrv_set_dirty_bitmap(bm, -5, 1);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 4096);

    bdrv_set_dirty_bitmap(bm, 0, 1 * MiB + 512);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 257 * 4096);
    bdrv_clear_dirty_bitmap(bm, NULL);
    g_assert_cmpint(bdrv_get_dirty_count(bm), ==, 0);
    bdrv_unref(bs);
}

static void test_io_marks_enabled(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    BdrvDirtyBitmap *on = bdrv_create_dirty_bitmap(bs, 64 * KiB, "on", &error_abort);
    BdrvDirtyBitmap *off = bdrv_create_dirty_bitmap(bs, 64 * KiB, "off", &error_abort);
    uint8_t buf[4096] = { 1 };

    bdrv_disable_dirty_bitmap(off);
    g_assert_false(bdrv_dirty_bitmap_recording(off));
    g_assert_cmpint(blk_pwrite(blk, 130 * KiB, 4096, buf, 0), ==, 0);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 300 * KiB, 100 * KiB, 0), ==, 0);
    g_assert_cmpint(bdrv_get_dirty_count(on), ==, 4 * 64 * KiB);
    g_assert_cmpint(bdrv_get_dirty_count(off), ==, 0);
    /* reads do not mark */
    g_assert_cmpint(blk_pread(blk, 0, 4096, buf, 0), ==, 0);
    g_assert_false(bdrv_dirty_bitmap_get(on, 0));
    /* a failed write does not either: out of range */
    g_assert_cmpint(blk_pwrite(blk, 1 * MiB, 4096, buf, 0), <, 0);
    g_assert_cmpint(bdrv_get_dirty_count(on), ==, 4 * 64 * KiB);
    bdrv_enable_dirty_bitmap(off);
    g_assert_cmpint(blk_pwrite(blk, 0, 1, buf, 0), ==, 0);
    g_assert_cmpint(bdrv_get_dirty_count(off), ==, 64 * KiB);
    blk_unref(blk);
}

static void test_checks(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, 4096, "b", &error_abort);
    Error *err = NULL;

    g_assert_true(bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_DEFAULT, &error_abort));
    bdrv_dirty_bitmap_set_busy(bm, true);
    ASSERT_ERR(bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_DEFAULT, &err_),
               "Bitmap 'b' is currently in use by another operation and cannot be used");
    g_assert_true(bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_RO, &error_abort));
    bdrv_dirty_bitmap_set_busy(bm, false);
    bdrv_dirty_bitmap_set_readonly(bm, true);
    ASSERT_ERR(bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_DEFAULT, &err_),
               "Bitmap 'b' is readonly and cannot be modified");
    g_assert_true(bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, &error_abort));
    bdrv_dirty_bitmap_set_readonly(bm, false);
    bdrv_dirty_bitmap_set_inconsistent(bm);
    g_assert_true(bdrv_dirty_bitmap_inconsistent(bm));
    g_assert_false(bdrv_dirty_bitmap_enabled(bm));
    g_assert_false(bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Bitmap 'b' is inconsistent and cannot be used");
    error_free(err);
    bdrv_unref(bs);
}

static void test_successor(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, PERM_RW);
    BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, 4096, "b", &error_abort);
    BdrvDirtyBitmap *succ;
    uint8_t buf[512] = { 0 };

    bdrv_dirty_bitmap_set_persistence(bm, true);
    bdrv_set_dirty_bitmap(bm, 0, 4096);
    g_assert_true(bdrv_dirty_bitmap_create_successor(bm, &error_abort));
    g_assert_true(bdrv_dirty_bitmap_busy(bm));
    g_assert_true(bdrv_dirty_bitmap_has_successor(bm));
    g_assert_false(bdrv_dirty_bitmap_enabled(bm));
    g_assert_true(bdrv_dirty_bitmap_recording(bm));
    ASSERT_ERR(bdrv_dirty_bitmap_create_successor(bm, &err_),
               "Bitmap 'b' is currently in use by another operation and cannot be used");
    /* writes now land in the successor only */
    g_assert_cmpint(blk_pwrite(blk, 8192, 512, buf, 0), ==, 0);
    g_assert_false(bdrv_dirty_bitmap_get(bm, 8192));

    /* reclaim: parent gets both, recording again, not busy */
    g_assert_true(bdrv_dirty_bitmap_reclaim(bm, &error_abort) == bm);
    g_assert_true(bdrv_dirty_bitmap_get(bm, 0));
    g_assert_true(bdrv_dirty_bitmap_get(bm, 8192));
    g_assert_true(bdrv_dirty_bitmap_enabled(bm));
    g_assert_false(bdrv_dirty_bitmap_busy(bm));
    g_assert_cmpint(g_slist_length(bs->dirty_bitmaps), ==, 1);
    ASSERT_ERR(bdrv_dirty_bitmap_reclaim(bm, &err_),
               "Cannot reclaim a successor when none is present");

    /* abdicate: the successor takes the name and persistence, the old bits go */
    g_assert_true(bdrv_dirty_bitmap_create_successor(bm, &error_abort));
    g_assert_cmpint(blk_pwrite(blk, 16384, 512, buf, 0), ==, 0);
    succ = bdrv_dirty_bitmap_abdicate(bm, &error_abort);
    g_assert_true(bdrv_find_dirty_bitmap(bs, "b") == succ);
    g_assert_true(bdrv_dirty_bitmap_get_persistence(succ));
    g_assert_false(bdrv_dirty_bitmap_busy(succ));
    g_assert_cmpint(bdrv_get_dirty_count(succ), ==, 4096);
    g_assert_true(bdrv_dirty_bitmap_get(succ, 16384));
    g_assert_cmpint(g_slist_length(bs->dirty_bitmaps), ==, 1);
    ASSERT_ERR(bdrv_dirty_bitmap_abdicate(succ, &err_),
               "Cannot relinquish control if there's no successor present");

    /* a disabled bitmap's successor is disabled too; close with one in place */
    bdrv_disable_dirty_bitmap(succ);
    g_assert_true(bdrv_dirty_bitmap_create_successor(succ, &error_abort));
    g_assert_false(bdrv_dirty_bitmap_recording(succ));
    blk_unref(blk);
}

static void test_clear_merge_undo(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BlockDriverState *other = fake_node(NULL, 2 * MiB, 512, 0);
    BdrvDirtyBitmap *a = bdrv_create_dirty_bitmap(bs, 4096, "a", &error_abort);
    BdrvDirtyBitmap *b = bdrv_create_dirty_bitmap(bs, 64 * KiB, "b", &error_abort);
    BdrvDirtyBitmap *c = bdrv_create_dirty_bitmap(other, 4096, "c", &error_abort);
    HBitmap *backup = NULL;

    bdrv_set_dirty_bitmap(a, 0, 4096);
    bdrv_clear_dirty_bitmap(a, &backup);
    g_assert_cmpint(bdrv_get_dirty_count(a), ==, 0);
    bdrv_restore_dirty_bitmap(a, backup);
    g_assert_cmpint(bdrv_get_dirty_count(a), ==, 4096);

    /* different granularity: a's dirty chunk dirties b's covering chunk */
    g_assert_true(bdrv_merge_dirty_bitmap(b, a, &backup, &error_abort));
    g_assert_cmpint(bdrv_get_dirty_count(b), ==, 64 * KiB);
    bdrv_restore_dirty_bitmap(b, backup);
    g_assert_cmpint(bdrv_get_dirty_count(b), ==, 0);
    bdrv_set_dirty_bitmap(b, 128 * KiB, 1);
    g_assert_true(bdrv_merge_dirty_bitmap(a, b, NULL, &error_abort));
    g_assert_cmpint(bdrv_get_dirty_count(a), ==, 4096 + 64 * KiB);

    ASSERT_ERR(bdrv_merge_dirty_bitmap(a, c, NULL, &err_),
               "Bitmaps are incompatible and can't be merged");
    bdrv_dirty_bitmap_set_readonly(b, true);
    g_assert_true(bdrv_merge_dirty_bitmap(a, b, NULL, &error_abort));   /* ro source is fine */
    ASSERT_ERR(bdrv_merge_dirty_bitmap(b, a, NULL, &err_),
               "Bitmap 'b' is readonly and cannot be modified");
    bdrv_unref(bs);
    bdrv_unref(other);
}

static void test_search_and_iter(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, 4096, NULL, &error_abort);
    BdrvDirtyBitmapIter *it;
    int64_t start, count;

    g_assert_cmpint(bdrv_dirty_bitmap_next_dirty(bm, 0, -1), ==, -1);
    g_assert_false(bdrv_dirty_bitmap_next_dirty_area(bm, 0, 1 * MiB, INT64_MAX, &start, &count));
    bdrv_set_dirty_bitmap(bm, 40960, 3 * 4096);
    bdrv_set_dirty_bitmap(bm, 900 * KiB, 4096);
    g_assert_cmpint(bdrv_dirty_bitmap_next_dirty(bm, 0, -1), ==, 40960);
    g_assert_cmpint(bdrv_dirty_bitmap_next_dirty(bm, 40961, -1), ==, 40961);
    g_assert_cmpint(bdrv_dirty_bitmap_next_dirty(bm, 0, 40960), ==, -1);
    g_assert_cmpint(bdrv_dirty_bitmap_next_zero(bm, 40960, -1), ==, 40960 + 3 * 4096);
    g_assert_true(bdrv_dirty_bitmap_next_dirty_area(bm, 0, 1 * MiB, INT64_MAX, &start, &count));
    g_assert_cmpint(start, ==, 40960);
    g_assert_cmpint(count, ==, 3 * 4096);
    g_assert_true(bdrv_dirty_bitmap_next_dirty_area(bm, 0, 1 * MiB, 4096, &start, &count));
    g_assert_cmpint(count, ==, 4096);
    g_assert_true(bdrv_dirty_bitmap_next_dirty_area(bm, 50000, 1 * MiB, INT64_MAX,
                                                    &start, &count));
    g_assert_cmpint(start, ==, 50000);

    it = bdrv_dirty_iter_new(bm);
    g_assert_cmpint(bdrv_dirty_iter_next(it), ==, 40960);
    /* a chunk reset ahead of the iterator is skipped */
    bdrv_reset_dirty_bitmap(bm, 40960 + 4096, 4096);
    g_assert_cmpint(bdrv_dirty_iter_next(it), ==, 40960 + 2 * 4096);
    g_assert_cmpint(bdrv_dirty_iter_next(it), ==, 900 * KiB);
    g_assert_cmpint(bdrv_dirty_iter_next(it), ==, -1);
    bdrv_set_dirty_iter(it, 0);
    g_assert_cmpint(bdrv_dirty_iter_next(it), ==, 40960);
    bdrv_dirty_iter_free(it);
    bdrv_unref(bs);
}

static void test_sha256_and_serialise(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BdrvDirtyBitmap *a = bdrv_create_dirty_bitmap(bs, 512, "a", &error_abort);
    BdrvDirtyBitmap *b = bdrv_create_dirty_bitmap(bs, 512, "b", &error_abort);
    g_autofree char *empty = bdrv_dirty_bitmap_sha256(a, &error_abort);
    uint64_t align = bdrv_dirty_bitmap_serialization_align(a);
    uint64_t len = bdrv_dirty_bitmap_serialization_size(a, 0, 1 * MiB);
    g_autofree uint8_t *buf = g_malloc0(len);

    g_assert_cmpuint(align, ==, 64 * 512);
    g_assert_cmpuint(len, ==, 1 * MiB / 512 / 8);
    g_assert_cmpuint(strlen(empty), ==, 64);
    bdrv_set_dirty_bitmap(a, 0, 512);
    bdrv_set_dirty_bitmap(a, 100 * KiB, 10 * KiB);
    g_autofree char *dirty = bdrv_dirty_bitmap_sha256(a, &error_abort);
    g_assert_cmpstr(empty, !=, dirty);

    bdrv_dirty_bitmap_serialize_part(a, buf, 0, 1 * MiB);
    g_assert_cmpint(buf[0], ==, 1);          /* chunk 0 is bit 0 of byte 0 */
    bdrv_dirty_bitmap_deserialize_part(b, buf, 0, align, false);
    bdrv_dirty_bitmap_deserialize_part(b, buf + align / 512 / 8, align, 1 * MiB - align, false);
    bdrv_dirty_bitmap_deserialize_finish(b);
    g_autofree char *copy = bdrv_dirty_bitmap_sha256(b, &error_abort);
    g_assert_cmpstr(copy, ==, dirty);
    g_assert_cmpint(bdrv_get_dirty_count(b), ==, bdrv_get_dirty_count(a));

    bdrv_dirty_bitmap_deserialize_ones(b, 0, align, false);
    bdrv_dirty_bitmap_deserialize_zeroes(b, align, 1 * MiB - align, true);
    g_assert_cmpint(bdrv_get_dirty_count(b), ==, align);
    bdrv_unref(bs);
}

static void test_query_and_truncate(void)
{
    BlockDriverState *bs = fake_node(NULL, 1 * MiB, 512, 0);
    BdrvDirtyBitmap *a = bdrv_create_dirty_bitmap(bs, 65536, "a", &error_abort);
    BdrvDirtyBitmap *b = bdrv_create_dirty_bitmap(bs, 4096, NULL, &error_abort);
    g_autoptr(GPtrArray) list = NULL;
    BdrvDirtyBitmapInfo *i;

    bdrv_set_dirty_bitmap(a, 1 * MiB - 1, 1);
    bdrv_dirty_bitmap_set_persistence(a, true);
    bdrv_disable_dirty_bitmap(b);
    bdrv_dirty_bitmap_set_busy(b, true);
    list = bdrv_query_dirty_bitmaps(bs);
    g_assert_cmpuint(list->len, ==, 2);
    i = list->pdata[0];
    g_assert_cmpstr(i->name, ==, "a");
    g_assert_cmpint(i->count, ==, 65536);
    g_assert_cmpuint(i->granularity, ==, 65536);
    g_assert_true(i->recording && !i->busy && i->persistent && !i->inconsistent);
    i = list->pdata[1];
    g_assert_null(i->name);
    g_assert_true(!i->recording && i->busy && !i->persistent);

    /* shrinking drops bits past the end; growing adds clean space */
    bdrv_dirty_bitmap_truncate(bs, 512 * KiB);
    g_assert_cmpint(bdrv_dirty_bitmap_size(a), ==, 512 * KiB);
    g_assert_cmpint(bdrv_get_dirty_count(a), ==, 0);
    bdrv_dirty_bitmap_truncate(bs, 4 * MiB);
    g_assert_cmpint(bdrv_dirty_bitmap_size(b), ==, 4 * MiB);
    bdrv_set_dirty_bitmap(a, 3 * MiB, 1);
    g_assert_cmpint(bdrv_dirty_bitmap_next_dirty(a, 0, -1), ==, 3 * MiB);
    bdrv_unref(bs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_get_aio_context();
    g_test_add_func("/dirty-bitmap/create", test_create);
    g_test_add_func("/dirty-bitmap/ranges", test_ranges);
    g_test_add_func("/dirty-bitmap/io-marks-enabled", test_io_marks_enabled);
    g_test_add_func("/dirty-bitmap/checks", test_checks);
    g_test_add_func("/dirty-bitmap/successor", test_successor);
    g_test_add_func("/dirty-bitmap/clear-merge-undo", test_clear_merge_undo);
    g_test_add_func("/dirty-bitmap/search-and-iter", test_search_and_iter);
    g_test_add_func("/dirty-bitmap/sha256-and-serialise", test_sha256_and_serialise);
    g_test_add_func("/dirty-bitmap/query-and-truncate", test_query_and_truncate);
    return g_test_run();
}
