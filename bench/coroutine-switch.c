/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * bench-coroutine-switch: cost of a coroutine switch (enter + yield round trip,
 * halved) and of create + terminate with the stack pool warm. Each figure is the
 * median of several runs, so one preempted run does not skew it.
 */
#include "util/osdep.h"
#include "util/coroutine.h"

#define RUNS 9

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void coroutine_fn co_yield_forever(void *opaque)
{
    for (;;) {
        qemu_coroutine_yield();
    }
}

static void coroutine_fn co_return(void *opaque)
{
}

/* ns per switch: one enter + one yield is two switches. */
static double run_switch(long n)
{
    Coroutine *co = qemu_coroutine_create(co_yield_forever, NULL);
    int64_t start = now_ns();

    for (long i = 0; i < n; i++) {
        qemu_coroutine_enter(co);
    }
    /* co never terminates; the benchmark exits with it suspended. */
    return (double)(now_ns() - start) / (2.0 * n);
}

static double run_create(long n)
{
    int64_t start = now_ns();

    for (long i = 0; i < n; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(co_return, NULL));
    }
    return (double)(now_ns() - start) / n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10 * 1000 * 1000;
    double t[RUNS];

    run_switch(n / 10);                     /* warm up caches and the CPU clock */
    for (int i = 0; i < RUNS; i++) {
        t[i] = run_switch(n);
    }
    printf("coroutine switch: %.1f ns (median of %d runs of %.1fM round trips)\n",
           median(t, RUNS), RUNS, n / 1e6);

    run_create(n / 10);
    for (int i = 0; i < RUNS; i++) {
        t[i] = run_create(n / 10);
    }
    printf("coroutine create+enter+terminate (pooled stack): %.1f ns (median of %d runs of %.1fM)\n",
           median(t, RUNS), RUNS, n / 10 / 1e6);
    return 0;
}
