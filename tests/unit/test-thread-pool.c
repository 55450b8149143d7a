/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Unit tests for util/thread-pool.c: results and completion thread, the worker
 * limit, coroutine submission, idle retirement and teardown. Workers that must be
 * held busy block on a condition variable that the test releases; nothing sleeps.
 */
#include "util/osdep.h"
#include "util/thread-pool.h"

#include <pthread.h>

static pthread_t main_thread;

typedef struct Job {
    int in;
    int out;
    bool done;
} Job;

static int double_it(void *opaque)
{
    Job *j = opaque;

    g_assert_false(pthread_equal(pthread_self(), main_thread));   /* on a worker */
    return j->in * 2;
}

static void job_done(void *opaque, int ret)
{
    Job *j = opaque;

    g_assert_true(pthread_equal(pthread_self(), main_thread));    /* back home */
    g_assert_false(j->done);
    j->out = ret;
    j->done = true;
}

static int jobs_left(Job *jobs, int n)
{
    int left = 0;

    for (int i = 0; i < n; i++) {
        left += !jobs[i].done;
    }
    return left;
}

static void test_submit_many(void)
{
    enum { N = 1000 };
    AioContext *ctx = aio_context_new(&error_abort);
    Job *jobs = g_new0(Job, N);

    for (int i = 0; i < N; i++) {
        jobs[i].in = i;
        thread_pool_submit_aio(ctx, double_it, &jobs[i], job_done, &jobs[i]);
    }
    AIO_WAIT_WHILE(ctx, jobs_left(jobs, N) > 0);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(jobs[i].out, ==, 2 * i);
    }
    g_assert_cmpint(thread_pool_worker_count(ctx), >=, 1);
    g_assert_cmpint(thread_pool_worker_count(ctx), <=, 64);
    thread_pool_free_for_context(ctx);
    g_assert_cmpint(thread_pool_worker_count(ctx), ==, 0);
    aio_context_free(ctx);
    g_free(jobs);
}

/* Jobs that block until released, to observe how many run at once. */
static GMutex gate_lock;
static GCond gate_cond;
static int gate_running;
static bool gate_open;

static int gated(void *opaque)
{
    g_mutex_lock(&gate_lock);
    gate_running++;
    g_cond_broadcast(&gate_cond);
    while (!gate_open) {
        g_cond_wait(&gate_cond, &gate_lock);
    }
    gate_running--;
    g_mutex_unlock(&gate_lock);
    return 0;
}

static void test_worker_limit(void)
{
    enum { N = 100 };
    AioContext *ctx = aio_context_new(&error_abort);
    Job *jobs = g_new0(Job, N);

    gate_open = false;
    for (int i = 0; i < N; i++) {
        thread_pool_submit_aio(ctx, gated, NULL, job_done, &jobs[i]);
    }
    g_mutex_lock(&gate_lock);
    while (gate_running < 64) {
        g_cond_wait(&gate_cond, &gate_lock);
    }
    /* 64 are blocked in gated(); the other 36 wait for a worker, not a new thread. */
    g_assert_cmpint(thread_pool_worker_count(ctx), ==, 64);
    g_assert_cmpint(gate_running, ==, 64);
    gate_open = true;
    g_cond_broadcast(&gate_cond);
    g_mutex_unlock(&gate_lock);

    AIO_WAIT_WHILE(ctx, jobs_left(jobs, N) > 0);
    g_assert_cmpint(thread_pool_worker_count(ctx), ==, 64);
    thread_pool_free_for_context(ctx);
    aio_context_free(ctx);
    g_free(jobs);
}

static void coroutine_fn co_submit(void *opaque)
{
    Job *j = opaque;

    j->out = thread_pool_submit_co(double_it, j);
    /* Resumed by the completion in our own thread, not on the worker. */
    g_assert_true(pthread_equal(pthread_self(), main_thread));
    j->done = true;
}

static void test_submit_co(void)
{
    enum { N = 20 };
    AioContext *ctx = qemu_get_aio_context();
    unsigned alive = qemu_coroutine_alive_count();
    Job jobs[N];

    for (int i = 0; i < N; i++) {
        jobs[i] = (Job) { .in = 100 + i };
        qemu_coroutine_enter(qemu_coroutine_create(co_submit, &jobs[i]));
    }
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive + N);
    AIO_WAIT_WHILE(ctx, jobs_left(jobs, N) > 0);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(jobs[i].out, ==, 2 * (100 + i));
    }
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive);
}

static void test_workers_retire(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Job j = { .in = 21 };

    thread_pool_set_idle_timeout(ctx, 1 * SCALE_MS);
    thread_pool_submit_aio(ctx, double_it, &j, job_done, &j);
    AIO_WAIT_WHILE(ctx, !j.done);
    g_assert_cmpint(j.out, ==, 42);
    /* A retiring worker kicks the context, so this wait ends without polling. */
    AIO_WAIT_WHILE(ctx, thread_pool_worker_count(ctx) > 0);
    g_assert_cmpint(thread_pool_worker_count(ctx), ==, 0);

    /* The pool starts a new worker on demand. */
    j = (Job) { .in = 5 };
    thread_pool_submit_aio(ctx, double_it, &j, job_done, &j);
    AIO_WAIT_WHILE(ctx, !j.done);
    g_assert_cmpint(j.out, ==, 10);
    thread_pool_free_for_context(ctx);
    aio_context_free(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_thread = pthread_self();
    g_test_add_func("/thread-pool/submit-many", test_submit_many);
    g_test_add_func("/thread-pool/worker-limit", test_worker_limit);
    g_test_add_func("/thread-pool/submit-co", test_submit_co);
    g_test_add_func("/thread-pool/workers-retire", test_workers_retire);
    return g_test_run();
}
