/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * job-internal.h: what job/job.c, job/job-txn.c and job/job-query.c share; nobody
 * outside job/ may include it. job.c owns the status field: the other files change
 * a status only through job_set_status(), which checks the table.
 */
#ifndef GODWIT_JOB_INTERNAL_H
#define GODWIT_JOB_INTERNAL_H

#include "job/job.h"

/* The rate limiter's slice for job speed (QEMU's block jobs use 100 ms). */
#define JOB_SLICE_NS (100 * SCALE_MS)

/* job.c: move to s1 (asserted against the table); JOB_STATUS_CHANGE if it changed. */
void job_set_status(Job *job, JobStatus s1);

/* job.c: unlist the job once it reached NULL. */
void job_registry_remove(Job *job);

/* job.c: BLOCK_JOB_* events (non-internal block jobs only). */
void job_event_ready(Job *job);
void job_event_pending(Job *job);
void job_event_completed(Job *job, const char *error);
void job_event_cancelled(Job *job);
void job_event_error(Job *job, bool is_read, BlockErrorAction action);

/* job.c: mark a cancel request; the driver's cancel() hook decides if it is forced. */
void job_cancel_async(Job *job, bool force);
/* job.c: wake the job only if it sleeps with its timer still armed (speed change). */
void job_enter_if_sleeping(Job *job);

/* job-txn.c: the completion pipeline. */
void job_txn_add_job(JobTxn *txn, Job *job);
/* run() returned (or a never-started job was cancelled): go on to WAITING/ABORTING. */
void job_completed(Job *job);
/* Force-cancel the rest of job's transaction and abort every member. */
void job_completed_txn_abort(Job *job);
/* prepare + commit/abort + clean the whole (PENDING) transaction. */
void job_do_finalize(Job *job);
/* CONCLUDED → NULL, dropping the job list's reference. */
void job_do_dismiss(Job *job);

#endif /* GODWIT_JOB_INTERNAL_H */
