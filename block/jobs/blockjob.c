/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blockjob.c: what every block job shares on top of job/: its BlockBackend, the
 * edges that hold its nodes (permissions, op blockers, drain → pause), and the
 * on-error policy. See include/block/blockjob.h.
 */
#include "util/osdep.h"
#include "block/blockjob.h"
#include "block/block-int.h"
#include "../block-core.h"

/* ---- the "job" edge class: a job as the parent of a node ---- */

static char *child_job_get_parent_desc(BdrvChild *c)
{
    BlockJob *bjob = c->opaque;

    return g_strdup_printf("%s job '%s'", job_type_str(job_type(&bjob->job)),
                           bjob->job.id ? bjob->job.id : "");
}

static void child_job_drained_begin(BdrvChild *c)
{
    BlockJob *bjob = c->opaque;

    job_pause(&bjob->job);
}

static void child_job_drained_end(BdrvChild *c)
{
    BlockJob *bjob = c->opaque;

    job_resume(&bjob->job);
}

/*
 * The job's I/O is counted by its BlockBackends, so the drain already waits for
 * it; waiting for the job to reach a pause point as well could deadlock with the
 * job's next request, which waits in the backend for the drain to end.
 */
static bool child_job_drained_poll(BdrvChild *c)
{
    return false;
}

static const BdrvChildClass child_job = {
    .parent_is_bds = false,
    .get_parent_desc = child_job_get_parent_desc,
    .drained_begin = child_job_drained_begin,
    .drained_end = child_job_drained_end,
    .drained_poll = child_job_drained_poll,
};

int block_job_add_bdrv(BlockJob *job, const char *name, BlockDriverState *bs,
                       uint64_t perm, uint64_t shared_perm, Error **errp)
{
    BdrvChild *c = bdrv_root_attach_child(bs, name, &child_job, 0, perm, shared_perm,
                                          job, errp);

    if (!c) {
        return -EPERM;
    }
    job->nodes = g_slist_prepend(job->nodes, c);
    bdrv_op_block_all(bs, job->blocker);
    return 0;
}

void block_job_remove_all_bdrv(BlockJob *job)
{
    /* Edges may be drained right now (a graph change in progress): unref undoes it. */
    while (job->nodes) {
        BdrvChild *c = job->nodes->data;

        job->nodes = g_slist_delete_link(job->nodes, job->nodes);
        bdrv_op_unblock_all(c->bs, job->blocker);
        bdrv_root_unref_child(c);
    }
}

bool block_job_has_bdrv(BlockJob *job, BlockDriverState *bs)
{
    for (GSList *l = job->nodes; l; l = l->next) {
        if (((BdrvChild *)l->data)->bs == bs) {
            return true;
        }
    }
    return false;
}

/* ---- creation ---- */

/* JobDriver.free is the driver's; ours runs from the job's clean-up wrapper. */
static void block_job_free(BlockJob *bjob)
{
    block_job_remove_all_bdrv(bjob);
    if (bjob->blk) {
        blk_unref(bjob->blk);
        bjob->blk = NULL;
    }
    error_free(bjob->blocker);
    bjob->blocker = NULL;
}

/*
 * job.c frees a Job with driver->free then g_free; block jobs chain their own
 * clean-up through the completion callback, which job.c calls exactly once for
 * a started job, and through block_job_early_fail for the others.
 */
typedef struct BlockJobCb {
    JobCompletionFunc *cb;
    void *opaque;
    BlockJob *bjob;
} BlockJobCb;

static void block_job_completed_cb(void *opaque, int ret)
{
    BlockJobCb *c = opaque;

    if (c->cb) {
        c->cb(c->opaque, ret);
    }
    block_job_free(c->bjob);
    g_free(c);
}

void *block_job_create(const char *job_id, const JobDriver *driver, JobTxn *txn,
                       BlockDriverState *bs, uint64_t perm, uint64_t shared_perm,
                       int64_t speed, int flags, JobCompletionFunc *cb, void *opaque,
                       Error **errp)
{
    BlockJobCb *c;
    BlockJob *bjob;
    BlockBackend *blk;

    assert(job_type_is_block_job(driver->job_type));
    if (speed < 0) {
        error_setg(errp, "Parameter 'speed' expects a non-negative value");
        return NULL;
    }
    if (!job_id && !(flags & JOB_INTERNAL)) {
        job_id = bdrv_get_device_name(bs);
    }
    blk = blk_new(perm, shared_perm);
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    c = g_new0(BlockJobCb, 1);
    c->cb = cb;
    c->opaque = opaque;
    bjob = job_create(job_id, driver, txn, flags, block_job_completed_cb, c, errp);
    if (!bjob) {
        g_free(c);
        blk_unref(blk);
        return NULL;
    }
    c->bjob = bjob;
    bjob->blk = blk;
    error_setg(&bjob->blocker, "block device is in use by block job: %s",
               job_type_str(driver->job_type));
    if (block_job_add_bdrv(bjob, "main node", bs, 0, BLK_PERM_ALL, errp) < 0) {
        block_job_early_fail(bjob);
        return NULL;
    }
    if (speed && !job_set_speed(&bjob->job, speed, errp)) {
        block_job_early_fail(bjob);
        return NULL;
    }
    return bjob;
}

void block_job_early_fail(BlockJob *bjob)
{
    BlockJobCb *c = bjob->job.opaque;

    block_job_free(bjob);
    bjob->job.cb = NULL;
    bjob->job.opaque = NULL;
    g_free(c);
    job_early_fail(&bjob->job);
}

/* ---- lookup ---- */

BlockJob *block_job_from_job(Job *job)
{
    return job && job_type_is_block_job(job_type(job)) ? (BlockJob *)job : NULL;
}

BlockJob *block_job_get(const char *id)
{
    return block_job_from_job(job_get(id));
}

/* ---- errors ---- */

BlockErrorAction block_job_error_action(BlockJob *job, BlockdevOnError on_err, bool is_read,
                                        int errnum)
{
    return job_error_action(&job->job, on_err, is_read, errnum);
}
