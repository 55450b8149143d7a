/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * machine-state.c: the "cpu" and "virtio-mmio" sections of the KVM machine
 * (include/migration/machine-mig.h): plain structs, declarative field tables,
 * one FULL record each, loaded by the generic vmstate loader and checked again
 * against the destination machine before anything is applied.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "migration/machine-mig.h"
#include "migration/vmstate.h"
#include "hw/virtio/virtio-blk.h"

/* ------------------------------------------------------------------------- */
/* cpu: KVM VM + vCPU state */

static const VMStateField vcpu_fields[] = {
    VMSTATE_BUFFER(KvmVcpuState, regs),
    VMSTATE_BUFFER(KvmVcpuState, sregs),
    VMSTATE_BUFFER(KvmVcpuState, fpu),
    VMSTATE_BUFFER(KvmVcpuState, xsave),
    VMSTATE_BUFFER(KvmVcpuState, xcrs),
    VMSTATE_BUFFER(KvmVcpuState, lapic),
    VMSTATE_BUFFER(KvmVcpuState, events),
    VMSTATE_BUFFER(KvmVcpuState, mp_state),
    VMSTATE_BUFFER(KvmVcpuState, debugregs),
    VMSTATE_U32_MAX(KvmVcpuState, nr_msrs, KVM_STATE_MAX_MSRS),
    VMSTATE_VARRAY_BUFFER(KvmVcpuState, msrs, 9),
    VMSTATE_END,
};
static const VMStateDesc vcpu_desc = { "vcpu", vcpu_fields };

static const VMStateField kvm_vm_fields[] = {
    VMSTATE_BUFFER(KvmVmState, pic_master),
    VMSTATE_BUFFER(KvmVmState, pic_slave),
    VMSTATE_BUFFER(KvmVmState, ioapic),
    VMSTATE_BUFFER(KvmVmState, pit),
    VMSTATE_BUFFER(KvmVmState, clock),
    VMSTATE_U32_MAX(KvmVmState, nr_vcpus, KVM_GODWIT_MAX_VCPUS),
    VMSTATE_STRUCT_ARRAY(KvmVmState, vcpus, 5, &vcpu_desc),
    VMSTATE_END,
};
static const VMStateDesc kvm_vm_desc = { "kvm", kvm_vm_fields };

static const VMStateField machine_fields[] = {
    VMSTATE_STRUCT(MachineState, kvm, &kvm_vm_desc),
    VMSTATE_U32(MachineState, progress),
    VMSTATE_END,
};
static const VMStateDesc machine_desc = { "machine", machine_fields };

struct CpuMig {
    Machine *m;
    MachineState *loaded;        /* destination: until load_finish */
};

static int coroutine_fn cpu_save_state(MigStream *f, void *opaque, Error **errp)
{
    CpuMig *cm = opaque;
    g_autofree MachineState *st = g_new0(MachineState, 1);

    if (!machine_save_state(cm->m, st, errp)) {
        return -EIO;
    }
    vmstate_save(f, &machine_desc, st);
    return 0;
}

static int coroutine_fn cpu_load(MigStream *f, void *opaque, uint8_t type, uint32_t version,
                                 Error **errp)
{
    CpuMig *cm = opaque;

    if (type != MIG_REC_FULL) {
        error_setg(errp, "Unexpected record type %u", type);
        return -EINVAL;
    }
    g_free(cm->loaded);
    cm->loaded = g_new0(MachineState, 1);
    if (!vmstate_load(f, &machine_desc, cm->loaded, errp)) {
        return -EINVAL;
    }
    if (cm->loaded->kvm.nr_vcpus != kvm_vm_nr_vcpus(machine_vm(cm->m))) {
        error_setg(errp, "The stream has %" PRIu32 " vCPUs, this machine %u",
                   cm->loaded->kvm.nr_vcpus, kvm_vm_nr_vcpus(machine_vm(cm->m)));
        return -EINVAL;
    }
    return 0;
}

static int cpu_load_finish(void *opaque, Error **errp)
{
    CpuMig *cm = opaque;

    if (!cm->loaded) {
        error_setg(errp, "No vCPU state in the migration stream");
        return -EINVAL;
    }
    return machine_restore_state(cm->m, cm->loaded, errp) ? 0 : -EINVAL;
}

static void cpu_load_cleanup(void *opaque)
{
    CpuMig *cm = opaque;

    g_clear_pointer(&cm->loaded, g_free);
}

static const MigSectionOps cpu_ops = {
    .save_state = cpu_save_state,
    .load = cpu_load,
    .load_finish = cpu_load_finish,
    .load_cleanup = cpu_load_cleanup,
};

CpuMig *cpu_mig_register(MigRegistry *reg, Machine *m)
{
    CpuMig *cm = g_new0(CpuMig, 1);

    cm->m = m;
    mig_register(reg, "cpu", 0, 1, &cpu_ops, cm);
    return cm;
}

void cpu_mig_free(CpuMig *cm)
{
    if (cm) {
        g_free(cm->loaded);
        g_free(cm);
    }
}

/* ------------------------------------------------------------------------- */
/* virtio-mmio: device and queue state */

typedef struct VirtQueueMigState {
    uint16_t num;
    uint8_t ready;
    uint64_t desc, avail, used;
    uint16_t last_avail_idx, used_idx, signalled_used;
    uint8_t signalled_used_valid;
} VirtQueueMigState;

typedef struct VirtioMigState {
    uint32_t device_id;
    uint64_t guest_features;
    uint8_t status;
    uint32_t isr;
    uint32_t config_generation;
    uint8_t broken;
    uint32_t nr_queues;
    VirtQueueMigState vq[VIRTIO_MAX_QUEUES];
} VirtioMigState;

static const VMStateField vq_fields[] = {
    VMSTATE_U16(VirtQueueMigState, num),
    VMSTATE_SCALAR(VirtQueueMigState, ready, VMS_BOOL, 1),
    VMSTATE_U64(VirtQueueMigState, desc),
    VMSTATE_U64(VirtQueueMigState, avail),
    VMSTATE_U64(VirtQueueMigState, used),
    VMSTATE_U16(VirtQueueMigState, last_avail_idx),
    VMSTATE_U16(VirtQueueMigState, used_idx),
    VMSTATE_U16(VirtQueueMigState, signalled_used),
    VMSTATE_SCALAR(VirtQueueMigState, signalled_used_valid, VMS_BOOL, 1),
    VMSTATE_END,
};
static const VMStateDesc vq_desc = { "virtqueue", vq_fields };

static const VMStateField virtio_fields[] = {
    VMSTATE_U32(VirtioMigState, device_id),
    VMSTATE_U64(VirtioMigState, guest_features),
    VMSTATE_U8(VirtioMigState, status),
    VMSTATE_U32_MAX(VirtioMigState, isr, 3),
    VMSTATE_U32(VirtioMigState, config_generation),
    VMSTATE_SCALAR(VirtioMigState, broken, VMS_BOOL, 1),
    VMSTATE_U32_MAX(VirtioMigState, nr_queues, VIRTIO_MAX_QUEUES),
    VMSTATE_STRUCT_ARRAY(VirtioMigState, vq, 6, &vq_desc),
    VMSTATE_END,
};
static const VMStateDesc virtio_desc = { "virtio", virtio_fields };

struct VirtioMig {
    VirtIODevice *vdev;
    VirtIOBlock *blk;
    VirtioMigState *loaded;
};

static void virtio_mig_get(VirtIODevice *vdev, VirtioMigState *st)
{
    pthread_mutex_lock(&vdev->lock);
    st->device_id = vdev->device_id;
    st->guest_features = vdev->guest_features;
    st->status = vdev->status;
    st->isr = vdev->isr;
    st->config_generation = vdev->config_generation;
    st->broken = vdev->broken;
    st->nr_queues = vdev->nr_queues;
    for (unsigned i = 0; i < vdev->nr_queues; i++) {
        VirtQueue *vq = &vdev->vq[i];
        st->vq[i] = (VirtQueueMigState) {
            .num = vq->num, .ready = vq->ready, .desc = vq->desc_gpa,
            .avail = vq->avail_gpa, .used = vq->used_gpa,
            .last_avail_idx = vq->last_avail_idx, .used_idx = vq->used_idx,
            .signalled_used = vq->signalled_used,
            .signalled_used_valid = vq->signalled_used_valid,
        };
    }
    pthread_mutex_unlock(&vdev->lock);
}

static int coroutine_fn virtio_save_state(MigStream *f, void *opaque, Error **errp)
{
    VirtioMig *vm = opaque;
    g_autofree VirtioMigState *st = g_new0(VirtioMigState, 1);

    if (vm->blk) {
        /* the VM is stopped: let running requests finish (their DMA was tracked) */
        while (virtio_blk_in_flight(vm->blk) > virtio_blk_failed(vm->blk)) {
            qemu_co_sleep_ns(QEMU_CLOCK_REALTIME, 100 * SCALE_US);
        }
        if (virtio_blk_failed(vm->blk)) {
            error_setg(errp, "virtio-blk has %u failed requests waiting for 'cont'",
                       virtio_blk_failed(vm->blk));
            return -EBUSY;
        }
    }
    virtio_mig_get(vm->vdev, st);
    vmstate_save(f, &virtio_desc, st);
    return 0;
}

/* Everything the destination device will accept, checked before applying any of it. */
static bool virtio_mig_check(VirtIODevice *vdev, const VirtioMigState *st, Error **errp)
{
    if (st->device_id != vdev->device_id || st->nr_queues != vdev->nr_queues) {
        error_setg(errp, "virtio device %" PRIu32 " with %" PRIu32 " queues does not match "
                   "this one (%" PRIu32 ", %u queues)", st->device_id, st->nr_queues,
                   vdev->device_id, vdev->nr_queues);
        return false;
    }
    if (st->guest_features & ~vdev->host_features) {
        error_setg(errp, "virtio features 0x%" PRIx64 " were not offered",
                   st->guest_features & ~vdev->host_features);
        return false;
    }
    for (unsigned i = 0; i < st->nr_queues; i++) {
        const VirtQueueMigState *q = &st->vq[i];
        if (!q->ready) {
            continue;
        }
        if (!q->num || (q->num & (q->num - 1)) || q->num > vdev->vq[i].num_max ||
            q->desc % 16 || q->avail % 2 || q->used % 4 ||
            !virtio_gpa_map(&vdev->mem, q->desc, VRING_DESC_SIZE(q->num)) ||
            !virtio_gpa_map(&vdev->mem, q->avail, VRING_AVAIL_SIZE(q->num)) ||
            !virtio_gpa_map(&vdev->mem, q->used, VRING_USED_SIZE(q->num))) {
            error_setg(errp, "virtio queue %u: invalid size or ring addresses", i);
            return false;
        }
    }
    return true;
}

static int coroutine_fn virtio_load(MigStream *f, void *opaque, uint8_t type, uint32_t version,
                                    Error **errp)
{
    VirtioMig *vm = opaque;

    if (type != MIG_REC_FULL) {
        error_setg(errp, "Unexpected record type %u", type);
        return -EINVAL;
    }
    g_free(vm->loaded);
    vm->loaded = g_new0(VirtioMigState, 1);
    if (!vmstate_load(f, &virtio_desc, vm->loaded, errp) ||
        !virtio_mig_check(vm->vdev, vm->loaded, errp)) {
        return -EINVAL;
    }
    return 0;
}

static int virtio_load_finish(void *opaque, Error **errp)
{
    VirtioMig *vm = opaque;
    VirtIODevice *vdev = vm->vdev;
    const VirtioMigState *st = vm->loaded;

    if (!st) {
        error_setg(errp, "No virtio state in the migration stream");
        return -EINVAL;
    }
    pthread_mutex_lock(&vdev->lock);
    vdev->guest_features = st->guest_features;
    vdev->status = st->status;
    vdev->isr = st->isr;
    vdev->config_generation = st->config_generation;
    vdev->broken = st->broken;
    for (unsigned i = 0; i < st->nr_queues; i++) {
        VirtQueue *vq = &vdev->vq[i];
        const VirtQueueMigState *q = &st->vq[i];

        vq->num = q->num;
        vq->desc_gpa = q->desc;
        vq->avail_gpa = q->avail;
        vq->used_gpa = q->used;
        virtio_queue_set_ready(vq, q->ready);     /* checked above: maps the rings */
        vq->last_avail_idx = q->last_avail_idx;
        vq->used_idx = q->used_idx;
        vq->signalled_used = q->signalled_used;
        vq->signalled_used_valid = q->signalled_used_valid;
    }
    pthread_mutex_unlock(&vdev->lock);
    /* the guest may have queued requests while the source stopped: look now */
    for (unsigned i = 0; i < st->nr_queues; i++) {
        if (st->vq[i].ready) {
            event_notifier_set(&vdev->vq[i].host_notifier);
        }
    }
    return 0;
}

static void virtio_load_cleanup(void *opaque)
{
    VirtioMig *vm = opaque;

    g_clear_pointer(&vm->loaded, g_free);
}

static const MigSectionOps virtio_ops = {
    .save_state = virtio_save_state,
    .load = virtio_load,
    .load_finish = virtio_load_finish,
    .load_cleanup = virtio_load_cleanup,
};

VirtioMig *virtio_mig_register(MigRegistry *reg, uint32_t instance, VirtIODevice *vdev,
                               VirtIOBlock *blk, RamMig *ram)
{
    VirtioMig *vm = g_new0(VirtioMig, 1);

    vm->vdev = vdev;
    vm->blk = blk;
    if (ram) {
        virtio_set_dirty_hook(vdev, ram_mig_mark_dirty, ram);
    }
    mig_register(reg, "virtio-mmio", instance, 1, &virtio_ops, vm);
    return vm;
}

void virtio_mig_free(VirtioMig *vm)
{
    if (vm) {
        virtio_set_dirty_hook(vm->vdev, NULL, NULL);
        g_free(vm->loaded);
        g_free(vm);
    }
}
