/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * main.c: pick the workload named by the first word of the parameter string.
 */
#include "workloads.h"

static const Workload workloads[] = {
    { "ram-verify", ram_verify_main,
      "mib=N passes=K [corrupt=P] [report=R]: rewrite N MiB K times, verifying each pass" },
    { "ram-dirty", ram_dirty_main,
      "mib=N [rate=PAGES_PER_S] [ms=T] [cycles=C]: keep rewriting pages (and verify them)" },
    { "exit", exit_main, "code=N: exit with status N" },
    { "hello", hello_main, "print a greeting and the parameters" },
    { "io-loop", io_loop_main, "n=N: N port writes to the null port" },
    { "mmio-loop", mmio_loop_main, "n=N: N stores to the null MMIO page" },
};

int guest_main(const char *params, uint64_t ram_size, uint64_t tsc_khz);

int guest_main(const char *params, uint64_t ram_size, uint64_t tsc_khz)
{
    GuestInfo gi = { .ram_size = ram_size, .tsc_khz = tsc_khz };
    size_t n = 0;

    while (params[n] && params[n] != ' ') {
        n++;
    }
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        if (strlen(workloads[i].name) == n && !strncmp(params, workloads[i].name, n)) {
            return workloads[i].run(params + n, &gi);
        }
    }
    printf("guest: unknown workload '%s'; workloads are:\n", params);
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        printf("  %s %s\n", workloads[i].name, workloads[i].usage);
    }
    return GUEST_USAGE;
}
