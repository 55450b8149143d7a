/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * io-internal.h: what the files of the qemu-io command library share: the
 * helpers for buffers, patterns, hexdumps and the statistics lines, and the
 * command tables of each file (io-cmds.c: control commands; io-rw.c: I/O).
 */
#ifndef GODWIT_TOOLS_IO_INTERNAL_H
#define GODWIT_TOOLS_IO_INTERNAL_H

#include "tools/io-cmds.h"
#include "tools/tool-util.h"

/* Largest request the block layer takes in one go (QEMU's BDRV_REQUEST_MAX_BYTES). */
#define IO_REQUEST_MAX_BYTES ((int64_t)(INT_MAX & ~(BDRV_SECTOR_SIZE - 1)))

/* The I/O command table (io-rw.c), NULL-name terminated. */
extern const IoCmd io_rw_cmds[];

void io_cvtstr(double value, char *buf, size_t size);

/* Reset getopt for a new command line (glibc: optind = 0 re-initialises). */
void io_getopt_reset(void);

/* Parse a pattern byte ("0x5a", "90", "0132"); -1 after printing the error. */
int io_parse_pattern(const char *arg);

/* A buffer of len bytes (at least 1), suitably aligned for O_DIRECT, filled with c. */
void *io_alloc(BlockBackend *blk, size_t len, int c);
void io_free(void *buf);

/* "%08x:  xx xx ...  ascii" lines for buf, labelled from file offset off. */
void io_dump_buffer(const void *buf, int64_t off, int64_t len);

/*
 * The two lines after a successful I/O command:
 *   "<op> <total>/<count> bytes at offset <off>" and the statistics line, or with
 * machine-readable -C only "<total>,<ops>,<H:MM:SS.ss>,<bytes/s>,<ops/s>".
 */
void io_print_report(const char *op, int64_t elapsed_ns, int64_t offset, int64_t count,
                     int64_t total, int ops, bool machine);

/*
 * Build a QEMUIOVector of the lengths in argv[0..nr-1] (each parsed with
 * qemuio_cvtnum), one buffer per length filled with pattern. NULL after an
 * error message. *buf receives the one allocation behind all iovecs.
 */
void *io_create_iovec(BlockBackend *blk, QEMUIOVector *qiov, char **argv, int nr,
                      int pattern);

/* Extended help texts (io-help.c); open's is used by godwit-io's main.c. */
void io_help_aio_read(void);
void io_help_aio_write(void);
void io_help_discard(void);
void io_help_open(void);
void io_help_read(void);
void io_help_readv(void);
void io_help_reopen(void);
void io_help_sigraise(void);
void io_help_write(void);
void io_help_writev(void);

#endif /* GODWIT_TOOLS_IO_INTERNAL_H */
