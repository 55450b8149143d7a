/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-io: a drop-in for qemu-io 7.2. Opens at most one image and runs the
 * qemu-io command language on it (tools/godwit-io/io-cmds.c), from -c options
 * in order or, without any -c, line by line from stdin after a "qemu-io> "
 * prompt. Adds the commands that act on the program's image: open, close, quit.
 * Exit status: 1 if any command failed, else 0.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-backend.h"
#include "io-internal.h"
#include <getopt.h>

/* The open image (NULL when none) and the options that apply to every open. */
static BlockBackend *io_blk;
static bool io_quit;

static void io_usage(FILE *f)
{
    const char *name = error_get_progname();

    fprintf(f,
"Usage: %s [OPTIONS]... [-c STRING]... [file]\n"
"QEMU Disk exerciser\n"
"\n"
"  --object OBJECTDEF   define an object such as 'secret' for\n"
"                       passwords and/or encryption keys\n"
"  --image-opts         treat file as option string\n"
"  -c, --cmd STRING     execute command with its arguments\n"
"                       from the given string\n"
"  -f, --format FMT     specifies the block driver to use\n"
"  -r, --read-only      export read-only\n"
"  -s, --snapshot       use snapshot file\n"
"  -n, --nocache        disable host cache, short for -t none\n"
"  -C, --copy-on-read   enable copy-on-read\n"
"  -m, --misalign       misalign allocations for O_DIRECT\n"
"  -k, --native-aio     use kernel AIO implementation\n"
"                       (Linux only, prefer use of -i)\n"
"  -i, --aio=MODE       use AIO mode (threads, native or io_uring)\n"
"  -t, --cache=MODE     use the given cache mode for the image\n"
"  -d, --discard=MODE   use the given discard mode for the image\n"
"  -T, --trace [[enable=]<pattern>][,events=<file>][,file=<file>]\n"
"                       specify tracing options\n"
"                       see qemu-img(1) man page for full description\n"
"  -U, --force-share    force shared permissions\n"
"  -h, --help           display this help and exit\n"
"  -V, --version        output version information and exit\n"
"\n"
"See '%s -c help' for information on available commands.\n",
            name, name);
}

/*
 * Open name (or only opts when name is NULL) as the current image. opts is
 * consumed. Errors as qemu-io's: "can't open device NAME: <reason>".
 */
static int io_open(const char *name, int flags, bool writethrough, bool force_share,
                   QDict *opts)
{
    Error *err = NULL;

    if (io_blk) {
        error_report("file open already, try 'help close'");
        tool_free_opts(opts);
        return 1;
    }
    if (force_share) {
        tool_put_opt(&opts, "force-share", "on");
    }
    io_blk = blk_new_open(name, NULL, opts, flags, &err);
    if (!io_blk) {
        error_reportf_err(err, "can't open%s%s: ", name ? " device " : "", name ? name : "");
        return 1;
    }
    blk_set_enable_write_cache(io_blk, !writethrough);
    return 0;
}

/* Flag and option parsing shared by the command line and the open command. */
typedef struct IoOpenArgs {
    int flags;                  /* BDRV_O_* */
    bool writethrough;
    bool force_share;
    bool readonly;
} IoOpenArgs;

static bool io_open_opt(IoOpenArgs *o, int c, const char *arg)
{
    switch (c) {
    case 'r':
        o->readonly = true;
        return true;
    case 's':
        o->flags |= BDRV_O_SNAPSHOT;
        return true;
    case 'n':
        o->flags |= BDRV_O_NOCACHE;
        o->writethrough = false;
        return true;
    case 'C':
        o->flags |= BDRV_O_COPY_ON_READ;
        return true;
    case 'k':
        o->flags |= BDRV_O_NATIVE_AIO;
        return true;
    case 'U':
        o->force_share = true;
        return true;
    case 't':
        if (bdrv_parse_cache_mode(arg, &o->flags, &o->writethrough) < 0) {
            error_report("Invalid cache option: %s", arg);
            return false;
        }
        return true;
    case 'd':
        if (bdrv_parse_discard_flags(arg, &o->flags) < 0) {
            error_report("Invalid discard option: %s", arg);
            return false;
        }
        return true;
    case 'i':
        if (bdrv_parse_aio(arg, &o->flags) < 0) {
            error_report("Invalid aio option: %s", arg);
            return false;
        }
        return true;
    }
    return false;
}

static int open_f(BlockBackend *blk, int argc, char **argv);

static const IoCmd open_cmd = {
    "open", "o", open_f, 1, -1, IO_CMD_NOFILE_OK, 0,
    "[-rsCnkU] [-t cache] [-d discard] [-o options] [path]",
    "open the file specified by path", io_help_open,
};

static int open_f(BlockBackend *blk, int argc, char **argv)
{
    IoOpenArgs o = { .flags = BDRV_O_UNMAP, .writethrough = true };
    QDict *opts = NULL;
    Error *err = NULL;
    int c;

    while ((c = getopt(argc, argv, "snCro:ki:t:d:U")) != -1) {
        if (c == 'o') {
            if (!tool_parse_opts(optarg, NULL, &opts, &err)) {
                error_report_err(err);
                tool_free_opts(opts);
                return -EINVAL;
            }
            continue;
        }
        if (c == '?' || !io_open_opt(&o, c, optarg)) {
            if (c == '?') {
                qemuio_command_usage(&open_cmd);
            }
            tool_free_opts(opts);
            return -EINVAL;
        }
    }
    if (!o.readonly) {
        o.flags |= BDRV_O_RDWR;
    }
    if (optind == argc - 1) {
        return io_open(argv[optind], o.flags, o.writethrough, o.force_share, opts) ? -EINVAL : 0;
    }
    if (optind == argc) {
        return io_open(NULL, o.flags, o.writethrough, o.force_share, opts) ? -EINVAL : 0;
    }
    qemuio_command_usage(&open_cmd);
    tool_free_opts(opts);
    return -EINVAL;
}

static int close_f(BlockBackend *blk, int argc, char **argv)
{
    blk_unref(io_blk);
    io_blk = NULL;
    return 0;
}

static int quit_f(BlockBackend *blk, int argc, char **argv)
{
    io_quit = true;
    return 0;
}

static const IoCmd close_cmd = {
    "close", "c", close_f, 0, 0, 0, 0, NULL, "close the current open file",
};
static const IoCmd quit_cmd = {
    "quit", "q", quit_f, 0, 0, IO_CMD_NOFILE_OK, 0, NULL, "exit the program",
};

/* Run the -c commands, or stdin's lines; returns whether any command failed. */
static bool io_command_loop(char **cmds, int ncmds)
{
    bool failed = false;

    if (ncmds) {
        for (int i = 0; i < ncmds && !io_quit; i++) {
            failed |= qemuio_command(io_blk, cmds[i]) < 0;
        }
        return failed;
    }

    g_autofree char *line = NULL;
    size_t cap = 0;
    while (!io_quit) {
        /* The prompt goes out before reading, so stdout is flushed here only. */
        printf("qemu-io> ");
        fflush(stdout);
        if (getline(&line, &cap, stdin) < 0) {
            break;
        }
        failed |= qemuio_command(io_blk, line) < 0;
    }
    return failed;
}

enum {
    OPTION_OBJECT = 256,
    OPTION_IMAGE_OPTS = 257,
};

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "cmd", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, 'f' },
        { "read-only", no_argument, NULL, 'r' },
        { "snapshot", no_argument, NULL, 's' },
        { "nocache", no_argument, NULL, 'n' },
        { "copy-on-read", no_argument, NULL, 'C' },
        { "misalign", no_argument, NULL, 'm' },
        { "native-aio", no_argument, NULL, 'k' },
        { "aio", required_argument, NULL, 'i' },
        { "discard", required_argument, NULL, 'd' },
        { "cache", required_argument, NULL, 't' },
        { "trace", required_argument, NULL, 'T' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    IoOpenArgs o = { .flags = BDRV_O_UNMAP, .writethrough = true };
    g_autoptr(GPtrArray) cmds = g_ptr_array_new();
    const char *format = NULL;
    bool image_opts = false;
    QDict *opts = NULL;
    Error *err = NULL;
    int c;

    error_set_progname(argv[0]);
    qemuio_add_command(&open_cmd);
    qemuio_add_command(&close_cmd);
    qemuio_add_command(&quit_cmd);

    while ((c = getopt_long(argc, argv, "hVc:d:f:rsnCmki:t:T:U", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            io_usage(stdout);
            return 0;
        case 'V':
            printf("%s version %s\n", error_get_progname(), GODWIT_VERSION);
            return 0;
        case 'c':
            g_ptr_array_add(cmds, optarg);
            break;
        case 'f':
            format = optarg;
            break;
        case 'm':
        case 'T':
        case OPTION_OBJECT:
            break;                  /* accepted; nothing to do for them here */
        case OPTION_IMAGE_OPTS:
            image_opts = true;
            break;
        case '?':
            io_usage(stdout);       /* qemu-io prints the usage on stdout here too */
            return 1;
        default:
            if (!io_open_opt(&o, c, optarg)) {
                return 1;
            }
            break;
        }
    }
    if (argc - optind > 1) {
        io_usage(stdout);
        return 1;
    }
    if (format && image_opts) {
        error_report("--image-opts and -f are mutually exclusive");
        return 1;
    }
    if (!o.readonly) {
        o.flags |= BDRV_O_RDWR;
    }
    if (optind < argc) {
        const char *name = argv[optind];
        if (image_opts) {
            if (!tool_parse_opts(name, NULL, &opts, &err)) {
                error_report_err(err);
                return 1;
            }
            name = NULL;
        } else if (format) {
            tool_put_opt(&opts, "driver", format);
        }
        if (io_open(name, o.flags, o.writethrough, o.force_share, opts)) {
            return 1;
        }
    }

    bool failed = io_command_loop((char **)cmds->pdata, cmds->len);

    /* aio_* requests still in flight complete (and print) before we exit. */
    if (io_blk) {
        qemuio_drain(io_blk);
        blk_unref(io_blk);
        io_blk = NULL;
    }
    bdrv_close_all();
    return failed ? 1 : 0;
}
