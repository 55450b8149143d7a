/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Weak defaults for the hooks of include/sysemu/sysemu.h and qtest.h that other
 * subsystems (devices, KVM, migration) override with real ones. The block
 * layer's hooks (blockdev_init_cmdline, bdrv_format_lists) live in
 * block/monitor/blockdev.c: a weak default here would win over them in a
 * static library, since nothing else pulls that object in.
 */
#include "util/osdep.h"
#include "sysemu/sysemu.h"
#include "sysemu/machine.h"
#include "sysemu/accel.h"

__attribute__((weak)) bool device_init_cmdline(const SysemuConfig *cfg, Error **errp)
{
    for (guint i = 0; i < cfg->device_opts->len; i++) {
        QDict *opts = g_ptr_array_index(cfg->device_opts, i);
        const char *driver = qdict_get_try_str(opts, "driver");

        if (!driver || !device_model_find(driver)) {
            error_setg(errp, "'%s' is not a valid device model name", driver ? driver : "");
        } else {
            error_setg(errp, "Device '%s' is not supported yet", driver);
        }
        return false;
    }
    return true;
}

__attribute__((weak)) bool object_init_cmdline(const SysemuConfig *cfg, Error **errp)
{
    for (guint i = 0; i < cfg->object_opts->len; i++) {
        QDict *opts = g_ptr_array_index(cfg->object_opts, i);
        const char *type = qdict_get_try_str(opts, "qom-type");

        if (!qdict_get_try_str(opts, "id")) {
            error_setg(errp, "Parameter 'id' is missing");
            return false;
        }
        if (type && !strcmp(type, "iothread")) {
            continue;       /* IOThreads come later; the main loop does their work */
        }
        error_setg(errp, "Object type '%s' is not supported yet", type ? type : "");
        return false;
    }
    return true;
}

__attribute__((weak)) bool kvm_accel_init(Error **errp)
{
    error_setg(errp, "KVM acceleration is not implemented yet");
    return false;
}
