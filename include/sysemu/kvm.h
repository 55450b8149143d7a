/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * kvm.h: the KVM accelerator. One KvmVm owns a VM file descriptor, its memory slots,
 * its vCPUs and their threads, and a table of port-I/O and MMIO handlers that the
 * vCPU threads call on KVM_EXIT_IO / KVM_EXIT_MMIO. Saving and restoring the VM and
 * vCPU state lives in sysemu/kvm-state.h.
 *
 * Life cycle:
 *   kvm_vm_create()       open /dev/kvm, check API 12 and every capability we use
 *                         (the error names the missing one), create the VM, TSS and
 *                         identity-map addresses, in-kernel irqchip, PIT2
 *   kvm_vm_add_ram()      register guest memory (host memory owned by the caller)
 *   kvm_vm_register_pio() / kvm_vm_register_mmio()   device callbacks
 *   kvm_vcpu_create()     KVM_CREATE_VCPU, kvm_run mapping, CPUID, LAPIC LINT0/LINT1
 *   kvm_vm_start()        one thread per vCPU running KVM_RUN
 *   kvm_vm_pause() / kvm_vm_resume()   from any non-vCPU thread
 *   kvm_vm_request_stop() from any thread, including a device callback
 *   kvm_vm_wait()         until every vCPU thread has ended
 *   kvm_vm_destroy()      stops what still runs, frees everything
 *
 * Threads: kvm_vm_create/destroy, memory and handler registration, vCPU creation and
 * kvm_vm_start belong to one controlling thread (the main loop or a test), and the
 * handler tables must be complete before kvm_vm_start (vCPU threads read them
 * without a lock). Handlers run on the vCPU thread that exited; a handler that
 * shares state with other threads locks it itself. kvm_vm_pause/resume/wait are for
 * the controlling thread; kvm_vm_request_stop may be called by anyone.
 *
 * Pausing kicks each vCPU out of KVM_RUN with a signal (GODWIT_SIG_KICK) whose
 * handler sets kvm_run.immediate_exit, so a kick that races with the entry into
 * KVM_RUN is never lost. Before a vCPU parks, an I/O or MMIO exit it has just
 * handled is completed by one more KVM_RUN with immediate_exit set (as api.rst
 * demands before state is read), so a paused VM's state is always consistent.
 *
 * Nothing here may yield; this module does not use coroutines.
 */
#ifndef GODWIT_SYSEMU_KVM_H
#define GODWIT_SYSEMU_KVM_H

#include "util/osdep.h"
#include "util/error.h"

#include <signal.h>

/* Signal used to kick vCPU threads out of KVM_RUN (installed by kvm_vm_create). */
#define GODWIT_SIG_KICK SIGUSR1

/* Guest-physical addresses KVM needs for its own use on Intel; kept out of RAM. */
#define KVM_GODWIT_IDENTITY_MAP_ADDR 0xfffbc000ULL  /* one page */
#define KVM_GODWIT_TSS_ADDR          0xfffbd000ULL  /* three pages */

#define KVM_GODWIT_MAX_SLOTS   8
#define KVM_GODWIT_MAX_VCPUS   16
#define KVM_GODWIT_MAX_IO      32     /* registered port + MMIO ranges */

typedef struct KvmVm KvmVm;
typedef struct KvmVcpu KvmVcpu;

/*
 * A device access. addr is the port or guest-physical address, data points to
 * size bytes (1, 2, 4 or 8): read it for a write, fill it for a read (it arrives
 * zeroed). A string instruction (rep outsb) calls the handler once per element.
 * Called on the vCPU thread that exited.
 */
typedef void KvmIoFn(void *opaque, KvmVcpu *cpu, uint64_t addr, bool is_write,
                     uint8_t *data, unsigned size);

/* Why a VM stopped running (kvm_vm_wait). */
typedef enum KvmStopReason {
    KVM_GODWIT_STOP_NONE,        /* still running, or never started */
    KVM_GODWIT_STOP_REQUESTED,   /* kvm_vm_request_stop(): a device or the host; has a status */
    KVM_GODWIT_STOP_SHUTDOWN,    /* the guest triple-faulted (KVM_EXIT_SHUTDOWN) */
    KVM_GODWIT_STOP_ERROR,       /* KVM failed or an exit we cannot handle; see message */
} KvmStopReason;

typedef struct KvmMemSlot {
    uint32_t slot;
    uint64_t gpa;
    uint64_t size;               /* bytes, a multiple of the host page size */
    void *host;                  /* owned by the caller of kvm_vm_add_ram */
} KvmMemSlot;

/*
 * Probe whether KVM is usable here (open, API version, create a VM); for tests that
 * must skip loudly. The error says what was missing.
 */
bool kvm_available(Error **errp);

KvmVm *kvm_vm_create(Error **errp);
/* Stops and joins vCPU threads still running, then closes everything. NULL is a no-op. */
void kvm_vm_destroy(KvmVm *vm);

/*
 * Register [gpa, gpa + size) backed by host (page aligned, mapped shared or private
 * by the caller, who keeps it mapped until kvm_vm_destroy). Returns the slot index
 * (0-based, in registration order) or -errno.
 */
int kvm_vm_add_ram(KvmVm *vm, uint64_t gpa, uint64_t size, void *host, Error **errp);
unsigned kvm_vm_nr_slots(KvmVm *vm);
const KvmMemSlot *kvm_vm_get_slot(KvmVm *vm, unsigned index);

/*
 * Dirty page logging for every RAM slot. While enabled, kvm_vm_get_dirty_log fills
 * bitmap (one bit per host page of the slot, bit i of word i / 64, LSB first) with
 * the pages written since logging was enabled or since the previous call, and
 * re-arms tracking for exactly those pages before it returns (KVM_GET_DIRTY_LOG,
 * then KVM_CLEAR_DIRTY_LOG when MANUAL_DIRTY_LOG_PROTECT2 is on), so a page written
 * while the caller copies it shows up again next time. Callable while vCPUs run.
 */
bool kvm_vm_set_dirty_log(KvmVm *vm, bool enable, Error **errp);
size_t kvm_dirty_bitmap_words(const KvmMemSlot *slot);   /* uint64_t words needed */
bool kvm_vm_get_dirty_log(KvmVm *vm, unsigned index, uint64_t *bitmap, Error **errp);
bool kvm_vm_manual_dirty_protect(KvmVm *vm);            /* MANUAL_DIRTY_LOG_PROTECT2 in use */

/* Handlers for [base, base + len). Before kvm_vm_start only; ranges must not overlap. */
void kvm_vm_register_pio(KvmVm *vm, uint16_t base, uint16_t len, KvmIoFn *fn, void *opaque);
void kvm_vm_register_mmio(KvmVm *vm, uint64_t base, uint64_t len, KvmIoFn *fn, void *opaque);

/*
 * ioeventfd: a guest write of len bytes (1, 2, 4 or 8) to MMIO address addr whose
 * value equals datamatch sets the eventfd fd inside KVM, without an exit to user
 * space (KVM_IOEVENTFD with DATAMATCH). Writes that do not match still reach the
 * registered MMIO handler. Callable at any time from the controlling thread.
 * Returns 0 or -errno (error set).
 */
int kvm_vm_add_ioeventfd(KvmVm *vm, uint64_t addr, unsigned len, uint64_t datamatch, int fd,
                         Error **errp);
void kvm_vm_del_ioeventfd(KvmVm *vm, uint64_t addr, unsigned len, uint64_t datamatch, int fd);
/*
 * irqfd: setting fd pulses GSI gsi of the in-kernel irqchip (KVM_IRQFD, default
 * routing: GSIs 0-23 reach the IOAPIC and PIC). Returns 0 or -errno (error set).
 */
int kvm_vm_add_irqfd(KvmVm *vm, uint32_t gsi, int fd, Error **errp);
void kvm_vm_del_irqfd(KvmVm *vm, uint32_t gsi, int fd);

/* vCPU number kvm_vm_nr_vcpus(vm) (APIC ID = index), with CPUID and LAPIC set up. */
KvmVcpu *kvm_vcpu_create(KvmVm *vm, Error **errp);
unsigned kvm_vm_nr_vcpus(KvmVm *vm);
KvmVcpu *kvm_vm_get_vcpu(KvmVm *vm, unsigned index);
unsigned kvm_vcpu_index(KvmVcpu *cpu);
KvmVm *kvm_vcpu_vm(KvmVcpu *cpu);
int kvm_vcpu_fd(KvmVcpu *cpu);           /* for the register ioctls of the machine */
uint32_t kvm_vcpu_tsc_khz(KvmVcpu *cpu); /* KVM_GET_TSC_KHZ, 0 if unknown */
uint64_t kvm_vcpu_exit_count(KvmVcpu *cpu);

/*
 * Start one thread per vCPU (KVM_RUN loop). If start_paused, every thread parks
 * before its first KVM_RUN until kvm_vm_resume (used to load state first).
 */
bool kvm_vm_start(KvmVm *vm, bool start_paused, Error **errp);

/*
 * Stop every vCPU outside KVM_RUN with its last exit completed, and return once all
 * are parked. Returns false if the VM has stopped (or stops meanwhile) instead.
 * Nested pause/resume pairs are not counted: one resume undoes any number of pauses.
 */
bool kvm_vm_pause(KvmVm *vm);
void kvm_vm_resume(KvmVm *vm);
bool kvm_vm_is_paused(KvmVm *vm);

/*
 * End the run: every vCPU thread leaves its loop. The first request wins; status is
 * reported by kvm_vm_wait. Safe from any thread and from device handlers.
 */
void kvm_vm_request_stop(KvmVm *vm, int status);

/*
 * Wait until all vCPU threads have ended (timeout_ms < 0: forever) and join them.
 * Returns false on timeout. *reason / *status may be NULL.
 */
bool kvm_vm_wait(KvmVm *vm, int64_t timeout_ms, KvmStopReason *reason, int *status);
/* Text describing an ERROR or SHUTDOWN stop ("" otherwise); valid until destroy. */
const char *kvm_vm_stop_message(KvmVm *vm);

/* Name of a stop reason, for messages. */
const char *kvm_stop_reason_name(KvmStopReason reason);

#endif /* GODWIT_SYSEMU_KVM_H */
