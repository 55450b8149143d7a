/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * coroutine-switch.c: the machine-level context switch under util/coroutine.c.
 *
 * On x86-64 the switch is a dozen instructions of our own: push the six callee-saved
 * registers of the SysV ABI, store rsp, load the other side's rsp, pop its registers
 * and return into it. Everything else (caller-saved registers, flags) the compiler
 * already assumes clobbered across the call. No signal mask is saved: all coroutines
 * of a thread share it, and sigprocmask would cost a syscall per switch.
 *
 * A fresh stack is seeded with a frame that looks like a suspended switch whose
 * return address is coroutine_first_entry, with the trampoline and its argument in
 * the slots of r13 and r12. Other architectures fall back to ucontext.
 */
#include "util/osdep.h"
#include "util/coroutine.h"

#ifdef __x86_64__

/*
 * void coroutine_context_switch(CoroutineContext *from, CoroutineContext *to)
 * rdi = from, rsi = to; cc.sp is the first member of CoroutineContext.
 */
__asm__(
    "    .pushsection .text\n"
    "    .globl coroutine_context_switch\n"
    "    .type coroutine_context_switch, @function\n"
    "    .p2align 4\n"
    "coroutine_context_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq (%rsi), %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    "    .size coroutine_context_switch, .-coroutine_context_switch\n"
    /*
     * Reached by the first switch's ret, with rsp 16-byte aligned as the ABI
     * wants before a call. The trampoline never returns; ud2 catches it if it does.
     */
    "    .p2align 4\n"
    "coroutine_first_entry:\n"
    "    movq %r12, %rdi\n"
    "    callq *%r13\n"
    "    ud2\n"
    "    .size coroutine_first_entry, .-coroutine_first_entry\n"
    "    .popsection\n");

extern char coroutine_first_entry[];

/* The seeded frame, lowest address first: the pop order of the switch. */
typedef struct FirstFrame {
    uint64_t r15, r14, r13, r12, rbx, rbp;
    uint64_t ret;
} FirstFrame;

void coroutine_context_init(CoroutineContext *cc, void *stack, size_t size,
                            void (*trampoline)(Coroutine *co), Coroutine *co)
{
    /*
     * After ret pops FirstFrame.ret, rsp must be a multiple of 16. Keep 16 zero
     * bytes at the very top so a debugger's unwind ends cleanly (rbp = 0 too).
     */
    uintptr_t top = QEMU_ALIGN_DOWN((uintptr_t)stack + size, 16) - 16;
    FirstFrame *f = (FirstFrame *)(top - sizeof(FirstFrame));

    memset((void *)top, 0, 16);
    *f = (FirstFrame) {
        .r13 = (uintptr_t)trampoline,
        .r12 = (uintptr_t)co,
        .ret = (uintptr_t)coroutine_first_entry,
    };
    cc->sp = f;
}

void coroutine_context_destroy(CoroutineContext *cc)
{
    cc->sp = NULL;
}

#else /* !__x86_64__ */

#include <ucontext.h>

static void coroutine_uc_entry(int fn_hi, int fn_lo, int co_hi, int co_lo)
{
    /* makecontext only passes ints, so the two pointers arrive in halves. */
    uintptr_t fn = ((uintptr_t)(unsigned)fn_hi << 32) | (unsigned)fn_lo;
    uintptr_t co = ((uintptr_t)(unsigned)co_hi << 32) | (unsigned)co_lo;

    ((void (*)(Coroutine *))fn)((Coroutine *)co);
    abort();
}

static ucontext_t *coroutine_uc(CoroutineContext *cc)
{
    if (!cc->uc) {
        cc->uc = g_new0(ucontext_t, 1);
    }
    return cc->uc;
}

void coroutine_context_init(CoroutineContext *cc, void *stack, size_t size,
                            void (*trampoline)(Coroutine *co), Coroutine *co)
{
    ucontext_t *uc = coroutine_uc(cc);
    uint64_t fn = (uintptr_t)trampoline, c = (uintptr_t)co;

    if (getcontext(uc) < 0) {
        abort();
    }
    uc->uc_stack.ss_sp = stack;
    uc->uc_stack.ss_size = size;
    uc->uc_link = NULL;
    makecontext(uc, (void (*)(void))coroutine_uc_entry, 4, (int)(fn >> 32), (int)fn,
                (int)(c >> 32), (int)c);
}

void coroutine_context_switch(CoroutineContext *from, CoroutineContext *to)
{
    if (swapcontext(coroutine_uc(from), coroutine_uc(to)) < 0) {
        abort();
    }
}

void coroutine_context_destroy(CoroutineContext *cc)
{
    g_free(cc->uc);
    cc->uc = NULL;
}

#endif
