/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * cutils.h: checked number parsing, size parsing and the human-readable size and
 * time strings printed by the tools, all with QEMU 7.2's exact rules and texts
 * (iotests compare tool output byte for byte).
 *
 * Threads: every function is reentrant; none keeps state.
 */
#ifndef GODWIT_CUTILS_H
#define GODWIT_CUTILS_H

#include "util/osdep.h"

/* ---- checked integer parsing ----
 *
 * All of these parse like strtol()/strtoull() with the given base (0 = C rules:
 * 0x hex, leading 0 octal), leading whitespace allowed, and return:
 *   0        success; *result is the value
 *   -EINVAL  nptr is NULL, holds no digits (*result = 0), or endptr is NULL and
 *            something follows the number (*result is the parsed value)
 *   -ERANGE  out of range for the type; *result is clamped to the nearest limit
 * When endptr is not NULL it receives the end of the number (nptr if there are no
 * digits), and trailing text is not an error.
 *
 * The unsigned forms accept a leading '-' and wrap ("-1" gives the type's maximum),
 * as QEMU's do; a negative value whose magnitude does not fit is -ERANGE.
 */
int qemu_strtoi(const char *nptr, const char **endptr, int base, int *result);
int qemu_strtoui(const char *nptr, const char **endptr, int base, unsigned int *result);
int qemu_strtol(const char *nptr, const char **endptr, int base, long *result);
int qemu_strtoul(const char *nptr, const char **endptr, int base, unsigned long *result);
int qemu_strtoi64(const char *nptr, const char **endptr, int base, int64_t *result);
int qemu_strtou64(const char *nptr, const char **endptr, int base, uint64_t *result);
/* strtod() with the same conventions; qemu_strtod_finite also rejects inf/nan (-EINVAL). */
int qemu_strtod(const char *nptr, const char **endptr, double *result);
int qemu_strtod_finite(const char *nptr, const char **endptr, double *result);

/* ---- sizes ("64k", "1.5M", "0x1000") ----
 *
 * A size is a non-negative decimal number with an optional fraction, or a hex
 * number "0x..." without fraction, followed by an optional one-letter suffix:
 * B (1), K, M, G, T, P, E (powers of 1024, or of 1000 for the _metric form), either
 * case. Rules, as QEMU 7.2:
 *   - a '-' anywhere in the number is -EINVAL ("-1", " -0x10");
 *   - a fraction needs a suffix scaling it above bytes ("1.5" and "1.5B" are
 *     -EINVAL, "1.0" and "1.k" are fine); exponents ("1.5e3k") are -EINVAL; the
 *     fractional bytes are rounded, half up ("0.5k" gives 512, "1.0001k" 1024);
 *   - hex with a fraction is -EINVAL; hex with a suffix works but warns that it is
 *     deprecated;
 *   - a result of 2^64 or more is -ERANGE.
 * With end == NULL, trailing text is -EINVAL; otherwise *end points after the
 * suffix (or to nptr when the number itself is rejected). *result is written only
 * on success.
 */
int qemu_strtosz(const char *nptr, const char **end, uint64_t *result);
/* As qemu_strtosz, but a number without suffix is in MiB (HMP's convention). */
int qemu_strtosz_MiB(const char *nptr, const char **end, uint64_t *result);
/* As qemu_strtosz, but K/M/G... are powers of 1000. */
int qemu_strtosz_metric(const char *nptr, const char **end, uint64_t *result);

/* ---- printing sizes and times ---- */

/*
 * qemu-img's human size ("virtual size: 64 MiB (67108864 bytes)"): the value in
 * the largest binary unit that keeps it below 1000, printed with "%.3g", so at
 * most three significant digits: "0 B", "512 B", "1000 B" is "0.977 KiB",
 * "1.5 KiB", "98 KiB", "64 MiB", "5 TiB", "16 EiB". Returns a new string.
 */
char *size_to_str(uint64_t val);

/*
 * qemu-io's byte count (cvtstr): value in the largest binary unit it reaches,
 * "%.3f" with a trailing ".000" dropped: "512 bytes", "4 KiB", "1.500 KiB",
 * "63.438 MiB". Writes at most size bytes (NUL included) into str.
 */
void cvtstr(double value, char *str, size_t size);

/*
 * qemu-io's elapsed time: "0.0012 sec" under one second, else "H:MM:SS.ss"
 * ("0:00:01.50"). Writes at most size bytes into str.
 */
void timestr(double secs, char *str, size_t size);

/*
 * qemu-io's statistics line after an I/O command, without the newline:
 * "<cvtstr(bytes)>, <ops> ops; <timestr> (<cvtstr(rate)>/sec and <ops/s> ops/sec)"
 * where the last figure has 4 decimals. secs <= 0 is treated as a tiny positive
 * time so the rates stay finite. Returns a new string.
 */
char *qemu_io_stats_str(int64_t bytes, int ops, double secs);

/* ---- strings and paths ---- */

/* Copy str into buf (no NUL added), padding the rest of the buf_size bytes with pad. */
void strpadcpy(char *buf, int buf_size, const char *str, char pad);
/*
 * If str starts with val, return true and, when ptr is not NULL, point *ptr just
 * past the prefix. stristart ignores ASCII case.
 */
bool strstart(const char *str, const char *val, const char **ptr);
bool stristart(const char *str, const char *val, const char **ptr);

/* "nbd:...", "json:{...}": a ':' before any '/'. */
bool path_has_protocol(const char *path);
/* Absolute path (starts with '/'). */
bool path_is_absolute(const char *path);
/*
 * Resolve filename relative to the file base_path (as a backing file name is
 * relative to its overlay): absolute names are returned as they are; otherwise
 * filename replaces everything after the last '/' of base_path (or after a
 * "proto:" prefix when base_path has no '/'). Returns a new string.
 */
char *path_combine(const char *base_path, const char *filename);

#endif /* GODWIT_CUTILS_H */
