/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * coroutine.h: cooperative coroutines and the locks that go with them.
 *
 * A coroutine runs a CoroutineEntry on its own stack until it returns (terminates)
 * or calls qemu_coroutine_yield(), which switches back to whoever entered it. Stacks
 * come from a per-thread pool of reusable stacks with a guard page below each one;
 * the switch is a few instructions of our own assembly (no signal mask syscalls), so
 * enter + yield costs well under 50 ns (bench/coroutine-switch).
 *
 * Threads: a coroutine belongs to the thread that created it and is only entered by
 * that thread. A coroutine that yielded to wait for something is woken with
 * aio_co_wake() (include/util/aio.h), which re-enters it from the event loop rather
 * than recursively, so wakers never run the woken coroutine's code on their stack.
 *
 * Sanitizers: under ASan the switch is annotated (__sanitizer_start/finish_switch_fiber),
 * and with valgrind.h available every stack is registered, so ASan and valgrind
 * runs stay clean.
 */
#ifndef GODWIT_COROUTINE_H
#define GODWIT_COROUTINE_H

#include "util/osdep.h"

typedef struct Coroutine Coroutine;
typedef struct AioContext AioContext;

/* Entry point of a coroutine; runs on the coroutine's stack. */
typedef void coroutine_fn CoroutineEntry(void *opaque);

/*
 * Create a coroutine that will run entry(opaque) when first entered. Never fails
 * (aborts on out-of-memory, like g_malloc). The coroutine is freed automatically
 * when entry returns.
 */
Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque);

/*
 * Switch into co until it yields or terminates. co must not be running already
 * (entering a running coroutine is a bug and aborts with a message). May be called
 * from inside another coroutine: that caller is suspended until co yields.
 */
void qemu_coroutine_enter(Coroutine *co);

/* Enter co only if it is not currently entered (running); returns whether it was. */
bool qemu_coroutine_enter_if_inactive(Coroutine *co);

/* Suspend the current coroutine and go back to the code that entered it. */
void coroutine_fn qemu_coroutine_yield(void);

/* The running coroutine, or NULL outside coroutine context. */
Coroutine *qemu_coroutine_self(void);
bool qemu_in_coroutine(void);

/* True while co is running or suspended inside a nested enter. */
bool qemu_coroutine_entered(Coroutine *co);

/* The AioContext a coroutine will be woken in (the creating thread's current one). */
AioContext *qemu_coroutine_get_aio_context(Coroutine *co);

/* Number of coroutines alive (created, not yet terminated): tests use it for leaks. */
unsigned qemu_coroutine_alive_count(void);

/*
 * Debug builds (-Ddebug_checks=true) assert coroutine context at the entry of
 * public coroutine_fn functions with this.
 */
#ifdef GODWIT_DEBUG
#define assert_in_coroutine() assert(qemu_in_coroutine())
#else
#define assert_in_coroutine() do { } while (0)
#endif

/* ---------------------------------------------------------------------------
 * CoQueue: a FIFO of coroutines waiting for something. Waking does not run the
 * woken coroutine at once; it is scheduled through aio_co_wake().
 */
typedef struct CoQueue {
    GQueue waiters;           /* Coroutine *, in arrival order */
} CoQueue;

void qemu_co_queue_init(CoQueue *q);
/* Wait until woken. If mutex is non-NULL it is released while waiting and retaken. */
typedef struct CoMutex CoMutex;
void coroutine_fn qemu_co_queue_wait(CoQueue *q, CoMutex *mutex);
/* Wake the first waiter; false if there was none. */
bool qemu_co_queue_next(CoQueue *q);
/* Wake all waiters. */
void qemu_co_queue_restart_all(CoQueue *q);
bool qemu_co_queue_empty(CoQueue *q);

/* ---------------------------------------------------------------------------
 * CoMutex: a mutex for coroutines of one thread; waiters are served in FIFO order.
 * Locking never blocks the thread, only the coroutine.
 */
struct CoMutex {
    bool locked;
    Coroutine *holder;
    CoQueue waiters;
};

void qemu_co_mutex_init(CoMutex *m);
void coroutine_fn qemu_co_mutex_lock(CoMutex *m);
void coroutine_fn qemu_co_mutex_unlock(CoMutex *m);   /* must be the holder */
bool qemu_co_mutex_trylock(CoMutex *m);                /* coroutine context */

/* ---------------------------------------------------------------------------
 * CoRwlock: many readers or one writer. Waiters are served strictly in arrival
 * order, and a newcomer queues behind anybody already waiting, so a waiting writer
 * blocks new readers (no writer starvation); a run of readers at the head of the
 * queue is admitted together.
 *
 * upgrade turns a held read lock into the write lock. It is not atomic: when other
 * readers hold the lock, the caller drops its read lock and waits at the head of
 * the queue, so another upgrader may write in between. downgrade turns the write
 * lock into a read lock at once and admits the readers waiting at the head.
 */
typedef struct CoRwlock {
    int readers;              /* readers holding the lock */
    bool writer;              /* a writer holds it */
    GQueue waiters;           /* CoRwlockWaiter (on each waiter's stack), FIFO */
} CoRwlock;

void qemu_co_rwlock_init(CoRwlock *l);
void coroutine_fn qemu_co_rwlock_rdlock(CoRwlock *l);
void coroutine_fn qemu_co_rwlock_wrlock(CoRwlock *l);
void coroutine_fn qemu_co_rwlock_upgrade(CoRwlock *l);
void coroutine_fn qemu_co_rwlock_downgrade(CoRwlock *l);
void coroutine_fn qemu_co_rwlock_unlock(CoRwlock *l);

/* ---------------------------------------------------------------------------
 * Sleeping. co_sleep_ns yields until the given clock has advanced by ns (see
 * QEMUClockType in include/util/aio.h; QEMU_CLOCK_VIRTUAL only moves when a test
 * or the qtest accelerator steps it).
 *
 * A sleep can be cut short: QemuCoSleep lets another party wake the sleeper early
 * (job pause/cancel do this).
 */
typedef enum QEMUClockType QEMUClockType;

void coroutine_fn qemu_co_sleep_ns(QEMUClockType type, int64_t ns);

typedef struct QemuCoSleep {
    Coroutine *to_wake;       /* set while sleeping */
} QemuCoSleep;

/* Sleep until the clock reaches ns from now, or until qemu_co_sleep_wake(w). */
void coroutine_fn qemu_co_sleep_ns_wakeable(QemuCoSleep *w, QEMUClockType type, int64_t ns);
/* Wake the sleeper early; a no-op if nobody sleeps on w. */
void qemu_co_sleep_wake(QemuCoSleep *w);

/* ---------------------------------------------------------------------------
 * Internals shared by util/coroutine*.c and util/aio.c; nobody else may use them.
 */

/*
 * A suspended execution context. On x86-64 it is only the saved stack pointer:
 * the callee-saved registers and the resume address sit on the stack itself.
 */
typedef struct CoroutineContext {
    void *sp;
#ifndef __x86_64__
    void *uc;                 /* ucontext_t *, the portable fallback */
#endif
} CoroutineContext;

struct Coroutine {
    CoroutineContext cc;          /* saved state while not running */
    CoroutineEntry *entry;
    void *opaque;
    Coroutine *caller;            /* who entered us; NULL when not entered */
    AioContext *ctx;              /* where aio_co_wake() schedules us */
    bool terminated;              /* entry returned; the enterer frees us */
    int scheduled;                /* atomic: queued by aio_co_schedule() */
    Coroutine *sched_next;        /* link in the context's scheduled list */
    Coroutine *pool_next;         /* link in the thread's pool of free coroutines */
    void *stack;                  /* usable stack (above the guard page) */
    size_t stack_size;
    unsigned valgrind_id;
    void *asan_fake_stack;        /* ASan: our fake stack while switched away */
    const void *asan_stack_bottom;/* ASan: bounds of this coroutine's stack */
    size_t asan_stack_size;
};

/*
 * Prepare cc so that the first coroutine_context_switch() into it runs
 * trampoline(co) on [stack, stack + size). trampoline must never return.
 */
void coroutine_context_init(CoroutineContext *cc, void *stack, size_t size,
                            void (*trampoline)(Coroutine *co), Coroutine *co);
/* Save the current state in from and resume to. Returns when someone resumes from. */
void coroutine_context_switch(CoroutineContext *from, CoroutineContext *to);
void coroutine_context_destroy(CoroutineContext *cc);

#endif /* GODWIT_COROUTINE_H */
