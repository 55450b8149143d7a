/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * timer.c: clocks and the per-AioContext timer lists (contract in include/util/aio.h).
 *
 * Each context has one TimerListGroup: a list per clock of armed timers sorted by
 * expiry, so the head is the deadline. Timers are armed and run by the owning
 * thread, but qemu_clock_deadline_ns_all() and qemu_clock_step() look at every
 * group from any thread, hence a small mutex per group and a registry of groups.
 *
 * The virtual clock follows REALTIME plus an offset, or, once switched to manual,
 * holds a value that only qemu_clock_step() advances. A manual clock never becomes
 * due by waiting, so its timers do not shorten a blocking aio_poll; the step kicks
 * the contexts instead.
 */
#include "util/osdep.h"
#include "util/aio.h"

#include <time.h>

struct QEMUTimer {
    TimerListGroup *tlg;
    QEMUClockType type;
    QEMUTimerCB *cb;
    void *opaque;
    int64_t expire;           /* -1 when unarmed; protected by tlg->lock */
    QEMUTimer *next;          /* in tlg->armed[type] */
};

struct TimerListGroup {
    AioContext *ctx;
    GMutex lock;
    QEMUTimer *armed[QEMU_CLOCK_MAX];
    unsigned count;           /* timers allocated in this group */
};

static GMutex groups_lock;
static GSList *groups;            /* TimerListGroup *, under groups_lock */

static bool virtual_manual;       /* atomic */
static int64_t virtual_manual_ns; /* atomic: the value while manual */
static int64_t virtual_offset;    /* atomic: VIRTUAL - REALTIME while not manual */

/* ---------------------------------------------------------------------------
 * Clocks
 */

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    switch (type) {
    case QEMU_CLOCK_REALTIME:
        return clock_ns(CLOCK_MONOTONIC);
    case QEMU_CLOCK_HOST:
        return clock_ns(CLOCK_REALTIME);
    case QEMU_CLOCK_VIRTUAL:
        if (__atomic_load_n(&virtual_manual, __ATOMIC_ACQUIRE)) {
            return __atomic_load_n(&virtual_manual_ns, __ATOMIC_ACQUIRE);
        }
        return clock_ns(CLOCK_MONOTONIC) + __atomic_load_n(&virtual_offset, __ATOMIC_RELAXED);
    default:
        abort();
    }
}

/* Wake every context with an armed timer on type (or on any clock if type < 0). */
static void qemu_clock_kick(int type)
{
    g_mutex_lock(&groups_lock);
    for (GSList *l = groups; l; l = l->next) {
        TimerListGroup *tlg = l->data;
        bool armed = false;

        g_mutex_lock(&tlg->lock);
        for (int i = 0; i < QEMU_CLOCK_MAX; i++) {
            armed |= (type < 0 || type == i) && tlg->armed[i];
        }
        g_mutex_unlock(&tlg->lock);
        if (armed) {
            aio_notify(tlg->ctx);
        }
    }
    g_mutex_unlock(&groups_lock);
}

void qemu_clock_virtual_set_manual(bool manual)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (manual == qemu_clock_virtual_is_manual()) {
        return;
    }
    /* Either way the clock continues from where it stands: time never jumps back. */
    if (manual) {
        __atomic_store_n(&virtual_manual_ns, now, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&virtual_offset, now - clock_ns(CLOCK_MONOTONIC), __ATOMIC_RELAXED);
    }
    __atomic_store_n(&virtual_manual, manual, __ATOMIC_RELEASE);
    qemu_clock_kick(QEMU_CLOCK_VIRTUAL);
}

bool qemu_clock_virtual_is_manual(void)
{
    return __atomic_load_n(&virtual_manual, __ATOMIC_ACQUIRE);
}

int64_t qemu_clock_step(int64_t ns)
{
    int64_t now;

    assert(qemu_clock_virtual_is_manual() && ns >= 0);
    now = __atomic_add_fetch(&virtual_manual_ns, ns, __ATOMIC_ACQ_REL);
    qemu_clock_kick(QEMU_CLOCK_VIRTUAL);
    return now;
}

/* ns until t's clock reaches expire; 0 if it has; -1 if waiting cannot get there. */
static int64_t timer_delta_ns(QEMUClockType type, int64_t expire, bool for_poll)
{
    int64_t delta = expire - qemu_clock_get_ns(type);

    if (delta <= 0) {
        return 0;
    }
    if (for_poll && type == QEMU_CLOCK_VIRTUAL && qemu_clock_virtual_is_manual()) {
        return -1;
    }
    return delta;
}

/* Earliest deadline of tlg; the caller holds tlg->lock. */
static int64_t timerlist_group_deadline_locked(TimerListGroup *tlg, int type, bool for_poll)
{
    int64_t deadline = -1;

    for (int i = 0; i < QEMU_CLOCK_MAX; i++) {
        int64_t delta;

        if ((type >= 0 && type != i) || !tlg->armed[i]) {
            continue;
        }
        delta = timer_delta_ns(i, tlg->armed[i]->expire, for_poll);
        if (delta >= 0 && (deadline < 0 || delta < deadline)) {
            deadline = delta;
        }
    }
    return deadline;
}

int64_t qemu_clock_deadline_ns_all(QEMUClockType type)
{
    int64_t deadline = -1;

    g_mutex_lock(&groups_lock);
    for (GSList *l = groups; l; l = l->next) {
        TimerListGroup *tlg = l->data;
        int64_t d;

        g_mutex_lock(&tlg->lock);
        d = timerlist_group_deadline_locked(tlg, type, false);
        g_mutex_unlock(&tlg->lock);
        if (d >= 0 && (deadline < 0 || d < deadline)) {
            deadline = d;
        }
    }
    g_mutex_unlock(&groups_lock);
    return deadline;
}

/* ---------------------------------------------------------------------------
 * Timer list groups
 */

TimerListGroup *timerlist_group_new(AioContext *ctx)
{
    TimerListGroup *tlg = g_new0(TimerListGroup, 1);

    tlg->ctx = ctx;
    g_mutex_init(&tlg->lock);
    g_mutex_lock(&groups_lock);
    groups = g_slist_prepend(groups, tlg);
    g_mutex_unlock(&groups_lock);
    return tlg;
}

void timerlist_group_free(TimerListGroup *tlg)
{
    assert(tlg->count == 0);
    g_mutex_lock(&groups_lock);
    groups = g_slist_remove(groups, tlg);
    g_mutex_unlock(&groups_lock);
    g_mutex_clear(&tlg->lock);
    g_free(tlg);
}

int64_t timerlist_group_deadline_ns(TimerListGroup *tlg)
{
    int64_t deadline;

    g_mutex_lock(&tlg->lock);
    deadline = timerlist_group_deadline_locked(tlg, -1, true);
    g_mutex_unlock(&tlg->lock);
    return deadline;
}

bool timerlist_group_run(TimerListGroup *tlg)
{
    bool progress = false;

    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        int64_t now;

        if (!__atomic_load_n(&tlg->armed[type], __ATOMIC_RELAXED)) {
            continue;           /* the common case: skip the clock read and the lock */
        }
        now = qemu_clock_get_ns(type);
        for (;;) {
            QEMUTimer *t;

            g_mutex_lock(&tlg->lock);
            t = tlg->armed[type];
            if (!t || t->expire > now) {
                g_mutex_unlock(&tlg->lock);
                break;
            }
            tlg->armed[type] = t->next;
            t->next = NULL;
            t->expire = -1;
            g_mutex_unlock(&tlg->lock);
            /* Unlinked first, so the callback may re-arm or free its timer. */
            t->cb(t->opaque);
            progress = true;
        }
    }
    return progress;
}

/* ---------------------------------------------------------------------------
 * Timers
 */

QEMUTimer *aio_timer_new(AioContext *ctx, QEMUClockType type, QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *t = g_new0(QEMUTimer, 1);

    assert(type >= 0 && type < QEMU_CLOCK_MAX);
    t->tlg = aio_get_timerlist_group(ctx);
    t->type = type;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    t->tlg->count++;
    return t;
}

static void timer_unlink_locked(QEMUTimer *t)
{
    QEMUTimer **p = &t->tlg->armed[t->type];

    if (t->expire < 0) {
        return;
    }
    while (*p != t) {
        p = &(*p)->next;
    }
    *p = t->next;
    t->next = NULL;
    t->expire = -1;
}

void timer_mod(QEMUTimer *t, int64_t expire_ns)
{
    TimerListGroup *tlg = t->tlg;
    int64_t expire = MAX(expire_ns, 0);     /* -1 means unarmed */
    QEMUTimer **p;

    g_mutex_lock(&tlg->lock);
    timer_unlink_locked(t);
    /* Behind timers with the same expiry, so equal deadlines fire in arming order. */
    for (p = &tlg->armed[t->type]; *p && (*p)->expire <= expire; p = &(*p)->next) {
    }
    t->expire = expire;
    t->next = *p;
    *p = t;
    g_mutex_unlock(&tlg->lock);
}

void timer_del(QEMUTimer *t)
{
    g_mutex_lock(&t->tlg->lock);
    timer_unlink_locked(t);
    g_mutex_unlock(&t->tlg->lock);
}

void timer_free(QEMUTimer *t)
{
    if (!t) {
        return;
    }
    timer_del(t);
    t->tlg->count--;
    g_free(t);
}

bool timer_pending(QEMUTimer *t)
{
    return timer_expire_time_ns(t) >= 0;
}

int64_t timer_expire_time_ns(QEMUTimer *t)
{
    int64_t expire;

    g_mutex_lock(&t->tlg->lock);
    expire = t->expire;
    g_mutex_unlock(&t->tlg->lock);
    return expire;
}
