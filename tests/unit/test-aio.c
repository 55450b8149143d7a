/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Unit tests for util/aio.c, util/timer.c and util/event-notifier.c: fd handlers,
 * bottom halves, cross-thread wake-ups, timers on the manual virtual clock and
 * AIO_WAIT_WHILE. The loop is driven by hand; nothing sleeps.
 */
#include "util/osdep.h"
#include "util/aio.h"

#include <fcntl.h>
#include <pthread.h>

static AioContext *new_ctx(void)
{
    return aio_context_new(&error_abort);
}

static void drain(AioContext *ctx)
{
    while (aio_poll(ctx, false)) {
    }
}

/* ---------------------------------------------------------------------------
 * fd handlers
 */

typedef struct PipeState {
    AioContext *ctx;
    int fds[2];
    int reads, writes;
    struct PipeState *other;  /* removed by our handler, if set */
} PipeState;

static void pipe_read_cb(void *opaque)
{
    PipeState *p = opaque;
    char c;

    g_assert_cmpint(read(p->fds[0], &c, 1), ==, 1);
    p->reads++;
}

static void pipe_write_cb(void *opaque)
{
    PipeState *p = opaque;

    p->writes++;
    aio_set_fd_handler(p->ctx, p->fds[1], NULL, NULL, NULL);
}

static void pipe_init(PipeState *p, AioContext *ctx)
{
    *p = (PipeState) { .ctx = ctx };
    g_assert_cmpint(pipe2(p->fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
}

static void pipe_cleanup(PipeState *p)
{
    close(p->fds[0]);
    close(p->fds[1]);
}

static void test_fd_read_write(void)
{
    AioContext *ctx = new_ctx();
    PipeState p;

    pipe_init(&p, ctx);
    aio_set_fd_handler(ctx, p.fds[0], pipe_read_cb, NULL, &p);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(write(p.fds[1], "x", 1), ==, 1);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(p.reads, ==, 1);
    g_assert_false(aio_poll(ctx, false));   /* drained: level-triggered, not ready */

    /* A write handler on the (writable) other end fires and removes itself. */
    aio_set_fd_handler(ctx, p.fds[1], NULL, pipe_write_cb, &p);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(p.writes, ==, 1);
    g_assert_false(aio_poll(ctx, false));

    aio_set_fd_handler(ctx, p.fds[0], NULL, NULL, NULL);
    g_assert_cmpint(write(p.fds[1], "y", 1), ==, 1);
    g_assert_false(aio_poll(ctx, false));   /* removed: nobody reads */
    g_assert_cmpint(p.reads, ==, 1);
    pipe_cleanup(&p);
    aio_context_free(ctx);
}

static void pipe_remove_both_cb(void *opaque)
{
    PipeState *p = opaque;

    p->reads++;
    aio_set_fd_handler(p->ctx, p->fds[0], NULL, NULL, NULL);
    aio_set_fd_handler(p->ctx, p->other->fds[0], NULL, NULL, NULL);
}

static void test_fd_remove_in_handler(void)
{
    AioContext *ctx = new_ctx();
    PipeState a, b;

    pipe_init(&a, ctx);
    pipe_init(&b, ctx);
    a.other = &b;
    b.other = &a;
    aio_set_fd_handler(ctx, a.fds[0], pipe_remove_both_cb, NULL, &a);
    aio_set_fd_handler(ctx, b.fds[0], pipe_remove_both_cb, NULL, &b);
    g_assert_cmpint(write(a.fds[1], "x", 1), ==, 1);
    g_assert_cmpint(write(b.fds[1], "x", 1), ==, 1);
    /* Both are ready in the same epoll_wait; whichever runs first removes the other. */
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(a.reads + b.reads, ==, 1);
    g_assert_false(aio_poll(ctx, false));
    pipe_cleanup(&a);
    pipe_cleanup(&b);
    aio_context_free(ctx);              /* asserts no handler is left */
}

static int notifier_count;

static void notifier_cb(EventNotifier *e)
{
    g_assert_true(event_notifier_test_and_clear(e));
    notifier_count++;
}

static void test_event_notifier(void)
{
    AioContext *ctx = new_ctx();
    struct {
        EventNotifier e;
    } s;

    g_assert_cmpint(event_notifier_init(&s.e, false), ==, 0);
    g_assert_false(event_notifier_test_and_clear(&s.e));
    aio_set_event_notifier(ctx, &s.e, notifier_cb);
    g_assert_false(aio_poll(ctx, false));
    event_notifier_set(&s.e);
    event_notifier_set(&s.e);               /* coalesced */
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(notifier_count, ==, 1);
    g_assert_false(aio_poll(ctx, false));
    aio_set_event_notifier(ctx, &s.e, NULL);
    event_notifier_cleanup(&s.e);
    aio_context_free(ctx);
}

/* ---------------------------------------------------------------------------
 * Bottom halves
 */

typedef struct BHLog {
    GString *log;
    QEMUBH *bh[3];
    QEMUBH *chain;            /* scheduled by bh[0], if set */
} BHLog;

typedef struct BHItem {
    BHLog *l;
    char name;
} BHItem;

static void bh_log_cb(void *opaque)
{
    BHItem *it = opaque;

    g_string_append_c(it->l->log, it->name);
    if (it->name == 'a' && it->l->chain) {
        qemu_bh_schedule(it->l->chain);
    }
}

static void test_bh_order(void)
{
    AioContext *ctx = new_ctx();
    g_autoptr(GString) log = g_string_new("");
    BHLog l = { .log = log };
    BHItem items[4] = { { &l, 'a' }, { &l, 'b' }, { &l, 'c' }, { &l, 'd' } };

    for (int i = 0; i < 3; i++) {
        l.bh[i] = aio_bh_new(ctx, bh_log_cb, &items[i]);
    }
    QEMUBH *chain = aio_bh_new(ctx, bh_log_cb, &items[3]);

    l.chain = chain;
    qemu_bh_schedule(l.bh[2]);
    qemu_bh_schedule(l.bh[0]);
    qemu_bh_schedule(l.bh[1]);
    qemu_bh_schedule(l.bh[0]);              /* already scheduled: a no-op */
    g_assert_true(aio_poll(ctx, false));
    /* Schedule order; d (scheduled by a) waits for the next aio_poll. */
    g_assert_cmpstr(log->str, ==, "cab");
    g_assert_true(aio_poll(ctx, true));     /* must not block: d is pending */
    g_assert_cmpstr(log->str, ==, "cabd");

    l.chain = NULL;
    qemu_bh_schedule(l.bh[0]);
    qemu_bh_schedule(l.bh[1]);
    qemu_bh_cancel(l.bh[0]);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(log->str, ==, "cabdb");
    qemu_bh_schedule(l.bh[0]);              /* cancelled, then scheduled again */
    qemu_bh_cancel(l.bh[0]);
    qemu_bh_schedule(l.bh[0]);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(log->str, ==, "cabdba");
    g_assert_false(aio_poll(ctx, false));

    qemu_bh_schedule(l.bh[2]);
    qemu_bh_delete(l.bh[2]);                /* deleted while scheduled: never runs */
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(log->str, ==, "cabdba");
    qemu_bh_delete(l.bh[0]);
    qemu_bh_delete(l.bh[1]);
    qemu_bh_delete(chain);
    aio_context_free(ctx);
}

/*
 * A BH that polls the loop (vm_stop draining devices from a BH) must see the
 * BHs the outer aio_bh_poll took along with it but has not run yet.
 */
typedef struct NestedBH {
    AioContext *ctx;
    QEMUBH *waiter, *done;
    bool done_ran;
} NestedBH;

static void bh_nested_done(void *opaque)
{
    ((NestedBH *)opaque)->done_ran = true;
}

static void bh_nested_waiter(void *opaque)
{
    NestedBH *n = opaque;

    while (!n->done_ran) {
        aio_poll(n->ctx, true);     /* would block forever if 'done' were stranded */
    }
}

static void test_bh_nested_poll(void)
{
    NestedBH n = { .ctx = new_ctx() };

    n.waiter = aio_bh_new(n.ctx, bh_nested_waiter, &n);
    n.done = aio_bh_new(n.ctx, bh_nested_done, &n);
    qemu_bh_schedule(n.waiter);     /* taken in one slice, waiter first */
    qemu_bh_schedule(n.done);
    g_assert_true(aio_poll(n.ctx, false));
    g_assert_true(n.done_ran);
    g_assert_false(aio_poll(n.ctx, false));
    qemu_bh_delete(n.waiter);
    qemu_bh_delete(n.done);
    aio_context_free(n.ctx);
}

typedef struct SelfDelete {
    QEMUBH *bh;
    int runs;
} SelfDelete;

static void bh_self_delete_cb(void *opaque)
{
    SelfDelete *s = opaque;

    s->runs++;
    qemu_bh_delete(s->bh);
}

static void bh_count_cb(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_bh_delete_in_cb_and_oneshot(void)
{
    AioContext *ctx = new_ctx();
    SelfDelete s = { .runs = 0 };
    int oneshots = 0;

    s.bh = aio_bh_new(ctx, bh_self_delete_cb, &s);
    qemu_bh_schedule(s.bh);
    aio_bh_schedule_oneshot(ctx, bh_count_cb, &oneshots);
    aio_bh_schedule_oneshot(ctx, bh_count_cb, &oneshots);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(s.runs, ==, 1);
    g_assert_cmpint(oneshots, ==, 2);
    g_assert_false(aio_poll(ctx, false));
    aio_context_free(ctx);                  /* asserts every BH is gone */
}

typedef struct ThreadArgs {
    AioContext *ctx;
    QEMUBH *bh;
    Coroutine *co;
    int n;
    int counter;
} ThreadArgs;

static void *bh_schedule_thread(void *opaque)
{
    ThreadArgs *a = opaque;

    for (int i = 0; i < a->n; i++) {
        aio_bh_schedule_oneshot(a->ctx, bh_count_cb, &a->counter);
    }
    qemu_bh_schedule(a->bh);
    return NULL;
}

static void test_bh_from_thread(void)
{
    AioContext *ctx = new_ctx();
    ThreadArgs a = { .ctx = ctx, .n = 10000 };
    int last = 0;
    pthread_t t;

    a.bh = aio_bh_new(ctx, bh_count_cb, &last);
    pthread_create(&t, NULL, bh_schedule_thread, &a);
    AIO_WAIT_WHILE(ctx, !last);
    pthread_join(t, NULL);
    /* The thread scheduled the oneshots first, and BHs run in schedule order. */
    g_assert_cmpint(a.counter, ==, a.n);
    qemu_bh_delete(a.bh);
    aio_context_free(ctx);
}

static void *notify_thread(void *opaque)
{
    aio_notify(opaque);
    return NULL;
}

static void test_notify(void)
{
    AioContext *ctx = new_ctx();
    pthread_t t;

    /* A notification wakes the blocking poll but is not progress. */
    aio_notify(ctx);
    g_assert_false(aio_poll(ctx, true));
    g_assert_false(aio_poll(ctx, false));

    /* From another thread: the poll returns whether it blocks before or after. */
    pthread_create(&t, NULL, notify_thread, ctx);
    g_assert_false(aio_poll(ctx, true));
    pthread_join(t, NULL);
    aio_context_free(ctx);
}

/* ---------------------------------------------------------------------------
 * Timers
 */

typedef struct TimerLog {
    GString *log;
    char name;
} TimerLog;

static void timer_log_cb(void *opaque)
{
    TimerLog *t = opaque;

    g_string_append_c(t->log, t->name);
}

static void test_timer_virtual(void)
{
    AioContext *ctx = new_ctx();
    g_autoptr(GString) log = g_string_new("");
    TimerLog la = { log, 'a' }, lb = { log, 'b' };
    QEMUTimer *a = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, timer_log_cb, &la);
    QEMUTimer *b = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, timer_log_cb, &lb);
    int64_t now;

    qemu_clock_virtual_set_manual(true);
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    g_assert_false(timer_pending(a));
    g_assert_cmpint(timer_expire_time_ns(a), ==, -1);
    timer_mod(b, now + 200);
    timer_mod(a, now + 100);
    g_assert_cmpint(timer_expire_time_ns(a), ==, now + 100);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, 100);
    g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), ==, now);  /* stands still */

    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(qemu_clock_step(99), ==, now + 99);
    drain(ctx);
    g_assert_cmpstr(log->str, ==, "");
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, 1);

    qemu_clock_step(1);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpstr(log->str, ==, "a");
    g_assert_false(timer_pending(a));
    g_assert_true(timer_pending(b));

    /* One step past both: they fire in expiry order, once each. */
    timer_mod(a, now + 300);
    qemu_clock_step(1000);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(log->str, ==, "aba");
    g_assert_false(aio_poll(ctx, false));

    /* Re-arming moves a timer; timer_del disarms it. */
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    timer_mod(a, now + 10);
    timer_mod(a, now + 50);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, 50);
    timer_del(a);
    timer_del(a);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, -1);
    qemu_clock_step(100);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(log->str, ==, "aba");

    timer_mod(b, now);                      /* due already */
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, 0);
    timer_free(b);                          /* disarms */
    timer_free(a);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, -1);
    aio_context_free(ctx);
}

static void test_timer_realtime(void)
{
    AioContext *ctx = new_ctx();
    g_autoptr(GString) log = g_string_new("");
    TimerLog l = { log, 'r' };
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, timer_log_cb, &l);
    int64_t start = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    int polls = 0;

    timer_mod(t, start + 2 * SCALE_MS);
    while (!log->len) {
        aio_poll(ctx, true);                /* sleeps in epoll until the deadline */
        polls++;
    }
    g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - start, >=, 2 * SCALE_MS);
    /* The epoll timeout matched the deadline: no busy loop of early wake-ups. */
    g_assert_cmpint(polls, <=, 3);
    timer_free(t);
    aio_context_free(ctx);
}

/* ---------------------------------------------------------------------------
 * Coroutines and AIO_WAIT_WHILE
 */

static void coroutine_fn co_wait_for_wake(void *opaque)
{
    ThreadArgs *a = opaque;

    a->co = qemu_coroutine_self();
    qemu_coroutine_yield();
    g_assert_true(qemu_get_current_aio_context() == qemu_get_aio_context());
    a->counter++;
}

static void *wake_thread(void *opaque)
{
    ThreadArgs *a = opaque;

    aio_co_wake(a->co);
    return NULL;
}

static void test_co_wake_from_thread(void)
{
    AioContext *ctx = qemu_get_aio_context();
    ThreadArgs a = { .counter = 0 };
    pthread_t t;

    qemu_coroutine_enter(qemu_coroutine_create(co_wait_for_wake, &a));
    g_assert_cmpint(a.counter, ==, 0);
    pthread_create(&t, NULL, wake_thread, &a);
    AIO_WAIT_WHILE(ctx, a.counter == 0);
    pthread_join(t, NULL);
    g_assert_cmpint(a.counter, ==, 1);
}

static void coroutine_fn co_count(void *opaque)
{
    (*(int *)opaque)++;
}

static void coroutine_fn co_enter_nested(void *opaque)
{
    int *count = opaque;

    /* Inside a coroutine aio_co_enter schedules instead of nesting. */
    aio_co_enter(qemu_get_aio_context(), qemu_coroutine_create(co_count, count));
    g_assert_cmpint(*count, ==, 1);         /* not run yet */
}

static void test_co_enter(void)
{
    AioContext *ctx = qemu_get_aio_context();
    int count = 0;

    aio_co_enter(ctx, qemu_coroutine_create(co_count, &count));
    g_assert_cmpint(count, ==, 1);            /* entered at once */
    qemu_coroutine_enter(qemu_coroutine_create(co_enter_nested, &count));
    g_assert_cmpint(count, ==, 1);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(count, ==, 2);
}

typedef struct Chain {
    AioContext *ctx;
    int left;
} Chain;

static void chain_bh(void *opaque)
{
    Chain *c = opaque;

    if (--c->left > 0) {
        aio_bh_schedule_oneshot(c->ctx, chain_bh, c);
    }
}

static void test_aio_wait_while(void)
{
    AioContext *ctx = new_ctx();
    Chain c = { .ctx = ctx, .left = 50 };

    aio_bh_schedule_oneshot(ctx, chain_bh, &c);
    AIO_WAIT_WHILE(ctx, c.left > 0);
    g_assert_cmpint(c.left, ==, 0);
    g_assert_false(aio_poll(ctx, false));
    aio_context_free(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/aio/fd/read-write", test_fd_read_write);
    g_test_add_func("/aio/fd/remove-in-handler", test_fd_remove_in_handler);
    g_test_add_func("/aio/event-notifier", test_event_notifier);
    g_test_add_func("/aio/bh/order", test_bh_order);
    g_test_add_func("/aio/bh/delete-in-cb-and-oneshot", test_bh_delete_in_cb_and_oneshot);
    g_test_add_func("/aio/bh/from-thread", test_bh_from_thread);
    g_test_add_func("/aio/bh/nested-poll", test_bh_nested_poll);
    g_test_add_func("/aio/notify", test_notify);
    g_test_add_func("/aio/timer/virtual", test_timer_virtual);
    g_test_add_func("/aio/timer/realtime", test_timer_realtime);
    g_test_add_func("/aio/co/wake-from-thread", test_co_wake_from_thread);
    g_test_add_func("/aio/co/enter", test_co_enter);
    g_test_add_func("/aio/wait-while", test_aio_wait_while);
    return g_test_run();
}
