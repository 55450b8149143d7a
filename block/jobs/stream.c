/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * stream.c: block-stream. Copies into the top node everything it reads from the
 * nodes between it and `base` (exclusive), then makes base its backing node:
 *
 *     base <- mid1 <- mid2 <- top      ==>      base <- top (now holding mid1+mid2)
 *
 * Each chunk is looked up first in top (allocated there: nothing to do), then in
 * the chain above base (allocated there: a copy-on-read prefetch through top's
 * backend pulls it up); what only base or nothing provides stays where it is.
 * The chain is changed in prepare() only, so a cancelled or failed stream leaves
 * it as it was (top merely holds more data, which reads the same).
 *
 * While the job runs, a copy-on-read filter sits above top (bounded by the lowest
 * streamed node), so that the guest's reads copy up as well; clean() removes it.
 *
 * Copies run as their own coroutines, STREAM_MAX_OPS of them in flight, so that
 * one chunk's read overlaps another's write. A failed copy is kept aside; the
 * job loop takes the failures in offset order, once nothing is in flight, and
 * applies the error policy to each as a serial loop would (stop: redo from it).
 */
#include "util/osdep.h"
#include "block/blockjob.h"
#include "block/block-int.h"
#include "block/jobs.h"
#include "block/filter.h"

/* Bytes looked up and copied per step (QEMU streams in 512 KiB steps, serially). */
#define STREAM_CHUNK   (4 * 1024 * 1024)
#define STREAM_MAX_OPS 4

typedef struct StreamJob {
    BlockJob common;                  /* first: job.c casts through it */
    BlockDriverState *top;            /* streamed into; the job's blk is on it */
    BlockDriverState *cor;            /* the copy-on-read filter above top */
    BlockDriverState *base;           /* data at or below it stays; NULL: whole chain */
    BlockDriverState *base_overlay;   /* the node right above base (lowest copied) */
    char *backing_file;               /* recorded in top's header at the end */
    BlockdevOnError on_error;
    bool reopened_rw;                 /* top was read-only: restore it in clean() */

    int ops_in_flight;
    CoQueue ops_done;                 /* the job loop waits here for copies */
    GSList *failed;                   /* StreamOp of failed copies, by offset */
} StreamJob;

typedef struct StreamOp {
    StreamJob *s;
    int64_t offset, bytes;
    int ret;
} StreamOp;

/* Is [offset, offset + *n) to be copied? *n is set to the extent that answers. */
static int coroutine_fn stream_co_needs_copy(StreamJob *s, int64_t offset, int64_t len,
                                             int64_t *n)
{
    int ret = bdrv_co_is_allocated(s->top, offset, MIN(STREAM_CHUNK, len - offset), n);

    if (ret != 0) {
        return ret < 0 ? ret : 0;     /* top has it already */
    }
    ret = bdrv_co_is_allocated_above(bdrv_backing_bs(s->top), s->base_overlay, true,
                                     offset, *n, n);
    if (ret == 0 && *n == 0) {
        *n = len - offset;            /* past the end of the backing chain */
    }
    return ret;
}

static gint stream_op_cmp(gconstpointer a, gconstpointer b)
{
    const StreamOp *x = a, *y = b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void coroutine_fn stream_co_op(void *opaque)
{
    StreamOp *op = opaque;
    StreamJob *s = op->s;

    op->ret = blk_co_preadv(s->common.blk, op->offset, op->bytes, NULL,
                            BDRV_REQ_COPY_ON_READ | BDRV_REQ_PREFETCH);
    if (op->ret < 0) {
        s->failed = g_slist_insert_sorted(s->failed, op, stream_op_cmp);
    } else {
        job_progress_update(&s->common.job, op->bytes);
        g_free(op);
    }
    s->ops_in_flight--;
    qemu_co_queue_restart_all(&s->ops_done);
}

static void coroutine_fn stream_co_wait_all(StreamJob *s)
{
    while (s->ops_in_flight > 0) {
        qemu_co_queue_wait(&s->ops_done, NULL);
    }
}

/* Nothing of ours may stay in flight while paused (the pause point waits here). */
static void coroutine_fn stream_pause(Job *job)
{
    stream_co_wait_all(container_of(job, StreamJob, common.job));
}

/*
 * The error policy for the failed copies, lowest offset first, with nothing in
 * flight. Returns the offset to go on from (a stopped copy is redone once the
 * job resumes), or -1 when the job must end with *error.
 */
static int64_t coroutine_fn stream_co_handle_failures(StreamJob *s, int64_t next, int *error)
{
    int64_t resume = next;

    stream_co_wait_all(s);
    while (s->failed) {
        StreamOp *op = s->failed->data;
        BlockErrorAction action;

        s->failed = g_slist_delete_link(s->failed, s->failed);
        if (resume < next) {
            g_free(op);               /* after a stop: copied again anyway */
            continue;
        }
        action = block_job_error_action(&s->common, s->on_error, true, -op->ret);
        if (!*error && action != BLOCK_ERROR_ACTION_STOP) {
            *error = op->ret;
        }
        if (action == BLOCK_ERROR_ACTION_STOP) {
            resume = op->offset;
        } else if (action == BLOCK_ERROR_ACTION_REPORT) {
            g_slist_free_full(s->failed, g_free);
            s->failed = NULL;
            g_free(op);
            return -1;
        } else {
            job_progress_update(&s->common.job, op->bytes);
        }
        g_free(op);
    }
    return resume;
}

static int coroutine_fn stream_run(Job *job, Error **errp)
{
    StreamJob *s = container_of(job, StreamJob, common.job);
    int64_t len, n = 0;
    int error = 0;

    if (!bdrv_backing_bs(s->top) || bdrv_backing_bs(s->top) == s->base) {
        return 0;                     /* nothing between top and base */
    }
    len = blk_co_getlength(s->common.blk);
    if (len < 0) {
        error_setg_errno(errp, -len, "Could not get the size of '%s'",
                         bdrv_get_node_name(s->top));
        return len;
    }
    job_progress_set_remaining(job, len);
    for (int64_t offset = 0;;) {
        int ret;

        /* also a pause and cancel point with no request in flight, for drains */
        job_co_ratelimit_sleep(job);
        if (job_is_cancelled(job)) {
            break;
        }
        if (offset >= len) {
            stream_co_wait_all(s);
            if (!s->failed) {
                break;
            }
        }
        if (s->failed) {
            offset = stream_co_handle_failures(s, MIN(offset, len), &error);
            if (offset < 0) {
                break;
            }
            continue;
        }
        ret = stream_co_needs_copy(s, offset, len, &n);
        if (ret < 0) {
            /* a failed lookup counts as a failed read of the chunk */
            StreamOp *op = g_new0(StreamOp, 1);

            *op = (StreamOp) { .s = s, .offset = offset, .ret = ret,
                               .bytes = MIN(STREAM_CHUNK, len - offset) };
            s->failed = g_slist_insert_sorted(s->failed, op, stream_op_cmp);
            offset += op->bytes;
            continue;
        }
        if (ret > 0) {
            StreamOp *op = g_new0(StreamOp, 1);

            while (s->ops_in_flight >= STREAM_MAX_OPS) {
                qemu_co_queue_wait(&s->ops_done, NULL);
            }
            *op = (StreamOp) { .s = s, .offset = offset, .bytes = n };
            s->ops_in_flight++;
            aio_co_enter(qemu_get_aio_context(), qemu_coroutine_create(stream_co_op, op));
            job_ratelimit_processed(job, n);
        } else {
            job_progress_update(job, n);
        }
        offset += n;
    }
    stream_co_wait_all(s);
    g_slist_free_full(s->failed, g_free);
    s->failed = NULL;
    /* QEMU reports the bare errno text ("Input/output error"): so does job.c */
    return error;
}

/* Graph change: top's backing becomes base, and its header says so. */
static int stream_prepare(Job *job)
{
    StreamJob *s = container_of(job, StreamJob, common.job);
    const char *fmt = s->base && s->base->drv ? s->base->drv->format_name : NULL;
    Error *local_err = NULL;
    int ret;

    if (!bdrv_backing_bs(s->top) || bdrv_backing_bs(s->top) == s->base) {
        return 0;
    }
    /* the intermediate nodes are about to go: let go of them first */
    block_job_remove_all_bdrv(&s->common);
    if (s->base) {
        bdrv_ref(s->base);
    }
    ret = bdrv_set_backing_hd(s->top, s->base, &local_err);
    if (ret < 0) {
        error_propagate(&job->err, local_err);
    } else {
        ret = bdrv_change_backing_file(s->top, s->base ? s->backing_file : NULL, fmt, false);
        if (ret == -ENOTSUP) {
            ret = 0;                  /* a format without a header field: nothing to record */
        }
        if (ret < 0) {
            error_setg_errno(&job->err, -ret, "Could not update the backing file of '%s'",
                             bdrv_get_node_name(s->top));
        }
    }
    if (s->base) {
        bdrv_unref(s->base);
    }
    return ret;
}

static void stream_clean(Job *job)
{
    StreamJob *s = container_of(job, StreamJob, common.job);

    /* the filter first: it may write top, which is about to become read-only */
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->cor);
    if (s->reopened_rw) {
        /* the job's backend is gone with its edges only later: drop its write need */
        blk_set_perm(s->common.blk, 0, BLK_PERM_ALL, NULL);
        bdrv_reopen_set_read_only(s->top, true, NULL);
        s->reopened_rw = false;
    }
}

static void stream_free(Job *job)
{
    StreamJob *s = container_of(job, StreamJob, common.job);

    g_free(s->backing_file);
}

static const JobDriver stream_job_driver = {
    .instance_size = sizeof(StreamJob),
    .job_type = JOB_TYPE_STREAM,
    .run = stream_run,
    .pause = stream_pause,
    .prepare = stream_prepare,
    .clean = stream_clean,
    .free = stream_free,
};

bool stream_start(const char *job_id, BlockDriverState *bs, BlockDriverState *base,
                  const char *backing_file, BlockDriverState *bottom, int flags,
                  int64_t speed, BlockdevOnError on_error, const char *filter_node_name,
                  Error **errp)
{
    BlockDriverState *base_overlay, *iter, *cor;
    bool reopened = false;
    StreamJob *s;

    if (bottom) {
        base = bdrv_backing_bs(bottom);
        base_overlay = bottom;
    } else {
        base_overlay = bs;
        while (bdrv_backing_bs(base_overlay) && bdrv_backing_bs(base_overlay) != base) {
            base_overlay = bdrv_backing_bs(base_overlay);
        }
    }
    if (bdrv_is_read_only(bs)) {
        if (bdrv_reopen_set_read_only(bs, false, errp) < 0) {
            return false;
        }
        reopened = true;
    }
    if (!job_id && !(flags & JOB_INTERNAL)) {
        job_id = bdrv_get_device_name(bs);     /* while bs is still the device's node */
    }
    /* first: bdrv_replace_node would move edges of the job's onto the filter */
    cor = bdrv_filter_insert(&bdrv_copy_on_read, bs, filter_node_name, errp);
    if (!cor) {
        goto fail;
    }
    cor_filter_set_bottom(cor, base_overlay);
    s = block_job_create(job_id, &stream_job_driver, NULL, bs,
                         BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED, BLK_PERM_ALL,
                         speed, flags, NULL, NULL, errp);
    if (!s) {
        bdrv_filter_drop(&cor);
        goto fail;
    }
    s->cor = cor;
    if (block_job_add_bdrv(&s->common, "copy-on-read filter", cor, 0, BLK_PERM_ALL,
                           errp) < 0) {
        goto fail_job;
    }
    /* nobody may write what we are copying, nor shrink it under us */
    for (iter = bdrv_backing_bs(bs); iter && iter != base; iter = bdrv_backing_bs(iter)) {
        if (block_job_add_bdrv(&s->common, "intermediate node", iter, 0,
                               BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED,
                               errp) < 0) {
            goto fail_job;
        }
    }
    qemu_co_queue_init(&s->ops_done);
    s->top = bs;
    s->base = base;
    s->base_overlay = base_overlay;
    s->on_error = on_error;
    s->reopened_rw = reopened;
    if (base) {
        bdrv_refresh_filename(base);
        s->backing_file = g_strdup(backing_file ? backing_file : base->filename);
    }
    job_start(&s->common.job);
    return true;

fail_job:
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->cor);
    block_job_early_fail(&s->common);
fail:
    if (reopened) {
        bdrv_reopen_set_read_only(bs, true, NULL);
    }
    return false;
}
