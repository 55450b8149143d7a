/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * crt0.S: entry of the test guest (64-bit, CPL3; ABI in include/hw/godwit-ports.h).
 * Zero .bss (the ELF loader does it, a flat binary needs it), call
 * guest_main(params, ram_size, tsc_khz), and report its result on the exit port.
 */
#include "hw/godwit-ports.h"

    .section .text.start, "ax"
    .globl _start
_start:
    mov $GODWIT_STACK_TOP, %rsp
    mov %rdi, %r12
    mov %rsi, %r13
    mov %rdx, %r14
    lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb
    mov %r12, %rdi
    mov %r13, %rsi
    mov %r14, %rdx
    call guest_main
    mov $GODWIT_PORT_EXIT, %dx
    out %eax, %dx
1:  jmp 1b
