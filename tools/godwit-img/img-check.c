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
#include "qobject/qjson.h"
#include "qobject/qdict.h"
#include <getopt.h>

static void check_print_human(const BdrvCheckResult *r, bool quiet)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0) {
        img_printf(quiet, "No errors were found on the image.\n");
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
    if (r->bfi.total_clusters && r->bfi.allocated_clusters) {
        img_printf(quiet, "%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, "
                   "%0.2f%% compressed clusters\n",
                   r->bfi.allocated_clusters, r->bfi.total_clusters,
                   r->bfi.allocated_clusters * 100.0 / r->bfi.total_clusters,
                   r->bfi.fragmented_clusters * 100.0 / r->bfi.allocated_clusters,
                   r->bfi.compressed_clusters * 100.0 / r->bfi.allocated_clusters);
    }
    if (r->image_end_offset > 0) {
        img_printf(quiet, "Image end offset: %" PRId64 "\n", r->image_end_offset);
    }
}

/* ImageCheck: optional members only when non-zero; the writer orders them as QEMU. */
static void check_print_json(const BdrvCheckResult *r, const char *filename, const char *fmt)
{
    g_autoptr(QDict) d = qdict_new();

    qdict_put_str(d, "filename", filename);
    qdict_put_str(d, "format", fmt);
    qdict_put_int(d, "check-errors", r->check_errors);
#define CHECK_PUT(key, v) do { if (v) { qdict_put_int(d, key, v); } } while (0)
    CHECK_PUT("image-end-offset", r->image_end_offset);
    CHECK_PUT("corruptions", r->corruptions);
    CHECK_PUT("leaks", r->leaks);
    CHECK_PUT("corruptions-fixed", r->corruptions_fixed);
    CHECK_PUT("leaks-fixed", r->leaks_fixed);
    CHECK_PUT("total-clusters", r->bfi.total_clusters);
    CHECK_PUT("allocated-clusters", r->bfi.allocated_clusters);
    CHECK_PUT("fragmented-clusters", r->bfi.fragmented_clusters);
    CHECK_PUT("compressed-clusters", r->bfi.compressed_clusters);
#undef CHECK_PUT
    g_autoptr(GString) s = qobject_to_json_pretty(QOBJECT(d), true);
    printf("%s\n", s->str);
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
    if (!img_parse_cache(cache, true, &flags, &writethrough)) {
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
    if (ret == 0 && fix && (r.corruptions_fixed || r.leaks_fixed)) {
        int corruptions_fixed = r.corruptions_fixed, leaks_fixed = r.leaks_fixed;
        if (output == IMG_OUTPUT_HUMAN) {
            img_printf(quiet, "The following inconsistencies were found and repaired:\n\n"
                       "    %d leaked clusters\n    %d corruptions\n\n"
                       "Double checking the fixed image now...\n",
                       r.leaks_fixed, r.corruptions_fixed);
        }
        memset(&r, 0, sizeof(r));
        ret = bdrv_check(bs, &r, 0);
        r.corruptions_fixed = corruptions_fixed;
        r.leaks_fixed = leaks_fixed;
    }
    if (ret == 0) {
        if (output == IMG_OUTPUT_HUMAN) {
            check_print_human(&r, quiet);
        } else {
            check_print_json(&r, bs->filename, bdrv_get_format_name(bs));
        }
    }
    blk_unref(blk);
    if (ret < 0 || r.check_errors) {
        if (ret < 0) {
            error_report("Check failed: %s", strerror(-ret));
        } else {
            error_report("Check failed");
        }
        return 1;
    }
    return r.corruptions ? 2 : r.leaks ? 3 : 0;
}
