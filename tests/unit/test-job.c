/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Unit tests for job/: the transition and verb tables, the event sequences QEMU
 * 7.2 shows (interfaces.md §2c), pause/resume/sleep, cancel in every phase,
 * auto-finalize/auto-dismiss off, transactions, speed, the on-error policy,
 * cancel_sync_all and the query data.
 *
 * The fake jobs sleep on the manual virtual clock; the tests step the clock and
 * poll the main context by hand, so nothing sleeps for real. Expected tables are
 * written out here from the spec, independently of job.c's.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "job/job.h"

#define MS SCALE_MS

static AioContext *ctx;
static GString *ev;               /* the event log: "created running ..." */
static bool ev_ids;               /* prefix every event with "<id>:" */

/* ---------------------------------------------------------------------------
 * Event sink
 */
static void ev_add(Job *job, const char *fmt, ...) GODWIT_PRINTF(2, 3);
static void ev_add(Job *job, const char *fmt, ...)
{
    va_list ap;

    if (ev->len) {
        g_string_append_c(ev, ' ');
    }
    if (ev_ids) {
        g_string_append_printf(ev, "%s:", job->id);
    }
    va_start(ap, fmt);
    g_string_append_vprintf(ev, fmt, ap);
    va_end(ap);
}

static void hook_status(Job *job, void *opaque)
{
    ev_add(job, "%s", job_status_str(job->status));
}

static void hook_ready(Job *job, void *opaque)
{
    ev_add(job, "READY");
}

static void hook_pending(Job *job, void *opaque)
{
    ev_add(job, "PENDING");
}

static void hook_completed(Job *job, const char *error, void *opaque)
{
    if (error) {
        ev_add(job, "COMPLETED(%s)", error);
    } else {
        ev_add(job, "COMPLETED");
    }
}

static void hook_cancelled(Job *job, void *opaque)
{
    ev_add(job, "CANCELLED");
}

static void hook_error(Job *job, bool is_read, BlockErrorAction action, void *opaque)
{
    static const char *const names[] = { "ignore", "report", "stop" };

    ev_add(job, "ERROR(%s,%s)", is_read ? "read" : "write", names[action]);
}

static const JobEventHooks test_hooks = {
    .status_change = hook_status,
    .ready = hook_ready,
    .pending = hook_pending,
    .completed = hook_completed,
    .cancelled = hook_cancelled,
    .error = hook_error,
};

/* Compare and reset the log. */
static void ev_check(const char *expected)
{
    g_assert_cmpstr(ev->str, ==, expected);
    g_string_truncate(ev, 0);
}

/* ---------------------------------------------------------------------------
 * The fake job: `steps` sleeps of `step_ns`, one progress unit each. Mirror-type
 * jobs then go READY and wait for complete or cancel.
 */
typedef struct TestRecord {       /* outlives the job */
    int prepared, committed, aborted, cleaned, freed;
    int cb_calls, cb_ret;
    int done;                     /* the job's steps, copied when it is freed */
    bool verbs_in_abort;          /* run the verb-table check from abort() */
} TestRecord;

typedef struct TestJob {
    Job common;
    TestRecord *rec;
    int steps;
    int64_t step_ns;
    int done;
    int fail_at;                  /* run() fails at this step (1-based); 0: never */
    int err_at;                   /* an I/O error at this step goes to the policy */
    BlockdevOnError on_error;
    int errnum;
    bool err_is_read;
    int prepare_ret;
    bool should_complete;
    uint64_t chunk;               /* speed jobs: bytes per step */
    bool released;                /* yield jobs: run() returns once set */
    int wakeups;                  /* yield jobs: returns from job_co_yield */
} TestJob;

static void check_verbs(Job *job, JobStatus expect);

static int coroutine_fn test_job_run(Job *job, Error **errp)
{
    TestJob *s = container_of(job, TestJob, common);

    job_progress_set_remaining(job, s->steps);
    while (s->done < s->steps) {
        job_co_sleep_ns(job, s->step_ns);
        if (job_is_cancelled(job)) {
            return 0;
        }
        if (s->err_at == s->done + 1) {
            BlockErrorAction act = job_error_action(job, s->on_error, s->err_is_read, s->errnum);
            if (act == BLOCK_ERROR_ACTION_STOP) {
                s->err_at = 0;            /* the retry after job-resume succeeds */
                continue;
            }
            if (act == BLOCK_ERROR_ACTION_REPORT) {
                error_setg_errno(errp, s->errnum, "Could not copy step %d", s->done + 1);
                return -s->errnum;
            }
        }
        if (s->fail_at == s->done + 1) {
            error_setg(errp, "test failure at step %d", s->fail_at);
            return -EIO;
        }
        s->done++;
        job_progress_update(job, 1);
    }
    if (job_type(job) == JOB_TYPE_MIRROR) {
        job_transition_to_ready(job);
        while (!s->should_complete && !job_cancel_requested(job)) {
            job_co_sleep_ns(job, s->step_ns);
        }
    }
    return 0;
}

/* Rate-limited copy: `steps` chunks of `chunk` bytes at job->speed. */
static int coroutine_fn speed_job_run(Job *job, Error **errp)
{
    TestJob *s = container_of(job, TestJob, common);

    while (s->done < s->steps) {
        job_co_ratelimit_sleep(job);
        if (job_is_cancelled(job)) {
            return 0;
        }
        s->done++;
        job_progress_update(job, s->chunk);
        job_ratelimit_processed(job, s->chunk);
    }
    return 0;
}

/* Waits for an event from outside, as mirror waits for its in-flight requests. */
static int coroutine_fn yield_job_run(Job *job, Error **errp)
{
    TestJob *s = container_of(job, TestJob, common);

    while (!s->released && !job_is_cancelled(job)) {
        job_co_yield(job);
        s->wakeups++;
    }
    return 0;
}

static int test_job_prepare(Job *job)
{
    TestJob *s = container_of(job, TestJob, common);

    s->rec->prepared++;
    return s->prepare_ret;
}

static void test_job_commit(Job *job)
{
    container_of(job, TestJob, common)->rec->committed++;
}

static void test_job_abort(Job *job)
{
    TestJob *s = container_of(job, TestJob, common);

    s->rec->aborted++;
    if (s->rec->verbs_in_abort) {
        check_verbs(job, JOB_STATUS_ABORTING);
    }
}

static void test_job_clean(Job *job)
{
    container_of(job, TestJob, common)->rec->cleaned++;
}

static void test_job_free(Job *job)
{
    TestJob *s = container_of(job, TestJob, common);

    s->rec->freed++;
    s->rec->done = s->done;
}

static bool mirror_job_cancel(Job *job, bool force)
{
    return force || !job_is_ready(job);
}

static void mirror_job_complete(Job *job, Error **errp)
{
    container_of(job, TestJob, common)->should_complete = true;
    job_enter(job);
}

#define TEST_DRIVER_COMMON                          \
    .instance_size = sizeof(TestJob),               \
    .sleep_clock = QEMU_CLOCK_VIRTUAL,              \
    .prepare = test_job_prepare,                    \
    .commit = test_job_commit,                      \
    .abort = test_job_abort,                        \
    .clean = test_job_clean,                        \
    .free = test_job_free

static const JobDriver stream_drv = {
    TEST_DRIVER_COMMON, .job_type = JOB_TYPE_STREAM, .run = test_job_run,
};
static const JobDriver mirror_drv = {
    TEST_DRIVER_COMMON, .job_type = JOB_TYPE_MIRROR, .run = test_job_run,
    .cancel = mirror_job_cancel, .complete = mirror_job_complete,
};
static const JobDriver create_drv = {
    TEST_DRIVER_COMMON, .job_type = JOB_TYPE_CREATE, .run = test_job_run,
};
static const JobDriver speed_drv = {
    TEST_DRIVER_COMMON, .job_type = JOB_TYPE_BACKUP, .run = speed_job_run,
};

static const JobDriver yield_drv = {
    TEST_DRIVER_COMMON, .job_type = JOB_TYPE_COMMIT, .run = yield_job_run,
};

static void test_cb(void *opaque, int ret)
{
    TestRecord *rec = opaque;

    rec->cb_calls++;
    rec->cb_ret = ret;
}

static TestJob *new_job(const char *id, const JobDriver *drv, JobTxn *txn, int flags,
                        TestRecord *rec, int steps, int64_t step_ns)
{
    TestJob *s = job_create(id, drv, txn, flags, test_cb, rec, &error_abort);

    s->rec = rec;
    s->steps = steps;
    s->step_ns = step_ns;
    return s;
}

/* Run everything that is ready now. */
static void flush(void)
{
    while (aio_poll(ctx, false)) {
    }
}

static void advance(int64_t ns)
{
    qemu_clock_step(ns);
    flush();
}

/* *errp holds exactly this message; free it and clear *errp. */
static void expect_error(Error **errp, const char *text)
{
    g_assert_nonnull(*errp);
    g_assert_cmpstr(error_get_pretty(*errp), ==, text);
    error_free(*errp);
    *errp = NULL;
}

/* new_job() outside a transaction, one step a millisecond, started at once. */
static TestJob *start_job(const char *id, const JobDriver *drv, int flags, TestRecord *rec,
                          int steps)
{
    TestJob *s = new_job(id, drv, NULL, flags, rec, steps, MS);

    job_start(&s->common);
    return s;
}

/* "mirror0" with one step, run until it is READY. */
static TestJob *start_ready_mirror(TestRecord *rec)
{
    TestJob *m = start_job("mirror0", &mirror_drv, 0, rec, 1);

    advance(MS);
    return m;
}

/* "job0" with one step and auto-finalize off, run until it waits in PENDING. */
static TestJob *start_pending_job(TestRecord *rec)
{
    TestJob *s = start_job("job0", &stream_drv, JOB_MANUAL_FINALIZE, rec, 1);

    advance(MS);
    ev_check("created running waiting pending PENDING");
    return s;
}

/* query-jobs keeps a CONCLUDED job's error (NULL: none) until it is dismissed. */
static void check_concluded_info(Job *job, const char *error)
{
    JobInfoData info;

    job_query_info(job, &info);
    g_assert_cmpint(info.status, ==, JOB_STATUS_CONCLUDED);
    g_assert_cmpstr(info.error, ==, error);
    job_info_data_clear(&info);
}

/* Jobs "a" and "b" in one transaction, which they hold the only references to. */
static void new_txn_pair(TestJob **a, TestRecord *ra, int a_flags, int a_steps,
                         TestJob **b, TestRecord *rb, int b_steps)
{
    JobTxn *txn = job_txn_new();

    *a = new_job("a", &stream_drv, txn, a_flags, ra, a_steps, MS);
    *b = new_job("b", &stream_drv, txn, 0, rb, b_steps, MS);
    job_txn_unref(txn);
}

/* Start both members; log what follows, each event prefixed with its job's id. */
static void start_txn_pair(TestJob *a, TestJob *b)
{
    job_start(&a->common);
    job_start(&b->common);
    g_string_truncate(ev, 0);
    ev_ids = true;
}

/* Just resumed: "running" again, then `steps_left` more steps end the job. */
static void check_resumed_to_end(int steps_left)
{
    flush();
    ev_check("running");
    for (int i = 0; i < steps_left; i++) {
        advance(MS);
    }
    ev_check("waiting pending COMPLETED concluded null");
}

static unsigned co_baseline;

static void setup(void)
{
    g_string_truncate(ev, 0);
    ev_ids = false;
    co_baseline = qemu_coroutine_alive_count();
}

/* No job, no coroutine and no pending work left behind. */
static void teardown(void)
{
    flush();
    g_assert_null(job_next(NULL));
    g_assert_cmpuint(qemu_coroutine_alive_count(), ==, co_baseline);
}

/* ---------------------------------------------------------------------------
 * Tables
 */
static const char *const status_names[] = {
    "undefined", "created", "running", "paused", "ready", "standby", "waiting",
    "pending", "aborting", "concluded", "null",
};
static const char *const verb_names[] = {
    "cancel", "pause", "resume", "set-speed", "complete", "finalize", "dismiss",
};

/* interfaces.md §2c, "Job state machine". */
static const char *const may_enter_spec[] = {
    [JOB_STATUS_UNDEFINED] = "created",
    [JOB_STATUS_CREATED] = "running aborting null",
    [JOB_STATUS_RUNNING] = "paused ready waiting aborting",
    [JOB_STATUS_PAUSED] = "running",
    [JOB_STATUS_READY] = "standby waiting aborting",
    [JOB_STATUS_STANDBY] = "ready",
    [JOB_STATUS_WAITING] = "pending aborting",
    [JOB_STATUS_PENDING] = "aborting concluded",
    [JOB_STATUS_ABORTING] = "aborting concluded",
    [JOB_STATUS_CONCLUDED] = "null",
    [JOB_STATUS_NULL] = "",
};

/* interfaces.md §2c, "Verbs allowed per state". */
static const char *const verb_spec[] = {
    [JOB_VERB_CANCEL] = "created running paused ready standby waiting pending",
    [JOB_VERB_PAUSE] = "created running paused ready standby",
    [JOB_VERB_RESUME] = "created running paused ready standby",
    [JOB_VERB_SET_SPEED] = "created running paused ready standby",
    [JOB_VERB_COMPLETE] = "ready standby",
    [JOB_VERB_FINALIZE] = "pending",
    [JOB_VERB_DISMISS] = "concluded",
};

static bool word_in(const char *word, const char *list)
{
    g_auto(GStrv) words = g_strsplit(list, " ", -1);

    return g_strv_contains((const char *const *)words, word);
}

static void test_names(void)
{
    for (int s = 0; s < JOB_STATUS__MAX; s++) {
        g_assert_cmpstr(job_status_str(s), ==, status_names[s]);
    }
    for (int v = 0; v < JOB_VERB__MAX; v++) {
        g_assert_cmpstr(job_verb_str(v), ==, verb_names[v]);
    }
    g_assert_cmpstr(job_type_str(JOB_TYPE_SNAPSHOT_DELETE), ==, "snapshot-delete");
    g_assert_cmpstr(job_type_str(JOB_TYPE_STREAM), ==, "stream");
    g_assert_cmpstr(job_io_status_str(JOB_IO_STATUS_NOSPACE), ==, "nospace");
    g_assert_cmpstr(job_status_str(JOB_STATUS__MAX), ==, "?");
    g_assert_true(job_type_is_block_job(JOB_TYPE_BACKUP));
    g_assert_false(job_type_is_block_job(JOB_TYPE_CREATE));
}

static void test_transition_table(void)
{
    for (int from = 0; from < JOB_STATUS__MAX; from++) {
        for (int to = 0; to < JOB_STATUS__MAX; to++) {
            bool want = word_in(status_names[to], may_enter_spec[from]);

            if (job_status_may_enter(from, to) != want) {
                g_error("%s -> %s: table says %d, spec %d", status_names[from],
                        status_names[to], !want, want);
            }
        }
    }
}

static int verbs_checked[JOB_STATUS__MAX];

/* Every verb against the spec in the job's current status, with QEMU's text. */
static void check_verbs(Job *job, JobStatus expect)
{
    g_assert_cmpstr(job_status_str(job->status), ==, status_names[expect]);
    for (int v = 0; v < JOB_VERB__MAX; v++) {
        Error *err = NULL;
        int ret = job_apply_verb(job, v, &err);

        if (word_in(status_names[expect], verb_spec[v])) {
            g_assert_cmpint(ret, ==, 0);
            g_assert_null(err);
        } else {
            g_autofree char *text =
                g_strdup_printf("Job '%s' in state '%s' cannot accept command verb '%s'",
                                job->id, status_names[expect], verb_names[v]);
            g_assert_cmpint(ret, ==, -EPERM);
            expect_error(&err, text);
        }
    }
    verbs_checked[expect]++;
}

/* Drive jobs through every status and check the verb table in each. */
static void test_verb_table(void)
{
    TestRecord r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
    TestJob *s, *m, *w;
    JobTxn *txn;
    Job *job;

    setup();
    memset(verbs_checked, 0, sizeof(verbs_checked));

    /* created, running, paused */
    s = new_job("job0", &stream_drv, NULL, JOB_MANUAL_FINALIZE | JOB_MANUAL_DISMISS,
                &r1, 2, MS);
    job = &s->common;
    check_verbs(job, JOB_STATUS_CREATED);
    job_start(job);
    check_verbs(job, JOB_STATUS_RUNNING);
    job_user_pause(job, &error_abort);
    flush();
    check_verbs(job, JOB_STATUS_PAUSED);
    job_user_resume(job, &error_abort);
    flush();

    /* pending, concluded, null; aborting from the abort hook */
    advance(MS);
    advance(MS);
    check_verbs(job, JOB_STATUS_PENDING);
    r1.verbs_in_abort = true;
    job_cancel(job, true);
    g_assert_cmpint(r1.aborted, ==, 1);
    check_verbs(job, JOB_STATUS_CONCLUDED);
    job_ref(job);
    job_dismiss(&job, &error_abort);
    g_assert_null(job);
    job = &s->common;
    check_verbs(job, JOB_STATUS_NULL);
    job_unref(job);
    g_assert_cmpint(r1.freed, ==, 1);

    /* ready, standby */
    m = new_job("job0", &mirror_drv, NULL, 0, &r2, 1, MS);
    job_start(&m->common);
    advance(MS);
    check_verbs(&m->common, JOB_STATUS_READY);
    job_user_pause(&m->common, &error_abort);
    flush();
    check_verbs(&m->common, JOB_STATUS_STANDBY);
    job_cancel_sync(&m->common, true);

    /* waiting: the first of two jobs in a transaction finished */
    txn = job_txn_new();
    w = new_job("job0", &stream_drv, txn, 0, &r3, 1, MS);
    s = new_job("job1", &stream_drv, txn, 0, &r4, 5, MS);
    job_txn_unref(txn);
    job_start(&w->common);
    job_start(&s->common);
    advance(MS);
    check_verbs(&w->common, JOB_STATUS_WAITING);
    job_cancel_sync(&s->common, true);

    for (int st = JOB_STATUS_CREATED; st < JOB_STATUS__MAX; st++) {
        if (!verbs_checked[st]) {
            g_error("verbs never checked in status %s", status_names[st]);
        }
    }
    teardown();
}

/* The user-level verbs: the errors QMP shows besides the table's. */
static void test_user_verbs(void)
{
    TestRecord r = { 0 };
    TestJob *m;
    Job *job;
    Error *err = NULL;

    setup();
    m = new_job("job0", &mirror_drv, NULL, JOB_MANUAL_DISMISS, &r, 2, MS);
    job = &m->common;
    job_complete(job, &err);
    expect_error(&err, "Job 'job0' in state 'created' cannot accept command verb 'complete'");
    job_start(job);
    job_complete(job, &err);
    expect_error(&err, "Job 'job0' in state 'running' cannot accept command verb 'complete'");
    job_finalize(job, &err);
    expect_error(&err, "Job 'job0' in state 'running' cannot accept command verb 'finalize'");
    job_dismiss(&job, &err);
    expect_error(&err, "Job 'job0' in state 'running' cannot accept command verb 'dismiss'");
    g_assert_nonnull(job);
    job_user_resume(job, &err);
    expect_error(&err, "Can't resume a job that was not paused");
    job_user_pause(job, &error_abort);
    job_user_pause(job, &err);
    expect_error(&err, "Job is already paused");
    job_user_resume(job, &error_abort);
    job_set_speed(job, -1, &err);
    expect_error(&err, "Parameter 'speed' expects a non-negative value");
    g_assert_true(job_set_speed(job, 4096, &error_abort));
    g_assert_cmpint(job->speed, ==, 4096);

    /* A soft cancel of a READY mirror is pending: complete is refused. */
    advance(MS);
    advance(MS);
    g_assert_cmpint(job->status, ==, JOB_STATUS_READY);
    job_user_cancel(job, false, &error_abort);
    g_assert_true(job_cancel_requested(job));
    g_assert_false(job_is_cancelled(job));
    job_complete(job, &err);
    expect_error(&err, "The active block job 'job0' cannot be completed");
    flush();
    g_assert_cmpint(job->status, ==, JOB_STATUS_CONCLUDED);

    /* CONCLUDED: only dismiss. */
    job_user_cancel(job, false, &err);
    expect_error(&err, "Job 'job0' in state 'concluded' cannot accept command verb 'cancel'");
    job_user_pause(job, &err);
    expect_error(&err, "Job 'job0' in state 'concluded' cannot accept command verb 'pause'");
    job_set_speed(job, 0, &err);
    expect_error(&err, "Job 'job0' in state 'concluded' cannot accept command verb 'set-speed'");
    job_dismiss(&job, &error_abort);
    g_assert_cmpint(r.freed, ==, 1);
    teardown();
}

static void test_create_errors(void)
{
    static const char *const bad[] = { "", "1job", "-job", "_a", "a b", "a@b", "a/b", "é" };
    static const char *const good[] = { "a", "Job", "a-b.c_d9", "z0" };
    TestRecord r = { 0 };
    Error *err = NULL;
    TestJob *s;

    setup();
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *text = g_strdup_printf("Invalid job ID '%s'", bad[i]);

        g_assert_null(job_create(bad[i], &stream_drv, NULL, 0, NULL, NULL, &err));
        expect_error(&err, text);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        s = job_create(good[i], &stream_drv, NULL, 0, test_cb, &r, &error_abort);
        s->rec = &r;
        job_cancel(&s->common, false);           /* never started: gone at once */
    }
    g_assert_cmpint(r.freed, ==, G_N_ELEMENTS(good));

    s = new_job("job0", &stream_drv, NULL, 0, &r, 1, MS);
    g_assert_null(job_create("job0", &stream_drv, NULL, 0, NULL, NULL, &err));
    expect_error(&err, "Job ID 'job0' already in use");
    g_assert_true(job_get("job0") == &s->common);
    g_assert_null(job_create(NULL, &stream_drv, NULL, 0, NULL, NULL, &err));
    expect_error(&err, "An explicit job ID is required");
    g_assert_null(job_create("x", &stream_drv, NULL, JOB_INTERNAL, NULL, NULL, &err));
    expect_error(&err, "Cannot specify job ID for internal job");
    job_cancel(&s->common, false);
    g_assert_null(job_get("job0"));
    teardown();
}

/* ---------------------------------------------------------------------------
 * Observed event sequences
 */
static void test_stream_success(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    JobInfoData info;

    setup();
    s = start_job("job0", &stream_drv, 0, &r, 3);
    ev_check("created running");
    advance(MS);
    advance(MS);
    job_query_info(&s->common, &info);
    g_assert_cmpstr(info.id, ==, "job0");
    g_assert_cmpint(info.type, ==, JOB_TYPE_STREAM);
    g_assert_cmpint(info.status, ==, JOB_STATUS_RUNNING);
    g_assert_cmpint(info.current_progress, ==, 2);
    g_assert_cmpint(info.total_progress, ==, 3);
    g_assert_null(info.error);
    job_info_data_clear(&info);
    ev_check("");
    advance(MS);
    ev_check("waiting pending COMPLETED concluded null");
    g_assert_cmpint(r.prepared, ==, 1);
    g_assert_cmpint(r.committed, ==, 1);
    g_assert_cmpint(r.aborted, ==, 0);
    g_assert_cmpint(r.cleaned, ==, 1);
    g_assert_cmpint(r.cb_calls, ==, 1);
    g_assert_cmpint(r.cb_ret, ==, 0);
    g_assert_cmpint(r.freed, ==, 1);
    teardown();
}

static void test_mirror_cancel_after_ready(void)
{
    TestRecord r = { 0 };
    TestJob *m;
    BlockJobInfoData bi;

    setup();
    m = start_job("mirror0", &mirror_drv, 0, &r, 2);
    advance(MS);
    ev_check("created running");
    advance(MS);
    ev_check("ready READY");
    job_query_block_info(&m->common, &bi);
    g_assert_true(bi.ready);
    g_assert_cmpint(bi.status, ==, JOB_STATUS_READY);
    g_assert_cmpint(bi.len, ==, 2);
    g_assert_cmpint(bi.offset, ==, 2);
    block_job_info_data_clear(&bi);
    advance(10 * MS);                             /* READY keeps running until told */
    ev_check("");
    job_user_cancel(&m->common, false, &error_abort);
    flush();
    ev_check("waiting pending COMPLETED concluded null");
    g_assert_cmpint(r.committed, ==, 1);
    g_assert_cmpint(r.cb_ret, ==, 0);
    teardown();
}

static void test_mirror_complete(void)
{
    TestRecord r = { 0 };
    TestJob *m;

    setup();
    m = start_ready_mirror(&r);
    ev_check("created running ready READY");
    job_complete(&m->common, &error_abort);
    flush();
    ev_check("waiting pending COMPLETED concluded null");
    g_assert_cmpint(r.committed, ==, 1);
    teardown();
}

static void test_mirror_cancel_before_ready(void)
{
    TestRecord r = { 0 };
    TestJob *m;

    setup();
    m = start_job("mirror0", &mirror_drv, 0, &r, 5);
    advance(MS);
    job_user_cancel(&m->common, false, &error_abort);
    g_assert_true(job_is_cancelled(&m->common));   /* not READY: a soft cancel is real */
    flush();
    ev_check("created running aborting CANCELLED concluded null");
    g_assert_cmpint(r.aborted, ==, 1);
    g_assert_cmpint(r.committed, ==, 0);
    g_assert_cmpint(r.prepared, ==, 0);
    g_assert_cmpint(r.cb_ret, ==, -ECANCELED);
    teardown();
}

static void test_force_cancel_ready(void)
{
    TestRecord r = { 0 };
    TestJob *m;

    setup();
    m = start_ready_mirror(&r);
    job_user_cancel(&m->common, true, &error_abort);
    flush();
    ev_check("created running ready READY aborting CANCELLED concluded null");
    g_assert_cmpint(r.cb_ret, ==, -ECANCELED);
    teardown();
}

static void test_auto_dismiss_off(void)
{
    TestRecord r = { 0 };
    Job *job;

    setup();
    job = &start_job("job0", &stream_drv, JOB_MANUAL_DISMISS, &r, 1)->common;
    advance(MS);
    ev_check("created running waiting pending COMPLETED concluded");
    g_assert_true(job_get("job0") == job);
    check_concluded_info(job, NULL);
    advance(100 * MS);
    ev_check("");
    g_assert_cmpint(r.freed, ==, 0);
    job_dismiss(&job, &error_abort);
    g_assert_null(job);
    ev_check("null");
    g_assert_cmpint(r.freed, ==, 1);
    teardown();
}

static void test_auto_finalize_off(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = start_pending_job(&r);
    g_assert_cmpint(r.prepared, ==, 0);           /* prepare waits for job-finalize */
    advance(100 * MS);
    ev_check("");
    job_finalize(&s->common, &error_abort);
    ev_check("COMPLETED concluded null");
    g_assert_cmpint(r.prepared, ==, 1);
    g_assert_cmpint(r.committed, ==, 1);
    teardown();
}

/* A failure: COMPLETED with the error, which query-jobs keeps after CONCLUDED. */
static void test_failure_error_kept(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Job *job;
    JobInfoData info;
    BlockJobInfoData bi;

    setup();
    s = new_job("job0", &stream_drv, NULL, JOB_MANUAL_DISMISS, &r, 3, MS);
    s->fail_at = 2;
    job = &s->common;
    job_start(job);
    advance(MS);
    advance(MS);
    ev_check("created running aborting COMPLETED(test failure at step 2) concluded");
    check_concluded_info(job, "test failure at step 2");
    job_query_info(job, &info);
    g_assert_cmpint(info.current_progress, ==, 1);
    g_assert_cmpint(info.total_progress, ==, 3);
    job_info_data_clear(&info);
    job_query_block_info(job, &bi);
    g_assert_cmpstr(bi.device, ==, "job0");
    g_assert_cmpstr(bi.error, ==, "test failure at step 2");
    g_assert_false(bi.auto_dismiss);
    g_assert_true(bi.auto_finalize);
    block_job_info_data_clear(&bi);
    g_assert_cmpint(r.aborted, ==, 1);
    g_assert_cmpint(r.prepared, ==, 0);
    g_assert_cmpint(r.cb_ret, ==, -EIO);
    job_dismiss(&job, &error_abort);
    ev_check("null");
    teardown();
}

static void test_cancelled_error_kept(void)
{
    TestRecord r = { 0 };
    Job *job;

    setup();
    job = &start_job("job0", &stream_drv, JOB_MANUAL_DISMISS, &r, 3)->common;
    job_user_cancel(job, false, &error_abort);
    flush();
    ev_check("created running aborting CANCELLED concluded");
    check_concluded_info(job, "Operation canceled");
    job_dismiss(&job, &error_abort);
    teardown();
}

/* Not a block job: JOB_STATUS_CHANGE only. */
static void test_create_job_events(void)
{
    TestRecord r = { 0 };

    setup();
    start_job("create0", &create_drv, 0, &r, 1);
    advance(MS);
    ev_check("created running waiting pending concluded null");
    g_assert_cmpint(r.committed, ==, 1);
    teardown();
}

static void test_internal_job(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Error *err = NULL;

    setup();
    s = new_job(NULL, &stream_drv, NULL, JOB_INTERNAL, &r, 2, 0);
    g_assert_true(job_is_internal(&s->common));
    g_assert_true(job_next(NULL) == &s->common);
    job_start(&s->common);
    g_assert_cmpint(job_finish_sync(&s->common, NULL, &err), ==, 0);
    g_assert_null(err);
    ev_check("");
    g_assert_cmpint(r.committed, ==, 1);
    teardown();
}

/* ---------------------------------------------------------------------------
 * Pause and resume
 */
static void test_pause_while_sleeping(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Job *job;
    BlockJobInfoData bi;

    setup();
    s = new_job("job0", &stream_drv, NULL, 0, &r, 4, NANOSECONDS_PER_SECOND);
    job = &s->common;
    job_start(job);
    g_assert_false(job_is_busy(job));
    advance(NANOSECONDS_PER_SECOND / 2);
    g_assert_cmpint(s->done, ==, 0);

    job_user_pause(job, &error_abort);
    job_query_block_info(job, &bi);
    g_assert_true(bi.paused);                     /* requested: visible at once */
    block_job_info_data_clear(&bi);
    flush();                                      /* the sleep is cut short */
    ev_check("created running paused");
    job_query_block_info(job, &bi);
    g_assert_cmpint(bi.status, ==, JOB_STATUS_PAUSED);
    g_assert_true(bi.paused);
    g_assert_false(bi.busy);
    block_job_info_data_clear(&bi);
    g_assert_cmpint(s->done, ==, 0);
    advance(10 * NANOSECONDS_PER_SECOND);         /* no progress while paused */
    g_assert_cmpint(s->done, ==, 0);
    ev_check("");

    job_user_resume(job, &error_abort);
    flush();
    ev_check("running");
    g_assert_cmpint(s->done, ==, 1);              /* the interrupted sleep ended */
    advance(NANOSECONDS_PER_SECOND - 1);          /* a full new sleep */
    g_assert_cmpint(s->done, ==, 1);
    advance(1);
    g_assert_cmpint(s->done, ==, 2);
    job_cancel_sync(job, true);
    ev_check("aborting CANCELLED concluded null");
    teardown();
}

static void test_pause_before_start(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = new_job("job0", &stream_drv, NULL, 0, &r, 1, MS);
    job_user_pause(&s->common, &error_abort);
    job_start(&s->common);
    ev_check("created running paused");
    advance(10 * MS);
    g_assert_cmpint(s->done, ==, 0);
    job_user_resume(&s->common, &error_abort);
    check_resumed_to_end(1);
    teardown();
}

/* Internal pauses (drained sections) nest with the user's and never complete a job. */
static void test_internal_pause(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Job *job;
    Error *err = NULL;

    setup();
    s = start_job("job0", &stream_drv, 0, &r, 2);
    job = &s->common;
    job_pause(job);
    flush();
    ev_check("created running paused");
    advance(100 * MS);
    g_assert_cmpint(s->done, ==, 0);
    g_assert_cmpint(job->status, ==, JOB_STATUS_PAUSED);

    job_user_resume(job, &err);                   /* not the user's pause */
    expect_error(&err, "Can't resume a job that was not paused");
    job_user_pause(job, &error_abort);
    job_user_resume(job, &error_abort);
    flush();
    g_assert_cmpint(job->status, ==, JOB_STATUS_PAUSED);
    ev_check("");

    job_resume(job);
    check_resumed_to_end(2);
    teardown();
}

/* A READY job pauses as STANDBY and comes back READY. */
static void test_standby(void)
{
    TestRecord r = { 0 };
    TestJob *m;

    setup();
    m = start_ready_mirror(&r);
    job_pause(&m->common);
    flush();
    job_resume(&m->common);
    flush();
    ev_check("created running ready READY standby ready");
    g_assert_true(job_is_ready(&m->common));
    g_assert_cmpint(job_complete_sync(&m->common, NULL), ==, 0);
    ev_check("waiting pending COMPLETED concluded null");
    teardown();
}

/* ---------------------------------------------------------------------------
 * Cancel in every phase
 */
static void test_cancel_created(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = new_job("job0", &stream_drv, NULL, JOB_MANUAL_DISMISS, &r, 1, MS);
    job_user_cancel(&s->common, false, &error_abort);
    /* Never started: no CANCELLED, and dismissed despite auto-dismiss=off. */
    ev_check("created aborting concluded null");
    g_assert_cmpint(r.cb_ret, ==, -ECANCELED);
    g_assert_cmpint(r.aborted, ==, 1);
    g_assert_cmpint(r.freed, ==, 1);
    teardown();
}

static void test_cancel_running(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = start_job("job0", &stream_drv, 0, &r, 3);
    advance(MS);
    job_user_cancel(&s->common, false, &error_abort);
    flush();
    ev_check("created running aborting CANCELLED concluded null");
    g_assert_cmpint(r.cb_ret, ==, -ECANCELED);
    teardown();
}

static void test_cancel_paused(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = start_job("job0", &stream_drv, 0, &r, 3);
    job_user_pause(&s->common, &error_abort);
    flush();
    job_user_cancel(&s->common, false, &error_abort);
    g_assert_false(job_user_paused(&s->common));  /* a cancel lifts the user's pause */
    flush();
    ev_check("created running paused running aborting CANCELLED concluded null");
    teardown();
}

/* Force cancel of a paused READY job (libvirt's abort): immediate, no pivot. */
static void test_force_cancel_standby(void)
{
    TestRecord r = { 0 };
    TestJob *m;

    setup();
    m = start_ready_mirror(&r);
    job_pause(&m->common);                        /* internal: stays paused after a cancel */
    flush();
    ev_check("created running ready READY standby");
    job_cancel(&m->common, false);                /* soft: waits for the pause to end */
    flush();
    ev_check("");
    g_assert_cmpint(m->common.status, ==, JOB_STATUS_STANDBY);
    job_cancel(&m->common, true);
    flush();
    ev_check("ready aborting CANCELLED concluded null");
    g_assert_cmpint(r.committed, ==, 0);
    teardown();
}

/* Soft cancel of a user-paused READY mirror: the pause is lifted, COMPLETED. */
static void test_soft_cancel_user_paused_ready(void)
{
    TestRecord r = { 0 };
    TestJob *m;

    setup();
    m = start_ready_mirror(&r);
    job_user_pause(&m->common, &error_abort);
    flush();
    job_user_cancel(&m->common, false, &error_abort);
    flush();
    ev_check("created running ready READY standby ready waiting pending COMPLETED concluded null");
    g_assert_cmpint(r.committed, ==, 1);
    teardown();
}

static void test_cancel_pending(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = start_pending_job(&r);
    job_user_cancel(&s->common, false, &error_abort);
    ev_check("aborting CANCELLED concluded null");
    g_assert_cmpint(r.prepared, ==, 0);
    g_assert_cmpint(r.aborted, ==, 1);
    g_assert_cmpint(r.cb_ret, ==, -ECANCELED);
    teardown();
}

/* A cancel arriving after run() returned but before completion ran. */
static void test_cancel_deferred(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = start_job("job0", &stream_drv, 0, &r, 1);
    qemu_clock_step(MS);
    aio_poll(ctx, false);                         /* the timer ends run(); BH queued */
    g_assert_true(s->common.deferred_to_main_loop);
    g_assert_cmpint(s->common.status, ==, JOB_STATUS_RUNNING);
    job_cancel(&s->common, true);
    ev_check("created running aborting CANCELLED concluded null");
    g_assert_cmpint(r.cb_ret, ==, -ECANCELED);
    teardown();
}

/* ---------------------------------------------------------------------------
 * Synchronous waits
 */
static void test_finish_sync(void)
{
    TestRecord r1 = { 0 }, r2 = { 0 };
    TestJob *s;

    setup();
    s = new_job("job0", &stream_drv, NULL, 0, &r1, 3, 0);
    job_start(&s->common);
    g_assert_cmpint(job_finish_sync(&s->common, NULL, NULL), ==, 0);
    g_assert_cmpint(r1.committed, ==, 1);

    s = new_job("job0", &stream_drv, NULL, 0, &r2, 3, 0);
    s->fail_at = 2;
    job_start(&s->common);
    g_assert_cmpint(job_finish_sync(&s->common, NULL, NULL), ==, -EIO);
    g_assert_cmpint(r2.aborted, ==, 1);
    teardown();
}

static void test_complete_sync_error(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Error *err = NULL;

    setup();
    s = start_job("job0", &stream_drv, 0, &r, 3);
    g_assert_cmpint(job_complete_sync(&s->common, &err), ==, -EBUSY);
    expect_error(&err, "Job 'job0' in state 'running' cannot accept command verb 'complete'");
    g_assert_cmpint(job_cancel_sync(&s->common, false), ==, -ECANCELED);
    teardown();
}

/* At quit every job is cancelled and waited for, whatever its status. */
static void test_cancel_sync_all(void)
{
    TestRecord r[6] = { 0 };
    TestJob *j[6];

    setup();
    j[0] = new_job("running", &stream_drv, NULL, 0, &r[0], 100, MS);
    j[1] = new_job("paused", &stream_drv, NULL, 0, &r[1], 100, MS);
    j[2] = new_job("ready", &mirror_drv, NULL, 0, &r[2], 1, MS);
    j[3] = new_job("concluded", &stream_drv, NULL, JOB_MANUAL_DISMISS, &r[3], 1, MS);
    j[4] = new_job("created", &stream_drv, NULL, 0, &r[4], 1, MS);
    j[5] = new_job("pending", &stream_drv, NULL, JOB_MANUAL_FINALIZE, &r[5], 1, MS);
    for (int i = 0; i < 6; i++) {
        if (i != 4) {
            job_start(&j[i]->common);
        }
    }
    job_user_pause(&j[1]->common, &error_abort);
    advance(MS);
    g_assert_cmpint(j[1]->common.status, ==, JOB_STATUS_PAUSED);
    g_assert_cmpint(j[2]->common.status, ==, JOB_STATUS_READY);
    g_assert_cmpint(j[3]->common.status, ==, JOB_STATUS_CONCLUDED);
    g_assert_cmpint(j[5]->common.status, ==, JOB_STATUS_PENDING);
    g_string_truncate(ev, 0);
    ev_ids = true;

    job_cancel_sync_all();
    g_assert_null(job_next(NULL));
    for (int i = 0; i < 6; i++) {
        g_assert_cmpint(r[i].freed, ==, 1);
        g_assert_cmpint(r[i].cb_calls, ==, 1);
        g_assert_cmpint(r[i].cb_ret, ==, i == 3 ? 0 : -ECANCELED);
    }
    /* Newest first; each job ends before the next is cancelled. */
    ev_check("pending:aborting pending:CANCELLED pending:concluded pending:null "
             "created:aborting created:concluded created:null "
             "concluded:null "
             "ready:aborting ready:CANCELLED ready:concluded ready:null "
             "paused:running paused:aborting paused:CANCELLED paused:concluded paused:null "
             "running:aborting running:CANCELLED running:concluded running:null");
    teardown();
}

/* ---------------------------------------------------------------------------
 * Transactions
 */
static void test_txn_success(void)
{
    TestRecord ra = { 0 }, rb = { 0 };
    TestJob *a, *b;

    setup();
    ev_ids = true;
    new_txn_pair(&a, &ra, 0, 1, &b, &rb, 2);
    job_start(&a->common);
    job_start(&b->common);
    advance(MS);
    ev_check("a:created b:created a:running b:running a:waiting");
    g_assert_cmpint(ra.prepared, ==, 0);
    advance(MS);
    ev_check("b:waiting b:pending a:pending "
             "b:COMPLETED b:concluded b:null a:COMPLETED a:concluded a:null");
    g_assert_cmpint(ra.committed + rb.committed, ==, 2);
    teardown();
}

static void test_txn_one_fails(void)
{
    TestRecord ra = { 0 }, rb = { 0 };
    TestJob *a, *b;

    setup();
    new_txn_pair(&a, &ra, 0, 3, &b, &rb, 5);
    a->fail_at = 1;
    start_txn_pair(a, b);
    advance(MS);
    ev_check("a:aborting b:aborting b:CANCELLED b:concluded b:null "
             "a:COMPLETED(test failure at step 1) a:concluded a:null");
    g_assert_cmpint(ra.aborted, ==, 1);
    g_assert_cmpint(rb.aborted, ==, 1);
    g_assert_cmpint(ra.committed + rb.committed + ra.prepared + rb.prepared, ==, 0);
    g_assert_cmpint(ra.cb_ret, ==, -EIO);
    g_assert_cmpint(rb.cb_ret, ==, -ECANCELED);
    teardown();
}

/* A member already WAITING is aborted (as cancelled) when another one fails. */
static void test_txn_fail_after_waiting(void)
{
    TestRecord ra = { 0 }, rb = { 0 };
    TestJob *a, *b;

    setup();
    new_txn_pair(&a, &ra, 0, 1, &b, &rb, 3);
    b->fail_at = 2;
    start_txn_pair(a, b);
    advance(MS);
    ev_check("a:waiting");
    advance(MS);
    ev_check("b:aborting b:COMPLETED(test failure at step 2) b:concluded b:null "
             "a:aborting a:CANCELLED a:concluded a:null");
    g_assert_cmpint(ra.aborted, ==, 1);
    g_assert_cmpint(ra.committed, ==, 0);
    teardown();
}

/* One prepare() failing aborts every member, including those prepared fine. */
static void test_txn_prepare_fails(void)
{
    TestRecord ra = { 0 }, rb = { 0 };
    TestJob *a, *b;

    setup();
    new_txn_pair(&a, &ra, 0, 1, &b, &rb, 1);
    a->prepare_ret = -EIO;
    start_txn_pair(a, b);
    advance(MS);
    ev_check("a:waiting b:waiting b:pending a:pending a:aborting "
             "b:aborting b:CANCELLED b:concluded b:null "
             "a:COMPLETED(Input/output error) a:concluded a:null");
    g_assert_cmpint(ra.prepared + rb.prepared, ==, 2);
    g_assert_cmpint(ra.aborted + rb.aborted, ==, 2);
    g_assert_cmpint(ra.committed + rb.committed, ==, 0);
    teardown();
}

/* A transaction waits in PENDING for any member with auto-finalize=off. */
static void test_txn_manual_finalize(void)
{
    TestRecord ra = { 0 }, rb = { 0 };
    TestJob *a, *b;

    setup();
    new_txn_pair(&a, &ra, JOB_MANUAL_FINALIZE, 1, &b, &rb, 1);
    start_txn_pair(a, b);
    advance(MS);
    ev_check("a:waiting b:waiting b:pending a:pending a:PENDING");
    job_finalize(&b->common, &error_abort);       /* any member finalises them all */
    ev_check("b:COMPLETED b:concluded b:null a:COMPLETED a:concluded a:null");
    teardown();
}

/* ---------------------------------------------------------------------------
 * Speed
 */
static void test_speed(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Job *job;
    BlockJobInfoData bi;

    setup();
    s = new_job("job0", &speed_drv, NULL, 0, &r, 10, 0);
    s->chunk = 1024 * 1024;
    job = &s->common;
    g_assert_true(job_set_speed(job, 1024 * 1024, &error_abort));  /* 1 MiB/s */
    job_start(job);
    flush();
    g_assert_cmpint(s->done, ==, 1);              /* the first chunk goes at once */
    advance(999 * MS);
    g_assert_cmpint(s->done, ==, 1);
    advance(2 * MS);
    g_assert_cmpint(s->done, ==, 2);              /* 1 MiB per second */

    /* Slower: the sleep in progress is not disturbed. */
    g_assert_true(job_set_speed(job, 512 * 1024, &error_abort));
    flush();
    g_assert_cmpint(s->done, ==, 2);
    job_query_block_info(job, &bi);
    g_assert_cmpint(bi.speed, ==, 512 * 1024);
    g_assert_cmpint(bi.offset, ==, 2 * 1024 * 1024);
    block_job_info_data_clear(&bi);

    /* A pause during the sleep: the time it needs still has to pass afterwards. */
    job_user_pause(job, &error_abort);
    flush();
    g_assert_cmpint(job->status, ==, JOB_STATUS_PAUSED);
    job_user_resume(job, &error_abort);
    flush();
    g_assert_cmpint(s->done, ==, 2);
    /* The slice that began at the second chunk now carries 1 MiB at 512 KiB/s. */
    advance(1999 * MS);
    g_assert_cmpint(s->done, ==, 2);
    advance(2 * MS);
    g_assert_cmpint(s->done, ==, 3);

    /* Unlimited: wakes the sleeper, the rest runs without the clock moving. */
    g_assert_true(job_set_speed(job, 0, &error_abort));
    flush();
    g_assert_cmpint(r.freed, ==, 1);
    g_assert_cmpint(r.done, ==, 10);
    ev_check("created running paused running waiting pending COMPLETED concluded null");
    teardown();
}

/* job_co_yield returns for job_enter (and pause/cancel), not for a speed change. */
static void test_yield_enter(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Job *job;

    setup();
    s = new_job("commit0", &yield_drv, NULL, 0, &r, 0, 0);
    job = &s->common;
    job_start(job);
    advance(10 * NANOSECONDS_PER_SECOND);
    g_assert_cmpint(s->wakeups, ==, 0);
    g_assert_true(job_set_speed(job, 1000, &error_abort));
    g_assert_true(job_set_speed(job, 0, &error_abort));
    flush();
    g_assert_cmpint(s->wakeups, ==, 0);
    job_enter(job);
    job_enter(job);                               /* once scheduled, a no-op */
    flush();
    g_assert_cmpint(s->wakeups, ==, 1);
    job_user_pause(job, &error_abort);
    flush();
    g_assert_cmpint(job->status, ==, JOB_STATUS_PAUSED);
    job_enter(job);                               /* spurious: stays paused */
    flush();
    g_assert_cmpint(job->status, ==, JOB_STATUS_PAUSED);
    job_user_resume(job, &error_abort);
    flush();
    g_assert_cmpint(s->wakeups, ==, 2);
    s->released = true;
    job_enter(job);
    flush();
    ev_check("created running paused running waiting pending COMPLETED concluded null");
    teardown();
}

/* ---------------------------------------------------------------------------
 * The on-error policy
 */
static void test_error_action_table(void)
{
    static const struct {
        BlockdevOnError on_error;
        int errnum;
        BlockErrorAction action;
    } cases[] = {
        { BLOCKDEV_ON_ERROR_REPORT, EIO, BLOCK_ERROR_ACTION_REPORT },
        { BLOCKDEV_ON_ERROR_REPORT, ENOSPC, BLOCK_ERROR_ACTION_REPORT },
        { BLOCKDEV_ON_ERROR_IGNORE, EIO, BLOCK_ERROR_ACTION_IGNORE },
        { BLOCKDEV_ON_ERROR_STOP, EIO, BLOCK_ERROR_ACTION_STOP },
        { BLOCKDEV_ON_ERROR_STOP, ENOSPC, BLOCK_ERROR_ACTION_STOP },
        { BLOCKDEV_ON_ERROR_ENOSPC, EIO, BLOCK_ERROR_ACTION_REPORT },
        { BLOCKDEV_ON_ERROR_ENOSPC, ENOSPC, BLOCK_ERROR_ACTION_STOP },
        { BLOCKDEV_ON_ERROR_AUTO, EIO, BLOCK_ERROR_ACTION_REPORT },
        { BLOCKDEV_ON_ERROR_AUTO, ENOSPC, BLOCK_ERROR_ACTION_STOP },
    };
    TestRecord r = { 0 };
    Job *job;

    setup();
    job = &start_job("job0", &stream_drv, 0, &r, 1)->common;
    g_string_truncate(ev, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        BlockErrorAction a = job_error_action(job, cases[i].on_error, i & 1, cases[i].errnum);

        g_assert_cmpint(a, ==, cases[i].action);
        g_assert_cmpint(job_user_paused(job), ==, a == BLOCK_ERROR_ACTION_STOP);
        if (a == BLOCK_ERROR_ACTION_STOP) {
            g_assert_cmpint(job->iostatus, ==, cases[i].errnum == ENOSPC ?
                            JOB_IO_STATUS_NOSPACE : JOB_IO_STATUS_FAILED);
            job_user_resume(job, &error_abort);
        }
        g_assert_cmpint(job->iostatus, ==, JOB_IO_STATUS_OK);
    }
    ev_check("ERROR(write,report) ERROR(read,report) ERROR(write,ignore) ERROR(read,stop) "
             "ERROR(write,stop) ERROR(read,report) ERROR(write,stop) ERROR(read,report) "
             "ERROR(write,stop)");
    job_cancel_sync(job, true);
    teardown();
}

/* STOP inside run(): the job pauses with an io-status, job-resume retries. */
static void test_error_stop_resume(void)
{
    TestRecord r = { 0 };
    TestJob *s;
    Job *job;
    BlockJobInfoData bi;

    setup();
    s = new_job("job0", &stream_drv, NULL, 0, &r, 3, MS);
    s->err_at = 2;
    s->on_error = BLOCKDEV_ON_ERROR_ENOSPC;
    s->errnum = ENOSPC;
    job = &s->common;
    job_start(job);
    advance(MS);
    advance(MS);
    ev_check("created running ERROR(write,stop) paused");
    job_query_block_info(job, &bi);
    g_assert_cmpint(bi.io_status, ==, JOB_IO_STATUS_NOSPACE);
    g_assert_true(bi.paused);
    g_assert_cmpint(bi.status, ==, JOB_STATUS_PAUSED);
    block_job_info_data_clear(&bi);
    advance(100 * MS);
    g_assert_cmpint(s->done, ==, 1);
    job_user_resume(job, &error_abort);
    g_assert_cmpint(job->iostatus, ==, JOB_IO_STATUS_OK);
    check_resumed_to_end(2);
    teardown();
}

static void test_error_report(void)
{
    TestRecord r = { 0 };
    TestJob *s;

    setup();
    s = new_job("job0", &stream_drv, NULL, 0, &r, 3, MS);
    s->err_at = 1;
    s->err_is_read = true;
    s->on_error = BLOCKDEV_ON_ERROR_ENOSPC;
    s->errnum = EIO;
    job_start(&s->common);
    advance(MS);
    ev_check("created running ERROR(read,report) aborting "
             "COMPLETED(Could not copy step 1: Input/output error) concluded null");
    g_assert_cmpint(r.cb_ret, ==, -EIO);
    teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_clock_virtual_set_manual(true);
    ctx = qemu_get_aio_context();
    ev = g_string_new(NULL);
    job_set_event_hooks(&test_hooks, NULL);

    g_test_add_func("/job/table/names", test_names);
    g_test_add_func("/job/table/transitions", test_transition_table);
    g_test_add_func("/job/table/verbs", test_verb_table);
    g_test_add_func("/job/verbs/user", test_user_verbs);
    g_test_add_func("/job/create/errors", test_create_errors);
    g_test_add_func("/job/events/stream-success", test_stream_success);
    g_test_add_func("/job/events/mirror-cancel-after-ready", test_mirror_cancel_after_ready);
    g_test_add_func("/job/events/mirror-complete", test_mirror_complete);
    g_test_add_func("/job/events/mirror-cancel-before-ready", test_mirror_cancel_before_ready);
    g_test_add_func("/job/events/force-cancel-ready", test_force_cancel_ready);
    g_test_add_func("/job/events/auto-dismiss-off", test_auto_dismiss_off);
    g_test_add_func("/job/events/auto-finalize-off", test_auto_finalize_off);
    g_test_add_func("/job/events/failure-error-kept", test_failure_error_kept);
    g_test_add_func("/job/events/cancelled-error-kept", test_cancelled_error_kept);
    g_test_add_func("/job/events/create-job", test_create_job_events);
    g_test_add_func("/job/events/internal", test_internal_job);
    g_test_add_func("/job/pause/while-sleeping", test_pause_while_sleeping);
    g_test_add_func("/job/pause/before-start", test_pause_before_start);
    g_test_add_func("/job/pause/internal", test_internal_pause);
    g_test_add_func("/job/pause/standby", test_standby);
    g_test_add_func("/job/cancel/created", test_cancel_created);
    g_test_add_func("/job/cancel/running", test_cancel_running);
    g_test_add_func("/job/cancel/paused", test_cancel_paused);
    g_test_add_func("/job/cancel/ready-soft-user-paused", test_soft_cancel_user_paused_ready);
    g_test_add_func("/job/cancel/standby-force", test_force_cancel_standby);
    g_test_add_func("/job/cancel/pending", test_cancel_pending);
    g_test_add_func("/job/cancel/deferred", test_cancel_deferred);
    g_test_add_func("/job/sync/finish", test_finish_sync);
    g_test_add_func("/job/sync/complete-error", test_complete_sync_error);
    g_test_add_func("/job/sync/cancel-all", test_cancel_sync_all);
    g_test_add_func("/job/txn/success", test_txn_success);
    g_test_add_func("/job/txn/one-fails", test_txn_one_fails);
    g_test_add_func("/job/txn/fail-after-waiting", test_txn_fail_after_waiting);
    g_test_add_func("/job/txn/prepare-fails", test_txn_prepare_fails);
    g_test_add_func("/job/txn/manual-finalize", test_txn_manual_finalize);
    g_test_add_func("/job/speed", test_speed);
    g_test_add_func("/job/yield-enter", test_yield_enter);
    g_test_add_func("/job/error/action-table", test_error_action_table);
    g_test_add_func("/job/error/stop-resume", test_error_stop_resume);
    g_test_add_func("/job/error/report", test_error_report);
    return g_test_run();
}
