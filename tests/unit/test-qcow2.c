/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-qcow2.c: the pure parts of the qcow2 driver (header parsing, validation
 * and serialisation, refcount entry packing, L2 descriptors, compression, the
 * snapshot table) and, through a BlockBackend on a temporary file, the driver
 * itself: create, concurrent allocating writes, zeroes, discard, truncate, check.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-backend.h"
#include "qobject/qdict.h"
#include <fcntl.h>
#include "../../block/qcow2/qcow2.h"
#include "qcow2-test-image.h"

static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static void put64(uint8_t *p, uint64_t v) { put32(p, v >> 32); put32(p + 4, v); }

/* A v3 header as qemu-img 7.2 writes it for a 64 MiB image. */
static void make_header(uint8_t *buf, size_t len)
{
    Qcow2Header h = {
        .version = 3, .cluster_bits = 16, .size = 64 * MiB, .l1_size = 1,
        .l1_table_offset = 0x30000, .refcount_table_offset = 0x10000,
        .refcount_table_clusters = 1, .refcount_order = 4,
    };
    Qcow2HeaderExts exts = { .has_backing_format = true };
    strcpy(exts.backing_format, "qcow2");
    g_assert_cmpint(qcow2_header_serialize(&h, &exts, "base.img", buf, len), >, 0);
}

static void test_header_roundtrip(void)
{
    uint8_t buf[4096];
    Qcow2Header h;
    Qcow2HeaderExts exts;
    Error *err = NULL;

    make_header(buf, sizeof(buf));
    g_assert(qcow2_header_parse(buf, sizeof(buf), &h, &error_abort));
    g_assert(qcow2_header_validate(&h, &error_abort));
    g_assert_cmpuint(h.version, ==, 3);
    g_assert_cmpuint(h.header_length, ==, 112);
    g_assert_cmpuint(h.size, ==, 64 * MiB);
    g_assert_cmpuint(h.l1_table_offset, ==, 0x30000);
    g_assert_cmpuint(h.backing_file_offset, ==, 0x210);     /* as qemu-img places it */
    g_assert_cmpuint(h.backing_file_size, ==, 8);
    g_assert(qcow2_header_read_exts(buf, h.header_length, h.backing_file_offset, &exts, &err));
    g_assert(exts.has_backing_format);
    g_assert_cmpstr(exts.backing_format, ==, "qcow2");
    g_assert_cmpint(exts.nb_features, ==, 8);
    g_assert_cmpstr(exts.features[0].name, ==, "dirty bit");
    g_assert_cmpstr(exts.features[4].name, ==, "extended L2 entries");
    g_assert(!memcmp(buf + 0x210, "base.img", 8));
    qcow2_header_exts_clear(&exts);
}

static void expect_error(const uint8_t *buf, size_t len, const char *msg)
{
    Qcow2Header h;
    Error *err = NULL;

    if (qcow2_header_parse(buf, len, &h, &err)) {
        g_assert(!qcow2_header_validate(&h, &err));
    }
    g_assert(err);
    g_assert_cmpstr(error_get_pretty(err), ==, msg);
    error_free(err);
}

static void test_header_errors(void)
{
    uint8_t buf[4096], b[4096];

    make_header(buf, sizeof(buf));
    memcpy(b, buf, sizeof(b));
    b[0] = 'X';
    expect_error(b, sizeof(b), "Image is not in qcow2 format");
    memcpy(b, buf, sizeof(b));
    put32(b + 4, 4);
    expect_error(b, sizeof(b), "Unsupported qcow2 version 4");
    memcpy(b, buf, sizeof(b));
    put32(b + 20, 8);
    expect_error(b, sizeof(b), "Unsupported cluster size: 2^8");
    put32(b + 20, 22);
    expect_error(b, sizeof(b), "Unsupported cluster size: 2^22");
    memcpy(b, buf, sizeof(b));
    put32(b + 100, 100);
    expect_error(b, sizeof(b), "qcow2 header too short");
    put32(b + 100, 70000);
    expect_error(b, sizeof(b), "qcow2 header exceeds cluster size");
    memcpy(b, buf, sizeof(b));
    put32(b + 96, 7);
    expect_error(b, sizeof(b), "Reference count entry width too large; may not exceed 64 bits");
    memcpy(b, buf, sizeof(b));
    put32(b + 16, 1024);
    expect_error(b, sizeof(b), "Backing file name too long");
}

static void test_features(void)
{
    uint8_t buf[4096];
    Qcow2Header h;
    Qcow2HeaderExts exts;

    make_header(buf, sizeof(buf));
    qcow2_header_parse(buf, sizeof(buf), &h, &error_abort);
    qcow2_header_read_exts(buf, h.header_length, h.backing_file_offset, &exts, &error_abort);
    g_autofree char *a = qcow2_unsupported_features(&exts, 1ULL << 63);
    g_assert_cmpstr(a, ==, "Unknown incompatible feature: 8000000000000000");
    g_autofree char *b = qcow2_unsupported_features(&exts, 0x20);
    g_assert_cmpstr(b, ==, "Unknown incompatible feature: 20");
    g_autofree char *c = qcow2_unsupported_features(&exts, 0x11);
    g_assert_cmpstr(c, ==, "dirty bit, extended L2 entries");
    qcow2_header_exts_clear(&exts);
}

static void test_exts_preserved(void)
{
    uint8_t buf[4096], out[4096];
    Qcow2Header h;
    Qcow2HeaderExts exts, again;

    /* an unknown extension and the bitmaps extension survive a rewrite */
    make_header(buf, sizeof(buf));
    qcow2_header_parse(buf, sizeof(buf), &h, &error_abort);
    qcow2_header_read_exts(buf, h.header_length, h.backing_file_offset, &exts, &error_abort);
    exts.others = g_new0(Qcow2Ext, 2);
    exts.nb_others = 2;
    exts.others[0] = (Qcow2Ext){ QCOW2_EXT_BITMAPS, 24, g_malloc0(24) };
    exts.others[1] = (Qcow2Ext){ 0x12345678, 5, (uint8_t *)g_strdup("hello") };
    g_assert_cmpint(qcow2_header_serialize(&h, &exts, "b", out, sizeof(out)), >, 0);
    qcow2_header_parse(out, sizeof(out), &h, &error_abort);
    qcow2_header_read_exts(out, h.header_length, h.backing_file_offset, &again, &error_abort);
    g_assert_cmpint(again.nb_others, ==, 2);
    g_assert_cmphex(again.others[0].magic, ==, QCOW2_EXT_BITMAPS);
    g_assert_cmpint(again.others[1].len, ==, 5);
    g_assert(!memcmp(again.others[1].data, "hello", 5));
    qcow2_header_exts_clear(&exts);
    qcow2_header_exts_clear(&again);
    /* a truncated extension is an error */
    put32(out + 112 + 4, 5000);
    Error *err = NULL;
    g_assert(!qcow2_header_read_exts(out, 112, sizeof(out), &again, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Header extension too large");
    error_free(err);
    qcow2_header_exts_clear(&again);
}

static void test_refblock(void)
{
    uint8_t block[512];

    for (uint32_t order = 0; order <= 6; order++) {
        uint64_t entries = sizeof(block) * 8 >> order;
        uint64_t max = order == 6 ? UINT64_MAX : (1ULL << (1u << order)) - 1;
        memset(block, 0, sizeof(block));
        for (uint64_t i = 0; i < entries; i++) {
            qcow2_refblock_set(block, order, i, (i * 7 + 1) & max);
        }
        for (uint64_t i = 0; i < entries; i++) {
            g_assert_cmpuint(qcow2_refblock_get(block, order, i), ==, (i * 7 + 1) & max);
        }
    }
    /* LSB first within a byte, as qemu-img writes refcount_bits=1 and 4 */
    memset(block, 0, sizeof(block));
    for (int i = 0; i < 6; i++) {
        qcow2_refblock_set(block, 0, i, 1);
    }
    g_assert_cmphex(block[0], ==, 0x3f);
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(block, 2, 0, 1);
    qcow2_refblock_set(block, 2, 1, 2);
    g_assert_cmphex(block[0], ==, 0x21);
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(block, 4, 1, 0x1234);
    g_assert_cmphex(block[2], ==, 0x12);
    g_assert_cmphex(block[3], ==, 0x34);
}

static void test_l2_entries(void)
{
    g_assert_cmpint(qcow2_l2_entry_type(0, 3), ==, QCOW2_CLUSTER_UNALLOCATED);
    g_assert_cmpint(qcow2_l2_entry_type(1, 3), ==, QCOW2_CLUSTER_ZERO_PLAIN);
    g_assert_cmpint(qcow2_l2_entry_type(1, 2), ==, QCOW2_CLUSTER_UNALLOCATED);
    g_assert_cmpint(qcow2_l2_entry_type(0x50000 | 1, 3), ==, QCOW2_CLUSTER_ZERO_ALLOC);
    g_assert_cmpint(qcow2_l2_entry_type(0x50000 | QCOW2_OFLAG_COPIED, 3), ==,
                    QCOW2_CLUSTER_NORMAL);
    g_assert_cmpint(qcow2_l2_entry_type(QCOW2_OFLAG_COMPRESSED | 0x123, 3), ==,
                    QCOW2_CLUSTER_COMPRESSED);
    for (uint32_t bits = 9; bits <= 21; bits++) {
        uint64_t host = 0x123456789ULL & ((1ULL << (62 - (bits - 8))) - 1), h, n;
        uint64_t len = MIN(3000, 1ULL << bits);
        uint64_t e = qcow2_compressed_entry(host, len, bits);
        qcow2_compressed_location(e, bits, &h, &n);
        g_assert_cmphex(h, ==, host);
        g_assert_cmpuint(n, >=, len);
        g_assert_cmpuint(n, <, len + 512);
    }
}

static void test_compress(void)
{
    g_autofree uint8_t *in = g_malloc(65536), *c = g_malloc(65536), *out = g_malloc(65536);

    for (int i = 0; i < 65536; i++) {
        in[i] = (i / 100) & 0xff;
    }
    for (int type = 0; type <= 1; type++) {
        ssize_t n = qcow2_compress(type, in, 65536, c, 65536);
        if (n == -ENOTSUP) {
            continue;
        }
        g_assert_cmpint(n, >, 0);
        /* trailing sector padding must not matter */
        memset(c + n, 0xee, MIN(511, 65536 - n));
        g_assert_cmpint(qcow2_decompress(type, c, MIN(n + 511, 65536), out, 65536), ==, 0);
        g_assert(!memcmp(in, out, 65536));
        g_assert_cmpint(qcow2_decompress(type, c, n / 2, out, 65536), <, 0);
    }
}

static void test_snapshot_table(void)
{
    uint8_t t[128] = { 0 };
    Qcow2Snapshot *sn;
    Error *err = NULL;

    put64(t, 0x70000);
    put32(t + 8, 1);
    t[13] = 1;                      /* id "1" */
    t[15] = 5;                      /* name "snap1" */
    put32(t + 36, 16);              /* extra: vm_state_size_large, disk_size */
    put64(t + 48, 8 * MiB);
    memcpy(t + 56, "1snap1", 6);
    g_assert_cmpint(qcow2_parse_snapshots(t, 64, 1, 3, &sn, &error_abort), ==, 0);
    g_assert_cmpstr(sn[0].id_str, ==, "1");
    g_assert_cmpstr(sn[0].name, ==, "snap1");
    g_assert_cmpuint(sn[0].disk_size, ==, 8 * MiB);
    g_assert_cmphex(sn[0].l1_table_offset, ==, 0x70000);
    g_free(sn[0].id_str);
    g_free(sn[0].name);
    g_free(sn[0].extra_data);
    g_free(sn);
    g_assert_cmpint(qcow2_parse_snapshots(t, 50, 1, 3, &sn, &err), <, 0);
    error_free(err);
}

/* ---- the driver, through a BlockBackend ---- */

static char *make_image(const char *opts)
{
    return qcow2_test_make_image("test-qcow2", opts);
}

static BlockBackend *open_image(const char *path)
{
    QDict *o = qdict_new();
    qdict_put_str(o, "driver", "qcow2");
    BlockBackend *blk = blk_new_open(path, NULL, o, BDRV_O_RDWR | BDRV_O_RESIZE | BDRV_O_UNMAP,
                                     &error_abort);
    return blk;
}

typedef struct AioDone {
    int pending, errors;
} AioDone;

static void aio_cb(void *opaque, int ret)
{
    AioDone *d = opaque;
    d->pending--;
    d->errors += ret < 0;
}

static void check_clean(BlockBackend *blk)
{
    BdrvCheckResult res = { 0 };
    g_assert_cmpint(bdrv_check(blk_bs(blk), &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions, ==, 0);
    g_assert_cmpint(res.leaks, ==, 0);
    g_assert_cmpint(res.check_errors, ==, 0);
}

static void test_driver_concurrent_writes(void)
{
    g_autofree char *path = make_image("size=16777216,cluster_size=4096");
    BlockBackend *blk = open_image(path);
    enum { N = 64, LEN = 6144 };
    static uint8_t bufs[N][LEN];
    QEMUIOVector qiov[N];
    AioDone d = { 0 };

    /* unaligned, non-overlapping writes that share clusters, all in flight together */
    for (int i = 0; i < N; i++) {
        memset(bufs[i], i + 1, LEN);
        qemu_iovec_init_buf(&qiov[i], bufs[i], LEN);
        d.pending++;
        blk_aio_pwritev(blk, (int64_t)i * (LEN + 2048) + 512 * (i % 3), &qiov[i], 0,
                        aio_cb, &d);
    }
    while (d.pending) {
        aio_poll(qemu_get_aio_context(), true);
    }
    g_assert_cmpint(d.errors, ==, 0);
    uint8_t out[LEN];
    for (int i = 0; i < N; i++) {
        int64_t off = (int64_t)i * (LEN + 2048) + 512 * (i % 3);
        g_assert_cmpint(blk_pread(blk, off, LEN, out, 0), >=, 0);
        for (int j = 0; j < LEN; j++) {
            g_assert_cmpint(out[j], ==, i + 1);
        }
        g_assert_cmpint(blk_pread(blk, off + LEN, 512, out, 0), >=, 0);
        g_assert(buffer_is_zero(out, 512));
    }
    g_assert_cmpint(blk_flush(blk), ==, 0);
    check_clean(blk);
    blk_unref(blk);
    unlink(path);
}

static void test_driver_zero_discard_truncate(void)
{
    g_autofree char *path = make_image("size=4194304,cluster_size=65536");
    BlockBackend *blk = open_image(path);
    g_autofree uint8_t *buf = g_malloc(1 * MiB);

    memset(buf, 0x5a, 1 * MiB);
    g_assert_cmpint(blk_pwrite(blk, 0, 1 * MiB, buf, 0), >=, 0);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 100 * KiB, 300 * KiB, BDRV_REQ_MAY_UNMAP), >=, 0);
    g_assert_cmpint(blk_pdiscard(blk, 512 * KiB, 256 * KiB), >=, 0);
    g_assert_cmpint(blk_pread(blk, 0, 1 * MiB, buf, 0), >=, 0);
    for (int64_t i = 0; i < 1 * MiB; i++) {
        bool zero = (i >= 100 * KiB && i < 400 * KiB) || (i >= 512 * KiB && i < 768 * KiB);
        g_assert_cmpint(buf[i], ==, zero ? 0 : 0x5a);
    }
    g_assert_cmpint(blk_truncate(blk, 64 * MiB, false, PREALLOC_MODE_OFF, 0, &error_abort),
                    ==, 0);
    g_assert_cmpint(blk_getlength(blk), ==, 64 * MiB);
    memset(buf, 0x77, 64 * KiB);
    g_assert_cmpint(blk_pwrite(blk, 63 * MiB, 64 * KiB, buf, 0), >=, 0);
    g_assert_cmpint(blk_truncate(blk, 2 * MiB, false, PREALLOC_MODE_OFF, 0, &error_abort),
                    ==, 0);
    g_assert_cmpint(blk_getlength(blk), ==, 2 * MiB);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    check_clean(blk);
    blk_unref(blk);
    unlink(path);
}

/* Bump the stored refcount of a free cluster behind the driver's back: a leak. */
static void make_leak(const char *path, uint64_t cluster)
{
    int fd = open(path, O_RDWR);
    uint8_t one[2] = { 0, 1 };
    g_assert(fd >= 0);
    /* 64 KiB clusters, 16-bit refcounts: the first refcount block is cluster 2 */
    g_assert_cmpint(pwrite(fd, one, 2, 2 * 65536 + cluster * 2), ==, 2);
    g_assert_cmpint(ftruncate(fd, (cluster + 1) * 65536), ==, 0);   /* inside the file */
    close(fd);
}

static void test_driver_check_repair(void)
{
    g_autofree char *path = make_image("size=4194304");
    BlockBackend *blk = open_image(path);
    BdrvCheckResult res = { 0 };
    uint8_t buf[4096] = { 1 };

    g_assert_cmpint(blk_pwrite(blk, 0, sizeof(buf), buf, 0), >=, 0);
    blk_unref(blk);
    make_leak(path, 40);
    blk = open_image(path);
    g_assert_cmpint(bdrv_check(blk_bs(blk), &res, 0), ==, 0);
    g_assert_cmpint(res.leaks, ==, 1);
    g_assert_cmpint(res.corruptions, ==, 0);
    memset(&res, 0, sizeof(res));
    g_assert_cmpint(bdrv_check(blk_bs(blk), &res, BDRV_FIX_LEAKS), ==, 0);
    g_assert_cmpint(res.leaks_fixed, ==, 1);
    check_clean(blk);
    blk_unref(blk);

    /* a dirty image (lazy refcounts) is repaired when opened read-write */
    make_leak(path, 41);
    int fd = open(path, O_RDWR);
    uint8_t dirty = 1;
    g_assert_cmpint(pwrite(fd, &dirty, 1, 79), ==, 1);
    close(fd);
    blk = open_image(path);
    check_clean(blk);
    blk_unref(blk);
    unlink(path);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (i / 512) % 7 == 0 ? seed : seed + (i & 15);    /* compressible */
    }
}

static void expect_data(BlockBackend *blk, int64_t off, size_t len, uint8_t seed)
{
    g_autofree uint8_t *want = g_malloc(len), *got = g_malloc(len);

    if (seed) {
        fill(want, len, seed);
    } else {
        memset(want, 0, len);
    }
    g_assert_cmpint(blk_pread(blk, off, len, got, 0), >=, 0);
    g_assert(!memcmp(want, got, len));
}

static void test_driver_compressed(void)
{
    g_autofree char *path = make_image("size=1048576,cluster_size=65536");
    BlockBackend *blk = open_image(path);
    g_autofree uint8_t *buf = g_malloc(256 * KiB);
    g_autofree uint8_t *rnd = g_malloc(64 * KiB);

    fill(buf, 256 * KiB, 3);
    g_assert_cmpint(blk_pwrite(blk, 0, 256 * KiB, buf, BDRV_REQ_WRITE_COMPRESSED), >=, 0);
    for (int i = 0; i < 64 * KiB; i++) {
        rnd[i] = g_test_rand_int();         /* incompressible: stored uncompressed */
    }
    g_assert_cmpint(blk_pwrite(blk, 512 * KiB, 64 * KiB, rnd, BDRV_REQ_WRITE_COMPRESSED),
                    >=, 0);
    /* not cluster aligned, or a partial cluster inside the image: -EINVAL */
    g_assert_cmpint(blk_pwrite(blk, 4096, 64 * KiB, buf, BDRV_REQ_WRITE_COMPRESSED), ==,
                    -EINVAL);
    expect_data(blk, 0, 256 * KiB, 3);
    g_autofree uint8_t *out = g_malloc(64 * KiB);
    g_assert_cmpint(blk_pread(blk, 512 * KiB, 64 * KiB, out, 0), >=, 0);
    g_assert(!memcmp(out, rnd, 64 * KiB));
    /* overwrite part of a compressed cluster: it becomes a normal one */
    memset(buf, 0xee, 4096);
    g_assert_cmpint(blk_pwrite(blk, 64 * KiB + 8192, 4096, buf, 0), >=, 0);
    g_assert_cmpint(blk_pread(blk, 64 * KiB + 8192, 4096, out, 0), >=, 0);
    g_assert_cmpint(out[0], ==, 0xee);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    check_clean(blk);
    g_assert_cmpint(blk_pdiscard(blk, 0, 1 * MiB), >=, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    check_clean(blk);
    blk_unref(blk);
    unlink(path);
}

static void test_driver_snapshots(void)
{
    g_autofree char *path = make_image("size=4194304,cluster_size=65536");
    BlockBackend *blk = open_image(path);
    BlockDriverState *bs = blk_bs(blk);
    g_autofree uint8_t *buf = g_malloc(1 * MiB);
    QEMUSnapshotInfo sn = { .icount = UINT64_MAX };
    QEMUSnapshotInfo *list;
    Error *err = NULL;

    fill(buf, 1 * MiB, 1);
    g_assert_cmpint(blk_pwrite(blk, 0, 1 * MiB, buf, 0), >=, 0);
    strcpy(sn.name, "one");
    g_assert_cmpint(bs->drv->snapshot_create(bs, &sn, &error_abort), ==, 0);
    g_assert_cmpstr(sn.id_str, ==, "1");
    check_clean(blk);
    fill(buf, 1 * MiB, 2);
    g_assert_cmpint(blk_pwrite(blk, 256 * KiB, 1 * MiB, buf, 0), >=, 0);
    memset(&sn, 0, sizeof(sn));
    strcpy(sn.name, "two");
    g_assert_cmpint(bs->drv->snapshot_create(bs, &sn, &error_abort), ==, 0);
    g_assert_cmpstr(sn.id_str, ==, "2");
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 2 * MiB, BDRV_REQ_MAY_UNMAP), >=, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    check_clean(blk);

    g_assert_cmpint(bs->drv->snapshot_list(bs, &list), ==, 2);
    g_assert_cmpstr(list[0].name, ==, "one");
    g_assert_cmpstr(list[1].id_str, ==, "2");
    g_assert_cmpuint(list[1].date_sec, >, 0);
    g_free(list);

    g_assert_cmpint(bs->drv->snapshot_goto(bs, "nope"), ==, -ENOENT);
    g_assert_cmpint(bs->drv->snapshot_goto(bs, "one"), ==, 0);
    expect_data(blk, 0, 1 * MiB, 1);
    expect_data(blk, 1 * MiB, 1 * MiB, 0);
    check_clean(blk);
    g_assert_cmpint(bs->drv->snapshot_goto(bs, "2"), ==, 0);
    expect_data(blk, 0, 256 * KiB, 1);
    expect_data(blk, 256 * KiB, 1 * MiB, 2);
    check_clean(blk);

    g_assert_cmpint(bs->drv->snapshot_delete(bs, NULL, "none", &err), ==, -ENOENT);
    g_assert_cmpstr(error_get_pretty(err), ==, "Can't find the snapshot");
    error_free(err);
    g_assert_cmpint(bs->drv->snapshot_delete(bs, "1", NULL, &error_abort), ==, 0);
    check_clean(blk);
    fill(buf, 1 * MiB, 5);
    g_assert_cmpint(blk_pwrite(blk, 0, 1 * MiB, buf, 0), >=, 0);     /* COW of shared */
    g_assert_cmpint(bs->drv->snapshot_delete(bs, NULL, "two", &error_abort), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    check_clean(blk);
    blk_unref(blk);

    blk = open_image(path);
    g_assert_cmpint(blk_bs(blk)->drv->snapshot_list(blk_bs(blk), &list), ==, 0);
    g_free(list);
    expect_data(blk, 0, 1 * MiB, 5);
    check_clean(blk);
    blk_unref(blk);
    unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2/header/roundtrip", test_header_roundtrip);
    g_test_add_func("/qcow2/header/errors", test_header_errors);
    g_test_add_func("/qcow2/header/features", test_features);
    g_test_add_func("/qcow2/header/extensions-preserved", test_exts_preserved);
    g_test_add_func("/qcow2/refblock/orders", test_refblock);
    g_test_add_func("/qcow2/l2/entries", test_l2_entries);
    g_test_add_func("/qcow2/compress/roundtrip", test_compress);
    g_test_add_func("/qcow2/snapshot/table", test_snapshot_table);
    g_test_add_func("/qcow2/driver/concurrent-writes", test_driver_concurrent_writes);
    g_test_add_func("/qcow2/driver/zero-discard-truncate", test_driver_zero_discard_truncate);
    g_test_add_func("/qcow2/driver/check-repair", test_driver_check_repair);
    g_test_add_func("/qcow2/driver/compressed", test_driver_compressed);
    g_test_add_func("/qcow2/driver/snapshots", test_driver_snapshots);
    return g_test_run();
}
