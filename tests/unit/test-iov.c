/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-iov: iovec copies, discards, QEMUIOVector slicing and buffer_is_zero.
 */
#include "util/osdep.h"
#include "util/iov.h"

/* Split a 64-byte pattern buffer into iovecs of sizes 1, 7, 8, 16, 32. */
static const size_t piece_len[] = { 1, 7, 8, 16, 32 };

static void make_iov(struct iovec *iov, unsigned char *backing)
{
    size_t off = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(piece_len); i++) {
        iov[i].iov_base = backing + off;
        iov[i].iov_len = piece_len[i];
        off += piece_len[i];
    }
}

static void test_iov_copy(void)
{
    unsigned char backing[64], buf[64], out[64];
    struct iovec iov[5];

    make_iov(iov, backing);
    g_assert_cmpuint(iov_size(iov, 5), ==, 64);
    for (int i = 0; i < 64; i++) {
        buf[i] = i + 1;
    }
    /* every (offset, len) combination */
    for (size_t off = 0; off <= 64; off++) {
        for (size_t len = 0; off + len <= 70; len++) {
            memset(backing, 0, sizeof(backing));
            size_t n = iov_from_buf(iov, 5, off, buf, len);
            g_assert_cmpuint(n, ==, MIN(len, 64 - off));
            for (size_t i = 0; i < 64; i++) {
                unsigned char want = (i >= off && i < off + n) ? buf[i - off] : 0;
                g_assert_cmpint(backing[i], ==, want);
            }
            memset(out, 0xee, sizeof(out));
            g_assert_cmpuint(iov_to_buf(iov, 5, off, out, len), ==, n);
            g_assert_cmpmem(out, n, buf, n);
        }
    }
    memset(backing, 0, sizeof(backing));
    g_assert_cmpuint(iov_memset(iov, 5, 5, 0xab, 10), ==, 10);
    for (int i = 0; i < 64; i++) {
        g_assert_cmpint(backing[i], ==, (i >= 5 && i < 15) ? 0xab : 0);
    }
}

static void test_iov_discard(void)
{
    unsigned char backing[64];
    struct iovec arr[5], *iov = arr;
    unsigned cnt = 5;

    make_iov(arr, backing);
    g_assert_cmpuint(iov_discard_front(&iov, &cnt, 3), ==, 3);
    g_assert_cmpuint(cnt, ==, 4);
    g_assert(iov == &arr[1]);
    g_assert(iov[0].iov_base == backing + 3);
    g_assert_cmpuint(iov[0].iov_len, ==, 5);
    g_assert_cmpuint(iov_discard_back(iov, &cnt, 40), ==, 40);
    g_assert_cmpuint(cnt, ==, 3);
    g_assert_cmpuint(iov[2].iov_len, ==, 8);
    g_assert_cmpuint(iov_size(iov, cnt), ==, 21);
    /* discarding more than is there drops everything and reports the real count */
    g_assert_cmpuint(iov_discard_front(&iov, &cnt, 100), ==, 21);
    g_assert_cmpuint(cnt, ==, 0);
    g_assert_cmpuint(iov_discard_back(iov, &cnt, 5), ==, 0);
}

static void test_qiov_basic(void)
{
    unsigned char a[100], b[50];
    QEMUIOVector qiov, slice, buf_qiov;

    for (int i = 0; i < 100; i++) {
        a[i] = i;
    }
    for (int i = 0; i < 50; i++) {
        b[i] = 100 + i;
    }
    qemu_iovec_init(&qiov, 1);
    for (int i = 0; i < 10; i++) {     /* forces growth */
        qemu_iovec_add(&qiov, a + 10 * i, 10);
    }
    qemu_iovec_add(&qiov, b, 50);
    g_assert_cmpint(qiov.niov, ==, 11);
    g_assert_cmpuint(qiov.size, ==, 150);

    qemu_iovec_init_slice(&slice, &qiov, 95, 10);
    g_assert_cmpuint(slice.size, ==, 10);
    g_assert_cmpint(slice.niov, ==, 2);
    unsigned char out[10];
    g_assert_cmpuint(qemu_iovec_to_buf(&slice, 0, out, 10), ==, 10);
    for (int i = 0; i < 10; i++) {
        g_assert_cmpint(out[i], ==, 95 + i);
    }
    qemu_iovec_destroy(&slice);

    /* compare against a flat copy, then break one byte */
    unsigned char flat[150];
    qemu_iovec_to_buf(&qiov, 0, flat, 150);
    qemu_iovec_init_buf(&buf_qiov, flat, sizeof(flat));
    g_assert_cmpint(qemu_iovec_compare(&qiov, &buf_qiov), ==, -1);
    flat[123] ^= 1;
    g_assert_cmpint(qemu_iovec_compare(&qiov, &buf_qiov), ==, 123);
    qemu_iovec_destroy(&buf_qiov);

    g_assert_false(qemu_iovec_is_zero(&qiov, 0, 150));
    qemu_iovec_memset(&qiov, 5, 0, 110);
    g_assert_true(qemu_iovec_is_zero(&qiov, 5, 110));
    g_assert_false(qemu_iovec_is_zero(&qiov, 5, 111));
    g_assert_false(qemu_iovec_is_zero(&qiov, 4, 111));
    g_assert_cmpint(a[4], ==, 4);
    g_assert_cmpint(b[15], ==, 115);

    qemu_iovec_reset(&qiov);
    g_assert_cmpuint(qiov.size, ==, 0);
    qemu_iovec_destroy(&qiov);
}

static void test_qiov_concat_aligned(void)
{
    void *buf = g_malloc0(8192 + 512);
    unsigned char *aligned = (unsigned char *)QEMU_ALIGN_UP((uintptr_t)buf, 512);
    QEMUIOVector src, dst;

    qemu_iovec_init(&src, 2);
    qemu_iovec_add(&src, aligned, 4096);
    qemu_iovec_add(&src, aligned + 4096, 4096);
    g_assert_true(qemu_iovec_is_aligned(&src, 512));
    qemu_iovec_init(&dst, 0);
    qemu_iovec_concat(&dst, &src, 4000, 200);
    g_assert_cmpint(dst.niov, ==, 2);
    g_assert_cmpuint(dst.iov[0].iov_len, ==, 96);
    g_assert(dst.iov[1].iov_base == aligned + 4096);
    g_assert_false(qemu_iovec_is_aligned(&dst, 512));
    qemu_iovec_destroy(&dst);
    qemu_iovec_destroy(&src);
    g_free(buf);
}

static void test_buffer_is_zero(void)
{
    enum { LEN = 512 };
    unsigned char *buf = g_malloc0(LEN + 64);

    /* every start alignment, many lengths, one set byte in every position */
    for (size_t start = 0; start < 17; start++) {
        for (size_t len = 0; len <= LEN; len += (len < 80 ? 1 : 37)) {
            unsigned char *p = buf + start;
            g_assert_true(buffer_is_zero(p, len));
            for (size_t i = 0; i < len; i++) {
                p[i] = 0x10;
                g_assert_false(buffer_is_zero(p, len));
                p[i] = 0;
            }
            /* bytes just outside the range must not matter */
            if (start > 0) {
                p[-1] = 1;
            }
            p[len] = 1;
            g_assert_true(buffer_is_zero(p, len));
            if (start > 0) {
                p[-1] = 0;
            }
            p[len] = 0;
        }
    }
    g_free(buf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iov/copy", test_iov_copy);
    g_test_add_func("/iov/discard", test_iov_discard);
    g_test_add_func("/iov/qiov/basic", test_qiov_basic);
    g_test_add_func("/iov/qiov/concat-aligned", test_qiov_concat_aligned);
    g_test_add_func("/iov/buffer-is-zero", test_buffer_is_zero);
    return g_test_run();
}
