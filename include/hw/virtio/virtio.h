/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio.h: the device side of virtio 1.x: a VirtIODevice with its feature bits,
 * status and split virtqueues, independent of the transport (hw/virtio/virtio-mmio.c)
 * and of KVM, so the queue parsing can be unit-tested on a fake guest memory.
 *
 * Guest memory is one flat region of RAM at guest-physical 0 (VirtioGuestMem).
 * Every address, length and index read from the guest is checked before use:
 * a descriptor chain maps only bytes inside that region, is at most queue-size
 * descriptors long (so a loop ends as an error, never as a hang), may hold one
 * indirect table (no nesting, no INDIRECT|NEXT), and lists device-readable
 * buffers before device-writable ones. A queue whose driver breaks a rule is
 * marked broken: the device sets DEVICE_NEEDS_RESET and stops using it until
 * the driver resets the device.
 *
 * Buffers are mapped, not copied: a popped element's iovecs point straight into
 * guest RAM (zero-copy). Host writes through them are not seen by KVM's dirty log,
 * so the device reports them: with a dirty hook installed (migration), pushing an
 * element reports its device-writable buffers and the used ring, and rearming
 * reports avail_event.
 *
 * Threads: register state (features, status, queue addresses, ready) is written by
 * the transport on a vCPU thread and read by the main loop; both hold vdev->lock
 * around it. Queue processing (pop/push/notify) runs in the main loop only and
 * takes vdev->lock itself where it touches shared state. Nothing here yields.
 */
#ifndef GODWIT_HW_VIRTIO_H
#define GODWIT_HW_VIRTIO_H

#include "util/osdep.h"
#include "util/event-notifier.h"

#include <pthread.h>
#include <sys/uio.h>

/* ---- spec constants (virtio 1.1) ---- */

/* Device status bits */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE      1
#define VIRTIO_CONFIG_S_DRIVER           2
#define VIRTIO_CONFIG_S_DRIVER_OK        4
#define VIRTIO_CONFIG_S_FEATURES_OK      8
#define VIRTIO_CONFIG_S_NEEDS_RESET      0x40
#define VIRTIO_CONFIG_S_FAILED           0x80

/* Device-independent feature bits */
#define VIRTIO_RING_F_INDIRECT_DESC      28
#define VIRTIO_RING_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1               32

/* Split virtqueue layout */
#define VRING_DESC_F_NEXT                1
#define VRING_DESC_F_WRITE               2
#define VRING_DESC_F_INDIRECT            4
#define VRING_AVAIL_F_NO_INTERRUPT       1
#define VRING_USED_F_NO_NOTIFY           1

typedef struct VRingDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VRingDesc;

typedef struct VRingUsedElem {
    uint32_t id;
    uint32_t len;
} VRingUsedElem;

/*
 * Sizes of the three areas for a queue of num entries: descriptor table
 * (16-byte aligned), driver area "avail" (flags, idx, ring[num], used_event;
 * 2-byte aligned), device area "used" (flags, idx, ring[num], avail_event;
 * 4-byte aligned).
 */
#define VRING_DESC_SIZE(num)   ((uint64_t)(num) * 16)
#define VRING_AVAIL_SIZE(num)  (6 + 2 * (uint64_t)(num))
#define VRING_USED_SIZE(num)   (6 + 8 * (uint64_t)(num))

/* Does crossing from old to new_idx pass event (EVENT_IDX)? All mod 2^16. */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* ---- limits ---- */
#define VIRTQUEUE_MAX_SIZE     1024   /* largest queue we offer (QueueNumMax) */
#define VIRTQUEUE_MAX_SG       1024   /* mapped buffers per element, in + out */
#define VIRTIO_MAX_QUEUES      8

/* ---- guest memory ---- */

typedef struct VirtioGuestMem {
    uint8_t *base;                /* host address of guest-physical 0 */
    uint64_t size;                /* bytes of RAM from guest-physical 0 */
} VirtioGuestMem;

/* Host pointer for [gpa, gpa + len) if it lies inside RAM (no overflow), else NULL. */
static inline void *virtio_gpa_map(const VirtioGuestMem *mem, uint64_t gpa, uint64_t len)
{
    if (gpa > mem->size || len > mem->size - gpa) {
        return NULL;
    }
    return mem->base + gpa;
}

/* ---- queues and elements ---- */

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;
typedef void VirtIOHandleOutput(VirtIODevice *vdev, VirtQueue *vq);

/*
 * A popped descriptor chain. out_sg: device-readable buffers, in_sg:
 * device-writable ones, both pointing into guest RAM. Allocated by virtqueue_pop
 * as the first member of a caller-sized struct; free it with g_free.
 */
typedef struct VirtQueueElement {
    unsigned index;               /* head descriptor: the used element's id */
    unsigned out_num;
    unsigned in_num;
    uint64_t out_len;             /* bytes in out_sg / in_sg */
    uint64_t in_len;
    uint64_t reset_gen;           /* vdev->reset_gen when popped */
    struct iovec *out_sg;
    struct iovec *in_sg;
} VirtQueueElement;

/*
 * One split virtqueue. Set by the driver through the transport (under vdev->lock):
 * num, desc/avail/used addresses, ready. Main loop only: the indexes.
 */
struct VirtQueue {
    VirtIODevice *vdev;
    unsigned index;
    uint16_t num_max;
    uint16_t num;                 /* 0: not configured */
    bool ready;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* host mappings, valid while ready (checked once when the driver enables it) */
    VRingDesc *desc;
    uint16_t *avail;              /* [0] flags, [1] idx, [2..] ring, [2+num] used_event */
    uint16_t *used;               /* [0] flags, [1] idx, then the ring, then avail_event */

    uint16_t last_avail_idx;      /* next avail entry to pop */
    uint16_t used_idx;            /* next used entry to fill (shadow of used->idx) */
    uint16_t signalled_used;      /* used_idx at the last notify decision */
    bool signalled_used_valid;
    unsigned inuse;               /* popped, not pushed */

    EventNotifier host_notifier;  /* the guest's kick (ioeventfd) */
    VirtIOHandleOutput *handle_output;
    uint64_t nr_notify, nr_irq;   /* statistics: decisions to interrupt, kicks handled */
};

/* Device callbacks. All run with vdev->lock held, except handle_output. */
typedef struct VirtIODeviceOps {
    /* Fill config (size vdev->config_len) from the device's state. */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* The driver wrote the config space (already copied into config). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /*
     * Reset the device state. Runs once no element is in flight any more (every
     * popped element was pushed), so no request still writes into guest RAM.
     */
    void (*reset)(VirtIODevice *vdev);
} VirtIODeviceOps;

/*
 * Transport hook: raise the interrupt (irqfd) after the core set bits in vdev->isr
 * (1: used buffer, 2: configuration change). Called with vdev->lock held, from the
 * main loop or a vCPU thread; must not block.
 */
/* Guest RAM [gpa, gpa + len) was written by the device (called with vdev->lock held). */
typedef void VirtioDirtyFn(void *opaque, uint64_t gpa, uint64_t len);

typedef struct VirtioTransportOps {
    void (*notify)(void *opaque, unsigned isr_bits);
} VirtioTransportOps;

struct VirtIODevice {
    const char *name;
    uint32_t device_id;
    const VirtIODeviceOps *ops;
    pthread_mutex_t lock;

    /* protected by lock */
    uint64_t host_features;
    uint64_t guest_features;
    uint8_t status;
    uint32_t isr;
    uint32_t config_generation;
    bool broken;                  /* the driver broke a rule: NEEDS_RESET set */
    bool reset_pending;           /* status 0 written; waiting for in-flight requests */
    uint64_t reset_gen;           /* counts completed resets */
    size_t config_len;
    uint8_t *config;

    VirtioGuestMem mem;
    unsigned nr_queues;
    VirtQueue vq[VIRTIO_MAX_QUEUES];

    const VirtioTransportOps *transport;
    void *transport_opaque;

    /* protected by lock: who hears about device writes to guest RAM (NULL: nobody) */
    VirtioDirtyFn *dirty_fn;
    void *dirty_opaque;
};

/* Install (or remove, fn NULL) the dirty hook; takes vdev->lock. */
void virtio_set_dirty_hook(VirtIODevice *vdev, VirtioDirtyFn *fn, void *opaque);

/* Initialise vdev (embedded in the device struct) with nr_queues of num_max each. */
void virtio_init(VirtIODevice *vdev, const char *name, uint32_t device_id,
                 const VirtIODeviceOps *ops, size_t config_len, uint64_t host_features,
                 unsigned nr_queues, uint16_t num_max, VirtIOHandleOutput *handle);
void virtio_cleanup(VirtIODevice *vdev);
void virtio_set_guest_mem(VirtIODevice *vdev, VirtioGuestMem mem);

static inline bool virtio_vdev_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return vdev->guest_features & (1ULL << bit);
}

/*
 * Enable or disable a queue (the QueueReady register). Enabling checks that num is a
 * power of two <= num_max and that the three areas are aligned and inside RAM;
 * returns false (queue stays disabled) otherwise. Caller holds vdev->lock.
 */
bool virtio_queue_set_ready(VirtQueue *vq, bool ready);

/*
 * The driver wrote the status register. Caller holds lock. 0 starts a reset: it
 * completes at once if no element is in flight, else when the last one is pushed;
 * until then the status register keeps its old value (the driver polls for 0).
 */
void virtio_set_status(VirtIODevice *vdev, uint8_t val);
/* Elements popped and not yet pushed, over all queues. Caller holds lock. */
unsigned virtio_inuse(VirtIODevice *vdev);

/*
 * Can the main loop use the queue now: ready, device DRIVER_OK, not broken, no
 * reset pending. Caller holds lock.
 */
bool virtio_queue_usable(VirtQueue *vq);

/*
 * Take the next available chain. Returns a g_malloc'd struct of sz bytes
 * (sz >= sizeof(VirtQueueElement)) whose first member is the element, NULL if the
 * queue is empty or unusable; on a driver bug sets *err to -EINVAL (and marks the
 * device broken) and returns NULL. Main loop; takes vdev->lock.
 */
void *virtqueue_pop(VirtQueue *vq, size_t sz, int *err);
/*
 * Return an element to the driver with len bytes written to its in buffers, and
 * publish it (used->idx, release ordering). Frees nothing. Dropped silently if
 * the device was reset since the element was popped. Main loop; takes lock.
 */
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len);
/*
 * After the queue ran empty: with EVENT_IDX publish avail_event so the driver kicks
 * on its next buffer, then look again; true if more buffers arrived meanwhile.
 */
bool virtqueue_rearm(VirtQueue *vq);
/* Does the driver want an interrupt for what was pushed since the last call? */
bool virtqueue_should_notify(VirtQueue *vq);
/* If virtqueue_should_notify, set ISR bit 0 and call the transport's notify. */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);

/* Mark the device broken (NEEDS_RESET, config interrupt) with a reason on stderr. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...) GODWIT_PRINTF(2, 3);

#endif /* GODWIT_HW_VIRTIO_H */
