/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * machine-mig.h: the sections of the KVM machine (migration/ram.c,
 * migration/machine-state.c), for whoever builds the machine (the godwit binary's
 * machine code, tests):
 *
 *   "ram"          guest RAM: bulk pass, KVM dirty-log rounds, device-written pages
 *   "virtio-mmio"  per device (instance = index): features, status, queue
 *                  addresses and indices; requests are drained first
 *   "cpu"          the KVM VM and vCPU state (sysemu/kvm-state.h) plus the
 *                  machine's own, through declarative field tables
 *
 * Register in this order (RAM before the state that refers to it); the
 * destination builds the same machine and devices, registers the same sections
 * and starts its vCPUs paused (machine_start(m, true)) or not at all until the
 * load has finished; the VM ops then resume it.
 *
 * Threads: main loop, except ram_mig_mark_dirty (any thread; atomics).
 */
#ifndef GODWIT_MIGRATION_MACHINE_MIG_H
#define GODWIT_MIGRATION_MACHINE_MIG_H

#include "migration/migration.h"
#include "hw/machine.h"
#include "hw/virtio/virtio.h"

typedef struct RamMig RamMig;
typedef struct VirtIOBlock VirtIOBlock;

/* owner: the MigrationState whose test-only drop-dirty switch applies (NULL: none). */
RamMig *ram_mig_register(MigRegistry *reg, Machine *m, MigrationState *owner);
void ram_mig_free(RamMig *rs);
/* VirtioDirtyFn: device writes to guest RAM (opaque: the RamMig). */
void ram_mig_mark_dirty(void *opaque, uint64_t gpa, uint64_t len);

typedef struct VirtioMig VirtioMig;
/*
 * A virtio device's section; installs ram_mig_mark_dirty as its dirty hook.
 * blk (may be NULL) is drained before the state is saved.
 */
VirtioMig *virtio_mig_register(MigRegistry *reg, uint32_t instance, VirtIODevice *vdev,
                               VirtIOBlock *blk, RamMig *ram);
void virtio_mig_free(VirtioMig *vm);

typedef struct CpuMig CpuMig;
CpuMig *cpu_mig_register(MigRegistry *reg, Machine *m);
void cpu_mig_free(CpuMig *cm);

#endif /* GODWIT_MIGRATION_MACHINE_MIG_H */
