/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * iov.h: scatter/gather helpers and QEMUIOVector, the buffer description that
 * travels down the request path (virtio-blk maps guest buffers into one; io.c
 * slices, pads and bounces it; back ends hand its iovec array to the kernel).
 *
 * A QEMUIOVector either owns a growable iovec array (qemu_iovec_init/add/destroy)
 * or describes one external buffer without allocating (qemu_iovec_init_buf). It
 * never owns the memory the iovecs point to.
 *
 * Threads: no shared state; a vector belongs to its request.
 */
#ifndef GODWIT_IOV_H
#define GODWIT_IOV_H

#include "util/osdep.h"
#include <sys/uio.h>

/* ---- plain iovec arrays ---- */

size_t iov_size(const struct iovec *iov, unsigned iov_cnt);
/*
 * Copy between an iovec array (starting at byte offset) and a flat buffer; return
 * bytes copied, which is less than bytes when the array ends first.
 */
size_t iov_from_buf(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                    const void *buf, size_t bytes);
size_t iov_to_buf(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                  void *buf, size_t bytes);
size_t iov_memset(const struct iovec *iov, unsigned iov_cnt, size_t offset,
                  int fillc, size_t bytes);
/*
 * Drop bytes from the front (iov_discard_front: advances *iov and trims the new first
 * element in place) or back (trims the last element, lowers *iov_cnt); return bytes
 * dropped (less than bytes if the array was shorter).
 */
size_t iov_discard_front(struct iovec **iov, unsigned *iov_cnt, size_t bytes);
size_t iov_discard_back(struct iovec *iov, unsigned *iov_cnt, size_t bytes);

/* ---- QEMUIOVector ---- */

typedef struct QEMUIOVector {
    struct iovec *iov;
    int niov;
    int nalloc;               /* -1: external array (init_buf/init_external), not ours to free */
    size_t size;              /* total bytes */
    struct iovec local_iov;   /* storage for qemu_iovec_init_buf */
} QEMUIOVector;

/* An empty vector owning a growable array; release with qemu_iovec_destroy. */
void qemu_iovec_init(QEMUIOVector *qiov, int alloc_hint);
/* Describe one flat buffer; needs no destroy (destroy is harmless). */
void qemu_iovec_init_buf(QEMUIOVector *qiov, void *buf, size_t len);
/* Describe an existing iovec array without copying it. */
void qemu_iovec_init_external(QEMUIOVector *qiov, struct iovec *iov, int niov);
/*
 * qiov = the bytes [offset, offset+len) of src: a new iovec array (owned by qiov,
 * so qemu_iovec_destroy it) pointing into the same memory as src.
 */
void qemu_iovec_init_slice(QEMUIOVector *qiov, QEMUIOVector *src, size_t offset, size_t len);
void qemu_iovec_add(QEMUIOVector *qiov, void *base, size_t len);
/* Append [soffset, soffset+sbytes) of src (references src's memory); dst must own its array. */
void qemu_iovec_concat(QEMUIOVector *dst, QEMUIOVector *src, size_t soffset, size_t sbytes);
void qemu_iovec_destroy(QEMUIOVector *qiov);
void qemu_iovec_reset(QEMUIOVector *qiov);   /* empty an owning vector, keep the allocation */

size_t qemu_iovec_to_buf(QEMUIOVector *qiov, size_t offset, void *buf, size_t bytes);
size_t qemu_iovec_from_buf(QEMUIOVector *qiov, size_t offset, const void *buf, size_t bytes);
size_t qemu_iovec_memset(QEMUIOVector *qiov, size_t offset, int fillc, size_t bytes);
/* Is [offset, offset+bytes) all zero bytes? */
bool qemu_iovec_is_zero(QEMUIOVector *qiov, size_t offset, size_t bytes);
/* memcmp of two vectors of equal size: -1 if equal, else the first differing offset. */
ssize_t qemu_iovec_compare(QEMUIOVector *a, QEMUIOVector *b);
/* Is every buffer and length a multiple of align (for O_DIRECT)? */
bool qemu_iovec_is_aligned(QEMUIOVector *qiov, size_t align);

/* Fast zero test for a flat buffer (vectorised where it pays). */
bool buffer_is_zero(const void *buf, size_t len);

#endif /* GODWIT_IOV_H */
