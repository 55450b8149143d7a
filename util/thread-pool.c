/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * thread-pool.c: worker threads for blocking calls (contract in include/util/thread-pool.h).
 *
 * The costs that matter are futex calls and lock hand-offs per request, so:
 *  - an idle worker parks on its own futex word, on a LIFO stack of idle workers.
 *    A submission pops the most recently idle worker and hands it the request
 *    directly: exactly one wake-up, and the woken worker needs no lock to start;
 *  - a worker that has just finished takes the next pending request under the
 *    lock it needs anyway, and counts itself as `returning` meanwhile so that a
 *    submission arriving then does not start a thread it will not need;
 *  - with no idle worker, the request waits on `pending`; busy workers take from
 *    it when they finish, and a new worker starts if the pool is below its limit;
 *  - completions go on a lock-free stack; only the push that finds it empty
 *    schedules the completion BH, which takes the whole stack at once and runs
 *    the callbacks in submission order (a batch per wake-up of the main loop);
 *  - thread_pool_submit_co keeps its request in the coroutine's frame and
 *    thread_pool_submit_aio recycles requests through a free list: no malloc per
 *    request.
 * `lock` guards pending, the idle stack and the worker counts. Workers are
 * detached; freeing the pool waits for `workers` to drop to zero.
 */
#include "util/osdep.h"
#include "util/thread-pool.h"

#include <pthread.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#define THREAD_POOL_MAX_WORKERS 64
#define THREAD_POOL_IDLE_NS     (10 * NANOSECONDS_PER_SECOND)
#define THREAD_POOL_FREE_MAX    256
#define THREAD_POOL_SLICE_NS    (100 * 1000 * 1000)  /* idle waits re-read idle_ns this often */

typedef struct ThreadPoolRequest ThreadPoolRequest;
struct ThreadPoolRequest {
    ThreadPoolFunc *func;
    void *arg;
    ThreadPoolCompletion *cb;
    void *opaque;
    int ret;
    bool pooled;                    /* from the free list (aio), not a coroutine frame */
    ThreadPoolRequest *next;        /* pending queue, done stack or free list */
};

typedef struct ThreadPoolWorker ThreadPoolWorker;
struct ThreadPoolWorker {
    struct ThreadPool *pool;
    ThreadPoolRequest *req;         /* handed over by a submitter; NULL + has_req: exit */
    uint32_t has_req;               /* futex word: 0 while waiting for a hand-over */
    uint32_t sleeping;              /* in FUTEX_WAIT: a hand-over must wake it */
    ThreadPoolWorker *next_idle;
};

/* Set at creation: ctx, completion_bh. `done` is lock-free; the free list is main-loop only. */
struct ThreadPool {
    AioContext *ctx;
    QEMUBH *completion_bh;
    ThreadPoolRequest *done;        /* lock-free LIFO of finished requests */
    ThreadPoolRequest *free_list;
    int free_count;
    int64_t idle_ns;                /* atomic */
    GMutex lock;
    GCond exit_cond;                /* a worker exited */
    ThreadPoolRequest *pending_head, *pending_tail;
    ThreadPoolWorker *idle;         /* stack of parked workers */
    int npending;
    int returning;                  /* finished a request, about to take the lock again */
    int workers;
    bool stopping;
};

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static int64_t thread_pool_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

/* ---- worker side ---- */

static void thread_pool_done_push(ThreadPool *pool, ThreadPoolRequest *req)
{
    ThreadPoolRequest *old = __atomic_load_n(&pool->done, __ATOMIC_RELAXED);

    do {
        req->next = old;
    } while (!__atomic_compare_exchange_n(&pool->done, &old, req, true, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
    if (!old) {
        qemu_bh_schedule(pool->completion_bh);      /* the first of a batch */
    }
}

/* Called with lock held. */
static ThreadPoolRequest *thread_pool_pending_pop(ThreadPool *pool)
{
    ThreadPoolRequest *req = pool->pending_head;

    if (req) {
        pool->pending_head = req->next;
        pool->npending--;
        if (!pool->pending_head) {
            pool->pending_tail = NULL;
        }
    }
    return req;
}

/*
 * Sleep until a hand-over or the idle timeout; true: handed over. No spinning
 * first: on the 2-vCPU machines we measure on, a spinning worker took the CPU the
 * main loop needed (QD32 fell from 1.0x to 0.67x of QEMU) and QD1 gained nothing
 * measurable.
 */
static bool thread_pool_worker_wait(ThreadPool *pool, ThreadPoolWorker *w)
{
    int64_t start = thread_pool_now();

    __atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&w->has_req, __ATOMIC_SEQ_CST)) {
        int64_t left = start + __atomic_load_n(&pool->idle_ns, __ATOMIC_RELAXED) - thread_pool_now();
        if (left <= 0) {
            break;
        }
        left = MIN(left, THREAD_POOL_SLICE_NS);
        struct timespec ts = { left / NANOSECONDS_PER_SECOND, left % NANOSECONDS_PER_SECOND };
        futex(&w->has_req, FUTEX_WAIT_PRIVATE, 0, &ts);
    }
    __atomic_store_n(&w->sleeping, 0, __ATOMIC_RELAXED);
    return __atomic_load_n(&w->has_req, __ATOMIC_ACQUIRE);
}

static void *thread_pool_worker(void *opaque)
{
    ThreadPoolWorker *w = opaque;
    ThreadPool *pool = w->pool;

    g_mutex_lock(&pool->lock);
    for (;;) {
        ThreadPoolRequest *req = thread_pool_pending_pop(pool);

        if (!req) {
            if (pool->stopping) {
                break;
            }
            w->req = NULL;
            __atomic_store_n(&w->has_req, 0, __ATOMIC_RELAXED);
            w->next_idle = pool->idle;
            pool->idle = w;
            g_mutex_unlock(&pool->lock);
            if (!thread_pool_worker_wait(pool, w)) {
                g_mutex_lock(&pool->lock);
                if (!w->has_req) {                  /* timed out, nobody came: retire */
                    ThreadPoolWorker **p = &pool->idle;
                    while (*p != w) {
                        p = &(*p)->next_idle;
                    }
                    *p = w->next_idle;
                    break;
                }
                g_mutex_unlock(&pool->lock);        /* handed over just in time */
            }
            req = w->req;
            if (!req) {                             /* stopping */
                g_mutex_lock(&pool->lock);
                break;
            }
        } else {
            g_mutex_unlock(&pool->lock);
        }
        req->ret = req->func(req->arg);
        /* counted before the completion is visible, so the next submit sees it */
        __atomic_fetch_add(&pool->returning, 1, __ATOMIC_SEQ_CST);
        thread_pool_done_push(pool, req);
        g_mutex_lock(&pool->lock);
        __atomic_fetch_sub(&pool->returning, 1, __ATOMIC_SEQ_CST);
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
    g_free(w);
    return NULL;
}

/* Called with pool->lock held. */
static void thread_pool_spawn_locked(ThreadPool *pool)
{
    ThreadPoolWorker *w = g_new0(ThreadPoolWorker, 1);
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;
    int ret;

    w->pool = pool;
    /* Signals are for the main thread; workers inherit a fully blocked mask. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ret = pthread_create(&thread, &attr, thread_pool_worker, w);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret != 0) {
        g_free(w);
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

/* Called with pool->lock held: give req (NULL: exit) to a parked worker. */
static void thread_pool_hand_over_locked(ThreadPoolWorker *w, ThreadPoolRequest *req)
{
    w->req = req;
    __atomic_store_n(&w->has_req, 1, __ATOMIC_SEQ_CST);
    /* under the lock: w cannot retire and be freed before the wake */
    if (__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST)) {
        futex(&w->has_req, FUTEX_WAKE_PRIVATE, 1, NULL);
    }
}

/* ---- main loop side ---- */

static void thread_pool_completion_bh(void *opaque)
{
    ThreadPool *pool = opaque;
    ThreadPoolRequest *list = __atomic_exchange_n(&pool->done, NULL, __ATOMIC_ACQUIRE);
    ThreadPoolRequest *fifo = NULL;

    /* the stack is newest first: reverse it so callbacks run in completion order */
    while (list) {
        ThreadPoolRequest *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        ThreadPoolRequest *req = fifo;
        fifo = req->next;
        if (req->pooled) {
            ThreadPoolCompletion *cb = req->cb;
            void *cb_opaque = req->opaque;
            int ret = req->ret;
            if (pool->free_count < THREAD_POOL_FREE_MAX) {
                req->next = pool->free_list;
                pool->free_list = req;
                pool->free_count++;
            } else {
                g_free(req);
            }
            cb(cb_opaque, ret);
        } else {
            req->cb(req->opaque, req->ret);     /* may free req (a coroutine frame) */
        }
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
        g_cond_init(&pool->exit_cond);
        aio_set_thread_pool(ctx, pool);
    }
    return pool;
}

static void thread_pool_submit(ThreadPool *pool, ThreadPoolRequest *req)
{
    ThreadPoolWorker *w;

    req->next = NULL;
    g_mutex_lock(&pool->lock);
    w = pool->idle;
    if (w) {
        pool->idle = w->next_idle;
        thread_pool_hand_over_locked(w, req);
    } else {
        if (pool->pending_tail) {
            pool->pending_tail->next = req;
        } else {
            pool->pending_head = req;
        }
        pool->pending_tail = req;
        pool->npending++;
        /* a worker that just finished will take it: no need for a new thread */
        if (pool->npending > __atomic_load_n(&pool->returning, __ATOMIC_SEQ_CST) &&
            pool->workers < THREAD_POOL_MAX_WORKERS) {
            thread_pool_spawn_locked(pool);
        }
    }
    g_mutex_unlock(&pool->lock);
}

void thread_pool_submit_aio(AioContext *ctx, ThreadPoolFunc *func, void *arg,
                            ThreadPoolCompletion *cb, void *opaque)
{
    ThreadPool *pool = thread_pool_get(ctx);
    ThreadPoolRequest *req = pool->free_list;

    if (req) {
        pool->free_list = req->next;
        pool->free_count--;
    } else {
        req = g_new(ThreadPoolRequest, 1);
    }
    *req = (ThreadPoolRequest) {
        .func = func, .arg = arg, .cb = cb, .opaque = opaque, .pooled = true,
    };
    thread_pool_submit(pool, req);
}

typedef struct ThreadPoolCo {
    ThreadPoolRequest req;
    Coroutine *co;
    bool done;
} ThreadPoolCo;

static void thread_pool_co_cb(void *opaque, int ret)
{
    ThreadPoolCo *tpc = opaque;

    tpc->done = true;
    /* the completion BH runs in the coroutine's context: usually entered directly */
    aio_co_enter(qemu_coroutine_get_aio_context(tpc->co), tpc->co);
}

int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg)
{
    ThreadPoolCo tpc = { .co = qemu_coroutine_self() };
    AioContext *ctx = qemu_coroutine_get_aio_context(tpc.co);

    assert_in_coroutine();
    tpc.req = (ThreadPoolRequest) {
        .func = func, .arg = arg, .cb = thread_pool_co_cb, .opaque = &tpc,
    };
    thread_pool_submit(thread_pool_get(ctx), &tpc.req);
    while (!tpc.done) {
        qemu_coroutine_yield();
    }
    return tpc.req.ret;
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
    __atomic_store_n(&pool->idle_ns, ns, __ATOMIC_RELAXED);
    /* parked workers re-read it when their wait slice ends; wake them to do it now */
    for (ThreadPoolWorker *w = pool->idle; w; w = w->next_idle) {
        if (__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST)) {
            futex(&w->has_req, FUTEX_WAKE_PRIVATE, 1, NULL);
        }
    }
    g_mutex_unlock(&pool->lock);
}

void thread_pool_free_for_context(AioContext *ctx)
{
    ThreadPool *pool = aio_get_thread_pool(ctx);

    if (!pool) {
        return;
    }
    g_mutex_lock(&pool->lock);
    assert(!pool->pending_head && !__atomic_load_n(&pool->done, __ATOMIC_ACQUIRE));
    pool->stopping = true;
    while (pool->idle) {
        ThreadPoolWorker *w = pool->idle;
        pool->idle = w->next_idle;
        thread_pool_hand_over_locked(w, NULL);
    }
    while (pool->workers > 0) {
        g_cond_wait(&pool->exit_cond, &pool->lock);
    }
    g_mutex_unlock(&pool->lock);

    while (pool->free_list) {
        ThreadPoolRequest *req = pool->free_list;
        pool->free_list = req->next;
        g_free(req);
    }
    qemu_bh_delete(pool->completion_bh);
    g_mutex_clear(&pool->lock);
    g_cond_clear(&pool->exit_cond);
    aio_set_thread_pool(ctx, NULL);
    g_free(pool);
}
