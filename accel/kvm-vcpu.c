/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * kvm-vcpu.c: vCPUs, their threads, and run control (pause, resume, stop, wait).
 *
 * The kick protocol. A requester sets vm->pause_req or vm->stop_req, then sends
 * GODWIT_SIG_KICK to each vCPU thread; the signal handler sets immediate_exit in that
 * thread's kvm_run. A vCPU clears immediate_exit, then reads the request flags, then
 * enters KVM_RUN. Whenever the signal lands, either the flag check sees the request
 * (signal before the check) or KVM_RUN returns -EINTR at once (signal after it).
 */
#include "util/osdep.h"
#include "accel/kvm-int.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#define APIC_LVT_LINT0   0x350
#define APIC_LVT_LINT1   0x360
#define APIC_DM_NMI      0x400
#define APIC_DM_EXTINT   0x700
#define APIC_LVT_MASKED  0x10000

static __thread KvmVcpu *kvm_current_vcpu;
static pthread_once_t kvm_signal_once = PTHREAD_ONCE_INIT;

static void kvm_kick_handler(int sig)
{
    KvmVcpu *cpu = kvm_current_vcpu;

    if (cpu) {
        __atomic_store_n(&cpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    }
}

static void kvm_install_kick_handler(void)
{
    struct sigaction sa = { .sa_handler = kvm_kick_handler };

    sigemptyset(&sa.sa_mask);
    sigaction(GODWIT_SIG_KICK, &sa, NULL);    /* no SA_RESTART: KVM_RUN must see EINTR */
}

/* CPUID as KVM supports it, with this vCPU's APIC ID in leaves 1, 0xb and 0x1f. */
static bool kvm_vcpu_set_cpuid(KvmVcpu *cpu, Error **errp)
{
    const struct kvm_cpuid2 *sup = cpu->vm->cpuid;
    size_t size = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
    g_autofree struct kvm_cpuid2 *c = g_memdup2(sup, size);

    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 1) {
            e->ebx = (e->ebx & 0x00ffffff) | (cpu->index << 24);
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = cpu->index;
        }
    }
    int ret = kvm_ioctl(cpu->fd, KVM_SET_CPUID2, c);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_SET_CPUID2 failed on vCPU %u", cpu->index);
        return false;
    }
    return true;
}

static void lapic_set_reg(struct kvm_lapic_state *l, unsigned off, uint32_t val)
{
    memcpy(&l->regs[off], &val, sizeof(val));
}

/* LINT0 delivers the PIC's ExtINT on the BSP only; LINT1 is NMI everywhere. */
static bool kvm_vcpu_setup_lapic(KvmVcpu *cpu, Error **errp)
{
    struct kvm_lapic_state lapic;
    int ret = kvm_ioctl(cpu->fd, KVM_GET_LAPIC, &lapic);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_GET_LAPIC failed on vCPU %u", cpu->index);
        return false;
    }
    lapic_set_reg(&lapic, APIC_LVT_LINT0,
                  APIC_DM_EXTINT | (cpu->index == 0 ? 0 : APIC_LVT_MASKED));
    lapic_set_reg(&lapic, APIC_LVT_LINT1, APIC_DM_NMI);
    ret = kvm_ioctl(cpu->fd, KVM_SET_LAPIC, &lapic);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_SET_LAPIC failed on vCPU %u", cpu->index);
        return false;
    }
    return true;
}

/*
 * KVM_GET_MSR_INDEX_LIST may name MSRs this host cannot read for this vCPU model;
 * keep the ones it can, once per VM, so that save/restore never trips on them.
 */
static void kvm_vcpu_filter_msrs(KvmVcpu *cpu)
{
    KvmVm *vm = cpu->vm;
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } one;
    uint32_t kept = 0;

    for (uint32_t i = 0; i < vm->nr_msrs; i++) {
        memset(&one, 0, sizeof(one));
        one.hdr.nmsrs = 1;
        one.e.index = vm->msr_index[i];
        if (kvm_ioctl(cpu->fd, KVM_GET_MSRS, &one) == 1) {
            vm->msr_index[kept++] = vm->msr_index[i];
        }
    }
    vm->nr_msrs = kept;
    vm->msrs_filtered = true;
}

KvmVcpu *kvm_vcpu_create(KvmVm *vm, Error **errp)
{
    assert(!vm->started);
    if (vm->nr_vcpus == KVM_GODWIT_MAX_VCPUS) {
        error_setg(errp, "Too many vCPUs (at most %d)", KVM_GODWIT_MAX_VCPUS);
        return NULL;
    }
    KvmVcpu *cpu = g_new0(KvmVcpu, 1);
    cpu->vm = vm;
    cpu->index = vm->nr_vcpus;
    cpu->run = MAP_FAILED;
    cpu->fd = kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)cpu->index);
    if (cpu->fd < 0) {
        error_setg_errno(errp, -cpu->fd, "KVM_CREATE_VCPU failed for vCPU %u", cpu->index);
        goto fail;
    }
    cpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
    if (cpu->run == MAP_FAILED) {
        error_setg_errno(errp, errno, "Could not map kvm_run of vCPU %u", cpu->index);
        goto fail;
    }
    if (!kvm_vcpu_set_cpuid(cpu, errp) || !kvm_vcpu_setup_lapic(cpu, errp)) {
        goto fail;
    }
    int khz = ioctl(cpu->fd, KVM_GET_TSC_KHZ, 0);
    cpu->tsc_khz = khz > 0 ? khz : 0;
    if (!vm->msrs_filtered) {
        kvm_vcpu_filter_msrs(cpu);
    }
    vm->vcpus[vm->nr_vcpus++] = cpu;
    return cpu;

fail:
    kvm_vcpu_free(cpu);
    return NULL;
}

void kvm_vcpu_free(KvmVcpu *cpu)
{
    if (cpu->run != MAP_FAILED) {
        munmap(cpu->run, cpu->vm->run_size);
    }
    if (cpu->fd >= 0) {
        close(cpu->fd);
    }
    g_free(cpu);
}

unsigned kvm_vm_nr_vcpus(KvmVm *vm) { return vm->nr_vcpus; }
unsigned kvm_vcpu_index(KvmVcpu *cpu) { return cpu->index; }
KvmVm *kvm_vcpu_vm(KvmVcpu *cpu) { return cpu->vm; }
int kvm_vcpu_fd(KvmVcpu *cpu) { return cpu->fd; }
uint32_t kvm_vcpu_tsc_khz(KvmVcpu *cpu) { return cpu->tsc_khz; }

uint64_t kvm_vcpu_exit_count(KvmVcpu *cpu)
{
    return __atomic_load_n(&cpu->exits, __ATOMIC_RELAXED);
}

KvmVcpu *kvm_vm_get_vcpu(KvmVm *vm, unsigned index)
{
    assert(index < vm->nr_vcpus);
    return vm->vcpus[index];
}

/* Caller holds vm->lock. */
static void kvm_vm_kick_all_locked(KvmVm *vm)
{
    if (vm->joined) {
        return;
    }
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        if (vm->vcpus[i]->thread_started) {
            pthread_kill(vm->vcpus[i]->thread, GODWIT_SIG_KICK);
        }
    }
}

void kvm_vm_stop_with(KvmVm *vm, KvmStopReason reason, int status, const char *fmt, ...)
{
    KvmStopNotify *notify = NULL;
    void *notify_opaque = NULL;

    pthread_mutex_lock(&vm->lock);
    if (!vm->stop_req) {
        /* both under the lock: kvm_vm_destroy clears them concurrently */
        notify = vm->stop_notify;
        notify_opaque = vm->stop_opaque;
        va_list ap;
        vm->stop_reason = reason;
        vm->stop_status = status;
        va_start(ap, fmt);
        vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
        va_end(ap);
        __atomic_store_n(&vm->stop_req, 1, __ATOMIC_SEQ_CST);
        kvm_vm_kick_all_locked(vm);
    }
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    if (notify) {
        notify(notify_opaque);
    }
}

void kvm_vm_set_stop_notify(KvmVm *vm, KvmStopNotify *fn, void *opaque)
{
    pthread_mutex_lock(&vm->lock);
    vm->stop_notify = fn;
    vm->stop_opaque = opaque;
    pthread_mutex_unlock(&vm->lock);
}

void kvm_vm_rearm(KvmVm *vm)
{
    pthread_mutex_lock(&vm->lock);
    assert(!vm->started || (vm->joined && !vm->nr_running));
    vm->started = false;
    vm->joined = false;
    vm->pause_req = 0;
    __atomic_store_n(&vm->stop_req, 0, __ATOMIC_SEQ_CST);
    vm->stop_reason = KVM_GODWIT_STOP_NONE;
    vm->stop_status = 0;
    vm->stop_msg[0] = '\0';
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        vm->vcpus[i]->thread_started = false;
        vm->vcpus[i]->need_complete = false;
        vm->vcpus[i]->tid = 0;
    }
    pthread_mutex_unlock(&vm->lock);
}

pid_t kvm_vcpu_thread_id(KvmVcpu *cpu)
{
    pthread_mutex_lock(&cpu->vm->lock);
    pid_t tid = cpu->tid;
    pthread_mutex_unlock(&cpu->vm->lock);
    return tid;
}

void kvm_vm_request_stop(KvmVm *vm, int status)
{
    kvm_vm_stop_with(vm, KVM_GODWIT_STOP_REQUESTED, status, "%s", "");
}

/* Complete a pending I/O or MMIO exit without running further guest code (api.rst). */
static void kvm_vcpu_complete_exit(KvmVcpu *cpu)
{
    __atomic_store_n(&cpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    ioctl(cpu->fd, KVM_RUN, 0);     /* -EINTR once the exit is completed */
    cpu->need_complete = false;
}

/* Park while a pause is requested. Returns false when the thread must end. */
static bool kvm_vcpu_check_requests(KvmVcpu *cpu)
{
    KvmVm *vm = cpu->vm;

    if (likely(!__atomic_load_n(&vm->pause_req, __ATOMIC_SEQ_CST) &&
               !__atomic_load_n(&vm->stop_req, __ATOMIC_SEQ_CST))) {
        return true;
    }
    if (!__atomic_load_n(&vm->stop_req, __ATOMIC_SEQ_CST) && cpu->need_complete) {
        kvm_vcpu_complete_exit(cpu);
    }
    pthread_mutex_lock(&vm->lock);
    if (vm->pause_req && !vm->stop_req) {
        cpu->parked = true;
        vm->nr_parked++;
        pthread_cond_broadcast(&vm->cond);
        while (vm->pause_req && !vm->stop_req) {
            pthread_cond_wait(&vm->cond, &vm->lock);
        }
        vm->nr_parked--;
        cpu->parked = false;
    }
    bool go = !vm->stop_req;
    pthread_mutex_unlock(&vm->lock);
    return go;
}

static void kvm_vcpu_stop_error(KvmVcpu *cpu, KvmStopReason reason, const char *what)
{
    struct kvm_regs regs = { 0 };

    ioctl(cpu->fd, KVM_GET_REGS, &regs);
    kvm_vm_stop_with(cpu->vm, reason, -1, "vCPU %u: %s (RIP 0x%llx, RSP 0x%llx)",
                     cpu->index, what, regs.rip, regs.rsp);
}

/* Returns false when the thread must end. */
static bool kvm_vcpu_handle_exit(KvmVcpu *cpu)
{
    struct kvm_run *run = cpu->run;
    char what[96];

    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        uint8_t *p = (uint8_t *)run + run->io.data_offset;
        for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size) {
            kvm_vm_dispatch_io(cpu->vm, cpu, false, run->io.port,
                               run->io.direction == KVM_EXIT_IO_OUT, p, run->io.size);
        }
        cpu->need_complete = true;
        return true;
    }
    case KVM_EXIT_MMIO:
        kvm_vm_dispatch_io(cpu->vm, cpu, true, run->mmio.phys_addr, run->mmio.is_write,
                           run->mmio.data, run->mmio.len);
        cpu->need_complete = true;
        return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT:
        return true;
    case KVM_EXIT_SHUTDOWN:
        kvm_vcpu_stop_error(cpu, KVM_GODWIT_STOP_SHUTDOWN, "guest triple fault (KVM_EXIT_SHUTDOWN)");
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        snprintf(what, sizeof(what), "KVM internal error, suberror %u%s", run->internal.suberror,
                 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failure)" : "");
        break;
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(what, sizeof(what), "KVM entry failed, hardware error 0x%llx",
                 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        snprintf(what, sizeof(what), "guest system event %u", run->system_event.type);
        kvm_vcpu_stop_error(cpu, KVM_GODWIT_STOP_SHUTDOWN, what);
        return false;
    default:
        snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
        break;
    }
    kvm_vcpu_stop_error(cpu, KVM_GODWIT_STOP_ERROR, what);
    return false;
}

static void *kvm_vcpu_thread_fn(void *opaque)
{
    KvmVcpu *cpu = opaque;
    KvmVm *vm = cpu->vm;
    sigset_t set;

    kvm_current_vcpu = cpu;
    pthread_mutex_lock(&vm->lock);
    cpu->tid = gettid();
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    sigemptyset(&set);
    sigaddset(&set, GODWIT_SIG_KICK);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    for (;;) {
        __atomic_store_n(&cpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        if (!kvm_vcpu_check_requests(cpu)) {
            break;
        }
        cpu->need_complete = false;
        if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            kvm_vm_stop_with(vm, KVM_GODWIT_STOP_ERROR, -1, "vCPU %u: KVM_RUN failed: %s",
                             cpu->index, strerror(errno));
            break;
        }
        __atomic_add_fetch(&cpu->exits, 1, __ATOMIC_RELAXED);
        if (!kvm_vcpu_handle_exit(cpu)) {
            break;
        }
    }
    kvm_current_vcpu = NULL;
    pthread_mutex_lock(&vm->lock);
    vm->nr_running--;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    return NULL;
}

bool kvm_vm_start(KvmVm *vm, bool start_paused, Error **errp)
{
    assert(!vm->started);
    if (!vm->nr_vcpus) {
        error_setg(errp, "Cannot start a VM without vCPUs");
        return false;
    }
    pthread_once(&kvm_signal_once, kvm_install_kick_handler);
    pthread_mutex_lock(&vm->lock);
    vm->started = true;
    vm->pause_req = start_paused;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        KvmVcpu *cpu = vm->vcpus[i];
        int ret = pthread_create(&cpu->thread, NULL, kvm_vcpu_thread_fn, cpu);
        if (ret) {
            pthread_mutex_unlock(&vm->lock);
            error_setg_errno(errp, ret, "Could not create the thread of vCPU %u", i);
            kvm_vm_stop_with(vm, KVM_GODWIT_STOP_ERROR, -1, "vCPU thread creation failed");
            return false;
        }
        cpu->thread_started = true;
        vm->nr_running++;
    }
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        while (!vm->vcpus[i]->tid) {        /* query-cpus-fast reports it at once */
            pthread_cond_wait(&vm->cond, &vm->lock);
        }
    }
    pthread_mutex_unlock(&vm->lock);
    return true;
}

bool kvm_vm_pause(KvmVm *vm)
{
    pthread_mutex_lock(&vm->lock);
    __atomic_store_n(&vm->pause_req, 1, __ATOMIC_SEQ_CST);
    kvm_vm_kick_all_locked(vm);
    while (!vm->stop_req && vm->nr_parked < vm->nr_running) {
        pthread_cond_wait(&vm->cond, &vm->lock);
    }
    bool ok = !vm->stop_req && vm->nr_running > 0;
    pthread_mutex_unlock(&vm->lock);
    return ok;
}

void kvm_vm_resume(KvmVm *vm)
{
    pthread_mutex_lock(&vm->lock);
    __atomic_store_n(&vm->pause_req, 0, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
}

bool kvm_vm_is_paused(KvmVm *vm)
{
    pthread_mutex_lock(&vm->lock);
    bool paused = vm->pause_req && vm->nr_parked == vm->nr_running && vm->nr_running;
    pthread_mutex_unlock(&vm->lock);
    return paused;
}

bool kvm_vm_wait(KvmVm *vm, int64_t timeout_ms, KvmStopReason *reason, int *status)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms >= 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
    }
    pthread_mutex_lock(&vm->lock);
    while (vm->nr_running > 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&vm->cond, &vm->lock);
        } else if (pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&vm->lock);
            return false;
        }
    }
    bool join = vm->started && !vm->joined;
    vm->joined = true;
    pthread_mutex_unlock(&vm->lock);
    for (unsigned i = 0; join && i < vm->nr_vcpus; i++) {
        if (vm->vcpus[i]->thread_started) {
            pthread_join(vm->vcpus[i]->thread, NULL);
        }
    }
    if (reason) {
        *reason = vm->stop_reason;
    }
    if (status) {
        *status = vm->stop_status;
    }
    return true;
}

const char *kvm_vm_stop_message(KvmVm *vm)
{
    return vm->stop_msg;
}

const char *kvm_stop_reason_name(KvmStopReason reason)
{
    static const char *const names[] = {
        [KVM_GODWIT_STOP_NONE] = "none",
        [KVM_GODWIT_STOP_REQUESTED] = "requested",
        [KVM_GODWIT_STOP_SHUTDOWN] = "shutdown",
        [KVM_GODWIT_STOP_ERROR] = "error",
    };
    return reason < ARRAY_SIZE(names) ? names[reason] : "?";
}
