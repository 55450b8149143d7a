/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * coroutine-sleep.c: sleeping coroutines on AioContext timers (contract in
 * include/util/coroutine.h).
 *
 * The timer and an early qemu_co_sleep_wake() race to wake the sleeper; whoever
 * comes first clears w->to_wake, so the coroutine is scheduled exactly once.
 */
#include "util/osdep.h"
#include "util/coroutine.h"
#include "util/aio.h"

void qemu_co_sleep_wake(QemuCoSleep *w)
{
    Coroutine *co = w->to_wake;

    if (co) {
        w->to_wake = NULL;
        aio_co_wake(co);
    }
}

static void co_sleep_timer_cb(void *opaque)
{
    qemu_co_sleep_wake(opaque);
}

void coroutine_fn qemu_co_sleep_ns_wakeable(QemuCoSleep *w, QEMUClockType type, int64_t ns)
{
    Coroutine *self = qemu_coroutine_self();
    AioContext *ctx = qemu_coroutine_get_aio_context(self);
    QEMUTimer *t;

    assert_in_coroutine();
    assert(!w->to_wake);
    t = aio_timer_new(ctx, type, co_sleep_timer_cb, w);
    w->to_wake = self;
    timer_mod(t, qemu_clock_get_ns(type) + ns);
    qemu_coroutine_yield();
    /* Woken early, the timer is still armed; timer_free disarms it. */
    timer_free(t);
    assert(!w->to_wake);
}

void coroutine_fn qemu_co_sleep_ns(QEMUClockType type, int64_t ns)
{
    QemuCoSleep w = { 0 };

    qemu_co_sleep_ns_wakeable(&w, type, ns);
}
