/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * compress.c: compressed clusters. Type 0 is a raw deflate stream (no zlib
 * header, window bits 12); type 1 is a zstd frame. The stored length is rounded
 * up to whole 512-byte sectors, so the input may carry trailing garbage: a
 * cluster is good as soon as the whole output cluster has been produced.
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
