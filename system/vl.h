/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * vl.h: the command-line parser's result, shared by system/vl.c (parsing) and
 * system/main.c (startup). Private to system/.
 */
#ifndef GODWIT_SYSTEM_VL_H
#define GODWIT_SYSTEM_VL_H

#include "sysemu/sysemu.h"

/* A monitor to start: on the chardev called chardev_id. */
typedef struct VlMonitor {
    char *chardev_id;
    bool qmp;
    bool pretty;
} VlMonitor;

typedef struct VlState {
    SysemuConfig cfg;
    bool nodefaults;
    bool nographic;
    bool autostart;             /* no -S */
    bool daemonize;
    bool have_monitor_opt;      /* any -qmp/-monitor/-mon, even "none" */
    const char *pidfile;
    const char *qtest_spec;     /* -qtest */
    GPtrArray *chardevs;        /* QDict * chardev options, in order */
    GPtrArray *chardev_origins; /* char *: "-chardev ARG" for each, to prefix errors */
    GPtrArray *monitors;        /* VlMonitor * */
    GPtrArray *serials;         /* char * (-serial other than none) */
} VlState;

void vl_state_init(VlState *vl);
/* Parse argv into vl; prints and exits on errors and on help requests. */
void vl_parse_args(VlState *vl, int argc, char **argv);

#endif /* GODWIT_SYSTEM_VL_H */
