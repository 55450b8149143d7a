/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * machine.h: the machine types and device models the godwit binary knows, for
 * -machine and -device (including their "help" listings).
 *
 * Machines: "godwit" (the default: our KVM machine with virtio-mmio devices) and
 * "none" (no guest at all: monitors, block layer and jobs only).
 *
 * Threads: main loop only; the tables are constant.
 */
#ifndef GODWIT_MACHINE_H
#define GODWIT_MACHINE_H

#include "util/osdep.h"

typedef struct MachineType {
    const char *name;
    const char *desc;
    bool is_default;
    int cpu_max;                /* query-machines cpu-max */
} MachineType;

/* The machine type called name (or the default for NULL), or NULL if unknown. */
const MachineType *machine_find(const char *name);
/* The i-th machine type (0-based), or NULL past the end: query-machines. */
const MachineType *machine_type_at(size_t i);
/* Print the -machine help listing to stdout. */
void machine_print_help(void);
/* Print the -device help listing to stdout. */
void device_print_help(void);
/* The canonical device model for a -device driver name (aliases resolved), or NULL. */
const char *device_model_find(const char *driver);

#endif /* GODWIT_MACHINE_H */
