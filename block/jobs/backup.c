/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * backup.c: blockdev-backup and drive-backup: a point-in-time copy of the source
 * (as it was when the job started) into the target.
 *
 * A copy map (block-copy.c: a disabled, anonymous dirty bitmap on the source, one bit per
 * backup cluster) lists what is still to copy: everything (full, none), what the
 * top allocates (top), or the user bitmap's bits (bitmap, incremental). The job
 * walks it; a guest write to a cluster that is still in the map first copies the
 * old data (copy-before-write: the job's hook in a copy-before-write filter node
 * put above the source for the job's lifetime), so the target never sees data
 * newer than the start. sync=none only does the latter and runs until cancelled.
 * The job's main node is the filter: the source itself stays free for another
 * backup (two backups of one node in a transaction stack two filters).
 *
 * With a user bitmap, its successor records the writes made during the job; at
 * the end the bitmap mode says what the bitmap becomes (on-success: only what
 * was written meanwhile if the job succeeded, else everything again; never:
 * unchanged plus new writes; always: minus what was copied).
 */
#include "util/osdep.h"
#include "block/blockjob.h"
#include "block/block-int.h"
#include "block/dirty-bitmap.h"
#include "block/jobs.h"
#include "block/filter.h"
#include "block/block-copy.h"

#define BACKUP_CLUSTER_DEFAULT (64 * 1024)

typedef struct BackupJob {
    BlockJob common;                  /* first; common.blk reads the source */
    BlockBackend *target;
    BlockDriverState *source, *target_bs;
    BlockDriverState *cbw_bs;         /* the copy-before-write filter above source */
    BackupParams p;
    int64_t length;
    BlockCopyState *bcs;              /* copy map: clusters still to copy */
    BdrvDirtyBitmap *copy_map;        /* bcs's, for short */
    BdrvWriteNotifier cbw;
    Error *target_blocker;
    bool removed;
} BackupJob;

/* Copy [offset, offset + bytes) to the target (block_copy_area does the map). */
static int coroutine_fn backup_co_copy(void *opaque, int64_t offset, int64_t bytes,
                                       bool *is_read)
{
    BackupJob *s = opaque;
    int64_t pnum;
    void *buf;
    int ret;

    ret = bdrv_co_block_status_above(s->source, NULL, true, offset, bytes, &pnum, NULL,
                                     NULL, NULL);
    *is_read = false;
    if (ret >= 0 && (ret & BDRV_BLOCK_ZERO) && pnum >= bytes) {
        return blk_co_pwrite_zeroes(s->target, offset, bytes, BDRV_REQ_MAY_UNMAP);
    }
    buf = bdrv_blockalign(s->source, bytes);
    ret = blk_co_pread(s->common.blk, offset, bytes, buf, 0);
    if (ret < 0) {
        *is_read = true;
    } else {
        ret = blk_co_pwrite(s->target, offset, bytes, buf,
                            s->p.compress ? BDRV_REQ_WRITE_COMPRESSED : 0);
    }
    bdrv_blockfree(buf);
    return ret;
}

static void backup_copied(void *opaque, int64_t offset, int64_t bytes)
{
    BackupJob *s = opaque;

    job_progress_update(&s->common.job, bytes);
}

static const BlockCopyOps backup_copy_ops = {
    .copy = backup_co_copy,
    .copied = backup_copied,
};

/* Copy-before-write: old data of the clusters a guest write touches goes first. */
static int coroutine_fn backup_cbw_notify(BdrvWriteNotifier *n, BlockDriverState *bs,
                                          int64_t offset, int64_t bytes)
{
    BackupJob *s = n->opaque;

    /* on failure, the guest write must not destroy data the backup still needs */
    return block_copy_range(s->bcs, offset, bytes);
}

static int coroutine_fn backup_run(Job *job, Error **errp)
{
    BackupJob *s = container_of(job, BackupJob, common.job);
    int64_t offset = 0;

    if (s->p.sync == MIRROR_SYNC_MODE_TOP) {
        /* only what the top allocates; the rest is left to the target's backing */
        int64_t n;
        for (int64_t off = 0; off < s->length; off += n) {
            int ret = bdrv_co_is_allocated(s->source, off, s->length - off, &n);
            if (ret < 0 || n <= 0) {
                break;
            }
            if (!ret) {
                bdrv_reset_dirty_bitmap(s->copy_map, off, n);
            }
        }
    }
    job_progress_set_remaining(job, bdrv_get_dirty_count(s->copy_map));
    if (s->p.sync == MIRROR_SYNC_MODE_NONE) {
        while (!job_is_cancelled(job)) {
            job_co_yield(job);        /* copy-before-write does the work */
        }
        return 0;
    }
    for (;;) {
        int64_t dstart, dcount;
        bool is_read;
        int ret;

        job_co_ratelimit_sleep(job);
        if (job_is_cancelled(job)) {
            return 0;
        }
        if (!bdrv_dirty_bitmap_next_dirty_area(s->copy_map, offset, s->length,
                                               BLOCK_COPY_MAX_IO, &dstart, &dcount)) {
            if (offset == 0) {
                break;                /* nothing left anywhere */
            }
            offset = 0;               /* a failed copy re-marked something behind us */
            continue;
        }
        if (block_copy_busy(s->bcs, dstart, dcount)) {
            block_copy_wait(s->bcs);
            continue;
        }
        ret = block_copy_area(s->bcs, dstart, dcount, &is_read);
        if (ret < 0) {
            BlockErrorAction action = block_job_error_action(
                &s->common, is_read ? s->p.on_source_error : s->p.on_target_error,
                is_read, -ret);
            if (action == BLOCK_ERROR_ACTION_REPORT) {
                return ret;
            }
            if (action == BLOCK_ERROR_ACTION_IGNORE) {
                bdrv_reset_dirty_bitmap(s->copy_map, dstart, dcount);
                job_progress_update(job, dcount);
            }
            offset = dstart + (action == BLOCK_ERROR_ACTION_IGNORE ? dcount : 0);
            continue;
        }
        job_ratelimit_processed(job, dcount);
        offset = dstart + dcount;
    }
    return blk_co_flush(s->target);
}

/* The user bitmap after the job, as its bitmap mode says. */
static void backup_sync_bitmap(BackupJob *s, int ret)
{
    BdrvDirtyBitmap *bm = s->p.bitmap;
    bool clear = s->p.bitmap_mode == BITMAP_SYNC_MODE_ALWAYS ||
                 (s->p.bitmap_mode == BITMAP_SYNC_MODE_ON_SUCCESS && ret == 0);

    if (!bm) {
        return;
    }
    if (clear) {
        bm = bdrv_dirty_bitmap_abdicate(bm, NULL);
        if (bm && ret < 0) {
            /* what we did not get to stays dirty */
            bdrv_merge_dirty_bitmap(bm, s->copy_map, NULL, NULL);
        }
    } else {
        bdrv_dirty_bitmap_reclaim(bm, NULL);
    }
    s->p.bitmap = NULL;
}

static void backup_exit(Job *job, int ret)
{
    BackupJob *s = container_of(job, BackupJob, common.job);

    if (s->removed) {
        return;
    }
    s->removed = true;
    cbw_filter_set_hook(s->cbw_bs, NULL);
    backup_sync_bitmap(s, ret);
    block_copy_state_free(s->bcs);
    s->bcs = NULL;
    s->copy_map = NULL;
    bdrv_op_unblock_all(s->target_bs, s->target_blocker);
    blk_unref(s->target);
    s->target = NULL;
    if (s->p.target_owned) {
        bdrv_unref(s->target_bs);
    }
    /* our edges must not follow the source's users back */
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->cbw_bs);
}

static void backup_commit(Job *job)
{
    backup_exit(job, 0);
}

static void backup_abort(Job *job)
{
    backup_exit(job, job->ret ? job->ret : -ECANCELED);
}

static void backup_free(Job *job)
{
    error_free(container_of(job, BackupJob, common.job)->target_blocker);
}

static const JobDriver backup_job_driver = {
    .instance_size = sizeof(BackupJob),
    .job_type = JOB_TYPE_BACKUP,
    .run = backup_run,
    .commit = backup_commit,
    .abort = backup_abort,
    .free = backup_free,
};

bool backup_start(BlockDriverState *bs, BlockDriverState *target, const BackupParams *p,
                  Error **errp)
{
    BlockDriverInfo bdi = { 0 };
    int64_t cluster = BACKUP_CLUSTER_DEFAULT;
    BlockDriverState *cbw;
    int64_t len, tlen;
    BackupJob *s;

    if (bs == target) {
        error_setg(errp, "Source and target cannot be the same");
        return false;
    }
    len = bdrv_getlength(bs);
    tlen = bdrv_getlength(target);
    if (len < 0 || tlen < 0) {
        error_setg_errno(errp, EIO, "Unable to get length for '%s'",
                         bdrv_get_device_or_node_name(len < 0 ? bs : target));
        return false;
    }
    if (len != tlen) {
        error_setg(errp, "Source and target image have different sizes");
        return false;
    }
    if (p->compress && strcmp(bdrv_get_format_name(target), "qcow2") != 0) {
        error_setg(errp, "Compression is not supported for this drive %s",
                   bdrv_get_device_name(target));
        return false;
    }
    if (p->bitmap && !bdrv_dirty_bitmap_check(p->bitmap, BDRV_BITMAP_ALLOW_RO, errp)) {
        return false;
    }
    cbw = bdrv_filter_insert(&bdrv_copy_before_write, bs, p->filter_node_name, errp);
    if (!cbw) {
        return false;
    }
    cbw->implicit = false;            /* QEMU shows it in query-block even unnamed */
    s = block_job_create(p->job_id, &backup_job_driver, p->txn, cbw, BLK_PERM_CONSISTENT_READ,
                         BLK_PERM_ALL, p->speed, p->flags, NULL, NULL, errp);
    if (!s) {
        bdrv_filter_drop(&cbw);
        return false;
    }
    s->cbw_bs = cbw;
    s->p = *p;
    s->p.job_id = NULL;
    s->p.txn = NULL;
    s->p.created = NULL;
    s->p.target_owned = false;        /* until nothing can fail any more */
    s->p.filter_node_name = NULL;
    s->source = bs;
    s->target_bs = target;
    s->length = len;
    if (bdrv_get_info(target, &bdi) == 0 && bdi.cluster_size > cluster) {
        cluster = bdi.cluster_size;
    }
    s->target = blk_new(BLK_PERM_WRITE, BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED |
                        BLK_PERM_WRITE | BLK_PERM_RESIZE);
    if (blk_insert_bs(s->target, target, errp) < 0 ||
        block_job_add_bdrv(&s->common, "target", target, 0, BLK_PERM_ALL, errp) < 0) {
        goto fail_job;
    }
    s->bcs = block_copy_state_new(bs, cluster, len, &backup_copy_ops, s, errp);
    if (!s->bcs) {
        goto fail_job;
    }
    s->copy_map = block_copy_dirty_bitmap(s->bcs);
    if (p->bitmap) {
        /* copy what it has now; its successor records what is written from here on */
        if (!bdrv_merge_dirty_bitmap(s->copy_map, p->bitmap, NULL, errp) ||
            !bdrv_dirty_bitmap_create_successor(p->bitmap, errp)) {
            goto fail_job;
        }
    } else {
        bdrv_set_dirty_bitmap(s->copy_map, 0, len);
    }
    error_setg(&s->target_blocker, "block device is in use by block job: backup");
    bdrv_op_block_all(target, s->target_blocker);
    s->cbw.notify = backup_cbw_notify;
    s->cbw.opaque = s;
    cbw_filter_set_hook(cbw, &s->cbw);
    s->p.target_owned = p->target_owned;
    s->p.created = NULL;
    if (p->created) {
        *p->created = &s->common.job;
    } else {
        job_start(&s->common.job);
    }
    return true;

fail_job:
    block_copy_state_free(s->bcs);
    if (s->target) {
        blk_unref(s->target);
    }
    block_job_remove_all_bdrv(&s->common);
    bdrv_filter_drop(&s->cbw_bs);
    block_job_early_fail(&s->common);
    return false;
}
