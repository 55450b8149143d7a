/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * coroutine-lock.c: CoQueue, CoMutex and CoRwlock (contract in include/util/coroutine.h).
 *
 * All three hand ownership over directly: the releaser grants the lock to the
 * waiter it wakes before that waiter runs again, so a coroutine arriving in
 * between cannot barge in, and FIFO order is exactly arrival order. Wake-ups go
 * through aio_co_wake(), so the releaser keeps running and the woken coroutine
 * runs from the event loop.
 */
#include "util/osdep.h"
#include "util/coroutine.h"
#include "util/aio.h"

/* ---------------------------------------------------------------------------
 * CoQueue
 */

void qemu_co_queue_init(CoQueue *q)
{
    g_queue_init(&q->waiters);
}

void coroutine_fn qemu_co_queue_wait(CoQueue *q, CoMutex *mutex)
{
    Coroutine *self = qemu_coroutine_self();

    assert_in_coroutine();
    g_queue_push_tail(&q->waiters, self);
    if (mutex) {
        qemu_co_mutex_unlock(mutex);
    }
    qemu_coroutine_yield();
    if (mutex) {
        qemu_co_mutex_lock(mutex);
    }
}

bool qemu_co_queue_next(CoQueue *q)
{
    Coroutine *co = g_queue_pop_head(&q->waiters);

    if (!co) {
        return false;
    }
    aio_co_wake(co);
    return true;
}

void qemu_co_queue_restart_all(CoQueue *q)
{
    while (qemu_co_queue_next(q)) {
    }
}

bool qemu_co_queue_empty(CoQueue *q)
{
    return g_queue_is_empty(&q->waiters);
}

/* ---------------------------------------------------------------------------
 * CoMutex
 */

void qemu_co_mutex_init(CoMutex *m)
{
    m->locked = false;
    m->holder = NULL;
    qemu_co_queue_init(&m->waiters);
}

bool qemu_co_mutex_trylock(CoMutex *m)
{
    if (m->locked) {
        return false;
    }
    m->locked = true;
    m->holder = qemu_coroutine_self();
    return true;
}

void coroutine_fn qemu_co_mutex_lock(CoMutex *m)
{
    Coroutine *self = qemu_coroutine_self();

    assert_in_coroutine();
    if (qemu_co_mutex_trylock(m)) {
        return;
    }
    assert(m->holder != self);          /* not recursive */
    g_queue_push_tail(&m->waiters.waiters, self);
    qemu_coroutine_yield();
    assert(m->locked && m->holder == self);   /* granted by unlock */
}

void coroutine_fn qemu_co_mutex_unlock(CoMutex *m)
{
    Coroutine *next;

    assert(m->locked && m->holder == qemu_coroutine_self());
    next = g_queue_pop_head(&m->waiters.waiters);
    if (!next) {
        m->locked = false;
        m->holder = NULL;
        return;
    }
    m->holder = next;                   /* stays locked: handed over */
    aio_co_wake(next);
}

/* ---------------------------------------------------------------------------
 * CoRwlock
 */

typedef struct CoRwlockWaiter {
    Coroutine *co;
    bool write;
    GList link;               /* in CoRwlock.waiters; data points back here */
} CoRwlockWaiter;

void qemu_co_rwlock_init(CoRwlock *l)
{
    l->readers = 0;
    l->writer = false;
    g_queue_init(&l->waiters);
}

/* Grant the lock to the waiters at the head of the queue that can have it now. */
static void co_rwlock_grant(CoRwlock *l)
{
    CoRwlockWaiter *w;

    while ((w = g_queue_peek_head(&l->waiters)) && !l->writer) {
        if (w->write) {
            if (l->readers) {
                return;
            }
            l->writer = true;
        } else {
            l->readers++;
        }
        g_queue_unlink(&l->waiters, &w->link);
        aio_co_wake(w->co);
    }
}

/* Queue ourselves (at the head if urgent) and yield until co_rwlock_grant() admits us. */
static void coroutine_fn co_rwlock_wait(CoRwlock *l, bool write, bool urgent)
{
    CoRwlockWaiter w = { .co = qemu_coroutine_self(), .write = write };

    w.link.data = &w;
    if (urgent) {
        g_queue_push_head_link(&l->waiters, &w.link);
    } else {
        g_queue_push_tail_link(&l->waiters, &w.link);
    }
    qemu_coroutine_yield();
}

void coroutine_fn qemu_co_rwlock_rdlock(CoRwlock *l)
{
    assert_in_coroutine();
    /* Queue behind anybody waiting, a writer in particular: no writer starvation. */
    if (!l->writer && g_queue_is_empty(&l->waiters)) {
        l->readers++;
        return;
    }
    co_rwlock_wait(l, false, false);
}

void coroutine_fn qemu_co_rwlock_wrlock(CoRwlock *l)
{
    assert_in_coroutine();
    if (!l->writer && !l->readers && g_queue_is_empty(&l->waiters)) {
        l->writer = true;
        return;
    }
    co_rwlock_wait(l, true, false);
}

void coroutine_fn qemu_co_rwlock_upgrade(CoRwlock *l)
{
    assert(l->readers > 0 && !l->writer);
    l->readers--;
    if (!l->readers) {
        l->writer = true;
        return;
    }
    /* At the head: the remaining readers' unlock admits us before anyone queued. */
    co_rwlock_wait(l, true, true);
}

void coroutine_fn qemu_co_rwlock_downgrade(CoRwlock *l)
{
    assert(l->writer && l->readers == 0);
    l->writer = false;
    l->readers = 1;
    co_rwlock_grant(l);
}

void coroutine_fn qemu_co_rwlock_unlock(CoRwlock *l)
{
    if (l->writer) {
        l->writer = false;
    } else {
        assert(l->readers > 0);
        l->readers--;
    }
    co_rwlock_grant(l);
}
