/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QMP: the job commands (job-*, block-job-*, query-jobs, query-block-jobs), the
 * commands that start block jobs (block-stream, block-commit, drive-mirror,
 * blockdev-mirror, drive-backup, blockdev-backup), and the job events
 * (JOB_STATUS_CHANGE, BLOCK_JOB_*), wired to job.c's JobEventHooks. Handlers
 * resolve names and check arguments with QEMU 7.2's texts and in its order;
 * block/jobs/ does the work.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/block-int.h"
#include "block/jobs.h"
#include "block/dirty-bitmap.h"
#include "sysemu/runstate.h"
#include "qapi-commands.h"
#include "qapi-events.h"
#include "monitor/qmp-cmds-jobs.h"

/* ---- events ---- */

static void ev_status_change(Job *job, void *opaque)
{
    qapi_event_send_job_status_change(job->id, job->status);
}

static void ev_ready(Job *job, void *opaque)
{
    qapi_event_send_block_job_ready(job_type(job), job->id, job->progress_total,
                                    job->progress_current, job->speed);
}

static void ev_pending(Job *job, void *opaque)
{
    qapi_event_send_block_job_pending(job_type(job), job->id);
}

static void ev_completed(Job *job, const char *error, void *opaque)
{
    qapi_event_send_block_job_completed(job_type(job), job->id, job->progress_total,
                                        job->progress_current, job->speed, error);
}

static void ev_cancelled(Job *job, void *opaque)
{
    qapi_event_send_block_job_cancelled(job_type(job), job->id, job->progress_total,
                                        job->progress_current, job->speed);
}

static void ev_error(Job *job, bool is_read, BlockErrorAction action, void *opaque)
{
    qapi_event_send_block_job_error(job->id, is_read ? IO_OPERATION_TYPE_READ
                                                     : IO_OPERATION_TYPE_WRITE, action);
}

static const JobEventHooks job_qmp_hooks = {
    .status_change = ev_status_change,
    .ready = ev_ready,
    .pending = ev_pending,
    .completed = ev_completed,
    .cancelled = ev_cancelled,
    .error = ev_error,
};

/*
 * quit: every job is cancelled (its events follow SHUTDOWN), then every node is
 * flushed and closed, as QEMU does at exit (nothing else in the binary did).
 */
static void jobs_exit_notify(void *opaque)
{
    job_cancel_sync_all();
    bdrv_close_all();
}

__attribute__((constructor)) static void job_qmp_register(void)
{
    job_set_event_hooks(&job_qmp_hooks, NULL);
    qemu_add_exit_notifier(jobs_exit_notify, NULL);
}

/* ---- lookup ---- */

static Job *find_job(const char *id, Error **errp)
{
    Job *job = job_get(id);

    if (!job) {
        error_setg(errp, "Job not found");
    }
    return job;
}

static BlockJob *find_block_job(const char *id, Error **errp)
{
    BlockJob *bjob = block_job_get(id);

    if (!bjob) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_ACTIVE, "Block job '%s' not found", id);
    }
    return bjob;
}

/* ---- job-* ---- */

void qmp_job_pause(const char *id, Error **errp)
{
    Job *job = find_job(id, errp);

    if (job) {
        job_user_pause(job, errp);
    }
}

void qmp_job_resume(const char *id, Error **errp)
{
    Job *job = find_job(id, errp);

    if (job) {
        job_user_resume(job, errp);
    }
}

void qmp_job_cancel(const char *id, Error **errp)
{
    Job *job = find_job(id, errp);

    if (job) {
        job_user_cancel(job, true, errp);
    }
}

void qmp_job_complete(const char *id, Error **errp)
{
    Job *job = find_job(id, errp);

    if (job) {
        job_complete(job, errp);
    }
}

void qmp_job_finalize(const char *id, Error **errp)
{
    Job *job = find_job(id, errp);

    if (job) {
        job_ref(job);
        job_finalize(job, errp);
        job_unref(job);
    }
}

void qmp_job_dismiss(const char *id, Error **errp)
{
    Job *job = find_job(id, errp);

    if (job) {
        job_dismiss(&job, errp);
    }
}

JobInfoList *qmp_query_jobs(Error **errp)
{
    JobInfoList *head = NULL, **tail = &head;

    for (Job *job = job_next(NULL); job; job = job_next(job)) {
        JobInfoData d;
        JobInfo *info;

        if (job_is_internal(job)) {
            continue;
        }
        job_query_info(job, &d);
        info = g_new0(JobInfo, 1);
        info->id = g_strdup(d.id);
        info->q_type = d.type;
        info->status = d.status;
        info->current_progress = d.current_progress;
        info->total_progress = d.total_progress;
        info->error = g_strdup(d.error);
        job_info_data_clear(&d);
        *tail = g_new0(JobInfoList, 1);
        (*tail)->value = info;
        tail = &(*tail)->next;
    }
    return head;
}

/* ---- block-job-* ---- */

void qmp_block_job_set_speed(const char *device, int64_t speed, Error **errp)
{
    BlockJob *bjob = find_block_job(device, errp);

    if (bjob) {
        job_set_speed(&bjob->job, speed, errp);
    }
}

void qmp_block_job_cancel(const char *device, bool has_force, bool force, Error **errp)
{
    BlockJob *bjob = find_block_job(device, errp);

    if (!bjob) {
        return;
    }
    if (job_user_paused(&bjob->job) && !(has_force && force)) {
        error_setg(errp, "The block job for device '%s' is currently paused", device);
        return;
    }
    job_user_cancel(&bjob->job, has_force && force, errp);
}

void qmp_block_job_pause(const char *device, Error **errp)
{
    BlockJob *bjob = find_block_job(device, errp);

    if (bjob) {
        job_user_pause(&bjob->job, errp);
    }
}

void qmp_block_job_resume(const char *device, Error **errp)
{
    BlockJob *bjob = find_block_job(device, errp);

    if (bjob) {
        job_user_resume(&bjob->job, errp);
    }
}

void qmp_block_job_complete(const char *device, Error **errp)
{
    BlockJob *bjob = find_block_job(device, errp);

    if (bjob) {
        job_complete(&bjob->job, errp);
    }
}

void qmp_block_job_finalize(const char *id, Error **errp)
{
    BlockJob *bjob = find_block_job(id, errp);

    if (bjob) {
        job_ref(&bjob->job);
        job_finalize(&bjob->job, errp);
        job_unref(&bjob->job);
    }
}

void qmp_block_job_dismiss(const char *id, Error **errp)
{
    BlockJob *bjob = find_block_job(id, errp);
    Job *job = bjob ? &bjob->job : NULL;

    if (job) {
        job_dismiss(&job, errp);
    }
}

BlockJobInfoList *qmp_query_block_jobs(Error **errp)
{
    BlockJobInfoList *head = NULL, **tail = &head;

    for (Job *job = job_next(NULL); job; job = job_next(job)) {
        BlockJobInfoData d;
        BlockJobInfo *info;

        if (job_is_internal(job) || !block_job_from_job(job)) {
            continue;
        }
        job_query_block_info(job, &d);
        info = g_new0(BlockJobInfo, 1);
        info->q_type = g_strdup(job_type_str(d.type));
        info->device = g_strdup(d.device);
        info->len = d.len;
        info->offset = d.offset;
        info->busy = d.busy;
        info->paused = d.paused;
        info->speed = d.speed;
        info->io_status = (BlockDeviceIoStatus)d.io_status;
        info->ready = d.ready;
        info->status = d.status;
        info->auto_finalize = d.auto_finalize;
        info->auto_dismiss = d.auto_dismiss;
        info->error = g_strdup(d.error);
        block_job_info_data_clear(&d);
        *tail = g_new0(BlockJobInfoList, 1);
        (*tail)->value = info;
        tail = &(*tail)->next;
    }
    return head;
}

/* ---- helpers for the start commands ---- */

int job_flags_from_args(bool has_auto_finalize, bool auto_finalize, bool has_auto_dismiss,
                        bool auto_dismiss)
{
    int flags = JOB_DEFAULT;

    if (has_auto_finalize && !auto_finalize) {
        flags |= JOB_MANUAL_FINALIZE;
    }
    if (has_auto_dismiss && !auto_dismiss) {
        flags |= JOB_MANUAL_DISMISS;
    }
    return flags;
}

/* ---- block-stream ---- */

void qmp_block_stream(const char *job_id, const char *device, const char *base,
                      const char *base_node, const char *backing_file, const char *bottom,
                      bool has_speed, int64_t speed, bool has_on_error,
                      BlockdevOnError on_error, const char *filter_node_name,
                      bool has_auto_finalize, bool auto_finalize, bool has_auto_dismiss,
                      bool auto_dismiss, Error **errp)
{
    BlockDriverState *bs, *base_bs = NULL, *bottom_bs = NULL, *end;
    const char *base_name = NULL;

    if (base && base_node) {
        error_setg(errp, "'base' and 'base-node' cannot be specified at the same time");
        return;
    }
    if (base && bottom) {
        error_setg(errp, "'base' and 'bottom' cannot be specified at the same time");
        return;
    }
    if (bottom && base_node) {
        error_setg(errp, "'bottom' and 'base-node' cannot be specified at the same time");
        return;
    }
    bs = bdrv_lookup_bs(device, device, errp);
    if (!bs) {
        return;
    }
    if (base) {
        base_bs = bdrv_find_backing_image(bs, base);
        if (!base_bs) {
            error_setg(errp, "Can't find '%s' in the backing chain", base);
            return;
        }
        base_name = base;
    }
    if (base_node) {
        base_bs = bdrv_lookup_bs(NULL, base_node, errp);
        if (!base_bs) {
            return;
        }
        if (bs == base_bs || !bdrv_chain_contains(bs, base_bs)) {
            error_setg(errp, "Node '%s' is not a backing image of '%s'", base_node, device);
            return;
        }
        bdrv_refresh_filename(base_bs);
        base_name = base_bs->filename;
    }
    if (bottom) {
        bottom_bs = bdrv_lookup_bs(NULL, bottom, errp);
        if (!bottom_bs) {
            return;
        }
        if (bottom_bs->drv && (bottom_bs->drv->flags & BDRV_F_FILTER)) {
            error_setg(errp, "Node '%s' is a filter, use a non-filter node as 'bottom'",
                       bottom);
            return;
        }
        if (!bdrv_chain_contains(bs, bottom_bs)) {
            error_setg(errp, "Node '%s' is not in a chain starting from '%s'", bottom, device);
            return;
        }
    }
    end = bottom_bs ? bdrv_backing_bs(bottom_bs) : base_bs;
    for (BlockDriverState *it = bs; it && it != end; it = bdrv_backing_bs(it)) {
        if (bdrv_op_is_blocked(it, errp)) {
            return;
        }
    }
    if (!base_bs && !bottom_bs && backing_file) {
        error_setg(errp, "backing file specified, but streaming the entire chain");
        return;
    }
    stream_start(job_id, bs, base_bs, backing_file ? backing_file : base_name, bottom_bs,
                 job_flags_from_args(has_auto_finalize, auto_finalize, has_auto_dismiss,
                                     auto_dismiss),
                 has_speed ? speed : 0, has_on_error ? on_error : BLOCKDEV_ON_ERROR_REPORT,
                 filter_node_name, errp);
}

/* ---- block-commit ---- */

void qmp_block_commit(const char *job_id, const char *device, const char *base_node,
                      const char *base, const char *top_node, const char *top,
                      const char *backing_file, bool has_speed, int64_t speed,
                      bool has_on_error, BlockdevOnError on_error,
                      const char *filter_node_name, bool has_auto_finalize,
                      bool auto_finalize, bool has_auto_dismiss, bool auto_dismiss,
                      Error **errp)
{
    BlockBackend *blk = blk_by_name(device);
    BlockDriverState *bs = blk ? blk_bs(blk) : NULL, *top_bs, *base_bs;
    int flags = job_flags_from_args(has_auto_finalize, auto_finalize, has_auto_dismiss,
                                    auto_dismiss);

    /* libvirt probes with the class of this error: look the device up first */
    if (!bs) {
        bs = bdrv_lookup_bs(device, device, NULL);
        if (!bs) {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", device);
            return;
        }
    }
    /* QEMU takes the root node (qmp_get_root_bs): not one a job sits on */
    if (!bdrv_is_root_node(bs)) {
        error_setg(errp, "Need a root block node");
        return;
    }
    if (!bdrv_is_inserted(bs)) {
        error_setg(errp, "Device has no medium");
        return;
    }
    if (bdrv_op_is_blocked(bs, errp)) {
        return;
    }
    top_bs = bs;
    if (top_node && top) {
        error_setg(errp, "'top-node' and 'top' are mutually exclusive");
        return;
    } else if (top_node) {
        top_bs = bdrv_lookup_bs(NULL, top_node, errp);
        if (!top_bs) {
            return;
        }
        if (!bdrv_chain_contains(bs, top_bs)) {
            error_setg(errp, "'%s' is not in this backing file chain", top_node);
            return;
        }
    } else if (top && strcmp(bs->filename, top) != 0) {
        top_bs = bdrv_find_backing_image(bs, top);
    }
    if (!top_bs) {
        error_setg(errp, "Top image file %s not found", top ? top : "NULL");
        return;
    }
    if (base_node && base) {
        error_setg(errp, "'base-node' and 'base' are mutually exclusive");
        return;
    } else if (base_node) {
        base_bs = bdrv_lookup_bs(NULL, base_node, errp);
        if (!base_bs) {
            return;
        }
        if (!bdrv_chain_contains(top_bs, base_bs)) {
            error_setg(errp, "'%s' is not in this backing file chain", base_node);
            return;
        }
    } else if (base) {
        base_bs = bdrv_find_backing_image(top_bs, base);
        if (!base_bs) {
            error_setg(errp, "Can't find '%s' in the backing chain", base);
            return;
        }
    } else {
        base_bs = top_bs;
        while (bdrv_backing_bs(base_bs)) {
            base_bs = bdrv_backing_bs(base_bs);
        }
        if (base_bs == top_bs) {
            error_setg(errp, "There is no backimg image");
            return;
        }
    }
    for (BlockDriverState *it = top_bs; it && it != bdrv_backing_bs(base_bs);
         it = bdrv_backing_bs(it)) {
        if (bdrv_op_is_blocked(it, errp)) {
            return;
        }
    }
    if (top_bs == base_bs) {
        error_setg(errp, "cannot commit an image into itself");
        return;
    }
    if (top_bs == bs && backing_file) {
        error_setg(errp, "'backing-file' specified, but 'top' is the active layer");
        return;
    }
    commit_start(job_id, bs, top_bs, base_bs, backing_file, flags, has_speed ? speed : 0,
                 has_on_error ? on_error : BLOCKDEV_ON_ERROR_REPORT, filter_node_name, errp);
}
