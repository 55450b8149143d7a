/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img convert SRC... DST: concatenates the sources into a new (or with -n
 * an existing) target of any format that can be created. Sparse-aware: ranges
 * the sources report as zero, and zero runs of at least -S bytes (default 4 KiB;
 * -S 0 writes everything) inside data, are not written to a target known to
 * read as zeroes, and become write-zeroes requests otherwise.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "img.h"
#include <getopt.h>

#define CONVERT_CHUNK (2 * MiB)

typedef struct ConvertState {
    BlockBackend **src;
    const char **src_names;
    int64_t *src_sizes;
    int n_src;
    int64_t total;
    BlockBackend *target;
    bool target_is_zero;        /* fresh image or --target-is-zero: skip zero ranges */
    int64_t min_sparse;         /* -S: 0 = write every byte */
    bool progress;
    bool compress;              /* -c: whole target clusters, BDRV_REQ_WRITE_COMPRESSED */
    int64_t cluster;            /* target cluster size (compression granule) */
    bool in_order;              /* not -W: writes go out in offset order */
    bool target_has_backing;    /* -B: only what the top source layer provides is copied */
    bool counting;              /* -p pre-pass: claim chunks only to add up their sizes */
    int64_t allocated_total;    /* -p: bytes that are read and written (QEMU's measure) */
    int64_t allocated_done;

    /* ---- the work queue (main loop only: coroutines interleave at yields) ---- */
    int cur_src;                /* next chunk: source index and offset in it */
    int64_t cur_off;
    int64_t dst_base;           /* target offset of source cur_src */
    int64_t wr_next;            /* in order: target offset the next write must have */
    CoMutex claim_lock;         /* held while a worker claims its next chunk */
    CoQueue wr_queue;           /* writers waiting for their turn */
    int64_t done;
    int running;                /* worker coroutines alive */
    int ret;                    /* first error */
} ConvertState;

/* Write [off, off+len) of buf to the target, skipping or zeroing runs of zeroes. */
static int coroutine_fn convert_co_write(ConvertState *s, int64_t off, int64_t len,
                                         const uint8_t *buf)
{
    int64_t granule = s->compress ? s->cluster : s->min_sparse ? s->min_sparse : len;
    bool sparse = s->min_sparse || s->compress;

    for (int64_t i = 0; i < len; ) {
        int64_t n = MIN(granule - (off + i) % granule, len - i);
        bool zero = sparse && buffer_is_zero(buf + i, n);
        int64_t run = n;

        /* merge neighbouring granules of the same kind into one request */
        while (i + run < len) {
            int64_t m = MIN(granule, len - i - run);
            bool z = sparse && buffer_is_zero(buf + i + run, m);
            if (z != zero) {
                break;
            }
            run += m;
        }
        int ret = 0;
        if (!zero) {
            ret = blk_co_pwrite(s->target, off + i, run, buf + i,
                                s->compress ? BDRV_REQ_WRITE_COMPRESSED : 0);
        } else if (!s->target_is_zero) {
            ret = blk_co_pwrite_zeroes(s->target, off + i, run, BDRV_REQ_MAY_UNMAP);
        }
        if (ret < 0) {
            return ret;
        }
        i += run;
    }
    return 0;
}

/*
 * Claim the next chunk: source *i, [*off, *off + *len) with block status *st.
 * Chunks are claimed in offset order; false when everything is claimed.
 */
static bool coroutine_fn convert_co_claim(ConvertState *s, int *i, int64_t *off,
                                          int64_t *len, int64_t *dst, int *st)
{
    while (s->cur_src < s->n_src && s->cur_off >= s->src_sizes[s->cur_src]) {
        s->dst_base += s->src_sizes[s->cur_src++];
        s->cur_off = 0;
    }
    if (s->cur_src >= s->n_src || s->ret) {
        return false;
    }
    *i = s->cur_src;
    *off = s->cur_off;
    *dst = s->dst_base + *off;
    int64_t max = MIN(CONVERT_CHUNK, s->src_sizes[*i] - *off), pnum = max;
    BlockDriverState *src_bs = blk_bs(s->src[*i]);
    BlockDriverState *base = s->target_has_backing ? bdrv_filter_or_cow_bs(src_bs) : NULL;
    *st = bdrv_co_block_status_above(src_bs, base, true, *off, max, &pnum, NULL, NULL, NULL);
    if (*st < 0) {
        error_report("error while reading block status at offset %" PRId64 ": %s", *off,
                     strerror(-*st));
        s->ret = *st;
        return false;
    }
    pnum = MAX(MIN(pnum, max), 1);
    if (s->compress && pnum < max) {
        /* whole clusters only: a partial one is read (and compressed) as data */
        int64_t end = QEMU_ALIGN_DOWN(*dst + pnum, s->cluster) - s->dst_base;
        if (end <= *off) {
            end = MIN(ROUND_UP(*dst + 1, s->cluster) - s->dst_base, *off + max);
            *st = BDRV_BLOCK_DATA;
        }
        pnum = end - *off;
    }
    *len = pnum;
    s->cur_off = *off + pnum;
    return true;
}

static void coroutine_fn convert_co_worker(void *opaque)
{
    ConvertState *s = opaque;
    uint8_t *buf = bdrv_blockalign(blk_bs(s->target), CONVERT_CHUNK);
    int i, st;
    int64_t off, len, dst;

    for (;;) {
        /* one claim at a time: chunks are handed out in offset order */
        qemu_co_mutex_lock(&s->claim_lock);
        bool more = convert_co_claim(s, &i, &off, &len, &dst, &st);
        qemu_co_mutex_unlock(&s->claim_lock);
        if (!more) {
            break;
        }
        bool zero = (st & BDRV_BLOCK_ZERO) && (s->min_sparse || s->compress);
        /* -B: what the source's backing chain provides comes from the target's */
        bool skip = s->target_has_backing && !(st & BDRV_BLOCK_ALLOCATED);
        int ret = 0;
        if (s->counting) {
            s->allocated_total += zero || skip ? 0 : len;
            continue;
        }
        if (skip) {
            zero = true;
        }
        if (!zero) {
            ret = blk_co_pread(s->src[i], off, len, buf, 0);
            if (ret < 0) {
                error_report("error while reading at byte %" PRId64 ": %s", off,
                             strerror(-ret));
            }
        }
        while (ret == 0 && s->in_order && s->wr_next != dst && !s->ret) {
            qemu_co_queue_wait(&s->wr_queue, NULL);
        }
        /*
         * In order means: started in offset order. The next chunk may start as soon
         * as this write has entered the block layer (it runs until its first yield:
         * a qcow2 target has allocated its clusters by then, under its lock, which
         * hands out in arrival order), so the data writes overlap.
         */
        s->wr_next = dst + len;
        qemu_co_queue_restart_all(&s->wr_queue);
        if (ret == 0 && !s->ret) {
            if (skip) {
                ret = 0;
            } else if (zero) {
                ret = s->target_is_zero ? 0 :
                      blk_co_pwrite_zeroes(s->target, dst, len, BDRV_REQ_MAY_UNMAP);
            } else {
                ret = convert_co_write(s, dst, len, buf);
            }
            if (ret < 0) {
                error_report("error while writing at byte %" PRId64 ": %s", dst,
                             strerror(-ret));
            }
        }
        if (ret < 0 && !s->ret) {
            s->ret = ret;
        }
        s->done += len;
        qemu_co_queue_restart_all(&s->wr_queue);
        if (!zero && !skip) {
            /* as qemu-img: progress moves with the data copied, not the zeroes */
            s->allocated_done += len;
            img_progress_print(s->progress, s->allocated_total ?
                               100.0 * s->allocated_done / s->allocated_total : 100);
        }
    }
    bdrv_blockfree(buf);
    s->running--;
    qemu_co_queue_restart_all(&s->wr_queue);
    aio_notify(qemu_get_aio_context());
}

/* Copy with num_co coroutines: reads overlap, writes keep order unless -W. */
static int convert_copy(ConvertState *s, int num_co)
{
    qemu_co_queue_init(&s->wr_queue);
    qemu_co_mutex_init(&s->claim_lock);
    img_progress_print(s->progress, 0);
    if (s->progress) {
        /* a first pass over the block status, as qemu-img: the size of the data */
        s->counting = true;
        s->running = 1;
        qemu_coroutine_enter(qemu_coroutine_create(convert_co_worker, s));
        AIO_WAIT_WHILE(qemu_get_aio_context(), s->running > 0);
        s->counting = false;
        s->cur_src = 0;
        s->cur_off = s->dst_base = 0;
        if (s->ret < 0) {
            return s->ret;
        }
    }
    s->running = num_co;
    for (int k = 0; k < num_co; k++) {
        qemu_coroutine_enter(qemu_coroutine_create(convert_co_worker, s));
    }
    AIO_WAIT_WHILE(qemu_get_aio_context(), s->running > 0);
    if (s->ret < 0) {
        return s->ret;
    }
    img_progress_print(s->progress, 100);
    img_progress_end(s->progress);
    return 0;
}

/* Create the target with out_fmt and the -o options; size = total of the sources. */
static bool convert_create(const char *out, const char *out_fmt, const char *options,
                           int64_t size, const char *backing, const char *backing_fmt)
{
    const BlockDriver *drv = bdrv_find_format(out_fmt);
    g_autoptr(QDict) opts = qdict_new();
    Error *err = NULL;
    char size_str[32];

    if (!drv) {
        error_report("Unknown file format '%s'", out_fmt);
        return false;
    }
    if (!drv->create_opts || !drv->co_create_opts) {
        error_report("Format driver '%s' does not support image creation", out_fmt);
        return false;
    }
    const BlockDriver *proto = bdrv_find_protocol(out, true, &err);
    if (!proto) {
        error_report_err(err);
        return false;
    }
    /* the format's options first, then the protocol's: as create does */
    GArray *a = g_array_new(true, true, sizeof(CreateOption));
    for (const CreateOption *o = drv->create_opts; o->name; o++) {
        g_array_append_val(a, *o);
    }
    for (const CreateOption *o = proto->create_opts; o && o->name; o++) {
        g_array_append_val(a, *o);
    }
    g_autofree CreateOption *all = (CreateOption *)g_array_free(a, false);
    if (options && !bdrv_create_opts_parse(all, options, opts, &err)) {
        error_report_err(err);
        return false;
    }
    snprintf(size_str, sizeof(size_str), "%" PRId64, size);
    qdict_put_str(opts, "size", size_str);
    if (backing) {
        qdict_put_str(opts, "backing_file", backing);
    }
    if (backing_fmt) {
        qdict_put_str(opts, "backing_fmt", backing_fmt);
    }
    if (bdrv_create(drv, out, opts, &err) < 0) {
        error_reportf_err(err, "%s: error while converting %s: ", out, out_fmt);
        return false;
    }
    return true;
}

int img_convert(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "target-image-opts", no_argument, NULL, OPTION_TARGET_IMAGE_OPTS },
        { "target-is-zero", no_argument, NULL, OPTION_TARGET_IS_ZERO },
        { "salvage", no_argument, NULL, OPTION_SALVAGE },
        { "bitmaps", no_argument, NULL, OPTION_BITMAPS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *out_fmt = NULL, *cache = "unsafe", *src_cache = "writeback";
    g_autofree char *options = NULL;
    bool quiet = false, skip_create = false, image_opts = false, force_share = false;
    bool target_is_zero = false, progress = false, target_image_opts = false;
    ConvertState s = { .min_sparse = 4096, .in_order = true };
    bool compress = false;
    const char *out_baseimg = NULL, *backing_fmt = NULL;
    int num_co = 8;
    uint64_t v;
    int c, ret = 1;

    while ((c = getopt_long(argc, argv, ":hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:", long_options,
                            NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("convert [--object objectdef] [--image-opts] [--target-image-opts] "
                   "[-U] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt] "
                   "[-o options] [-S sparse_size] filename [filename2 [...]] "
                   "output_filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'o': {
            char *joined = options ? g_strdup_printf("%s,%s", options, optarg)
                                   : g_strdup(optarg);
            g_free(options);
            options = joined;
            break;
        }
        case 'S':
            if (qemu_strtosz(optarg, NULL, &v) < 0 || v > INT64_MAX / 2) {
                error_report("Invalid buffer size for sparse output specified. You may use "
                             "k, M, G, T, P or E suffixes for");
                error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                             "exabytes.");
                return 1;
            }
            s.min_sparse = v;
            break;
        case 'p': progress = true; break;
        case 't': cache = optarg; break;
        case 'T': src_cache = optarg; break;
        case 'q': quiet = true; break;
        case 'n': skip_create = true; break;
        case 'U': force_share = true; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_TARGET_IS_ZERO: target_is_zero = true; break;
        case 'c': compress = true; break;
        case 'W': s.in_order = false; break;
        case 'm':
            if (qemu_strtoi(optarg, NULL, 0, &num_co) < 0 || num_co < 1 || num_co > 16) {
                error_report("Invalid number of coroutines. Allowed number of coroutines "
                             "is between 1 and 16");
                return 1;
            }
            break;
        case 'B': out_baseimg = optarg; break;
        case 'F': backing_fmt = optarg; break;
        case OPTION_TARGET_IMAGE_OPTS: target_image_opts = true; break;
        case 'C': case 'l': case 'r':
        case OPTION_OBJECT: case OPTION_SALVAGE:
        case OPTION_BITMAPS:
            break;                  /* accepted; raw-to-raw copies need none of them */
        }
    }
    s.progress = progress && !quiet;
    s.n_src = argc - optind - 1;
    if (s.n_src < 1) {
        error_report("Must specify image file name");
        return 1;
    }
    const char *out = argv[argc - 1];
    if (target_image_opts && !skip_create) {
        error_report("--target-image-opts requires use of -n flag");
        return 1;
    }
    if (!out_fmt && !target_image_opts) {
        out_fmt = "raw";    /* with --target-image-opts the options name the driver */
    }

    int src_flags = 0, dst_flags = BDRV_O_RDWR;
    bool src_wt = false, dst_wt = false;
    if (!img_parse_cache(src_cache, true, &src_flags, &src_wt)) {
        return 1;
    }
    if (!img_parse_cache(cache, false, &dst_flags, &dst_wt)) {
        return 1;
    }
    if (!force_share) {
        src_flags |= BDRV_O_NO_SHARE;   /* nobody may write the source meanwhile */
    }
    s.src = g_new0(BlockBackend *, s.n_src);
    s.src_names = g_new0(const char *, s.n_src);
    s.src_sizes = g_new0(int64_t, s.n_src);
    for (int i = 0; i < s.n_src; i++) {
        s.src_names[i] = argv[optind + i];
        s.src[i] = img_open(image_opts, s.src_names[i], fmt, src_flags, src_wt, quiet,
                            force_share);
        if (!s.src[i]) {
            goto out;
        }
        s.src_sizes[i] = blk_getlength(s.src[i]);
        if (s.src_sizes[i] < 0) {
            error_report("Could not get size of %s: %s", s.src_names[i],
                         strerror(-s.src_sizes[i]));
            goto out;
        }
        s.total += s.src_sizes[i];
    }
    if (out_baseimg && skip_create) {
        error_report("Specifying backing image makes no sense when not creating an image.");
        goto out;
    }
    if (!skip_create) {
        if (!convert_create(out, out_fmt, options, s.total, out_baseimg, backing_fmt)) {
            goto out;
        }
        /* a new image reads as zeroes, unless a backing file shows through */
        target_is_zero = !out_baseimg;
    }
    s.target_has_backing = out_baseimg != NULL;
    s.target = img_open(target_image_opts, out, out_fmt, dst_flags | BDRV_O_NO_SHARE, dst_wt,
                        quiet, false);
    if (!s.target) {
        goto out;
    }
    if (skip_create) {
        int64_t tsize = blk_getlength(s.target);
        if (tsize >= 0 && tsize < s.total) {
            error_report("Target image is too small: %" PRId64 " < %" PRId64, tsize, s.total);
            goto out;
        }
    }
    s.target_is_zero = target_is_zero;
    if (compress) {
        BlockDriverInfo bdi;
        if (bdrv_get_info(blk_bs(s.target), &bdi) < 0 || bdi.cluster_size <= 0) {
            error_report("could not get block driver info");
            goto out;
        }
        s.compress = true;
        s.cluster = bdi.cluster_size;
    }
    ret = convert_copy(&s, num_co) < 0 ? 1 : 0;
    if (ret == 0 && blk_flush(s.target) < 0) {
        error_report("error while flushing the target");
        ret = 1;
    }
out:
    if (s.target) {
        blk_unref(s.target);
    }
    for (int i = 0; i < s.n_src; i++) {
        if (s.src[i]) {
            blk_unref(s.src[i]);
        }
    }
    g_free(s.src);
    g_free(s.src_names);
    g_free(s.src_sizes);
    return ret;
}
