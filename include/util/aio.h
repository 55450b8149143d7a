/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * aio.h: the AioContext event loop, bottom halves, timers and clocks.
 *
 * An AioContext owns: fd handlers (epoll), bottom halves (BHs: callbacks run on
 * the next iteration), timers on each QEMUClockType, and the coroutines scheduled
 * into it. aio_poll() runs one iteration: ready fd handlers, then due timers, then
 * scheduled BHs in the order they were scheduled, then scheduled coroutines. Work
 * that callbacks schedule during an iteration (a BH scheduling a BH, a coroutine
 * waking a coroutine) never runs recursively: it runs in the next aio_poll, which
 * then does not block. (So a BH that keeps rescheduling itself cannot livelock one
 * aio_poll call.)
 *
 * Threads: each AioContext is run by exactly one thread at a time (the main loop
 * thread for qemu_get_aio_context()). From other threads only these are allowed:
 * qemu_bh_schedule(), aio_bh_schedule_oneshot(), aio_notify(), aio_co_wake(),
 * aio_co_schedule(); they kick a blocking aio_poll through an EventNotifier.
 *
 * Everything else (fd handlers, timers, BH creation/deletion) is for the owning
 * thread only. Callbacks run in the owning thread, outside coroutine context.
 */
#ifndef GODWIT_AIO_H
#define GODWIT_AIO_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/event-notifier.h"
#include "util/coroutine.h"

typedef struct AioContext AioContext;
typedef struct QEMUBH QEMUBH;
typedef struct QEMUTimer QEMUTimer;

typedef void IOHandler(void *opaque);
typedef void QEMUBHFunc(void *opaque);
typedef void QEMUTimerCB(void *opaque);

/* ---------------------------------------------------------------------------
 * Contexts
 */

/* A new, empty context; NULL with errp set if epoll/eventfd cannot be created. */
AioContext *aio_context_new(Error **errp);
/* Free a context. It must have no fd handlers, timers or BHs left (asserts). */
void aio_context_free(AioContext *ctx);

/*
 * The main loop's context, created on first use. The monitor, the block graph,
 * jobs, and (in v1) all block I/O live here.
 */
AioContext *qemu_get_aio_context(void);

/* The context the calling thread runs (the main context unless set otherwise). */
AioContext *qemu_get_current_aio_context(void);
void qemu_set_current_aio_context(AioContext *ctx);   /* for non-main threads */

/*
 * Register (or, with both handlers NULL, remove) read/write callbacks for fd.
 * Re-registering an fd replaces its handlers. Removal is safe from inside a handler.
 */
void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        IOHandler *io_write, void *opaque);

/* Call cb(e) whenever e is set (cb should test_and_clear it); NULL removes. */
void aio_set_event_notifier(AioContext *ctx, EventNotifier *e, EventNotifierHandler *cb);

/*
 * One loop iteration. With blocking=true, wait until something happens (an fd is
 * ready, a timer is due, a BH is scheduled, aio_notify); with false, only run what
 * is ready now. Returns true if any callback made progress.
 * Must not be called from coroutine context (no nested loops in coroutines).
 */
bool aio_poll(AioContext *ctx, bool blocking);

/*
 * Make a blocking aio_poll(ctx) return soon: the one running now or, if none is,
 * the next one (a notification stays pending until an aio_poll consumes it). Being
 * notified is not progress: aio_poll returns false unless a callback also ran.
 * Thread-safe; costs an eventfd write unless a notification is already pending.
 */
void aio_notify(AioContext *ctx);
/*
 * After changing state that a waiter re-checks (in-flight counters, done flags):
 * notify ctx only if an aio_poll(ctx, true) is blocked in it right now. A change
 * made in ctx's own thread needs nothing (the poll that dispatched it returns, or
 * the waiter checks before it blocks), so the request path costs no system call.
 * Thread-safe.
 */
void aio_kick(AioContext *ctx);

/*
 * Wait (running ctx's loop) while cond is true: the drain/wait primitive.
 * Callers in the main loop use it to wait for in-flight requests or jobs.
 */
#define AIO_WAIT_WHILE(ctx, cond)          \
    do {                                   \
        while ((cond)) {                   \
            aio_poll((ctx), true);         \
        }                                  \
    } while (0)

/* ---------------------------------------------------------------------------
 * Bottom halves
 */
QEMUBH *aio_bh_new(AioContext *ctx, QEMUBHFunc *cb, void *opaque);
/* Run cb soon in the BH's context; scheduling a scheduled BH is a no-op. Thread-safe. */
void qemu_bh_schedule(QEMUBH *bh);
void qemu_bh_cancel(QEMUBH *bh);
/* Delete; also cancels. Safe from inside the BH's own callback. */
void qemu_bh_delete(QEMUBH *bh);
/* Create, schedule and delete-after-run in one call. Thread-safe. */
void aio_bh_schedule_oneshot(AioContext *ctx, QEMUBHFunc *cb, void *opaque);

/* ---------------------------------------------------------------------------
 * Coroutine wake-ups
 */

/*
 * Enter co from ctx's event loop soon (not recursively). Thread-safe.
 * A coroutine must be scheduled at most once before it runs again (asserts).
 */
void aio_co_schedule(AioContext *ctx, Coroutine *co);
/* Schedule co in the context it belongs to. The usual way to wake a waiter. */
void aio_co_wake(Coroutine *co);
/*
 * Enter co now if we are ctx's thread and not inside a coroutine; otherwise
 * schedule it. Used to start request coroutines from callbacks.
 */
void aio_co_enter(AioContext *ctx, Coroutine *co);

/* ---------------------------------------------------------------------------
 * Clocks and timers. Times are nanoseconds.
 *
 * QEMU_CLOCK_REALTIME: monotonic host time; always runs (job speed limits,
 *   timeouts, migration).
 * QEMU_CLOCK_VIRTUAL:  the machine's clock. Normally follows REALTIME; after
 *   qemu_clock_virtual_set_manual(true) (the qtest accelerator, unit tests) it
 *   stands still until qemu_clock_step() moves it, so tests are deterministic.
 * QEMU_CLOCK_HOST:     wall-clock time (CLOCK_REALTIME), for event timestamps.
 */
enum QEMUClockType {
    QEMU_CLOCK_REALTIME = 0,
    QEMU_CLOCK_VIRTUAL = 1,
    QEMU_CLOCK_HOST = 2,
    QEMU_CLOCK_MAX
};

#define SCALE_MS 1000000LL
#define SCALE_US 1000LL
#define NANOSECONDS_PER_SECOND 1000000000LL

int64_t qemu_clock_get_ns(QEMUClockType type);
static inline int64_t qemu_clock_get_ms(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_MS;
}

/* Switch the virtual clock between following REALTIME and being stepped by hand. */
void qemu_clock_virtual_set_manual(bool manual);
bool qemu_clock_virtual_is_manual(void);
/*
 * Advance the manual virtual clock by ns and kick every context with timers on it;
 * timers that became due run at their context's next aio_poll. Returns the new time.
 */
int64_t qemu_clock_step(int64_t ns);
/* Nanoseconds until the earliest armed timer on this clock in any context; -1 if none. */
int64_t qemu_clock_deadline_ns_all(QEMUClockType type);

/* A timer in ctx on clock type; unarmed until timer_mod. */
QEMUTimer *aio_timer_new(AioContext *ctx, QEMUClockType type, QEMUTimerCB *cb, void *opaque);
/*
 * Arm (or re-arm) to fire when the clock reaches expire_ns (absolute). The callback
 * runs once, in aio_poll of the timer's context, with the timer already disarmed.
 */
void timer_mod(QEMUTimer *t, int64_t expire_ns);
void timer_del(QEMUTimer *t);                   /* disarm; safe if unarmed */
void timer_free(QEMUTimer *t);                  /* disarms first */
bool timer_pending(QEMUTimer *t);
int64_t timer_expire_time_ns(QEMUTimer *t);     /* -1 when unarmed */

/* ---------------------------------------------------------------------------
 * Internals shared by util/aio.c, util/timer.c and util/thread-pool.c; nobody
 * else may use them.
 */
typedef struct TimerListGroup TimerListGroup;
typedef struct ThreadPool ThreadPool;

TimerListGroup *aio_get_timerlist_group(AioContext *ctx);
/* ctx's thread pool, NULL until thread-pool.c installs one. */
ThreadPool *aio_get_thread_pool(AioContext *ctx);
void aio_set_thread_pool(AioContext *ctx, ThreadPool *pool);

/* Timer lists of one context (timer.c). The group must hold no timers when freed. */
TimerListGroup *timerlist_group_new(AioContext *ctx);
void timerlist_group_free(TimerListGroup *tlg);
/* Nanoseconds until the first timer of the group is due; 0 if one is; -1 if none. */
int64_t timerlist_group_deadline_ns(TimerListGroup *tlg);
/* Run every due timer; true if one ran. */
bool timerlist_group_run(TimerListGroup *tlg);

#endif /* GODWIT_AIO_H */
