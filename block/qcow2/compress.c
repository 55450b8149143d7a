/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * compress.c: compressed clusters. Type 0 is a raw deflate stream (no zlib
 * header, window bits 12); type 1 is a zstd frame. The stored length is rounded
 * up to whole 512-byte sectors, so the input may carry trailing garbage: a
 * cluster is good as soon as the whole output cluster has been produced.
 *
 * Writing: each guest cluster is compressed on its own into at most
 * cluster_size - 1 bytes (else it is written as a normal cluster), packed
 * byte-wise after the previous compressed cluster (qcow2_alloc_bytes), written,
 * then linked by an L2 entry without the COPIED flag: compressed clusters are
 * never rewritten in place, a later write allocates a normal cluster.
 */
#include "qcow2.h"
#include <zlib.h>
#ifdef CONFIG_ZSTD
#include <zstd.h>
#endif

static int qcow2_inflate(const void *src, size_t src_len, void *dst, size_t dst_len)
{
    z_stream z = { 0 };

    if (inflateInit2(&z, -12) != Z_OK) {
        return -EIO;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = src_len;
    z.next_out = dst;
    z.avail_out = dst_len;
    int ret = inflate(&z, Z_FINISH);
    bool ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR || ret == Z_OK) && z.avail_out == 0;
    inflateEnd(&z);
    return ok ? 0 : -EIO;
}

static ssize_t qcow2_deflate(const void *src, size_t src_len, void *dst, size_t dst_len)
{
    z_stream z = { 0 };

    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY)
        != Z_OK) {
        return -EIO;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = src_len;
    z.next_out = dst;
    z.avail_out = dst_len;
    int ret = deflate(&z, Z_FINISH);
    ssize_t out = dst_len - z.avail_out;
    deflateEnd(&z);
    return ret == Z_STREAM_END ? out : -ENOSPC;
}

int qcow2_decompress(int type, const void *src, size_t src_len, void *dst, size_t dst_len)
{
    if (type == QCOW2_COMPRESSION_ZLIB) {
        return qcow2_inflate(src, src_len, dst, dst_len);
    }
#ifdef CONFIG_ZSTD
    if (type == QCOW2_COMPRESSION_ZSTD) {
        ZSTD_DCtx *dctx = ZSTD_createDCtx();
        ZSTD_inBuffer in = { src, src_len, 0 };
        ZSTD_outBuffer out = { dst, dst_len, 0 };
        int ret = 0;
        if (!dctx) {
            return -ENOMEM;
        }
        while (out.pos < out.size) {
            size_t last_in = in.pos, last_out = out.pos;
            size_t r = ZSTD_decompressStream(dctx, &out, &in);
            if (ZSTD_isError(r)) {
                ret = -EIO;
                break;
            }
            if (in.pos == last_in && out.pos == last_out) {
                ret = -EIO;             /* no progress: truncated input */
                break;
            }
        }
        ZSTD_freeDCtx(dctx);
        return ret;
    }
#endif
    return -ENOTSUP;
}

ssize_t qcow2_compress(int type, const void *src, size_t src_len, void *dst, size_t dst_len)
{
    if (type == QCOW2_COMPRESSION_ZLIB) {
        return qcow2_deflate(src, src_len, dst, dst_len);
    }
#ifdef CONFIG_ZSTD
    if (type == QCOW2_COMPRESSION_ZSTD) {
        size_t r = ZSTD_compress(dst, dst_len, src, src_len, 0);
        return ZSTD_isError(r) ? -ENOSPC : (ssize_t)r;
    }
#endif
    return -ENOTSUP;
}

/* One cluster: guest offset (aligned), data in buf (cluster_size bytes). */
static int coroutine_fn qcow2_write_one_compressed(BlockDriverState *bs, uint64_t offset,
                                                   const uint8_t *buf)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *out = g_malloc(s->cluster_size);
    ssize_t clen = qcow2_compress(s->h.compression_type, buf, s->cluster_size, out,
                                  s->cluster_size - 1);
    QEMUIOVector qiov;

    if (clen < 0) {                     /* does not shrink: a normal cluster */
        qemu_iovec_init_buf(&qiov, (void *)buf, s->cluster_size);
        return qcow2_co_write_clusters(bs, offset, MIN(s->cluster_size, s->h.size - offset),
                                       &qiov, 0);
    }
    Qcow2InFlight inf;
    Qcow2CacheEntry *l2;
    uint32_t i;
    qemu_co_mutex_lock(&s->lock);
    if (s->corrupt) {
        qemu_co_mutex_unlock(&s->lock);
        return -EIO;
    }
    qcow2_in_flight_wait(s, offset, offset + s->cluster_size);
    int64_t host = qcow2_alloc_bytes(bs, clen);
    if (host < 0) {
        qemu_co_mutex_unlock(&s->lock);
        return host;
    }
    qcow2_in_flight_add(s, &inf, offset, offset + s->cluster_size);
    qemu_co_mutex_unlock(&s->lock);

    int ret = qcow2_pre_write_check(bs, 0, host, clen);
    if (ret == 0) {
        BLKDBG_EVENT(bs->file, BLKDBG_WRITE_COMPRESSED);
        ret = bdrv_co_pwrite(bs->file, host, clen, out, 0);
    }
    qemu_co_mutex_lock(&s->lock);
    uint64_t entry = qcow2_compressed_entry(host, clen, s->cluster_bits);
    if (ret == 0) {
        ret = qcow2_get_l2_for_write(bs, offset, &l2, &i);
    }
    if (ret < 0) {
        uint64_t h, b;
        qcow2_compressed_location(entry, s->cluster_bits, &h, &b);
        qcow2_update_refcount(bs, h, b, -1);        /* never linked */
    } else {
        uint64_t old = qcow2_l2_get(l2, i);
        qcow2_l2_set(l2, i, entry);
        qcow2_cache_mark_dirty(l2);
        qcow2_cache_put(&l2);
        qcow2_free_l2_entry(bs, old, false);
    }
    qcow2_in_flight_remove(s, &inf);
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

int coroutine_fn qcow2_co_write_compressed(BlockDriverState *bs, uint64_t offset,
                                           uint64_t bytes, QEMUIOVector *qiov,
                                           size_t qiov_offset)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *buf = g_malloc(s->cluster_size);

    if (offset & s->cluster_mask) {
        return -EINVAL;
    }
    while (bytes) {
        uint64_t n = MIN(bytes, s->cluster_size);
        if (n < s->cluster_size && offset + n != s->h.size) {
            return -EINVAL;             /* a partial cluster only at the image end */
        }
        memset(buf + n, 0, s->cluster_size - n);
        qemu_iovec_to_buf(qiov, qiov_offset, buf, n);
        int ret = qcow2_write_one_compressed(bs, offset, buf);
        if (ret < 0) {
            return ret;
        }
        offset += n;
        bytes -= n;
        qiov_offset += n;
    }
    return 0;
}
