/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * bench-event-loop: costs of the AioContext building blocks. BH schedule + run
 * (one aio_poll per BH, so it includes the epoll_wait(0) syscall), aio_poll with
 * an eventfd ready (write + epoll + read), and the thread pool's submit ->
 * completion round trip (latency at depth 1) and throughput (many in flight).
 * Each figure is the median of several runs.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/thread-pool.h"

#define RUNS 7

static int64_t now_ns(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
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

static void bh_cb(void *opaque)
{
    (*(long *)opaque)++;
}

static double run_bh(AioContext *ctx, long n)
{
    long count = 0;
    QEMUBH *bh = aio_bh_new(ctx, bh_cb, &count);
    int64_t start = now_ns();

    for (long i = 0; i < n; i++) {
        qemu_bh_schedule(bh);
        aio_poll(ctx, false);
    }
    start = now_ns() - start;
    assert(count == n);
    qemu_bh_delete(bh);
    return (double)start / n;
}

/* BHs run in batches: schedule 64, then one aio_poll runs them all. */
static double run_bh_batch(AioContext *ctx, long n)
{
    enum { BATCH = 64 };
    long count = 0;
    QEMUBH *bh[BATCH];
    int64_t start;

    for (int i = 0; i < BATCH; i++) {
        bh[i] = aio_bh_new(ctx, bh_cb, &count);
    }
    start = now_ns();
    for (long i = 0; i < n / BATCH; i++) {
        for (int j = 0; j < BATCH; j++) {
            qemu_bh_schedule(bh[j]);
        }
        aio_poll(ctx, false);
    }
    start = now_ns() - start;
    for (int i = 0; i < BATCH; i++) {
        qemu_bh_delete(bh[i]);
    }
    return (double)start / (n / BATCH * BATCH);
}

static void notifier_cb(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

static double run_eventfd(AioContext *ctx, long n)
{
    EventNotifier e;
    int64_t start;

    event_notifier_init(&e, false);
    aio_set_event_notifier(ctx, &e, notifier_cb);
    start = now_ns();
    for (long i = 0; i < n; i++) {
        event_notifier_set(&e);
        aio_poll(ctx, true);
    }
    start = now_ns() - start;
    aio_set_event_notifier(ctx, &e, NULL);
    event_notifier_cleanup(&e);
    return (double)start / n;
}

static int noop(void *opaque)
{
    return 0;
}

static void done_cb(void *opaque, int ret)
{
    (*(long *)opaque)++;
}

static double run_pool_latency(AioContext *ctx, long n)
{
    long done = 0;
    int64_t start = now_ns();

    for (long i = 0; i < n; i++) {
        thread_pool_submit_aio(ctx, noop, NULL, done_cb, &done);
        AIO_WAIT_WHILE(ctx, done <= i);
    }
    return (double)(now_ns() - start) / n;
}

/* Requests per second with up to 256 in flight. */
static double run_pool_throughput(AioContext *ctx, long n)
{
    long submitted = 0, done = 0;
    int64_t start = now_ns();

    while (done < n) {
        while (submitted < n && submitted - done < 256) {
            thread_pool_submit_aio(ctx, noop, NULL, done_cb, &done);
            submitted++;
        }
        aio_poll(ctx, true);
    }
    return n * 1e9 / (double)(now_ns() - start);
}

int main(int argc, char **argv)
{
    AioContext *ctx = qemu_get_aio_context();
    double t[RUNS];

    for (int i = 0; i < RUNS; i++) {
        t[i] = run_bh(ctx, 1000000);
    }
    printf("BH schedule + aio_poll(false): %.1f ns (median of %d runs of 1M)\n",
           median(t, RUNS), RUNS);
    for (int i = 0; i < RUNS; i++) {
        t[i] = run_bh_batch(ctx, 4000000);
    }
    printf("BH schedule + run, 64 per aio_poll: %.1f ns per BH (median of %d runs of 4M)\n",
           median(t, RUNS), RUNS);
    for (int i = 0; i < RUNS; i++) {
        t[i] = run_eventfd(ctx, 200000);
    }
    printf("eventfd set + aio_poll(true) dispatch: %.1f ns (median of %d runs of 200k)\n",
           median(t, RUNS), RUNS);
    for (int i = 0; i < RUNS; i++) {
        t[i] = run_pool_latency(ctx, 20000) / 1000.0;
    }
    printf("thread pool submit -> completion round trip: %.2f us (median of %d runs of 20k)\n",
           median(t, RUNS), RUNS);
    for (int i = 0; i < RUNS; i++) {
        t[i] = run_pool_throughput(ctx, 200000) / 1e6;
    }
    printf("thread pool throughput, 256 in flight: %.2f M requests/s (median of %d runs of 200k)\n",
           median(t, RUNS), RUNS);
    printf("thread pool workers started: %d\n", thread_pool_worker_count(ctx));
    return 0;
}
