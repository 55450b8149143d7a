/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * coroutine.c: coroutine life cycle and the per-thread pool of stacks (contract in
 * include/util/coroutine.h; the register switch itself is in coroutine-switch.c).
 *
 * Each thread has a "leader": a Coroutine without a stack of its own that stands
 * for the thread's normal stack, so enter and yield always switch between two
 * Coroutine objects. A terminated coroutine cannot free the stack it is running
 * on, so it only marks itself terminated and switches back; the enterer frees it.
 */
#include "util/osdep.h"
#include "util/coroutine.h"
#include "util/aio.h"

#include <pthread.h>
#include <sys/mman.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(CONFIG_ASAN) || defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define COROUTINE_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#ifdef CONFIG_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

/*
 * 1 MiB like QEMU's default: deep enough for qcow2 over NBD over anything.
 * MAP_NORESERVE and lazy faulting mean an idle coroutine costs a few pages.
 */
#define COROUTINE_STACK_SIZE (1 * MiB)

/* Free coroutines a thread keeps for reuse; beyond this they are unmapped. */
#define COROUTINE_POOL_MAX 256

static __thread Coroutine *current;        /* NULL outside coroutine context */
static __thread Coroutine leader;          /* the thread's own stack */
static __thread Coroutine *pool;           /* free coroutines with stacks */
static __thread unsigned pool_size;
static __thread bool pool_registered;     /* the exit destructor knows our pool */

static unsigned alive_count;               /* atomic */

static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

/* ---------------------------------------------------------------------------
 * Stacks and the pool
 */

static void coroutine_free(Coroutine *co)
{
    size_t guard = qemu_real_host_page_size();

#ifdef CONFIG_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(co->valgrind_id);
#endif
    coroutine_context_destroy(&co->cc);
    munmap((char *)co->stack - guard, co->stack_size + guard);
    g_free(co);
}

/* Runs at thread exit, so a worker thread's pool does not outlive it. */
static void coroutine_pool_destroy(void *unused)
{
    while (pool) {
        Coroutine *co = pool;

        pool = co->pool_next;
        coroutine_free(co);
    }
    pool_size = 0;
    pool_registered = false;
}

static void coroutine_pool_key_init(void)
{
    if (pthread_key_create(&pool_key, coroutine_pool_destroy) != 0) {
        abort();
    }
}

static Coroutine *coroutine_alloc(void)
{
    size_t guard = qemu_real_host_page_size();
    size_t size = COROUTINE_STACK_SIZE;
    Coroutine *co = g_new0(Coroutine, 1);
    char *base;

    base = mmap(NULL, size + guard, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        fprintf(stderr, "%s: cannot map a coroutine stack: %s\n",
                error_get_progname(), strerror(errno));
        abort();
    }
    /* The guard page below the stack turns an overflow into SIGSEGV, not corruption. */
    if (mprotect(base, guard, PROT_NONE) < 0) {
        abort();
    }
    co->stack = base + guard;
    co->stack_size = size;
    co->asan_stack_bottom = co->stack;
    co->asan_stack_size = size;
#ifdef CONFIG_VALGRIND_H
    co->valgrind_id = VALGRIND_STACK_REGISTER(co->stack, (char *)co->stack + size);
#endif
    return co;
}

static void coroutine_release(Coroutine *co)
{
    __atomic_fetch_sub(&alive_count, 1, __ATOMIC_RELAXED);
    if (pool_size >= COROUTINE_POOL_MAX) {
        coroutine_free(co);
        return;
    }
#ifdef COROUTINE_ASAN
    /* The dead coroutine's frames left poisoned redzones; the next user starts clean. */
    ASAN_UNPOISON_MEMORY_REGION(co->stack, co->stack_size);
#endif
    if (!pool_registered) {
        pthread_once(&pool_key_once, coroutine_pool_key_init);
        pthread_setspecific(pool_key, &pool);
        pool_registered = true;
    }
    co->pool_next = pool;
    pool = co;
    pool_size++;
}

/* ---------------------------------------------------------------------------
 * Switching, with the sanitizer bookkeeping
 */

/*
 * Switch from `from` to `to`. exiting means from will never run again (so ASan
 * drops its fake stack). Returns when somebody switches back to from.
 */
static void coroutine_switch(Coroutine *from, Coroutine *to, bool exiting)
{
#ifdef COROUTINE_ASAN
    __sanitizer_start_switch_fiber(exiting ? NULL : &from->asan_fake_stack,
                                   to->asan_stack_bottom, to->asan_stack_size);
#endif
    coroutine_context_switch(&from->cc, &to->cc);
}

/*
 * Called on co's stack right after its caller switched in: tell ASan we arrived
 * and learn the caller's stack bounds (for the leader, only ASan knows them).
 */
static inline void coroutine_arrived(Coroutine *co)
{
#ifdef COROUTINE_ASAN
    __sanitizer_finish_switch_fiber(co->asan_fake_stack, &co->caller->asan_stack_bottom,
                                    &co->caller->asan_stack_size);
#endif
}

/* Called on the enterer's stack when the coroutine it entered switched back. */
static inline void coroutine_returned(Coroutine *self)
{
#ifdef COROUTINE_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, NULL, NULL);
#endif
}

static GODWIT_NORETURN void coroutine_trampoline(Coroutine *co)
{
    Coroutine *to;

    coroutine_arrived(co);
    co->entry(co->opaque);

    co->terminated = true;
    to = co->caller;
    co->caller = NULL;
    coroutine_switch(co, to, true);
    abort();                        /* a terminated coroutine is never resumed */
}

/* ---------------------------------------------------------------------------
 * Public API
 */

Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque)
{
    Coroutine *co = pool;

    if (co) {
        pool = co->pool_next;
        pool_size--;
    } else {
        co = coroutine_alloc();
    }
    co->entry = entry;
    co->opaque = opaque;
    co->caller = NULL;
    co->terminated = false;
    co->scheduled = 0;
    co->asan_fake_stack = NULL;
    co->ctx = qemu_get_current_aio_context();
    coroutine_context_init(&co->cc, co->stack, co->stack_size, coroutine_trampoline, co);
    __atomic_fetch_add(&alive_count, 1, __ATOMIC_RELAXED);
    return co;
}

void qemu_coroutine_enter(Coroutine *co)
{
    Coroutine *self = current ? current : &leader;

    if (unlikely(co->caller || co == self)) {
        fprintf(stderr, "%s: qemu_coroutine_enter: coroutine %p is already running\n",
                error_get_progname(), (void *)co);
        abort();
    }
    assert(!co->terminated);

    co->caller = self;
    current = co;
    coroutine_switch(self, co, false);
    coroutine_returned(self);
    current = self == &leader ? NULL : self;

    if (co->terminated) {
        coroutine_release(co);
    }
}

bool qemu_coroutine_enter_if_inactive(Coroutine *co)
{
    if (qemu_coroutine_entered(co)) {
        return false;
    }
    qemu_coroutine_enter(co);
    return true;
}

void coroutine_fn qemu_coroutine_yield(void)
{
    Coroutine *self = current;
    Coroutine *to;

    if (unlikely(!self)) {
        fprintf(stderr, "%s: qemu_coroutine_yield called outside coroutine context\n",
                error_get_progname());
        abort();
    }
    to = self->caller;
    self->caller = NULL;
    coroutine_switch(self, to, false);
    coroutine_arrived(self);
}

Coroutine *qemu_coroutine_self(void)
{
    return current;
}

bool qemu_in_coroutine(void)
{
    return current != NULL;
}

bool qemu_coroutine_entered(Coroutine *co)
{
    return co->caller != NULL;
}

AioContext *qemu_coroutine_get_aio_context(Coroutine *co)
{
    return co->ctx;
}

unsigned qemu_coroutine_alive_count(void)
{
    return __atomic_load_n(&alive_count, __ATOMIC_RELAXED);
}
