/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img resize FILE [+|-]SIZE: the size is the last argument and is taken
 * out before option parsing, so "-1M" is not mistaken for an option.
 * Shrinking needs --shrink. Prints "Image resized." unless -q.
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>

static void resize_bad_size(void)
{
    error_report("Parameter 'size' expects a non-negative number below 2^64");
    fprintf(stderr, "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
            "peta-\nand exabytes, respectively.\n");
}

int img_resize(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "preallocation", required_argument, NULL, OPTION_PREALLOCATION },
        { "shrink", no_argument, NULL, OPTION_SHRINK },
        { NULL, 0, NULL, 0 },
    };
    static const char *const prealloc_names[] = {
        [PREALLOC_MODE_OFF] = "off", [PREALLOC_MODE_METADATA] = "metadata",
        [PREALLOC_MODE_FALLOC] = "falloc", [PREALLOC_MODE_FULL] = "full",
    };
    const char *fmt = NULL;
    bool quiet = false, image_opts = false, shrink = false;
    PreallocMode prealloc = PREALLOC_MODE_OFF;
    Error *err = NULL;
    int c, relative = 0;

    if (argc < 3) {
        img_error_exit("Not enough arguments");
    }
    const char *size_arg = argv[--argc];
    argv[argc] = NULL;

    while ((c = getopt_long(argc, argv, ":f:hq", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("resize [--object objectdef] [--image-opts] [-f fmt] "
                   "[--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case OPTION_OBJECT: break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_SHRINK: shrink = true; break;
        case OPTION_PREALLOCATION: {
            unsigned i;
            for (i = 0; i < ARRAY_SIZE(prealloc_names) && strcmp(prealloc_names[i], optarg);
                 i++) {
            }
            if (i == ARRAY_SIZE(prealloc_names)) {
                error_report("Invalid preallocation mode '%s'", optarg);
                return 1;
            }
            prealloc = i;
            break;
        }
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting image file name and size");
    }
    if (size_arg[0] == '+' || size_arg[0] == '-') {
        relative = size_arg[0] == '+' ? 1 : -1;
        size_arg++;
    }
    uint64_t n;
    int rc = qemu_strtosz(size_arg, NULL, &n);
    if (rc == -ERANGE || (rc == 0 && n > INT64_MAX)) {
        error_report("Value '%s' is out of range for parameter 'size'", size_arg);
        return 1;
    }
    if (rc < 0) {
        resize_bad_size();
        return 1;
    }

    BlockBackend *blk = img_open(image_opts, argv[optind], fmt, BDRV_O_RDWR | BDRV_O_RESIZE,
                                 false, quiet, false);
    if (!blk) {
        return 1;
    }
    int ret = 1;
    int64_t current = blk_getlength(blk), total;
    if (current < 0) {
        error_report("Failed to inquire current image length: %s", strerror(-current));
        goto out;
    }
    total = relative ? current + relative * (int64_t)n : (int64_t)n;
    if (total <= 0) {
        error_report("New image size must be positive");
        goto out;
    }
    if (total < current && !shrink) {
        error_report("Use the --shrink option to perform a shrink operation.");
        warn_report("Shrinking an image will delete all data beyond the shrunken image's "
                    "end. Before performing such an operation, make sure there is no "
                    "important data there.");
        goto out;
    }
    if (blk_truncate(blk, total, false, prealloc, 0, &err) < 0) {
        error_report_err(err);
        goto out;
    }
    img_printf(quiet, "Image resized.\n");
    ret = 0;
out:
    blk_unref(blk);
    return ret;
}
