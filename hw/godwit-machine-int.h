/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-machine-int.h: private to hw/: the Machine struct shared by
 * godwit-machine.c (devices, run control, state) and godwit-boot.c (loading).
 */
#ifndef GODWIT_HW_MACHINE_INT_H
#define GODWIT_HW_MACHINE_INT_H

#include "hw/machine.h"

/*
 * Set at creation: cfg, vm, ram*, append. progress: written by vCPU threads,
 * read by anyone (__atomic).
 */
struct Machine {
    MachineConfig cfg;
    char *append;
    KvmVm *vm;
    int ram_fd;
    void *ram;
    uint64_t ram_size;
    uint32_t progress;
};

/* godwit-boot.c: tables, parameter string and vCPU 0 entry state for a program. */
bool machine_boot_setup(Machine *m, uint64_t entry, Error **errp);
#endif /* GODWIT_HW_MACHINE_INT_H */
