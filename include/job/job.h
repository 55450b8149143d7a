/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * job.h: long-running background operations ("jobs") and their life cycle.
 *
 * A Job is the generic half of a block job (stream, commit, mirror, backup) or of
 * any other long operation (blockdev-create). This module owns:
 *   - the status of every job and the only code that changes it (job/job.c), checked
 *     against QEMU 7.2's transition table and verb table;
 *   - the job's coroutine: run() is called in a coroutine in the main AioContext, and
 *     pauses, sleeps and cancellation take effect at its pause points;
 *   - completion: transactions (JobTxn), prepare/commit/abort/clean, finalisation
 *     (automatic, or manual with job-finalize), conclusion and dismissal;
 *   - events: JOB_STATUS_CHANGE and BLOCK_JOB_* through one JobEventHooks sink;
 *   - progress, speed (rate limiting) and the error kept for query-jobs.
 *
 * Life of a job (status in capitals):
 *
 *   job_create -> CREATED -job_start-> RUNNING <--pause/resume--> PAUSED
 *                                        |   \--job_transition_to_ready--> READY <--> STANDBY
 *                     run() returned 0   v                                    |
 *                                     WAITING   for the other jobs of its transaction
 *                                        v
 *                                     PENDING   until job_finalize if auto-finalize=off
 *                                        v      prepare(), commit(), clean(), BLOCK_JOB_COMPLETED
 *   run() failed, or cancelled -> ABORTING     abort(), clean(), BLOCK_JOB_CANCELLED
 *                                        v      (or BLOCK_JOB_COMPLETED with the error)
 *                                    CONCLUDED  kept with its error until job_dismiss if
 *                                        v      auto-dismiss=off
 *                                      NULL     gone from the job list
 *
 * Cancelling: a cancel *request* (job_cancel_requested) reaches the job's driver,
 * whose cancel() hook decides whether it is a real ("force") cancel. Only a force
 * cancel makes job_is_cancelled() true and ends in BLOCK_JOB_CANCELLED. Mirror uses
 * this: a soft cancel of a READY mirror stops it with success, so the target keeps
 * a point-in-time copy and the job reports BLOCK_JOB_COMPLETED. A driver without a
 * cancel() hook treats every cancel as force.
 *
 * Pausing: pause_count counts pause requests; the user's (job-pause, job_user_pause)
 * is at most one of them and is flagged by user_paused; the others are internal
 * (drained sections, the error policy's STOP). The job stops at its next pause point
 * (job_co_pause_point, job_co_sleep_ns, job_co_yield) while pause_count > 0, and is
 * shown as PAUSED, or STANDBY if it was READY.
 *
 * Threads: everything here runs in the main loop thread. Functions named `co` are
 * coroutine_fn and may only be called from the job's own coroutine (inside run()).
 * The others must not be called from any coroutine unless noted, because the sync
 * ones (job_finish_sync, job_cancel_sync*) poll the main AioContext.
 *
 * Where the rest lives:
 *   - BlockJob (include/block/blockjob.h, block/jobs/blockjob.c) will embed Job first,
 *     add the BlockBackend/nodes the job holds and its permissions, attach drained
 *     sections to job_pause()/job_resume() (internal pauses; drained_poll looks at
 *     job_is_busy()), and call job_error_action() from its data path with its
 *     on-error policy. One job per file in block/jobs/ (stream.c, mirror.c, ...).
 *   - job-qmp (job/job-qmp.c, blockdev's block-job-* handlers) will look jobs up by id
 *     (job_get), call the job_user_* verbs, convert JobInfoData/BlockJobInfoData to the
 *     generated QAPI types, and connect JobEventHooks to the generated event senders.
 *     "Block job 'x' not found" (DeviceNotActive), "Job not found", and
 *     "The block job for device 'X' is currently paused" (block-job-cancel without
 *     force on a user-paused job) are checked there, not here.
 */
#ifndef GODWIT_JOB_H
#define GODWIT_JOB_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/coroutine.h"
#include "util/aio.h"
#include "util/ratelimit.h"
#include "block/block-common.h"   /* BlockdevOnError, BlockErrorAction: enums only */

/*
 * The enums below have QEMU's QAPI names and values in QEMU's order (qapi/job.json,
 * qapi/block-core.json), so the monitor converts them with a cast. When the schema
 * grows qapi/job.json, the generated types replace these definitions.
 */
typedef enum JobStatus {
    JOB_STATUS_UNDEFINED,     /* only before job_create finishes */
    JOB_STATUS_CREATED,
    JOB_STATUS_RUNNING,
    JOB_STATUS_PAUSED,
    JOB_STATUS_READY,
    JOB_STATUS_STANDBY,
    JOB_STATUS_WAITING,
    JOB_STATUS_PENDING,
    JOB_STATUS_ABORTING,
    JOB_STATUS_CONCLUDED,
    JOB_STATUS_NULL,
    JOB_STATUS__MAX,
} JobStatus;

typedef enum JobVerb {
    JOB_VERB_CANCEL,
    JOB_VERB_PAUSE,
    JOB_VERB_RESUME,
    JOB_VERB_SET_SPEED,
    JOB_VERB_COMPLETE,
    JOB_VERB_FINALIZE,
    JOB_VERB_DISMISS,
    JOB_VERB__MAX,
} JobVerb;

typedef enum JobType {
    JOB_TYPE_COMMIT,
    JOB_TYPE_STREAM,
    JOB_TYPE_MIRROR,
    JOB_TYPE_BACKUP,
    JOB_TYPE_CREATE,
    JOB_TYPE_AMEND,
    JOB_TYPE_SNAPSHOT_LOAD,
    JOB_TYPE_SNAPSHOT_SAVE,
    JOB_TYPE_SNAPSHOT_DELETE,
    JOB_TYPE__MAX,
} JobType;

/* QAPI BlockDeviceIoStatus, as query-block-jobs reports it for a job. */
typedef enum JobIoStatus {
    JOB_IO_STATUS_OK,
    JOB_IO_STATUS_FAILED,
    JOB_IO_STATUS_NOSPACE,
    JOB_IO_STATUS__MAX,
} JobIoStatus;

/* QEMU's names ("ready", "set-speed", "snapshot-load", "nospace"); "?" if out of range. */
const char *job_status_str(JobStatus s);
const char *job_verb_str(JobVerb v);
const char *job_type_str(JobType t);
const char *job_io_status_str(JobIoStatus s);

/*
 * stream, commit, mirror and backup are block jobs: they appear in query-block-jobs
 * and send BLOCK_JOB_* events. The other types send only JOB_STATUS_CHANGE.
 */
bool job_type_is_block_job(JobType t);

typedef struct Job Job;
typedef struct JobTxn JobTxn;
typedef struct JobDriver JobDriver;

/* Called once, when the job is finalised, with its return value (0 or -errno). */
typedef void JobCompletionFunc(void *opaque, int ret);

/*
 * A job, embedded first in the driver's state (driver->instance_size bytes are
 * allocated and zeroed by job_create; container_of() gets the driver state back).
 *
 * Thread: main loop only. Fields are read-only outside job/ except through the
 * functions below; a driver may read them for its own job.
 */
struct Job {
    /* Set at creation. */
    char *id;                     /* NULL for an internal job (no events, not listed) */
    const JobDriver *driver;
    AioContext *aio_context;      /* where run() runs: the main context in v1 */
    bool auto_finalize;           /* false: stop in PENDING until job_finalize */
    bool auto_dismiss;            /* false: stay CONCLUDED until job_dismiss */
    JobCompletionFunc *cb;
    void *opaque;

    /* Main loop only; changed by job/ alone. */
    int refcnt;
    JobStatus status;
    Coroutine *co;                /* run()'s coroutine; stale once deferred */
    bool started;                 /* job_start was called */
    bool busy;                    /* the coroutine is running or scheduled, not yielded */
    bool paused;                  /* yielded in a pause point */
    int pause_count;              /* > 0: stop at the next pause point */
    bool user_paused;             /* one of the pauses is the user's */
    bool cancelled;               /* a cancel was requested (job_cancel_requested) */
    bool force_cancel;            /* ... and it is a real one (job_is_cancelled) */
    bool deferred_to_main_loop;   /* run() returned; completion runs in a BH */
    int sleep_kind;               /* how the coroutine yielded (job.c) */
    QemuCoSleep sleep;            /* wakes a job_co_sleep_ns early */
    int ret;                      /* run()'s result, then the final result */
    Error *err;                   /* why it failed; kept until the job is freed */
    int64_t progress_current;     /* query-jobs current-progress, block job offset */
    int64_t progress_total;       /* total-progress, block job len */
    int64_t speed;                /* bytes/s, 0 = unlimited */
    RateLimit limit;
    JobIoStatus iostatus;         /* set by the STOP/ENOSPC error policy, reset on resume */
    JobTxn *txn;                  /* NULL once finalised */
};

/*
 * What a kind of job implements. Only run is mandatory. Hooks run in the main loop;
 * run (and the pause/resume hooks, which are called from pause points) in the
 * job's coroutine.
 */
struct JobDriver {
    size_t instance_size;         /* sizeof the struct that embeds Job first */
    JobType job_type;
    /*
     * The clock job_co_sleep_ns and the rate limiter use. Real jobs leave it 0
     * (QEMU_CLOCK_REALTIME, as QEMU does even under qtest); unit tests use the
     * manual QEMU_CLOCK_VIRTUAL.
     */
    QEMUClockType sleep_clock;

    /*
     * The work. Returns 0 on success or -errno, with *errp set on failure (if it is
     * not, the error text becomes strerror). It should call a pause point at least
     * once per chunk and return soon after job_is_cancelled(); it returns normally
     * (0) when a soft cancel asks it to stop early. No graph changes here.
     */
    int coroutine_fn (*run)(Job *job, Error **errp);

    /* At a pause point, before the job yields / after it runs again (coroutine). */
    void coroutine_fn (*pause)(Job *job);
    void coroutine_fn (*resume)(Job *job);
    /* The user lifted their pause (job-resume, or cancel of a user-paused job). */
    void (*user_resume)(Job *job);

    /* job-complete on a READY job: ask run() to finish (mirror: pivot on return). */
    void (*complete)(Job *job, Error **errp);

    /*
     * Completion, in this order, once every job of the transaction has finished:
     * prepare (may fail: returns -errno, then the whole transaction aborts), then
     * commit on success or abort on failure, then clean in both cases. Graph
     * changes go here.
     */
    int (*prepare)(Job *job);
    void (*commit)(Job *job);
    void (*abort)(Job *job);
    void (*clean)(Job *job);

    /*
     * A cancel was requested with force; return whether it is a real (force)
     * cancel. Mirror returns force || !READY. Without this hook every cancel is
     * a force cancel. May also kick in-flight work.
     */
    bool (*cancel)(Job *job, bool force);

    /* The speed changed (already stored in job->speed and job->limit). */
    void (*set_speed)(Job *job, int64_t speed);

    /* Free what the driver state owns; the Job itself is freed by job.c. */
    void (*free)(Job *job);
};

typedef enum JobCreateFlags {
    JOB_DEFAULT = 0,
    JOB_INTERNAL = 0x1,           /* no id, no events, hidden from queries */
    JOB_MANUAL_FINALIZE = 0x2,    /* auto-finalize=false */
    JOB_MANUAL_DISMISS = 0x4,     /* auto-dismiss=false */
} JobCreateFlags;

/* ---------------------------------------------------------------------------
 * Events. One sink, installed by the monitor at start-up (tests install their
 * own). job.c calls it:
 *   status_change  on every status change of a non-internal job (JOB_STATUS_CHANGE);
 * and, for non-internal block jobs (job_type_is_block_job) only:
 *   ready          BLOCK_JOB_READY, after the change to READY;
 *   pending        BLOCK_JOB_PENDING, after the change to PENDING, auto-finalize=off only;
 *   completed      BLOCK_JOB_COMPLETED, at finalisation, before CONCLUDED; error is
 *                  the failure text, NULL on success;
 *   cancelled      BLOCK_JOB_CANCELLED, likewise, for a force-cancelled job;
 *   error          BLOCK_JOB_ERROR, from job_error_action().
 * A job that never started sends neither completed nor cancelled. Event data
 * (type, device = id, len, offset, speed) is read from the job with
 * job_query_block_info(). Hooks may be NULL; they must not change the job.
 */
typedef struct JobEventHooks {
    void (*status_change)(Job *job, void *opaque);
    void (*ready)(Job *job, void *opaque);
    void (*pending)(Job *job, void *opaque);
    void (*completed)(Job *job, const char *error, void *opaque);
    void (*cancelled)(Job *job, void *opaque);
    void (*error)(Job *job, bool is_read, BlockErrorAction action, void *opaque);
} JobEventHooks;

/* Install the sink (NULL: none). hooks must outlive its use. */
void job_set_event_hooks(const JobEventHooks *hooks, void *opaque);

/* ---------------------------------------------------------------------------
 * Creation and lookup
 */

/*
 * Create a job in CREATED, listed and with one reference owned by the job list
 * (dropped when it reaches NULL, which also unlists it). The list is newest first,
 * as QEMU's (query-jobs order). Errors: "Invalid job ID '%s'" (not a letter
 * followed by letters, digits, '-', '.', '_'), "Job ID '%s' already in use",
 * "An explicit job ID is required", "Cannot specify job ID for internal job".
 * txn: the transaction to join, or NULL for a transaction of its own.
 * Returns the driver state (instance_size bytes, zeroed but for the Job).
 */
void *job_create(const char *job_id, const JobDriver *driver, JobTxn *txn, int flags,
                 JobCompletionFunc *cb, void *opaque, Error **errp);

/* Start run() in a new coroutine (entered now unless called from a coroutine). */
void job_start(Job *job);

/*
 * A job that was created but whose setup failed before job_start: CREATED ->
 * NULL and freed (QEMU's job_early_fail). The caller's pointer becomes invalid.
 */
void job_early_fail(Job *job);

void job_ref(Job *job);
/* Drop a reference; the last one frees the job, which must have reached NULL. */
void job_unref(Job *job);

/* The job with this id (not internal ones), or NULL. */
Job *job_get(const char *id);
/* Iterate over every job, internal ones included: job_next(NULL) is the first. */
Job *job_next(Job *job);

/* VM stop: every running or READY job passes a pause point (paused/standby and back). */
void job_cycle_pause_all(void);

bool job_is_internal(Job *job);
JobType job_type(const Job *job);
/* READY or STANDBY. */
bool job_is_ready(Job *job);
/* Past run(): WAITING, PENDING, ABORTING, CONCLUDED or NULL. */
bool job_is_completed(Job *job);
/* A cancel was requested (soft or force). */
bool job_cancel_requested(Job *job);
/* A force cancel: the job will end as cancelled. run() polls this. */
bool job_is_cancelled(Job *job);
bool job_is_busy(Job *job);

/* ---------------------------------------------------------------------------
 * Inside run(): pause points, sleeping, yielding (coroutine_fn, the job's own
 * coroutine only).
 */

/* Stop here while paused (PAUSED/STANDBY), unless force-cancelled. */
void coroutine_fn job_co_pause_point(Job *job);
/*
 * Sleep ns on the driver's clock, then pass a pause point. Returns early when the
 * job is paused, cancelled or entered (job_enter, a speed change); returns at once
 * if it is already cancelled. ns = 0 just lets the event loop run once.
 */
void coroutine_fn job_co_sleep_ns(Job *job, int64_t ns);
/* Yield until job_enter(), then pass a pause point. Returns at once if cancelled. */
void coroutine_fn job_co_yield(Job *job);
/* Wake a job that yields or sleeps (scheduled, not entered recursively). */
void job_enter(Job *job);

/* READY, plus BLOCK_JOB_READY: mirror's first pass is done. From RUNNING only. */
void job_transition_to_ready(Job *job);

/* Progress: current += done; total = current + remaining; total += delta. */
void job_progress_update(Job *job, uint64_t done);
void job_progress_set_remaining(Job *job, uint64_t remaining);
void job_progress_increase_remaining(Job *job, uint64_t delta);

/*
 * Rate limiting by job->speed: account n bytes just moved, then
 * job_co_ratelimit_sleep() before the next chunk sleeps as long as the speed
 * needs (a pause and cancel point, even at speed 0).
 */
void job_ratelimit_processed(Job *job, uint64_t n);
void coroutine_fn job_co_ratelimit_sleep(Job *job);

/*
 * The on-error policy of block jobs (on-error, on-source-error, on-target-error)
 * for an I/O error errnum (positive) in a read or a write: report → REPORT,
 * ignore → IGNORE, stop → STOP, enospc and auto → STOP for ENOSPC, else REPORT.
 * Sends BLOCK_JOB_ERROR. On STOP the job becomes user-paused (job-resume continues
 * it) and its io-status turns failed or nospace. The caller retries the request
 * after its next pause point on STOP, fails run() on REPORT, goes on on IGNORE.
 */
BlockErrorAction job_error_action(Job *job, BlockdevOnError on_error, bool is_read, int errnum);

/* ---------------------------------------------------------------------------
 * Control from the main loop. The job_user_* functions and job_set_speed check the
 * verb table first and fail with "Job '%s' in state '%s' cannot accept command
 * verb '%s'"; they are what QMP calls.
 */

/* 0 if verb is allowed in job's current status, else -EPERM with errp set. */
int job_apply_verb(Job *job, JobVerb verb, Error **errp);
/* Whether the transition table allows from → to (tests, assertions). */
bool job_status_may_enter(JobStatus from, JobStatus to);

/* Internal pause (drained sections, STOP) and its end; they nest. */
void job_pause(Job *job);
void job_resume(Job *job);
/* job-pause: "Job is already paused" if the user paused it already. */
void job_user_pause(Job *job, Error **errp);
/* job-resume: "Can't resume a job that was not paused"; resets the io-status. */
void job_user_resume(Job *job, Error **errp);
bool job_user_paused(Job *job);

/* block-job-set-speed: "Parameter 'speed' expects a non-negative value". */
bool job_set_speed(Job *job, int64_t speed, Error **errp);

/*
 * Request a cancel (see the top of the file). Returns at once; the job finishes
 * later. A job that never started is finished on the spot; a CONCLUDED job is
 * dismissed. job_user_cancel checks the verb first.
 */
void job_cancel(Job *job, bool force);
void job_user_cancel(Job *job, bool force, Error **errp);

/* job-complete on READY/STANDBY: "The active block job '%s' cannot be completed". */
void job_complete(Job *job, Error **errp);
/* job-finalize: finish the (PENDING) transaction now. */
void job_finalize(Job *job, Error **errp);
/* job-dismiss: CONCLUDED → NULL; the job may be freed, *jobptr is cleared. */
void job_dismiss(Job **jobptr, Error **errp);

/*
 * Run the main loop until the job has completed (WAITING or later), first calling
 * finish(job, errp) if given (its error is returned as -EBUSY). Returns the job's
 * result: 0, -errno, or -ECANCELED if it was cancelled. Not from a coroutine.
 */
int job_finish_sync(Job *job, void (*finish)(Job *, Error **errp), Error **errp);
/* Cancel and wait; returns as job_finish_sync. */
int job_cancel_sync(Job *job, bool force);
/* At quit: force-cancel every job and wait until all are gone. */
void job_cancel_sync_all(void);
/* job_complete, then wait: qemu-img commit of an active layer, tests. */
int job_complete_sync(Job *job, Error **errp);

/* ---------------------------------------------------------------------------
 * Transactions: jobs that finalise together (QMP `transaction` with
 * completion-mode=grouped). When one fails or is cancelled, the others are
 * force-cancelled and every job of the group is aborted.
 */
JobTxn *job_txn_new(void);
void job_txn_unref(JobTxn *txn);   /* the creator's reference; jobs hold their own */

/* ---------------------------------------------------------------------------
 * Queries: plain structs that the monitor turns into QAPI types. Strings are
 * owned by the struct: free them with job_info_data_clear/block_job_info_data_clear.
 */
typedef struct JobInfoData {          /* query-jobs: JobInfo */
    char *id;
    JobType type;
    JobStatus status;
    int64_t current_progress;
    int64_t total_progress;
    char *error;                      /* NULL unless the job failed or was cancelled */
} JobInfoData;

typedef struct BlockJobInfoData {     /* query-block-jobs: BlockJobInfo */
    JobType type;
    char *device;                     /* the job id */
    int64_t len;
    int64_t offset;
    bool busy;
    bool paused;
    int64_t speed;
    JobIoStatus io_status;
    bool ready;
    JobStatus status;
    bool auto_finalize;
    bool auto_dismiss;
    char *error;
} BlockJobInfoData;

void job_query_info(Job *job, JobInfoData *info);
void job_query_block_info(Job *job, BlockJobInfoData *info);
void job_info_data_clear(JobInfoData *info);
void block_job_info_data_clear(BlockJobInfoData *info);

#endif /* GODWIT_JOB_H */
