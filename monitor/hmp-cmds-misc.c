/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * HMP: run control, version, name, status, help.
 */
#include "util/osdep.h"
#include "monitor/hmp.h"
#include "qapi-commands.h"
#include "sysemu/runstate.h"

static void hmp_stop(Monitor *mon, const QDict *qdict)
{
    qmp_stop(NULL);
}

static void hmp_cont(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_cont(&err);
    hmp_handle_error(mon, err);
}

static void hmp_quit(Monitor *mon, const QDict *qdict)
{
    qmp_quit(NULL);
}

static void hmp_system_reset(Monitor *mon, const QDict *qdict)
{
    qmp_system_reset(NULL);
}

static void hmp_info_status(Monitor *mon, const QDict *qdict)
{
    StatusInfo *info = qmp_query_status(NULL);

    monitor_printf(mon, "VM status: %s%s", info->running ? "running" : "paused",
                   info->singlestep ? " (single step mode)" : "");
    if (!info->running && info->status != RUN_STATE_PAUSED) {
        monitor_printf(mon, " (%s)", RunState_str(info->status));
    }
    monitor_printf(mon, "\n");
    qapi_free_StatusInfo(info);
}

static void hmp_info_version(Monitor *mon, const QDict *qdict)
{
    VersionInfo *info = qmp_query_version(NULL);

    monitor_printf(mon, "%" PRId64 ".%" PRId64 ".%" PRId64 "%s\n", info->qemu->major,
                   info->qemu->minor, info->qemu->micro, info->package);
    qapi_free_VersionInfo(info);
}

static void hmp_info_name(Monitor *mon, const QDict *qdict)
{
    NameInfo *info = qmp_query_name(NULL);

    if (info->name) {
        monitor_printf(mon, "%s\n", info->name);
    }
    qapi_free_NameInfo(info);
}

static void hmp_info_kvm(Monitor *mon, const QDict *qdict)
{
    KvmInfo *info = qmp_query_kvm(NULL);

    monitor_printf(mon, "kvm support: ");
    if (info->present) {
        monitor_printf(mon, "%s\n", info->enabled ? "enabled" : "disabled");
    } else {
        monitor_printf(mon, "not compiled\n");
    }
    qapi_free_KvmInfo(info);
}

const HMPCommand hmp_info_cmds_misc[] = {
    { "kvm", "", "", "show KVM information", hmp_info_kvm },
    { "name", "", "", "show the current VM name", hmp_info_name },
    { "status", "", "", "show the current VM status (running|paused)", hmp_info_status },
    { "version", "", "", "show the version of QEMU", hmp_info_version },
    { NULL },
};

const HMPCommand hmp_cmds_misc[] = {
    { "cont|c", "", "", "resume emulation", hmp_cont },
    { "help|?", "name:S?", "[cmd]", "show the help", hmp_help },
    { "info", "", "[subcommand]", "show various information about the system state",
      hmp_info_help, hmp_info_tables },
    { "quit|q", "", "", "quit the emulator", hmp_quit },
    { "stop|s", "", "", "stop emulation", hmp_stop },
    { "system_reset", "", "", "reset the system", hmp_system_reset },
    { NULL },
};
