/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * job-query.c: progress, speed, the on-error policy and query data of jobs
 * (contract in include/job/job.h). Nothing here changes a job's status.
 */
#include "job/job-internal.h"

/* ---------------------------------------------------------------------------
 * Progress: estimates, not sizes; the total may move both ways.
 */
void job_progress_update(Job *job, uint64_t done)
{
    job->progress_current += done;
}

void job_progress_set_remaining(Job *job, uint64_t remaining)
{
    job->progress_total = job->progress_current + remaining;
}

void job_progress_increase_remaining(Job *job, uint64_t delta)
{
    job->progress_total += delta;
}

/* ---------------------------------------------------------------------------
 * Speed
 */
static int64_t job_now_ns(Job *job)
{
    return qemu_clock_get_ns(job->driver->sleep_clock);
}

bool job_set_speed(Job *job, int64_t speed, Error **errp)
{
    if (job_apply_verb(job, JOB_VERB_SET_SPEED, errp)) {
        return false;
    }
    if (speed < 0) {
        error_setg(errp, "Parameter 'speed' expects a non-negative value");
        return false;
    }
    ratelimit_set_speed(&job->limit, speed, JOB_SLICE_NS);
    job->speed = speed;
    if (job->driver->set_speed) {
        job->driver->set_speed(job, speed);
    }
    /* A rate-limit sleep recomputes its length for the new speed. */
    job_enter_if_sleeping(job);
    return true;
}

void job_ratelimit_processed(Job *job, uint64_t n)
{
    ratelimit_calculate_delay_at(&job->limit, n, job_now_ns(job));
}

void coroutine_fn job_co_ratelimit_sleep(Job *job)
{
    uint64_t delay_ns;

    /*
     * Sleep at least once (a pause and cancel point). A sleep cut short by a pause,
     * a resume or a speed change sleeps again for what the current speed still asks.
     */
    do {
        delay_ns = ratelimit_calculate_delay_at(&job->limit, 0, job_now_ns(job));
        job_co_sleep_ns(job, delay_ns);
    } while (delay_ns && !job_is_cancelled(job));
}

/* ---------------------------------------------------------------------------
 * The on-error policy of block jobs
 */
BlockErrorAction job_error_action(Job *job, BlockdevOnError on_error, bool is_read, int errnum)
{
    BlockErrorAction action;

    assert(errnum > 0);
    switch (on_error) {
    case BLOCKDEV_ON_ERROR_ENOSPC:
    case BLOCKDEV_ON_ERROR_AUTO:
        action = errnum == ENOSPC ? BLOCK_ERROR_ACTION_STOP : BLOCK_ERROR_ACTION_REPORT;
        break;
    case BLOCKDEV_ON_ERROR_STOP:
        action = BLOCK_ERROR_ACTION_STOP;
        break;
    case BLOCKDEV_ON_ERROR_REPORT:
        action = BLOCK_ERROR_ACTION_REPORT;
        break;
    case BLOCKDEV_ON_ERROR_IGNORE:
        action = BLOCK_ERROR_ACTION_IGNORE;
        break;
    default:
        abort();
    }
    job_event_error(job, is_read, action);
    if (action == BLOCK_ERROR_ACTION_STOP) {
        /* A pause the user sees, and lifts with job-resume / block-job-resume. */
        if (!job->user_paused) {
            job_pause(job);
            job->user_paused = true;
        }
        if (job->iostatus == JOB_IO_STATUS_OK) {
            job->iostatus = errnum == ENOSPC ? JOB_IO_STATUS_NOSPACE : JOB_IO_STATUS_FAILED;
        }
    }
    return action;
}

/* ---------------------------------------------------------------------------
 * Queries
 */
static char *job_error_text(Job *job)
{
    return job->err ? g_strdup(error_get_pretty(job->err)) : NULL;
}

void job_query_info(Job *job, JobInfoData *info)
{
    *info = (JobInfoData) {
        .id = g_strdup(job->id),
        .type = job_type(job),
        .status = job->status,
        .current_progress = job->progress_current,
        .total_progress = job->progress_total,
        .error = job_error_text(job),
    };
}

void job_query_block_info(Job *job, BlockJobInfoData *info)
{
    *info = (BlockJobInfoData) {
        .type = job_type(job),
        .device = g_strdup(job->id),
        .len = job->progress_total,
        .offset = job->progress_current,
        .busy = job->busy,
        .paused = job->pause_count > 0,
        .speed = job->speed,
        .io_status = job->iostatus,
        .ready = job_is_ready(job),
        .status = job->status,
        .auto_finalize = job->auto_finalize,
        .auto_dismiss = job->auto_dismiss,
        .error = job_error_text(job),
    };
}

void job_info_data_clear(JobInfoData *info)
{
    g_free(info->id);
    g_free(info->error);
    memset(info, 0, sizeof(*info));
}

void block_job_info_data_clear(BlockJobInfoData *info)
{
    g_free(info->device);
    g_free(info->error);
    memset(info, 0, sizeof(*info));
}
