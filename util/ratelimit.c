/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * ratelimit.c: slice-based byte-rate limiter (contract in include/util/ratelimit.h).
 */
#include "util/osdep.h"
#include "util/ratelimit.h"

#include <time.h>

void ratelimit_init(RateLimit *rl)
{
    memset(rl, 0, sizeof(*rl));
}

void ratelimit_set_speed(RateLimit *rl, uint64_t bytes_per_sec, uint64_t slice_ns)
{
    rl->slice_ns = slice_ns;
    if (bytes_per_sec == 0) {
        rl->slice_quota = 0;
        return;
    }
    assert(slice_ns > 0);
    /* double: speed * slice_ns overflows 64 bits beyond ~18 GB/s at 1 s slices */
    double quota = (double)bytes_per_sec * (double)slice_ns / 1e9;
    rl->slice_quota = quota < 1 ? 1 : quota >= 0x1p63 ? (UINT64_C(1) << 63) : (uint64_t)quota;
}

uint64_t ratelimit_calculate_delay_at(RateLimit *rl, uint64_t n, int64_t now_ns)
{
    if (!rl->slice_quota) {
        return 0;
    }
    if (rl->slice_end_ns < now_ns) {
        /* The previous (possibly stretched) slice is over: start afresh. */
        rl->slice_start_ns = now_ns;
        rl->slice_end_ns = now_ns + rl->slice_ns;
        rl->dispatched = 0;
    }
    rl->dispatched += n;
    if (rl->dispatched < rl->slice_quota) {
        return 0;
    }
    /* Over quota: the slice lasts as many slice lengths as the bytes it carried. */
    double slices = (double)rl->dispatched / rl->slice_quota;
    rl->slice_end_ns = rl->slice_start_ns + (int64_t)(slices * rl->slice_ns);
    return rl->slice_end_ns > now_ns ? rl->slice_end_ns - now_ns : 0;
}

uint64_t ratelimit_calculate_delay(RateLimit *rl, uint64_t n)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ratelimit_calculate_delay_at(rl, n, ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec);
}
