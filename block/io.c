/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * io.c: the request layer between a node's users and its driver.
 *
 *   bdrv_co_preadv/pwritev(child, ...)       entry: checks, drain wait, in_flight,
 *     pad to bl.request_alignment            head/tail bounce buffers around the
 *                                            caller's qiov (no copy of the middle);
 *                                            writes read the padding first (RMW)
 *     tracked request                        overlapping requests wait for earlier
 *                                            serialising ones (and RMW/COR requests
 *                                            are serialising over their whole span)
 *     aligned_preadv / aligned_pwritev       copy-on-read, EOF zero-fill, zero
 *                                            detection, before-write notifiers,
 *                                            split at max_transfer, FUA emulation,
 *                                            dirty bitmaps, write_gen
 *     driver_preadv / driver_pwritev         drv->co_preadv/co_pwritev
 *
 * All of it runs in coroutines of the main loop.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-core.h"
#include "block/dirty-bitmap.h"

#define MAX_BOUNCE_BUFFER   (1 * MiB)   /* zero-write fallback, copy-on-read pieces */

typedef enum TrackedType {
    TRACKED_READ,
    TRACKED_WRITE,
    TRACKED_DISCARD,
    TRACKED_TRUNCATE,
} TrackedType;

typedef struct BdrvTrackedRequest {
    BlockDriverState *bs;
    int64_t offset;
    int64_t bytes;
    TrackedType type;
    bool serialising;
    uint64_t seq;               /* arrival order: a request only waits for older ones */
    CoQueue wait_queue;         /* requests waiting for this one to end */
    struct BdrvTrackedRequest *next;    /* in bs->tracked_requests (O(1) removal: */
    struct BdrvTrackedRequest **pprev;  /*   32 in flight made a list walk show) */
} BdrvTrackedRequest;

static uint64_t tracked_seq;

/* ---- buffers ---- */

static size_t bdrv_mem_align(BlockDriverState *bs)
{
    size_t a = bs ? MAX(bs->bl.opt_mem_alignment, bs->bl.min_mem_alignment) : 0;

    return MAX(a, (size_t)512);
}

void *bdrv_blockalign(BlockDriverState *bs, size_t size)
{
    void *p = NULL;

    if (posix_memalign(&p, bdrv_mem_align(bs), MAX(size, (size_t)1))) {
        abort();
    }
    return p;
}

void *bdrv_blockalign0(BlockDriverState *bs, size_t size)
{
    return memset(bdrv_blockalign(bs, size), 0, size);
}

void bdrv_blockfree(void *ptr)
{
    free(ptr);
}

/*
 * Copy-on-read bounce buffers (MAX_BOUNCE_BUFFER bytes, page aligned), kept per
 * thread for reuse: a fresh 1 MiB allocation is an mmap whose pages fault in one
 * by one and go again at free(), which cost a stream more than its copies.
 */
#define BOUNCE_POOL_MAX 8
static __thread void *bounce_pool[BOUNCE_POOL_MAX];
static __thread int bounce_pool_len;

static void *bounce_get(BlockDriverState *bs)
{
    void *buf;

    if (bdrv_mem_align(bs) > 4096) {
        return bdrv_blockalign(bs, MAX_BOUNCE_BUFFER);
    }
    if (bounce_pool_len > 0) {
        return bounce_pool[--bounce_pool_len];
    }
    if (posix_memalign(&buf, 4096, MAX_BOUNCE_BUFFER)) {
        abort();
    }
    return buf;
}

static void bounce_put(BlockDriverState *bs, void *buf)
{
    if (bdrv_mem_align(bs) > 4096 || bounce_pool_len == BOUNCE_POOL_MAX) {
        bdrv_blockfree(buf);
        return;
    }
    bounce_pool[bounce_pool_len++] = buf;
}

/* ---- in-flight accounting and drain ---- */

void bdrv_inc_in_flight(BlockDriverState *bs)
{
    bs->in_flight++;
}

void bdrv_dec_in_flight(BlockDriverState *bs)
{
    assert(bs->in_flight > 0);
    bs->in_flight--;
    /* a drain may be polling for this */
    aio_kick(qemu_get_aio_context());
}

/*
 * Users that are not nodes (jobs, exports) queue while the node is drained; node
 * parents' requests in flight must go on, or the drain would wait for itself.
 * BlockBackends queue in block-backend.c before they count a request.
 */
static void coroutine_fn bdrv_wait_while_drained(BdrvChild *child)
{
    while (child->bs->quiesce_counter > 0 && !child->klass->parent_is_bds) {
        qemu_co_queue_wait(&child->bs->drain_queue, NULL);
    }
}

/* ---- tracked requests ---- */

static void tracked_begin(BdrvTrackedRequest *req, BlockDriverState *bs, int64_t offset,
                          int64_t bytes, TrackedType type, bool serialising)
{
    *req = (BdrvTrackedRequest) {
        .bs = bs, .offset = offset, .bytes = bytes, .type = type,
        .serialising = serialising, .seq = tracked_seq++,
    };
    qemu_co_queue_init(&req->wait_queue);
    req->next = bs->tracked_requests;
    if (req->next) {
        req->next->pprev = &req->next;
    }
    req->pprev = &bs->tracked_requests;
    bs->tracked_requests = req;
    if (serialising) {
        bs->serialising_in_flight++;
    }
}

static void tracked_end(BdrvTrackedRequest *req)
{
    BlockDriverState *bs = req->bs;

    if (req->serialising) {
        bs->serialising_in_flight--;
    }
    *req->pprev = req->next;
    if (req->next) {
        req->next->pprev = req->pprev;
    }
    qemu_co_queue_restart_all(&req->wait_queue);
}

static bool tracked_overlaps(BdrvTrackedRequest *a, BdrvTrackedRequest *b)
{
    return a->offset < b->offset + b->bytes && b->offset < a->offset + a->bytes;
}

/*
 * Wait for every older overlapping request that conflicts with req: a serialising
 * request waits for all of them, others only for serialising ones. Waiting only
 * for older requests rules out deadlock cycles.
 */
static void coroutine_fn tracked_wait(BdrvTrackedRequest *req)
{
    BlockDriverState *bs = req->bs;
    bool retry;

    if (!bs->serialising_in_flight) {
        return;
    }
    do {
        retry = false;
        for (BdrvTrackedRequest *o = bs->tracked_requests; o; o = o->next) {
            if (o == req || o->seq > req->seq || (!req->serialising && !o->serialising)) {
                continue;
            }
            if (tracked_overlaps(req, o)) {
                qemu_co_queue_wait(&o->wait_queue, NULL);
                retry = true;
                break;
            }
        }
    } while (retry);
}

/* ---- checks ---- */

static int bdrv_check_request(int64_t offset, int64_t bytes, QEMUIOVector *qiov,
                              size_t qiov_offset)
{
    if (offset < 0 || bytes < 0 || bytes > INT64_MAX - offset) {
        return -EINVAL;
    }
    if (qiov && (qiov_offset > qiov->size || bytes > qiov->size - qiov_offset)) {
        return -EINVAL;
    }
    return 0;
}

/* ---- the driver boundary ---- */

/*
 * How many elements of qiov cover [offset, offset+bytes), counting at most
 * limit + 1 of them; *first_bytes gets the bytes covered by the first `limit`.
 * No allocation: this runs for every request.
 */
static int qiov_span(QEMUIOVector *qiov, size_t offset, size_t bytes, int limit,
                     size_t *first_bytes)
{
    int i = 0, n = 0;

    *first_bytes = 0;
    while (i < qiov->niov && offset >= qiov->iov[i].iov_len) {
        offset -= qiov->iov[i++].iov_len;
    }
    for (; i < qiov->niov && bytes > 0 && n <= limit; i++, n++) {
        size_t len = MIN(qiov->iov[i].iov_len - offset, bytes);
        if (n < limit) {
            *first_bytes += len;
        }
        bytes -= len;
        offset = 0;
    }
    return n;
}

static int coroutine_fn driver_call(BlockDriverState *bs, bool is_write, int64_t offset,
                                    int64_t bytes, QEMUIOVector *qiov, size_t qiov_offset,
                                    BdrvRequestFlags flags)
{
    const BlockDriver *drv = bs->drv;

    return is_write ? drv->co_pwritev(bs, offset, bytes, qiov, qiov_offset, flags)
                    : drv->co_preadv(bs, offset, bytes, qiov, qiov_offset, flags);
}

/* One request_alignment block spread over too many elements: through a buffer. */
static int coroutine_fn driver_bounce(BlockDriverState *bs, bool is_write, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    void *buf = bdrv_blockalign(bs, bytes);
    QEMUIOVector bq;
    int ret;

    qemu_iovec_init_buf(&bq, buf, bytes);
    if (is_write) {
        qemu_iovec_to_buf(qiov, qiov_offset, buf, bytes);
    }
    ret = driver_call(bs, is_write, offset, bytes, &bq, 0, flags);
    if (!is_write && ret >= 0) {
        qemu_iovec_from_buf(qiov, qiov_offset, buf, bytes);
    }
    bdrv_blockfree(buf);
    return ret;
}

/*
 * Give the driver vectors it can take: a request spanning more than bl.max_iov
 * elements goes down as several requests of at most max_iov elements each, cut
 * at request_alignment boundaries. Only when max_iov elements hold less than one
 * aligned block does that block go through a bounce buffer.
 */
static int coroutine_fn driver_rw(BlockDriverState *bs, bool is_write, int64_t offset,
                                  int64_t bytes, QEMUIOVector *qiov, size_t qiov_offset,
                                  BdrvRequestFlags flags)
{
    int max_iov = bs->bl.max_iov > 0 ? bs->bl.max_iov : IOV_MAX;
    int64_t align = bs->bl.request_alignment;
    int ret = 0;

    if (!(is_write ? bs->drv->co_pwritev : bs->drv->co_preadv)) {
        return -ENOTSUP;
    }
    while (bytes > 0 && ret >= 0) {
        size_t first;
        int64_t num;

        if (qiov_span(qiov, qiov_offset, bytes, max_iov, &first) <= max_iov) {
            return driver_call(bs, is_write, offset, bytes, qiov, qiov_offset, flags);
        }
        num = QEMU_ALIGN_DOWN((int64_t)first, align);
        if (num > 0) {
            ret = driver_call(bs, is_write, offset, num, qiov, qiov_offset, flags);
        } else {
            num = MIN(align, bytes);
            ret = driver_bounce(bs, is_write, offset, num, qiov, qiov_offset, flags);
        }
        offset += num;
        qiov_offset += num;
        bytes -= num;
    }
    return ret;
}

static int coroutine_fn driver_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset)
{
    return driver_rw(bs, false, offset, bytes, qiov, qiov_offset, 0);
}

/* Write with FUA emulated by a flush when the driver cannot do it natively. */
static int coroutine_fn driver_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    bool emulate_fua = (flags & BDRV_REQ_FUA) && !(bs->supported_write_flags & BDRV_REQ_FUA);
    int ret;

    ret = driver_rw(bs, true, offset, bytes, qiov, qiov_offset,
                    flags & bs->supported_write_flags);
    if (ret >= 0 && emulate_fua) {
        ret = bdrv_co_flush(bs);
    }
    return ret;
}

static int64_t bdrv_max_transfer(BlockDriverState *bs)
{
    int64_t max = bs->bl.max_transfer > 0 ? bs->bl.max_transfer : INT32_MAX;
    int64_t align = bs->bl.request_alignment;

    return MAX(QEMU_ALIGN_DOWN(max, align), align);
}

/* ---- zeroes ---- */

static int coroutine_fn do_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                         BdrvRequestFlags flags)
{
    const BlockDriver *drv = bs->drv;
    int64_t align = MAX(bs->bl.pwrite_zeroes_alignment, (int64_t)bs->bl.request_alignment);
    int64_t max = bs->bl.max_pwrite_zeroes > 0 ? bs->bl.max_pwrite_zeroes : INT32_MAX;
    void *buf = NULL;
    int ret = 0;

    max = MAX(QEMU_ALIGN_DOWN(max, align), align);
    while (bytes > 0 && ret >= 0) {
        int64_t num = MIN(bytes, max);
        bool emulate_fua = (flags & BDRV_REQ_FUA) && !(bs->supported_zero_flags & BDRV_REQ_FUA);

        ret = -ENOTSUP;
        if (drv->co_pwrite_zeroes) {
            BdrvRequestFlags zflags = flags & (BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK
                                               | (bs->supported_zero_flags & BDRV_REQ_FUA));
            ret = drv->co_pwrite_zeroes(bs, offset, num, zflags);
            if (ret >= 0 && emulate_fua) {
                ret = bdrv_co_flush(bs);
            }
        }
        if (ret == -ENOTSUP && !(flags & BDRV_REQ_NO_FALLBACK)) {
            /* write real zeroes, a bounded buffer at a time */
            int64_t chunk = MIN(num, MIN(bdrv_max_transfer(bs), MAX_BOUNCE_BUFFER));
            if (!buf) {
                buf = bdrv_blockalign0(bs, chunk);
            }
            ret = 0;
            for (int64_t done = 0; done < num && ret >= 0; done += chunk) {
                QEMUIOVector qiov;
                int64_t n = MIN(chunk, num - done);
                qemu_iovec_init_buf(&qiov, buf, n);
                ret = driver_pwritev(bs, offset + done, n, &qiov, 0, flags & BDRV_REQ_FUA);
            }
        }
        offset += num;
        bytes -= num;
    }
    bdrv_blockfree(buf);
    return ret < 0 ? ret : 0;
}

/* ---- aligned read ---- */

static int coroutine_fn aligned_preadv(BdrvChild *child, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags);

static int64_t cor_cluster_size(BlockDriverState *bs)
{
    BlockDriverInfo bdi;

    if (bdrv_get_info(bs, &bdi) == 0 && bdi.cluster_size > 0) {
        return MAX(bdi.cluster_size, (int)bs->bl.request_alignment);
    }
    return bs->bl.request_alignment;
}

/*
 * Copy-on-read: what bs does not allocate itself (it comes from the backing chain)
 * is read, written into bs unchanged, then handed to the caller (unless PREFETCH).
 */
static int coroutine_fn copy_on_readv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    int64_t cluster = cor_cluster_size(bs);
    int64_t total = bdrv_co_getlength(bs);
    int64_t pos, end, skip, progress = 0;
    int ret = 0;

    if (total < 0) {
        return total;
    }
    pos = QEMU_ALIGN_DOWN(offset, cluster);
    end = MIN(QEMU_ALIGN_UP(offset + bytes, cluster),
              QEMU_ALIGN_UP(total, bs->bl.request_alignment));
    skip = offset - pos;
    while (pos < end && ret >= 0) {
        int64_t pnum;
        int alloc = bdrv_co_is_allocated(bs, pos, end - pos, &pnum);

        if (alloc < 0 || pnum <= 0) {
            /* treat as unallocated: the read will report a real error if any */
            alloc = 0;
            pnum = end - pos;
        }
        pnum = MIN(pnum, end - pos);
        int64_t want = MIN(pnum - skip, bytes - progress);
        if (alloc) {
            if (!(flags & BDRV_REQ_PREFETCH) && want > 0) {
                ret = driver_preadv(bs, pos + skip, want, qiov, qiov_offset + progress);
            }
        } else {
            QEMUIOVector bq;
            pnum = MIN(pnum, MAX_BOUNCE_BUFFER);
            want = MIN(pnum - skip, bytes - progress);
            uint8_t *buf = bounce_get(bs);
            qemu_iovec_init_buf(&bq, buf, pnum);
            ret = driver_preadv(bs, pos, pnum, &bq, 0);
            if (ret >= 0) {
                bdrv_debug_event(bs, BLKDBG_COR_WRITE);
                ret = driver_pwritev(bs, pos, pnum, &bq, 0, BDRV_REQ_WRITE_UNCHANGED);
            }
            if (ret >= 0 && !(flags & BDRV_REQ_PREFETCH) && want > 0) {
                qemu_iovec_from_buf(qiov, qiov_offset + progress, buf + skip, want);
            }
            bounce_put(bs, buf);
        }
        if (want > 0) {
            progress += want;
        }
        pos += pnum;
        skip = 0;
    }
    return ret < 0 ? ret : 0;
}

static int coroutine_fn aligned_preadv(BdrvChild *child, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    int64_t total, max_bytes, max_transfer = bdrv_max_transfer(bs);
    int ret = 0;

    /* a filter's backing child is what it filters: the flag is for the node below */
    if ((flags & BDRV_REQ_COPY_ON_READ) && bs->backing && !(bs->drv->flags & BDRV_F_FILTER)) {
        return copy_on_readv(bs, offset, bytes, qiov, qiov_offset, flags);
    }
    if (flags & BDRV_REQ_PREFETCH) {
        return 0;
    }
    total = bdrv_co_getlength(bs);
    if (total < 0) {
        return total;
    }
    /* past the end reads as zeroes; the last partial block is the driver's to fill */
    max_bytes = QEMU_ALIGN_UP(MAX(0, total - offset), bs->bl.request_alignment);
    for (int64_t done = 0; done < bytes && ret >= 0;) {
        int64_t num = MIN(bytes - done, MIN(max_bytes - done, max_transfer));
        if (num <= 0) {
            qemu_iovec_memset(qiov, qiov_offset + done, 0, bytes - done);
            break;
        }
        ret = driver_preadv(bs, offset + done, num, qiov, qiov_offset + done);
        done += num;
    }
    return ret < 0 ? ret : 0;
}

/* ---- aligned write ---- */

static int coroutine_fn aligned_pwritev(BdrvChild *child, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset,
                                        BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    int64_t total = bdrv_co_getlength(bs), max_transfer = bdrv_max_transfer(bs);
    int ret = 0;

    if (total >= 0 && offset + bytes > total && !(child->perm & BLK_PERM_RESIZE)) {
        return -EIO;
    }
    for (GSList *l = bs->write_notifiers; l; l = l->next) {
        BdrvWriteNotifier *n = l->data;
        ret = n->notify ? n->notify(n, bs, offset, bytes) : 0;
        if (ret < 0) {
            return ret;
        }
    }
    if (!(flags & BDRV_REQ_ZERO_WRITE) && bs->detect_zeroes != BLOCKDEV_DETECT_ZEROES_OPTIONS_OFF
        && qemu_iovec_is_zero(qiov, qiov_offset, bytes)) {
        flags |= BDRV_REQ_ZERO_WRITE;
        if (bs->detect_zeroes == BLOCKDEV_DETECT_ZEROES_OPTIONS_UNMAP
            && (bs->open_flags & BDRV_O_UNMAP)) {
            flags |= BDRV_REQ_MAY_UNMAP;
        }
    }
    bdrv_debug_event(bs, BLKDBG_PWRITEV);
    /* before the write: an emulated FUA flush must see it as unflushed */
    bs->write_gen++;
    if (flags & BDRV_REQ_ZERO_WRITE) {
        bdrv_debug_event(bs, BLKDBG_PWRITEV_ZERO);
        ret = do_pwrite_zeroes(bs, offset, bytes, flags);
    } else {
        for (int64_t done = 0; done < bytes && ret >= 0;) {
            int64_t num = MIN(bytes - done, max_transfer);
            /* FUA only on the last piece would leave earlier ones volatile: keep it on all */
            ret = driver_pwritev(bs, offset + done, num, qiov, qiov_offset + done,
                                 flags & ~BDRV_REQ_ZERO_WRITE);
            done += num;
        }
    }
    bdrv_debug_event(bs, BLKDBG_PWRITEV_DONE);
    if (ret >= 0) {
        bdrv_set_dirty(bs, offset, bytes);
        /*
         * Compare with the length now, not the one read before yielding: extending
         * writes that complete out of order must not shrink it (keep the maximum).
         * Lengths are whole sectors, as QEMU counts them.
         */
        if (total >= 0 && bs->total_size >= 0 && offset + bytes > bs->total_size) {
            bs->total_size = QEMU_ALIGN_UP(offset + bytes, BDRV_SECTOR_SIZE);
        }
    }
    return ret < 0 ? ret : 0;
}

/* ---- padding to request_alignment ---- */

typedef struct BdrvPad {
    uint8_t *buf;
    size_t buf_len;
    int64_t head, tail;         /* bytes added before and after */
    QEMUIOVector qiov;          /* head pad + caller's bytes + tail pad */
} BdrvPad;

static bool pad_init(BlockDriverState *bs, int64_t offset, int64_t bytes, QEMUIOVector *qiov,
                     size_t qiov_offset, BdrvPad *pad)
{
    int64_t align = bs->bl.request_alignment;
    int64_t end_rem = (offset + bytes) % align;

    pad->head = offset % align;
    pad->tail = end_rem ? align - end_rem : 0;
    if (!pad->head && !pad->tail) {
        return false;
    }
    /* head and tail in the same block share one block of buffer */
    if (pad->head + bytes + pad->tail == align) {
        pad->buf_len = align;
    } else {
        pad->buf_len = (pad->head ? align : 0) + (pad->tail ? align : 0);
    }
    pad->buf = bdrv_blockalign(bs, pad->buf_len);
    qemu_iovec_init(&pad->qiov, qiov->niov + 2);
    if (pad->head) {
        qemu_iovec_add(&pad->qiov, pad->buf, pad->head);
    }
    qemu_iovec_concat(&pad->qiov, qiov, qiov_offset, bytes);
    if (pad->tail) {
        qemu_iovec_add(&pad->qiov, pad->buf + pad->buf_len - pad->tail, pad->tail);
    }
    return true;
}

static void pad_destroy(BdrvPad *pad)
{
    qemu_iovec_destroy(&pad->qiov);
    bdrv_blockfree(pad->buf);
}

/* Read-modify-write: fill the padding of a write from the current contents. */
static int coroutine_fn pad_rmw_read(BdrvChild *child, BdrvPad *pad, int64_t aligned_off,
                                     int64_t aligned_bytes)
{
    BlockDriverState *bs = child->bs;
    int64_t align = bs->bl.request_alignment;
    QEMUIOVector q;
    int ret;

    if (pad->head) {
        bdrv_debug_event(bs, BLKDBG_PWRITEV_RMW_HEAD);
        qemu_iovec_init_buf(&q, pad->buf, align);
        ret = aligned_preadv(child, aligned_off, align, &q, 0, 0);
        if (ret < 0) {
            return ret;
        }
        bdrv_debug_event(bs, BLKDBG_PWRITEV_RMW_AFTER_HEAD);
    }
    if (pad->tail && !(pad->head && pad->buf_len == align)) {
        bdrv_debug_event(bs, BLKDBG_PWRITEV_RMW_TAIL);
        qemu_iovec_init_buf(&q, pad->buf + pad->buf_len - align, align);
        ret = aligned_preadv(child, aligned_off + aligned_bytes - align, align, &q, 0, 0);
        if (ret < 0) {
            return ret;
        }
        bdrv_debug_event(bs, BLKDBG_PWRITEV_RMW_AFTER_TAIL);
    }
    return 0;
}

/* ---- entry points ---- */

int coroutine_fn bdrv_co_preadv_part(BdrvChild *child, int64_t offset, int64_t bytes,
                                     QEMUIOVector *qiov, size_t qiov_offset,
                                     BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    QEMUIOVector prefetch_qiov;
    void *prefetch_buf = NULL;
    BdrvPad pad;
    int64_t align;
    int ret;

    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    ret = bdrv_check_request(offset, bytes, qiov, qiov_offset);
    if (ret < 0) {
        return ret;
    }
    if (bytes == 0) {
        return 0;
    }
    bdrv_wait_while_drained(child);
    bdrv_inc_in_flight(bs);
    if (bs->copy_on_read) {
        flags |= BDRV_REQ_COPY_ON_READ;
    }
    if (!qiov) {
        /* prefetch without a buffer: padding still needs somewhere to point */
        prefetch_buf = bdrv_blockalign(bs, bytes);
        qemu_iovec_init_buf(&prefetch_qiov, prefetch_buf, bytes);
        qiov = &prefetch_qiov;
        qiov_offset = 0;
    }
    align = bs->bl.request_alignment;
    tracked_begin(&req, bs, QEMU_ALIGN_DOWN(offset, align),
                  QEMU_ALIGN_UP(offset + bytes, align) - QEMU_ALIGN_DOWN(offset, align),
                  TRACKED_READ, flags & BDRV_REQ_COPY_ON_READ);
    tracked_wait(&req);
    if (pad_init(bs, offset, bytes, qiov, qiov_offset, &pad)) {
        ret = aligned_preadv(child, offset - pad.head, pad.head + bytes + pad.tail,
                             &pad.qiov, 0, flags);
        pad_destroy(&pad);
    } else {
        ret = aligned_preadv(child, offset, bytes, qiov, qiov_offset, flags);
    }
    tracked_end(&req);
    bdrv_blockfree(prefetch_buf);
    bdrv_dec_in_flight(bs);
    return ret;
}

int coroutine_fn bdrv_co_preadv(BdrvChild *child, int64_t offset, int64_t bytes,
                                QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    return bdrv_co_preadv_part(child, offset, bytes, qiov, 0, flags);
}

static int bdrv_check_writable(BdrvChild *child)
{
    BlockDriverState *bs = child->bs;

    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    if (!bdrv_is_writable(bs)) {
        return -EPERM;
    }
    if (!(child->perm & (BLK_PERM_WRITE | BLK_PERM_WRITE_UNCHANGED))) {
        return -EPERM;
    }
    return 0;
}

/* Zero write at any alignment: RMW the partial head and tail blocks. */
static int coroutine_fn zero_pwritev_padded(BdrvChild *child, int64_t offset, int64_t bytes,
                                            BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    int64_t align = bs->bl.request_alignment;
    BdrvRequestFlags data_flags = flags & BDRV_REQ_FUA;
    uint8_t *buf = bdrv_blockalign(bs, align);
    QEMUIOVector q;
    int ret = 0;

    qemu_iovec_init_buf(&q, buf, align);
    if (offset % align) {
        int64_t base = QEMU_ALIGN_DOWN(offset, align);
        int64_t n = MIN(bytes, base + align - offset);
        ret = aligned_preadv(child, base, align, &q, 0, 0);
        if (ret >= 0) {
            memset(buf + (offset - base), 0, n);
            ret = aligned_pwritev(child, base, align, &q, 0, data_flags);
        }
        offset += n;
        bytes -= n;
    }
    if (ret >= 0 && bytes >= align) {
        int64_t n = QEMU_ALIGN_DOWN(bytes, align);
        ret = aligned_pwritev(child, offset, n, NULL, 0, flags);
        offset += n;
        bytes -= n;
    }
    if (ret >= 0 && bytes > 0) {
        ret = aligned_preadv(child, offset, align, &q, 0, 0);
        if (ret >= 0) {
            memset(buf, 0, bytes);
            ret = aligned_pwritev(child, offset, align, &q, 0, data_flags);
        }
    }
    bdrv_blockfree(buf);
    return ret;
}

int coroutine_fn bdrv_co_pwritev_part(BdrvChild *child, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    int64_t align, a_off, a_bytes;
    bool zero = flags & BDRV_REQ_ZERO_WRITE;
    BdrvPad pad;
    int ret;

    ret = bdrv_check_writable(child);
    if (ret < 0) {
        return ret;
    }
    ret = bdrv_check_request(offset, bytes, zero ? NULL : qiov, qiov_offset);
    if (ret < 0) {
        return ret;
    }
    if (bytes == 0) {
        return 0;
    }
    if (!zero && !qiov) {
        return -EINVAL;
    }
    bdrv_wait_while_drained(child);
    bdrv_inc_in_flight(bs);
    align = bs->bl.request_alignment;
    a_off = QEMU_ALIGN_DOWN(offset, align);
    a_bytes = QEMU_ALIGN_UP(offset + bytes, align) - a_off;
    /* a padded write must not interleave with anything touching the same blocks */
    tracked_begin(&req, bs, a_off, a_bytes, TRACKED_WRITE,
                  a_off != offset || a_bytes != bytes || (flags & BDRV_REQ_SERIALISING));
    tracked_wait(&req);
    if (zero) {
        ret = zero_pwritev_padded(child, offset, bytes, flags);
    } else if (pad_init(bs, offset, bytes, qiov, qiov_offset, &pad)) {
        ret = pad_rmw_read(child, &pad, a_off, a_bytes);
        if (ret >= 0) {
            ret = aligned_pwritev(child, a_off, a_bytes, &pad.qiov, 0, flags);
        }
        pad_destroy(&pad);
    } else {
        ret = aligned_pwritev(child, offset, bytes, qiov, qiov_offset, flags);
    }
    for (GSList *l = bs->write_notifiers; l && ret >= 0; l = l->next) {
        BdrvWriteNotifier *n = l->data;
        if (n->after_write) {
            n->after_write(n, bs, offset, bytes, zero ? NULL : qiov, qiov_offset, flags);
        }
    }
    tracked_end(&req);
    bdrv_dec_in_flight(bs);
    return ret;
}

int coroutine_fn bdrv_co_pwritev(BdrvChild *child, int64_t offset, int64_t bytes,
                                 QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    return bdrv_co_pwritev_part(child, offset, bytes, qiov, 0, flags);
}

int coroutine_fn bdrv_co_pwrite_zeroes(BdrvChild *child, int64_t offset, int64_t bytes,
                                       BdrvRequestFlags flags)
{
    if (!(child->bs && (child->bs->open_flags & BDRV_O_UNMAP))) {
        flags &= ~BDRV_REQ_MAY_UNMAP;
    }
    return bdrv_co_pwritev_part(child, offset, bytes, NULL, 0, flags | BDRV_REQ_ZERO_WRITE);
}

int coroutine_fn bdrv_co_pread(BdrvChild *child, int64_t offset, int64_t bytes, void *buf,
                               BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, bytes);
    return bdrv_co_preadv(child, offset, bytes, &qiov, flags);
}

int coroutine_fn bdrv_co_pwrite(BdrvChild *child, int64_t offset, int64_t bytes,
                                const void *buf, BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, (void *)buf, bytes);
    return bdrv_co_pwritev(child, offset, bytes, &qiov, flags);
}

/*
 * The next piece of a discard at pos (a request_alignment multiple) before end:
 * up to the next pdiscard_alignment boundary while unaligned to it (the head, in
 * request_alignment units), then whole pdiscard_alignment units up to max_pdiscard,
 * then what is left (the tail). Devices that coalesce partial discards get the
 * head and tail too; the others return -ENOTSUP for them, which is ignored.
 */
static int64_t discard_piece(BlockDriverState *bs, int64_t pos, int64_t end)
{
    int64_t pd = MAX((int64_t)bs->bl.pdiscard_alignment, (int64_t)bs->bl.request_alignment);
    int64_t max = bs->bl.max_pdiscard > 0 ? bs->bl.max_pdiscard : INT32_MAX;
    int64_t num;

    max = MAX(QEMU_ALIGN_DOWN(max, pd), pd);
    if (pos % pd) {
        return MIN(end, QEMU_ALIGN_UP(pos, pd)) - pos;
    }
    num = MIN(end - pos, max);
    if (num > pd && (pos + num) % pd) {
        num = QEMU_ALIGN_DOWN(num, pd);     /* the unaligned tail goes on its own */
    }
    return num;
}

int coroutine_fn bdrv_co_pdiscard(BdrvChild *child, int64_t offset, int64_t bytes)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    int64_t align, start, end, total;
    int ret;

    ret = bdrv_check_writable(child);
    if (ret < 0) {
        return ret;
    }
    ret = bdrv_check_request(offset, bytes, NULL, 0);
    if (ret < 0) {
        return ret;
    }
    /* discard is advisory: without discard=unmap or driver support it is a no-op */
    if (!(bs->open_flags & BDRV_O_UNMAP) || !bs->drv->co_pdiscard || bytes == 0) {
        return 0;
    }
    total = bdrv_co_getlength(bs);
    /* drivers only see request_alignment multiples: drop the bits outside them */
    align = bs->bl.request_alignment;
    start = QEMU_ALIGN_UP(offset, align);
    end = (total >= 0 && offset + bytes >= total) ? offset + bytes
                                                  : QEMU_ALIGN_DOWN(offset + bytes, align);
    if (start >= end) {
        return 0;
    }
    bdrv_wait_while_drained(child);
    bdrv_inc_in_flight(bs);
    tracked_begin(&req, bs, offset, bytes, TRACKED_DISCARD, false);
    tracked_wait(&req);
    for (GSList *l = bs->write_notifiers; l && ret >= 0; l = l->next) {
        BdrvWriteNotifier *n = l->data;
        ret = n->notify ? n->notify(n, bs, offset, bytes) : 0;
    }
    for (int64_t pos = start; pos < end && ret >= 0;) {
        int64_t num = discard_piece(bs, pos, end);
        ret = bs->drv->co_pdiscard(bs, pos, num);
        if (ret == -ENOTSUP) {
            ret = 0;
        }
        pos += num;
    }
    bs->write_gen++;
    bdrv_set_dirty(bs, offset, bytes);
    tracked_end(&req);
    bdrv_dec_in_flight(bs);
    return ret < 0 ? ret : 0;
}

/*
 * Flushes of a node run one at a time. Each notes write_gen when it arrives; one
 * that waited behind another may find, once it runs, that the flush that just
 * completed had started with the same write_gen: nothing was written since, so
 * only flush_to_os and the children are left to do.
 */
int coroutine_fn bdrv_co_flush(BlockDriverState *bs)
{
    BdrvChild *primary = bs->file ? bs->file : bs->backing;
    uint64_t gen;
    int ret = 0;

    if (!bs->drv) {
        return 0;
    }
    bdrv_inc_in_flight(bs);
    gen = bs->write_gen;
    while (bs->active_flush_req) {
        qemu_co_queue_wait(&bs->flush_queue, NULL);
    }
    bs->active_flush_req = true;
    /* the driver's own caches go to the OS even with cache=unsafe */
    BLKDBG_EVENT(primary, BLKDBG_FLUSH_TO_OS);
    if (bs->drv->co_flush_to_os) {
        ret = bs->drv->co_flush_to_os(bs);
        if (ret < 0) {
            goto out;
        }
    }
    if (!(bs->open_flags & BDRV_O_NO_FLUSH) && bs->flushed_gen != gen) {
        BLKDBG_EVENT(primary, BLKDBG_FLUSH_TO_DISK);
        if (bs->drv->co_flush_to_disk) {
            ret = bs->drv->co_flush_to_disk(bs);
            if (ret < 0) {
                goto out;
            }
        }
    }
    for (GSList *l = bs->children; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->perm & (BLK_PERM_WRITE | BLK_PERM_WRITE_UNCHANGED)) {
            int r = bdrv_co_flush(c->bs);
            if (r < 0 && ret == 0) {
                ret = r;
            }
        }
    }
out:
    if (ret == 0) {
        bs->flushed_gen = gen;
    }
    bs->active_flush_req = false;
    qemu_co_queue_next(&bs->flush_queue);
    bdrv_dec_in_flight(bs);
    return ret;
}

int coroutine_fn bdrv_co_truncate(BdrvChild *child, int64_t offset, bool exact,
                                  PreallocMode prealloc, BdrvRequestFlags flags, Error **errp)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    int64_t old;
    int ret;

    if (!bs || !bs->drv) {
        error_setg(errp, "No medium inserted");
        return -ENOMEDIUM;
    }
    if (offset < 0) {
        error_setg(errp, "Image size cannot be negative");
        return -EINVAL;
    }
    if (!bdrv_is_writable(bs)) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    if (!(child->perm & BLK_PERM_RESIZE)) {
        error_setg(errp, "Permission 'resize' is not granted on node '%s'",
                   bdrv_get_node_name(bs));
        return -EPERM;
    }
    old = bdrv_co_getlength(bs);
    if (old < 0) {
        error_setg_errno(errp, -old, "Failed to get old image size");
        return old;
    }
    bdrv_inc_in_flight(bs);
    tracked_begin(&req, bs, MIN(old, offset), INT64_MAX - MIN(old, offset),
                  TRACKED_TRUNCATE, true);
    tracked_wait(&req);
    if (bs->drv->co_truncate) {
        ret = bs->drv->co_truncate(bs, offset, exact, prealloc, flags, errp);
    } else if ((bs->drv->flags & BDRV_F_FILTER) && bs->file) {
        ret = bdrv_co_truncate(bs->file, offset, exact, prealloc, flags, errp);
    } else {
        error_setg(errp, "Image format driver does not support resize");
        ret = -ENOTSUP;
    }
    if (ret == 0) {
        bs->total_size = -1;
        bdrv_co_getlength(bs);
        bdrv_dirty_bitmap_truncate(bs, offset);
        bs->write_gen++;
        for (GSList *l = bs->parents; l; l = l->next) {
            BdrvChild *c = l->data;
            if (c->klass->resize) {
                c->klass->resize(c);
            }
        }
    }
    tracked_end(&req);
    bdrv_dec_in_flight(bs);
    return ret;
}

int64_t coroutine_fn bdrv_co_getlength(BlockDriverState *bs)
{
    if (!bs->drv) {
        return -ENOMEDIUM;
    }
    if (bs->total_size >= 0) {
        return bs->total_size;
    }
    if (bs->drv->co_getlength) {
        int64_t len = bs->drv->co_getlength(bs);
        if (len >= 0) {
            /* QEMU counts lengths in whole sectors: a 1000-byte file is 1024 */
            len = QEMU_ALIGN_UP(len, BDRV_SECTOR_SIZE);
            bs->total_size = len;
        }
        return len;
    }
    BlockDriverState *f = bdrv_filter_or_cow_bs(bs);
    if (f && (bs->drv->flags & BDRV_F_FILTER)) {
        return bdrv_co_getlength(f);
    }
    return -ENOTSUP;
}

int64_t bdrv_refresh_total_size(BlockDriverState *bs)
{
    bs->total_size = -1;
    return bdrv_getlength(bs);
}

int64_t coroutine_fn bdrv_co_get_allocated_file_size(BlockDriverState *bs)
{
    if (!bs->drv) {
        return -ENOMEDIUM;
    }
    if (bs->drv->co_get_allocated_file_size) {
        return bs->drv->co_get_allocated_file_size(bs);
    }
    if (bs->drv->protocol_name) {
        return -ENOTSUP;        /* blkdebug: QEMU reports no size for protocols */
    }
    if (bs->file) {
        return bdrv_co_get_allocated_file_size(bs->file->bs);
    }
    return -ENOTSUP;
}

int coroutine_fn bdrv_co_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    memset(res, 0, sizeof(*res));
    if (!bs->drv) {
        return -ENOMEDIUM;
    }
    if (!bs->drv->co_check) {
        return -ENOTSUP;
    }
    return bs->drv->co_check(bs, res, fix);
}

/* ---- limits ---- */

static void bdrv_merge_limits(BlockLimits *dst, const BlockLimits *src)
{
    dst->max_transfer = MIN_NON_ZERO(dst->max_transfer, src->max_transfer);
    dst->opt_transfer = MAX(dst->opt_transfer, src->opt_transfer);
    dst->min_mem_alignment = MAX(dst->min_mem_alignment, src->min_mem_alignment);
    dst->opt_mem_alignment = MAX(dst->opt_mem_alignment, src->opt_mem_alignment);
    dst->max_iov = MIN_NON_ZERO(dst->max_iov, src->max_iov);
}

void bdrv_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BdrvChild *filtered = NULL;

    if (!bs->drv) {
        return;
    }
    memset(&bs->bl, 0, sizeof(bs->bl));
    bs->bl.request_alignment = 1;
    for (GSList *l = bs->children; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->role & (BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY | BDRV_CHILD_DATA)) {
            bdrv_merge_limits(&bs->bl, &c->bs->bl);
            if ((c->role & BDRV_CHILD_FILTERED) && !(c->role & BDRV_CHILD_COW)) {
                filtered = c;
            }
        }
    }
    /* a pure filter passes requests through unchanged: its child's alignment holds */
    if (filtered && (bs->drv->flags & BDRV_F_FILTER)) {
        bs->bl.request_alignment = filtered->bs->bl.request_alignment;
        bs->bl.pdiscard_alignment = filtered->bs->bl.pdiscard_alignment;
        bs->bl.pwrite_zeroes_alignment = filtered->bs->bl.pwrite_zeroes_alignment;
    }
    if (bs->drv->refresh_limits) {
        bs->drv->refresh_limits(bs, errp);
    }
    if (!bs->bl.max_iov) {
        bs->bl.max_iov = IOV_MAX;
    }
    if (!bs->bl.request_alignment) {
        bs->bl.request_alignment = 1;
    }
}

void bdrv_add_before_write_notifier(BlockDriverState *bs, BdrvWriteNotifier *n)
{
    bs->write_notifiers = g_slist_append(bs->write_notifiers, n);
}

void bdrv_remove_before_write_notifier(BlockDriverState *bs, BdrvWriteNotifier *n)
{
    bs->write_notifiers = g_slist_remove(bs->write_notifiers, n);
}
