/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Unit tests for util/coroutine*.c: life cycle, nesting, the stack pool, CoQueue,
 * CoMutex, CoRwlock and sleeping on the manual virtual clock. Coroutines are woken
 * through the main AioContext, which the tests drive with aio_poll(ctx, false).
 */
#include "util/osdep.h"
#include "util/coroutine.h"
#include "util/aio.h"

static AioContext *ctx;

/* Run the loop until nothing is left to do. */
static void drain(void)
{
    while (aio_poll(ctx, false)) {
    }
}

/* Let every other ready coroutine run before we continue. */
static void coroutine_fn yield_to_loop(void)
{
    aio_co_wake(qemu_coroutine_self());
    qemu_coroutine_yield();
}

/* ---------------------------------------------------------------------------
 * Life cycle
 */

static void coroutine_fn co_count_yields(void *opaque)
{
    int *steps = opaque;

    g_assert_true(qemu_in_coroutine());
    (*steps)++;
    qemu_coroutine_yield();
    (*steps)++;
    qemu_coroutine_yield();
    (*steps)++;
}

static void test_basic(void)
{
    unsigned alive = qemu_coroutine_alive_count();
    int steps = 0;
    Coroutine *co = qemu_coroutine_create(co_count_yields, &steps);

    g_assert_false(qemu_in_coroutine());
    g_assert_null(qemu_coroutine_self());
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive + 1);
    g_assert_true(qemu_coroutine_get_aio_context(co) == qemu_get_current_aio_context());

    qemu_coroutine_enter(co);
    g_assert_cmpint(steps, ==, 1);
    g_assert_false(qemu_coroutine_entered(co));
    qemu_coroutine_enter(co);
    g_assert_cmpint(steps, ==, 2);
    g_assert_true(qemu_coroutine_enter_if_inactive(co));     /* terminates it */
    g_assert_cmpint(steps, ==, 3);
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive);
}

typedef struct NestState {
    int depth;
    int max_depth;
    Coroutine *outer[16];
} NestState;

static void coroutine_fn co_nest(void *opaque)
{
    NestState *s = opaque;
    Coroutine *self = qemu_coroutine_self();
    int my_depth = s->depth++;

    s->outer[my_depth] = self;
    g_assert_true(qemu_coroutine_entered(self));
    /* Everybody who entered us is still entered (suspended in its enter call). */
    for (int i = 0; i < my_depth; i++) {
        g_assert_true(qemu_coroutine_entered(s->outer[i]));
        g_assert_false(qemu_coroutine_enter_if_inactive(s->outer[i]));
    }
    if (s->depth < s->max_depth) {
        qemu_coroutine_enter(qemu_coroutine_create(co_nest, s));
    }
    /* The inner coroutine returned to us, not to the thread. */
    g_assert_true(qemu_coroutine_self() == self);
}

static void test_nesting(void)
{
    unsigned alive = qemu_coroutine_alive_count();
    NestState s = { .max_depth = 16 };

    qemu_coroutine_enter(qemu_coroutine_create(co_nest, &s));
    g_assert_cmpint(s.depth, ==, 16);
    g_assert_null(qemu_coroutine_self());
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive);
}

static void coroutine_fn co_yield_once(void *opaque)
{
    qemu_coroutine_yield();
}

static void coroutine_fn co_nothing(void *opaque)
{
}

static void test_pool_reuse(void)
{
    Coroutine *a = qemu_coroutine_create(co_nothing, NULL);
    Coroutine *b;

    qemu_coroutine_enter(a);                /* terminates: a goes to the pool */
    b = qemu_coroutine_create(co_nothing, NULL);
    g_assert_true(a == b);                  /* the same object and stack came back */
    qemu_coroutine_enter(b);
}

static void coroutine_fn co_use_stack(void *opaque)
{
    /* Touch most of the 1 MiB stack: it must all be usable. */
    volatile char buf[768 * 1024];

    memset((char *)buf, 0x5a, sizeof(buf));
    *(int *)opaque = buf[sizeof(buf) - 1] + buf[0];
}

static void test_stack_size(void)
{
    int sum = 0;

    qemu_coroutine_enter(qemu_coroutine_create(co_use_stack, &sum));
    g_assert_cmpint(sum, ==, 2 * 0x5a);
}

static void test_many(void)
{
    enum { N = 2000 };
    unsigned alive = qemu_coroutine_alive_count();
    Coroutine **cos = g_new(Coroutine *, N);

    for (int i = 0; i < N; i++) {
        cos[i] = qemu_coroutine_create(co_yield_once, NULL);
        qemu_coroutine_enter(cos[i]);
    }
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive + N);
    for (int i = 0; i < N; i++) {
        aio_co_wake(cos[i]);
    }
    drain();
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, alive);
    g_free(cos);
}

static void coroutine_fn co_enter_self(void *opaque)
{
    qemu_coroutine_enter(qemu_coroutine_self());
}

static void test_enter_running_aborts(void)
{
    if (g_test_subprocess()) {
        qemu_coroutine_enter(qemu_coroutine_create(co_enter_self, NULL));
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*qemu_coroutine_enter: coroutine * is already running*");
}

/* ---------------------------------------------------------------------------
 * CoMutex
 */

typedef struct MutexState {
    CoMutex lock;
    int inside;               /* coroutines in the critical section */
    int order[8];             /* who got the lock, in order */
    int n;
} MutexState;

typedef struct Worker {
    MutexState *s;
    int id;
} Worker;

static void coroutine_fn co_mutex_worker(void *opaque)
{
    Worker *w = opaque;
    MutexState *s = w->s;

    qemu_co_mutex_lock(&s->lock);
    g_assert_cmpint(++s->inside, ==, 1);
    s->order[s->n++] = w->id;
    yield_to_loop();                        /* others try to get in meanwhile */
    yield_to_loop();
    g_assert_cmpint(s->inside--, ==, 1);
    qemu_co_mutex_unlock(&s->lock);
}

static void test_co_mutex_fifo(void)
{
    MutexState s = { .n = 0 };
    Worker w[8];

    qemu_co_mutex_init(&s.lock);
    for (int i = 0; i < 8; i++) {
        w[i] = (Worker) { .s = &s, .id = i };
        qemu_coroutine_enter(qemu_coroutine_create(co_mutex_worker, &w[i]));
    }
    g_assert_cmpint(s.n, ==, 1);             /* only the first is inside */
    drain();
    g_assert_cmpint(s.n, ==, 8);
    for (int i = 0; i < 8; i++) {
        g_assert_cmpint(s.order[i], ==, i);
    }
    g_assert_false(s.lock.locked);
}

static void coroutine_fn co_trylock(void *opaque)
{
    CoMutex *m = opaque;

    g_assert_true(qemu_co_mutex_trylock(m));
    g_assert_false(qemu_co_mutex_trylock(m));
    qemu_co_mutex_unlock(m);
    g_assert_true(qemu_co_mutex_trylock(m));
    qemu_co_mutex_unlock(m);
}

static void test_co_mutex_trylock(void)
{
    CoMutex m;

    qemu_co_mutex_init(&m);
    qemu_coroutine_enter(qemu_coroutine_create(co_trylock, &m));
    g_assert_false(m.locked);
}

/* ---------------------------------------------------------------------------
 * CoRwlock. Each actor runs a script of steps; the tests check who holds what.
 */

enum { RD, WR, UP, DOWN, UNLOCK, PAUSE };

typedef struct RwActor {
    CoRwlock *l;
    char name;
    const int *script;        /* ends with -1; PAUSE waits for the test to resume it */
    int pc;
    GString *log;             /* "<name><step>" appended when a step completes */
    Coroutine *co;
} RwActor;

static void coroutine_fn co_rw_actor(void *opaque)
{
    RwActor *a = opaque;

    for (; a->script[a->pc] >= 0; a->pc++) {
        switch (a->script[a->pc]) {
        case RD: qemu_co_rwlock_rdlock(a->l); break;
        case WR: qemu_co_rwlock_wrlock(a->l); break;
        case UP: qemu_co_rwlock_upgrade(a->l); break;
        case DOWN: qemu_co_rwlock_downgrade(a->l); break;
        case UNLOCK: qemu_co_rwlock_unlock(a->l); break;
        case PAUSE: qemu_coroutine_yield(); continue;
        }
        g_string_append_printf(a->log, "%c%d ", a->name, a->script[a->pc]);
    }
}

static void rw_start(RwActor *a, CoRwlock *l, char name, const int *script, GString *log)
{
    *a = (RwActor) { .l = l, .name = name, .script = script, .log = log };
    a->co = qemu_coroutine_create(co_rw_actor, a);
    qemu_coroutine_enter(a->co);
    drain();
}

static void rw_resume(RwActor *a)
{
    aio_co_wake(a->co);       /* the actor steps past its PAUSE itself */
    drain();
}

static void test_rwlock_readers_share(void)
{
    static const int reader[] = { RD, PAUSE, UNLOCK, -1 };
    g_autoptr(GString) log = g_string_new("");
    CoRwlock l;
    RwActor a, b;

    qemu_co_rwlock_init(&l);
    rw_start(&a, &l, 'a', reader, log);
    rw_start(&b, &l, 'b', reader, log);
    g_assert_cmpint(l.readers, ==, 2);
    rw_resume(&a);
    rw_resume(&b);
    g_assert_cmpstr(log->str, ==, "a0 b0 a4 b4 ");
    g_assert_cmpint(l.readers, ==, 0);
}

static void test_rwlock_writer_excludes(void)
{
    static const int writer[] = { WR, PAUSE, UNLOCK, -1 };
    static const int reader[] = { RD, UNLOCK, -1 };
    g_autoptr(GString) log = g_string_new("");
    CoRwlock l;
    RwActor w, r, w2;

    qemu_co_rwlock_init(&l);
    rw_start(&w, &l, 'w', writer, log);
    rw_start(&r, &l, 'r', reader, log);
    rw_start(&w2, &l, 'x', writer, log);
    g_assert_cmpstr(log->str, ==, "w1 ");     /* r and x wait */
    rw_resume(&w);
    /* r was first in line, then x; x holds the lock now. */
    g_assert_cmpstr(log->str, ==, "w1 w4 r0 r4 x1 ");
    rw_resume(&w2);
    g_assert_cmpstr(log->str, ==, "w1 w4 r0 r4 x1 x4 ");
    g_assert_false(l.writer);
}

static void test_rwlock_no_writer_starvation(void)
{
    static const int reader[] = { RD, PAUSE, UNLOCK, -1 };
    static const int writer[] = { WR, UNLOCK, -1 };
    g_autoptr(GString) log = g_string_new("");
    CoRwlock l;
    RwActor r1, w, r2;

    qemu_co_rwlock_init(&l);
    rw_start(&r1, &l, 'a', reader, log);
    rw_start(&w, &l, 'w', writer, log);       /* waits for a */
    rw_start(&r2, &l, 'b', reader, log);      /* must queue behind w, not join a */
    g_assert_cmpstr(log->str, ==, "a0 ");
    g_assert_cmpint(l.readers, ==, 1);
    rw_resume(&r1);
    g_assert_cmpstr(log->str, ==, "a0 a4 w1 w4 b0 ");
    rw_resume(&r2);
    g_assert_cmpint(l.readers, ==, 0);
}

static void test_rwlock_upgrade_downgrade(void)
{
    static const int upgrader[] = { RD, PAUSE, UP, PAUSE, DOWN, PAUSE, UNLOCK, -1 };
    static const int reader[] = { RD, PAUSE, UNLOCK, -1 };
    static const int reader2[] = { RD, UNLOCK, -1 };
    g_autoptr(GString) log = g_string_new("");
    CoRwlock l;
    RwActor u, r, r2;

    qemu_co_rwlock_init(&l);
    rw_start(&u, &l, 'u', upgrader, log);
    rw_start(&r, &l, 'r', reader, log);
    rw_resume(&u);                            /* upgrade waits for r */
    g_assert_cmpstr(log->str, ==, "u0 r0 ");
    rw_start(&r2, &l, 's', reader2, log);     /* queued behind the upgrader */
    rw_resume(&r);                            /* r leaves: u writes, s still waits */
    g_assert_cmpstr(log->str, ==, "u0 r0 r4 u2 ");
    g_assert_true(l.writer);
    rw_resume(&u);                            /* downgrade admits s next to u */
    g_assert_cmpstr(log->str, ==, "u0 r0 r4 u2 u3 s0 s4 ");
    g_assert_cmpint(l.readers, ==, 1);
    rw_resume(&u);
    g_assert_cmpint(l.readers, ==, 0);
    g_assert_false(l.writer);
}

/* ---------------------------------------------------------------------------
 * CoQueue
 */

typedef struct QueueState {
    CoQueue q;
    CoMutex m;
    int woken;
    bool use_mutex;
} QueueState;

static void coroutine_fn co_queue_waiter(void *opaque)
{
    QueueState *s = opaque;

    if (s->use_mutex) {
        qemu_co_mutex_lock(&s->m);
        qemu_co_queue_wait(&s->q, &s->m);
        g_assert_true(s->m.holder == qemu_coroutine_self());   /* retaken */
        s->woken++;
        qemu_co_mutex_unlock(&s->m);
    } else {
        qemu_co_queue_wait(&s->q, NULL);
        s->woken++;
    }
}

static void test_co_queue(void)
{
    QueueState s = { .woken = 0 };

    qemu_co_queue_init(&s.q);
    qemu_co_mutex_init(&s.m);
    g_assert_true(qemu_co_queue_empty(&s.q));
    g_assert_false(qemu_co_queue_next(&s.q));
    for (int i = 0; i < 4; i++) {
        s.use_mutex = i % 2;
        qemu_coroutine_enter(qemu_coroutine_create(co_queue_waiter, &s));
    }
    g_assert_false(s.m.locked);              /* waiting released the mutex */
    g_assert_false(qemu_co_queue_empty(&s.q));
    g_assert_true(qemu_co_queue_next(&s.q));
    g_assert_cmpint(s.woken, ==, 0);         /* waking does not run it at once */
    drain();
    g_assert_cmpint(s.woken, ==, 1);
    qemu_co_queue_restart_all(&s.q);
    drain();
    g_assert_cmpint(s.woken, ==, 4);
    g_assert_true(qemu_co_queue_empty(&s.q));
}

/* ---------------------------------------------------------------------------
 * Sleeping
 */

typedef struct SleepState {
    QemuCoSleep w;
    int64_t ns;
    bool done;
} SleepState;

static void coroutine_fn co_sleeper(void *opaque)
{
    SleepState *s = opaque;

    qemu_co_sleep_ns_wakeable(&s->w, QEMU_CLOCK_VIRTUAL, s->ns);
    s->done = true;
}

static void test_co_sleep_virtual(void)
{
    SleepState s = { .ns = 1 * NANOSECONDS_PER_SECOND };

    qemu_clock_virtual_set_manual(true);
    qemu_coroutine_enter(qemu_coroutine_create(co_sleeper, &s));
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, s.ns);
    drain();
    g_assert_false(s.done);
    qemu_clock_step(s.ns - 1);
    drain();
    g_assert_false(s.done);
    qemu_clock_step(1);
    g_assert_true(aio_poll(ctx, true));      /* timer due: does not block */
    drain();
    g_assert_true(s.done);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, -1);
}

static void test_co_sleep_woken_early(void)
{
    SleepState s = { .ns = 10 * NANOSECONDS_PER_SECOND };

    qemu_clock_virtual_set_manual(true);
    qemu_coroutine_enter(qemu_coroutine_create(co_sleeper, &s));
    drain();
    g_assert_false(s.done);
    g_assert_true(s.w.to_wake != NULL);
    qemu_co_sleep_wake(&s.w);
    qemu_co_sleep_wake(&s.w);                /* second wake: a no-op */
    drain();
    g_assert_true(s.done);
    /* The timer went away with the sleep. */
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL), ==, -1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ctx = qemu_get_aio_context();

    g_test_add_func("/coroutine/basic", test_basic);
    g_test_add_func("/coroutine/nesting", test_nesting);
    g_test_add_func("/coroutine/pool-reuse", test_pool_reuse);
    g_test_add_func("/coroutine/stack-size", test_stack_size);
    g_test_add_func("/coroutine/many", test_many);
    g_test_add_func("/coroutine/enter-running-aborts", test_enter_running_aborts);
    g_test_add_func("/coroutine/co-mutex/fifo", test_co_mutex_fifo);
    g_test_add_func("/coroutine/co-mutex/trylock", test_co_mutex_trylock);
    g_test_add_func("/coroutine/rwlock/readers-share", test_rwlock_readers_share);
    g_test_add_func("/coroutine/rwlock/writer-excludes", test_rwlock_writer_excludes);
    g_test_add_func("/coroutine/rwlock/no-writer-starvation", test_rwlock_no_writer_starvation);
    g_test_add_func("/coroutine/rwlock/upgrade-downgrade", test_rwlock_upgrade_downgrade);
    g_test_add_func("/coroutine/co-queue", test_co_queue);
    g_test_add_func("/coroutine/sleep/virtual", test_co_sleep_virtual);
    g_test_add_func("/coroutine/sleep/woken-early", test_co_sleep_woken_early);
    return g_test_run();
}
