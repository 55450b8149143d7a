/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio.c: device status, features and the split virtqueue (virtio 1.1, 2.6).
 *
 * Split virtqueue of num entries, all little-endian, in guest RAM:
 *
 *   descriptor table  num x { le64 addr; le32 len; le16 flags; le16 next; }
 *   driver area       le16 flags; le16 idx; le16 ring[num]; le16 used_event;
 *   device area       le16 flags; le16 idx; { le32 id; le32 len; } ring[num];
 *                     le16 avail_event;
 *
 * The driver writes descriptors and ring[idx % num] = head, then bumps avail idx;
 * the device reads a chain from each head and returns it in the used ring. Each
 * side only ever writes its own area, so the ordering we need is: load avail idx
 * (acquire) before the entries it covers, and store the used entry before used
 * idx (release). Guest memory may change under us at any time, so every field is
 * copied into a local once and checked there.
 */
#include "util/osdep.h"
#include "hw/virtio/virtio.h"

#include <stdarg.h>

/* ---- device ---- */

void virtio_init(VirtIODevice *vdev, const char *name, uint32_t device_id,
                 const VirtIODeviceOps *ops, size_t config_len, uint64_t host_features,
                 unsigned nr_queues, uint16_t num_max, VirtIOHandleOutput *handle)
{
    assert(nr_queues <= VIRTIO_MAX_QUEUES && num_max <= VIRTQUEUE_MAX_SIZE);
    vdev->name = name;
    vdev->device_id = device_id;
    vdev->ops = ops;
    pthread_mutex_init(&vdev->lock, NULL);
    vdev->host_features = host_features;
    vdev->config_len = config_len;
    vdev->config = g_malloc0(config_len ? config_len : 1);
    vdev->nr_queues = nr_queues;
    for (unsigned i = 0; i < nr_queues; i++) {
        VirtQueue *vq = &vdev->vq[i];
        vq->vdev = vdev;
        vq->index = i;
        vq->num_max = num_max;
        vq->handle_output = handle;
        vq->host_notifier.fd = -1;
    }
}

void virtio_cleanup(VirtIODevice *vdev)
{
    g_free(vdev->config);
    vdev->config = NULL;
    pthread_mutex_destroy(&vdev->lock);
}

void virtio_set_guest_mem(VirtIODevice *vdev, VirtioGuestMem mem)
{
    vdev->mem = mem;
}

static void virtio_raise(VirtIODevice *vdev, unsigned bits)
{
    vdev->isr |= bits;
    if (vdev->transport && vdev->transport->notify) {
        vdev->transport->notify(vdev->transport_opaque, bits);
    }
}

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (vdev->broken) {
        return;                              /* one message per reset: the guest controls this */
    }
    fprintf(stderr, "%s: guest driver error: %s\n", vdev->name, msg);
    vdev->broken = true;
    if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        vdev->config_generation++;
        virtio_raise(vdev, 2);
    }
}

static void virtio_queue_reset(VirtQueue *vq)
{
    vq->num = 0;
    vq->ready = false;
    vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
    vq->desc = NULL;
    vq->avail = vq->used = NULL;
    vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->inuse = 0;
}

static void virtio_do_reset(VirtIODevice *vdev)
{
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    vdev->guest_features = 0;
    vdev->status = 0;
    vdev->isr = 0;
    vdev->broken = false;
    vdev->reset_pending = false;
    vdev->reset_gen++;
    for (unsigned i = 0; i < vdev->nr_queues; i++) {
        virtio_queue_reset(&vdev->vq[i]);
    }
}

unsigned virtio_inuse(VirtIODevice *vdev)
{
    unsigned n = 0;

    for (unsigned i = 0; i < vdev->nr_queues; i++) {
        n += vdev->vq[i].inuse;
    }
    return n;
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val)
{
    if (val == 0) {
        for (unsigned i = 0; i < vdev->nr_queues; i++) {
            vdev->vq[i].ready = false;       /* stop popping at once */
        }
        vdev->reset_pending = true;
        if (!virtio_inuse(vdev)) {
            virtio_do_reset(vdev);
        }
        return;
    }
    if (vdev->reset_pending) {
        return;                              /* the driver must wait for status 0 */
    }
    if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        /* Refuse a modern driver's feature set that lacks VERSION_1 or adds bits we lack. */
        if (!(vdev->guest_features & (1ULL << VIRTIO_F_VERSION_1)) ||
            (vdev->guest_features & ~vdev->host_features)) {
            val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        }
    }
    vdev->status = val | (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static bool is_pow2(unsigned x)
{
    return x && !(x & (x - 1));
}

bool virtio_queue_set_ready(VirtQueue *vq, bool ready)
{
    VirtIODevice *vdev = vq->vdev;

    if (!ready) {
        vq->ready = false;
        return true;
    }
    if (!is_pow2(vq->num) || vq->num > vq->num_max) {
        virtio_error(vdev, "queue %u: size %u is not a power of two up to %u", vq->index,
                     vq->num, vq->num_max);
        return false;
    }
    if (vq->desc_gpa % 16 || vq->avail_gpa % 2 || vq->used_gpa % 4) {
        virtio_error(vdev, "queue %u: misaligned ring address", vq->index);
        return false;
    }
    vq->desc = virtio_gpa_map(&vdev->mem, vq->desc_gpa, VRING_DESC_SIZE(vq->num));
    vq->avail = virtio_gpa_map(&vdev->mem, vq->avail_gpa, VRING_AVAIL_SIZE(vq->num));
    vq->used = virtio_gpa_map(&vdev->mem, vq->used_gpa, VRING_USED_SIZE(vq->num));
    if (!vq->desc || !vq->avail || !vq->used) {
        virtio_error(vdev, "queue %u: ring outside guest RAM", vq->index);
        vq->desc = NULL;
        vq->avail = vq->used = NULL;
        return false;
    }
    vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->ready = true;
    return true;
}

bool virtio_queue_usable(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;

    return vq->ready && !vdev->broken && !vdev->reset_pending &&
           (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK);
}

/* ---- guest memory accessors (the guest may write them concurrently) ---- */

static inline uint16_t vq_load16(const uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint16_t vq_avail_idx_acquire(VirtQueue *vq)
{
    return __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
}

static inline VRingDesc vq_read_desc(const VRingDesc *table, unsigned i)
{
    VRingDesc d;
    const volatile uint8_t *src = (const volatile uint8_t *)&table[i];
    uint8_t *dst = (uint8_t *)&d;

    for (unsigned k = 0; k < sizeof(d); k++) {
        dst[k] = src[k];                     /* one read of each byte: validate the copy */
    }
    return d;
}

/* ---- popping a chain ---- */

typedef struct ChainWalk {
    struct iovec sg[VIRTQUEUE_MAX_SG];
    unsigned nsg;
    unsigned out_num;
    uint64_t out_len, in_len;
    bool writable_seen;
} ChainWalk;

static bool chain_add(VirtIODevice *vdev, ChainWalk *w, const VRingDesc *d)
{
    bool write = d->flags & VRING_DESC_F_WRITE;

    if (!write && w->writable_seen) {
        virtio_error(vdev, "readable descriptor after a writable one");
        return false;
    }
    w->writable_seen |= write;
    if (!d->len) {
        return true;                          /* nothing to map */
    }
    void *p = virtio_gpa_map(&vdev->mem, d->addr, d->len);
    if (!p) {
        virtio_error(vdev, "buffer 0x%" PRIx64 "+0x%x outside guest RAM", d->addr, d->len);
        return false;
    }
    uint64_t *total = write ? &w->in_len : &w->out_len;
    if (*total + d->len > UINT32_MAX) {
        virtio_error(vdev, "chain longer than 4 GiB");
        return false;
    }
    if (w->nsg == VIRTQUEUE_MAX_SG) {
        virtio_error(vdev, "chain has more than %d buffers", VIRTQUEUE_MAX_SG);
        return false;
    }
    *total += d->len;
    w->sg[w->nsg++] = (struct iovec) { .iov_base = p, .iov_len = d->len };
    if (!write) {
        w->out_num++;
    }
    return true;
}

/*
 * Walk the chain starting at head in table (size entries). At most size
 * descriptors are visited, so a loop is reported instead of followed forever.
 */
static bool chain_walk(VirtQueue *vq, ChainWalk *w, const VRingDesc *table, unsigned size,
                       unsigned head, bool indirect)
{
    VirtIODevice *vdev = vq->vdev;
    unsigned i = head, count = 0;

    for (;;) {
        if (i >= size) {
            virtio_error(vdev, "queue %u: descriptor index %u out of range (%u)", vq->index, i,
                         size);
            return false;
        }
        if (++count > size) {
            virtio_error(vdev, "queue %u: descriptor chain loops or exceeds %u entries",
                         vq->index, size);
            return false;
        }
        VRingDesc d = vq_read_desc(table, i);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (indirect || (d.flags & VRING_DESC_F_NEXT) ||
                !virtio_vdev_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC)) {
                virtio_error(vdev, "queue %u: invalid indirect descriptor", vq->index);
                return false;
            }
            if (!d.len || d.len % sizeof(VRingDesc) ||
                d.len / sizeof(VRingDesc) > VIRTQUEUE_MAX_SIZE) {
                virtio_error(vdev, "queue %u: bad indirect table size %u", vq->index, d.len);
                return false;
            }
            const VRingDesc *t = virtio_gpa_map(&vdev->mem, d.addr, d.len);
            if (!t) {
                virtio_error(vdev, "queue %u: indirect table outside guest RAM", vq->index);
                return false;
            }
            return chain_walk(vq, w, t, d.len / sizeof(VRingDesc), 0, true);
        }
        if (!chain_add(vdev, w, &d)) {
            return false;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
    }
}

static VirtQueueElement *elem_alloc(const ChainWalk *w, size_t sz)
{
    size_t off = ROUND_UP(sz, __alignof__(struct iovec));
    uint8_t *mem = g_malloc0(off + w->nsg * sizeof(struct iovec));
    VirtQueueElement *elem = (VirtQueueElement *)mem;

    elem->out_sg = (struct iovec *)(mem + off);
    elem->in_sg = elem->out_sg + w->out_num;
    elem->out_num = w->out_num;
    elem->in_num = w->nsg - w->out_num;
    elem->out_len = w->out_len;
    elem->in_len = w->in_len;
    memcpy(elem->out_sg, w->sg, w->nsg * sizeof(struct iovec));
    return elem;
}

static void *virtqueue_pop_locked(VirtQueue *vq, size_t sz, int *err)
{
    VirtIODevice *vdev = vq->vdev;

    if (!virtio_queue_usable(vq)) {
        return NULL;
    }
    uint16_t avail_idx = vq_avail_idx_acquire(vq);
    uint16_t pending = avail_idx - vq->last_avail_idx;
    if (pending > vq->num) {
        virtio_error(vdev, "queue %u: avail idx %u is %u entries ahead of %u (size %u)",
                     vq->index, avail_idx, pending, vq->last_avail_idx, vq->num);
        *err = -EINVAL;
        return NULL;
    }
    if (!pending) {
        return NULL;
    }
    unsigned head = vq_load16(&vq->avail[2 + vq->last_avail_idx % vq->num]);
    g_autofree ChainWalk *w = g_new(ChainWalk, 1);
    w->nsg = w->out_num = 0;
    w->out_len = w->in_len = 0;
    w->writable_seen = false;
    if (!chain_walk(vq, w, vq->desc, vq->num, head, false)) {
        *err = -EINVAL;
        return NULL;
    }
    vq->last_avail_idx++;
    vq->inuse++;
    VirtQueueElement *elem = elem_alloc(w, sz);
    elem->index = head;
    elem->reset_gen = vdev->reset_gen;
    return elem;
}

void *virtqueue_pop(VirtQueue *vq, size_t sz, int *err)
{
    VirtIODevice *vdev = vq->vdev;

    assert(sz >= sizeof(VirtQueueElement));
    *err = 0;
    pthread_mutex_lock(&vdev->lock);
    void *elem = virtqueue_pop_locked(vq, sz, err);
    pthread_mutex_unlock(&vdev->lock);
    return elem;
}

void virtio_set_dirty_hook(VirtIODevice *vdev, VirtioDirtyFn *fn, void *opaque)
{
    pthread_mutex_lock(&vdev->lock);
    vdev->dirty_fn = fn;
    vdev->dirty_opaque = opaque;
    pthread_mutex_unlock(&vdev->lock);
}

/* Report the device-writable buffers of elem and the used ring to the dirty hook. */
static void virtio_mark_dirty_locked(VirtQueue *vq, const VirtQueueElement *elem)
{
    VirtIODevice *vdev = vq->vdev;

    if (!vdev->dirty_fn) {
        return;
    }
    for (unsigned i = 0; elem && i < elem->in_num; i++) {
        uint64_t gpa = (uint8_t *)elem->in_sg[i].iov_base - vdev->mem.base;
        vdev->dirty_fn(vdev->dirty_opaque, gpa, elem->in_sg[i].iov_len);
    }
    if (vq->used) {
        vdev->dirty_fn(vdev->dirty_opaque, vq->used_gpa, VRING_USED_SIZE(vq->num));
    }
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len)
{
    VirtIODevice *vdev = vq->vdev;

    pthread_mutex_lock(&vdev->lock);
    if (elem->reset_gen != vdev->reset_gen) {
        pthread_mutex_unlock(&vdev->lock);   /* the queue it came from is gone */
        return;
    }
    assert(vq->inuse > 0);
    vq->inuse--;
    if (vq->used) {
        VRingUsedElem u = { .id = elem->index, .len = len };
        VRingUsedElem *slot = (VRingUsedElem *)(vq->used + 2) + vq->used_idx % vq->num;
        memcpy(slot, &u, sizeof(u));
        vq->used_idx++;
        __atomic_store_n(&vq->used[1], vq->used_idx, __ATOMIC_RELEASE);
    }
    virtio_mark_dirty_locked(vq, elem);
    if (vdev->reset_pending && !virtio_inuse(vdev)) {
        virtio_do_reset(vdev);
    }
    pthread_mutex_unlock(&vdev->lock);
}

bool virtqueue_rearm(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;
    bool more = false;

    pthread_mutex_lock(&vdev->lock);
    if (virtio_queue_usable(vq)) {
        if (virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
            uint16_t *avail_event = (uint16_t *)((VRingUsedElem *)(vq->used + 2) + vq->num);
            __atomic_store_n(avail_event, vq->last_avail_idx, __ATOMIC_RELAXED);
            virtio_mark_dirty_locked(vq, NULL);
        }
        /* Publish avail_event before looking at avail idx again (store-load order). */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        more = vq_avail_idx_acquire(vq) != vq->last_avail_idx;
    }
    pthread_mutex_unlock(&vdev->lock);
    return more;
}

static bool virtqueue_should_notify_locked(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;

    if (!vq->avail) {
        return false;
    }
    /* Order the used idx store before reading what the driver asked for. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return !(vq_load16(&vq->avail[0]) & VRING_AVAIL_F_NO_INTERRUPT);
    }
    uint16_t old = vq->signalled_used, now = vq->used_idx;
    bool valid = vq->signalled_used_valid;
    vq->signalled_used = now;
    vq->signalled_used_valid = true;
    if (old == now && valid) {
        return false;
    }
    uint16_t used_event = vq_load16(&vq->avail[2 + vq->num]);
    return !valid || vring_need_event(used_event, now, old);
}

bool virtqueue_should_notify(VirtQueue *vq)
{
    pthread_mutex_lock(&vq->vdev->lock);
    bool ret = virtqueue_should_notify_locked(vq);
    pthread_mutex_unlock(&vq->vdev->lock);
    return ret;
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    pthread_mutex_lock(&vdev->lock);
    if (virtqueue_should_notify_locked(vq)) {
        vq->nr_irq++;
        virtio_raise(vdev, 1);
    }
    pthread_mutex_unlock(&vdev->lock);
}
