/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * tool-util.h: small helpers shared by godwit-io and godwit-img: size parsing
 * and printing (from util/cutils.h once it is in the tree; local fallbacks with
 * the same names and rules until then), "-o key=value" option strings, and
 * monotonic time.
 *
 * Threads: none of this keeps state.
 */
#ifndef GODWIT_TOOLS_TOOL_UTIL_H
#define GODWIT_TOOLS_TOOL_UTIL_H

#include "util/osdep.h"
#include "util/error.h"

#if __has_include("util/cutils.h")
#include "util/cutils.h"
#else
/* Fallbacks with util/cutils.h's contracts (see there). */
int qemu_strtosz(const char *nptr, const char **end, uint64_t *result);
char *size_to_str(uint64_t val);
void cvtstr(double value, char *str, size_t size);
#endif

#if __has_include("qobject/qdict.h")
#include "qobject/qdict.h"
#define TOOLS_HAVE_QDICT 1
#endif

/*
 * Parse "key=value,key=value" (",," is a literal comma in a value) into dict
 * (created when *dict is NULL). A key without "=" is an error unless
 * implied_key is given, in which case it is that key's value (as for
 * "--image-opts file.img"). Returns false with errp set.
 */
bool tool_parse_opts(const char *str, const char *implied_key, QDict **dict, Error **errp);
/* Store a string option (creating *dict when NULL). */
void tool_put_opt(QDict **dict, const char *key, const char *value);
/* Look up a string option; NULL when absent or when dict is NULL. */
const char *tool_get_opt(QDict *dict, const char *key);
void tool_free_opts(QDict *dict);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t tool_now_ns(void);

#endif /* GODWIT_TOOLS_TOOL_UTIL_H */
