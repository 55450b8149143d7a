/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * aio.c: the AioContext event loop: epoll fd handlers, bottom halves, scheduled
 * coroutines and cross-thread wake-ups (contract in include/util/aio.h; timers
 * are in timer.c).
 *
 * Cross-thread work (BHs and coroutines) is pushed onto lock-free LIFO lists that
 * aio_poll takes whole with one exchange and reverses, so schedulers never take a
 * lock and run order is schedule order. A scheduler only writes the eventfd when
 * the owner may be about to sleep (notify_me), which makes the common case, a
 * BH scheduled by the owner itself, free of syscalls:
 *
 *   scheduler:  push work (seq_cst)   ; load notify_me  -> if set, aio_notify()
 *   poller:     store notify_me=1 (seq_cst) ; load lists -> if empty, sleep
 *
 * Both sides use sequentially consistent operations, so at least one of them sees
 * the other's store: either the poller finds the work or the scheduler kicks it.
 */
#include "util/osdep.h"
#include "util/aio.h"

#include <pthread.h>
#include <sys/epoll.h>

#define AIO_MAX_EVENTS 64

enum {
    BH_SCHEDULED = 1 << 0,    /* run it when the list is next drained */
    BH_PENDING   = 1 << 1,    /* linked in ctx->bh_list */
    BH_DELETED   = 1 << 2,    /* free it when it leaves the list */
    BH_ONESHOT   = 1 << 3,    /* free it after it ran */
};

struct QEMUBH {
    AioContext *ctx;
    QEMUBHFunc *cb;
    void *opaque;
    unsigned flags;           /* atomic BH_* */
    QEMUBH *next;             /* link in ctx->bh_list while BH_PENDING */
};

/*
 * The BHs one aio_bh_poll() took from bh_list and has not run yet. A BH may
 * poll the context itself (vm_stop drains devices from a BH); the nested
 * aio_bh_poll() then runs what the outer one still holds first, or a BH the
 * nested poll waits for (a request's completion) would never run.
 */
typedef struct BHSlice {
    QEMUBH *head;
    struct BHSlice *next;     /* younger (nested) slice */
} BHSlice;

typedef struct AioHandler {
    int fd;
    IOHandler *io_read;
    IOHandler *io_write;
    EventNotifierHandler *notifier_cb;  /* instead of io_read, for event notifiers */
    void *opaque;
    bool deleted;             /* removed while a dispatch may still see it */
} AioHandler;

/*
 * Thread rules: the fields up to bh_count are touched by other threads only
 * atomically (lists, flags); the rest belong to the owning thread.
 */
struct AioContext {
    QEMUBH *bh_list;          /* atomic LIFO of scheduled BHs */
    Coroutine *co_list;       /* atomic LIFO of scheduled coroutines */
    bool notify_me;           /* atomic: the owner may block in epoll_wait */
    bool notified;            /* atomic: the notifier eventfd is (being) set */
    unsigned bh_count;        /* atomic: BHs alive, for aio_context_free */

    int epfd;
    EventNotifier notifier;   /* aio_notify; in epoll with data.ptr == NULL */
    GHashTable *handlers;     /* fd -> AioHandler */
    GSList *deleted_handlers; /* freed when no dispatch is walking */
    int walking;
    BHSlice *bh_slices;       /* oldest first: aio_bh_poll() calls in progress */
    TimerListGroup *tlg;
    ThreadPool *thread_pool;
};

static AioContext *main_ctx;
static pthread_once_t main_ctx_once = PTHREAD_ONCE_INIT;
static __thread AioContext *current_ctx;
static bool epoll_pwait2_missing;           /* atomic: kernel older than 5.11 */

/* ---------------------------------------------------------------------------
 * Contexts
 */

AioContext *aio_context_new(Error **errp)
{
    AioContext *ctx = g_new0(AioContext, 1);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    int ret;

    ctx->notifier.fd = -1;
    ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ctx->epfd < 0) {
        error_setg_errno(errp, errno, "Could not create epoll instance");
        g_free(ctx);
        return NULL;
    }
    ret = event_notifier_init(&ctx->notifier, false);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not create event notifier");
        goto fail;
    }
    if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->notifier.fd, &ev) < 0) {
        error_setg_errno(errp, errno, "Could not watch event notifier");
        goto fail;
    }
    ctx->handlers = g_hash_table_new(NULL, NULL);
    ctx->tlg = timerlist_group_new(ctx);
    return ctx;

fail:
    event_notifier_cleanup(&ctx->notifier);
    close(ctx->epfd);
    g_free(ctx);
    return NULL;
}

static void aio_free_deleted_handlers(AioContext *ctx)
{
    g_slist_free_full(ctx->deleted_handlers, g_free);
    ctx->deleted_handlers = NULL;
}

void aio_context_free(AioContext *ctx)
{
    QEMUBH *bh = __atomic_exchange_n(&ctx->bh_list, NULL, __ATOMIC_ACQUIRE);

    /* Deleted BHs still linked in the list are the only ones we may find there. */
    while (bh) {
        QEMUBH *next = bh->next;

        assert(bh->flags & BH_DELETED);
        g_free(bh);
        bh = next;
    }
    assert(ctx != main_ctx);
    assert(g_hash_table_size(ctx->handlers) == 0);
    assert(ctx->bh_count == 0);
    assert(ctx->co_list == NULL);
    assert(ctx->thread_pool == NULL);
    assert(ctx->walking == 0);

    timerlist_group_free(ctx->tlg);
    aio_free_deleted_handlers(ctx);
    g_hash_table_destroy(ctx->handlers);
    event_notifier_cleanup(&ctx->notifier);
    close(ctx->epfd);
    if (current_ctx == ctx) {
        current_ctx = NULL;
    }
    g_free(ctx);
}

static void aio_main_context_create(void)
{
    main_ctx = aio_context_new(&error_abort);
}

AioContext *qemu_get_aio_context(void)
{
    pthread_once(&main_ctx_once, aio_main_context_create);
    return main_ctx;
}

AioContext *qemu_get_current_aio_context(void)
{
    return current_ctx ? current_ctx : qemu_get_aio_context();
}

void qemu_set_current_aio_context(AioContext *ctx)
{
    current_ctx = ctx;
}

TimerListGroup *aio_get_timerlist_group(AioContext *ctx)
{
    return ctx->tlg;
}

ThreadPool *aio_get_thread_pool(AioContext *ctx)
{
    return ctx->thread_pool;
}

void aio_set_thread_pool(AioContext *ctx, ThreadPool *pool)
{
    ctx->thread_pool = pool;
}

/* ---------------------------------------------------------------------------
 * fd handlers
 */

static void aio_set_handler(AioContext *ctx, int fd, IOHandler *io_read, IOHandler *io_write,
                            EventNotifierHandler *notifier_cb, void *opaque)
{
    AioHandler *node = g_hash_table_lookup(ctx->handlers, GINT_TO_POINTER(fd));
    struct epoll_event ev;
    int op;

    if (!io_read && !io_write && !notifier_cb) {
        if (!node) {
            return;
        }
        g_hash_table_remove(ctx->handlers, GINT_TO_POINTER(fd));
        epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, fd, NULL);
        /* Events already returned by epoll_wait may still point at node. */
        node->deleted = true;
        if (ctx->walking) {
            ctx->deleted_handlers = g_slist_prepend(ctx->deleted_handlers, node);
        } else {
            g_free(node);
        }
        return;
    }

    op = node ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (!node) {
        node = g_new0(AioHandler, 1);
        node->fd = fd;
        g_hash_table_insert(ctx->handlers, GINT_TO_POINTER(fd), node);
    }
    node->io_read = io_read;
    node->io_write = io_write;
    node->notifier_cb = notifier_cb;
    node->opaque = opaque;

    ev.events = (io_read || notifier_cb ? EPOLLIN : 0) | (io_write ? EPOLLOUT : 0);
    ev.data.ptr = node;
    if (epoll_ctl(ctx->epfd, op, fd, &ev) < 0) {
        /* Only a programming error gets here (a closed fd, a regular file). */
        fprintf(stderr, "%s: aio_set_fd_handler: cannot watch fd %d: %s\n",
                error_get_progname(), fd, strerror(errno));
        abort();
    }
}

void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        IOHandler *io_write, void *opaque)
{
    aio_set_handler(ctx, fd, io_read, io_write, NULL, opaque);
}

void aio_set_event_notifier(AioContext *ctx, EventNotifier *e, EventNotifierHandler *cb)
{
    aio_set_handler(ctx, e->fd, NULL, NULL, cb, e);
}

static bool aio_dispatch_handlers(AioContext *ctx, struct epoll_event *events, int n)
{
    bool progress = false;

    ctx->walking++;
    for (int i = 0; i < n; i++) {
        AioHandler *node = events[i].data.ptr;
        uint32_t revents = events[i].events;

        if (!node) {
            /* Clear the eventfd before the flag, so no notification goes unwritten. */
            event_notifier_test_and_clear(&ctx->notifier);
            __atomic_store_n(&ctx->notified, false, __ATOMIC_SEQ_CST);
            continue;
        }
        if (!node->deleted && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
            if (node->notifier_cb) {
                node->notifier_cb(node->opaque);
                progress = true;
            } else if (node->io_read) {
                node->io_read(node->opaque);
                progress = true;
            }
        }
        if (!node->deleted && (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && node->io_write) {
            node->io_write(node->opaque);
            progress = true;
        }
    }
    if (--ctx->walking == 0) {
        aio_free_deleted_handlers(ctx);
    }
    return progress;
}

/* ---------------------------------------------------------------------------
 * Notification
 */

void aio_notify(AioContext *ctx)
{
    if (!__atomic_exchange_n(&ctx->notified, true, __ATOMIC_SEQ_CST)) {
        event_notifier_set(&ctx->notifier);
    }
}

/* Called after publishing work: wake the owner only if it may be sleeping. */
void aio_kick(AioContext *ctx)
{
    if (__atomic_load_n(&ctx->notify_me, __ATOMIC_SEQ_CST)) {
        aio_notify(ctx);
    }
}

/* ---------------------------------------------------------------------------
 * Bottom halves
 */

QEMUBH *aio_bh_new(AioContext *ctx, QEMUBHFunc *cb, void *opaque)
{
    QEMUBH *bh = g_new0(QEMUBH, 1);

    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    __atomic_fetch_add(&ctx->bh_count, 1, __ATOMIC_RELAXED);
    return bh;
}

void qemu_bh_schedule(QEMUBH *bh)
{
    AioContext *ctx = bh->ctx;
    unsigned old = __atomic_fetch_or(&bh->flags, BH_SCHEDULED | BH_PENDING, __ATOMIC_SEQ_CST);

    if (old & BH_PENDING) {
        return;                 /* still linked: the drain will see BH_SCHEDULED */
    }
    bh->next = __atomic_load_n(&ctx->bh_list, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&ctx->bh_list, &bh->next, bh, true,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        /* bh->next was refreshed by the failed exchange */
    }
    aio_kick(ctx);
}

void qemu_bh_cancel(QEMUBH *bh)
{
    __atomic_fetch_and(&bh->flags, ~BH_SCHEDULED, __ATOMIC_SEQ_CST);
}

void qemu_bh_delete(QEMUBH *bh)
{
    unsigned old = __atomic_fetch_or(&bh->flags, BH_DELETED, __ATOMIC_SEQ_CST);

    qemu_bh_cancel(bh);
    __atomic_fetch_sub(&bh->ctx->bh_count, 1, __ATOMIC_RELAXED);
    if (!(old & BH_PENDING)) {
        g_free(bh);             /* otherwise aio_bh_poll frees it when it unlinks it */
    }
}

void aio_bh_schedule_oneshot(AioContext *ctx, QEMUBHFunc *cb, void *opaque)
{
    QEMUBH *bh = aio_bh_new(ctx, cb, opaque);

    bh->flags = BH_ONESHOT;
    qemu_bh_schedule(bh);
}

/* Take a whole LIFO list and return it in push (FIFO) order. */
static void *aio_take_list(void **head, size_t next_offset)
{
    void *item = __atomic_exchange_n(head, NULL, __ATOMIC_SEQ_CST);
    void *fifo = NULL;

    while (item) {
        void **next = (void **)((char *)item + next_offset);
        void *following = *next;

        *next = fifo;
        fifo = item;
        item = following;
    }
    return fifo;
}

static bool aio_bh_poll(AioContext *ctx)
{
    BHSlice slice = { aio_take_list((void **)&ctx->bh_list, offsetof(QEMUBH, next)), NULL };
    BHSlice **tail = &ctx->bh_slices;
    bool progress = false;

    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = &slice;
    /* outer slices first: their BHs were scheduled before ours */
    while (ctx->bh_slices) {
        BHSlice *s = ctx->bh_slices;
        QEMUBH *bh = s->head;

        if (!bh) {
            ctx->bh_slices = s->next;
            continue;
        }
        s->head = bh->next;
        unsigned old = __atomic_fetch_and(&bh->flags, ~(BH_SCHEDULED | BH_PENDING),
                                          __ATOMIC_SEQ_CST);

        if (old & BH_DELETED) {
            g_free(bh);
        } else if (old & BH_SCHEDULED) {
            /* Read nothing from bh after cb: it may delete itself. */
            bh->cb(bh->opaque);
            if (old & BH_ONESHOT) {
                __atomic_fetch_sub(&ctx->bh_count, 1, __ATOMIC_RELAXED);
                g_free(bh);
            }
            progress = true;
        }
    }
    return progress;
}

/* ---------------------------------------------------------------------------
 * Coroutine wake-ups
 */

void aio_co_schedule(AioContext *ctx, Coroutine *co)
{
    if (__atomic_exchange_n(&co->scheduled, 1, __ATOMIC_SEQ_CST)) {
        fprintf(stderr, "%s: aio_co_schedule: coroutine %p scheduled twice\n",
                error_get_progname(), (void *)co);
        abort();
    }
    co->sched_next = __atomic_load_n(&ctx->co_list, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&ctx->co_list, &co->sched_next, co, true,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
    aio_kick(ctx);
}

void aio_co_wake(Coroutine *co)
{
    aio_co_schedule(qemu_coroutine_get_aio_context(co), co);
}

void aio_co_enter(AioContext *ctx, Coroutine *co)
{
    if (ctx == qemu_get_current_aio_context() && !qemu_in_coroutine()) {
        qemu_coroutine_enter(co);
    } else {
        aio_co_schedule(ctx, co);
    }
}

static bool aio_co_poll(AioContext *ctx)
{
    Coroutine *co = aio_take_list((void **)&ctx->co_list, offsetof(Coroutine, sched_next));
    bool progress = co != NULL;

    while (co) {
        Coroutine *next = co->sched_next;

        __atomic_store_n(&co->scheduled, 0, __ATOMIC_SEQ_CST);
        qemu_coroutine_enter(co);
        co = next;
    }
    return progress;
}

/* ---------------------------------------------------------------------------
 * The loop
 */

static bool aio_has_work(AioContext *ctx)
{
    return __atomic_load_n(&ctx->bh_list, __ATOMIC_SEQ_CST) ||
           __atomic_load_n(&ctx->co_list, __ATOMIC_SEQ_CST);
}

/* epoll_wait with a nanosecond timeout (-1: forever). */
static int aio_epoll_wait(AioContext *ctx, struct epoll_event *events, int64_t timeout_ns)
{
    int n, ms;

    if (timeout_ns > 0 && !__atomic_load_n(&epoll_pwait2_missing, __ATOMIC_RELAXED)) {
        struct timespec ts = {
            .tv_sec = timeout_ns / NANOSECONDS_PER_SECOND,
            .tv_nsec = timeout_ns % NANOSECONDS_PER_SECOND,
        };

        n = epoll_pwait2(ctx->epfd, events, AIO_MAX_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS) {
            return n < 0 ? 0 : n;
        }
        __atomic_store_n(&epoll_pwait2_missing, true, __ATOMIC_RELAXED);
    }
    /* Round up: waking early would spin until the timer is due. */
    if (timeout_ns < 0) {
        ms = -1;
    } else {
        ms = MIN(DIV_ROUND_UP(timeout_ns, SCALE_MS), INT_MAX);
    }
    n = epoll_wait(ctx->epfd, events, AIO_MAX_EVENTS, ms);
    return n < 0 ? 0 : n;       /* EINTR: treat as a spurious wake-up */
}

bool aio_poll(AioContext *ctx, bool blocking)
{
    struct epoll_event events[AIO_MAX_EVENTS];
    int64_t timeout = 0;
    bool progress;
    int n;

    assert(!qemu_in_coroutine());
    if (blocking) {
        __atomic_store_n(&ctx->notify_me, true, __ATOMIC_SEQ_CST);
        if (!aio_has_work(ctx)) {
            timeout = timerlist_group_deadline_ns(ctx->tlg);
        }
    }
    n = aio_epoll_wait(ctx, events, timeout);
    if (blocking) {
        __atomic_store_n(&ctx->notify_me, false, __ATOMIC_RELAXED);
    }

    progress = aio_dispatch_handlers(ctx, events, n);
    progress |= timerlist_group_run(ctx->tlg);
    progress |= aio_bh_poll(ctx);
    progress |= aio_co_poll(ctx);
    return progress;
}
