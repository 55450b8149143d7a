/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * kvm-vm.c: opening KVM, the VM, its memory slots and dirty log, and the table of
 * port-I/O and MMIO handlers.
 */
#include "util/osdep.h"
#include "accel/kvm-int.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

typedef struct KvmCapName {
    int cap;
    const char *name;
} KvmCapName;

#define CAP(x) { KVM_CAP_##x, "KVM_CAP_" #x }
/* Everything kvm_vm_create and the state save/restore rely on. */
static const KvmCapName kvm_required_caps[] = {
    CAP(USER_MEMORY), CAP(SET_TSS_ADDR), CAP(SET_IDENTITY_MAP_ADDR), CAP(IRQCHIP),
    CAP(PIT2), CAP(PIT_STATE2), CAP(EXT_CPUID), CAP(MP_STATE), CAP(VCPU_EVENTS),
    CAP(DEBUGREGS), CAP(XSAVE), CAP(XCRS), CAP(ADJUST_CLOCK), CAP(IMMEDIATE_EXIT),
    CAP(SYNC_MMU), CAP(GET_TSC_KHZ),
};
#undef CAP

int kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int ret;

    do {
        ret = ioctl(fd, req, arg);
    } while (ret < 0 && (errno == EINTR || errno == EAGAIN));
    return ret < 0 ? -errno : ret;
}

static int kvm_open_dev(Error **errp)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not access KVM kernel module");
        return -1;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        error_setg(errp, "kvm version %d is not supported (Godwit needs API version %d)",
                   version, KVM_API_VERSION);
        close(fd);
        return -1;
    }
    return fd;
}

static bool kvm_check_caps(int kvm_fd, Error **errp)
{
    for (size_t i = 0; i < ARRAY_SIZE(kvm_required_caps); i++) {
        if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
            error_set(errp, ERROR_CLASS_KVM_MISSING_CAP,
                      "kvm: host lacks the capability %s that Godwit requires",
                      kvm_required_caps[i].name);
            return false;
        }
    }
    return true;
}

static int kvm_create_vm_fd(int kvm_fd, Error **errp)
{
    int ret = kvm_ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not create a KVM VM (KVM_CREATE_VM)");
    }
    return ret;
}

bool kvm_available(Error **errp)
{
    int kvm_fd = kvm_open_dev(errp);
    if (kvm_fd < 0) {
        return false;
    }
    bool ok = kvm_check_caps(kvm_fd, errp);
    if (ok) {
        int vm_fd = kvm_create_vm_fd(kvm_fd, errp);
        ok = vm_fd >= 0;
        if (ok) {
            close(vm_fd);
        }
    }
    close(kvm_fd);
    return ok;
}

static bool kvm_get_supported_cpuid(KvmVm *vm, Error **errp)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        int ret = kvm_ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
        if (ret == 0) {
            vm->cpuid = c;
            return true;
        }
        g_free(c);
        if (ret != -E2BIG) {
            error_setg_errno(errp, -ret, "KVM_GET_SUPPORTED_CPUID failed");
            return false;
        }
    }
    error_setg(errp, "KVM_GET_SUPPORTED_CPUID: too many entries");
    return false;
}

static bool kvm_get_msr_list(KvmVm *vm, Error **errp)
{
    struct {
        struct kvm_msr_list hdr;
        uint32_t index[ARRAY_SIZE(vm->msr_index)];
    } list = { .hdr.nmsrs = ARRAY_SIZE(vm->msr_index) };
    int ret = kvm_ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &list);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_GET_MSR_INDEX_LIST failed");
        return false;
    }
    vm->nr_msrs = list.hdr.nmsrs;
    memcpy(vm->msr_index, list.index, vm->nr_msrs * sizeof(uint32_t));
    return true;
}

/* The per-VM setup that must happen before the first vCPU exists. */
static bool kvm_vm_setup_platform(KvmVm *vm, Error **errp)
{
    uint64_t ident = KVM_GODWIT_IDENTITY_MAP_ADDR;
    struct kvm_pit_config pit = { .flags = 0 };
    int ret;

    if ((ret = kvm_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_GODWIT_TSS_ADDR)) < 0) {
        error_setg_errno(errp, -ret, "KVM_SET_TSS_ADDR failed");
        return false;
    }
    if ((ret = kvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident)) < 0) {
        error_setg_errno(errp, -ret, "KVM_SET_IDENTITY_MAP_ADDR failed");
        return false;
    }
    if ((ret = kvm_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL)) < 0) {
        error_setg_errno(errp, -ret, "KVM_CREATE_IRQCHIP failed");
        return false;
    }
    if ((ret = kvm_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit)) < 0) {
        error_setg_errno(errp, -ret, "KVM_CREATE_PIT2 failed");
        return false;
    }
    /* Optional: lets kvm_vm_get_dirty_log re-arm only the pages it returns. */
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0) {
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
            .args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
        };
        vm->manual_dirty = kvm_ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
    }
    return true;
}

KvmVm *kvm_vm_create(Error **errp)
{
    KvmVm *vm = g_new0(KvmVm, 1);
    vm->vm_fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);   /* kvm_vm_wait deadlines */
    pthread_cond_init(&vm->cond, &attr);
    pthread_condattr_destroy(&attr);

    vm->kvm_fd = kvm_open_dev(errp);
    if (vm->kvm_fd < 0 || !kvm_check_caps(vm->kvm_fd, errp)) {
        goto fail;
    }
    vm->vm_fd = kvm_create_vm_fd(vm->kvm_fd, errp);
    if (vm->vm_fd < 0) {
        goto fail;
    }
    int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "KVM_GET_VCPU_MMAP_SIZE returned %d", size);
        goto fail;
    }
    vm->run_size = size;
    if (!kvm_vm_setup_platform(vm, errp) || !kvm_get_supported_cpuid(vm, errp) ||
        !kvm_get_msr_list(vm, errp)) {
        goto fail;
    }
    return vm;

fail:
    kvm_vm_destroy(vm);
    return NULL;
}

void kvm_vm_destroy(KvmVm *vm)
{
    if (!vm) {
        return;
    }
    if (vm->started && !vm->joined) {
        kvm_vm_request_stop(vm, -1);
        kvm_vm_wait(vm, -1, NULL, NULL);
    }
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        kvm_vcpu_free(vm->vcpus[i]);
    }
    if (vm->vm_fd >= 0) {
        close(vm->vm_fd);
    }
    if (vm->kvm_fd >= 0) {
        close(vm->kvm_fd);
    }
    g_free(vm->cpuid);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    g_free(vm);
}

static int kvm_vm_set_slot(KvmVm *vm, const KvmMemSlot *s, uint32_t flags)
{
    struct kvm_userspace_memory_region r = {
        .slot = s->slot,
        .flags = flags,
        .guest_phys_addr = s->gpa,
        .memory_size = s->size,
        .userspace_addr = (uintptr_t)s->host,
    };
    return kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int kvm_vm_add_ram(KvmVm *vm, uint64_t gpa, uint64_t size, void *host, Error **errp)
{
    size_t page = qemu_real_host_page_size();

    if (vm->nr_slots == KVM_GODWIT_MAX_SLOTS) {
        error_setg(errp, "Too many memory slots (at most %d)", KVM_GODWIT_MAX_SLOTS);
        return -ENOSPC;
    }
    if (!size || gpa % page || size % page || (uintptr_t)host % page) {
        error_setg(errp, "Memory slot at 0x%" PRIx64 " (size 0x%" PRIx64 ") is not page aligned",
                   gpa, size);
        return -EINVAL;
    }
    KvmMemSlot *s = &vm->slots[vm->nr_slots];
    *s = (KvmMemSlot) { .slot = vm->nr_slots, .gpa = gpa, .size = size, .host = host };
    int ret = kvm_vm_set_slot(vm, s, vm->dirty_log ? KVM_MEM_LOG_DIRTY_PAGES : 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_SET_USER_MEMORY_REGION failed for 0x%" PRIx64
                         "+0x%" PRIx64, gpa, size);
        return ret;
    }
    return vm->nr_slots++;
}

unsigned kvm_vm_nr_slots(KvmVm *vm)
{
    return vm->nr_slots;
}

const KvmMemSlot *kvm_vm_get_slot(KvmVm *vm, unsigned index)
{
    assert(index < vm->nr_slots);
    return &vm->slots[index];
}

bool kvm_vm_manual_dirty_protect(KvmVm *vm)
{
    return vm->manual_dirty;
}

bool kvm_vm_set_dirty_log(KvmVm *vm, bool enable, Error **errp)
{
    for (unsigned i = 0; i < vm->nr_slots; i++) {
        int ret = kvm_vm_set_slot(vm, &vm->slots[i], enable ? KVM_MEM_LOG_DIRTY_PAGES : 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not %s dirty logging on memory slot %u",
                             enable ? "enable" : "disable", i);
            return false;
        }
    }
    vm->dirty_log = enable;
    return true;
}

size_t kvm_dirty_bitmap_words(const KvmMemSlot *slot)
{
    return DIV_ROUND_UP(slot->size / qemu_real_host_page_size(), 64);
}

bool kvm_vm_get_dirty_log(KvmVm *vm, unsigned index, uint64_t *bitmap, Error **errp)
{
    assert(index < vm->nr_slots);
    const KvmMemSlot *s = &vm->slots[index];
    struct kvm_dirty_log log = { .slot = s->slot, .dirty_bitmap = bitmap };

    if (!vm->dirty_log) {
        error_setg(errp, "Dirty logging is not enabled");
        return false;
    }
    int ret = kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_GET_DIRTY_LOG failed on memory slot %u", index);
        return false;
    }
    if (vm->manual_dirty) {
        struct kvm_clear_dirty_log clear = {
            .slot = s->slot,
            .first_page = 0,
            .num_pages = s->size / qemu_real_host_page_size(),
            .dirty_bitmap = bitmap,
        };
        ret = kvm_ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "KVM_CLEAR_DIRTY_LOG failed on memory slot %u", index);
            return false;
        }
    }
    return true;
}

static void kvm_vm_register_io(KvmVm *vm, bool is_mmio, uint64_t base, uint64_t len,
                               KvmIoFn *fn, void *opaque)
{
    assert(!vm->started && len && vm->nr_io < KVM_GODWIT_MAX_IO);
    for (unsigned i = 0; i < vm->nr_io; i++) {
        const KvmIoRange *r = &vm->io[i];
        assert(r->is_mmio != is_mmio || base + len <= r->base || r->base + r->len <= base);
    }
    vm->io[vm->nr_io++] = (KvmIoRange) {
        .base = base, .len = len, .is_mmio = is_mmio, .fn = fn, .opaque = opaque,
    };
}

void kvm_vm_register_pio(KvmVm *vm, uint16_t base, uint16_t len, KvmIoFn *fn, void *opaque)
{
    kvm_vm_register_io(vm, false, base, len, fn, opaque);
}

void kvm_vm_register_mmio(KvmVm *vm, uint64_t base, uint64_t len, KvmIoFn *fn, void *opaque)
{
    kvm_vm_register_io(vm, true, base, len, fn, opaque);
}

void kvm_vm_dispatch_io(KvmVm *vm, KvmVcpu *cpu, bool is_mmio, uint64_t addr, bool is_write,
                        uint8_t *data, unsigned size)
{
    for (unsigned i = 0; i < vm->nr_io; i++) {
        const KvmIoRange *r = &vm->io[i];
        if (r->is_mmio == is_mmio && addr >= r->base && addr - r->base < r->len) {
            if (!is_write) {
                memset(data, 0, size);
            }
            r->fn(r->opaque, cpu, addr, is_write, data, size);
            return;
        }
    }
    /* Unclaimed: writes vanish and reads float high, as on an empty bus. */
    if (!is_write) {
        memset(data, 0xff, size);
    }
}

static int kvm_vm_ioeventfd(KvmVm *vm, uint64_t addr, unsigned len, uint64_t datamatch, int fd,
                            bool assign)
{
    struct kvm_ioeventfd io = {
        .datamatch = datamatch,
        .addr = addr,
        .len = len,
        .fd = fd,
        .flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    return kvm_ioctl(vm->vm_fd, KVM_IOEVENTFD, &io);
}

int kvm_vm_add_ioeventfd(KvmVm *vm, uint64_t addr, unsigned len, uint64_t datamatch, int fd,
                         Error **errp)
{
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0) {
        error_setg(errp, "kvm: host lacks KVM_CAP_IOEVENTFD");
        return -ENOSYS;
    }
    int ret = kvm_vm_ioeventfd(vm, addr, len, datamatch, fd, true);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_IOEVENTFD failed for 0x%" PRIx64 "/%u", addr, len);
    }
    return ret;
}

void kvm_vm_del_ioeventfd(KvmVm *vm, uint64_t addr, unsigned len, uint64_t datamatch, int fd)
{
    kvm_vm_ioeventfd(vm, addr, len, datamatch, fd, false);
}

int kvm_vm_add_irqfd(KvmVm *vm, uint32_t gsi, int fd, Error **errp)
{
    struct kvm_irqfd irq = { .fd = fd, .gsi = gsi };

    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0) {
        error_setg(errp, "kvm: host lacks KVM_CAP_IRQFD");
        return -ENOSYS;
    }
    int ret = kvm_ioctl(vm->vm_fd, KVM_IRQFD, &irq);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_IRQFD failed for GSI %u", gsi);
    }
    return ret;
}

void kvm_vm_del_irqfd(KvmVm *vm, uint32_t gsi, int fd)
{
    struct kvm_irqfd irq = { .fd = fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

    kvm_ioctl(vm->vm_fd, KVM_IRQFD, &irq);
}
