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
    { "fault", fault_main, "execute ud2: a triple fault (the machine's guest-reset path)" },
    { "blk-pattern", blk_pattern_main,
      "mib=N seed=S [off=MIB qd=Q kib=K evt=0|1 irq=0|1 dev=N]: write the pattern, read back, verify" },
    { "blk-verify", blk_verify_main, "mib=N seed=S [...]: verify a pattern written earlier" },
    { "blk-io-bench", blk_io_bench_main,
      "mib=N qd=Q ms=T [evt=0|1]: sequential 1 MiB and random 4 KiB at QD 1 and Q" },
    { "blk-selftest", blk_selftest_main, "each request type once, and requests that must fail" },
    { "blk-log", blk_log_main,
      "[mib=N off=MIB seed=S kib=K qd=Q rate=REC_PER_S ms=T records=N ram=MIB ram-rate=PAGES_PER_S "
      "report=MS corrupt=K]: append a checked log, rewrite RAM, then verify both" },
    { "blk-log-verify", blk_log_verify_main,
      "[records=N off=MIB mib=N seed=S kib=K]: verify a log written by blk-log" },
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
