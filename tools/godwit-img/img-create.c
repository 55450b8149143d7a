/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img create: generic over the format's and the protocol's create options
 * (BlockDriver.create_opts). Prints "Formatting 'F', fmt=X opt=val..." with
 * the options in the order of the format's list, then the protocol's.
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>

/* The format's create options followed by the protocol's that it lacks. */
static CreateOption *img_merge_create_opts(const BlockDriver *drv, const BlockDriver *proto)
{
    GArray *a = g_array_new(true, true, sizeof(CreateOption));

    for (const CreateOption *o = drv->create_opts; o && o->name; o++) {
        g_array_append_val(a, *o);
    }
    for (const CreateOption *o = proto ? proto->create_opts : NULL; o && o->name; o++) {
        bool dup = false;
        for (guint i = 0; i < a->len; i++) {
            dup |= !strcmp(g_array_index(a, CreateOption, i).name, o->name);
        }
        if (!dup) {
            g_array_append_val(a, *o);
        }
    }
    return (CreateOption *)g_array_free(a, false);
}

static bool img_is_help_option(const char *options)
{
    g_auto(GStrv) items = g_strsplit(options, ",", -1);

    for (char **i = items; *i; i++) {
        if (!strcmp(*i, "help") || !strcmp(*i, "?")) {
            return true;
        }
    }
    return false;
}

/* "-o help": without a filename only the format's options, with a pointer to more. */
static int img_print_create_help(const char *filename, const char *fmt)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    const BlockDriver *proto = NULL;
    Error *err = NULL;

    if (!drv) {
        error_report("Unknown file format '%s'", fmt);
        return 1;
    }
    if (!drv->create_opts) {
        error_report("Format driver '%s' does not support image creation", fmt);
        return 1;
    }
    if (filename) {
        proto = bdrv_find_protocol(filename, true, &err);
        if (!proto) {
            error_report_err(err);
            return 1;
        }
    }
    g_autofree CreateOption *opts = img_merge_create_opts(drv, proto);
    g_autofree char *help = bdrv_create_opts_help(opts);
    if (filename) {
        fputs(help, stdout);
        return 0;
    }
    const char *body = strchr(help, '\n');
    printf("Supported %s options:\n%s\n", fmt, body ? body + 1 : "");
    printf("The protocol level may support further options.\n"
           "Specify the target filename to include those options.\n");
    return 0;
}

static void img_print_formatting(const char *filename, const char *fmt,
                                 const CreateOption *opts, QDict *values)
{
    printf("Formatting '%s', fmt=%s", filename, fmt);
    for (const CreateOption *o = opts; o->name; o++) {
        const char *v = tool_get_opt(values, o->name);
        uint64_t n;
        if (!v) {
            v = o->def_value_str;
        }
        if (v && o->type == CREATE_OPT_SIZE && qemu_strtosz(v, NULL, &n) == 0) {
            /* qemu-img prints sizes and numbers as signed 64-bit values: -1 stays -1 */
            printf(" %s=%" PRId64, o->name, (int64_t)n);
        } else if (v && o->type == CREATE_OPT_NUMBER && qemu_strtou64(v, NULL, 0, &n) == 0) {
            printf(" %s=%" PRId64, o->name, (int64_t)n);
        } else if (v) {
            printf(" %s=%s", o->name, v);
        }
    }
    printf("\n");
    fflush(stdout);
}

/*
 * The backing file checks qemu-img makes before "Formatting": the backing file
 * must differ from the image, have a format (-F), and open, unless -u; a
 * missing size is taken from it. false after reporting.
 */
static bool img_check_backing(const char *filename, QDict *values, bool unsafe,
                              int64_t *img_size)
{
    const char *backing = tool_get_opt(values, "backing_file");
    const char *backing_fmt = tool_get_opt(values, "backing_fmt");
    Error *err = NULL;

    if (!backing) {
        return true;
    }
    if (!strcmp(backing, filename)) {
        error_report("%s: Error: Trying to create an image with the same filename as the "
                     "backing file", filename);
        return false;
    }
    if (unsafe) {
        if (!backing_fmt) {
            error_report("%s: Backing file specified without backing format", filename);
            return false;
        }
        return true;
    }
    g_autofree char *full = path_combine(filename, backing);
    QDict *opts = NULL;
    if (backing_fmt) {
        tool_put_opt(&opts, "driver", backing_fmt);
    }
    /* Only the size is read, so share everything: the backing file may be in use (as QEMU) */
    tool_put_opt(&opts, "force-share", "on");
    BlockBackend *blk = blk_new_open(full, NULL, opts, BDRV_O_NO_BACKING | BDRV_O_NO_IO, &err);
    if (!blk) {
        error_reportf_err(err, "%s: ", filename);
        fprintf(stderr, "Could not open backing image.\n");
        return false;
    }
    if (!backing_fmt) {
        error_report("%s: Backing file specified without backing format", filename);
        fprintf(stderr, "Detected format of %s.", bdrv_get_format_name(blk_bs(blk)));
        blk_unref(blk);
        return false;
    }
    if (*img_size < 0) {
        *img_size = blk_getlength(blk);
    }
    blk_unref(blk);
    return *img_size >= 0;
}

/* Validate and create; errors are "FILE: <message>". */
static int img_do_create(const char *filename, const char *fmt, const char *options,
                         const char *base, const char *base_fmt, bool unsafe,
                         int64_t img_size, bool quiet)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    Error *err = NULL;
    QDict *values = NULL;
    int ret = 1;

    if (!drv) {
        error_report("%s: Unknown file format '%s'", filename, fmt);
        return 1;
    }
    if (!drv->create_opts || !drv->co_create_opts) {
        error_report("%s: Format driver '%s' does not support image creation", filename, fmt);
        return 1;
    }
    const BlockDriver *proto = bdrv_find_protocol(filename, true, &err);
    if (!proto) {
        error_reportf_err(err, "%s: ", filename);
        return 1;
    }
    g_autofree CreateOption *opts = img_merge_create_opts(drv, proto);
    values = qdict_new();
    if (options && !bdrv_create_opts_parse(opts, options, values, &err)) {
        error_reportf_err(err, "%s: ", filename);
        goto out;
    }
    const char *size_opt = tool_get_opt(values, "size");
    if (size_opt) {
        uint64_t v;
        if (qemu_strtosz(size_opt, NULL, &v) < 0) {
            error_report("%s: Parameter 'size' expects a non-negative number below 2^64",
                         filename);
            fprintf(stderr, "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, "
                    "tera-, peta-\nand exabytes, respectively.\n");
            goto out;
        }
        if (img_size >= 0) {
            error_report("%s: The image size must be specified only once", filename);
            goto out;
        }
        img_size = v;
    }
    if (base) {
        qdict_put_str(values, "backing_file", base);
    }
    if (base_fmt) {
        qdict_put_str(values, "backing_fmt", base_fmt);
    }
    if (!img_check_backing(filename, values, unsafe, &img_size)) {
        goto out;
    }
    if (img_size < 0) {
        error_report("%s: Image creation needs a size parameter", filename);
        goto out;
    }
    char size_str[32];
    snprintf(size_str, sizeof(size_str), "%" PRId64, img_size);
    qdict_put_str(values, "size", size_str);
    if (!quiet) {
        img_print_formatting(filename, fmt, opts, values);
    }
    if (bdrv_create(drv, filename, values, &err) < 0) {
        error_reportf_err(err, "%s: ", filename);
        goto out;
    }
    ret = 0;

out:
    tool_free_opts(values);
    return ret;
}

int img_create(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = "raw", *base = NULL, *base_fmt = NULL;
    bool unsafe = false;
    g_autofree char *options = NULL;
    bool quiet = false;
    int64_t img_size = -1;
    int c;

    while ((c = getopt_long(argc, argv, ":F:b:f:ho:qu", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("create [--object objectdef] [-q] [-f fmt] [-u] [-o options] filename [size]\n");
            return 0;
        case 'F':
            base_fmt = optarg;
            break;
        case 'u':
            unsafe = true;
            break;
        case OPTION_OBJECT:
            break;
        case 'b':
            base = optarg;
            break;
        case 'f':
            fmt = optarg;
            break;
        case 'o': {
            char *joined = options ? g_strdup_printf("%s,%s", options, optarg)
                                   : g_strdup(optarg);
            g_free(options);
            options = joined;
            break;
        }
        case 'q':
            quiet = true;
            break;
        }
    }
    if (options && img_is_help_option(options)) {
        return img_print_create_help(optind < argc ? argv[optind] : NULL, fmt);
    }
    if (optind >= argc) {
        img_error_exit("Expecting image file name");
    }
    const char *filename = argv[optind++];
    if (optind < argc) {
        img_size = img_parse_size(argv[optind++]);
        if (img_size < 0) {
            return 1;
        }
    }
    if (optind != argc) {
        img_error_exit("Unexpected argument: %s", argv[optind]);
    }
    if (base) {
        const BlockDriver *drv = bdrv_find_format(fmt);
        bool has_backing = false;
        for (const CreateOption *o = drv ? drv->create_opts : NULL; o && o->name; o++) {
            has_backing |= !strcmp(o->name, "backing_file");
        }
        if (drv && !has_backing) {
            error_report("%s: Backing file not supported for file format '%s'", filename, fmt);
            return 1;
        }
    }
    return img_do_create(filename, fmt, options, base, base_fmt, unsafe, img_size, quiet);
}
