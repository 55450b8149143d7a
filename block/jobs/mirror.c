/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * mirror.c: drive-mirror, blockdev-mirror, and active commit (a mirror of the
 * active layer into its own backing node).
 *
 *   phase 1  a dirty bitmap on the source starts recording; what the sync mode
 *            asks for (full: everything allocated in the chain; top: what the top
 *            allocates; none: nothing) is marked dirty, then copied in chunks of
 *            up to 1 MiB, several in flight (buf-size bytes in total). Block status
 *            keeps holes: zero areas become zero-writes (unmap=true: may unmap).
 *   READY    nothing dirty and nothing in flight: BLOCK_JOB_READY.
 *   phase 2  keep converging on the bitmap as the guest writes. In write-blocking
 *            copy mode a guest write is also written to the target before it
 *            completes (an after-write hook on the source), so the target cannot
 *            fall behind.
 *   end      complete: once in sync, hold the source drained and, in prepare(),
 *            move the source's users to the target (bdrv_replace_node).
 *            Soft cancel after READY: the same convergence, no pivot, COMPLETED.
 *            Force cancel, or any cancel before READY: CANCELLED, the target is
 *            left as it is.
 *
 * While the job runs, a mirror_top filter sits above the source (named by
 * filter-node-name, else implicit); the exit path takes it out before the pivot.
 *
 * A chunk being copied is marked in `in_flight` so that no second copy of the
 * same chunk (re-dirtied meanwhile) can overtake it; the guest's copies in
 * write-blocking mode leave such chunks dirty for the background loop.
 */
#include "util/osdep.h"
#include "block/blockjob.h"
#include "block/block-int.h"
#include "block/dirty-bitmap.h"
#include "block/jobs.h"
#include "block/filter.h"

#define MIRROR_MAX_IO       (4 << 20)                  /* bytes per copy operation */
#define MIRROR_DEFAULT_BUF  (8 * MIRROR_MAX_IO)        /* 8 ops in flight */
#define MIRROR_IDLE_NS      (100 * SCALE_MS)           /* nap when in sync */

typedef enum MirrorMethod { MIRROR_COPY, MIRROR_ZERO } MirrorMethod;
#define MIRROR_BITS (sizeof(unsigned long) * 8)

typedef struct MirrorJob {
    BlockJob common;                  /* first; common.blk reads the source */

    /* Set at start. */
    BlockBackend *target;             /* writes to the target node */
    BlockDriverState *source, *target_bs;
    BlockDriverState *filter;         /* mirror_top, above the source */
    BlockDriverState *base;           /* data at or below base is not copied (top, commit) */
    MirrorParams p;
    char *replaces;
    bool is_commit;                   /* active commit: base was reopened read-write */
    bool base_was_ro;
    int64_t length;
    uint32_t granularity;
    BdrvDirtyBitmap *bitmap;          /* anonymous, on the source */
    BdrvWriteNotifier write_hook;     /* write-blocking mode */
    Error *target_blocker;

    /* Job coroutine and ops; main loop only. */
    unsigned long *in_flight;         /* one bit per granularity chunk */
    int ops_in_flight;
    int64_t bytes_in_flight;
    CoQueue ops_done;                 /* the job waits here for ops to finish */
    GSList *free_bufs;                /* MIRROR_MAX_IO-byte buffers for reuse */
    int ret;                          /* first reported error */
    bool synced;                      /* READY was reached */
    bool should_complete;             /* job-complete: pivot at the end */
    bool drained;                     /* run() left the source drained for prepare() */
    bool exited;                      /* prepare/abort already ran the exit path */
} MirrorJob;

typedef struct MirrorOp {
    MirrorJob *s;
    int64_t offset, bytes;
    MirrorMethod method;
} MirrorOp;

uint32_t bdrv_default_bitmap_granularity(BlockDriverState *bs)
{
    BlockDriverInfo bdi = { 0 };

    if (bdrv_get_info(bs, &bdi) == 0 && bdi.cluster_size > 0) {
        return MIN(MAX(4096, bdi.cluster_size), 65536);
    }
    return 65536;
}

/* ---- in-flight chunk map ---- */

static void mirror_mark_in_flight(MirrorJob *s, int64_t offset, int64_t bytes, bool set)
{
    int64_t first = offset / s->granularity;
    int64_t last = (offset + bytes - 1) / s->granularity;

    for (int64_t i = first; i <= last; i++) {
        if (set) {
            s->in_flight[i / MIRROR_BITS] |= 1UL << (i % MIRROR_BITS);
        } else {
            s->in_flight[i / MIRROR_BITS] &= ~(1UL << (i % MIRROR_BITS));
        }
    }
}

static bool mirror_is_in_flight(MirrorJob *s, int64_t offset, int64_t bytes)
{
    int64_t first = offset / s->granularity;
    int64_t last = (offset + bytes - 1) / s->granularity;

    for (int64_t i = first; i <= last; i++) {
        if (s->in_flight[i / MIRROR_BITS] & (1UL << (i % MIRROR_BITS))) {
            return true;
        }
    }
    return false;
}

static void coroutine_fn mirror_co_wait_one(MirrorJob *s)
{
    qemu_co_queue_wait(&s->ops_done, NULL);
}

static void coroutine_fn mirror_co_wait_all(MirrorJob *s)
{
    while (s->ops_in_flight > 0) {
        mirror_co_wait_one(s);
    }
}

/* ---- one copy operation (its own coroutine) ---- */

static void mirror_op_error(MirrorOp *op, bool is_read, int ret)
{
    MirrorJob *s = op->s;
    BlockErrorAction action;

    /* whatever happens next, this area is not on the target yet */
    bdrv_set_dirty_bitmap(s->bitmap, op->offset, op->bytes);
    action = block_job_error_action(&s->common, is_read ? s->p.on_source_error
                                                        : s->p.on_target_error,
                                    is_read, -ret);
    if (action == BLOCK_ERROR_ACTION_REPORT && s->ret >= 0) {
        s->ret = ret;
    }
}

static void coroutine_fn mirror_co_op(void *opaque)
{
    MirrorOp *op = opaque;
    MirrorJob *s = op->s;
    void *buf = NULL;
    int ret = 0;

    if (op->method == MIRROR_COPY) {
        /* reused: a fresh 1 MiB buffer is an mmap that faults in page by page */
        if (op->bytes < MIRROR_MAX_IO) {
            buf = bdrv_blockalign(blk_bs(s->target), op->bytes);
        } else if (s->free_bufs) {
            buf = s->free_bufs->data;
            s->free_bufs = g_slist_delete_link(s->free_bufs, s->free_bufs);
        } else {
            buf = bdrv_blockalign(blk_bs(s->target), MIRROR_MAX_IO);
        }
        ret = blk_co_pread(s->common.blk, op->offset, op->bytes, buf, 0);
        if (ret < 0) {
            mirror_op_error(op, true, ret);
            goto out;
        }
        ret = blk_co_pwrite(s->target, op->offset, op->bytes, buf, 0);
    } else {
        ret = blk_co_pwrite_zeroes(s->target, op->offset, op->bytes,
                                   s->p.unmap ? BDRV_REQ_MAY_UNMAP : 0);
    }
    if (ret < 0) {
        mirror_op_error(op, false, ret);
        goto out;
    }
    job_progress_update(&s->common.job, op->bytes);
out:
    if (buf && op->bytes == MIRROR_MAX_IO) {
        s->free_bufs = g_slist_prepend(s->free_bufs, buf);   /* at most buf-size in all */
    } else {
        bdrv_blockfree(buf);
    }
    mirror_mark_in_flight(s, op->offset, op->bytes, false);
    s->ops_in_flight--;
    s->bytes_in_flight -= op->bytes;
    g_free(op);
    qemu_co_queue_restart_all(&s->ops_done);
}

/* Start copying [offset, offset + bytes): dirty bits go now, the data follows. */
static void mirror_start_op(MirrorJob *s, int64_t offset, int64_t bytes, MirrorMethod method)
{
    MirrorOp *op = g_new0(MirrorOp, 1);

    op->s = s;
    op->offset = offset;
    op->bytes = bytes;
    op->method = method;
    bdrv_reset_dirty_bitmap(s->bitmap, offset, bytes);
    mirror_mark_in_flight(s, offset, bytes, true);
    s->ops_in_flight++;
    s->bytes_in_flight += bytes;
    aio_co_enter(qemu_get_aio_context(), qemu_coroutine_create(mirror_co_op, op));
}

/*
 * Start ops for the next dirty areas, up to buf-size bytes in flight. Returns the
 * bytes started (for the rate limit).
 */
static int64_t coroutine_fn mirror_co_iteration(MirrorJob *s)
{
    int64_t started = 0, offset = 0;

    while (s->bytes_in_flight < s->p.buf_size) {
        int64_t start, count, pnum;
        int ret;

        if (!bdrv_dirty_bitmap_next_dirty_area(s->bitmap, offset, s->length,
                                               MIN(MIRROR_MAX_IO, s->p.buf_size),
                                               &start, &count)) {
            break;
        }
        if (mirror_is_in_flight(s, start, count)) {
            /* an older copy of these chunks must land first */
            mirror_co_wait_one(s);
            offset = 0;
            continue;
        }
        ret = bdrv_co_block_status_above(s->source, s->base, true, start, count, &pnum,
                                         NULL, NULL, NULL);
        MirrorMethod method = MIRROR_COPY;
        bool skip = false;
        if (ret < 0 || pnum <= 0) {
            pnum = count;             /* the copy will report the real error */
        } else if (s->base && !(ret & BDRV_BLOCK_ALLOCATED)) {
            skip = true;              /* base provides it, and the target reads base */
        } else if ((ret & BDRV_BLOCK_ZERO) || !(ret & BDRV_BLOCK_DATA)) {
            method = MIRROR_ZERO;     /* keep holes: never write zeroes as data */
        }
        /* whole chunks only: the bitmap cannot express less */
        pnum = MIN(count, QEMU_ALIGN_UP(start + pnum, s->granularity) - start);
        pnum = MIN(pnum, s->length - start);
        if (skip) {
            bdrv_reset_dirty_bitmap(s->bitmap, start, pnum);
            job_progress_update(&s->common.job, pnum);
            offset = start + pnum;
            continue;
        }
        mirror_start_op(s, start, pnum, method);
        started += pnum;
        offset = start + pnum;
    }
    return started;
}

/* ---- write-blocking copy mode ---- */

static void coroutine_fn mirror_after_write(BdrvWriteNotifier *n, BlockDriverState *bs,
                                            int64_t offset, int64_t bytes, QEMUIOVector *qiov,
                                            size_t qiov_offset, BdrvRequestFlags flags)
{
    MirrorJob *s = n->opaque;
    int64_t end = MIN(offset + bytes, s->length);
    int ret;

    if (s->exited || offset >= end || mirror_is_in_flight(s, offset, end - offset)) {
        return;                       /* the background loop copies it later */
    }
    mirror_mark_in_flight(s, offset, end - offset, true);
    s->ops_in_flight++;
    if (!qiov) {
        ret = blk_co_pwrite_zeroes(s->target, offset, end - offset,
                                   flags & BDRV_REQ_MAY_UNMAP);
    } else {
        QEMUIOVector part;

        qemu_iovec_init_slice(&part, qiov, qiov_offset, end - offset);
        ret = blk_co_pwritev(s->target, offset, end - offset, &part, 0);
        qemu_iovec_destroy(&part);
    }
    if (ret >= 0) {
        /* only whole chunks are known to be equal now */
        int64_t a = QEMU_ALIGN_UP(offset, s->granularity);
        int64_t b = end == s->length ? end : QEMU_ALIGN_DOWN(end, s->granularity);
        if (a < b) {
            bdrv_reset_dirty_bitmap(s->bitmap, a, b - a);
        }
    } else {
        block_job_error_action(&s->common, s->p.on_target_error, false, -ret);
    }
    mirror_mark_in_flight(s, offset, end - offset, false);
    s->ops_in_flight--;
    qemu_co_queue_restart_all(&s->ops_done);
}

/* ---- run ---- */

/* Mark what the sync mode copies; zero the target first if asked to. */
static int coroutine_fn mirror_co_dirty_init(MirrorJob *s)
{
    int64_t n;

    if (s->p.sync == MIRROR_SYNC_MODE_NONE) {
        return 0;
    }
    if (s->p.zero_target) {
        if (!(s->target_bs->open_flags & BDRV_O_UNMAP)) {
            /* zeroing could allocate: copy everything instead (zeroes stay zero-writes) */
            bdrv_set_dirty_bitmap(s->bitmap, 0, s->length);
            return 0;
        }
        for (int64_t off = 0; off < s->length; off += n) {
            n = MIN(s->length - off, 1LL << 30);
            if (blk_co_pwrite_zeroes(s->target, off, n, BDRV_REQ_MAY_UNMAP |
                                     BDRV_REQ_NO_FALLBACK) < 0) {
                bdrv_set_dirty_bitmap(s->bitmap, 0, s->length);
                return 0;             /* cannot cheaply zero: copy everything */
            }
        }
    }
    for (int64_t off = 0; off < s->length; off += n) {
        int ret = bdrv_co_is_allocated_above(s->source, s->base, false, off,
                                             s->length - off, &n);
        if (ret < 0) {
            return ret;
        }
        if (n <= 0) {
            break;
        }
        if (ret) {
            bdrv_set_dirty_bitmap(s->bitmap, off, n);
        }
        job_co_sleep_ns(&s->common.job, 0);
        if (job_is_cancelled(&s->common.job)) {
            return 0;
        }
    }
    return 0;
}

/* In sync and asked to finish: hold the source still for prepare(). */
static bool coroutine_fn mirror_co_try_finish(MirrorJob *s)
{
    bdrv_drained_begin(s->source);
    if (bdrv_get_dirty_count(s->bitmap) > 0 || s->ops_in_flight > 0 ||
        blk_co_flush(s->target) < 0) {
        bdrv_drained_end(s->source);
        return false;
    }
    s->drained = true;
    return true;
}

static int coroutine_fn mirror_run(Job *job, Error **errp)
{
    MirrorJob *s = container_of(job, MirrorJob, common.job);
    int ret;

    ret = mirror_co_dirty_init(s);
    if (ret < 0) {
        return ret;
    }
    for (;;) {
        int64_t cnt;

        if (s->ret < 0) {
            break;
        }
        cnt = bdrv_get_dirty_count(s->bitmap);
        job_progress_set_remaining(job, s->bytes_in_flight + cnt);
        if (cnt > 0 && s->bytes_in_flight < s->p.buf_size) {
            job_ratelimit_processed(job, mirror_co_iteration(s));
        } else if (s->ops_in_flight > 0 && s->bytes_in_flight >= s->p.buf_size) {
            mirror_co_wait_one(s);
            continue;
        }
        if (s->ops_in_flight == 0 && bdrv_get_dirty_count(s->bitmap) == 0) {
            if (!s->synced) {
                if (blk_co_flush(s->target) < 0) {
                    continue;         /* retried at the next round */
                }
                job_transition_to_ready(job);
                s->synced = true;
            }
            if ((s->should_complete || job_cancel_requested(job)) && !job_is_cancelled(job)) {
                if (mirror_co_try_finish(s)) {
                    break;
                }
            }
        }
        if (job_is_cancelled(job)) {
            break;
        }
        if (s->ops_in_flight == 0 && bdrv_get_dirty_count(s->bitmap) == 0) {
            job_co_sleep_ns(job, MIRROR_IDLE_NS);
        } else {
            job_co_ratelimit_sleep(job);
        }
    }
    mirror_co_wait_all(s);
    if (s->ret < 0) {
        return s->ret;                /* job.c words it: "Input/output error" */
    }
    return 0;
}

/* At a pause point: nothing of ours may stay in flight while paused. */
static void coroutine_fn mirror_pause(Job *job)
{
    mirror_co_wait_all(container_of(job, MirrorJob, common.job));
}

static void mirror_complete(Job *job, Error **errp)
{
    MirrorJob *s = container_of(job, MirrorJob, common.job);

    if (!s->synced) {
        error_setg(errp, "The active block job '%s' cannot be completed", job->id);
        return;
    }
    if (s->replaces && !bdrv_find_node(s->replaces)) {
        error_setg(errp, "Node name '%s' not found", s->replaces);
        return;
    }
    s->should_complete = true;
    if (!job->paused) {
        job_enter(job);
    }
}

static bool mirror_cancel(Job *job, bool force)
{
    return force || !job_is_ready(job);
}

/* ---- exit: graph changes ---- */

static int mirror_exit(Job *job, bool abort)
{
    MirrorJob *s = container_of(job, MirrorJob, common.job);
    BlockDriverState *src = s->source, *target = s->target_bs;
    Error *local_err = NULL;
    int ret = 0;

    if (s->exited) {
        return 0;
    }
    s->exited = true;
    bdrv_ref(src);
    bdrv_ref(target);
    if (s->p.copy_mode == MIRROR_COPY_MODE_WRITE_BLOCKING) {
        bdrv_remove_before_write_notifier(src, &s->write_hook);
    }
    bdrv_release_dirty_bitmap(s->bitmap);
    s->bitmap = NULL;
    if (!abort && s->p.target_takes_source_backing &&
        bdrv_backing_bs(target) != bdrv_backing_bs(src)) {
        ret = bdrv_set_backing_hd(target, bdrv_backing_bs(src), &local_err);
    }
    /* our own edges and backends must not follow the pivot, nor block it */
    block_job_remove_all_bdrv(&s->common);
    bdrv_op_unblock_all(target, s->target_blocker);
    blk_unref(s->target);
    s->target = NULL;
    blk_remove_bs(s->common.blk);
    bdrv_filter_drop(&s->filter);     /* the source's users are its own again */
    if (ret == 0 && !abort && s->should_complete) {
        BlockDriverState *to_replace = s->replaces ? bdrv_find_node(s->replaces) : src;

        if (!to_replace) {
            error_setg(&local_err, "Node name '%s' not found", s->replaces);
            ret = -ENOENT;
        } else {
            ret = bdrv_replace_node(to_replace, target, &local_err);
        }
    }
    if (s->is_commit && s->base_was_ro && (abort || !s->should_complete || ret < 0)) {
        bdrv_reopen_set_read_only(s->base, true, NULL);
    }
    if (s->drained) {
        s->drained = false;
        bdrv_drained_end(src);
    }
    if (ret < 0) {
        error_propagate(&job->err, local_err);
    }
    if (s->p.target_owned) {
        bdrv_unref(target);           /* the reference drive-mirror opened it with */
    }
    bdrv_unref(target);
    bdrv_unref(src);
    return ret;
}

static int mirror_prepare(Job *job)
{
    return mirror_exit(job, false);
}

static void mirror_abort(Job *job)
{
    mirror_exit(job, true);
}

static void mirror_free(Job *job)
{
    MirrorJob *s = container_of(job, MirrorJob, common.job);

    g_slist_free_full(s->free_bufs, free);
    g_free(s->in_flight);
    g_free(s->replaces);
    error_free(s->target_blocker);
}

static const JobDriver mirror_job_driver = {
    .instance_size = sizeof(MirrorJob),
    .job_type = JOB_TYPE_MIRROR,
    .run = mirror_run,
    .pause = mirror_pause,
    .complete = mirror_complete,
    .cancel = mirror_cancel,
    .prepare = mirror_prepare,
    .abort = mirror_abort,
    .free = mirror_free,
};

static const JobDriver commit_active_job_driver = {
    .instance_size = sizeof(MirrorJob),
    .job_type = JOB_TYPE_COMMIT,
    .run = mirror_run,
    .pause = mirror_pause,
    .complete = mirror_complete,
    .cancel = mirror_cancel,
    .prepare = mirror_prepare,
    .abort = mirror_abort,
    .free = mirror_free,
};

/* ---- start ---- */

static MirrorJob *mirror_start_job(const JobDriver *driver, BlockDriverState *bs,
                                   BlockDriverState *target, BlockDriverState *base,
                                   const MirrorParams *p, Error **errp)
{
    bool target_is_backing = bdrv_chain_contains(bs, target);
    uint64_t tperm = BLK_PERM_WRITE, tshared = BLK_PERM_WRITE_UNCHANGED;
    BlockDriverState *filter;
    const char *job_id;
    int64_t len, tlen;
    MirrorJob *s;

    if (p->buf_size < 0) {
        error_setg(errp, "Invalid parameter 'buf-size'");
        return NULL;
    }
    if (bdrv_skip_filters(bs) == bdrv_skip_filters(target)) {
        error_setg(errp, "Can't mirror node into itself");
        return NULL;
    }
    len = bdrv_getlength(bs);
    tlen = bdrv_getlength(target);
    if (len < 0 || tlen < 0) {
        error_setg_errno(errp, -(len < 0 ? len : tlen), "Could not get the size of '%s'",
                         bdrv_get_node_name(len < 0 ? bs : target));
        return NULL;
    }
    if (target_is_backing) {
        if (tlen < len) {
            tperm |= BLK_PERM_RESIZE;
        }
        tshared |= BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE;
    } else if (bdrv_chain_contains(bs, bdrv_skip_filters(target))) {
        error_setg(errp, "Cannot mirror to a filter on top of a node in the source's "
                   "backing chain");
        return NULL;
    }
    job_id = p->job_id;
    if (!job_id && !(p->flags & JOB_INTERNAL)) {
        job_id = bdrv_get_device_name(bs);     /* while bs is still the device's node */
    }
    /* first: bdrv_replace_node would move edges of the job's onto the filter */
    filter = bdrv_filter_insert(&bdrv_mirror_top, bs, p->filter_node_name, errp);
    if (!filter) {
        return NULL;
    }
    s = block_job_create(job_id, driver, NULL, bs, BLK_PERM_CONSISTENT_READ,
                         BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED | BLK_PERM_WRITE,
                         p->speed, p->flags, NULL, NULL, errp);
    if (!s) {
        bdrv_filter_drop(&filter);
        return NULL;
    }
    s->filter = filter;
    if (block_job_add_bdrv(&s->common, "mirror_top filter", filter, 0, BLK_PERM_ALL,
                           errp) < 0) {
        block_job_remove_all_bdrv(&s->common);
        bdrv_filter_drop(&s->filter);
        block_job_early_fail(&s->common);
        return NULL;
    }
    s->p = *p;
    s->p.job_id = NULL;
    s->p.filter_node_name = NULL;
    s->replaces = g_strdup(p->replaces);
    s->p.replaces = NULL;
    s->p.buf_size = p->buf_size ? p->buf_size : MIRROR_DEFAULT_BUF;
    s->source = bs;
    s->target_bs = target;
    s->base = base;
    s->length = len;
    s->granularity = p->granularity ? p->granularity : bdrv_default_bitmap_granularity(target);
    s->p.buf_size = MAX(s->p.buf_size, s->granularity);
    s->ret = 0;
    qemu_co_queue_init(&s->ops_done);
    s->in_flight = g_new0(unsigned long,
                          (len / s->granularity + 1) / MIRROR_BITS + 1);
    s->target = blk_new(tperm, tshared);
    if (blk_insert_bs(s->target, target, errp) < 0) {
        goto fail;
    }
    if (target_is_backing && tlen < len &&
        blk_truncate(s->target, len, false, PREALLOC_MODE_OFF, 0, errp) < 0) {
        goto fail;
    }
    error_setg(&s->target_blocker, "block device is in use by block job: %s",
               job_type_str(driver->job_type));
    bdrv_op_block_all(target, s->target_blocker);
    s->bitmap = bdrv_create_dirty_bitmap(bs, s->granularity, NULL, errp);
    if (!s->bitmap) {
        goto fail_unblock;
    }
    bdrv_dirty_bitmap_set_busy(s->bitmap, true);
    if (p->copy_mode == MIRROR_COPY_MODE_WRITE_BLOCKING) {
        s->write_hook.after_write = mirror_after_write;
        s->write_hook.opaque = s;
        bdrv_add_before_write_notifier(bs, &s->write_hook);
    }
    return s;

fail_unblock:
    bdrv_op_unblock_all(target, s->target_blocker);
fail:
    blk_unref(s->target);
    s->target = NULL;
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->filter);
    block_job_early_fail(&s->common);
    return NULL;
}

bool mirror_start(BlockDriverState *bs, BlockDriverState *target, const MirrorParams *p,
                  Error **errp)
{
    BlockDriverState *base;
    MirrorJob *s;

    if (p->sync == MIRROR_SYNC_MODE_INCREMENTAL || p->sync == MIRROR_SYNC_MODE_BITMAP) {
        error_setg(errp, "Sync mode '%s' not supported",
                   p->sync == MIRROR_SYNC_MODE_BITMAP ? "bitmap" : "incremental");
        return false;
    }
    base = p->sync == MIRROR_SYNC_MODE_TOP ? bdrv_backing_bs(bs) : NULL;
    s = mirror_start_job(&mirror_job_driver, bs, target, base, p, errp);
    if (!s) {
        return false;
    }
    if (block_job_add_bdrv(&s->common, "target", target, 0, BLK_PERM_ALL, errp) < 0) {
        s->p.target_owned = false;    /* the caller keeps its reference on failure */
        mirror_exit(&s->common.job, true);
        block_job_early_fail(&s->common);
        return false;
    }
    job_start(&s->common.job);
    return true;
}

/* Active commit: called by commit.c when top is the active layer. */
bool mirror_commit_active_start(const char *job_id, BlockDriverState *bs,
                                BlockDriverState *base, int flags, int64_t speed,
                                BlockdevOnError on_error, const char *filter_node_name,
                                Error **errp);

bool mirror_commit_active_start(const char *job_id, BlockDriverState *bs,
                                BlockDriverState *base, int flags, int64_t speed,
                                BlockdevOnError on_error, const char *filter_node_name,
                                Error **errp)
{
    MirrorParams p = {
        .job_id = job_id, .flags = flags, .speed = speed, .sync = MIRROR_SYNC_MODE_TOP,
        .on_source_error = on_error, .on_target_error = on_error, .unmap = true,
        .filter_node_name = filter_node_name,
    };
    bool base_was_ro = bdrv_is_read_only(base);
    MirrorJob *s;

    if (base_was_ro && bdrv_reopen_set_read_only(base, false, errp) < 0) {
        return false;
    }
    s = mirror_start_job(&commit_active_job_driver, bs, base, base, &p, errp);
    if (!s) {
        goto fail;
    }
    s->is_commit = true;
    s->base_was_ro = base_was_ro;
    for (BlockDriverState *it = bdrv_backing_bs(bs); it && it != base;
         it = bdrv_backing_bs(it)) {
        if (block_job_add_bdrv(&s->common, "intermediate node", it, 0,
                               BLK_PERM_WRITE_UNCHANGED | BLK_PERM_WRITE |
                               BLK_PERM_CONSISTENT_READ, errp) < 0) {
            s->base_was_ro = false;   /* restored below */
            mirror_exit(&s->common.job, true);
            block_job_early_fail(&s->common);
            goto fail;
        }
    }
    job_start(&s->common.job);
    return true;

fail:
    if (base_was_ro) {
        bdrv_reopen_set_read_only(base, true, NULL);
    }
    return false;
}
