/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * iov.c: scatter/gather copies and QEMUIOVector bookkeeping (contracts in
 * include/util/iov.h).
 */
#include "util/osdep.h"
#include "util/iov.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t iov_size(const struct iovec *iov, unsigned iov_cnt)
{
    size_t len = 0;

    for (unsigned i = 0; i < iov_cnt; i++) {
        len += iov[i].iov_len;
    }
    return len;
}

/*
 * Walk the bytes [offset, offset+bytes) of an iovec array, calling fn on each
 * contiguous piece with the position within the walk. Returns bytes visited.
 */
typedef void IovPieceFn(void *base, size_t len, size_t done, void *opaque);

static size_t iov_walk(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                       size_t bytes, IovPieceFn *fn, void *opaque)
{
    size_t done = 0;

    for (unsigned i = 0; i < iov_cnt && done < bytes; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t len = MIN(iov[i].iov_len - offset, bytes - done);
        fn((char *)iov[i].iov_base + offset, len, done, opaque);
        done += len;
        offset = 0;
    }
    return done;
}

static void iov_piece_from_buf(void *base, size_t len, size_t done, void *opaque)
{
    memcpy(base, (const char *)opaque + done, len);
}

static void iov_piece_to_buf(void *base, size_t len, size_t done, void *opaque)
{
    memcpy((char *)opaque + done, base, len);
}

static void iov_piece_memset(void *base, size_t len, size_t done, void *opaque)
{
    memset(base, *(int *)opaque, len);
}

size_t iov_from_buf(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                    const void *buf, size_t bytes)
{
    return iov_walk(iov, iov_cnt, offset, bytes, iov_piece_from_buf, (void *)buf);
}

size_t iov_to_buf(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                  void *buf, size_t bytes)
{
    return iov_walk(iov, iov_cnt, offset, bytes, iov_piece_to_buf, buf);
}

size_t iov_memset(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                  int fillc, size_t bytes)
{
    return iov_walk(iov, iov_cnt, offset, bytes, iov_piece_memset, &fillc);
}

size_t iov_discard_front(struct iovec **iov, unsigned *iov_cnt, size_t bytes)
{
    size_t total = 0;
    struct iovec *cur = *iov;

    while (*iov_cnt > 0 && bytes > 0) {
        if (cur->iov_len > bytes) {
            cur->iov_base = (char *)cur->iov_base + bytes;
            cur->iov_len -= bytes;
            total += bytes;
            break;
        }
        bytes -= cur->iov_len;
        total += cur->iov_len;
        cur++;
        (*iov_cnt)--;
    }
    *iov = cur;
    return total;
}

size_t iov_discard_back(struct iovec *iov, unsigned *iov_cnt, size_t bytes)
{
    size_t total = 0;

    while (*iov_cnt > 0 && bytes > 0) {
        struct iovec *last = &iov[*iov_cnt - 1];
        if (last->iov_len > bytes) {
            last->iov_len -= bytes;
            total += bytes;
            break;
        }
        bytes -= last->iov_len;
        total += last->iov_len;
        (*iov_cnt)--;
    }
    return total;
}

/* ---- QEMUIOVector ---- */

void qemu_iovec_init(QEMUIOVector *qiov, int alloc_hint)
{
    *qiov = (QEMUIOVector) {
        .iov = g_new(struct iovec, MAX(alloc_hint, 1)),
        .nalloc = MAX(alloc_hint, 1),
    };
}

void qemu_iovec_init_buf(QEMUIOVector *qiov, void *buf, size_t len)
{
    *qiov = (QEMUIOVector) {
        .niov = 1,
        .nalloc = -1,
        .size = len,
        .local_iov = { .iov_base = buf, .iov_len = len },
    };
    qiov->iov = &qiov->local_iov;
}

void qemu_iovec_init_external(QEMUIOVector *qiov, struct iovec *iov, int niov)
{
    *qiov = (QEMUIOVector) {
        .iov = iov,
        .niov = niov,
        .nalloc = -1,
        .size = iov_size(iov, niov),
    };
}

void qemu_iovec_add(QEMUIOVector *qiov, void *base, size_t len)
{
    assert(qiov->nalloc != -1);     /* external vectors cannot grow */
    if (qiov->niov == qiov->nalloc) {
        qiov->nalloc = 2 * qiov->nalloc + 1;
        qiov->iov = g_renew(struct iovec, qiov->iov, qiov->nalloc);
    }
    qiov->iov[qiov->niov++] = (struct iovec) { .iov_base = base, .iov_len = len };
    qiov->size += len;
}

void qemu_iovec_concat(QEMUIOVector *dst, QEMUIOVector *src, size_t soffset, size_t sbytes)
{
    assert(soffset + sbytes <= src->size);
    for (int i = 0; i < src->niov && sbytes > 0; i++) {
        if (soffset >= src->iov[i].iov_len) {
            soffset -= src->iov[i].iov_len;
            continue;
        }
        size_t len = MIN(src->iov[i].iov_len - soffset, sbytes);
        qemu_iovec_add(dst, (char *)src->iov[i].iov_base + soffset, len);
        sbytes -= len;
        soffset = 0;
    }
}

void qemu_iovec_init_slice(QEMUIOVector *qiov, QEMUIOVector *src, size_t offset, size_t len)
{
    assert(offset + len <= src->size);
    qemu_iovec_init(qiov, src->niov);
    qemu_iovec_concat(qiov, src, offset, len);
}

void qemu_iovec_destroy(QEMUIOVector *qiov)
{
    if (qiov->nalloc != -1) {
        g_free(qiov->iov);
    }
    memset(qiov, 0, sizeof(*qiov));
    qiov->nalloc = -1;
}

void qemu_iovec_reset(QEMUIOVector *qiov)
{
    assert(qiov->nalloc != -1);
    qiov->niov = 0;
    qiov->size = 0;
}

size_t qemu_iovec_to_buf(QEMUIOVector *qiov, size_t offset, void *buf, size_t bytes)
{
    return iov_to_buf(qiov->iov, qiov->niov, offset, buf, bytes);
}

size_t qemu_iovec_from_buf(QEMUIOVector *qiov, size_t offset, const void *buf, size_t bytes)
{
    return iov_from_buf(qiov->iov, qiov->niov, offset, buf, bytes);
}

size_t qemu_iovec_memset(QEMUIOVector *qiov, size_t offset, int fillc, size_t bytes)
{
    return iov_memset(qiov->iov, qiov->niov, offset, fillc, bytes);
}

bool qemu_iovec_is_zero(QEMUIOVector *qiov, size_t offset, size_t bytes)
{
    assert(offset + bytes <= qiov->size);
    for (int i = 0; i < qiov->niov && bytes > 0; i++) {
        if (offset >= qiov->iov[i].iov_len) {
            offset -= qiov->iov[i].iov_len;
            continue;
        }
        size_t len = MIN(qiov->iov[i].iov_len - offset, bytes);
        if (!buffer_is_zero((char *)qiov->iov[i].iov_base + offset, len)) {
            return false;
        }
        bytes -= len;
        offset = 0;
    }
    return true;
}

ssize_t qemu_iovec_compare(QEMUIOVector *a, QEMUIOVector *b)
{
    size_t off = 0;
    char bufa[4096], bufb[4096];

    assert(a->size == b->size);
    while (off < a->size) {
        size_t len = MIN(sizeof(bufa), a->size - off);
        qemu_iovec_to_buf(a, off, bufa, len);
        qemu_iovec_to_buf(b, off, bufb, len);
        if (memcmp(bufa, bufb, len) != 0) {
            for (size_t i = 0; i < len; i++) {
                if (bufa[i] != bufb[i]) {
                    return off + i;
                }
            }
        }
        off += len;
    }
    return -1;
}

bool qemu_iovec_is_aligned(QEMUIOVector *qiov, size_t align)
{
    for (int i = 0; i < qiov->niov; i++) {
        if ((uintptr_t)qiov->iov[i].iov_base % align || qiov->iov[i].iov_len % align) {
            return false;
        }
    }
    return true;
}

/* ---- buffer_is_zero ---- */

/*
 * Reads the first 16 and the last 8 bytes with unaligned loads (they may overlap the body),
 * then ORs aligned 64-byte blocks together and tests once per block: a branch
 * per block rather than per word keeps the loop near memory bandwidth.
 */
bool buffer_is_zero(const void *buf, size_t len)
{
    const unsigned char *p = buf;

    if (len < 2 * sizeof(uint64_t)) {
        for (size_t i = 0; i < len; i++) {
            if (p[i]) {
                return false;
            }
        }
        return true;
    }

    uint64_t head0, head1, tail;
    memcpy(&head0, p, sizeof(head0));
    memcpy(&head1, p + 8, sizeof(head1));
    memcpy(&tail, p + len - sizeof(tail), sizeof(tail));
    if (head0 | head1 | tail) {
        return false;
    }

    const unsigned char *end = p + len;
    const unsigned char *q = (const unsigned char *)QEMU_ALIGN_UP((uintptr_t)p, 16);
#ifdef __SSE2__
    for (; q + 64 <= end; q += 64) {
        __m128i v = _mm_or_si128(_mm_or_si128(_mm_load_si128((const __m128i *)q),
                                              _mm_load_si128((const __m128i *)(q + 16))),
                                 _mm_or_si128(_mm_load_si128((const __m128i *)(q + 32)),
                                              _mm_load_si128((const __m128i *)(q + 48))));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xffff) {
            return false;
        }
    }
#else
    for (; q + 64 <= end; q += 64) {
        const uint64_t *w = (const uint64_t *)q;
        if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) {
            return false;
        }
    }
#endif
    for (; q + sizeof(uint64_t) <= end; q += sizeof(uint64_t)) {
        if (*(const uint64_t *)q) {
            return false;
        }
    }
    /* What is left (< 8 bytes) is covered by the tail load. */
    return true;
}
