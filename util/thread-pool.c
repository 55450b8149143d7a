/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * thread-pool.c: worker threads for blocking calls (contract in include/util/thread-pool.h).
 *
 * One mutex guards the pool: submitters append to `pending`, workers move finished
 * requests to `done` and schedule the completion BH, which runs the callbacks in the
 * context's thread. A worker is started only when no idle worker can take the new
 * request, and an idle worker retires after the idle timeout, so a quiet pool holds
 * no threads. Workers are detached; freeing the pool waits for `workers` to drop to
 * zero instead of joining.
 */
#include "util/osdep.h"
#include "util/thread-pool.h"

#include <pthread.h>
#include <signal.h>

#define THREAD_POOL_MAX_WORKERS 64
#define THREAD_POOL_IDLE_NS (10 * NANOSECONDS_PER_SECOND)

typedef struct ThreadPoolRequest {
    ThreadPoolFunc *func;
    void *arg;
    ThreadPoolCompletion *cb;
    void *opaque;
    int ret;
    GList link;               /* in pending, then in done; data points back here */
} ThreadPoolRequest;

/* Set at creation: ctx, completion_bh. Everything else is protected by lock. */
struct ThreadPool {
    AioContext *ctx;
    QEMUBH *completion_bh;
    GMutex lock;
    GCond work_cond;          /* pending grew, or stopping */
    GCond exit_cond;          /* a worker exited */
    GQueue pending;
    GQueue done;
    int workers;
    int idle_workers;
    int64_t idle_ns;
    bool stopping;
};

static void *thread_pool_worker(void *opaque)
{
    ThreadPool *pool = opaque;

    g_mutex_lock(&pool->lock);
    while (!pool->stopping) {
        GList *link = g_queue_pop_head_link(&pool->pending);
        ThreadPoolRequest *req;

        if (!link) {
            gint64 deadline = g_get_monotonic_time() + pool->idle_ns / SCALE_US;
            bool timed_out;

            pool->idle_workers++;
            timed_out = !g_cond_wait_until(&pool->work_cond, &pool->lock, deadline);
            pool->idle_workers--;
            if (timed_out && g_queue_is_empty(&pool->pending)) {
                break;
            }
            continue;
        }
        req = link->data;
        g_mutex_unlock(&pool->lock);

        req->ret = req->func(req->arg);

        g_mutex_lock(&pool->lock);
        g_queue_push_tail_link(&pool->done, &req->link);
        qemu_bh_schedule(pool->completion_bh);
    }
    /*
     * Lets AIO_WAIT_WHILE(ctx, thread_pool_worker_count(ctx) > 0) re-check. Done
     * before workers-- because the pool and ctx may be freed as soon as it drops.
     */
    if (!pool->stopping) {
        aio_notify(pool->ctx);
    }
    pool->workers--;
    g_cond_signal(&pool->exit_cond);
    g_mutex_unlock(&pool->lock);
    return NULL;
}

/* Called with pool->lock held. */
static void thread_pool_spawn_locked(ThreadPool *pool)
{
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;
    int ret;

    /* Signals are for the main thread; workers inherit a fully blocked mask. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ret = pthread_create(&thread, &attr, thread_pool_worker, pool);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret != 0) {
        /* Without any worker the request would never complete. */
        if (pool->workers == 0) {
            fprintf(stderr, "%s: cannot start a thread pool worker: %s\n",
                    error_get_progname(), strerror(ret));
            abort();
        }
        return;
    }
    pool->workers++;
}

static void thread_pool_completion_bh(void *opaque)
{
    ThreadPool *pool = opaque;
    GQueue done;

    g_mutex_lock(&pool->lock);
    done = pool->done;
    g_queue_init(&pool->done);
    g_mutex_unlock(&pool->lock);

    for (GList *link = done.head, *next; link; link = next) {
        ThreadPoolRequest *req = link->data;

        next = link->next;
        req->cb(req->opaque, req->ret);
        g_free(req);
    }
}

static ThreadPool *thread_pool_get(AioContext *ctx)
{
    ThreadPool *pool = aio_get_thread_pool(ctx);

    if (!pool) {
        pool = g_new0(ThreadPool, 1);
        pool->ctx = ctx;
        pool->completion_bh = aio_bh_new(ctx, thread_pool_completion_bh, pool);
        pool->idle_ns = THREAD_POOL_IDLE_NS;
        g_mutex_init(&pool->lock);
        g_cond_init(&pool->work_cond);
        g_cond_init(&pool->exit_cond);
        g_queue_init(&pool->pending);
        g_queue_init(&pool->done);
        aio_set_thread_pool(ctx, pool);
    }
    return pool;
}

void thread_pool_submit_aio(AioContext *ctx, ThreadPoolFunc *func, void *arg,
                            ThreadPoolCompletion *cb, void *opaque)
{
    ThreadPool *pool = thread_pool_get(ctx);
    ThreadPoolRequest *req = g_new0(ThreadPoolRequest, 1);

    req->func = func;
    req->arg = arg;
    req->cb = cb;
    req->opaque = opaque;
    req->link.data = req;

    g_mutex_lock(&pool->lock);
    g_queue_push_tail_link(&pool->pending, &req->link);
    if (pool->idle_workers < (int)pool->pending.length &&
        pool->workers < THREAD_POOL_MAX_WORKERS) {
        thread_pool_spawn_locked(pool);
    }
    g_cond_signal(&pool->work_cond);
    g_mutex_unlock(&pool->lock);
}

typedef struct ThreadPoolCo {
    Coroutine *co;
    int ret;
    bool done;
} ThreadPoolCo;

static void thread_pool_co_cb(void *opaque, int ret)
{
    ThreadPoolCo *tpc = opaque;

    tpc->ret = ret;
    tpc->done = true;
    aio_co_wake(tpc->co);
}

int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg)
{
    ThreadPoolCo tpc = { .co = qemu_coroutine_self() };

    assert_in_coroutine();
    thread_pool_submit_aio(qemu_coroutine_get_aio_context(tpc.co), func, arg,
                           thread_pool_co_cb, &tpc);
    while (!tpc.done) {
        qemu_coroutine_yield();
    }
    return tpc.ret;
}

int thread_pool_worker_count(AioContext *ctx)
{
    ThreadPool *pool = aio_get_thread_pool(ctx);
    int n;

    if (!pool) {
        return 0;
    }
    g_mutex_lock(&pool->lock);
    n = pool->workers;
    g_mutex_unlock(&pool->lock);
    return n;
}

void thread_pool_set_idle_timeout(AioContext *ctx, int64_t ns)
{
    ThreadPool *pool = thread_pool_get(ctx);

    g_mutex_lock(&pool->lock);
    pool->idle_ns = ns;
    g_cond_broadcast(&pool->work_cond);     /* idle workers re-arm their wait */
    g_mutex_unlock(&pool->lock);
}

void thread_pool_free_for_context(AioContext *ctx)
{
    ThreadPool *pool = aio_get_thread_pool(ctx);

    if (!pool) {
        return;
    }
    g_mutex_lock(&pool->lock);
    assert(g_queue_is_empty(&pool->pending) && g_queue_is_empty(&pool->done));
    pool->stopping = true;
    g_cond_broadcast(&pool->work_cond);
    while (pool->workers > 0) {
        g_cond_wait(&pool->exit_cond, &pool->lock);
    }
    g_mutex_unlock(&pool->lock);

    qemu_bh_delete(pool->completion_bh);
    g_mutex_clear(&pool->lock);
    g_cond_clear(&pool->work_cond);
    g_cond_clear(&pool->exit_cond);
    aio_set_thread_pool(ctx, NULL);
    g_free(pool);
}
