/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * e2e-util: what the in-process e2e programs (test-guest, test-virtio-blk,
 * test-migration) share: the guest console capture, the guest's exit check, the
 * /dev/kvm skip, scratch images and the virtio-mmio attachment of a disk.
 *
 * Threads: e2e_console_write() runs on the vCPU thread; everything else on the
 * test's thread.
 */
#ifndef TESTS_E2E_UTIL_H
#define TESTS_E2E_UTIL_H

#include "hw/machine.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-mmio.h"

/* Exit status that meson reports as SKIP. */
#define E2E_SKIP 77

/* The guest's console output, written on the vCPU thread and read on the test's. */
typedef struct E2eConsole {
    GMutex lock;
    GString *text;               /* protected by lock */
} E2eConsole;

void e2e_console_init(E2eConsole *c);
void e2e_console_destroy(E2eConsole *c);

/* A MachineConfig.console hook; opaque is the E2eConsole. */
void e2e_console_write(void *opaque, const uint8_t *buf, size_t len);

/* A copy of everything written so far: g_free() it. */
char *e2e_console_text(E2eConsole *c);

/* Fails the test, printing the console, unless it contains needle. */
void e2e_console_assert_has(E2eConsole *c, const char *needle);

/*
 * The guest's exit status once it has stopped: fails the test, printing the
 * console, unless the guest stopped itself through the exit port.
 */
int e2e_exit_status(E2eConsole *c, const MachineExit *e);

/* False, after saying on stderr why "<what> need a usable /dev/kvm", where KVM is unusable. */
bool e2e_kvm_usable(const char *what);

/* A new sparse file dir/name of size bytes: g_free() the path. */
char *e2e_make_image(const char *dir, const char *name, uint64_t size);

/* Remove dir and everything below it, as far as that works. */
void e2e_remove_dir(const char *dir);

/* Put dev on the board's virtio-mmio slot, its rings in m's RAM, kicks in the main loop. */
VirtIOMMIOProxy *e2e_virtio_mmio_attach(Machine *m, VirtIOBlock *dev, Error **errp);

#endif
