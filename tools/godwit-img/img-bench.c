/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img bench: count requests of bufsize bytes, depth of them in flight at a
 * time, at offset, offset+step, ... wrapping to the start when the next one
 * would pass the end of the image. Issued with blk_aio_* from completion
 * callbacks, so the measured path is the same one devices use.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "img.h"
#include <getopt.h>

typedef struct BenchData {
    BlockBackend *blk;
    uint64_t image_size;
    bool write;
    int bufsize, step, depth;
    int nrreq;              /* requests still to issue */
    int n;                  /* requests still to complete */
    int flush_interval;     /* 0: never flush */
    bool drain_on_flush;    /* wait for in-flight requests before flushing */
    int in_flight;
    int issued_since_flush;
    bool flush_pending, in_flush;
    int64_t offset;
    unsigned next_slot;
    QEMUIOVector *qiov;     /* one per slot (depth of them) */
    int ret;                /* first error */
} BenchData;

static void bench_cb(void *opaque, int ret);

static void bench_flush_done(void *opaque, int ret);

/* Issue requests up to the queue depth, or start the pending flush. */
static void bench_refill(BenchData *b)
{
    if (b->flush_pending) {
        if (!b->in_flush && (!b->drain_on_flush || b->in_flight == 0)) {
            b->in_flush = true;
            blk_aio_flush(b->blk, bench_flush_done, b);
        }
        return;
    }
    while (b->nrreq > 0 && b->in_flight < b->depth && b->ret == 0) {
        QEMUIOVector *qiov = &b->qiov[b->next_slot++ % b->depth];
        if (b->image_size < (uint64_t)b->offset + b->bufsize) {
            b->offset = 0;          /* wrap around at the end of the image */
        }
        b->nrreq--;
        b->in_flight++;
        if (b->write) {
            blk_aio_pwritev(b->blk, b->offset, qiov, 0, bench_cb, b);
        } else {
            blk_aio_preadv(b->blk, b->offset, qiov, 0, bench_cb, b);
        }
        b->offset += b->step;
        if (b->flush_interval && ++b->issued_since_flush == b->flush_interval) {
            b->flush_pending = true;
            bench_refill(b);
            return;
        }
    }
}

static void bench_flush_done(void *opaque, int ret)
{
    BenchData *b = opaque;

    b->in_flush = false;
    b->flush_pending = false;
    b->issued_since_flush = 0;
    if (ret < 0) {
        error_report("Failed flush request: %s", strerror(-ret));
        b->ret = ret;
        return;
    }
    bench_refill(b);
}

static void bench_cb(void *opaque, int ret)
{
    BenchData *b = opaque;

    b->in_flight--;
    b->n--;
    if (ret < 0) {
        error_report("Failed request: %s", strerror(-ret));
        if (!b->ret) {
            b->ret = ret;
        }
        return;
    }
    bench_refill(b);
}

static bool bench_parse_int(const char *arg, int min, int *out, const char *what)
{
    char *end;
    long v = strtol(arg, &end, 0);

    if (*end || v < min || v > INT_MAX) {
        error_report("Invalid %s specified", what);
        return false;
    }
    *out = v;
    return true;
}

static bool bench_parse_size(const char *arg, int *out, const char *what)
{
    uint64_t v;

    if (qemu_strtosz(arg, NULL, &v) < 0 || v > INT_MAX) {
        error_report("Invalid %s specified", what);
        return false;
    }
    *out = v;
    return true;
}

int img_bench(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "flush-interval", required_argument, NULL, OPTION_FLUSH_INTERVAL },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "pattern", required_argument, NULL, OPTION_PATTERN },
        { "no-drain", no_argument, NULL, OPTION_NO_DRAIN },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool quiet = false, image_opts = false, force_share = false, writethrough = false;
    bool is_write = false, drain_on_flush = true;
    int count = 75000, depth = 64, bufsize = 4096, step = 0, pattern = 0;
    int flush_interval = 0, flags = 0, c;
    int64_t offset = 0;
    uint64_t v;

    while ((c = getopt_long(argc, argv, ":hc:d:f:ni:o:qs:S:t:wU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("bench [-c count] [-d depth] [-f fmt] [--flush-interval=flush_interval] "
                   "[-i aio] [-n] [--no-drain] [-o offset] [--pattern=pattern] [-q] "
                   "[-s buffer_size] [-S step_size] [-t cache] [-w] [-U] filename\n");
            return 0;
        case 'c':
            if (!bench_parse_int(optarg, 1, &count, "request count")) {
                return 1;
            }
            break;
        case 'd':
            if (!bench_parse_int(optarg, 1, &depth, "queue depth")) {
                return 1;
            }
            break;
        case 'f': fmt = optarg; break;
        case 'n': flags |= BDRV_O_NOCACHE; break;
        case 'i':
            if (bdrv_parse_aio(optarg, &flags) < 0) {
                error_report("Invalid aio option: %s", optarg);
                return 1;
            }
            break;
        case 'o':
            if (qemu_strtosz(optarg, NULL, &v) < 0 || v > INT64_MAX) {
                error_report("Invalid offset specified");
                return 1;
            }
            offset = v;
            break;
        case 'q': quiet = true; break;
        case 's':
            if (!bench_parse_size(optarg, &bufsize, "buffer size") || bufsize == 0) {
                return 1;
            }
            break;
        case 'S':
            if (!bench_parse_size(optarg, &step, "step size")) {
                return 1;
            }
            break;
        case 't':
            if (bdrv_parse_cache_mode(optarg, &flags, &writethrough) < 0) {
                error_report("Invalid cache mode");
                return 1;
            }
            break;
        case 'w': is_write = true; break;
        case 'U': force_share = true; break;
        case OPTION_FLUSH_INTERVAL:
            if (!bench_parse_int(optarg, 0, &flush_interval, "flush interval")) {
                return 1;
            }
            break;
        case OPTION_PATTERN:
            if (!bench_parse_int(optarg, 0, &pattern, "pattern byte") || pattern > 0xff) {
                if (pattern > 0xff) {
                    error_report("Invalid pattern byte specified");
                }
                return 1;
            }
            break;
        case OPTION_NO_DRAIN: drain_on_flush = false; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    if (flush_interval && !is_write) {
        error_report("--flush-interval is only available in write tests");
        return 1;
    }
    if (flush_interval && flush_interval < depth) {
        error_report("Flush interval can't be smaller than depth");
        return 1;
    }
    if (is_write) {
        flags |= BDRV_O_RDWR;
    }
    BlockBackend *blk = img_open(image_opts, argv[optind], fmt, flags, writethrough, quiet,
                                 force_share);
    if (!blk) {
        return 1;
    }
    int64_t image_size = blk_getlength(blk);
    if (image_size < 0) {
        blk_unref(blk);
        return 1;
    }

    BenchData b = {
        .blk = blk, .image_size = image_size, .write = is_write, .bufsize = bufsize,
        .step = step ? step : bufsize, .depth = depth, .nrreq = count, .n = count,
        .flush_interval = flush_interval, .drain_on_flush = drain_on_flush, .offset = offset,
    };
    printf("Sending %d %s requests, %d bytes each, %d in parallel "
           "(starting at offset %" PRId64 ", step size %d)\n",
           count, is_write ? "write" : "read", bufsize, depth, offset, b.step);
    if (flush_interval) {
        printf("Sending flush every %d requests\n", flush_interval);
    }

    /* One buffer per slot, filled with the write pattern. */
    uint8_t *buf = bdrv_blockalign(blk_bs(blk), (size_t)depth * bufsize);
    memset(buf, pattern, (size_t)depth * bufsize);
    b.qiov = g_new(QEMUIOVector, depth);
    for (int i = 0; i < depth; i++) {
        qemu_iovec_init_buf(&b.qiov[i], buf + (size_t)i * bufsize, bufsize);
    }

    int64_t t0 = tool_now_ns();
    bench_refill(&b);
    AIO_WAIT_WHILE(qemu_get_aio_context(), b.in_flight > 0 || b.in_flush ||
                                           (b.n > 0 && b.ret == 0));
    int64_t t1 = tool_now_ns();
    printf("Run completed in %3.3f seconds.\n", (t1 - t0) / 1e9);

    bdrv_blockfree(buf);
    g_free(b.qiov);
    blk_unref(blk);
    return b.ret < 0 ? 1 : 0;
}
