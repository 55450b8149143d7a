/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio-mmio.c: probe, feature negotiation and the split virtqueue of the test
 * guest's polling virtio-blk driver (see virtio.h).
 */
#include "virtio.h"

#define REG_MAGIC        0x000
#define REG_VERSION      0x004
#define REG_DEVICE_ID    0x008
#define REG_DEV_FEAT     0x010
#define REG_DEV_FEAT_SEL 0x014
#define REG_DRV_FEAT     0x020
#define REG_DRV_FEAT_SEL 0x024
#define REG_QUEUE_SEL    0x030
#define REG_QUEUE_MAX    0x034
#define REG_QUEUE_NUM    0x038
#define REG_QUEUE_READY  0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_STATUS       0x070
#define REG_DESC_LO      0x080
#define REG_DESC_HI      0x084
#define REG_DRIVER_LO    0x090
#define REG_DRIVER_HI    0x094
#define REG_DEVICE_LO    0x0a0
#define REG_DEVICE_HI    0x0a4
#define REG_CONFIG_GEN   0x0fc
#define REG_CONFIG       0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

#define F_BLK_SEG_MAX      (1ULL << 2)
#define F_BLK_RO           (1ULL << 5)
#define F_BLK_BLK_SIZE     (1ULL << 6)
#define F_BLK_FLUSH        (1ULL << 9)
#define F_BLK_TOPOLOGY     (1ULL << 10)
#define F_BLK_DISCARD      (1ULL << 13)
#define F_BLK_WRITE_ZEROES (1ULL << 14)
#define F_EVENT_IDX        (1ULL << 29)
#define F_VERSION_1        (1ULL << 32)

#define DESC_F_NEXT  1
#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1

static inline uint32_t rd32(VirtioBlk *d, unsigned off)
{
    return *(volatile uint32_t *)(d->mmio + off);
}

static inline void wr32(VirtioBlk *d, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(d->mmio + off) = v;
}

static inline void barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

static inline void mb(void)
{
    __asm__ volatile("mfence" ::: "memory");
}

uint32_t vblk_status(VirtioBlk *d)
{
    return rd32(d, REG_STATUS);
}

static uint64_t vblk_config64(VirtioBlk *d, unsigned off)
{
    uint32_t gen, lo, hi;

    do {
        gen = rd32(d, REG_CONFIG_GEN);
        lo = rd32(d, REG_CONFIG + off);
        hi = rd32(d, REG_CONFIG + off + 4);
    } while (gen != rd32(d, REG_CONFIG_GEN));
    return ((uint64_t)hi << 32) | lo;
}

static int vblk_negotiate(VirtioBlk *d, bool event_idx)
{
    wr32(d, REG_DEV_FEAT_SEL, 0);
    uint64_t dev = rd32(d, REG_DEV_FEAT);
    wr32(d, REG_DEV_FEAT_SEL, 1);
    dev |= (uint64_t)rd32(d, REG_DEV_FEAT) << 32;
    uint64_t want = F_VERSION_1 | F_BLK_SEG_MAX | F_BLK_BLK_SIZE | F_BLK_FLUSH |
                    F_BLK_TOPOLOGY | F_BLK_DISCARD | F_BLK_WRITE_ZEROES | F_BLK_RO |
                    (event_idx ? F_EVENT_IDX : 0);
    if (!(dev & F_VERSION_1)) {
        printf("virtio-blk: device lacks VERSION_1 (features 0x%lx)\n", dev);
        return -1;
    }
    d->features = dev & want;
    wr32(d, REG_DRV_FEAT_SEL, 0);
    wr32(d, REG_DRV_FEAT, (uint32_t)d->features);
    wr32(d, REG_DRV_FEAT_SEL, 1);
    wr32(d, REG_DRV_FEAT, (uint32_t)(d->features >> 32));
    wr32(d, REG_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(rd32(d, REG_STATUS) & S_FEATURES_OK)) {
        printf("virtio-blk: device refused features 0x%lx\n", d->features);
        return -1;
    }
    d->event_idx = d->features & F_EVENT_IDX;
    return 0;
}

static int vblk_setup_queue(VirtioBlk *d, unsigned qsize, uintptr_t base)
{
    wr32(d, REG_QUEUE_SEL, 0);
    unsigned max = rd32(d, REG_QUEUE_MAX);
    if (!max) {
        printf("virtio-blk: queue 0 does not exist\n");
        return -1;
    }
    d->qsize = qsize < max ? qsize : max;
    d->desc = (VDesc *)base;
    d->avail = (volatile uint16_t *)(base + 16 * d->qsize);
    d->used = (volatile uint16_t *)(base + ((16 * d->qsize + 6 + 2 * d->qsize + 4095) & ~4095UL));
    memset((void *)base, 0, 16 * 1024);
    d->nslots = d->qsize / 3 < VBLK_MAX_SLOTS ? d->qsize / 3 : VBLK_MAX_SLOTS;
    d->slots = (VBlkSlot *)(base + 12 * 1024);
    memset(d->slots, 0, sizeof(VBlkSlot) * VBLK_MAX_SLOTS);
    if (!d->want_irq) {
        d->avail[0] = AVAIL_F_NO_INTERRUPT;
        d->avail[2 + d->qsize] = 0x8000;      /* used_event out of reach */
    }
    wr32(d, REG_QUEUE_NUM, d->qsize);
    wr32(d, REG_DESC_LO, (uint32_t)(uintptr_t)d->desc);
    wr32(d, REG_DESC_HI, 0);
    wr32(d, REG_DRIVER_LO, (uint32_t)(uintptr_t)d->avail);
    wr32(d, REG_DRIVER_HI, 0);
    wr32(d, REG_DEVICE_LO, (uint32_t)(uintptr_t)d->used);
    wr32(d, REG_DEVICE_HI, 0);
    wr32(d, REG_QUEUE_READY, 1);
    if (rd32(d, REG_QUEUE_READY) != 1) {
        printf("virtio-blk: device refused queue 0 (size %u)\n", d->qsize);
        return -1;
    }
    return 0;
}

int vblk_init(VirtioBlk *d, unsigned n, unsigned qsize, bool event_idx, bool want_irq,
              uintptr_t ring_base)
{
    memset(d, 0, sizeof(*d));
    d->mmio = (uintptr_t)(GODWIT_VIRTIO_MMIO_BASE + n * GODWIT_VIRTIO_MMIO_STRIDE);
    d->want_irq = want_irq;
    if (rd32(d, REG_MAGIC) != 0x74726976 || rd32(d, REG_VERSION) != 2 ||
        rd32(d, REG_DEVICE_ID) != 2) {
        printf("virtio-blk: no virtio-mmio v2 block device at 0x%lx (magic 0x%x)\n",
               (unsigned long)d->mmio, rd32(d, REG_MAGIC));
        return -1;
    }
    wr32(d, REG_STATUS, 0);
    for (unsigned i = 0; rd32(d, REG_STATUS) != 0; i++) {
        if (i > 1000000) {
            printf("virtio-blk: reset does not complete\n");
            return -1;
        }
    }
    wr32(d, REG_STATUS, S_ACK);
    wr32(d, REG_STATUS, S_ACK | S_DRIVER);
    if (vblk_negotiate(d, event_idx) < 0 || vblk_setup_queue(d, qsize, ring_base) < 0) {
        wr32(d, REG_STATUS, 0x80);           /* FAILED */
        return -1;
    }
    d->capacity = vblk_config64(d, 0);
    d->seg_max = (d->features & F_BLK_SEG_MAX) ? rd32(d, REG_CONFIG + 12) : 1;
    d->blk_size = (d->features & F_BLK_BLK_SIZE) ? rd32(d, REG_CONFIG + 20) : 512;
    d->read_only = d->features & F_BLK_RO;
    wr32(d, REG_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return 0;
}

void vblk_submit(VirtioBlk *d, unsigned slot, uint32_t type, uint64_t sector, void *buf,
                 uint32_t len, bool device_writes)
{
    VBlkSlot *s = &d->slots[slot];
    unsigned head = 3 * slot;
    VDesc *h = &d->desc[head], *data = h + 1, *st = h + 2;

    s->busy = true;
    s->hdr.type = type;
    s->hdr.ioprio = 0;
    s->hdr.sector = sector;
    s->status = 0xff;
    *h = (VDesc) { (uintptr_t)&s->hdr, sizeof(s->hdr), DESC_F_NEXT, head + 1 };
    if (len) {
        *data = (VDesc) { (uintptr_t)buf, len, DESC_F_NEXT | (device_writes ? DESC_F_WRITE : 0),
                          head + 2 };
    } else {
        h->next = head + 2;
    }
    *st = (VDesc) { (uintptr_t)&s->status, 1, DESC_F_WRITE, 0 };
    d->avail[2 + d->avail_idx % d->qsize] = head;
    barrier();                                /* x86: stores stay in order */
    d->avail[1] = ++d->avail_idx;
    d->submitted++;
}

void vblk_kick(VirtioBlk *d)
{
    uint16_t old = d->kicked_idx, now = d->avail_idx;

    if (old == now) {
        return;
    }
    d->kicked_idx = now;
    if (d->event_idx) {
        mb();                                 /* avail idx visible before reading avail_event */
        uint16_t event = d->used[2 + 4 * d->qsize];
        if ((uint16_t)(now - event - 1) >= (uint16_t)(now - old)) {
            d->kicks_saved++;
            return;
        }
    }
    d->kicks++;
    wr32(d, REG_QUEUE_NOTIFY, 0);
}

int vblk_reap(VirtioBlk *d, uint8_t *status, uint32_t *used_len)
{
    if (d->used[1] == d->last_used) {
        return -1;
    }
    barrier();
    volatile uint32_t *e = (volatile uint32_t *)(d->used + 2) + 2 * (d->last_used % d->qsize);
    uint32_t id = e[0];
    if (used_len) {
        *used_len = e[1];
    }
    d->last_used++;
    if (d->event_idx) {
        d->avail[2 + d->qsize] = d->want_irq ? d->last_used : (uint16_t)(d->last_used + 0x8000);
    }
    unsigned slot = id / 3;
    if (id % 3 || slot >= d->nslots || !d->slots[slot].busy) {
        printf("virtio-blk: device returned bad id %u\n", id);
        *status = 0xfe;
        return 0;
    }
    d->slots[slot].busy = false;
    *status = d->slots[slot].status;
    d->completed++;
    return (int)slot;
}

uint8_t vblk_sync(VirtioBlk *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
                  bool device_writes)
{
    uint8_t st;
    int slot;

    vblk_submit(d, 0, type, sector, buf, len, device_writes);
    vblk_kick(d);
    while ((slot = vblk_reap(d, &st, NULL)) < 0) {
        __asm__ volatile("pause");
    }
    return st;
}
