/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * runstate.h: the VM's run state (QEMU's RunState), starting and stopping it,
 * and shutdown/reset requests.
 *
 * States and transitions follow QEMU 7.2: the VM starts "prelaunch" (-S),
 * "inmigrate" (-incoming) or "running"; stop -> "paused" with a STOP event
 * (only when it was running); cont -> "running" with a RESUME event; in
 * "inmigrate", stop/cont only change whether the VM starts when the incoming
 * migration completes (autostart). system_reset emits RESET and leaves a VM
 * that was not running in "prelaunch". quit emits SHUTDOWN
 * {"guest": false, "reason": "host-qmp-quit"} at once and makes the main loop
 * exit with status 0 after the current request's reply is out.
 *
 * Other subsystems (devices, block layer, jobs, migration) register
 * VM-change-state handlers to hear about running <-> stopped transitions, and
 * exit notifiers to clean up before the process exits.
 *
 * Threads: main loop only.
 */
#ifndef GODWIT_RUNSTATE_H
#define GODWIT_RUNSTATE_H

#include "util/osdep.h"
#include "util/error.h"
#include "qapi-types.h"

RunState runstate_get(void);
bool runstate_check(RunState state);
bool runstate_is_running(void);
/* Set the state without events (startup, migration). */
void runstate_set(RunState state);
/* internal-error, shutdown, guest-panicked: cont refuses until a reset. */
bool runstate_needs_reset(void);

/* Whether the VM starts by itself (no -S); changed by stop/cont in inmigrate. */
bool runstate_get_autostart(void);
void runstate_set_autostart(bool autostart);

typedef void VMChangeStateHandler(void *opaque, bool running, RunState state);
void qemu_add_vm_change_state_handler(VMChangeStateHandler *cb, void *opaque);

/*
 * Stop a running VM: state := state, handlers are told, STOP is emitted. A VM
 * that is not running is left alone. Returns 0.
 */
int vm_stop(RunState state);
/* Start a stopped VM: RESUME, state := running, handlers are told. */
void vm_start(void);

/*
 * Shutdown and reset requests. A shutdown emits SHUTDOWN {guest, reason} now
 * and makes qemu_system_exit_requested() true; the main loop then exits.
 */
void qemu_system_shutdown_request(ShutdownCause reason);
void qemu_system_reset(ShutdownCause reason);
bool qemu_system_exit_requested(void);

/* The machine's reset hook (devices); set by the machine, may be NULL. */
void qemu_register_reset_hook(void (*fn)(void *opaque), void *opaque);

typedef void ExitNotifier(void *opaque);
/* Called, newest first, when the main loop has ended and before exit. */
void qemu_add_exit_notifier(ExitNotifier *fn, void *opaque);
void qemu_run_exit_notifiers(void);

#endif /* GODWIT_RUNSTATE_H */
