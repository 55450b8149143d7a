/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img compare: exit 0 when the guest-visible contents are equal, 1 when they
 * differ, 2 on errors. A size difference is fine when the extra part of the
 * larger image reads as zeroes (except with -s, strict mode, which also wants
 * equal block status). Mismatches are reported at 512-byte granularity.
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>

#define CMP_CHUNK (2 * MiB)

typedef struct CmpImage {
    BlockBackend *blk;
    const char *name;
    int64_t size;
} CmpImage;

static int cmp_read(CmpImage *img, int64_t off, int64_t len, uint8_t *buf)
{
    int ret = blk_pread(img->blk, off, len, buf, 0);

    if (ret < 0) {
        error_report("Error while reading offset %" PRId64 " of %s: %s", off, img->name,
                     strerror(-ret));
    }
    return ret;
}

/* First differing 512-byte block of a and b (len bytes); -1 if none. */
static int64_t cmp_first_diff(const uint8_t *a, const uint8_t *b, int64_t len)
{
    for (int64_t i = 0; i < len; i += BDRV_SECTOR_SIZE) {
        int64_t n = MIN((int64_t)BDRV_SECTOR_SIZE, len - i);
        if (memcmp(a + i, b + i, n)) {
            return i;
        }
    }
    return -1;
}

static int64_t cmp_first_nonzero(const uint8_t *a, int64_t len)
{
    for (int64_t i = 0; i < len; i += BDRV_SECTOR_SIZE) {
        if (!buffer_is_zero(a + i, MIN((int64_t)BDRV_SECTOR_SIZE, len - i))) {
            return i;
        }
    }
    return -1;
}

/* Strict mode: both images must report the same block status over [off, off+len). */
static int cmp_status(CmpImage *a, CmpImage *b, int64_t off, int64_t len, bool *same)
{
    int64_t done = 0;

    *same = true;
    while (done < len) {
        int64_t pa, pb;
        int sa = bdrv_block_status_above(blk_bs(a->blk), NULL, off + done, len - done, &pa,
                                         NULL, NULL, NULL);
        int sb = bdrv_block_status_above(blk_bs(b->blk), NULL, off + done, len - done, &pb,
                                         NULL, NULL, NULL);
        if (sa < 0 || sb < 0) {
            error_report("Sector allocation test failed for %s",
                         sa < 0 ? a->name : b->name);
            return -EIO;
        }
        if (sa != sb) {
            printf("Strict mode: Offset %" PRId64 " block status mismatch!\n", off + done);
            *same = false;
            return 0;
        }
        done += MAX(MIN(pa, pb), 1);
    }
    return 0;
}

static int cmp_run(CmpImage *a, CmpImage *b, bool strict, bool quiet)
{
    g_autofree uint8_t *ba = g_malloc(CMP_CHUNK), *bb = g_malloc(CMP_CHUNK);
    int64_t common = MIN(a->size, b->size);

    if (strict && a->size != b->size) {
        img_printf(quiet, "Strict mode: Image size mismatch!\n");
        return 1;
    }
    for (int64_t off = 0; off < common; off += CMP_CHUNK) {
        int64_t len = MIN(CMP_CHUNK, common - off);
        if (strict) {
            bool same;
            if (cmp_status(a, b, off, len, &same) < 0) {
                return 2;
            }
            if (!same) {
                return 1;
            }
        }
        if (cmp_read(a, off, len, ba) < 0 || cmp_read(b, off, len, bb) < 0) {
            return 2;
        }
        int64_t d = cmp_first_diff(ba, bb, len);
        if (d >= 0) {
            img_printf(quiet, "Content mismatch at offset %" PRId64 "!\n", off + d);
            return 1;
        }
    }
    if (a->size != b->size) {
        CmpImage *big = a->size > b->size ? a : b;
        img_printf(quiet, "Warning: Image size mismatch!\n");
        for (int64_t off = common; off < big->size; off += CMP_CHUNK) {
            int64_t len = MIN(CMP_CHUNK, big->size - off);
            if (cmp_read(big, off, len, ba) < 0) {
                return 2;
            }
            int64_t d = cmp_first_nonzero(ba, len);
            if (d >= 0) {
                img_printf(quiet, "Content mismatch at offset %" PRId64 "!\n", off + d);
                return 1;
            }
        }
    }
    img_printf(quiet, "Images are identical.\n");
    return 0;
}

int img_compare(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt1 = NULL, *fmt2 = NULL, *cache = "writeback";
    bool strict = false, quiet = false, image_opts = false, force_share = false;
    int c, flags = 0;
    bool writethrough = false;

    while ((c = getopt_long(argc, argv, ":hf:F:T:pqsU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("compare [--object objectdef] [--image-opts] [-f fmt] [-F fmt] "
                   "[-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2\n");
            return 0;
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 'T': cache = optarg; break;
        case 'p': break;            /* progress: nothing worth showing for raw */
        case 'q': quiet = true; break;
        case 's': strict = true; break;
        case 'U': force_share = true; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (optind != argc - 2) {
        img_error_exit("Expecting two image file names");
    }
    if (!img_parse_cache(cache, true, &flags, &writethrough)) {
        return 2;
    }
    CmpImage a = { .name = argv[optind] }, b = { .name = argv[optind + 1] };
    int ret = 2;
    a.blk = img_open(image_opts, a.name, fmt1, flags, writethrough, quiet, force_share);
    if (!a.blk) {
        return 2;
    }
    b.blk = img_open(image_opts, b.name, fmt2, flags, writethrough, quiet, force_share);
    if (!b.blk) {
        goto out;
    }
    a.size = blk_getlength(a.blk);
    b.size = blk_getlength(b.blk);
    if (a.size < 0 || b.size < 0) {
        error_report("Can't get size of %s: %s", a.size < 0 ? a.name : b.name,
                     strerror(-(a.size < 0 ? a.size : b.size)));
        goto out;
    }
    ret = cmp_run(&a, &b, strict, quiet);
out:
    if (b.blk) {
        blk_unref(b.blk);
    }
    blk_unref(a.blk);
    return ret;
}
