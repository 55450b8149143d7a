/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * misc.c: small workloads for tests and benchmarks (exit status, console, exit
 * round trips).
 */
#include "workloads.h"

int exit_main(const char *args, const GuestInfo *gi)
{
    bool ok = true;
    uint64_t code = param_u64(args, "code", 0, &ok);
    if (!ok || code > 0xffffffffULL) {
        printf("exit: bad code\n");
        return GUEST_USAGE;
    }
    return (int)code;
}

int hello_main(const char *args, const GuestInfo *gi)
{
    printf("hello: Godwit guest up, RAM %lu MiB, TSC %lu kHz, args '%s'\n",
           gi->ram_size >> 20, gi->tsc_khz, args);
    return GUEST_PASS;
}

int io_loop_main(const char *args, const GuestInfo *gi)
{
    bool ok = true;
    uint64_t n = param_u64(args, "n", 1000, &ok);
    if (!ok) {
        return GUEST_USAGE;
    }
    for (uint64_t i = 0; i < n; i++) {
        outl(GODWIT_PORT_NULL, (uint32_t)i);
    }
    return GUEST_PASS;
}

int mmio_loop_main(const char *args, const GuestInfo *gi)
{
    volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)GODWIT_MMIO_NULL;
    bool ok = true;
    uint64_t n = param_u64(args, "n", 1000, &ok);
    if (!ok) {
        return GUEST_USAGE;
    }
    for (uint64_t i = 0; i < n; i++) {
        *reg = (uint32_t)i;
    }
    return GUEST_PASS;
}

int fault_main(const char *args, const GuestInfo *gi)
{
    printf("fault: executing ud2 (no IDT: the vCPU triple-faults)\n");
    __asm__ volatile("ud2");
    return GUEST_FAIL;
}
