/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * job-txn.c: transactions and the completion pipeline of jobs (contract in
 * include/job/job.h).
 *
 * Every job belongs to a transaction until it concludes; a job created without
 * one gets a transaction of its own. When run() returns:
 *
 *   success: WAITING until every member has finished; then all go PENDING; unless
 *            one has auto-finalize=off (job_finalize will come), finalise them all:
 *            prepare() each, then commit(), clean(), COMPLETED, CONCLUDED each.
 *   failure, force cancel, or a failing prepare(): the first member to fail
 *            force-cancels the others, waits for each of them to stop, then aborts
 *            every member: abort(), clean(), CANCELLED or COMPLETED with the error.
 *
 * Members are kept newest first, as QEMU does, which fixes the order of their
 * events.
 */
#include "job/job-internal.h"

struct JobTxn {
    GQueue jobs;              /* Job *, newest first */
    int refcnt;               /* the creator's, plus one per member */
    bool aborting;            /* job_completed_txn_abort runs only once */
};

JobTxn *job_txn_new(void)
{
    JobTxn *txn = g_new0(JobTxn, 1);

    g_queue_init(&txn->jobs);
    txn->refcnt = 1;
    return txn;
}

static void job_txn_ref(JobTxn *txn)
{
    txn->refcnt++;
}

void job_txn_unref(JobTxn *txn)
{
    if (txn && --txn->refcnt == 0) {
        assert(g_queue_is_empty(&txn->jobs));
        g_free(txn);
    }
}

void job_txn_add_job(JobTxn *txn, Job *job)
{
    assert(!job->txn);
    job->txn = txn;
    g_queue_push_head(&txn->jobs, job);
    job_txn_ref(txn);
}

static void job_txn_del_job(Job *job)
{
    if (job->txn) {
        g_queue_remove(&job->txn->jobs, job);
        job_txn_unref(job->txn);
        job->txn = NULL;
    }
}

/*
 * fn(member) for each member of job's transaction until one returns non-zero;
 * returns that value. fn may remove (and free) the member it is given.
 */
static int job_txn_apply(Job *job, int (*fn)(Job *))
{
    JobTxn *txn = job->txn;
    GList *l, *next;
    int rc = 0;

    job_ref(job);
    job_txn_ref(txn);
    for (l = txn->jobs.head; l; l = next) {
        next = l->next;
        rc = fn(l->data);
        if (rc) {
            break;
        }
    }
    job_txn_unref(txn);
    job_unref(job);
    return rc;
}

/* Turn a cancel into -ECANCELED and any failure into ABORTING with an error text. */
static void job_update_rc(Job *job)
{
    if (!job->ret && job_is_cancelled(job)) {
        job->ret = -ECANCELED;
    }
    if (job->ret) {
        if (!job->err) {
            error_setg(&job->err, "%s", strerror(-job->ret));
        }
        job_set_status(job, JOB_STATUS_ABORTING);
    }
}

void job_do_dismiss(Job *job)
{
    job->busy = false;
    job->paused = false;
    job->deferred_to_main_loop = true;
    job_txn_del_job(job);
    job_set_status(job, JOB_STATUS_NULL);
    job_registry_remove(job);
    job_unref(job);                       /* the job list's reference */
}

static void job_conclude(Job *job)
{
    job_set_status(job, JOB_STATUS_CONCLUDED);
    /* Nobody could have seen a never-started job's result: no reason to keep it. */
    if (job->auto_dismiss || !job->started) {
        job_do_dismiss(job);
    }
}

static int job_finalize_single(Job *job)
{
    const JobDriver *drv = job->driver;

    job_update_rc(job);                   /* a late cancel from an aborting txn */
    assert(job_is_completed(job));
    if (!job->ret) {
        if (drv->commit) {
            drv->commit(job);
        }
    } else if (drv->abort) {
        drv->abort(job);
    }
    if (drv->clean) {
        drv->clean(job);
    }
    if (job->cb) {
        job->cb(job->opaque, job->ret);
    }
    if (job->started) {
        if (job_is_cancelled(job)) {
            job_event_cancelled(job);
        } else {
            job_event_completed(job, job->ret ? error_get_pretty(job->err) : NULL);
        }
    }
    job_txn_del_job(job);
    job_conclude(job);
    return 0;
}

void job_completed_txn_abort(Job *job)
{
    JobTxn *txn = job->txn;

    if (txn->aborting) {
        return;               /* a member we are waiting for below finished */
    }
    txn->aborting = true;
    job_txn_ref(txn);
    job_ref(job);
    /* One member failed, so nothing the others produce matters: stop them hard. */
    for (GList *l = txn->jobs.head; l; l = l->next) {
        if (l->data != job) {
            job_cancel_async(l->data, true);
        }
    }
    while (!g_queue_is_empty(&txn->jobs)) {
        Job *other = g_queue_peek_head(&txn->jobs);

        if (other->started && !job_is_completed(other)) {
            assert(job_cancel_requested(other));
            job_finish_sync(other, NULL, NULL);
        }
        job_finalize_single(other);
    }
    job_unref(job);
    job_txn_unref(txn);
}

static int job_prepare(Job *job)
{
    if (job->ret == 0 && job->driver->prepare) {
        job->ret = job->driver->prepare(job);
        job_update_rc(job);
    }
    return job->ret;
}

void job_do_finalize(Job *job)
{
    for (GList *l = job->txn->jobs.head; l; l = l->next) {
        if (job_prepare(l->data)) {
            /*
             * Abort on behalf of the member that failed: job_completed_txn_abort
             * spares its argument from being cancelled, and a member whose prepare
             * succeeded must be cancelled (and aborted) like the rest.
             */
            job_completed_txn_abort(l->data);
            return;
        }
    }
    job_txn_apply(job, job_finalize_single);
}

void job_finalize(Job *job, Error **errp)
{
    if (job_apply_verb(job, JOB_VERB_FINALIZE, errp)) {
        return;
    }
    job_do_finalize(job);
}

void job_dismiss(Job **jobptr, Error **errp)
{
    Job *job = *jobptr;

    if (job_apply_verb(job, JOB_VERB_DISMISS, errp)) {
        return;
    }
    job_do_dismiss(job);
    *jobptr = NULL;
}

static int job_transition_to_pending(Job *job)
{
    job_set_status(job, JOB_STATUS_PENDING);
    if (!job->auto_finalize) {
        job_event_pending(job);
    }
    return 0;
}

static int job_needs_finalize(Job *job)
{
    return !job->auto_finalize;
}

static void job_completed_txn_success(Job *job)
{
    job_set_status(job, JOB_STATUS_WAITING);
    for (GList *l = job->txn->jobs.head; l; l = l->next) {
        if (!job_is_completed(l->data)) {
            return;           /* the last member to finish moves them all on */
        }
    }
    job_txn_apply(job, job_transition_to_pending);
    if (job_txn_apply(job, job_needs_finalize) == 0) {
        job_do_finalize(job);
    }
}

void job_completed(Job *job)
{
    assert(job->txn && !job_is_completed(job));
    job_update_rc(job);
    if (job->ret) {
        job_completed_txn_abort(job);
    } else {
        job_completed_txn_success(job);
    }
}
