/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * kvm-state.h: the complete architectural state of a KVM VM and its vCPUs as plain
 * structs (no pointers), so that a migration stream or a snapshot can carry them
 * field by field, and a fresh VM can be made to continue where another stopped.
 *
 * What is saved (spec/guest.md, "State for live migration"):
 *   per VM:   PIC master, PIC slave, IOAPIC (KVM_GET_IRQCHIP x3), PIT2, kvmclock
 *   per vCPU: regs, sregs, FPU, XSAVE, XCRS, the MSRs of KVM_GET_MSR_INDEX_LIST that
 *             this host can read, LAPIC, vCPU events, MP state, debug registers
 * Restore order (the one measured to work): irqchips, PIT, clock; then per vCPU
 * sregs, regs, FPU, XSAVE, XCRS, MSRs, LAPIC, events, MP state, debug registers.
 *
 * Rules: the VM must be paused (kvm_vm_pause, or started paused) or not started
 * yet. Save and restore run on the controlling thread. The target of a restore has
 * the same number of vCPUs and the same RAM layout; RAM itself is not part of these
 * structs (it is copied through the memory slots and the dirty log).
 */
#ifndef GODWIT_SYSEMU_KVM_STATE_H
#define GODWIT_SYSEMU_KVM_STATE_H

#include "sysemu/kvm.h"

#include <linux/kvm.h>

#define KVM_STATE_MAX_MSRS 128

typedef struct KvmVcpuState {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_xsave xsave;
    struct kvm_xcrs xcrs;
    struct kvm_lapic_state lapic;
    struct kvm_vcpu_events events;
    struct kvm_mp_state mp_state;
    struct kvm_debugregs debugregs;
    uint32_t nr_msrs;
    struct kvm_msr_entry msrs[KVM_STATE_MAX_MSRS];
} KvmVcpuState;

typedef struct KvmVmState {
    struct kvm_irqchip pic_master;
    struct kvm_irqchip pic_slave;
    struct kvm_irqchip ioapic;
    struct kvm_pit_state2 pit;
    struct kvm_clock_data clock;
    uint32_t nr_vcpus;
    KvmVcpuState vcpus[KVM_GODWIT_MAX_VCPUS];
} KvmVmState;

/* One vCPU. Errors name the ioctl (and the MSR index for MSRs). */
bool kvm_vcpu_save_state(KvmVcpu *cpu, KvmVcpuState *s, Error **errp);
bool kvm_vcpu_restore_state(KvmVcpu *cpu, const KvmVcpuState *s, Error **errp);

/* The VM-wide devices and every vCPU. s is large (~100 KiB): allocate it. */
bool kvm_vm_save_state(KvmVm *vm, KvmVmState *s, Error **errp);
bool kvm_vm_restore_state(KvmVm *vm, const KvmVmState *s, Error **errp);

#endif /* GODWIT_SYSEMU_KVM_STATE_H */
