/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-img: a drop-in for qemu-img 7.2. Dispatches the subcommand; each one
 * lives in its own img-*.c file.
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>
#include <signal.h>

typedef struct ImgCmd {
    const char *name;
    int (*handler)(int argc, char **argv);
} ImgCmd;

static const ImgCmd img_cmds[] = {
    { "amend", img_amend },
    { "bench", img_bench },
    { "bitmap", img_bitmap },
    { "check", img_check },
    { "commit", img_commit },
    { "compare", img_compare },
    { "convert", img_convert },
    { "create", img_create },
    { "info", img_info },
    { "map", img_map },
    { "measure", img_measure },
    { "rebase", img_rebase },
    { "resize", img_resize },
    { "snapshot", img_snapshot },
    { NULL, NULL },
};

static void img_help(void)
{
    const char *p = error_get_progname();

    printf("%s version %s\n"
           "usage: %s [standard options] command [command options]\n"
           "QEMU disk image utility\n"
           "\n"
           "    '-h', '--help'       display this help and exit\n"
           "    '-V', '--version'    output version information and exit\n"
           "    '-T', '--trace'      [[enable=]<pattern>][,events=<file>][,file=<file>]\n"
           "                         specify tracing options\n"
           "\n"
           "Command syntax:\n"
"  bench [-c count] [-d depth] [-f fmt] [--flush-interval=flush_interval] [-i aio] [-n] [--no-drain] [-o offset] [--pattern=pattern] [-q] [-s buffer_size] [-S step_size] [-t cache] [-w] [-U] filename\n"
"  check [--object objectdef] [--image-opts] [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-T src_cache] [-U] filename\n"
"  compare [--object objectdef] [--image-opts] [-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2\n"
"  convert [--object objectdef] [--image-opts] [--target-image-opts] [--target-is-zero] [-U] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt] [-o options] [-S sparse_size] [-m num_coroutines] [-W] filename [filename2 [...]] output_filename\n"
"  create [--object objectdef] [-q] [-f fmt] [-u] [-o options] filename [size]\n"
"  info [--object objectdef] [--image-opts] [-f fmt] [--output=ofmt] [-U] filename\n"
"  map [--object objectdef] [--image-opts] [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename\n"
"  resize [--object objectdef] [--image-opts] [-f fmt] [--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size\n"
"  snapshot [--object objectdef] [--image-opts] [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename\n",
           p, GODWIT_VERSION, p);
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "trace", required_argument, NULL, 'T' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    error_set_progname(argv[0]);
    signal(SIGPIPE, SIG_IGN);

    /* Standard options stop at the subcommand ("+"), whose options are its own. */
    while ((c = getopt_long(argc, argv, "+:hVT:", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
            img_error_exit("argument missing for option '%s'", argv[optind - 1]);
        case '?':
            img_error_exit("unrecognized option '%s'", argv[optind - 1]);
        case 'h':
            img_help();
            return 0;
        case 'V':
            printf("%s version %s\n", error_get_progname(), GODWIT_VERSION);
            return 0;
        case 'T':
            break;                  /* tracing is accepted and ignored */
        }
    }
    if (optind >= argc) {
        img_error_exit("Not enough arguments");
    }
    const char *cmd = argv[optind];
    argc -= optind;
    argv += optind;
    optind = 0;                     /* glibc: fully reset getopt for the subcommand */
    for (const ImgCmd *ct = img_cmds; ct->name; ct++) {
        if (!strcmp(cmd, ct->name)) {
            return ct->handler(argc, argv);
        }
    }
    img_error_exit("Command not found: %s", cmd);
}
