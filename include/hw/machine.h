/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * machine.h: the Godwit x86 machine. It owns the KVM VM, guest RAM (a memfd mapped
 * shared, so another process or VM can map the same pages later), the vCPUs, and
 * the small devices of hw/godwit-ports.h (console, exit port, test device). It
 * loads a freestanding program (ELF64 or flat binary) and enters it in 64-bit mode
 * at CPL3, with the GDT, TSS, page tables and registers that spec/guest.md
 * describes. The guest ABI (entry registers, ports, memory map) is documented in
 * hw/godwit-ports.h.
 *
 * RAM is one region at guest-physical 0, from 4 MiB up to 3 GiB (the range above
 * is left for MMIO). Only vCPU 0 runs the program; others stay in the reset state
 * (waiting for INIT/SIPI).
 *
 * Threads: everything except the hooks runs on the controlling thread. The console
 * and progress hooks run on a vCPU thread; a hook that shares data with the
 * controlling thread locks it itself.
 */
#ifndef GODWIT_HW_MACHINE_H
#define GODWIT_HW_MACHINE_H

#include "sysemu/kvm.h"
#include "sysemu/kvm-state.h"
#include "hw/godwit-ports.h"

typedef struct Machine Machine;

typedef struct MachineConfig {
    uint64_t ram_size;           /* bytes; 0 = 64 MiB */
    unsigned nr_cpus;            /* 0 = 1 */
    const char *append;          /* parameter string for the program; NULL = "" */
    /* Console bytes; NULL = write them to console_file (NULL = stdout). */
    void (*console)(void *opaque, const uint8_t *buf, size_t len);
    FILE *console_file;
    /* Each write to GODWIT_PORT_PROGRESS; may be NULL. */
    void (*progress)(void *opaque, uint32_t value);
    void *opaque;                /* passed to the hooks */
} MachineConfig;

/* How a run ended (machine_wait). */
typedef struct MachineExit {
    KvmStopReason reason;        /* REQUESTED: the guest wrote the exit port or the host stopped it */
    int status;                  /* exit status from the guest; -1 for host stops and errors */
    const char *message;         /* for SHUTDOWN/ERROR; valid until machine_destroy */
} MachineExit;

/* Create the VM, RAM, devices and vCPUs. Nothing runs yet. */
Machine *machine_create(const MachineConfig *cfg, Error **errp);
void machine_destroy(Machine *m);

/*
 * Load a program (ELF64 x86-64 executable, or anything else as a flat binary at
 * GODWIT_LOAD_ADDR), write the system tables and the parameter string, and set
 * vCPU 0 to enter it. Loader errors say what was wrong with the file.
 */
bool machine_load_program(Machine *m, const char *path, Error **errp);
bool machine_load_program_data(Machine *m, const void *buf, size_t len, Error **errp);

/* Start the vCPU threads; paused: wait for machine_resume (to load state first). */
bool machine_start(Machine *m, bool paused, Error **errp);
bool machine_pause(Machine *m);      /* false if the VM has stopped */
void machine_resume(Machine *m);
/* Stop from the host; machine_wait then reports REQUESTED with status -1. */
void machine_stop(Machine *m);
/* Wait for the end of the run (timeout_ms < 0: forever); false on timeout. */
bool machine_wait(Machine *m, int64_t timeout_ms, MachineExit *exit);

KvmVm *machine_vm(Machine *m);
void *machine_ram(Machine *m, uint64_t *size);
int machine_ram_fd(Machine *m);
uint32_t machine_progress(Machine *m);   /* last value written to GODWIT_PORT_PROGRESS */

/*
 * Complete machine state without RAM: KVM state plus our devices. A plain struct
 * (allocate it: it is large). Save with the machine paused; restore into a machine
 * created with the same configuration and started paused (or not yet started),
 * after its RAM has been filled.
 */
typedef struct MachineState {
    KvmVmState kvm;
    uint32_t progress;
} MachineState;

bool machine_save_state(Machine *m, MachineState *s, Error **errp);
bool machine_restore_state(Machine *m, const MachineState *s, Error **errp);

#endif /* GODWIT_HW_MACHINE_H */
