/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * io-cmds.h: the qemu-io command language (read, write, readv, aio_*, map, ...)
 * as a library. godwit-io runs it on the image it opened; the monitor's HMP
 * `qemu-io DEVICE "cmd"` runs it on a named BlockBackend. The command names,
 * options and every line they print are QEMU 7.2's (iotests compare them).
 *
 * Output: results go to stdout and syntax errors to stderr, through stdio
 * buffering (iotests rely on the resulting interleaving), never flushed here.
 *
 * Threads: main loop only. Commands block: they poll the main AioContext until
 * their requests complete (aio_* commands return at once; aio_flush waits).
 */
#ifndef GODWIT_TOOLS_IO_CMDS_H
#define GODWIT_TOOLS_IO_CMDS_H

#include "block/block-backend.h"

/* IoCmd.flags */
enum {
    IO_CMD_NOFILE_OK = 0x1,     /* runs without an open image (blk may be NULL) */
};

/*
 * One command. cfunc gets argv[0] = the command name as typed and returns 0 on
 * success or -errno (the failure was already printed); a failure makes the
 * program's exit status 1.
 */
typedef int (*IoCmdFunc)(BlockBackend *blk, int argc, char **argv);

typedef struct IoCmd {
    const char *name;
    const char *altname;        /* short form ("r" for read) or NULL */
    IoCmdFunc cfunc;
    int argmin;                 /* arguments after the name */
    int argmax;                 /* -1: unlimited */
    unsigned flags;             /* IO_CMD_* */
    uint64_t perm;              /* BLK_PERM_* taken on the backend before running */
    const char *args;           /* synopsis of the arguments, for help and usage */
    const char *oneline;        /* one-line description */
    void (*help)(void);         /* extended help, or NULL */
} IoCmd;

/*
 * Register a command that is not part of the library's own table (godwit-io adds
 * open, close and quit, which act on the program's image). cmd must stay valid.
 */
void qemuio_add_command(const IoCmd *cmd);

/*
 * Parse one command line (split on blanks, no quoting) and run it on blk, which
 * may be NULL when no image is open. Blank lines are successful no-ops.
 * Returns 0 or -errno.
 */
int qemuio_command(BlockBackend *blk, const char *cmd);

/* Print "<name> <args> -- <oneline>" (the usage line after an option error). */
void qemuio_command_usage(const IoCmd *cmd);

/*
 * Parse a qemu-io number: decimal, 0x hex, with an optional k/M/G/T/P/E/b suffix.
 * Returns the value, or -EINVAL/-ERANGE; print_cvtnum_err() prints QEMU's text.
 */
int64_t qemuio_cvtnum(const char *s);
void qemuio_print_cvtnum_err(int64_t rc, const char *arg);

/* Wait until every aio_* request started on blk has completed. */
void qemuio_drain(BlockBackend *blk);

#endif /* GODWIT_TOOLS_IO_CMDS_H */
