/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-hbitmap: HBitmap against a naive one-bool-per-chunk reference under random
 * operations (fixed seed), plus edge cases at word and level boundaries,
 * granularity, truncation, merging and serialisation.
 */
#include "util/osdep.h"
#include "util/hbitmap.h"

/* ---- naive reference ---- */

typedef struct Ref {
    uint64_t size;
    int g;
    uint64_t nbits;
    bool *bit;
} Ref;

static void ref_init(Ref *r, uint64_t size, int g)
{
    r->size = size;
    r->g = g;
    r->nbits = DIV_ROUND_UP(size, UINT64_C(1) << g);
    r->bit = g_new0(bool, r->nbits + 1);
}

static void ref_fill(Ref *r, uint64_t start, uint64_t count, bool v)
{
    for (uint64_t i = start; i < start + count; i++) {
        r->bit[i >> r->g] = v;
    }
}

static uint64_t ref_count(const Ref *r)
{
    uint64_t n = 0;
    for (uint64_t b = 0; b < r->nbits; b++) {
        n += r->bit[b];
    }
    return n << r->g;
}

static int64_t ref_next(const Ref *r, int64_t start, int64_t count, bool want)
{
    uint64_t end = MIN((uint64_t)start + count, r->size);
    for (uint64_t b = (uint64_t)start >> r->g; (b << r->g) < end; b++) {
        if (r->bit[b] == want) {
            return MAX(b << r->g, (uint64_t)start);
        }
    }
    return -1;
}

/* Compare everything observable, including searches from a few start points. */
static void check_equal(const HBitmap *hb, const Ref *r, GRand *rnd)
{
    g_assert_cmpuint(hbitmap_size(hb), ==, r->size);
    g_assert_cmpuint(hbitmap_count(hb), ==, ref_count(r));
    g_assert_cmpint(hbitmap_empty(hb), ==, ref_count(r) == 0);
    for (uint64_t i = 0; i < r->size; i += 1 + g_rand_int_range(rnd, 0, 7)) {
        g_assert_cmpint(hbitmap_get(hb, i), ==, r->bit[i >> r->g]);
    }
    for (int k = 0; k < 8 && r->size; k++) {
        int64_t s = g_rand_int_range(rnd, 0, r->size);
        int64_t c = k == 0 ? INT64_MAX : g_rand_int_range(rnd, 1, r->size + 1);
        g_assert_cmpint(hbitmap_next_dirty(hb, s, c), ==, ref_next(r, s, c, true));
        g_assert_cmpint(hbitmap_next_zero(hb, s, c), ==, ref_next(r, s, c, false));
    }
    /* The iterator visits exactly the reference's set chunks. */
    HBitmapIter hbi;
    int64_t item;
    uint64_t b = 0;
    hbitmap_iter_init(&hbi, hb, 0);
    while ((item = hbitmap_iter_next(&hbi)) >= 0) {
        while (!r->bit[b]) {
            b++;
        }
        g_assert_cmpint(item, ==, b << r->g);
        b++;
    }
    for (; b < r->nbits; b++) {
        g_assert_false(r->bit[b]);
    }
}

/* Random set/reset/truncate with a fixed seed; verify after every step. */
static void random_ops(uint64_t size, int g, int steps)
{
    g_autoptr(GRand) rnd = g_rand_new_with_seed(0x60d817 + size + g);
    g_autoptr(HBitmap) hb = hbitmap_alloc(size, g);
    Ref r;
    uint64_t chunk = UINT64_C(1) << g;

    ref_init(&r, size, g);
    for (int step = 0; step < steps; step++) {
        int op = g_rand_int_range(rnd, 0, 10);
        uint64_t start = g_rand_int_range(rnd, 0, r.size);
        uint64_t count = g_rand_int_range(rnd, 1, MIN(r.size - start, 3000) + 1);
        if (op < 5) {
            hbitmap_set(hb, start, count);
            ref_fill(&r, start, count, true);
        } else if (op < 9) {
            start = QEMU_ALIGN_DOWN(start, chunk);
            count = MIN(QEMU_ALIGN_UP(count, chunk), r.size - start);
            hbitmap_reset(hb, start, count);
            ref_fill(&r, start, count, false);
        } else {
            /* truncate to between 1/4 and 2x the original size */
            uint64_t nsize = g_rand_int_range(rnd, size / 4 + 1, size * 2 + 1);
            Ref n;
            ref_init(&n, nsize, g);
            for (uint64_t b = 0; b < MIN(n.nbits, r.nbits); b++) {
                n.bit[b] = r.bit[b];
            }
            g_free(r.bit);
            r = n;
            hbitmap_truncate(hb, nsize);
        }
        check_equal(hb, &r, rnd);
    }
    g_free(r.bit);
}

static void test_random_g0(void)
{
    random_ops(64 * 64 + 77, 0, 400);
    random_ops(64 * 64 * 64 + 5, 0, 60);
}

static void test_random_gran(void)
{
    random_ops(64 * 64 * 8 + 3, 3, 300);
    random_ops(100000, 9, 300);
    random_ops(1000, 12, 200);    /* a single partial chunk at the end */
}

/* ---- edge cases ---- */

static void test_boundaries(void)
{
    /* 3 levels: 64^3 bits */
    const uint64_t size = 64 * 64 * 64;
    const uint64_t marks[] = { 0, 63, 64, 4095, 4096, 4097, 200000, size - 1 };
    g_autoptr(HBitmap) hb = hbitmap_alloc(size, 0);

    for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
        hbitmap_set(hb, marks[i], 1);
    }
    g_assert_cmpuint(hbitmap_count(hb), ==, ARRAY_SIZE(marks));
    for (size_t i = 0; i + 1 < ARRAY_SIZE(marks); i++) {
        g_assert_cmpint(hbitmap_next_dirty(hb, marks[i] + 1, INT64_MAX), ==, marks[i + 1]);
        /* a window that stops just short of the next mark (may be empty) */
        g_assert_cmpint(hbitmap_next_dirty(hb, marks[i] + 1, marks[i + 1] - marks[i] - 1),
                        ==, -1);
        g_assert_cmpint(hbitmap_next_dirty(hb, marks[i] + 1, marks[i + 1] - marks[i]),
                        ==, marks[i + 1]);
    }
    g_assert_cmpint(hbitmap_next_dirty(hb, size - 1, 1), ==, size - 1);
    g_assert_cmpint(hbitmap_next_dirty(hb, size, 1), ==, -1);
    g_assert_cmpint(hbitmap_next_zero(hb, 63, 2), ==, -1);
    g_assert_cmpint(hbitmap_next_zero(hb, 63, 3), ==, 65);

    /* resets that straddle words and clear whole upper-level words */
    hbitmap_reset(hb, 64, 4096 - 64 + 1);
    g_assert_false(hbitmap_get(hb, 64));
    g_assert_false(hbitmap_get(hb, 4096));
    g_assert_true(hbitmap_get(hb, 4097));
    g_assert_cmpint(hbitmap_next_dirty(hb, 1, INT64_MAX), ==, 63);
    g_assert_cmpint(hbitmap_next_dirty(hb, 64, INT64_MAX), ==, 4097);
    hbitmap_reset(hb, 0, size);
    g_assert_true(hbitmap_empty(hb));
    g_assert_cmpint(hbitmap_next_dirty(hb, 0, INT64_MAX), ==, -1);
    g_assert_cmpint(hbitmap_next_zero(hb, 0, INT64_MAX), ==, 0);

    hbitmap_set(hb, 0, size);
    g_assert_cmpuint(hbitmap_count(hb), ==, size);
    g_assert_cmpint(hbitmap_next_zero(hb, 0, INT64_MAX), ==, -1);
    hbitmap_reset_all(hb);
    g_assert_cmpuint(hbitmap_count(hb), ==, 0);
    g_assert_cmpint(hbitmap_next_dirty(hb, 0, INT64_MAX), ==, -1);
}

static void test_granularity(void)
{
    /* g = 4: 16 items per bit; 100 items -> 7 bits, the last covering 96..99 */
    g_autoptr(HBitmap) hb = hbitmap_alloc(100, 4);
    int64_t s, c;

    g_assert_cmpint(hbitmap_granularity(hb), ==, 4);
    hbitmap_set(hb, 17, 1);
    g_assert_cmpuint(hbitmap_count(hb), ==, 16);
    g_assert_true(hbitmap_get(hb, 16));
    g_assert_true(hbitmap_get(hb, 31));
    g_assert_false(hbitmap_get(hb, 32));
    g_assert_cmpint(hbitmap_next_dirty(hb, 0, 100), ==, 16);
    g_assert_cmpint(hbitmap_next_dirty(hb, 20, 100), ==, 20);  /* never below start */
    g_assert_cmpint(hbitmap_next_zero(hb, 20, 100), ==, 32);
    g_assert_cmpint(hbitmap_next_zero(hb, 16, 16), ==, -1);

    hbitmap_set(hb, 99, 1);
    g_assert_cmpuint(hbitmap_count(hb), ==, 32);   /* not clamped, as QEMU */
    g_assert_true(hbitmap_next_dirty_area(hb, 0, 100, INT64_MAX, &s, &c));
    g_assert_cmpint(s, ==, 16);
    g_assert_cmpint(c, ==, 16);
    g_assert_true(hbitmap_next_dirty_area(hb, 32, INT64_MAX, INT64_MAX, &s, &c));
    g_assert_cmpint(s, ==, 96);
    g_assert_cmpint(c, ==, 4);                      /* clamped to size */
    g_assert_true(hbitmap_next_dirty_area(hb, 20, 100, 5, &s, &c));
    g_assert_cmpint(s, ==, 20);
    g_assert_cmpint(c, ==, 5);
    g_assert_false(hbitmap_next_dirty_area(hb, 32, 96, INT64_MAX, &s, &c));

    int64_t n;
    g_assert_true(hbitmap_status(hb, 18, 50, &n));
    g_assert_cmpint(n, ==, 14);
    g_assert_false(hbitmap_status(hb, 40, 100, &n));
    g_assert_cmpint(n, ==, 56);

    /* a reset ending at size may be unaligned */
    hbitmap_reset(hb, 96, 4);
    hbitmap_reset(hb, 16, 16);
    g_assert_true(hbitmap_empty(hb));
}

static void test_huge_sparse(void)
{
    /* 1 TiB at 64 KiB granularity: 16M bits, 4 levels */
    const uint64_t size = 1ULL << 40;
    g_autoptr(HBitmap) hb = hbitmap_alloc(size, 16);

    hbitmap_set(hb, size - 1, 1);
    hbitmap_set(hb, 123 * GiB + 5, 1);
    g_assert_cmpuint(hbitmap_count(hb), ==, 2 * 65536);
    g_assert_cmpint(hbitmap_next_dirty(hb, 0, INT64_MAX), ==, 123 * GiB);
    g_assert_cmpint(hbitmap_next_dirty(hb, 123 * GiB + 65536, INT64_MAX), ==, size - 65536);
    /* many lookups: O(levels) each, so this is instant */
    for (int i = 0; i < 100000; i++) {
        g_assert_cmpint(hbitmap_next_dirty(hb, 124 * GiB, INT64_MAX), ==, size - 65536);
    }
    hbitmap_reset(hb, size - 65536, 65536);
    g_assert_cmpint(hbitmap_next_dirty(hb, 124 * GiB, INT64_MAX), ==, -1);
}

static void test_iter_concurrent_reset(void)
{
    g_autoptr(HBitmap) hb = hbitmap_alloc(10000, 0);
    HBitmapIter hbi;

    hbitmap_set(hb, 10, 1);
    hbitmap_set(hb, 500, 1);
    hbitmap_set(hb, 9000, 1);
    hbitmap_iter_init(&hbi, hb, 0);
    g_assert_cmpint(hbitmap_iter_next(&hbi), ==, 10);
    hbitmap_reset(hb, 500, 1);          /* not yet visited: must be skipped */
    hbitmap_reset(hb, 10, 1);           /* already visited: harmless */
    g_assert_cmpint(hbitmap_iter_next(&hbi), ==, 9000);
    g_assert_cmpint(hbitmap_iter_next(&hbi), ==, -1);
    g_assert_cmpint(hbitmap_iter_next(&hbi), ==, -1);

    hbitmap_iter_init(&hbi, hb, 9001);  /* starting past the last dirty item */
    g_assert_cmpint(hbitmap_iter_next(&hbi), ==, -1);
}

static void test_truncate(void)
{
    g_autoptr(HBitmap) hb = hbitmap_alloc(1000, 0);

    hbitmap_set(hb, 0, 1000);
    hbitmap_truncate(hb, 100);
    g_assert_cmpuint(hbitmap_count(hb), ==, 100);
    hbitmap_truncate(hb, 300000);   /* grows by two levels */
    g_assert_cmpuint(hbitmap_count(hb), ==, 100);
    g_assert_false(hbitmap_get(hb, 100));
    g_assert_cmpint(hbitmap_next_dirty(hb, 100, INT64_MAX), ==, -1);
    hbitmap_set(hb, 299999, 1);
    g_assert_cmpint(hbitmap_next_dirty(hb, 100, INT64_MAX), ==, 299999);
    hbitmap_truncate(hb, 0);
    g_assert_true(hbitmap_empty(hb));
    g_assert_cmpint(hbitmap_next_dirty(hb, 0, INT64_MAX), ==, -1);
}

static void test_merge_copy(void)
{
    g_autoptr(HBitmap) a = hbitmap_alloc(10000, 0);
    g_autoptr(HBitmap) b = hbitmap_alloc(10000, 0);
    g_autoptr(HBitmap) coarse = hbitmap_alloc(10000, 6);
    g_autoptr(HBitmap) other = hbitmap_alloc(9999, 0);

    hbitmap_set(a, 5, 10);
    hbitmap_set(b, 5000, 3);
    g_assert_false(hbitmap_can_merge(a, other));
    g_autoptr(HBitmap) c = hbitmap_copy(a);
    hbitmap_merge(a, b, a);
    g_assert_cmpuint(hbitmap_count(a), ==, 13);
    g_assert_cmpuint(hbitmap_count(c), ==, 10);   /* copy is independent */
    g_assert_cmpint(hbitmap_next_dirty(a, 15, INT64_MAX), ==, 5000);

    hbitmap_merge(a, coarse, coarse);             /* fine into coarse */
    g_assert_cmpuint(hbitmap_count(coarse), ==, 128);
    g_assert_cmpint(hbitmap_next_dirty(coarse, 0, INT64_MAX), ==, 0);
    g_assert_cmpint(hbitmap_next_dirty(coarse, 64, INT64_MAX), ==, 4992);

    hbitmap_reset_all(c);
    hbitmap_merge(coarse, c, c);                  /* coarse into fine */
    g_assert_cmpuint(hbitmap_count(c), ==, 128);
    g_assert_true(hbitmap_get(c, 63));
    g_assert_true(hbitmap_get(c, 5055));
}

static void test_serialize(void)
{
    g_autoptr(HBitmap) hb = hbitmap_alloc(64 * 3 + 10, 0);
    g_autoptr(HBitmap) back = hbitmap_alloc(64 * 3 + 10, 0);
    uint8_t buf[32];

    g_assert_cmpuint(hbitmap_serialization_align(hb), ==, 64);
    g_assert_cmpuint(hbitmap_serialization_size(hb, 0, 202), ==, 32);
    g_assert_cmpuint(hbitmap_serialization_size(hb, 64, 128), ==, 16);
    g_assert_cmpuint(hbitmap_serialization_size(hb, 192, 10), ==, 8);
    g_assert_cmpuint(hbitmap_serialization_size(hb, 0, 0), ==, 0);

    hbitmap_set(hb, 0, 1);
    hbitmap_set(hb, 9, 1);
    hbitmap_set(hb, 63, 1);
    hbitmap_set(hb, 64 + 1, 1);
    hbitmap_set(hb, 201, 1);
    memset(buf, 0xcc, sizeof(buf));
    hbitmap_serialize_part(hb, buf, 0, 202);
    static const uint8_t want[32] = {
        0x01, 0x02, 0, 0, 0, 0, 0, 0x80,  0x02, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,           0x00, 0x02, 0, 0, 0, 0, 0, 0,
    };
    g_assert_cmpmem(buf, 32, want, 32);

    /* part by part, finishing on the last */
    hbitmap_deserialize_part(back, buf, 0, 64, false);
    hbitmap_deserialize_part(back, buf + 8, 64, 128, false);
    hbitmap_deserialize_part(back, buf + 24, 192, 10, true);
    g_assert_cmpuint(hbitmap_count(back), ==, 5);
    g_assert_cmpint(hbitmap_next_dirty(back, 66, INT64_MAX), ==, 201);
    g_autofree char *h1 = hbitmap_sha256(hb, NULL);
    g_autofree char *h2 = hbitmap_sha256(back, NULL);
    g_assert_cmpstr(h1, ==, h2);

    /* ones at the tail must not leak past size */
    hbitmap_deserialize_ones(back, 192, 10, true);
    g_assert_cmpuint(hbitmap_count(back), ==, 4 + 10);
    hbitmap_deserialize_zeroes(back, 0, 192, true);
    g_assert_cmpuint(hbitmap_count(back), ==, 10);
    g_assert_cmpint(hbitmap_next_dirty(back, 0, INT64_MAX), ==, 192);

    /* hostile padding bits in a stream are dropped */
    memset(buf, 0xff, 8);
    hbitmap_deserialize_part(back, buf, 192, 10, true);
    g_assert_cmpuint(hbitmap_count(back), ==, 10);

    /* granularity: align is 64 chunks */
    g_autoptr(HBitmap) g9 = hbitmap_alloc(1 << 20, 9);
    g_assert_cmpuint(hbitmap_serialization_align(g9), ==, 64 << 9);
    g_assert_cmpuint(hbitmap_serialization_size(g9, 0, 1 << 20), ==, 2048 / 8);
}

static void test_sha256(void)
{
    g_autoptr(HBitmap) empty = hbitmap_alloc(0, 0);
    g_autoptr(HBitmap) hb = hbitmap_alloc(100, 0);
    g_autofree char *e = hbitmap_sha256(empty, NULL);
    /* one zero word */
    g_assert_cmpstr(e, ==, "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc");

    hbitmap_set(hb, 0, 1);
    hbitmap_set(hb, 63, 1);
    hbitmap_set(hb, 65, 1);
    g_autofree char *h = hbitmap_sha256(hb, NULL);
    g_assert_cmpstr(h, ==, "6fadba19a158fb0f267fb6f5ec951f1003747e92714fb1edf763e39396f79f6d");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hbitmap/random/g0", test_random_g0);
    g_test_add_func("/hbitmap/random/granularity", test_random_gran);
    g_test_add_func("/hbitmap/boundaries", test_boundaries);
    g_test_add_func("/hbitmap/granularity", test_granularity);
    g_test_add_func("/hbitmap/huge-sparse", test_huge_sparse);
    g_test_add_func("/hbitmap/iter-concurrent-reset", test_iter_concurrent_reset);
    g_test_add_func("/hbitmap/truncate", test_truncate);
    g_test_add_func("/hbitmap/merge-copy", test_merge_copy);
    g_test_add_func("/hbitmap/serialize", test_serialize);
    g_test_add_func("/hbitmap/sha256", test_sha256);
    return g_test_run();
}
