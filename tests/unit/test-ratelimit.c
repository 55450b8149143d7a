/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-ratelimit: the slice limiter driven with explicit timestamps.
 */
#include "util/osdep.h"
#include "util/ratelimit.h"

#define MS (INT64_C(1000000))

static void test_unlimited(void)
{
    RateLimit rl;

    ratelimit_init(&rl);
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 1 << 30, 0), ==, 0);
    ratelimit_set_speed(&rl, 0, 100 * MS);
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 1 << 30, 5), ==, 0);
    g_assert_cmpuint(ratelimit_calculate_delay(&rl, 1 << 30), ==, 0);
}

static void test_within_and_over_quota(void)
{
    RateLimit rl;

    ratelimit_init(&rl);
    ratelimit_set_speed(&rl, 1000 * 1000, 100 * MS);    /* 100000 bytes per slice */
    g_assert_cmpuint(rl.slice_quota, ==, 100000);
    int64_t t = 1000 * MS;
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 60000, t), ==, 0);
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 39999, t + 10 * MS), ==, 0);
    /* reaching the quota: wait until the end of the slice */
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 1, t + 20 * MS), ==, 80 * MS);
    /* asking again later without sending: the remaining time */
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 0, t + 50 * MS), ==, 50 * MS);
    /* after the slice a new one starts with a fresh quota */
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 50000, t + 101 * MS), ==, 0);
}

static void test_stretched_slice(void)
{
    RateLimit rl;

    ratelimit_init(&rl);
    ratelimit_set_speed(&rl, 1000 * 1000, 100 * MS);
    /* 2.5 slices worth at once: the slice stretches to 250 ms */
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 250000, 0), ==, 250 * MS);
    /* still inside the stretched slice: more data stretches it further */
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 50000, 200 * MS), ==, 100 * MS);
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 10, 301 * MS), ==, 0);
}

static void test_average_rate(void)
{
    /* A job moving 64 KiB chunks at 1 MiB/s and sleeping as told: the
     * simulated clock must advance at the configured rate. */
    RateLimit rl;
    int64_t now = 0;
    const uint64_t speed = 1024 * 1024, chunk = 65536, total = 32 * speed;

    ratelimit_init(&rl);
    ratelimit_set_speed(&rl, speed, 100 * MS);
    for (uint64_t done = 0; done < total; done += chunk) {
        now += ratelimit_calculate_delay_at(&rl, chunk, now);
        now += 1000;                                         /* the copy itself */
    }
    double secs = now / 1e9;
    g_assert_cmpfloat(secs, >, 31.0);
    g_assert_cmpfloat(secs, <, 32.5);
}

static void test_tiny_speed(void)
{
    RateLimit rl;

    ratelimit_init(&rl);
    ratelimit_set_speed(&rl, 1, 100 * MS);      /* quota rounds up to 1 byte */
    g_assert_cmpuint(rl.slice_quota, ==, 1);
    g_assert_cmpuint(ratelimit_calculate_delay_at(&rl, 10, 0), ==, 1000 * MS);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ratelimit/unlimited", test_unlimited);
    g_test_add_func("/ratelimit/quota", test_within_and_over_quota);
    g_test_add_func("/ratelimit/stretched", test_stretched_slice);
    g_test_add_func("/ratelimit/average-rate", test_average_rate);
    g_test_add_func("/ratelimit/tiny-speed", test_tiny_speed);
    return g_test_run();
}
