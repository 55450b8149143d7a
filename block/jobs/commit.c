/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * commit.c: block-commit of an intermediate layer. Whatever top and the nodes
 * between it and base provide is written into base; then top's overlay points
 * straight at base and the committed nodes drop out of the chain:
 *
 *     base <- mid <- top <- active     ==>     base (+mid+top) <- active
 *
 * Committing the active layer itself is a mirror into base (mirror.c,
 * mirror_commit_active_start): it goes READY and pivots the device on complete.
 * A cancelled or failed commit leaves the chain as it was; base then holds extra
 * data that its overlays hide, which is harmless for them.
 *
 * While the job runs, a commit_top filter sits between top and its overlay (a
 * mirror_top above the active layer for active commit); it goes before the
 * chain is changed, or in clean() when the job did not complete.
 */
#include "util/osdep.h"
#include "block/blockjob.h"
#include "block/block-int.h"
#include "block/jobs.h"
#include "block/filter.h"

#define COMMIT_CHUNK (512 * 1024)

bool mirror_commit_active_start(const char *job_id, BlockDriverState *bs,
                                BlockDriverState *base, int flags, int64_t speed,
                                BlockdevOnError on_error, const char *filter_node_name,
                                Error **errp);

typedef struct CommitJob {
    BlockJob common;                  /* first; common.blk is on the active layer */
    BlockBackend *top_blk;            /* reads top (and what lies below it) */
    BlockBackend *base_blk;           /* writes base */
    BlockDriverState *top, *base, *overlay;
    BlockDriverState *filter;         /* commit_top, between overlay and top */
    char *backing_file;
    BlockdevOnError on_error;
    bool base_was_ro;
    bool overlay_was_ro;
} CommitJob;

static int coroutine_fn commit_co_copy(CommitJob *s, int64_t offset, int64_t n, void *buf)
{
    int64_t pnum;
    int ret = bdrv_co_block_status_above(s->top, s->base, true, offset, n, &pnum, NULL,
                                         NULL, NULL);

    if (ret >= 0 && (ret & BDRV_BLOCK_ZERO) && pnum >= n) {
        return blk_co_pwrite_zeroes(s->base_blk, offset, n, BDRV_REQ_MAY_UNMAP);
    }
    ret = blk_co_pread(s->top_blk, offset, n, buf, 0);
    if (ret < 0) {
        return ret;
    }
    ret = blk_co_pwrite(s->base_blk, offset, n, buf, 0);
    return ret < 0 ? ret : 1;
}

static int coroutine_fn commit_run(Job *job, Error **errp)
{
    CommitJob *s = container_of(job, CommitJob, common.job);
    int64_t len, base_len, n = 0;
    void *buf;
    int error = 0;

    len = blk_co_getlength(s->top_blk);
    base_len = blk_co_getlength(s->base_blk);
    if (len < 0 || base_len < 0) {
        return len < 0 ? len : base_len;
    }
    job_progress_set_remaining(job, len);
    if (base_len < len) {
        int ret = blk_co_truncate(s->base_blk, len, false, PREALLOC_MODE_OFF, 0, errp);
        if (ret < 0) {
            return ret;
        }
    }
    buf = bdrv_blockalign(s->top, COMMIT_CHUNK);
    for (int64_t offset = 0; offset < len; offset += n) {
        bool copy = false;
        int ret;

        job_co_ratelimit_sleep(job);
        if (job_is_cancelled(job)) {
            break;
        }
        ret = bdrv_co_is_allocated_above(s->top, s->base, false, offset,
                                         MIN(COMMIT_CHUNK, len - offset), &n);
        if (ret > 0) {
            copy = true;
            ret = commit_co_copy(s, offset, n, buf);
        } else if (ret == 0 && n == 0) {
            n = len - offset;
        }
        if (ret < 0) {
            BlockErrorAction action = block_job_error_action(&s->common, s->on_error,
                                                             false, -ret);
            if (n <= 0) {
                n = MIN(COMMIT_CHUNK, len - offset);
            }
            if (action == BLOCK_ERROR_ACTION_STOP) {
                n = 0;
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
    bdrv_blockfree(buf);
    return error;
}

/* Graph change: overlay -> base, dropping top and the nodes down to base. */
static int commit_prepare(Job *job)
{
    CommitJob *s = container_of(job, CommitJob, common.job);
    const char *fmt = s->base->drv ? s->base->drv->format_name : NULL;
    Error *local_err = NULL;
    int ret;

    block_job_remove_all_bdrv(&s->common);
    blk_unref(s->top_blk);
    s->top_blk = NULL;
    bdrv_filter_drop(&s->filter);     /* overlay -> top again, then -> base */
    bdrv_ref(s->base);
    ret = bdrv_set_backing_hd(s->overlay, s->base, &local_err);
    if (ret < 0) {
        error_propagate(&job->err, local_err);
    } else {
        ret = bdrv_change_backing_file(s->overlay, s->backing_file, fmt, false);
        if (ret == -ENOTSUP) {
            ret = 0;
        } else if (ret < 0) {
            error_setg_errno(&job->err, -ret, "Could not update the backing file of '%s'",
                             bdrv_get_node_name(s->overlay));
        }
    }
    bdrv_unref(s->base);
    return ret;
}

static void commit_clean(Job *job)
{
    CommitJob *s = container_of(job, CommitJob, common.job);

    if (s->top_blk) {
        blk_unref(s->top_blk);
        s->top_blk = NULL;
    }
    blk_unref(s->base_blk);
    s->base_blk = NULL;
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->filter);
    if (s->base_was_ro) {
        bdrv_reopen_set_read_only(s->base, true, NULL);
    }
    if (s->overlay_was_ro) {
        bdrv_reopen_set_read_only(s->overlay, true, NULL);
    }
}

static void commit_free(Job *job)
{
    g_free(container_of(job, CommitJob, common.job)->backing_file);
}

static const JobDriver commit_job_driver = {
    .instance_size = sizeof(CommitJob),
    .job_type = JOB_TYPE_COMMIT,
    .run = commit_run,
    .prepare = commit_prepare,
    .clean = commit_clean,
    .free = commit_free,
};

/* The node whose backing node is top, searching down from active; NULL if none. */
static BlockDriverState *commit_find_overlay(BlockDriverState *active, BlockDriverState *top)
{
    for (BlockDriverState *it = active; it; it = bdrv_backing_bs(it)) {
        if (bdrv_backing_bs(it) == top) {
            return it;
        }
    }
    return NULL;
}

static bool commit_reopen_rw(BlockDriverState *bs, bool *was_ro, Error **errp)
{
    *was_ro = bdrv_is_read_only(bs);
    return !*was_ro || bdrv_reopen_set_read_only(bs, false, errp) == 0;
}

bool commit_start(const char *job_id, BlockDriverState *bs, BlockDriverState *top,
                  BlockDriverState *base, const char *backing_file, int flags,
                  int64_t speed, BlockdevOnError on_error, const char *filter_node_name,
                  Error **errp)
{
    BlockDriverState *overlay;
    CommitJob *s;
    bool base_ro = false, overlay_ro = false;

    if (top == bs) {
        if (!job_id && !(flags & JOB_INTERNAL)) {
            job_id = bdrv_get_device_name(bs);
        }
        return mirror_commit_active_start(job_id, bs, base, flags, speed, on_error,
                                          filter_node_name, errp);
    }
    overlay = commit_find_overlay(bs, top);
    if (!overlay) {
        error_setg(errp, "Could not find overlay image for %s:", top->filename);
        return false;
    }
    if (!commit_reopen_rw(base, &base_ro, errp)) {
        return false;
    }
    if (!commit_reopen_rw(overlay, &overlay_ro, errp)) {
        goto fail;
    }
    s = block_job_create(job_id, &commit_job_driver, NULL, bs, 0, BLK_PERM_ALL, speed,
                         flags, NULL, NULL, errp);
    if (!s) {
        goto fail;
    }
    s->base_was_ro = base_ro;
    s->overlay_was_ro = overlay_ro;
    s->filter = bdrv_filter_insert(&bdrv_commit_top, top, filter_node_name, errp);
    if (s->filter) {
        s->filter->read_only = true;  /* as QEMU's: nothing writes through it */
    }
    if (!s->filter || block_job_add_bdrv(&s->common, "commit_top filter", s->filter, 0,
                                         BLK_PERM_ALL, errp) < 0) {
        goto fail_job;
    }
    for (BlockDriverState *it = top; it && it != base; it = bdrv_backing_bs(it)) {
        /* what we read must not change; writes "unchanged" (stream, COR) are fine */
        if (block_job_add_bdrv(&s->common, "intermediate node", it, 0,
                               BLK_PERM_WRITE_UNCHANGED | BLK_PERM_CONSISTENT_READ |
                               BLK_PERM_WRITE, errp) < 0) {
            goto fail_job;
        }
    }
    if (block_job_add_bdrv(&s->common, "base", base, 0, BLK_PERM_ALL, errp) < 0) {
        goto fail_job;
    }
    s->top_blk = blk_new(BLK_PERM_CONSISTENT_READ, BLK_PERM_ALL);
    if (blk_insert_bs(s->top_blk, top, errp) < 0) {
        goto fail_job;
    }
    s->base_blk = blk_new(BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE | BLK_PERM_RESIZE,
                          BLK_PERM_ALL);
    if (blk_insert_bs(s->base_blk, base, errp) < 0) {
        goto fail_job;
    }
    s->top = top;
    s->base = base;
    s->overlay = overlay;
    s->on_error = on_error;
    bdrv_refresh_filename(base);
    s->backing_file = g_strdup(backing_file ? backing_file : base->filename);
    job_start(&s->common.job);
    return true;

fail_job:
    if (s->top_blk) {
        blk_unref(s->top_blk);
    }
    if (s->base_blk) {
        blk_unref(s->base_blk);
    }
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->filter);
    block_job_early_fail(&s->common);
fail:
    if (overlay_ro) {
        bdrv_reopen_set_read_only(overlay, true, NULL);
    }
    if (base_ro) {
        bdrv_reopen_set_read_only(base, true, NULL);
    }
    return false;
}
