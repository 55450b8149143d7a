/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * kvm-int.h: private to accel/. The KvmVm and KvmVcpu structs shared by
 * kvm-vm.c (VM, memory, handlers), kvm-vcpu.c (vCPUs, threads, run control) and
 * kvm-state.c (save/restore).
 */
#ifndef GODWIT_ACCEL_KVM_INT_H
#define GODWIT_ACCEL_KVM_INT_H

#include "sysemu/kvm.h"

#include <linux/kvm.h>
#include <pthread.h>

typedef struct KvmIoRange {
    uint64_t base;
    uint64_t len;
    bool is_mmio;
    KvmIoFn *fn;
    void *opaque;
} KvmIoRange;

/*
 * One vCPU. Set at creation: vm, index, fd, run, tsc_khz. Owned by its thread while
 * running: need_complete, exits. thread/thread_started: controlling thread.
 */
struct KvmVcpu {
    KvmVm *vm;
    unsigned index;
    int fd;
    struct kvm_run *run;
    uint32_t tsc_khz;
    pthread_t thread;
    bool thread_started;
    bool need_complete;          /* last exit was I/O or MMIO: re-enter before parking */
    bool parked;                 /* protected by vm->lock */
    uint64_t exits;              /* read by others with __atomic */
    pid_t tid;                   /* host thread id once started; protected by vm->lock */
};

/*
 * Set at creation: kvm_fd, vm_fd, run_size, cpuid, msr_list, manual_dirty.
 * Controlling thread only (before start): slots, io, vcpus.
 * Protected by lock: pause_req, stop_req, stop_*, nr_running, nr_parked.
 * pause_req and stop_req are also read without the lock by vCPU threads (__atomic),
 * as the fast path of the check before each KVM_RUN.
 */
struct KvmVm {
    int kvm_fd;
    int vm_fd;
    size_t run_size;
    struct kvm_cpuid2 *cpuid;
    uint32_t nr_msrs;            /* readable MSRs (filtered on the first vCPU) */
    uint32_t msr_index[256];
    bool msrs_filtered;
    bool manual_dirty;
    bool dirty_log;

    unsigned nr_slots;
    KvmMemSlot slots[KVM_GODWIT_MAX_SLOTS];
    unsigned nr_io;
    KvmIoRange io[KVM_GODWIT_MAX_IO];
    unsigned nr_vcpus;
    KvmVcpu *vcpus[KVM_GODWIT_MAX_VCPUS];

    pthread_mutex_t lock;
    pthread_cond_t cond;         /* any change of the fields it protects */
    bool started;
    bool joined;
    int pause_req;
    int stop_req;
    unsigned nr_running;         /* vCPU threads not yet ended */
    unsigned nr_parked;
    KvmStopReason stop_reason;
    int stop_status;
    char stop_msg[256];
    /* Set before kvm_vm_start by the controlling thread; called by the first stop. */
    KvmStopNotify *stop_notify;
    void *stop_opaque;
};

/* kvm-vcpu.c: record a stop that is not a plain request (first stop wins). */
void kvm_vm_stop_with(KvmVm *vm, KvmStopReason reason, int status, const char *fmt, ...)
    GODWIT_PRINTF(4, 5);
/* kvm-vm.c: dispatch one access to the registered handler. */
void kvm_vm_dispatch_io(KvmVm *vm, KvmVcpu *cpu, bool is_mmio, uint64_t addr, bool is_write,
                        uint8_t *data, unsigned size);
/* kvm-vcpu.c: free a vCPU whose thread has ended or never started. */
void kvm_vcpu_free(KvmVcpu *cpu);
/* ioctl retried on EINTR/EAGAIN; returns the result or -errno. */
int kvm_ioctl(int fd, unsigned long req, void *arg);

#endif /* GODWIT_ACCEL_KVM_INT_H */
