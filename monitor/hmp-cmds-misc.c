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
#include "qapi-visit.h"
#include "qobject/keyval.h"

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

/* QEMU's format: the current CPU (always #0 here) is starred. */
static void hmp_info_cpus(Monitor *mon, const QDict *qdict)
{
    CpuInfoFastList *list = qmp_query_cpus_fast(NULL);

    for (CpuInfoFastList *l = list; l; l = l->next) {
        monitor_printf(mon, "%c CPU #%" PRId64 ":", l->value->cpu_index ? ' ' : '*',
                       l->value->cpu_index);
        monitor_printf(mon, " thread_id=%" PRId64 "\n", l->value->thread_id);
    }
    qapi_free_CpuInfoFastList(list);
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
    { "cpus", "", "", "show infos for each CPU", hmp_info_cpus },
    { "kvm", "", "", "show KVM information", hmp_info_kvm },
    { "name", "", "", "show the current VM name", hmp_info_name },
    { "status", "", "", "show the current VM status (running|paused)", hmp_info_status },
    { "version", "", "", "show the version of QEMU", hmp_info_version },
    { NULL },
};

/* object_add TYPE,id=ID[,prop=value...]: the -object syntax */
static void hmp_object_add(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    g_autoptr(QDict) opts = keyval_parse(qdict_get_str(qdict, "object"), "qom-type", NULL,
                                         &err);
    ObjectOptions *oo = NULL;

    if (opts) {
        qapi_keyval_input = true;
        qapi_in_ObjectOptions(QOBJECT(opts), NULL, &oo, &err);
        qapi_keyval_input = false;
    }
    if (oo) {
        qmp_object_add(oo, &err);
        qapi_free_ObjectOptions(oo);
    }
    hmp_handle_error(mon, err);
}

static void hmp_object_del(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_object_del(qdict_get_str(qdict, "id"), &err);
    hmp_handle_error(mon, err);
}

const HMPCommand hmp_cmds_misc[] = {
    { "object_add", "object:S", "[qom-type=]type,id=str[,prop=value][,...]",
      "create QOM object", hmp_object_add },
    { "object_del", "id:s", "id", "destroy QOM object", hmp_object_del },
    { "cont|c", "", "", "resume emulation", hmp_cont },
    { "help|?", "name:S?", "[cmd]", "show the help", hmp_help },
    { "info", "", "[subcommand]", "show various information about the system state",
      hmp_info_help, hmp_info_tables },
    { "quit|q", "", "", "quit the emulator", hmp_quit },
    { "stop|s", "", "", "stop emulation", hmp_stop },
    { "system_reset", "", "", "reset the system", hmp_system_reset },
    { NULL },
};
