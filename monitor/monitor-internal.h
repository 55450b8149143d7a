/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * monitor-internal.h: the Monitor object, shared by monitor.c (common part),
 * qmp.c (the JSON protocol) and hmp.c (the line interface).
 */
#ifndef GODWIT_MONITOR_INTERNAL_H
#define GODWIT_MONITOR_INTERNAL_H

#include "monitor/monitor.h"
#include "monitor/hmp.h"
#include "qobject/json-parser.h"
#include "qapi/qmp-dispatch.h"

struct Monitor {
    /* set at creation */
    bool is_qmp;
    Chardev *chr;               /* NULL: a capture monitor (human-monitor-command) */
    bool pretty;                /* QMP: pretty-printed JSON */
    GString *capture;           /* capture monitors: the output */

    /* QMP session (reset on every connect) */
    JSONMessageParser parser;
    QmpDispatchMode mode;
    bool oob_enabled;
    GQueue requests;            /* QmpRequest *, parsed but not yet run */
    bool busy;                  /* running requests: input paused */
    QDict *exit_reply;          /* the reply to quit: sent by monitor_cleanup() */

    /* HMP line editor */
    GString *line;
    size_t echoed;              /* characters of line on screen after the prompt */
    bool after_cr;              /* swallow the \n of a \r\n */
    int esc_state;              /* 0 none, 1 after ESC, 2 inside ESC [ ... */

    GHashTable *fds;            /* getfd: name -> fd (GINT_TO_POINTER) */
};

/* monitor.c */
void monitor_register(Monitor *mon);
/* monitor_hold_input() is in force: leave the chardev's input paused. */
bool monitor_input_held(void);
Monitor *monitor_set_cur(Monitor *mon);         /* returns the previous one */
void monitor_write_raw(Monitor *mon, const char *buf, size_t len);
void monitor_free(Monitor *mon);

/* qmp.c: drop the session state (parser, queued requests). */
void qmp_monitor_destroy(Monitor *mon);
/* qmp.c: send a QMP message (reply or event) in the monitor's format. */
void qmp_send_message(Monitor *mon, QDict *msg);

/* query-commands: QEMU 7.2's command order, NULL-terminated (qmp-command-order.c). */
extern const char *const qmp_command_order[];

#endif /* GODWIT_MONITOR_INTERNAL_H */
