/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Helpers shared by the godwit-img subcommands: opening images, sizes, usage
 * errors, progress output. Message texts are qemu-img 7.2's.
 */
#include "util/osdep.h"
#include "img.h"

void img_error_exit(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vreport(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information\n", error_get_progname());
    exit(EXIT_FAILURE);
}

void img_missing_argument_exit(void)
{
    fprintf(stderr, "Try '%s --help' for more information\n", error_get_progname());
    exit(EXIT_FAILURE);
}

void img_bad_option(int c, char **argv)
{
    extern int optind;

    if (c == ':') {
        img_error_exit("argument missing for option '%s'", argv[optind - 1]);
    }
    img_error_exit("unrecognized option '%s'", argv[optind - 1]);
}

void img_printf(bool quiet, const char *fmt, ...)
{
    va_list ap;

    if (quiet) {
        return;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

bool img_parse_cache(const char *cache, bool source, int *flags, bool *writethrough)
{
    if (bdrv_parse_cache_mode(cache, flags, writethrough) < 0) {
        error_report("Invalid %scache option: %s", source ? "source " : "", cache);
        return false;
    }
    return true;
}

BlockBackend *img_open(bool image_opts, const char *filename, const char *fmt, int flags,
                       bool writethrough, bool quiet, bool force_share)
{
    QDict *opts = NULL;
    Error *err = NULL;
    BlockBackend *blk;

    if (image_opts) {
        if (fmt) {
            error_report("--image-opts and --format are mutually exclusive");
            return NULL;
        }
        if (!tool_parse_opts(filename, NULL, &opts, &err)) {
            error_report_err(err);
            return NULL;
        }
        if (force_share) {
            tool_put_opt(&opts, "force-share", "on");
        }
        blk = blk_new_open(NULL, NULL, opts, flags, &err);
    } else {
        if (fmt) {
            tool_put_opt(&opts, "driver", fmt);
        }
        if (force_share) {
            tool_put_opt(&opts, "force-share", "on");
        }
        blk = blk_new_open(filename, NULL, opts, flags, &err);
    }
    if (!blk) {
        error_reportf_err(err, "Could not open '%s': ", filename);
        return NULL;
    }
    blk_set_enable_write_cache(blk, !writethrough);
    return blk;
}

void img_report_bad_size(void)
{
    error_report("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
    error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
}

int64_t img_parse_size(const char *arg)
{
    uint64_t v;
    int rc = qemu_strtosz(arg, NULL, &v);

    if (rc == -EINVAL) {
        img_report_bad_size();
        return -1;
    }
    if (rc < 0 || v > INT64_MAX) {
        error_report("Invalid image size specified. Must be between 0 and %" PRId64 ".",
                     INT64_MAX);
        return -1;
    }
    return v;
}

void img_progress_print(bool enabled, double percent)
{
    if (enabled) {
        printf("    (%3.2f/100%%)\r", percent);
        fflush(stdout);
    }
}

void img_progress_end(bool enabled)
{
    if (enabled) {
        printf("\n");
    }
}

bool img_parse_output(const char *arg, ImgOutputFormat *out)
{
    if (!strcmp(arg, "json")) {
        *out = IMG_OUTPUT_JSON;
    } else if (!strcmp(arg, "human")) {
        *out = IMG_OUTPUT_HUMAN;
    } else {
        error_report("--output must be used with human or json as argument.");
        return false;
    }
    return true;
}
