/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QMP commands with no other home: version, name, target, kvm, introspection,
 * and human-monitor-command.
 */
#include "util/osdep.h"
#include "monitor/monitor.h"
#include "qapi-commands.h"
#include "qobject/qjson.h"
#include "sysemu/sysemu.h"
#include "sysemu/machine.h"

extern const char qmp_schema_json[];

VersionInfo *qmp_query_version(Error **errp)
{
    VersionInfo *info = g_new0(VersionInfo, 1);

    info->qemu = g_new0(VersionTriple, 1);
    info->qemu->major = QEMU_COMPAT_MAJOR;
    info->qemu->minor = QEMU_COMPAT_MINOR;
    info->qemu->micro = QEMU_COMPAT_MICRO;
    info->package = g_strdup(GODWIT_PACKAGE);
    return info;
}

NameInfo *qmp_query_name(Error **errp)
{
    NameInfo *info = g_new0(NameInfo, 1);
    const SysemuConfig *cfg = sysemu_config();

    info->name = cfg && cfg->name ? g_strdup(cfg->name) : NULL;
    return info;
}

TargetInfo *qmp_query_target(Error **errp)
{
    TargetInfo *info = g_new0(TargetInfo, 1);

    info->arch = SYS_EMU_TARGET_X86_64;
    return info;
}

KvmInfo *qmp_query_kvm(Error **errp)
{
    KvmInfo *info = g_new0(KvmInfo, 1);

    info->enabled = kvm_enabled();
    info->present = access("/dev/kvm", R_OK | W_OK) == 0;
    return info;
}

MachineInfoList *qmp_query_machines(Error **errp)
{
    MachineInfoList *list = NULL, **tail = &list;
    const MachineType *mt;

    for (size_t i = 0; (mt = machine_type_at(i)); i++) {
        MachineInfo *m = g_new0(MachineInfo, 1);
        m->name = g_strdup(mt->name);
        m->has_is_default = mt->is_default;
        m->is_default = mt->is_default;
        m->cpu_max = mt->cpu_max;
        m->default_ram_id = g_strdup("ram");
        *tail = g_new0(MachineInfoList, 1);
        (*tail)->value = m;
        tail = &(*tail)->next;
    }
    return list;
}

QObject *qmp_query_qmp_schema(Error **errp)
{
    return qobject_from_json(qmp_schema_json, errp);
}

char *qmp_human_monitor_command(const char *command_line, bool has_cpu_index,
                                int64_t cpu_index, Error **errp)
{
    if (has_cpu_index && cpu_index != 0) {
        error_setg(errp, "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    return hmp_run_line_captured(command_line);
}
