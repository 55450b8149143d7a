/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-machine.c: the Godwit machine: guest RAM, the console, exit and test
 * devices of hw/godwit-ports.h, run control and state.
 */
#include "util/osdep.h"
#include "hw/godwit-machine-int.h"

#include <sys/mman.h>

#define MACHINE_RAM_MIN      (4 * MiB)
#define MACHINE_RAM_MAX      (3 * GiB)
#define MACHINE_RAM_DEFAULT  (64 * MiB)

static uint32_t io_get32(const uint8_t *data, unsigned size)
{
    uint32_t v = 0;
    memcpy(&v, data, MIN(size, 4));
    return v;
}

static void machine_console_io(void *opaque, KvmVcpu *cpu, uint64_t addr, bool is_write,
                               uint8_t *data, unsigned size)
{
    Machine *m = opaque;

    if (!is_write) {
        return;                              /* reads as 0: never busy */
    }
    if (m->cfg.console) {
        m->cfg.console(m->cfg.opaque, data, 1);
    } else {
        FILE *f = m->cfg.console_file ? m->cfg.console_file : stdout;
        fputc(data[0], f);
        if (data[0] == '\n') {
            fflush(f);
        }
    }
}

static void machine_exit_io(void *opaque, KvmVcpu *cpu, uint64_t addr, bool is_write,
                            uint8_t *data, unsigned size)
{
    Machine *m = opaque;

    if (is_write && size == 4 && addr == GODWIT_PORT_EXIT) {
        kvm_vm_request_stop(m->vm, (int)io_get32(data, size));
    }
}

static void machine_test_io(void *opaque, KvmVcpu *cpu, uint64_t addr, bool is_write,
                            uint8_t *data, unsigned size)
{
    Machine *m = opaque;

    if (addr != GODWIT_PORT_PROGRESS) {
        return;                              /* GODWIT_PORT_NULL and MMIO null page */
    }
    if (!is_write) {
        uint32_t v = __atomic_load_n(&m->progress, __ATOMIC_RELAXED);
        memcpy(data, &v, MIN(size, 4));
        return;
    }
    uint32_t v = io_get32(data, size);
    __atomic_store_n(&m->progress, v, __ATOMIC_RELEASE);
    if (m->cfg.progress) {
        m->cfg.progress(m->cfg.opaque, v);
    }
}

static bool machine_alloc_ram(Machine *m, Error **errp)
{
    m->ram_fd = memfd_create("godwit-ram", MFD_CLOEXEC);
    if (m->ram_fd < 0) {
        error_setg_errno(errp, errno, "Could not create the guest RAM memfd");
        return false;
    }
    if (ftruncate(m->ram_fd, m->ram_size) < 0) {
        error_setg_errno(errp, errno, "Could not size guest RAM to %" PRIu64 " bytes", m->ram_size);
        return false;
    }
    m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->ram_fd, 0);
    if (m->ram == MAP_FAILED) {
        m->ram = NULL;
        error_setg_errno(errp, errno, "Could not map %" PRIu64 " bytes of guest RAM", m->ram_size);
        return false;
    }
    return kvm_vm_add_ram(m->vm, 0, m->ram_size, m->ram, errp) >= 0;
}

Machine *machine_create(const MachineConfig *cfg, Error **errp)
{
    Machine *m = g_new0(Machine, 1);
    m->cfg = *cfg;
    m->ram_fd = -1;
    m->ram_size = cfg->ram_size ? cfg->ram_size : MACHINE_RAM_DEFAULT;
    m->cfg.nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
    m->append = g_strdup(cfg->append ? cfg->append : "");
    m->cfg.append = m->append;

    if (m->ram_size < MACHINE_RAM_MIN || m->ram_size > MACHINE_RAM_MAX ||
        m->ram_size % (2 * MiB)) {
        error_setg(errp, "Invalid RAM size %" PRIu64 " bytes: must be a multiple of 2 MiB "
                   "from 4 MiB to 3 GiB", m->ram_size);
        goto fail;
    }
    if (strlen(m->append) >= GODWIT_APPEND_MAX) {
        error_setg(errp, "Parameter string is too long (%zu bytes, at most %d)",
                   strlen(m->append), GODWIT_APPEND_MAX - 1);
        goto fail;
    }
    m->vm = kvm_vm_create(errp);
    if (!m->vm || !machine_alloc_ram(m, errp)) {
        goto fail;
    }
    kvm_vm_register_pio(m->vm, GODWIT_PORT_CONSOLE, 1, machine_console_io, m);
    kvm_vm_register_pio(m->vm, GODWIT_PORT_EXIT, 4, machine_exit_io, m);
    kvm_vm_register_pio(m->vm, GODWIT_PORT_PROGRESS, 8, machine_test_io, m);
    kvm_vm_register_mmio(m->vm, GODWIT_MMIO_NULL, 4096, machine_test_io, m);
    for (unsigned i = 0; i < m->cfg.nr_cpus; i++) {
        if (!kvm_vcpu_create(m->vm, errp)) {
            goto fail;
        }
    }
    return m;

fail:
    machine_destroy(m);
    return NULL;
}

void machine_destroy(Machine *m)
{
    if (!m) {
        return;
    }
    kvm_vm_destroy(m->vm);                   /* vCPU threads end before RAM goes */
    if (m->ram) {
        munmap(m->ram, m->ram_size);
    }
    if (m->ram_fd >= 0) {
        close(m->ram_fd);
    }
    g_free(m->append);
    g_free(m);
}

bool machine_start(Machine *m, bool paused, Error **errp)
{
    return kvm_vm_start(m->vm, paused, errp);
}

bool machine_pause(Machine *m)
{
    return kvm_vm_pause(m->vm);
}

void machine_resume(Machine *m)
{
    kvm_vm_resume(m->vm);
}

void machine_stop(Machine *m)
{
    kvm_vm_request_stop(m->vm, -1);
}

bool machine_wait(Machine *m, int64_t timeout_ms, MachineExit *exit)
{
    MachineExit e = { 0 };

    if (!kvm_vm_wait(m->vm, timeout_ms, &e.reason, &e.status)) {
        return false;
    }
    e.message = kvm_vm_stop_message(m->vm);
    if (exit) {
        *exit = e;
    }
    return true;
}

KvmVm *machine_vm(Machine *m)
{
    return m->vm;
}

void *machine_ram(Machine *m, uint64_t *size)
{
    if (size) {
        *size = m->ram_size;
    }
    return m->ram;
}

int machine_ram_fd(Machine *m)
{
    return m->ram_fd;
}

uint32_t machine_progress(Machine *m)
{
    return __atomic_load_n(&m->progress, __ATOMIC_ACQUIRE);
}

bool machine_save_state(Machine *m, MachineState *s, Error **errp)
{
    if (!kvm_vm_save_state(m->vm, &s->kvm, errp)) {
        return false;
    }
    s->progress = machine_progress(m);
    return true;
}

bool machine_restore_state(Machine *m, const MachineState *s, Error **errp)
{
    if (!kvm_vm_restore_state(m->vm, &s->kvm, errp)) {
        return false;
    }
    __atomic_store_n(&m->progress, s->progress, __ATOMIC_RELEASE);
    return true;
}
