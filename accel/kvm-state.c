/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * kvm-state.c: save and restore the VM-wide devices (irqchips, PIT, clock) and the
 * vCPUs into the plain structs of sysemu/kvm-state.h.
 */
#include "util/osdep.h"
#include "accel/kvm-int.h"
#include "sysemu/kvm-state.h"

#include <sys/ioctl.h>

typedef struct KvmStateIoctl {
    const char *get_name, *set_name;
    unsigned long get, set;
    size_t offset;
} KvmStateIoctl;

#define ST(field, g, s) { #g, #s, g, s, offsetof(KvmVcpuState, field) }
/* Per-vCPU state in restore order; MSRs go between XCRS and LAPIC (see header). */
static const KvmStateIoctl kvm_vcpu_state_pre_msrs[] = {
    ST(sregs, KVM_GET_SREGS, KVM_SET_SREGS),
    ST(regs, KVM_GET_REGS, KVM_SET_REGS),
    ST(fpu, KVM_GET_FPU, KVM_SET_FPU),
    ST(xsave, KVM_GET_XSAVE, KVM_SET_XSAVE),
    ST(xcrs, KVM_GET_XCRS, KVM_SET_XCRS),
};
static const KvmStateIoctl kvm_vcpu_state_post_msrs[] = {
    ST(lapic, KVM_GET_LAPIC, KVM_SET_LAPIC),
    ST(events, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS),
    ST(mp_state, KVM_GET_MP_STATE, KVM_SET_MP_STATE),
    ST(debugregs, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS),
};
#undef ST

static bool kvm_state_run(KvmVcpu *cpu, const KvmStateIoctl *t, size_t n, void *s, bool save,
                          Error **errp)
{
    for (size_t i = 0; i < n; i++) {
        int ret = kvm_ioctl(cpu->fd, save ? t[i].get : t[i].set, (char *)s + t[i].offset);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "%s failed on vCPU %u",
                             save ? t[i].get_name : t[i].set_name, cpu->index);
            return false;
        }
    }
    return true;
}

/* KVM_GET_MSRS / KVM_SET_MSRS return how many entries they processed. */
static bool kvm_state_msrs(KvmVcpu *cpu, KvmVcpuState *s, bool save, Error **errp)
{
    KvmVm *vm = cpu->vm;
    uint32_t n = save ? MIN(vm->nr_msrs, KVM_STATE_MAX_MSRS) : s->nr_msrs;
    g_autofree struct kvm_msrs *m = g_malloc0(sizeof(*m) + n * sizeof(m->entries[0]));

    if (n > KVM_STATE_MAX_MSRS) {
        error_setg(errp, "Invalid MSR count %u in vCPU %u state", n, cpu->index);
        return false;
    }
    m->nmsrs = n;
    for (uint32_t i = 0; i < n; i++) {
        if (save) {
            m->entries[i].index = vm->msr_index[i];
        } else {
            m->entries[i] = s->msrs[i];
        }
    }
    int ret = kvm_ioctl(cpu->fd, save ? KVM_GET_MSRS : KVM_SET_MSRS, m);
    if (ret < 0 || (uint32_t)ret != n) {
        if (ret < 0) {
            error_setg_errno(errp, -ret, "%s failed on vCPU %u", save ? "KVM_GET_MSRS" : "KVM_SET_MSRS",
                             cpu->index);
        } else {
            error_setg(errp, "%s stopped at MSR 0x%x on vCPU %u", save ? "KVM_GET_MSRS" : "KVM_SET_MSRS",
                       m->entries[ret].index, cpu->index);
        }
        return false;
    }
    if (save) {
        s->nr_msrs = n;
        memcpy(s->msrs, m->entries, n * sizeof(m->entries[0]));
    }
    return true;
}

bool kvm_vcpu_save_state(KvmVcpu *cpu, KvmVcpuState *s, Error **errp)
{
    memset(s, 0, sizeof(*s));
    return kvm_state_run(cpu, kvm_vcpu_state_pre_msrs, ARRAY_SIZE(kvm_vcpu_state_pre_msrs),
                         s, true, errp) &&
           kvm_state_msrs(cpu, s, true, errp) &&
           kvm_state_run(cpu, kvm_vcpu_state_post_msrs, ARRAY_SIZE(kvm_vcpu_state_post_msrs),
                         s, true, errp);
}

bool kvm_vcpu_restore_state(KvmVcpu *cpu, const KvmVcpuState *s, Error **errp)
{
    /* The SET ioctls take a non-const pointer but do not write through it. */
    KvmVcpuState *w = (KvmVcpuState *)s;

    return kvm_state_run(cpu, kvm_vcpu_state_pre_msrs, ARRAY_SIZE(kvm_vcpu_state_pre_msrs),
                         w, false, errp) &&
           kvm_state_msrs(cpu, w, false, errp) &&
           kvm_state_run(cpu, kvm_vcpu_state_post_msrs, ARRAY_SIZE(kvm_vcpu_state_post_msrs),
                         w, false, errp);
}

static bool kvm_vm_state_ioctl(KvmVm *vm, unsigned long req, const char *name, void *arg,
                               Error **errp)
{
    int ret = kvm_ioctl(vm->vm_fd, req, arg);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "%s failed", name);
        return false;
    }
    return true;
}

/* Running vCPUs would change what we read or overwrite what we write. */
static bool kvm_vm_state_quiescent(KvmVm *vm, Error **errp)
{
    pthread_mutex_lock(&vm->lock);
    bool ok = !vm->started || vm->nr_running == 0 ||
              (vm->pause_req && vm->nr_parked == vm->nr_running);
    pthread_mutex_unlock(&vm->lock);
    if (!ok) {
        error_setg(errp, "The VM must be paused to save or restore its state");
    }
    return ok;
}

bool kvm_vm_save_state(KvmVm *vm, KvmVmState *s, Error **errp)
{
    if (!kvm_vm_state_quiescent(vm, errp)) {
        return false;
    }
    memset(s, 0, sizeof(*s));
    s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    if (!kvm_vm_state_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP (PIC master)", &s->pic_master, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP (PIC slave)", &s->pic_slave, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP (IOAPIC)", &s->ioapic, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_GET_PIT2, "KVM_GET_PIT2", &s->pit, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_GET_CLOCK, "KVM_GET_CLOCK", &s->clock, errp)) {
        return false;
    }
    s->nr_vcpus = vm->nr_vcpus;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        if (!kvm_vcpu_save_state(vm->vcpus[i], &s->vcpus[i], errp)) {
            return false;
        }
    }
    return true;
}

bool kvm_vm_restore_state(KvmVm *vm, const KvmVmState *s, Error **errp)
{
    KvmVmState *w = (KvmVmState *)s;    /* SET ioctls do not write through it */
    struct kvm_clock_data clock = { .clock = s->clock.clock };

    if (!kvm_vm_state_quiescent(vm, errp)) {
        return false;
    }
    if (s->nr_vcpus != vm->nr_vcpus) {
        error_setg(errp, "State has %u vCPUs but the VM has %u", s->nr_vcpus, vm->nr_vcpus);
        return false;
    }
    if (w->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER || w->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
        w->ioapic.chip_id != KVM_IRQCHIP_IOAPIC) {
        error_setg(errp, "Invalid irqchip ids in VM state");
        return false;
    }
    /* Only the clock value moves: the source's realtime/host TSC mean nothing here. */
    if (!kvm_vm_state_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP (PIC master)", &w->pic_master, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP (PIC slave)", &w->pic_slave, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP (IOAPIC)", &w->ioapic, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_SET_PIT2, "KVM_SET_PIT2", &w->pit, errp) ||
        !kvm_vm_state_ioctl(vm, KVM_SET_CLOCK, "KVM_SET_CLOCK", &clock, errp)) {
        return false;
    }
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        if (!kvm_vcpu_restore_state(vm->vcpus[i], &s->vcpus[i], errp)) {
            return false;
        }
    }
    return true;
}
