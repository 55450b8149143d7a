/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio-blk.h: a virtio block device (virtio 1.1, 5.2) on a BlockBackend.
 *
 * One request queue. Each popped chain (header, data, status byte) becomes one
 * request coroutine calling blk_co_*; many run at once. Requests the guest got
 * wrong (unaligned, beyond the capacity, too many segments, bad discard ranges)
 * complete with VIRTIO_BLK_S_IOERR, unknown types with VIRTIO_BLK_S_UNSUPP; a
 * malformed chain (no header or no status byte) marks the device broken.
 *
 * Host I/O errors go through the BlockBackend's rerror/werror policy: report
 * (IOERR to the guest), ignore (OK), or stop: the request is parked on the
 * failed list, blk_error_action records it (io-status, BLOCK_IO_ERROR hook), and
 * the owner's stop hook runs from a bottom half (it pauses the VM: machine_pause
 * and, later, the monitor's STOP event). On "cont" the owner calls
 * virtio_blk_retry_failed() and resumes the VM; the parked requests run again
 * from the start, so nothing the guest submitted is lost.
 *
 * Every request (running or parked) is on the device's in-flight list, so a
 * migration can hand them over (later). virtio_blk_drain() waits for the running
 * ones.
 *
 * Threads: main loop only, except the register accesses the transport makes
 * on vCPU threads (get_config, under vdev->lock).
 */
#ifndef GODWIT_HW_VIRTIO_BLK_H
#define GODWIT_HW_VIRTIO_BLK_H

#include "hw/virtio/virtio.h"
#include "block/block-backend.h"

#define VIRTIO_ID_BLOCK              2

/* Feature bits */
#define VIRTIO_BLK_F_SIZE_MAX        1
#define VIRTIO_BLK_F_SEG_MAX         2
#define VIRTIO_BLK_F_RO              5
#define VIRTIO_BLK_F_BLK_SIZE        6
#define VIRTIO_BLK_F_FLUSH           9
#define VIRTIO_BLK_F_TOPOLOGY        10
#define VIRTIO_BLK_F_DISCARD         13
#define VIRTIO_BLK_F_WRITE_ZEROES    14

/* Request types, status values */
#define VIRTIO_BLK_T_IN              0
#define VIRTIO_BLK_T_OUT             1
#define VIRTIO_BLK_T_FLUSH           4
#define VIRTIO_BLK_T_GET_ID          8
#define VIRTIO_BLK_T_DISCARD         11
#define VIRTIO_BLK_T_WRITE_ZEROES    13
#define VIRTIO_BLK_S_OK              0
#define VIRTIO_BLK_S_IOERR           1
#define VIRTIO_BLK_S_UNSUPP          2
#define VIRTIO_BLK_ID_BYTES          20
#define VIRTIO_BLK_WZ_F_UNMAP        1

/* Request header (device-readable, first 16 bytes of the chain) */
typedef struct VirtIOBlkOutHdr {
    uint32_t type;
    uint32_t ioprio;
    uint64_t sector;              /* in 512-byte units whatever blk_size says */
} VirtIOBlkOutHdr;

/* One DISCARD / WRITE_ZEROES segment */
typedef struct VirtIOBlkDiscardWz {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
} VirtIOBlkDiscardWz;

/* Device configuration space (little-endian, packed as the spec lays it out) */
typedef struct __attribute__((packed)) VirtIOBlkConfig {
    uint64_t capacity;            /* 0x00: 512-byte sectors */
    uint32_t size_max;            /* 0x08 */
    uint32_t seg_max;             /* 0x0c */
    uint16_t cylinders;           /* 0x10: geometry (not offered) */
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;            /* 0x14: logical block size */
    uint8_t physical_block_exp;   /* 0x18: topology */
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    uint8_t writeback;            /* 0x20 */
    uint8_t unused0;
    uint16_t num_queues;          /* 0x22 */
    uint32_t max_discard_sectors; /* 0x24 */
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors; /* 0x30 */
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;    /* 0x38 */
    uint8_t unused1[3];
} VirtIOBlkConfig;

typedef struct VirtIOBlock VirtIOBlock;

typedef struct VirtIOBlkConf {
    BlockBackend *blk;            /* the device keeps a reference */
    const char *serial;           /* GET_ID; NULL = "" */
    uint16_t queue_size;          /* 0 = 256 */
    uint32_t seg_max;             /* data segments per request; 0 = queue_size - 2 */
    uint32_t logical_block_size;  /* 0 = 512 */
    uint32_t physical_block_size; /* 0 = logical */
    bool no_discard;              /* do not offer DISCARD */
    bool no_write_zeroes;         /* do not offer WRITE_ZEROES */
    uint32_t max_discard_sectors; /* 0 = 1 GiB worth */
    uint32_t max_write_zeroes_sectors;
    /* werror/rerror=stop: pause the VM (main loop, from a bottom half). */
    void (*stop)(void *opaque, VirtIOBlock *s);
    void *opaque;
} VirtIOBlkConf;

typedef struct VirtIOBlkStats {
    uint64_t requests;            /* completed */
    uint64_t ioerr, unsupp;
    uint64_t retried;             /* parked by the stop policy and submitted again */
    uint64_t kicks;               /* handle_output calls */
    unsigned max_in_flight;
} VirtIOBlkStats;

VirtIOBlock *virtio_blk_create(const VirtIOBlkConf *conf, Error **errp);
/* The device must be idle (drained, nothing parked) or the VM gone. */
void virtio_blk_destroy(VirtIOBlock *s);
VirtIODevice *virtio_blk_vdev(VirtIOBlock *s);

/* Requests running or parked (the in-flight list), and parked ones alone. */
unsigned virtio_blk_in_flight(VirtIOBlock *s);
unsigned virtio_blk_failed(VirtIOBlock *s);
/* Wait (main loop) until no request is running; parked ones stay parked. */
void virtio_blk_drain(VirtIOBlock *s);
/* Submit every parked request again (after the VM is told to continue). */
void virtio_blk_retry_failed(VirtIOBlock *s);
void virtio_blk_get_stats(VirtIOBlock *s, VirtIOBlkStats *stats);

#endif /* GODWIT_HW_VIRTIO_BLK_H */
