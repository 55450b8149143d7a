/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * job.c: the job state machine (contract in include/job/job.h): the status and verb
 * tables, the job list, creation, the job's coroutine with its pause points and
 * sleeps, the control verbs and events. Completion and transactions are in
 * job-txn.c; progress, speed, error policy and queries in job-query.c.
 *
 * How the coroutine yields matters for waking it: a plain yield (pause points,
 * job_co_yield) is woken only by job_enter(); a sleep is woken by its timer or by
 * job_enter() through QemuCoSleep, which makes sure only one of them schedules it.
 */
#include "job/job-internal.h"

enum {
    JOB_YIELD_NONE,           /* running */
    JOB_YIELD_PLAIN,          /* qemu_coroutine_yield until job_enter */
    JOB_YIELD_SLEEP,          /* qemu_co_sleep_ns_wakeable on job->sleep */
};

#define ST(s) (1u << JOB_STATUS_##s)

/* Where each status may go next (QEMU 7.2's JobSTT; docs: interfaces.md §2c). */
static const uint16_t job_may_enter[JOB_STATUS__MAX] = {
    [JOB_STATUS_UNDEFINED] = ST(CREATED),
    [JOB_STATUS_CREATED]   = ST(RUNNING) | ST(ABORTING) | ST(NULL),
    [JOB_STATUS_RUNNING]   = ST(PAUSED) | ST(READY) | ST(WAITING) | ST(ABORTING),
    [JOB_STATUS_PAUSED]    = ST(RUNNING),
    [JOB_STATUS_READY]     = ST(STANDBY) | ST(WAITING) | ST(ABORTING),
    [JOB_STATUS_STANDBY]   = ST(READY),
    [JOB_STATUS_WAITING]   = ST(PENDING) | ST(ABORTING),
    [JOB_STATUS_PENDING]   = ST(ABORTING) | ST(CONCLUDED),
    [JOB_STATUS_ABORTING]  = ST(ABORTING) | ST(CONCLUDED),
    [JOB_STATUS_CONCLUDED] = ST(NULL),
    [JOB_STATUS_NULL]      = 0,
};

/* In which statuses each verb is accepted (QEMU 7.2's JobVerbTable). */
static const uint16_t job_verb_allowed[JOB_VERB__MAX] = {
    [JOB_VERB_CANCEL]    = ST(CREATED) | ST(RUNNING) | ST(PAUSED) | ST(READY) | ST(STANDBY) |
                           ST(WAITING) | ST(PENDING),
    [JOB_VERB_PAUSE]     = ST(CREATED) | ST(RUNNING) | ST(PAUSED) | ST(READY) | ST(STANDBY),
    [JOB_VERB_RESUME]    = ST(CREATED) | ST(RUNNING) | ST(PAUSED) | ST(READY) | ST(STANDBY),
    [JOB_VERB_SET_SPEED] = ST(CREATED) | ST(RUNNING) | ST(PAUSED) | ST(READY) | ST(STANDBY),
    [JOB_VERB_COMPLETE]  = ST(READY) | ST(STANDBY),
    [JOB_VERB_FINALIZE]  = ST(PENDING),
    [JOB_VERB_DISMISS]   = ST(CONCLUDED),
};

static const char *const job_status_names[JOB_STATUS__MAX] = {
    "undefined", "created", "running", "paused", "ready", "standby", "waiting",
    "pending", "aborting", "concluded", "null",
};
static const char *const job_verb_names[JOB_VERB__MAX] = {
    "cancel", "pause", "resume", "set-speed", "complete", "finalize", "dismiss",
};
static const char *const job_type_names[JOB_TYPE__MAX] = {
    "commit", "stream", "mirror", "backup", "create", "amend", "snapshot-load",
    "snapshot-save", "snapshot-delete",
};
static const char *const job_io_status_names[JOB_IO_STATUS__MAX] = {
    "ok", "failed", "nospace",
};

const char *job_status_str(JobStatus s)
{
    return (unsigned)s < JOB_STATUS__MAX ? job_status_names[s] : "?";
}

const char *job_verb_str(JobVerb v)
{
    return (unsigned)v < JOB_VERB__MAX ? job_verb_names[v] : "?";
}

const char *job_type_str(JobType t)
{
    return (unsigned)t < JOB_TYPE__MAX ? job_type_names[t] : "?";
}

const char *job_io_status_str(JobIoStatus s)
{
    return (unsigned)s < JOB_IO_STATUS__MAX ? job_io_status_names[s] : "?";
}

bool job_type_is_block_job(JobType t)
{
    return t == JOB_TYPE_COMMIT || t == JOB_TYPE_STREAM || t == JOB_TYPE_MIRROR ||
           t == JOB_TYPE_BACKUP;
}

/* ---------------------------------------------------------------------------
 * Registration: the event sink and the job list (newest first, as QEMU lists them).
 */
static const JobEventHooks *job_hooks;
static void *job_hooks_opaque;
static GQueue job_list = G_QUEUE_INIT;

void job_set_event_hooks(const JobEventHooks *hooks, void *opaque)
{
    job_hooks = hooks;
    job_hooks_opaque = opaque;
}

Job *job_get(const char *id)
{
    for (GList *l = job_list.head; l; l = l->next) {
        Job *job = l->data;
        if (job->id && !strcmp(job->id, id)) {
            return job;
        }
    }
    return NULL;
}

Job *job_next(Job *job)
{
    GList *l = job ? g_queue_find(&job_list, job) : NULL;

    if (!job) {
        return g_queue_peek_head(&job_list);
    }
    assert(l);
    return l->next ? l->next->data : NULL;
}

void job_registry_remove(Job *job)
{
    g_queue_remove(&job_list, job);
}

/* ---------------------------------------------------------------------------
 * Status and events
 */
bool job_status_may_enter(JobStatus from, JobStatus to)
{
    assert((unsigned)from < JOB_STATUS__MAX && (unsigned)to < JOB_STATUS__MAX);
    return job_may_enter[from] & (1u << to);
}

void job_set_status(Job *job, JobStatus s1)
{
    JobStatus s0 = job->status;

    assert(job_status_may_enter(s0, s1));
    job->status = s1;
    if (s1 != s0 && !job_is_internal(job) && job_hooks && job_hooks->status_change) {
        job_hooks->status_change(job, job_hooks_opaque);
    }
}

/* The BLOCK_JOB_* events exist for visible block jobs only. */
static bool job_sends_block_events(Job *job)
{
    return job_hooks && !job_is_internal(job) && job_type_is_block_job(job_type(job));
}

void job_event_ready(Job *job)
{
    if (job_sends_block_events(job) && job_hooks->ready) {
        job_hooks->ready(job, job_hooks_opaque);
    }
}

void job_event_pending(Job *job)
{
    if (job_sends_block_events(job) && job_hooks->pending) {
        job_hooks->pending(job, job_hooks_opaque);
    }
}

void job_event_completed(Job *job, const char *error)
{
    if (job_sends_block_events(job) && job_hooks->completed) {
        job_hooks->completed(job, error, job_hooks_opaque);
    }
}

void job_event_cancelled(Job *job)
{
    if (job_sends_block_events(job) && job_hooks->cancelled) {
        job_hooks->cancelled(job, job_hooks_opaque);
    }
}

void job_event_error(Job *job, bool is_read, BlockErrorAction action)
{
    if (job_sends_block_events(job) && job_hooks->error) {
        job_hooks->error(job, is_read, action, job_hooks_opaque);
    }
}

int job_apply_verb(Job *job, JobVerb verb, Error **errp)
{
    assert((unsigned)verb < JOB_VERB__MAX && (unsigned)job->status < JOB_STATUS__MAX);
    if (job_verb_allowed[verb] & (1u << job->status)) {
        return 0;
    }
    error_setg(errp, "Job '%s' in state '%s' cannot accept command verb '%s'",
               job->id ? job->id : "", job_status_str(job->status), job_verb_str(verb));
    return -EPERM;
}

/* ---------------------------------------------------------------------------
 * Creation, references, predicates
 */

/* QEMU's id rule (-object, -device, job ids): a letter, then [A-Za-z0-9._-]. */
static bool job_id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool job_check_id(const char *job_id, int flags, Error **errp)
{
    if (!job_id) {
        if (!(flags & JOB_INTERNAL)) {
            error_setg(errp, "An explicit job ID is required");
            return false;
        }
        return true;
    }
    if (flags & JOB_INTERNAL) {
        error_setg(errp, "Cannot specify job ID for internal job");
        return false;
    }
    if (!job_id_wellformed(job_id)) {
        error_setg(errp, "Invalid job ID '%s'", job_id);
        return false;
    }
    if (job_get(job_id)) {
        error_setg(errp, "Job ID '%s' already in use", job_id);
        return false;
    }
    return true;
}

void *job_create(const char *job_id, const JobDriver *driver, JobTxn *txn, int flags,
                 JobCompletionFunc *cb, void *opaque, Error **errp)
{
    Job *job;

    assert(driver->instance_size >= sizeof(Job) && driver->run);
    if (!job_check_id(job_id, flags, errp)) {
        return NULL;
    }
    job = g_malloc0(driver->instance_size);
    job->id = g_strdup(job_id);
    job->driver = driver;
    job->aio_context = qemu_get_aio_context();
    job->auto_finalize = !(flags & JOB_MANUAL_FINALIZE);
    job->auto_dismiss = !(flags & JOB_MANUAL_DISMISS);
    job->cb = cb;
    job->opaque = opaque;
    job->refcnt = 1;
    /* Held until job_start; a pause before the start thus stops the job at once. */
    job->pause_count = 1;
    job->paused = true;
    ratelimit_init(&job->limit);

    g_queue_push_head(&job_list, job);
    job_set_status(job, JOB_STATUS_CREATED);
    if (txn) {
        job_txn_add_job(txn, job);
    } else {
        txn = job_txn_new();
        job_txn_add_job(txn, job);
        job_txn_unref(txn);
    }
    return job;
}

void job_ref(Job *job)
{
    job->refcnt++;
}

void job_unref(Job *job)
{
    assert(job->refcnt > 0);
    if (--job->refcnt) {
        return;
    }
    assert(job->status == JOB_STATUS_NULL && !job->txn);
    assert(!g_queue_find(&job_list, job));
    if (job->driver->free) {
        job->driver->free(job);
    }
    error_free(job->err);
    g_free(job->id);
    g_free(job);
}

bool job_is_internal(Job *job)
{
    return !job->id;
}

JobType job_type(const Job *job)
{
    return job->driver->job_type;
}

bool job_is_ready(Job *job)
{
    return job->status == JOB_STATUS_READY || job->status == JOB_STATUS_STANDBY;
}

bool job_is_completed(Job *job)
{
    switch (job->status) {
    case JOB_STATUS_WAITING:
    case JOB_STATUS_PENDING:
    case JOB_STATUS_ABORTING:
    case JOB_STATUS_CONCLUDED:
    case JOB_STATUS_NULL:
        return true;
    default:
        return false;
    }
}

bool job_cancel_requested(Job *job)
{
    return job->cancelled;
}

bool job_is_cancelled(Job *job)
{
    assert(job->cancelled || !job->force_cancel);
    return job->force_cancel;
}

bool job_is_busy(Job *job)
{
    return job->busy;
}

bool job_user_paused(Job *job)
{
    return job->user_paused;
}

static bool job_should_pause(Job *job)
{
    return job->pause_count > 0;
}

/* ---------------------------------------------------------------------------
 * The job's coroutine
 */

/* Runs in the main loop once run() has returned. */
static void job_exit(void *opaque)
{
    Job *job = opaque;

    /* The coroutine is gone; completion may drain nodes, which waits for !busy. */
    job->busy = false;
    job_completed(job);
    job_unref(job);                       /* job_start's reference */
}

static void coroutine_fn job_co_entry(void *opaque)
{
    Job *job = opaque;

    job_co_pause_point(job);              /* paused before it was started? */
    job->ret = job->driver->run(job, &job->err);
    job->deferred_to_main_loop = true;
    job->busy = true;
    aio_bh_schedule_oneshot(qemu_get_aio_context(), job_exit, job);
}

void job_start(Job *job)
{
    assert(job->status == JOB_STATUS_CREATED && !job->started);
    job_ref(job);
    job->co = qemu_coroutine_create(job_co_entry, job);
    job->started = true;
    job->pause_count--;
    job->busy = true;
    job->paused = false;
    job_set_status(job, JOB_STATUS_RUNNING);
    aio_co_enter(job->aio_context, job->co);
}

/* Yield with busy = false until job_enter() or, for ns >= 0, the sleep timer. */
static void coroutine_fn job_co_do_yield(Job *job, int64_t ns)
{
    assert(job->busy && qemu_coroutine_self() == job->co);
    job->busy = false;
    if (ns < 0) {
        job->sleep_kind = JOB_YIELD_PLAIN;
        qemu_coroutine_yield();
    } else {
        job->sleep_kind = JOB_YIELD_SLEEP;
        qemu_co_sleep_ns_wakeable(&job->sleep, job->driver->sleep_clock, ns);
    }
    job->sleep_kind = JOB_YIELD_NONE;
    job->busy = true;     /* already true if job_enter woke us, not if the timer did */
}

void coroutine_fn job_co_pause_point(Job *job)
{
    assert_in_coroutine();
    assert(job->started);
    if (!job_should_pause(job) || job_is_cancelled(job)) {
        return;
    }
    if (job->driver->pause) {
        job->driver->pause(job);
    }
    if (job_should_pause(job) && !job_is_cancelled(job)) {
        JobStatus prev = job->status;

        job_set_status(job, prev == JOB_STATUS_READY ? JOB_STATUS_STANDBY : JOB_STATUS_PAUSED);
        job->paused = true;
        /* Spurious job_enter()s (finish_sync, soft cancels) must not end the pause. */
        while (job_should_pause(job) && !job_is_cancelled(job)) {
            job_co_do_yield(job, -1);
        }
        job->paused = false;
        job_set_status(job, prev);
    }
    if (job->driver->resume) {
        job->driver->resume(job);
    }
}

void coroutine_fn job_co_sleep_ns(Job *job, int64_t ns)
{
    assert_in_coroutine();
    /* Checked before busy goes false: a cancelled job must not wait for a timer. */
    if (job_is_cancelled(job)) {
        return;
    }
    if (!job_should_pause(job)) {
        job_co_do_yield(job, MAX(ns, 0));
    }
    job_co_pause_point(job);
}

void coroutine_fn job_co_yield(Job *job)
{
    assert_in_coroutine();
    if (job_is_cancelled(job)) {
        return;
    }
    if (!job_should_pause(job)) {
        job_co_do_yield(job, -1);
    }
    job_co_pause_point(job);
}

/* Wake the job if it yielded; if only_sleeping, only if it sleeps on an armed timer. */
static void job_enter_cond(Job *job, bool only_sleeping)
{
    if (!job->started || job->deferred_to_main_loop || job->busy) {
        return;
    }
    if (only_sleeping && !(job->sleep_kind == JOB_YIELD_SLEEP && job->sleep.to_wake)) {
        return;
    }
    job->busy = true;
    if (job->sleep_kind == JOB_YIELD_SLEEP) {
        qemu_co_sleep_wake(&job->sleep);  /* a no-op if the timer already woke it */
    } else {
        assert(job->sleep_kind == JOB_YIELD_PLAIN);
        aio_co_wake(job->co);
    }
}

void job_enter(Job *job)
{
    job_enter_cond(job, false);
}

void job_enter_if_sleeping(Job *job)
{
    job_enter_cond(job, true);
}

void job_transition_to_ready(Job *job)
{
    job_set_status(job, JOB_STATUS_READY);
    job_event_ready(job);
}

/* ---------------------------------------------------------------------------
 * Pause and resume
 */
void job_pause(Job *job)
{
    job->pause_count++;
    if (!job->paused) {
        job_enter(job);                   /* cut a sleep short to reach a pause point */
    }
}

/*
 * The VM stopped: take every running or READY job through a pause point and
 * back, as QEMU's stop-time drain does (JOB_STATUS_CHANGE paused/running or
 * standby/ready). The jobs are not drained here, so their own requests go on
 * and each reaches its pause point as for block-job-pause.
 */
void job_cycle_pause_all(void)
{
    for (Job *job = job_next(NULL); job; job = job_next(job)) {
        if (!job->started || job->paused || job_is_completed(job) ||
            (job->status != JOB_STATUS_RUNNING && job->status != JOB_STATUS_READY)) {
            continue;
        }
        job_ref(job);
        job_pause(job);
        AIO_WAIT_WHILE(job->aio_context, !job->paused && !job_is_completed(job));
        job_resume(job);
        job_unref(job);
    }
}

void job_resume(Job *job)
{
    assert(job->pause_count > 0);
    if (--job->pause_count) {
        return;
    }
    /* job_pause woke the job, so it waits in its pause point (or is about to). */
    job_enter(job);
}

void job_user_pause(Job *job, Error **errp)
{
    if (job_apply_verb(job, JOB_VERB_PAUSE, errp)) {
        return;
    }
    if (job->user_paused) {
        error_setg(errp, "Job is already paused");
        return;
    }
    job->user_paused = true;
    job_pause(job);
}

void job_user_resume(Job *job, Error **errp)
{
    /* QEMU checks this before the verb table, so its text wins in every status. */
    if (!job->user_paused || job->pause_count <= 0) {
        error_setg(errp, "Can't resume a job that was not paused");
        return;
    }
    if (job_apply_verb(job, JOB_VERB_RESUME, errp)) {
        return;
    }
    if (job->driver->user_resume) {
        job->driver->user_resume(job);
    }
    job->iostatus = JOB_IO_STATUS_OK;
    job->user_paused = false;
    job_resume(job);
}

/* ---------------------------------------------------------------------------
 * Cancel, complete, synchronous waits
 */
void job_cancel_async(Job *job, bool force)
{
    force = job->driver->cancel ? job->driver->cancel(job, force) : true;
    if (job->user_paused) {
        /* The caller enters the job if it should run. */
        if (job->driver->user_resume) {
            job->driver->user_resume(job);
        }
        job->user_paused = false;
        assert(job->pause_count > 0);
        job->pause_count--;
    }
    /* Once run() returned, only a force cancel can change the outcome. */
    if (force || !job->deferred_to_main_loop) {
        job->cancelled = true;
        job->force_cancel |= force;       /* a soft cancel never undoes a force one */
    }
}

void job_cancel(Job *job, bool force)
{
    if (job->status == JOB_STATUS_CONCLUDED) {
        job_do_dismiss(job);
        return;
    }
    job_cancel_async(job, force);
    if (!job->started) {
        job_completed(job);
    } else if (job->deferred_to_main_loop) {
        /* Done running: a force cancel turns the outcome into an abort now. */
        if (job_is_cancelled(job)) {
            job_completed_txn_abort(job);
        }
    } else {
        job_enter(job);
    }
}

void job_user_cancel(Job *job, bool force, Error **errp)
{
    if (job_apply_verb(job, JOB_VERB_CANCEL, errp)) {
        return;
    }
    job_cancel(job, force);
}

void job_complete(Job *job, Error **errp)
{
    if (job_apply_verb(job, JOB_VERB_COMPLETE, errp)) {
        return;
    }
    if (job_cancel_requested(job) || !job->driver->complete) {
        error_setg(errp, "The active block job '%s' cannot be completed", job->id);
        return;
    }
    job->driver->complete(job, errp);
}

int job_finish_sync(Job *job, void (*finish)(Job *, Error **errp), Error **errp)
{
    Error *local_err = NULL;
    int ret;

    assert(!qemu_in_coroutine());
    job_ref(job);
    if (finish) {
        finish(job, &local_err);
    }
    if (local_err) {
        error_propagate(errp, local_err);
        job_unref(job);
        return -EBUSY;
    }
    /*
     * One kick, so that a job that was cancelled without being entered (a
     * transaction's abort) runs. Kicking on every iteration, too, would cut every
     * rate-limit sleep short.
     */
    job_enter(job);
    AIO_WAIT_WHILE(job->aio_context, !job_is_completed(job));
    ret = (job_is_cancelled(job) && job->ret == 0) ? -ECANCELED : job->ret;
    job_unref(job);
    return ret;
}

static void job_cancel_soft_cb(Job *job, Error **errp)
{
    job_cancel(job, false);
}

static void job_cancel_force_cb(Job *job, Error **errp)
{
    job_cancel(job, true);
}

int job_cancel_sync(Job *job, bool force)
{
    return job_finish_sync(job, force ? job_cancel_force_cb : job_cancel_soft_cb, NULL);
}

void job_cancel_sync_all(void)
{
    Job *job;

    /* A cancelled auto-dismiss=off job stays CONCLUDED; the next turn dismisses it. */
    while ((job = job_next(NULL))) {
        job_cancel_sync(job, true);
    }
}

int job_complete_sync(Job *job, Error **errp)
{
    return job_finish_sync(job, job_complete, errp);
}
