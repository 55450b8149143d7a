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
 */
#include "util/osdep.h"
#include "block/blockjob.h"
#include "block/block-int.h"
#include "block/jobs.h"

/* Bytes looked up and copied per step (QEMU streams in 512 KiB steps). */
#define STREAM_CHUNK (512 * 1024)

typedef struct StreamJob {
    BlockJob common;                  /* first: job.c casts through it */
    BlockDriverState *top;            /* streamed into; the job's blk is on it */
    BlockDriverState *base;           /* data at or below it stays; NULL: whole chain */
    BlockDriverState *base_overlay;   /* the node right above base (lowest copied) */
    char *backing_file;               /* recorded in top's header at the end */
    BlockdevOnError on_error;
    bool reopened_rw;                 /* top was read-only: restore it in clean() */
} StreamJob;

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
    for (int64_t offset = 0; offset < len; offset += n) {
        int ret;
        bool copy;

        /* also a pause and cancel point with no request in flight, for drains */
        job_co_ratelimit_sleep(job);
        if (job_is_cancelled(job)) {
            break;
        }
        ret = stream_co_needs_copy(s, offset, len, &n);
        copy = ret > 0;
        if (ret < 0) {
            n = MIN(STREAM_CHUNK, len - offset);
        } else if (copy) {
            ret = blk_co_preadv(s->common.blk, offset, n, NULL,
                                BDRV_REQ_COPY_ON_READ | BDRV_REQ_PREFETCH);
        }
        if (ret < 0) {
            BlockErrorAction action = block_job_error_action(&s->common, s->on_error,
                                                             true, -ret);
            if (action == BLOCK_ERROR_ACTION_STOP) {
                n = 0;                /* retry this offset once resumed */
                continue;
            }
            if (!error) {
                error = ret;
            }
            if (action == BLOCK_ERROR_ACTION_REPORT) {
                break;
            }
        }
        job_progress_update(job, n);
        if (copy) {
            job_ratelimit_processed(job, n);
        }
    }
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
    .prepare = stream_prepare,
    .clean = stream_clean,
    .free = stream_free,
};

bool stream_start(const char *job_id, BlockDriverState *bs, BlockDriverState *base,
                  const char *backing_file, BlockDriverState *bottom, int flags,
                  int64_t speed, BlockdevOnError on_error, Error **errp)
{
    BlockDriverState *base_overlay, *iter;
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
    s = block_job_create(job_id, &stream_job_driver, NULL, bs,
                         BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED, BLK_PERM_ALL,
                         speed, flags, NULL, NULL, errp);
    if (!s) {
        goto fail;
    }
    /* nobody may write what we are copying, nor shrink it under us */
    for (iter = bdrv_backing_bs(bs); iter && iter != base; iter = bdrv_backing_bs(iter)) {
        if (block_job_add_bdrv(&s->common, "intermediate node", iter, 0,
                               BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED,
                               errp) < 0) {
            block_job_early_fail(&s->common);
            goto fail;
        }
    }
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

fail:
    if (reopened) {
        bdrv_reopen_set_read_only(bs, true, NULL);
    }
    return false;
}
