/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * ratelimit.h: a byte-rate limiter in time slices, for block job `speed` and
 * migration `max-bandwidth`.
 *
 * Time is cut into slices of slice_ns; each slice may carry
 * quota = max(1, speed * slice_ns / 1e9) bytes. The caller reports every chunk it
 * moved (or is about to move) and gets back how long to wait before the next one:
 *
 *     uint64_t delay = ratelimit_calculate_delay(&rl, n);  // account n bytes
 *     if (delay) { sleep delay ns (job_co_sleep_ns, or the sender thread sleeps) }
 *
 * Within quota the answer is 0. Once a slice's quota is used up, the slice is
 * stretched in proportion to the excess (dispatched / quota slices from its
 * start) and the answer is the time until that stretched end; a fresh slice
 * begins after it. Passing n = 0 asks "how long until I may send again?" without
 * accounting anything. Speed 0 means unlimited (delay always 0).
 *
 * ratelimit_calculate_delay() reads CLOCK_MONOTONIC; the _at form takes the time
 * from the caller so that tests (and callers with their own clock) are
 * deterministic. Mixing the two clocks on one RateLimit is meaningless.
 *
 * Threads: none inside. A RateLimit belongs to one job or migration thread.
 */
#ifndef GODWIT_RATELIMIT_H
#define GODWIT_RATELIMIT_H

#include "util/osdep.h"

typedef struct RateLimit {
    int64_t slice_start_ns;
    int64_t slice_end_ns;
    uint64_t slice_quota;        /* bytes per slice; 0: unlimited */
    uint64_t slice_ns;
    uint64_t dispatched;         /* bytes accounted in the current slice */
} RateLimit;

/* All zero: unlimited until ratelimit_set_speed(). */
void ratelimit_init(RateLimit *rl);
/*
 * bytes_per_sec 0 disables limiting. slice_ns must be > 0 when limiting (block
 * jobs use 100 ms, migration 100 ms too). Takes effect from the next slice; the
 * current slice's accounting is kept.
 */
void ratelimit_set_speed(RateLimit *rl, uint64_t bytes_per_sec, uint64_t slice_ns);
/* Account n bytes at now_ns; return ns to wait before the next chunk (0: go on). */
uint64_t ratelimit_calculate_delay_at(RateLimit *rl, uint64_t n, int64_t now_ns);
/* As above, at the current CLOCK_MONOTONIC time. */
uint64_t ratelimit_calculate_delay(RateLimit *rl, uint64_t n);

#endif /* GODWIT_RATELIMIT_H */
