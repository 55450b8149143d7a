/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio.h: the test guest's polling virtio-blk driver over virtio-mmio (register
 * window and GSI in hw/godwit-ports.h; register and feature numbers from the
 * virtio 1.1 specification). One split virtqueue in guest RAM; request slot i uses
 * descriptors 3i (header), 3i+1 (data), 3i+2 (status). No interrupts: the driver
 * polls the used ring, and keeps used_event out of reach (or sets NO_INTERRUPT) so
 * the device never raises one, unless irq=1 asks for them.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "libc.h"

#define VBLK_T_IN            0
#define VBLK_T_OUT           1
#define VBLK_T_FLUSH         4
#define VBLK_T_GET_ID        8
#define VBLK_T_DISCARD       11
#define VBLK_T_WRITE_ZEROES  13
#define VBLK_S_OK            0
#define VBLK_S_IOERR         1
#define VBLK_S_UNSUPP        2

#define VBLK_MAX_SLOTS       64

typedef struct VDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VDesc;

typedef struct VBlkSlot {
    struct {
        uint32_t type;
        uint32_t ioprio;
        uint64_t sector;
    } hdr;
    volatile uint8_t status;
    bool busy;
} VBlkSlot;

typedef struct VirtioBlk {
    uintptr_t mmio;
    uint64_t features;            /* negotiated */
    uint64_t capacity;            /* 512-byte sectors */
    uint32_t seg_max, blk_size;
    bool read_only;
    uint16_t qsize;
    VDesc *desc;
    volatile uint16_t *avail;     /* flags, idx, ring[qsize], used_event */
    volatile uint16_t *used;      /* flags, idx, {id, len}[qsize], avail_event */
    uint16_t avail_idx;           /* next free avail slot */
    uint16_t kicked_idx;          /* avail idx at the last kick decision */
    uint16_t last_used;
    bool event_idx, want_irq;
    unsigned nslots;
    VBlkSlot *slots;
    uint64_t kicks, kicks_saved;  /* notifications written / suppressed by avail_event */
    uint64_t submitted, completed;
} VirtioBlk;

/*
 * Find and initialise device n: reset, negotiate (VERSION_1 required; EVENT_IDX if
 * event_idx), set up queue 0 of up to qsize entries at ring_base (page aligned,
 * 16 KiB free). 0 on success, else prints why and returns -1.
 */
int vblk_init(VirtioBlk *d, unsigned n, unsigned qsize, bool event_idx, bool want_irq,
              uintptr_t ring_base);
/* Queue one request in slot (not busy); len bytes at buf (len 0: no data descriptor). */
void vblk_submit(VirtioBlk *d, unsigned slot, uint32_t type, uint64_t sector, void *buf,
                 uint32_t len, bool device_writes);
/* Notify the device about everything submitted since the last kick, if it wants it. */
void vblk_kick(VirtioBlk *d);
/* Take one completion if there is one: returns its slot (status in *status), or -1. */
int vblk_reap(VirtioBlk *d, uint8_t *status, uint32_t *used_len);
/* Submit, kick and wait: the status. */
uint8_t vblk_sync(VirtioBlk *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
                  bool device_writes);
/* Read the device status register (for the reset/broken tests). */
uint32_t vblk_status(VirtioBlk *d);

#endif /* GUEST_VIRTIO_H */
