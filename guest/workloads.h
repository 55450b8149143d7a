/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * workloads.h: what the test guest can run. The parameter string is
 * "<workload> key=value ...". A workload prints its verdict on the console
 * ("<workload>: PASS ..." or "<workload>: FAIL ...") and returns the exit status:
 * 0 pass, 1 fail, 2 bad parameters. The block workloads (virtio-blk.c) drive
 * the polling virtio driver of virtio-mmio.c.
 */
#ifndef GUEST_WORKLOADS_H
#define GUEST_WORKLOADS_H

#include "libc.h"

#define GUEST_PASS  0
#define GUEST_FAIL  1
#define GUEST_USAGE 2

typedef struct Workload {
    const char *name;
    int (*run)(const char *args, const GuestInfo *gi);
    const char *usage;
} Workload;

int ram_verify_main(const char *args, const GuestInfo *gi);
int ram_dirty_main(const char *args, const GuestInfo *gi);
int exit_main(const char *args, const GuestInfo *gi);
int hello_main(const char *args, const GuestInfo *gi);
int io_loop_main(const char *args, const GuestInfo *gi);
int mmio_loop_main(const char *args, const GuestInfo *gi);
int fault_main(const char *args, const GuestInfo *gi);
/* virtio-blk.c */
int blk_pattern_main(const char *args, const GuestInfo *gi);
int blk_verify_main(const char *args, const GuestInfo *gi);
int blk_io_bench_main(const char *args, const GuestInfo *gi);
int blk_selftest_main(const char *args, const GuestInfo *gi);
/* blk-log.c */
int blk_log_main(const char *args, const GuestInfo *gi);
int blk_log_verify_main(const char *args, const GuestInfo *gi);

#endif /* GUEST_WORKLOADS_H */
