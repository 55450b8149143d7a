/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * board.h: private to system/. The godwit binary's machine: what the command
 * line asked for (machine type, accelerator, -m, -smp, -kernel, -append,
 * -serial, -device, -drive if=virtio) turned into a running VM, tied to the run
 * states of sysemu/runstate.h.
 *
 *   board.c          the Board: KVM machine (hw/machine.h), program loading,
 *                    serial console, run control (stop/cont/reset/guest exit),
 *                    query-cpus-fast, the kvm_accel_init and device_init_cmdline
 *                    hooks of sysemu.h
 *   board-devices.c  virtio-blk devices on virtio-mmio slots, their qdev paths,
 *                    the werror/rerror=stop policy, retry on cont
 *
 * Life cycle (all in the main loop): main() calls kvm_accel_init (probe
 * /dev/kvm), then device_init_cmdline, which creates the Board: the Machine,
 * the devices in slot order (every -device first, then each -drive if=virtio,
 * as QEMU creates them), the serial console, the program; vCPU threads start
 * parked. The initial vm_start() (no -S) or a later "cont" releases them.
 * Under -accel qtest there is no Machine: devices exist without a transport,
 * so query-block still shows what they are attached to.
 *
 * Threads: main loop, except board_console (vCPU threads) and the KVM stop
 * notification (whichever thread stopped the VM), which only schedule bottom
 * halves or write under the serial lock.
 */
#ifndef GODWIT_SYSTEM_BOARD_H
#define GODWIT_SYSTEM_BOARD_H

#include "sysemu/sysemu.h"
#include "hw/machine.h"
#include "util/aio.h"
#include "migration/migration.h"

typedef struct BoardDevice BoardDevice;
typedef struct Chardev Chardev;
typedef struct RamMig RamMig;
typedef struct CpuMig CpuMig;
typedef struct VirtioMig VirtioMig;

typedef enum BoardSerialKind {
    BOARD_SERIAL_NONE,           /* -serial none/null, or no serial configured */
    BOARD_SERIAL_FILE,           /* stdio or file:PATH, written on the vCPU thread */
    BOARD_SERIAL_CHARDEV,        /* any chardev, written from a bottom half */
} BoardSerialKind;

/*
 * Set at creation: cfg, m (NULL without KVM), program*, serial_kind, serial_file,
 * serial_chr, bhs. Main loop only: devices, vcpus_started, stops_handled.
 * stops_notified: incremented by the KVM stop notification (__atomic).
 * serial_lock protects serial_pending and writes to serial_file.
 */
typedef struct Board {
    const SysemuConfig *cfg;
    Machine *m;
    gchar *program;              /* -kernel contents, loaded again at each reset */
    gsize program_len;
    bool vcpus_started;          /* vCPU threads exist (possibly parked) */
    unsigned stops_notified;
    unsigned stops_handled;
    QEMUBH *stop_bh;

    BoardSerialKind serial_kind;
    FILE *serial_file;
    Chardev *serial_chr;
    GMutex serial_lock;
    GString *serial_pending;
    QEMUBH *serial_bh;

    GPtrArray *devices;          /* BoardDevice *, in slot order */
    unsigned anon_devices;       /* /machine/peripheral-anon/device[N] counter */

    /* migration sections of the KVM machine (NULL without one) */
    RamMig *ram_mig;
    CpuMig *cpu_mig;
    GPtrArray *virtio_migs;      /* VirtioMig *, one per device, instance = slot */
} Board;

/* board-devices.c */
/* Create every -device and -drive if=virtio device (transport only with b->m). */
bool board_devices_init(Board *b, Error **errp);
/* The VM continues: submit the requests the stop policy parked. */
void board_devices_retry(Board *b);
/* System reset: wait for running requests, then reset each device for the guest. */
void board_devices_reset(Board *b);
/* Process exit, vCPUs gone: drain and free. */
void board_devices_cleanup(Board *b);
/* The VM stopped: wait for the requests that are running (parked ones stay). */
void board_devices_drain(Board *b);
/* Register a "virtio-mmio" migration section per device (instance = slot). */
void board_devices_mig_register(Board *b, MigRegistry *reg);

#endif /* GODWIT_SYSTEM_BOARD_H */
