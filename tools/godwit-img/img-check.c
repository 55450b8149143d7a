/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img check: runs the format's co_check. Formats without one (raw) give
 * "This image format does not support checks" and exit status 63, as qemu-img.
 * Exit status otherwise: 0 clean, 2 corruptions, 3 leaks only, 1 check errors.
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>

static void check_print_human(const BdrvCheckResult *r, bool quiet)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0) {
        img_printf(quiet, "No errors were found on the image.\n");
        return;
    }
    if (r->corruptions) {
        img_printf(quiet, "\n%d errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image may corrupt it.\n",
                   r->corruptions);
    }
    if (r->leaks) {
        img_printf(quiet, "\n%d leaked clusters were found on the image.\n"
                   "This means waste of disk space, but no harm to data.\n", r->leaks);
    }
    if (r->check_errors) {
        img_printf(quiet, "\n%d internal errors have occurred during the check.\n",
                   r->check_errors);
    }
}

int img_check(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "repair", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    ImgOutputFormat output = IMG_OUTPUT_HUMAN;
    const char *fmt = NULL, *cache = "writeback";
    bool quiet = false, image_opts = false, force_share = false, writethrough = false;
    int c, fix = 0, flags = BDRV_O_CHECK;

    while ((c = getopt_long(argc, argv, ":hf:r:T:qU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("check [--object objectdef] [--image-opts] [-q] [-f fmt] [--output=ofmt] "
                   "[-r [leaks | all]] [-T src_cache] [-U] filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'r':
            flags |= BDRV_O_RDWR;
            if (!strcmp(optarg, "leaks")) {
                fix = BDRV_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
            } else {
                img_error_exit("Unknown option value for -r "
                               "(expecting 'leaks' or 'all'): %s", optarg);
            }
            break;
        case 'T': cache = optarg; break;
        case 'q': quiet = true; break;
        case 'U': force_share = true; break;
        case OPTION_OUTPUT:
            if (!img_parse_output(optarg, &output)) {
                return 1;
            }
            break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    if (bdrv_parse_cache_mode(cache, &flags, &writethrough) < 0) {
        error_report("Invalid source cache option: %s", cache);
        return 1;
    }
    BlockBackend *blk = img_open(image_opts, argv[optind], fmt, flags, writethrough, quiet,
                                 force_share);
    if (!blk) {
        return 1;
    }
    BlockDriverState *bs = blk_bs(blk);
    BdrvCheckResult r = { 0 };
    int ret;

    if (!bs->drv->co_check) {
        error_report("This image format does not support checks");
        blk_unref(blk);
        return 63;
    }
    ret = bdrv_check(bs, &r, fix);
    if (ret == 0 && (r.corruptions_fixed || r.leaks_fixed)) {
        /* qemu-img's report of a repair, then a fresh check of the result */
        if (output == IMG_OUTPUT_HUMAN) {
            img_printf(quiet, "The following inconsistencies were found and repaired:\n\n"
                       "    %d leaked clusters\n    %d corruptions\n\n"
                       "Double checking the fixed image now...\n",
                       r.leaks_fixed, r.corruptions_fixed);
        }
        memset(&r, 0, sizeof(r));
        ret = bdrv_check(bs, &r, 0);
    }
    if (ret < 0 && ret != -EINVAL) {
        error_report("Check failed: %s", strerror(-ret));
        blk_unref(blk);
        return 1;
    }
    if (output == IMG_OUTPUT_HUMAN) {
        check_print_human(&r, quiet);
    }
    blk_unref(blk);
    if (r.check_errors) {
        return 1;
    }
    return r.corruptions ? 2 : r.leaks ? 3 : 0;
}
