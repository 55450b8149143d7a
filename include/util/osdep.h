/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * osdep.h: the first include of every Godwit source file. System headers we always
 * need, the build configuration, and a handful of small macros (alignment, min/max,
 * container_of, the coroutine_fn marker) shared by every layer.
 */
#ifndef GODWIT_OSDEP_H
#define GODWIT_OSDEP_H

#include "config-host.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib.h>

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define QEMU_IS_ALIGNED(n, m)   (((n) % (m)) == 0)
#define QEMU_ALIGN_DOWN(n, m)   ((n) / (m) * (m))
#define QEMU_ALIGN_UP(n, m)     QEMU_ALIGN_DOWN((n) + (m) - 1, (m))
#define DIV_ROUND_UP(n, d)      (((n) + (d) - 1) / (d))
#define ROUND_UP(n, d)          QEMU_ALIGN_UP(n, d)
#define ARRAY_SIZE(x)           (sizeof(x) / sizeof((x)[0]))

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
/* MIN for a value that may be 0 meaning "no limit" */
#define MIN_NON_ZERO(a, b) ((a) == 0 ? (b) : ((b) == 0 ? (a) : MIN(a, b)))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define GODWIT_NORETURN   __attribute__((noreturn))
#define GODWIT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define GODWIT_WARN_UNUSED __attribute__((warn_unused_result))

/*
 * coroutine_fn marks a function that may yield, so it must only be called from
 * coroutine context (see include/util/coroutine.h). Under clang it becomes an
 * annotation so a static checker can be added cheaply; it costs nothing.
 */
#ifdef __clang__
#define coroutine_fn __attribute__((annotate("coroutine_fn")))
#else
#define coroutine_fn
#endif

/* Sizes */
#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)
#define GiB (INT64_C(1) << 30)
#define TiB (INT64_C(1) << 40)
#define PiB (INT64_C(1) << 50)
#define EiB (INT64_C(1) << 60)

#define BDRV_SECTOR_BITS 9
#define BDRV_SECTOR_SIZE (1ULL << BDRV_SECTOR_BITS)

/* Host page size, cached after the first call. */
size_t qemu_real_host_page_size(void);

/* Program name used to prefix error messages ("godwit-img"); set once in main(). */
void error_set_progname(const char *argv0);
const char *error_get_progname(void);

#endif /* GODWIT_OSDEP_H */
