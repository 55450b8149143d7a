/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img commit and rebase: the two subcommands that move data between the
 * layers of a backing chain. Both run synchronously over the blocking blk_*
 * and bdrv_* wrappers; messages are qemu-img 7.2's.
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>

#define IMG_CHAIN_CHUNK (2 * MiB)

/* A writable backend on an existing node (the base of commit). */
static BlockBackend *img_chain_backend(BlockDriverState *bs, Error **errp)
{
    BlockBackend *blk = blk_new(BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE | BLK_PERM_RESIZE,
                                BLK_PERM_ALL);

    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    return blk;
}

/* Copy everything allocated above base (up to top) into base. */
static int img_commit_copy(BlockBackend *top, BlockBackend *base_blk, BlockDriverState *base,
                           bool quiet, bool progress, Error **errp)
{
    int64_t len = blk_getlength(top), base_len = blk_getlength(base_blk), pnum;
    g_autofree uint8_t *buf = g_malloc(IMG_CHAIN_CHUNK);
    int ret;

    if (len < 0 || base_len < 0) {
        error_setg_errno(errp, -(int)(len < 0 ? len : base_len), "Could not get the image size");
        return -EIO;
    }
    if (base_len < len) {
        ret = blk_truncate(base_blk, len, false, PREALLOC_MODE_OFF, 0, errp);
        if (ret < 0) {
            return ret;
        }
    }
    for (int64_t off = 0; off < len; off += pnum) {
        img_progress_print(progress && !quiet, off * 100.0 / len);
        ret = bdrv_is_allocated_above(blk_bs(top), base, false, off,
                                      MIN(len - off, IMG_CHAIN_CHUNK), &pnum);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not get block status");
            return ret;
        }
        if (!ret) {
            continue;
        }
        ret = blk_pread(top, off, pnum, buf, 0);
        if (ret >= 0) {
            ret = blk_pwrite(base_blk, off, pnum, buf, 0);
        }
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not commit offset %" PRId64, off);
            return ret;
        }
    }
    img_progress_print(progress && !quiet, 100);
    img_progress_end(progress && !quiet);
    return blk_flush(base_blk);
}

int img_commit(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *base_name = NULL, *cache = "unsafe";
    bool quiet = false, image_opts = false, drop = false, progress = false, writethrough;
    int c, flags = BDRV_O_RDWR | BDRV_O_UNMAP;
    Error *err = NULL;

    while ((c = getopt_long(argc, argv, ":f:ht:b:dpqr:", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("commit [--object objectdef] [--image-opts] [-q] [-f fmt] [-t cache] "
                   "[-b base] [-r rate_limit] [-d] [-p] filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 't': cache = optarg; break;
        case 'b': base_name = optarg; drop = true; break;   /* -b implies -d */
        case 'd': drop = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'r': break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    const char *filename = argv[optind];
    if (!img_parse_cache(cache, false, &flags, &writethrough)) {
        return 1;
    }
    BlockBackend *blk = img_open(image_opts, filename, fmt, flags, writethrough, quiet, false);
    if (!blk) {
        return 1;
    }
    BlockDriverState *bs = blk_bs(blk), *base;
    int ret = 1;

    if (base_name) {
        base = bdrv_find_backing_image(bs, base_name);
        if (!base) {
            error_report("Did not find '%s' in the backing chain of '%s'", base_name, filename);
            goto out;
        }
    } else {
        base = bdrv_backing_bs(bs);
        if (!base) {
            error_report("Image does not have a backing file");
            goto out;
        }
    }
    if (bdrv_is_read_only(base) && bdrv_reopen_set_read_only(base, false, &err) < 0) {
        error_report_err(err);
        goto out;
    }
    BlockBackend *base_blk = img_chain_backend(base, &err);
    if (!base_blk) {
        error_report_err(err);
        goto out;
    }
    int r = img_commit_copy(blk, base_blk, base, quiet, progress, &err);
    blk_unref(base_blk);
    if (r < 0) {
        error_report_err(err);
        goto out;
    }
    if (!drop) {
        r = bs->drv->make_empty ? bs->drv->make_empty(bs) : -ENOTSUP;
        if (r < 0) {
            error_report("Image committed, but emptying the top image failed: %s",
                         strerror(-r));
            goto out;
        }
    }
    img_printf(quiet, "Image committed.\n");
    ret = 0;
out:
    blk_unref(blk);
    return ret;
}

/* Zeroes past the end of a (shorter) backing file. */
static int img_rebase_read(BlockBackend *blk, int64_t off, int64_t n, uint8_t *buf)
{
    int64_t len = blk ? blk_getlength(blk) : 0;

    memset(buf, 0, n);
    if (!blk || off >= len) {
        return 0;
    }
    return blk_pread(blk, off, MIN(n, len - off), buf, 0);
}

/*
 * Safe mode: every range the image does not allocate itself reads from the
 * old chain; where the new backing file differs, the old data is written into
 * the image, in runs of differing 512-byte sectors.
 */
static int img_rebase_copy(BlockBackend *blk, BlockBackend *new_blk, bool quiet, bool progress)
{
    int64_t len = blk_getlength(blk), pnum;
    g_autofree uint8_t *old = g_malloc(IMG_CHAIN_CHUNK);
    g_autofree uint8_t *new = g_malloc(IMG_CHAIN_CHUNK);
    int ret;

    for (int64_t off = 0; off < len; off += pnum) {
        img_progress_print(progress && !quiet, off * 100.0 / len);
        ret = bdrv_is_allocated(blk_bs(blk), off, MIN(len - off, IMG_CHAIN_CHUNK), &pnum);
        if (ret < 0) {
            error_report("error while reading image metadata: %s", strerror(-ret));
            return ret;
        }
        if (ret) {
            continue;
        }
        ret = blk_pread(blk, off, pnum, old, 0);
        if (ret < 0) {
            error_report("error while reading from old backing file");
            return ret;
        }
        ret = img_rebase_read(new_blk, off, pnum, new);
        if (ret < 0) {
            error_report("error while reading from new backing file");
            return ret;
        }
        for (int64_t i = 0; i < pnum;) {
            int64_t step = MIN(BDRV_SECTOR_SIZE, pnum - i), j = i;
            while (j < pnum && memcmp(old + j, new + j, MIN(BDRV_SECTOR_SIZE, pnum - j))) {
                j += MIN(BDRV_SECTOR_SIZE, pnum - j);
            }
            if (j > i) {
                ret = blk_pwrite(blk, off + i, j - i, old + i, 0);
                if (ret < 0) {
                    error_report("Error while writing to COW image: %s", strerror(-ret));
                    return ret;
                }
                i = j;
            } else {
                i += step;
            }
        }
    }
    img_progress_print(progress && !quiet, 100);
    img_progress_end(progress && !quiet);
    return 0;
}

int img_rebase(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *out_base = NULL, *out_fmt = NULL, *cache = "writeback";
    bool quiet = false, image_opts = false, unsafe = false, progress = false;
    bool force_share = false, writethrough;
    int c, flags = BDRV_O_RDWR;
    Error *err = NULL;

    while ((c = getopt_long(argc, argv, ":hf:F:b:upt:T:qU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("rebase [--object objectdef] [--image-opts] [-U] [-q] [-f fmt] [-t cache] "
                   "[-T src_cache] [-p] [-u] -b backing_file [-F backing_fmt] filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'F': out_fmt = optarg; break;
        case 'b': out_base = optarg; break;
        case 'u': unsafe = true; break;
        case 'p': progress = true; break;
        case 't': cache = optarg; break;
        case 'T': break;
        case 'q': quiet = true; break;
        case 'U': force_share = true; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    if (!unsafe && !out_base) {
        img_error_exit("Must specify backing file (-b) or use unsafe mode (-u)");
    }
    const char *filename = argv[optind];
    if (!img_parse_cache(cache, false, &flags, &writethrough)) {
        return 1;
    }
    if (unsafe) {
        flags |= BDRV_O_NO_BACKING;
    }
    BlockBackend *blk = img_open(image_opts, filename, fmt, flags, writethrough, quiet,
                                 force_share);
    if (!blk) {
        return 1;
    }
    BlockDriverState *bs = blk_bs(blk);
    BlockBackend *new_blk = NULL;
    int ret = 1;

    if (out_base && *out_base && !out_fmt) {
        error_report("Could not change the backing file to '%s': backing format must be "
                     "specified", out_base);
        goto out;
    }
    if (!unsafe && *out_base) {
        g_autofree char *full = path_combine(bs->filename, out_base);
        QDict *opts = NULL;
        tool_put_opt(&opts, "driver", out_fmt);
        new_blk = blk_new_open(full, NULL, opts, 0, &err);
        if (!new_blk) {
            error_reportf_err(err, "Could not open new backing file '%s': ", out_base);
            goto out;
        }
    }
    if (!unsafe && img_rebase_copy(blk, new_blk, quiet, progress) < 0) {
        goto out;
    }
    int r = bdrv_change_backing_file(bs, out_base && *out_base ? out_base : NULL,
                                     out_base && *out_base ? out_fmt : NULL, false);
    if (r == -ENOSPC) {
        error_report("Could not change the backing file to '%s': No space left in the file "
                     "header", out_base);
        goto out;
    } else if (r < 0) {
        error_report("Could not change the backing file to '%s': %s", out_base ?: "",
                     strerror(-r));
        goto out;
    }
    ret = 0;
out:
    if (new_blk) {
        blk_unref(new_blk);
    }
    blk_unref(blk);
    return ret;
}
