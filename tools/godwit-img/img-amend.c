/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img amend and measure: both take creation options ("-o") and hand them
 * to the format's amend_options/measure entry points (contracts in
 * block-int.h). Formats without them get qemu-img 7.2's refusals.
 */
#include "util/osdep.h"
#include "img.h"
#include "qobject/qjson.h"
#include "qobject/qdict.h"
#include <getopt.h>

/* Options qemu-img amend accepts for a format that can amend. */
static const char *const img_amend_names[] = {
    "backing_file", "backing_fmt", "compat", "data_file", "data_file_raw",
    "lazy_refcounts", "refcount_bits", "size", NULL,
};

/* qcow2's LUKS keyslot options: amend-only, so not among the create options */
static const CreateOption img_amend_qcow2_encrypt[] = {
    { "encrypt.iter-time", CREATE_OPT_NUMBER, "Time to spend in PBKDF in milliseconds" },
    { "encrypt.keyslot", CREATE_OPT_NUMBER, "Select a single keyslot to modify explicitly" },
    { "encrypt.new-secret", CREATE_OPT_STRING,
      "New secret to set in the matching keyslots. Empty string to erase" },
    { "encrypt.old-secret", CREATE_OPT_STRING,
      "Select all keyslots that match this password" },
    { "encrypt.state", CREATE_OPT_STRING,
      "Select new state of affected keyslots (active/inactive)" },
    { NULL }
};

/* What the option string may name: the create options, and qcow2's keyslot ones. */
static CreateOption *img_amend_accepted_opts(const BlockDriver *drv)
{
    GArray *a = g_array_new(true, true, sizeof(CreateOption));

    for (const CreateOption *o = drv->create_opts; o && o->name; o++) {
        g_array_append_val(a, *o);
    }
    for (const CreateOption *o = img_amend_qcow2_encrypt;
         !strcmp(drv->format_name, "qcow2") && o->name; o++) {
        g_array_append_val(a, *o);
    }
    return (CreateOption *)g_array_free(a, false);
}

static bool img_opts_want_help(const char *options)
{
    g_auto(GStrv) items = g_strsplit(options ? options : "", ",", -1);

    for (char **i = items; *i; i++) {
        if (!strcmp(*i, "help") || !strcmp(*i, "?")) {
            return true;
        }
    }
    return false;
}

static void img_append_opts(char **options, const char *arg)
{
    char *joined = *options ? g_strdup_printf("%s,%s", *options, arg) : g_strdup(arg);
    g_free(*options);
    *options = joined;
}

static int img_amend_help(const BlockDriver *drv)
{
    if (!drv->amend_options) {
        error_report("Format driver '%s' does not support option amendment",
                     drv->format_name);
        return 1;
    }
    GArray *a = g_array_new(true, true, sizeof(CreateOption));
    for (const CreateOption *o = drv->create_opts; o && o->name; o++) {
        if (g_strv_contains(img_amend_names, o->name)) {
            g_array_append_val(a, *o);
        }
    }
    if (!strcmp(drv->format_name, "qcow2")) {
        for (const CreateOption *o = img_amend_qcow2_encrypt; o->name; o++) {
            g_array_append_val(a, *o);
        }
    }
    g_autofree CreateOption *opts = (CreateOption *)g_array_free(a, false);
    g_autofree char *help = bdrv_create_opts_help(opts);
    const char *body = strchr(help, '\n');
    printf("Amend options for '%s':\n%s", drv->format_name, body ? body + 1 : "");
    return 0;
}

int img_amend(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force", no_argument, NULL, OPTION_FORCE },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *cache = "writeback";
    g_autofree char *options = NULL;
    bool quiet = false, image_opts = false, force = false, writethrough;
    int c, flags = BDRV_O_RDWR;
    Error *err = NULL;

    while ((c = getopt_long(argc, argv, ":ho:f:t:pq", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("amend [--object objectdef] [--image-opts] [-p] [-q] [-f fmt] [-t cache] "
                   "[--force] -o options filename\n");
            return 0;
        case 'o': img_append_opts(&options, optarg); break;
        case 'f': fmt = optarg; break;
        case 't': cache = optarg; break;
        case 'p': break;
        case 'q': quiet = true; break;
        case OPTION_FORCE: force = true; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (!options) {
        img_error_exit("Must specify options (-o)");
    }
    if (img_opts_want_help(options) && fmt && optind == argc) {
        const BlockDriver *drv = bdrv_find_format(fmt);
        if (!drv) {
            error_report("Unknown file format '%s'", fmt);
            return 1;
        }
        return img_amend_help(drv);
    }
    if (optind != argc - 1) {
        error_report("Expecting one image file name");
        return 1;
    }
    if (!img_parse_cache(cache, false, &flags, &writethrough)) {
        return 1;
    }
    BlockBackend *blk = img_open(image_opts, argv[optind], fmt, flags, writethrough, quiet,
                                 false);
    if (!blk) {
        return 1;
    }
    BlockDriverState *bs = blk_bs(blk);
    int ret = 1;

    if (img_opts_want_help(options)) {
        ret = img_amend_help(bs->drv);
        goto out;
    }
    if (!bs->drv->amend_options) {
        error_report("Format driver '%s' does not support option amendment",
                     bdrv_get_format_name(bs));
        goto out;
    }
    CreateOption *accepted = img_amend_accepted_opts(bs->drv);
    QDict *values = qdict_new();
    bool parsed = bdrv_create_opts_parse(accepted, options, values, &err);
    g_free(accepted);
    if (!parsed ||
        bs->drv->amend_options(bs, values, NULL, NULL, force, &err) < 0) {
        error_report_err(err);
        qobject_unref(values);
        goto out;
    }
    qobject_unref(values);
    ret = 0;
out:
    blk_unref(blk);
    return ret;
}

/* Formats without a measure callback (raw) need exactly their virtual size. */
static bool img_measure_plain(QDict *opts, BlockDriverState *in_bs, BlockMeasureInfo *info,
                              Error **errp)
{
    const char *size = qdict_get_try_str(opts, "size");
    uint64_t v = 0;

    if (size && qemu_strtosz(size, NULL, &v) < 0) {
        error_setg(errp, "Parameter 'size' expects a non-negative number below 2^64");
        return false;
    }
    if (in_bs) {
        int64_t len = bdrv_getlength(in_bs);
        if (len < 0) {
            error_setg_errno(errp, -len, "Unable to get image virtual_size");
            return false;
        }
        v = len;
    }
    info->required = info->fully_allocated = ROUND_UP(v, 512);
    return true;
}

int img_measure(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "size", required_argument, NULL, OPTION_SIZE },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *out_fmt = "raw", *size_arg = NULL;
    g_autofree char *options = NULL;
    ImgOutputFormat output = IMG_OUTPUT_HUMAN;
    bool image_opts = false, force_share = false;
    int c;
    Error *err = NULL;

    while ((c = getopt_long(argc, argv, ":hf:O:o:l:U", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("measure [--output=ofmt] [-O output_fmt] [-o options] [--size N | "
                   "[--object objectdef] [--image-opts] [-f fmt] [-l snapshot_param] "
                   "filename]\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'o': img_append_opts(&options, optarg); break;
        case 'l': break;
        case 'U': force_share = true; break;
        case OPTION_OUTPUT:
            if (!img_parse_output(optarg, &output)) {
                return 1;
            }
            break;
        case OPTION_SIZE:
            size_arg = optarg;
            break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    const char *filename = optind < argc ? argv[optind] : NULL;
    if (optind < argc - 1) {
        error_report("Expecting one image file name");
        return 1;
    }
    if (filename && size_arg) {
        error_report("--size N cannot be used together with a filename.");
        return 1;
    }
    if (!filename && !size_arg) {
        error_report("Either --size N or one filename must be specified.");
        return 1;
    }
    const BlockDriver *drv = bdrv_find_format(out_fmt);
    if (!drv) {
        error_report("Unknown file format '%s'", out_fmt);
        return 1;
    }
    if (!drv->create_opts) {
        error_report("Format driver '%s' does not support image creation", out_fmt);
        return 1;
    }
    BlockBackend *blk = NULL;
    QDict *values = qdict_new();
    BlockMeasureInfo info = { 0 };
    int ret = 1;

    if (options && !bdrv_create_opts_parse(drv->create_opts, options, values, &err)) {
        error_report_err(err);
        goto out;
    }
    if (size_arg) {
        int64_t sz = img_parse_size(size_arg);
        if (sz < 0) {
            goto out;
        }
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64, sz);
        qdict_put_str(values, "size", buf);
    } else {
        blk = img_open(image_opts, filename, fmt, 0, false, false, force_share);
        if (!blk) {
            goto out;
        }
    }
    bool ok = drv->measure ? drv->measure(values, blk ? blk_bs(blk) : NULL, &info, &err)
                           : img_measure_plain(values, blk ? blk_bs(blk) : NULL, &info, &err);
    if (!ok) {
        error_report_err(err);
        goto out;
    }
    if (output == IMG_OUTPUT_JSON) {
        g_autoptr(QDict) d = qdict_new();
        if (info.has_bitmaps) {
            qdict_put_int(d, "bitmaps", info.bitmaps);
        }
        qdict_put_int(d, "required", info.required);
        qdict_put_int(d, "fully-allocated", info.fully_allocated);
        g_autoptr(GString) s = qobject_to_json_pretty(QOBJECT(d), true);
        printf("%s\n", s->str);
    } else {
        printf("required size: %" PRIu64 "\n", info.required);
        printf("fully allocated size: %" PRIu64 "\n", info.fully_allocated);
        if (info.has_bitmaps) {
            printf("bitmaps size: %" PRIu64 "\n", info.bitmaps);
        }
    }
    ret = 0;
out:
    qobject_unref(values);
    if (blk) {
        blk_unref(blk);
    }
    return ret;
}
