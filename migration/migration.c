/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * migration.c: the outgoing migration's state machine and pre-copy loop
 * (include/migration/migration.h). The loop is one coroutine in the main loop;
 * the sender thread of its MigStream does the blocking writes.
 *
 *   none -> setup -> active -> [pre-switchover ->] device -> completed
 *                      \___________ cancelling -> cancelled
 *                       \__________ failed
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "sysemu/runstate.h"
#include "sysemu/sysemu.h"
#include "qapi-events.h"
#include "migration/savevm.h"
#include "block/block.h"
#include "migration-int.h"

#define MIG_QUEUE_MAX      (2 * MiB)    /* yield while more than this waits to be sent */
#define MIG_BW_PERIOD_MS   100

/* ------------------------------------------------------------------------- */
/* the VM, by default the process run state */

static void mig_rs_stop(void *opaque)
{
    vm_stop(RUN_STATE_FINISH_MIGRATE);
}

static void mig_rs_resume(void *opaque)
{
    vm_start();
}

static void mig_rs_start(void *opaque)
{
    if (runstate_get_autostart()) {
        vm_start();
    } else {
        runstate_set(RUN_STATE_PAUSED);
    }
}

static bool mig_rs_is_running(void *opaque)
{
    return runstate_is_running();
}

static const MigVmOps mig_runstate_ops = {
    .stop = mig_rs_stop, .resume = mig_rs_resume, .start = mig_rs_start,
    .is_running = mig_rs_is_running,
};

bool migration_owns_process(MigrationState *s)
{
    return s->vm_ops == &mig_runstate_ops;
}

/* ------------------------------------------------------------------------- */
/* endpoints */

MigrationState *migration_new(MigRegistry *reg, const MigVmOps *vm_ops, void *vm_opaque)
{
    MigrationState *s = g_new0(MigrationState, 1);

    s->reg = reg;
    s->vm_ops = vm_ops ? vm_ops : &mig_runstate_ops;
    s->vm_opaque = vm_opaque;
    s->status = MIGRATION_STATUS_NONE;
    s->in_status = MIGRATION_STATUS_NONE;
    migration_params_init(&s->params);
    return s;
}

void migration_free(MigrationState *s)
{
    if (!s) {
        return;
    }
    assert(!s->co && !s->in_co);
    mig_listener_free(s->listener);
    mig_stream_free(s->in_f);
    error_free(s->error);
    qapi_free_members_MigrationParameters(&s->params);
    g_free(s);
}

__attribute__((weak)) void block_migration_register(MigRegistry *reg)
{
}

MigRegistry *migration_default_registry(void)
{
    static MigRegistry *reg;

    if (!reg) {
        const SysemuConfig *cfg = sysemu_config();

        reg = mig_registry_new();
        if (cfg && cfg->machine_type && !strcmp(cfg->machine_type, "none")) {
            machine_marker_register(reg, cfg->machine_type);
        }
        block_migration_register(reg);
    }
    return reg;
}

MigrationState *migrate_get_current(void)
{
    static MigrationState *current;

    if (!current) {
        current = migration_new(migration_default_registry(), NULL, NULL);
    }
    return current;
}

void migration_test_drop_dirty(MigrationState *s, bool drop)
{
    s->drop_dirty = drop;
}

bool migration_test_drop_dirty_get(MigrationState *s)
{
    return s->drop_dirty;
}

/* ------------------------------------------------------------------------- */
/* status */

void migration_set_status(MigrationState *s, MigrationStatus status)
{
    s->status = status;
    if (s->caps[MIGRATION_CAPABILITY_EVENTS]) {
        qapi_event_send_migration(status);
    }
}

MigrationStatus migration_status(MigrationState *s)
{
    return s->status;
}

bool migration_is_active(MigrationState *s)
{
    switch (s->status) {
    case MIGRATION_STATUS_SETUP:
    case MIGRATION_STATUS_ACTIVE:
    case MIGRATION_STATUS_CANCELLING:
    case MIGRATION_STATUS_PRE_SWITCHOVER:
    case MIGRATION_STATUS_DEVICE:
        return true;
    default:
        return false;
    }
}

static void migration_sync(MigrationState *s)
{
    s->dirty_sync_count++;
    if (s->caps[MIGRATION_CAPABILITY_EVENTS]) {
        qapi_event_send_migration_pass(s->dirty_sync_count);
    }
    mig_save_sync(s->reg, &s->info);
}

/* Bytes per millisecond the channel takes, measured; max-bandwidth until known. */
static void migration_update_bandwidth(MigrationState *s)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    uint64_t written = mig_stream_bytes_written(s->f);

    if (!s->bw_ts_ms) {
        uint64_t max = s->params.max_bandwidth;
        s->bw_bytes_per_ms = max ? max / 1000.0 : 1e6;
        s->bw_ts_ms = now;
        s->bw_bytes = written;
        return;
    }
    if (now - s->bw_ts_ms >= MIG_BW_PERIOD_MS) {
        double bw = (double)(written - s->bw_bytes) / (now - s->bw_ts_ms);

        if (bw > 0) {
            s->bw_bytes_per_ms = bw;
            s->mbps = bw * 8 / 1000.0;
        }
        s->bw_ts_ms = now;
        s->bw_bytes = written;
    }
}

/* ------------------------------------------------------------------------- */
/* the pre-copy coroutine */

static bool migration_cancelled(MigrationState *s, Error **errp)
{
    if (s->cancel_requested) {
        error_setg(errp, "Migration cancelled");
        return true;
    }
    return mig_stream_error(s->f, errp);
}

static int coroutine_fn migration_co_iterate(MigrationState *s, Error **errp)
{
    for (;;) {
        if (!mig_stream_co_wait_room(s->f, MIG_QUEUE_MAX) || migration_cancelled(s, errp)) {
            migration_cancelled(s, errp);
            return -EIO;
        }
        migration_update_bandwidth(s);
        int ret = mig_save_iterate_once(s->reg, s->f, &s->info, errp);
        if (ret < 0) {
            return ret;
        }
        if (ret == 0) {
            uint64_t pending = mig_save_pending(s->reg, &s->info);
            s->expected_downtime_ms = pending / s->bw_bytes_per_ms;
            continue;
        }
        /* a round is over: look at what the guest dirtied meanwhile */
        if (mig_save_has_sync(s->reg)) {
            migration_sync(s);
        }
        uint64_t pending = mig_save_pending(s->reg, &s->info);
        double threshold = s->bw_bytes_per_ms * s->params.downtime_limit;
        s->expected_downtime_ms = pending / s->bw_bytes_per_ms;
        if (pending <= threshold) {
            return 0;
        }
    }
}

static void migration_stop_bh(void *opaque)
{
    MigrationState *s = opaque;

    s->vm_ops->stop(s->vm_opaque);
    aio_co_wake(s->co);
}

/* Flushing and qcow2's metadata writes poll the main loop: not from a coroutine. */
static void migration_inactivate_bh(void *opaque)
{
    MigrationState *s = opaque;

    s->inactivate_ret = bdrv_inactivate_all();
    aio_co_wake(s->co);
}

/*
 * Hand the images over to the destination (shared storage): everything cached
 * goes to the files and the write locks go, after the last device state and
 * before the EOF that lets the destination take them.
 */
static int coroutine_fn migration_co_inactivate(MigrationState *s, Error **errp)
{
    if (!migration_owns_process(s)) {
        return 0;
    }
    s->block_inactive = true;           /* even partly: migration_finish undoes it */
    aio_bh_schedule_oneshot(qemu_get_aio_context(), migration_inactivate_bh, s);
    qemu_coroutine_yield();
    if (s->inactivate_ret < 0) {
        error_setg_errno(errp, -s->inactivate_ret, "Failed to inactivate block devices");
        return s->inactivate_ret;
    }
    return 0;
}

/* The source keeps the VM after all: take the images back (QEMU reports failures). */
static void migration_reactivate(MigrationState *s)
{
    Error *err = NULL;

    if (!s->block_inactive) {
        return;
    }
    if (bdrv_activate_all(&err)) {
        s->block_inactive = false;
    } else {
        error_report_err(err);
    }
}

static int coroutine_fn migration_co_switchover(MigrationState *s, Error **errp)
{
    if (s->vm_ops->is_running(s->vm_opaque)) {
        s->stopped_vm = true;
    }
    int64_t stop_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    /* stopping drains devices, which polls the main loop: not from a coroutine */
    aio_bh_schedule_oneshot(qemu_get_aio_context(), migration_stop_bh, s);
    qemu_coroutine_yield();
    if (s->caps[MIGRATION_CAPABILITY_PAUSE_BEFORE_SWITCHOVER]) {
        migration_set_status(s, MIGRATION_STATUS_PRE_SWITCHOVER);
        while (!s->continue_requested && !migration_cancelled(s, NULL)) {
            qemu_co_sleep_ns(QEMU_CLOCK_REALTIME, 10 * SCALE_MS);
        }
        if (migration_cancelled(s, errp)) {
            return -ECANCELED;
        }
        migration_set_status(s, MIGRATION_STATUS_DEVICE);
    }
    s->info.vm_stopped = true;
    mig_stream_set_bandwidth(s->f, 0);      /* the guest waits: no pacing now */
    migration_sync(s);
    for (;;) {
        if (!mig_stream_co_wait_room(s->f, MIG_QUEUE_MAX) || migration_cancelled(s, errp)) {
            migration_cancelled(s, errp);
            return -EIO;
        }
        int ret = mig_save_complete_once(s->reg, s->f, &s->info, errp);
        if (ret < 0) {
            return ret;
        }
        if (ret > 0) {
            break;
        }
    }
    int ret = mig_save_states(s->reg, s->f, errp);
    ret = ret < 0 ? ret : migration_co_inactivate(s, errp);
    ret = ret < 0 ? ret : mig_save_eof(s->f, errp);
    if (ret < 0) {
        return ret;
    }
    if (!mig_stream_co_flush(s->f) || migration_cancelled(s, errp)) {
        migration_cancelled(s, errp);
        return -EIO;
    }
    s->downtime_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - stop_ms;
    return 0;
}

static void migration_finish(MigrationState *s, int ret, Error *err)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

    s->total_ms = now - s->start_ms;
    if (s->total_ms > 0) {
        s->mbps = mig_stream_bytes_out(s->f) * 8.0 / (s->total_ms * 1000.0);
    }
    if (ret < 0) {
        mig_stream_shutdown(s->f, err ? error_get_pretty(err) : "Migration failed");
    }
    mig_save_cleanup(s->reg, &s->info);
    mig_stream_free(s->f);
    s->f = NULL;
    if (ret == 0) {
        error_free(err);
        if (!s->cancel_requested) {       /* not cancelled at the last moment */
            if (s->vm_ops == &mig_runstate_ops) {
                runstate_set(RUN_STATE_POSTMIGRATE);
            }
            migration_set_status(s, MIGRATION_STATUS_COMPLETED);
            return;
        }
    }
    /* the source carries on: take the images back and restart a VM we stopped */
    migration_reactivate(s);
    if (s->stopped_vm) {
        s->vm_ops->resume(s->vm_opaque);
    }
    if (s->cancel_requested) {
        error_free(err);
        migration_set_status(s, MIGRATION_STATUS_CANCELLED);
    } else {
        error_free(s->error);
        s->error = err;
        migration_set_status(s, MIGRATION_STATUS_FAILED);
    }
}

static void coroutine_fn migration_co(void *opaque)
{
    MigrationState *s = opaque;
    Error *err = NULL;
    int ret;

    mig_save_header(s->f);
    ret = mig_save_setup(s->reg, s->f, &s->info, &err);
    if (ret == 0) {
        migration_sync(s);
        s->setup_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - s->start_ms;
        if (!s->cancel_requested) {
            migration_set_status(s, MIGRATION_STATUS_ACTIVE);
        }
        ret = migration_co_iterate(s, &err);
    }
    if (ret == 0) {
        ret = migration_co_switchover(s, &err);
    }
    if (ret < 0 && !err) {
        error_setg(&err, "Migration failed: %s", strerror(-ret));
    }
    migration_finish(s, ret, err);
    s->co = NULL;
}

/* ------------------------------------------------------------------------- */
/* commands */

static bool migration_check_start(MigrationState *s, const MigrateOpts *o, Error **errp)
{
    if (o->resume) {
        error_setg(errp, "Cannot resume if there is no paused migration");
        return false;
    }
    if (migration_is_active(s) || s->co) {
        error_setg(errp, "There's a migration process in progress");
        return false;
    }
    if (s->vm_ops != &mig_runstate_ops) {
        /* a VM of its own (tests): the process run state says nothing about it */
    } else if (runstate_check(RUN_STATE_INMIGRATE)) {
        error_setg(errp, "Guest is waiting for an incoming migration");
        return false;
    } else if (runstate_check(RUN_STATE_POSTMIGRATE)) {
        error_setg(errp, "Can't migrate the vm that was paused due to previous migration");
        return false;
    }
    if ((o->blk || o->inc) && s->caps[MIGRATION_CAPABILITY_BLOCK]) {
        error_setg(errp, "Command options are incompatible with current migration "
                   "capabilities");
        return false;
    }
    return true;
}

bool migration_start_fd(MigrationState *s, int fd, const MigrateOpts *o, Error **errp)
{
    if (!migration_check_start(s, o, errp)) {
        close(fd);
        return false;
    }
    memset(&s->info, 0, sizeof(s->info));
    s->info.blk = o->blk || o->inc || s->caps[MIGRATION_CAPABILITY_BLOCK];
    s->info.inc = o->inc || (s->caps[MIGRATION_CAPABILITY_BLOCK] &&
                             s->params.block_incremental);
    s->info.zero_blocks = s->caps[MIGRATION_CAPABILITY_ZERO_BLOCKS];
    error_free(s->error);
    s->error = NULL;
    s->cancel_requested = s->continue_requested = s->stopped_vm = false;
    s->block_inactive = false;
    s->setup_ms = s->total_ms = s->downtime_ms = s->expected_downtime_ms = 0;
    s->dirty_sync_count = 0;
    s->bw_ts_ms = 0;
    s->mbps = 0;
    s->start_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    s->f = mig_stream_new_output(fd, s->params.max_bandwidth);
    migration_update_bandwidth(s);
    migration_set_status(s, MIGRATION_STATUS_SETUP);
    s->co = qemu_coroutine_create(migration_co, s);
    aio_co_enter(qemu_get_aio_context(), s->co);
    return true;
}

bool migration_start(MigrationState *s, const char *uri, const MigrateOpts *o, Error **errp)
{
    if (!migration_check_start(s, o, errp)) {
        return false;
    }
    Error *local = NULL;
    int fd = mig_channel_connect(uri, &local);
    if (fd < 0) {
        /* QEMU reports the attempt: setup, then failed */
        migration_set_status(s, MIGRATION_STATUS_SETUP);
        error_free(s->error);
        s->error = error_copy(local);
        migration_set_status(s, MIGRATION_STATUS_FAILED);
        error_propagate(errp, local);
        return false;
    }
    return migration_start_fd(s, fd, o, errp);
}

void migration_cancel(MigrationState *s)
{
    if (!migration_is_active(s) || s->status == MIGRATION_STATUS_CANCELLING) {
        return;
    }
    s->cancel_requested = true;
    migration_set_status(s, MIGRATION_STATUS_CANCELLING);
    if (s->f) {
        mig_stream_shutdown(s->f, "Migration cancelled");
    }
}

bool migration_continue(MigrationState *s, MigrationStatus state, Error **errp)
{
    if (s->status != state) {
        error_setg(errp, "Migration not in expected state: %s",
                   MigrationStatus_str(s->status));
        return false;
    }
    s->continue_requested = true;
    return true;
}
