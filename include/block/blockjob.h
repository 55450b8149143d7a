/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blockjob.h: the block half of a block job (stream, commit, mirror, backup).
 *
 * A BlockJob embeds a Job first (include/job/job.h owns the life cycle, the verbs
 * and the events) and adds what touches the block graph:
 *   - blk: a BlockBackend on the node the job is "about" (the device of
 *     query-block-jobs), holding the permissions the job needs for its I/O there;
 *   - nodes: an edge (BdrvChild, class "job") to every node the job depends on.
 *     Each edge carries permissions (so that, e.g., nobody may write below a
 *     stream), an op blocker ("block device is in use by block job: stream"), and
 *     ties drain to the job: a drained section on one of these nodes pauses the
 *     job (job_pause) and its end resumes it (job_resume);
 *   - the on-error policy helper that turns an I/O error into BLOCK_JOB_ERROR and
 *     an action (block_job_error_action).
 *
 * Drain: the job's edges do not make a drain wait until the job reaches a pause
 * point (drained_poll is false); the job's requests in flight are waited for
 * through its BlockBackends like any other user's, and its next request waits in
 * the backend until the drained section ends. So the job is held, never
 * completed, while a node is drained.
 *
 * Graph changes belong in the JobDriver's prepare()/abort() (main loop), never in
 * run(). A job that is about to replace nodes should first drop its own edges
 * (block_job_remove_all_bdrv) so that bdrv_replace_node does not move them.
 *
 * Threads: main loop only; run() runs in the job's coroutine in the main context.
 */
#ifndef GODWIT_BLOCKJOB_H
#define GODWIT_BLOCKJOB_H

#include "job/job.h"
#include "block/block.h"
#include "block/block-backend.h"

typedef struct BlockJob {
    Job job;                      /* first: job.c and container_of() rely on it */

    /* Set at creation. */
    BlockBackend *blk;            /* the job's own I/O handle on its main node */
    Error *blocker;               /* "block device is in use by block job: TYPE" */

    /* Main loop only. */
    GSList *nodes;                /* BdrvChild *: edges of class child_job */
} BlockJob;

/*
 * Create a block job on bs, not started: the caller job_start()s it once the rest
 * of its setup succeeded, else block_job_early_fail()s it. job_id NULL means the
 * device name of bs (QEMU's default; job_create words the errors). perm/shared_perm
 * are the permissions of the job's BlockBackend on bs. speed: initial speed
 * (block-job-set-speed rules). flags: JOB_* creation flags. Adds bs itself to the
 * job's nodes. Returns the driver state (driver->instance_size) or NULL + errp.
 */
void *block_job_create(const char *job_id, const JobDriver *driver, JobTxn *txn,
                       BlockDriverState *bs, uint64_t perm, uint64_t shared_perm,
                       int64_t speed, int flags, JobCompletionFunc *cb, void *opaque,
                       Error **errp);

/*
 * Free a job that was created but will never start (its setup failed after
 * block_job_create): CREATED -> NULL (job_early_fail), no BLOCK_JOB_* events.
 */
void block_job_early_fail(BlockJob *job);

/*
 * Hold bs: an edge named name ("main node", "base", "intermediate node",
 * "target"...) with perm/shared_perm, the job's op blocker, and drain → pause.
 * Returns 0 or -errno + errp (permission conflicts in QEMU's words).
 */
int block_job_add_bdrv(BlockJob *job, const char *name, BlockDriverState *bs,
                       uint64_t perm, uint64_t shared_perm, Error **errp);
/* Drop every edge added above (and their blockers). */
void block_job_remove_all_bdrv(BlockJob *job);
/* Is bs one of the nodes this job holds? */
bool block_job_has_bdrv(BlockJob *job, BlockDriverState *bs);

/* The block job with this id (block-job-*), or NULL (also for non-block jobs). */
BlockJob *block_job_get(const char *id);
/* The BlockJob embedding job, or NULL if job is not a block job. */
BlockJob *block_job_from_job(Job *job);

/*
 * A request of the job failed with errnum (positive): apply on_err (see
 * job_error_action: BLOCK_JOB_ERROR, STOP pauses the job as a user pause and
 * sets the io-status). Returns the action the caller must take.
 */
BlockErrorAction block_job_error_action(BlockJob *job, BlockdevOnError on_err, bool is_read,
                                        int errnum);

#endif /* GODWIT_BLOCKJOB_H */
