/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio-mmio.c: the virtio-mmio transport, register layout version 2.
 *
 * Window (offsets from the base; all registers 32-bit, little-endian; accesses of
 * another width below 0x100 are ignored, reads return 0):
 *   0x000 R  magic "virt"         0x004 R  version 2         0x008 R  device id
 *   0x00c R  vendor id            0x010 R  device features (32 bits selected by 0x014)
 *   0x020 W  driver features (32 bits selected by 0x024)
 *   0x030 W  queue select         0x034 R  queue num max     0x038 W  queue num
 *   0x044 RW queue ready          0x050 W  queue notify (value: queue index)
 *   0x060 R  interrupt status     0x064 W  interrupt ack     0x070 RW device status
 *   0x080/0x084 W descriptor table, 0x090/0x094 W driver area, 0x0a0/0x0a4 W device
 *   area (low/high halves of 64-bit guest-physical addresses)
 *   0x0fc R  config generation    0x100+   device configuration (any width)
 */
#include "util/osdep.h"
#include "hw/virtio/virtio-mmio.h"

struct VirtIOMMIOProxy {
    /* set at creation */
    KvmVm *vm;
    uint64_t base;
    int gsi;
    VirtIODevice *vdev;
    AioContext *ctx;
    EventNotifier irq;            /* irqfd; fd -1 without one */
    bool ioeventfd[VIRTIO_MAX_QUEUES];

    /* protected by vdev->lock (vCPU threads) */
    uint32_t dev_features_sel;
    uint32_t drv_features_sel;
    uint32_t queue_sel;

    uint64_t kicks_eventfd;       /* main loop */
    uint64_t kicks_exit;          /* __atomic: vCPU threads */
};

static uint32_t mmio_get32(const uint8_t *data)
{
    uint32_t v;
    memcpy(&v, data, 4);
    return v;
}

static void mmio_put32(uint8_t *data, uint32_t v)
{
    memcpy(data, &v, 4);
}

static VirtQueue *mmio_cur_vq(VirtIOMMIOProxy *p)
{
    return p->queue_sel < p->vdev->nr_queues ? &p->vdev->vq[p->queue_sel] : NULL;
}

static uint32_t mmio_read_reg(VirtIOMMIOProxy *p, uint64_t off)
{
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = mmio_cur_vq(p);

    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return vdev->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return p->dev_features_sel < 2 ? vdev->host_features >> (32 * p->dev_features_sel) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vq ? vq->num_max : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return vq ? vq->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return vdev->isr;
    case VIRTIO_MMIO_STATUS:
        return vdev->status;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return vdev->config_generation;
    default:
        return 0;                             /* write-only or reserved */
    }
}

static void mmio_set_addr(uint64_t *addr, bool high, uint32_t v)
{
    if (high) {
        *addr = (*addr & 0xffffffffULL) | ((uint64_t)v << 32);
    } else {
        *addr = (*addr & ~0xffffffffULL) | v;
    }
}

static void mmio_write_queue(VirtIOMMIOProxy *p, uint64_t off, uint32_t v)
{
    VirtQueue *vq = mmio_cur_vq(p);

    /* The spec forbids changing a live queue; ignore it rather than race the main loop. */
    if (!vq || (vq->ready && off != VIRTIO_MMIO_QUEUE_READY)) {
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        vq->num = v <= 0xffff ? v : 0;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        virtio_queue_set_ready(vq, v & 1);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        mmio_set_addr(&vq->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        mmio_set_addr(&vq->avail_gpa, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        mmio_set_addr(&vq->used_gpa, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
        break;
    }
}

static void mmio_write_reg(VirtIOMMIOProxy *p, uint64_t off, uint32_t v)
{
    VirtIODevice *vdev = p->vdev;

    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        p->dev_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        p->drv_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (p->drv_features_sel < 2 && !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
            unsigned shift = 32 * p->drv_features_sel;
            vdev->guest_features &= ~(0xffffffffULL << shift);
            vdev->guest_features |= (uint64_t)v << shift;
        }
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        p->queue_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        /* Only when KVM did not take it as an ioeventfd: hand it to the main loop. */
        __atomic_fetch_add(&p->kicks_exit, 1, __ATOMIC_RELAXED);
        if (v < vdev->nr_queues && vdev->vq[v].host_notifier.fd >= 0) {
            event_notifier_set(&vdev->vq[v].host_notifier);
        }
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        vdev->isr &= ~v;
        break;
    case VIRTIO_MMIO_STATUS:
        virtio_set_status(vdev, v & 0xff);
        break;
    default:
        mmio_write_queue(p, off, v);
        break;
    }
}

static void mmio_config_access(VirtIOMMIOProxy *p, uint64_t off, bool is_write, uint8_t *data,
                               unsigned size)
{
    VirtIODevice *vdev = p->vdev;

    if (off + size > vdev->config_len) {
        return;                              /* reads stay 0 */
    }
    if (vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
    if (!is_write) {
        memcpy(data, vdev->config + off, size);
        return;
    }
    memcpy(vdev->config + off, data, size);
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
}

static void virtio_mmio_io(void *opaque, KvmVcpu *cpu, uint64_t addr, bool is_write,
                           uint8_t *data, unsigned size)
{
    VirtIOMMIOProxy *p = opaque;
    uint64_t off = addr - p->base;

    pthread_mutex_lock(&p->vdev->lock);
    if (off >= VIRTIO_MMIO_CONFIG) {
        mmio_config_access(p, off - VIRTIO_MMIO_CONFIG, is_write, data, size);
    } else if (size == 4 && off % 4 == 0) {
        if (is_write) {
            mmio_write_reg(p, off, mmio_get32(data));
        } else {
            mmio_put32(data, mmio_read_reg(p, off));
        }
    }
    pthread_mutex_unlock(&p->vdev->lock);
}

static void virtio_mmio_notify(void *opaque, unsigned isr_bits)
{
    VirtIOMMIOProxy *p = opaque;

    if (p->irq.fd >= 0) {
        event_notifier_set(&p->irq);
    }
}

static const VirtioTransportOps virtio_mmio_transport = {
    .notify = virtio_mmio_notify,
};

/* Main loop: a kick arrived through the ioeventfd (or the MMIO fallback). */
static void virtio_mmio_kick(EventNotifier *e)
{
    VirtQueue *vq = container_of(e, VirtQueue, host_notifier);
    VirtIOMMIOProxy *p = vq->vdev->transport_opaque;

    if (event_notifier_test_and_clear(e)) {
        p->kicks_eventfd++;
        vq->handle_output(vq->vdev, vq);
    }
}

static void virtio_mmio_setup_irq(VirtIOMMIOProxy *p)
{
    Error *err = NULL;

    p->irq.fd = -1;
    if (p->gsi < 0 || event_notifier_init(&p->irq, false) < 0) {
        return;
    }
    if (kvm_vm_add_irqfd(p->vm, p->gsi, p->irq.fd, &err) < 0) {
        /* Not fatal: the guest polls; InterruptStatus still records the event. */
        error_free(err);
        event_notifier_cleanup(&p->irq);
        p->irq.fd = -1;
    }
}

VirtIOMMIOProxy *virtio_mmio_create(KvmVm *vm, uint64_t base, int gsi, VirtIODevice *vdev,
                                    VirtioGuestMem mem, AioContext *ctx, Error **errp)
{
    VirtIOMMIOProxy *p = g_new0(VirtIOMMIOProxy, 1);
    p->vm = vm;
    p->base = base;
    p->gsi = gsi;
    p->vdev = vdev;
    p->ctx = ctx;
    virtio_set_guest_mem(vdev, mem);
    vdev->transport = &virtio_mmio_transport;
    vdev->transport_opaque = p;

    for (unsigned i = 0; i < vdev->nr_queues; i++) {
        VirtQueue *vq = &vdev->vq[i];
        int ret = event_notifier_init(&vq->host_notifier, false);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not create the notifier of %s queue %u",
                             vdev->name, i);
            goto fail;
        }
        if (kvm_vm_add_ioeventfd(vm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, i,
                                 vq->host_notifier.fd, errp) < 0) {
            goto fail;
        }
        p->ioeventfd[i] = true;
        aio_set_event_notifier(ctx, &vq->host_notifier, virtio_mmio_kick);
    }
    virtio_mmio_setup_irq(p);
    kvm_vm_register_mmio(vm, base, GODWIT_VIRTIO_MMIO_SIZE, virtio_mmio_io, p);
    return p;

fail:
    virtio_mmio_destroy(p);
    return NULL;
}

void virtio_mmio_destroy(VirtIOMMIOProxy *p)
{
    if (!p) {
        return;
    }
    VirtIODevice *vdev = p->vdev;
    for (unsigned i = 0; i < vdev->nr_queues; i++) {
        VirtQueue *vq = &vdev->vq[i];
        if (vq->host_notifier.fd < 0) {
            continue;
        }
        if (p->ioeventfd[i]) {
            kvm_vm_del_ioeventfd(p->vm, p->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, i,
                                 vq->host_notifier.fd);
            aio_set_event_notifier(p->ctx, &vq->host_notifier, NULL);
        }
        event_notifier_cleanup(&vq->host_notifier);
        vq->host_notifier.fd = -1;
    }
    if (p->irq.fd >= 0) {
        kvm_vm_del_irqfd(p->vm, p->gsi, p->irq.fd);
        event_notifier_cleanup(&p->irq);
    }
    vdev->transport = NULL;
    vdev->transport_opaque = NULL;
    g_free(p);
}

void virtio_mmio_get_stats(VirtIOMMIOProxy *p, uint64_t *kicks_eventfd, uint64_t *kicks_exit)
{
    *kicks_eventfd = p->kicks_eventfd;
    *kicks_exit = __atomic_load_n(&p->kicks_exit, __ATOMIC_RELAXED);
}

bool virtio_mmio_has_irqfd(VirtIOMMIOProxy *p)
{
    return p->irq.fd >= 0;
}
