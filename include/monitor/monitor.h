/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * monitor.h: the QMP and HMP monitors.
 *
 * A monitor runs on a chardev (include/chardev/char.h). QMP speaks JSON as in
 * QEMU's qmp-spec: a greeting at connect, capabilities negotiation, then one
 * reply per request, in order, and events broadcast to every monitor that has
 * negotiated. Replies and events are compact JSON lines ending in CRLF; with
 * pretty=on every line of the pretty form ends in CRLF. Events raised while a
 * command runs are sent before its reply (they are written as they happen, the
 * reply when the handler returns). HMP is the human line interface: banner,
 * "(qemu) " prompt, echo of the typed line, one command per line.
 *
 * While a monitor executes a request it stops reading its chardev, so a handler
 * that runs a nested event loop never sees the same monitor re-entered.
 *
 * Threads: main loop only.
 */
#ifndef GODWIT_MONITOR_H
#define GODWIT_MONITOR_H

#include "util/osdep.h"
#include "util/error.h"
#include "chardev/char.h"

typedef struct Monitor Monitor;

/* Install the QAPI event hook that broadcasts events to QMP monitors. */
void monitor_init_globals(void);

/* Start a monitor on chr (which must have no other user). */
Monitor *monitor_new_qmp(Chardev *chr, bool pretty, Error **errp);
Monitor *monitor_new_hmp(Chardev *chr, Error **errp);

/*
 * The monitor whose request is being executed, or NULL (command line, timers).
 * HMP handlers print to it; getfd stores fds in it.
 */
Monitor *monitor_cur(void);
bool monitor_is_qmp(const Monitor *mon);

/*
 * HMP output: text goes to the monitor's chardev, or into the reply of
 * human-monitor-command; "\n" becomes "\r\n" as in QEMU. With mon == NULL the
 * text goes to stdout (no monitor: e.g. output of a command-line action).
 */
void monitor_printf(Monitor *mon, const char *fmt, ...) GODWIT_PRINTF(2, 3);
void monitor_puts(Monitor *mon, const char *str);

/*
 * Named file descriptors received with getfd. monitor_fd_get returns the fd and
 * forgets it (the caller owns it), or -1 with errp set
 * ("File descriptor named 'x' has not been found").
 */
int monitor_fd_get(Monitor *mon, const char *name, Error **errp);

/* At exit: free every monitor (their chardevs are flushed and closed separately). */
void monitor_cleanup(void);

/*
 * Startup: read no monitor input while the command line's block devices and
 * devices are set up. Opening an image polls the main loop, and a command run
 * from inside that poll would see a half-built VM (an export of a node still
 * being opened, an incoming migration before the machine's sections exist).
 * Monitors created while held start held.
 */
void monitor_hold_input(bool hold);

/*
 * Run one HMP command line as human-monitor-command does and return everything
 * it printed ("\r\n" line ends). Errors are part of the output, not of errp.
 */
char *hmp_run_line_captured(const char *line);

#endif /* GODWIT_MONITOR_H */
