/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio-blk.c: virtio block device on a BlockBackend.
 *
 * A request is one descriptor chain:
 *   device-readable   VirtIOBlkOutHdr (16 bytes: le32 type, le32 ioprio, le64 sector)
 *                     then, for OUT, the data; for DISCARD/WRITE_ZEROES, segments
 *                     of { le64 sector; le32 num_sectors; le32 flags; }
 *   device-writable   for IN, the data buffers; for GET_ID, 20 bytes of serial;
 *                     last of all, one status byte (OK 0, IOERR 1, UNSUPP 2)
 * The header and the status byte may share descriptors with the data; we slice the
 * mapped iovecs instead of assuming one descriptor each.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/iov.h"
#include "hw/virtio/virtio-blk.h"

#define SECTOR_SIZE          512
#define DEFAULT_QUEUE_SIZE   256
#define MAX_DWZ_SEGMENTS     16
#define DEFAULT_MAX_DWZ      (1u << 21)        /* sectors: 1 GiB */

struct VirtIOBlock {
    VirtIODevice parent;          /* first: vdev casts through it */
    VirtIOBlkConf conf;
    char serial[VIRTIO_BLK_ID_BYTES];
    uint64_t capacity;            /* 512-byte sectors */
    uint32_t lbs;                 /* logical block size */
    bool read_only;

    /* main loop only */
    GQueue inflight;              /* VirtIOBlockReq, running and parked */
    GQueue failed;                /* parked by the stop policy (link2) */
    unsigned running;
    bool stop_scheduled;
    VirtIOBlkStats stats;
};

typedef struct VirtIOBlockReq {
    VirtQueueElement elem;        /* first: allocated by virtqueue_pop */
    VirtIOBlock *s;
    VirtQueue *vq;
    GList link;                   /* in s->inflight */
    GList link2;                  /* in s->failed */
    VirtIOBlkOutHdr hdr;
    uint8_t *status;              /* the last device-writable byte */
    struct iovec *out_sg, *in_sg; /* the data, header and status sliced off */
    unsigned out_num, in_num;
    uint64_t in_len, out_len;     /* data bytes */
    uint32_t used_len;            /* bytes written to the guest, with the status */
} VirtIOBlockReq;

static VirtIOBlock *to_vblk(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIOBlock, parent);
}

/* ---- completion ---- */

static void virtio_blk_complete(VirtIOBlockReq *req, uint8_t status)
{
    VirtIOBlock *s = req->s;
    VirtIODevice *vdev = &s->parent;

    *req->status = status;
    s->stats.requests++;
    s->stats.ioerr += status == VIRTIO_BLK_S_IOERR;
    s->stats.unsupp += status == VIRTIO_BLK_S_UNSUPP;
    g_queue_unlink(&s->inflight, &req->link);
    virtqueue_push(req->vq, &req->elem, req->used_len + 1);
    virtio_notify(vdev, req->vq);
    g_free(req);
}

static void virtio_blk_stop_bh(void *opaque)
{
    VirtIOBlock *s = opaque;

    s->stop_scheduled = false;
    if (s->conf.stop && s->failed.length) {
        s->conf.stop(s->conf.opaque, s);
    }
}

/* The policy said STOP: park the request until virtio_blk_retry_failed. */
static void virtio_blk_park(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;

    g_queue_push_tail_link(&s->failed, &req->link2);
    if (!s->stop_scheduled) {
        s->stop_scheduled = true;
        aio_bh_schedule_oneshot(qemu_get_aio_context(), virtio_blk_stop_bh, s);
    }
}

/* ---- validation ---- */

/* Is [sector, sector + bytes) a whole number of logical blocks inside the disk? */
static bool virtio_blk_range_ok(VirtIOBlock *s, uint64_t sector, uint64_t bytes)
{
    uint64_t lbs_sectors = s->lbs / SECTOR_SIZE;

    if (bytes % s->lbs || sector % lbs_sectors) {
        return false;
    }
    return sector <= s->capacity && bytes / SECTOR_SIZE <= s->capacity - sector;
}

/*
 * Check one DISCARD / WRITE_ZEROES segment; 0 if good, else the status to return.
 */
static uint8_t virtio_blk_check_dwz(VirtIOBlock *s, const VirtIOBlkDiscardWz *seg,
                                    bool is_wz)
{
    uint32_t max = is_wz ? s->conf.max_write_zeroes_sectors : s->conf.max_discard_sectors;

    if (seg->flags & ~VIRTIO_BLK_WZ_F_UNMAP || (!is_wz && seg->flags)) {
        return VIRTIO_BLK_S_UNSUPP;           /* the spec's answer for unknown/unmap flags */
    }
    if (seg->num_sectors > max ||
        !virtio_blk_range_ok(s, seg->sector, (uint64_t)seg->num_sectors * SECTOR_SIZE)) {
        return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

/* ---- the request coroutine ---- */

static int coroutine_fn virtio_blk_co_rw(VirtIOBlockReq *req, bool is_read)
{
    VirtIOBlock *s = req->s;
    uint64_t bytes = is_read ? req->in_len : req->out_len;
    QEMUIOVector qiov;

    if (!bytes) {
        return 0;
    }
    if (is_read) {
        qemu_iovec_init_external(&qiov, req->in_sg, req->in_num);
        return blk_co_preadv(s->conf.blk, req->hdr.sector * SECTOR_SIZE, bytes, &qiov, 0);
    }
    qemu_iovec_init_external(&qiov, req->out_sg, req->out_num);
    return blk_co_pwritev(s->conf.blk, req->hdr.sector * SECTOR_SIZE, bytes, &qiov, 0);
}

static int coroutine_fn virtio_blk_co_dwz(VirtIOBlockReq *req, bool is_wz)
{
    VirtIOBlock *s = req->s;
    unsigned n = req->out_len / sizeof(VirtIOBlkDiscardWz);

    for (unsigned i = 0; i < n; i++) {
        VirtIOBlkDiscardWz seg;
        iov_to_buf(req->out_sg, req->out_num, i * sizeof(seg), &seg, sizeof(seg));
        int64_t off = seg.sector * SECTOR_SIZE, bytes = (int64_t)seg.num_sectors * SECTOR_SIZE;
        int ret;
        if (!bytes) {
            continue;
        }
        if (is_wz) {
            ret = blk_co_pwrite_zeroes(s->conf.blk, off, bytes,
                                       (seg.flags & VIRTIO_BLK_WZ_F_UNMAP) ? BDRV_REQ_MAY_UNMAP : 0);
        } else {
            ret = blk_co_pdiscard(s->conf.blk, off, bytes);
        }
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

/* Run the I/O of a validated request; -errno on a host error. */
static int coroutine_fn virtio_blk_co_do(VirtIOBlockReq *req)
{
    switch (req->hdr.type) {
    case VIRTIO_BLK_T_IN:
        return virtio_blk_co_rw(req, true);
    case VIRTIO_BLK_T_OUT:
        return virtio_blk_co_rw(req, false);
    case VIRTIO_BLK_T_FLUSH:
        return blk_co_flush(req->s->conf.blk);
    case VIRTIO_BLK_T_DISCARD:
        return virtio_blk_co_dwz(req, false);
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return virtio_blk_co_dwz(req, true);
    default:
        g_assert_not_reached();
    }
}

static void coroutine_fn virtio_blk_co_request(void *opaque)
{
    VirtIOBlockReq *req = opaque;
    VirtIOBlock *s = req->s;
    bool is_read = req->hdr.type == VIRTIO_BLK_T_IN;

    int ret = virtio_blk_co_do(req);
    s->running--;
    if (ret >= 0) {
        virtio_blk_complete(req, VIRTIO_BLK_S_OK);
        return;
    }
    BlockErrorAction action = blk_get_error_action(s->conf.blk, is_read, -ret);
    blk_error_action(s->conf.blk, action, is_read, -ret);
    switch (action) {
    case BLOCK_ERROR_ACTION_STOP:
        virtio_blk_park(req);
        break;
    case BLOCK_ERROR_ACTION_IGNORE:
        virtio_blk_complete(req, VIRTIO_BLK_S_OK);
        break;
    case BLOCK_ERROR_ACTION_REPORT:
    default:
        virtio_blk_complete(req, VIRTIO_BLK_S_IOERR);
        break;
    }
}

static void virtio_blk_submit(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;

    s->running++;
    s->stats.max_in_flight = MAX(s->stats.max_in_flight, s->inflight.length);
    qemu_coroutine_enter(qemu_coroutine_create(virtio_blk_co_request, req));
}

/* ---- parsing ---- */

/* Requests that need no I/O, or are refused: the status to complete with, or -1. */
static int virtio_blk_check(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;
    uint32_t type = req->hdr.type;

    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        bool is_read = type == VIRTIO_BLK_T_IN;
        uint64_t bytes = is_read ? req->in_len : req->out_len;
        unsigned segs = is_read ? req->in_num : req->out_num;
        if ((!is_read && s->read_only) || segs > s->conf.seg_max ||
            !virtio_blk_range_ok(s, req->hdr.sector, bytes)) {
            return VIRTIO_BLK_S_IOERR;
        }
        if (is_read) {
            req->used_len = bytes;
        }
        return -1;
    }
    case VIRTIO_BLK_T_FLUSH:
        return -1;
    case VIRTIO_BLK_T_GET_ID:
        req->used_len = iov_from_buf(req->in_sg, req->in_num, 0, s->serial,
                                     MIN(req->in_len, VIRTIO_BLK_ID_BYTES));
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        bool is_wz = type == VIRTIO_BLK_T_WRITE_ZEROES;
        unsigned n = req->out_len / sizeof(VirtIOBlkDiscardWz);
        if ((is_wz ? s->conf.no_write_zeroes : s->conf.no_discard)) {
            return VIRTIO_BLK_S_UNSUPP;
        }
        if (s->read_only || req->out_len % sizeof(VirtIOBlkDiscardWz) || !n ||
            n > MAX_DWZ_SEGMENTS) {
            return VIRTIO_BLK_S_IOERR;
        }
        for (unsigned i = 0; i < n; i++) {
            VirtIOBlkDiscardWz seg;
            iov_to_buf(req->out_sg, req->out_num, i * sizeof(seg), &seg, sizeof(seg));
            uint8_t st = virtio_blk_check_dwz(s, &seg, is_wz);
            if (st != VIRTIO_BLK_S_OK) {
                return st;
            }
        }
        return -1;
    }
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

/* Slice header and status off the element; false if the chain lacks them. */
static bool virtio_blk_parse(VirtIOBlockReq *req)
{
    VirtQueueElement *elem = &req->elem;

    if (elem->out_len < sizeof(VirtIOBlkOutHdr) || elem->in_len < 1) {
        return false;
    }
    req->out_sg = elem->out_sg;
    req->out_num = elem->out_num;
    req->in_sg = elem->in_sg;
    req->in_num = elem->in_num;
    iov_to_buf(req->out_sg, req->out_num, 0, &req->hdr, sizeof(req->hdr));
    iov_discard_front(&req->out_sg, &req->out_num, sizeof(req->hdr));
    req->out_len = elem->out_len - sizeof(req->hdr);

    struct iovec *last = &req->in_sg[req->in_num - 1];   /* mapped buffers are never empty */
    req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    iov_discard_back(req->in_sg, &req->in_num, 1);
    req->in_len = elem->in_len - 1;
    return true;
}

static void virtio_blk_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlock *s = to_vblk(vdev);
    int err;

    s->stats.kicks++;
    do {
        VirtIOBlockReq *req;
        while ((req = virtqueue_pop(vq, sizeof(VirtIOBlockReq), &err))) {
            req->s = s;
            req->vq = vq;
            req->link.data = req->link2.data = req;
            g_queue_push_tail_link(&s->inflight, &req->link);
            if (!virtio_blk_parse(req)) {
                pthread_mutex_lock(&vdev->lock);
                virtio_error(vdev, "virtio-blk request without header or status byte");
                pthread_mutex_unlock(&vdev->lock);
                g_queue_unlink(&s->inflight, &req->link);
                virtqueue_push(vq, &req->elem, 0);
                g_free(req);
                return;
            }
            int st = virtio_blk_check(req);
            if (st >= 0) {
                virtio_blk_complete(req, st);
            } else {
                virtio_blk_submit(req);
            }
        }
    } while (!err && virtqueue_rearm(vq));
}

/* ---- device ops ---- */

static void virtio_blk_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOBlock *s = to_vblk(vdev);
    uint32_t pbs = s->conf.physical_block_size;
    VirtIOBlkConfig c = {
        .capacity = s->capacity,
        .seg_max = s->conf.seg_max,
        .blk_size = s->lbs,
        .physical_block_exp = __builtin_ctz(pbs / s->lbs),
        .min_io_size = 1,
        .opt_io_size = 0,
        .num_queues = 1,
        .max_discard_sectors = s->conf.max_discard_sectors,
        .max_discard_seg = MAX_DWZ_SEGMENTS,
        .discard_sector_alignment = s->lbs / SECTOR_SIZE,
        .max_write_zeroes_sectors = s->conf.max_write_zeroes_sectors,
        .max_write_zeroes_seg = MAX_DWZ_SEGMENTS,
        .write_zeroes_may_unmap = 1,
    };
    memcpy(config, &c, sizeof(c));
}

static void virtio_blk_reset(VirtIODevice *vdev)
{
    /* Nothing is in flight (the core waits); parked requests were in flight too. */
    assert(!to_vblk(vdev)->inflight.length);
}

static const VirtIODeviceOps virtio_blk_ops = {
    .get_config = virtio_blk_get_config,
    .reset = virtio_blk_reset,
};

static bool virtio_blk_apply_defaults(VirtIOBlock *s, Error **errp)
{
    VirtIOBlkConf *c = &s->conf;

    c->queue_size = c->queue_size ? c->queue_size : DEFAULT_QUEUE_SIZE;
    c->seg_max = c->seg_max ? c->seg_max : c->queue_size - 2;
    c->logical_block_size = c->logical_block_size ? c->logical_block_size : SECTOR_SIZE;
    c->physical_block_size = c->physical_block_size ? c->physical_block_size
                                                    : c->logical_block_size;
    c->max_discard_sectors = c->max_discard_sectors ? c->max_discard_sectors : DEFAULT_MAX_DWZ;
    c->max_write_zeroes_sectors = c->max_write_zeroes_sectors ? c->max_write_zeroes_sectors
                                                              : DEFAULT_MAX_DWZ;
    s->lbs = c->logical_block_size;
    if (c->queue_size > VIRTQUEUE_MAX_SIZE || c->queue_size & (c->queue_size - 1) ||
        c->queue_size < 4) {
        error_setg(errp, "queue-size must be a power of 2 between 4 and %d", VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (s->lbs < SECTOR_SIZE || s->lbs > 32768 || s->lbs & (s->lbs - 1) ||
        c->physical_block_size < s->lbs || c->physical_block_size & (c->physical_block_size - 1)) {
        error_setg(errp, "Invalid logical/physical block size %u/%u", s->lbs,
                   c->physical_block_size);
        return false;
    }
    return true;
}

VirtIOBlock *virtio_blk_create(const VirtIOBlkConf *conf, Error **errp)
{
    VirtIOBlock *s = g_new0(VirtIOBlock, 1);

    s->conf = *conf;
    if (!conf->blk) {
        error_setg(errp, "virtio-blk needs a drive");
        goto fail;
    }
    if (!virtio_blk_apply_defaults(s, errp)) {
        goto fail;
    }
    int64_t len = blk_getlength(conf->blk);
    if (len < 0) {
        error_setg_errno(errp, -len, "Could not get the size of the drive of virtio-blk");
        goto fail;
    }
    s->capacity = len / SECTOR_SIZE;
    s->capacity -= s->capacity % (s->lbs / SECTOR_SIZE);
    s->read_only = blk_is_read_only(conf->blk);
    strncpy(s->serial, conf->serial ? conf->serial : "", sizeof(s->serial));
    g_queue_init(&s->inflight);
    g_queue_init(&s->failed);

    uint64_t features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                        (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
                        (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
                        (1ULL << VIRTIO_BLK_F_TOPOLOGY);
    if (!s->conf.no_discard) {
        features |= 1ULL << VIRTIO_BLK_F_DISCARD;
    }
    if (!s->conf.no_write_zeroes) {
        features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    if (s->read_only) {
        features |= 1ULL << VIRTIO_BLK_F_RO;
    }
    blk_ref(conf->blk);
    virtio_init(&s->parent, "virtio-blk", VIRTIO_ID_BLOCK, &virtio_blk_ops,
                sizeof(VirtIOBlkConfig), features, 1, s->conf.queue_size,
                virtio_blk_handle_output);
    return s;

fail:
    g_free(s);
    return NULL;
}

void virtio_blk_destroy(VirtIOBlock *s)
{
    if (!s) {
        return;
    }
    virtio_blk_drain(s);
    /* Parked requests point into guest RAM that is going away: drop them. */
    while (s->inflight.length) {
        GList *l = s->inflight.head;
        VirtIOBlockReq *req = l->data;
        g_queue_unlink(&s->inflight, l);
        g_free(req);
    }
    virtio_cleanup(&s->parent);
    blk_unref(s->conf.blk);
    g_free(s);
}

VirtIODevice *virtio_blk_vdev(VirtIOBlock *s)
{
    return &s->parent;
}

unsigned virtio_blk_in_flight(VirtIOBlock *s)
{
    return s->inflight.length;
}

unsigned virtio_blk_failed(VirtIOBlock *s)
{
    return s->failed.length;
}

void virtio_blk_drain(VirtIOBlock *s)
{
    AIO_WAIT_WHILE(qemu_get_aio_context(), s->running > 0);
}

void virtio_blk_retry_failed(VirtIOBlock *s)
{
    GQueue q = s->failed;

    g_queue_init(&s->failed);
    for (GList *l = q.head, *next; l; l = next) {
        next = l->next;
        VirtIOBlockReq *req = l->data;
        l->prev = l->next = NULL;
        s->stats.retried++;
        virtio_blk_submit(req);
    }
}

void virtio_blk_get_stats(VirtIOBlock *s, VirtIOBlkStats *stats)
{
    *stats = s->stats;
}
