/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for the split virtqueue (hw/virtio/virtio.c) as a hostile guest
 * drives it, without KVM. The input is a small program followed by the initial
 * guest RAM:
 *
 *   byte 0..1   program length P (le16, capped by the input)
 *   P bytes     operations (below), each an opcode byte and its arguments
 *   the rest    copied to the start of a 16 KiB guest RAM (the rest is zero)
 *
 * Operations are what a driver can do through the virtio-mmio transport (queue
 * registers change only while the queue is not ready, as the transport enforces)
 * or by writing its own RAM, and what the device does: pop a chain (then read
 * every out buffer and fill every in buffer, so ASan sees a stray mapping),
 * push an in-flight element back, rearm, notify. Elements still in flight at
 * the end are pushed, then the device is reset and freed.
 */
#include "util/osdep.h"
#include "hw/virtio/virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RAM_SIZE   (16 * 1024)
#define FUZZ_NR_QUEUES  2
#define FUZZ_INFLIGHT   64

typedef struct FuzzVq {
    const uint8_t *p, *end;       /* the program */
    VirtIODevice vdev;
    unsigned sel;                 /* QueueSel */
    VirtQueueElement *inflight[FUZZ_INFLIGHT];
    VirtQueue *inflight_vq[FUZZ_INFLIGHT];
    unsigned ninflight;
} FuzzVq;

static uint64_t fuzz_arg(FuzzVq *f, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes && f->p < f->end; i++) {
        v |= (uint64_t)*f->p++ << (8 * i);
    }
    return v;
}

static const VirtIODeviceOps fuzz_ops = { 0 };

static void fuzz_notify(void *opaque, unsigned bits)
{
}

static const VirtioTransportOps fuzz_transport = { .notify = fuzz_notify };

static void fuzz_handle(VirtIODevice *vdev, VirtQueue *vq)
{
}

static void fuzz_use_elem(const VirtQueueElement *e)
{
    volatile uint8_t sum = 0;

    for (unsigned i = 0; i < e->out_num; i++) {
        const uint8_t *b = e->out_sg[i].iov_base;
        for (size_t k = 0; k < e->out_sg[i].iov_len; k++) {
            sum += b[k];
        }
    }
    for (unsigned i = 0; i < e->in_num; i++) {
        memset(e->in_sg[i].iov_base, 0x5a, e->in_sg[i].iov_len);
    }
    (void)sum;
}

static void fuzz_push(FuzzVq *f, unsigned slot, uint32_t len)
{
    VirtQueueElement *e = f->inflight[slot];

    virtqueue_push(f->inflight_vq[slot], e, len);
    g_free(e);
    f->inflight[slot] = f->inflight[--f->ninflight];
    f->inflight_vq[slot] = f->inflight_vq[f->ninflight];
}

/* A register write as virtio-mmio makes it: under the lock, live queues frozen. */
static void fuzz_queue_reg(FuzzVq *f, unsigned op)
{
    VirtQueue *vq = &f->vdev.vq[f->sel];
    uint64_t v = fuzz_arg(f, op == 1 ? 2 : op == 5 ? 1 : 4);

    pthread_mutex_lock(&f->vdev.lock);
    if (!vq->ready || op == 5) {
        switch (op) {
        case 1: vq->num = v; break;
        case 2: vq->desc_gpa = v; break;
        case 3: vq->avail_gpa = v; break;
        case 4: vq->used_gpa = v; break;
        case 5: virtio_queue_set_ready(vq, v & 1); break;
        }
    }
    pthread_mutex_unlock(&f->vdev.lock);
}

static void fuzz_run(FuzzVq *f)
{
    VirtIODevice *vdev = &f->vdev;
    uint8_t *ram = vdev->mem.base;

    while (f->p < f->end) {
        unsigned op = *f->p++ % 13;
        VirtQueue *vq = &vdev->vq[f->sel];
        int err;

        switch (op) {
        case 0:                                   /* QueueSel */
            f->sel = fuzz_arg(f, 1) % FUZZ_NR_QUEUES;
            break;
        case 1: case 2: case 3: case 4: case 5:   /* QueueNum, addresses, QueueReady */
            fuzz_queue_reg(f, op);
            break;
        case 6: {                                 /* Status */
            uint8_t st = fuzz_arg(f, 1);
            pthread_mutex_lock(&vdev->lock);
            virtio_set_status(vdev, st);
            pthread_mutex_unlock(&vdev->lock);
            break;
        }
        case 7: {                                 /* DriverFeatures: a few bits that matter */
            uint8_t b = fuzz_arg(f, 1);
            pthread_mutex_lock(&vdev->lock);
            if (!(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
                vdev->guest_features = (b & 1 ? 1ULL << VIRTIO_F_VERSION_1 : 0) |
                                       (b & 2 ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0) |
                                       (b & 4 ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0) |
                                       (b & 8 ? 1ULL << 40 : 0);
            }
            pthread_mutex_unlock(&vdev->lock);
            break;
        }
        case 8: {                                 /* the guest writes 2 bytes of its RAM */
            uint16_t off = fuzz_arg(f, 2) % (FUZZ_RAM_SIZE - 1);
            uint16_t v = fuzz_arg(f, 2);
            memcpy(ram + off, &v, 2);
            break;
        }
        case 9: {                                 /* device: pop */
            if (f->ninflight == FUZZ_INFLIGHT) {
                break;
            }
            VirtQueueElement *e = virtqueue_pop(vq, sizeof(*e) + (fuzz_arg(f, 1) & 31), &err);
            assert(!e || !err);
            if (e) {
                assert(e->index < vq->num);
                assert(e->out_num + e->in_num <= VIRTQUEUE_MAX_SG);
                fuzz_use_elem(e);
                f->inflight[f->ninflight] = e;
                f->inflight_vq[f->ninflight++] = vq;
            }
            break;
        }
        case 10: {                                /* device: push */
            unsigned slot = fuzz_arg(f, 1);
            uint32_t len = fuzz_arg(f, 4);
            if (f->ninflight) {
                fuzz_push(f, slot % f->ninflight, len);
            }
            break;
        }
        case 11:                                  /* device: queue ran empty */
            virtqueue_rearm(vq);
            break;
        case 12:                                  /* device: interrupt decision */
            virtio_notify(vdev, vq);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzVq *f = g_new0(FuzzVq, 1);
    uint8_t *ram = g_malloc0(FUZZ_RAM_SIZE);
    size_t plen = size >= 2 ? MIN((size_t)(data[0] | data[1] << 8), size - 2) : 0;

    f->p = data + MIN(size, 2);
    f->end = f->p + plen;
    memcpy(ram, f->end, MIN(size - (f->end - data), (size_t)FUZZ_RAM_SIZE));
    virtio_init(&f->vdev, "fuzz-vq", 2, &fuzz_ops, 0,
                (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
                (1ULL << VIRTIO_RING_F_EVENT_IDX), FUZZ_NR_QUEUES, 256, fuzz_handle);
    virtio_set_guest_mem(&f->vdev, (VirtioGuestMem) { .base = ram, .size = FUZZ_RAM_SIZE });
    f->vdev.transport = &fuzz_transport;
    f->vdev.transport_opaque = f;

    fuzz_run(f);

    while (f->ninflight) {
        fuzz_push(f, 0, 0);
    }
    pthread_mutex_lock(&f->vdev.lock);
    virtio_set_status(&f->vdev, 0);
    assert(f->vdev.status == 0 && !f->vdev.reset_pending);
    pthread_mutex_unlock(&f->vdev.lock);
    virtio_cleanup(&f->vdev);
    g_free(ram);
    g_free(f);
    return 0;
}
