/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * img.h: what the godwit-img (qemu-img) subcommands share. Each img-*.c file
 * implements one subcommand as `int img_<name>(int argc, char **argv)` taking
 * argv[0] = the subcommand and returning the process exit status. Everything is
 * generic over BlockDriver: formats come from the registry by name, their
 * create options from BlockDriver.create_opts.
 *
 * Threads: main loop only; all I/O uses the blocking blk_* wrappers or polls.
 */
#ifndef GODWIT_TOOLS_IMG_H
#define GODWIT_TOOLS_IMG_H

#include "block/block-backend.h"
#include "block/block-int.h"
#include "tools/tool-util.h"

int img_create(int argc, char **argv);
int img_info(int argc, char **argv);
int img_map(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_convert(int argc, char **argv);
int img_resize(int argc, char **argv);
int img_check(int argc, char **argv);
int img_bench(int argc, char **argv);
int img_snapshot(int argc, char **argv);
int img_commit(int argc, char **argv);
int img_rebase(int argc, char **argv);
int img_amend(int argc, char **argv);
int img_measure(int argc, char **argv);
int img_bitmap(int argc, char **argv);
/* One "Snapshot list:" row as qemu-img prints it; NULL prints the column header. */
void img_snapshot_dump(const QEMUSnapshotInfo *sn);

/* Long-only options shared by the subcommands (getopt_long values). */
enum {
    OPTION_OUTPUT = 256,
    OPTION_BACKING_CHAIN,
    OPTION_OBJECT,
    OPTION_IMAGE_OPTS,
    OPTION_PATTERN,
    OPTION_FLUSH_INTERVAL,
    OPTION_NO_DRAIN,
    OPTION_TARGET_IMAGE_OPTS,
    OPTION_SIZE,
    OPTION_PREALLOCATION,
    OPTION_SHRINK,
    OPTION_SALVAGE,
    OPTION_TARGET_IS_ZERO,
    OPTION_START_OFFSET,
    OPTION_MAX_LENGTH,
    OPTION_FORCE,
    OPTION_BITMAPS,
    OPTION_SKIP_BROKEN,
};

/*
 * "qemu-img: <msg>" then "Try 'qemu-img --help' for more information" on
 * stderr, exit(1): qemu-img's reaction to bad usage.
 */
void GODWIT_NORETURN img_error_exit(const char *fmt, ...) GODWIT_PRINTF(1, 2);
/* The same for getopt's own complaint (already printed): just the hint line. */
void GODWIT_NORETURN img_missing_argument_exit(void);

/* React to getopt's ':' (missing argument) or '?' (unknown option) and exit(1). */
void GODWIT_NORETURN img_bad_option(int c, char **argv);

/* printf unless quiet (-q). */
void img_printf(bool quiet, const char *fmt, ...) GODWIT_PRINTF(2, 3);

/*
 * Open an image: filename with format fmt (probed when NULL), or with
 * image_opts the option string filename ("driver=raw,file.filename=x").
 * force_share: -U. Errors are reported ("Could not open 'F': <reason>") and
 * NULL returned.
 */
BlockBackend *img_open(bool image_opts, const char *filename, const char *fmt, int flags,
                       bool writethrough, bool quiet, bool force_share);

/*
 * Parse a -t/-T cache mode into *flags and *writethrough. On a bad one, print
 * "Invalid cache option: C" (with source: "Invalid source cache option: C")
 * and return false.
 */
bool img_parse_cache(const char *cache, bool source, int *flags, bool *writethrough);

/* Parse a qemu-img size argument with QEMU's limits; -1 after errors are printed. */
int64_t img_parse_size(const char *arg);

/* "Invalid image size specified. You may use k, M, ..." and its second line. */
void img_report_bad_size(void);

/* Print "    (P/100%)\r" progress when enabled (convert -p). */
void img_progress_print(bool enabled, double percent);
void img_progress_end(bool enabled);

/* Output format of info/map/check: --output=human|json. */
typedef enum ImgOutputFormat {
    IMG_OUTPUT_HUMAN,
    IMG_OUTPUT_JSON,
} ImgOutputFormat;
/* false after "--output must be used with human or json as argument." */
bool img_parse_output(const char *arg, ImgOutputFormat *out);

#endif /* GODWIT_TOOLS_IMG_H */
