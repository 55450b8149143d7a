/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Run states, stop/cont, reset and shutdown (contract in include/sysemu/runstate.h),
 * and the QMP commands that drive them.
 */
#include "util/osdep.h"
#include "block/block.h"
#include "sysemu/runstate.h"
#include "qapi-commands.h"
#include "qapi-events.h"
#include "block/block-backend.h"
#include "block/block.h"
#include "job/job.h"

typedef struct VMChangeEntry {
    VMChangeStateHandler *cb;
    void *opaque;
} VMChangeEntry;

typedef struct ExitEntry {
    ExitNotifier *fn;
    void *opaque;
} ExitEntry;

/* The one VM of this process: its run state lives here. */
static RunState current_state = RUN_STATE_PRELAUNCH;
static bool autostart = true;
static bool exit_requested;
static int exit_status;
static GArray *vm_change_handlers;      /* VMChangeEntry */
static GArray *exit_notifiers;          /* ExitEntry */
static void (*reset_hook)(void *opaque);
static void *reset_opaque;

RunState runstate_get(void)
{
    return current_state;
}

bool runstate_check(RunState state)
{
    return current_state == state;
}

bool runstate_is_running(void)
{
    return current_state == RUN_STATE_RUNNING;
}

void runstate_set(RunState state)
{
    current_state = state;
}

bool runstate_needs_reset(void)
{
    return current_state == RUN_STATE_INTERNAL_ERROR ||
           current_state == RUN_STATE_SHUTDOWN ||
           current_state == RUN_STATE_GUEST_PANICKED;
}

bool runstate_get_autostart(void)
{
    return autostart;
}

void runstate_set_autostart(bool on)
{
    autostart = on;
}

void qemu_add_vm_change_state_handler(VMChangeStateHandler *cb, void *opaque)
{
    VMChangeEntry e = { cb, opaque };

    if (!vm_change_handlers) {
        vm_change_handlers = g_array_new(false, false, sizeof(VMChangeEntry));
    }
    g_array_append_val(vm_change_handlers, e);
}

static void vm_state_notify(bool running, RunState state)
{
    for (guint i = 0; vm_change_handlers && i < vm_change_handlers->len; i++) {
        VMChangeEntry *e = &g_array_index(vm_change_handlers, VMChangeEntry, i);
        e->cb(e->opaque, running, state);
    }
}

/*
 * Once the devices have stopped (their handlers drain them), settle every node
 * and write out what the formats cache, as QEMU's vm_stop does: a stopped
 * migration source leaves a complete image behind, and other processes
 * (qemu-img -U, a destination sharing the storage) see what the guest wrote.
 */
int vm_stop(RunState state)
{
    if (runstate_is_running()) {
        runstate_set(state);
        vm_state_notify(false, state);
        qapi_event_send_stop();
        /* As QEMU: settle and flush the block layer; jobs see a pause and resume. */
        bdrv_drain_all();
        job_cycle_pause_all();
        bdrv_flush_all();
    }
    bdrv_drain_all();
    return bdrv_flush_all();
}

void vm_start(void)
{
    if (runstate_is_running()) {
        return;
    }
    /* QEMU sends RESUME before the state changes */
    qapi_event_send_resume();
    runstate_set(RUN_STATE_RUNNING);
    vm_state_notify(true, RUN_STATE_RUNNING);
}

/* Causes after host-ui are the guest's own doing (QEMU's rule for the "guest" flag). */
static bool shutdown_caused_by_guest(ShutdownCause reason)
{
    return reason > SHUTDOWN_CAUSE_HOST_UI;
}

void qemu_system_shutdown_request(ShutdownCause reason)
{
    qapi_event_send_shutdown(shutdown_caused_by_guest(reason), reason);
    exit_requested = true;
}

void qemu_system_guest_shutdown(ShutdownCause reason, bool pause, int status)
{
    qapi_event_send_shutdown(shutdown_caused_by_guest(reason), reason);
    if (pause) {
        vm_stop(RUN_STATE_SHUTDOWN);
        return;
    }
    exit_status = status;
    exit_requested = true;
}

int qemu_system_exit_status(void)
{
    return exit_status;
}

bool qemu_system_exit_requested(void)
{
    return exit_requested;
}

void qemu_register_reset_hook(void (*fn)(void *opaque), void *opaque)
{
    reset_hook = fn;
    reset_opaque = opaque;
}

void qemu_system_reset(ShutdownCause reason)
{
    if (reset_hook) {
        reset_hook(reset_opaque);
    }
    qapi_event_send_reset(shutdown_caused_by_guest(reason), reason);
    if (!runstate_check(RUN_STATE_RUNNING) && !runstate_check(RUN_STATE_INMIGRATE) &&
        !runstate_check(RUN_STATE_FINISH_MIGRATE)) {
        runstate_set(RUN_STATE_PRELAUNCH);
    }
}

void qemu_add_exit_notifier(ExitNotifier *fn, void *opaque)
{
    ExitEntry e = { fn, opaque };

    if (!exit_notifiers) {
        exit_notifiers = g_array_new(false, false, sizeof(ExitEntry));
    }
    g_array_append_val(exit_notifiers, e);
}

void qemu_run_exit_notifiers(void)
{
    for (guint i = exit_notifiers ? exit_notifiers->len : 0; i-- > 0;) {
        ExitEntry *e = &g_array_index(exit_notifiers, ExitEntry, i);
        e->fn(e->opaque);
    }
}

/* ---------------------------------------------------------------------------
 * QMP
 */

StatusInfo *qmp_query_status(Error **errp)
{
    StatusInfo *info = g_new0(StatusInfo, 1);

    info->running = runstate_is_running();
    info->singlestep = false;
    info->status = runstate_get();
    return info;
}

void qmp_stop(Error **errp)
{
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        autostart = false;
    } else {
        vm_stop(RUN_STATE_PAUSED);
    }
}

void qmp_cont(Error **errp)
{
    if (runstate_needs_reset()) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return;
    }
    if (runstate_check(RUN_STATE_SUSPENDED)) {
        return;
    }
    if (runstate_check(RUN_STATE_FINISH_MIGRATE)) {
        error_setg(errp, "Migration is not finalized yet");
        return;
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        blk_iostatus_reset(blk);
    }
    /*
     * After a completed migration (or with late-block-activate) the images are
     * inactive: take them back. QEMU 7.2 does this even while inmigrate.
     */
    if (!bdrv_activate_all(errp)) {
        return;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        autostart = true;
    } else {
        vm_start();
    }
}

void qmp_system_reset(Error **errp)
{
    qemu_system_reset(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
}

void qmp_quit(Error **errp)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
}
