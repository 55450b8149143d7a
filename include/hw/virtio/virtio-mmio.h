/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio-mmio.h: the virtio-mmio transport (virtio 1.1, 4.2; "version 2" only, no
 * legacy layout). One VirtIOMMIOProxy puts one VirtIODevice at a register window
 * of the KVM VM's MMIO space (addresses and GSIs: hw/godwit-ports.h).
 *
 * Register accesses run on the vCPU thread that exited (under vdev->lock). Queue
 * kicks do not: each queue's QueueNotify write is an ioeventfd whose
 * EventNotifier sits in the main AioContext, so the device's handle_output and
 * all block I/O run in the main loop. (A kick that still reaches user space, if
 * KVM refused the ioeventfd, sets the same notifier.) Interrupts go out through
 * an irqfd on the device's GSI when KVM accepts one; otherwise only the
 * InterruptStatus register records them and the guest polls.
 *
 * Create before the VM starts (MMIO handler tables are fixed at start); destroy
 * after it has stopped.
 */
#ifndef GODWIT_HW_VIRTIO_MMIO_H
#define GODWIT_HW_VIRTIO_MMIO_H

#include "hw/virtio/virtio.h"
#include "sysemu/kvm.h"
#include "util/aio.h"
#include "hw/godwit-ports.h"

/* Register offsets */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC               0x74726976   /* "virt" */
#define VIRTIO_MMIO_VENDOR              0x54444f47   /* "GODT" */

typedef struct VirtIOMMIOProxy VirtIOMMIOProxy;

/*
 * Attach vdev at base (window GODWIT_VIRTIO_MMIO_SIZE bytes) with interrupt gsi
 * (< 0: none), guest RAM mem, kicks handled in ctx. Registers the MMIO handler and
 * one ioeventfd per queue. NULL with errp set on failure.
 */
VirtIOMMIOProxy *virtio_mmio_create(KvmVm *vm, uint64_t base, int gsi, VirtIODevice *vdev,
                                    VirtioGuestMem mem, AioContext *ctx, Error **errp);
void virtio_mmio_destroy(VirtIOMMIOProxy *proxy);
/* Kicks taken by ioeventfd vs. seen as MMIO exits (statistics for benchmarks). */
void virtio_mmio_get_stats(VirtIOMMIOProxy *proxy, uint64_t *kicks_eventfd,
                           uint64_t *kicks_exit);
bool virtio_mmio_has_irqfd(VirtIOMMIOProxy *proxy);

#endif /* GODWIT_HW_VIRTIO_MMIO_H */
