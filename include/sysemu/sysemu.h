/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * sysemu.h: what the godwit binary's command line configured, for the
 * subsystems that start after it is parsed (machine, block layer, devices,
 * migration), and the version we report.
 *
 * Version: godwit implements QEMU 7.2's interfaces, so query-version, the QMP
 * greeting and the HMP banner report QEMU 7.2.22 (the release whose behaviour
 * we match; libvirt keys features off it). Our own version is in "package"
 * (docs/compat.md).
 *
 * Threads: main loop only. Filled in by system/vl.c before the machine starts;
 * read-only afterwards.
 */
#ifndef GODWIT_SYSEMU_H
#define GODWIT_SYSEMU_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

#define QEMU_COMPAT_MAJOR 7
#define QEMU_COMPAT_MINOR 2
#define QEMU_COMPAT_MICRO 22
#define GODWIT_PACKAGE    "godwit-" GODWIT_VERSION

/* One -drive or -blockdev, in command-line order. */
typedef struct CmdlineBlockOpt {
    bool is_blockdev;
    /*
     * -drive: a flat dict of strings as QEMU's QemuOpts (dotted keys like
     * "file.filename" left flat). -blockdev: the keyval tree (nested dicts, string
     * leaves), or for the JSON form the parsed JSON with its real types.
     */
    QDict *opts;
    char *optarg;               /* the text given, for error messages */
} CmdlineBlockOpt;

typedef struct SysemuConfig {
    const char *machine_type;   /* "none", "godwit" */
    const char *accel;          /* "qtest", "kvm" */
    char *name;                 /* -name guest=..., or NULL */
    char *incoming;             /* -incoming URI or "defer", or NULL */
    GPtrArray *block_opts;      /* CmdlineBlockOpt * */
    GPtrArray *device_opts;     /* QDict * of -device (keyval, "driver" implied) */
    GPtrArray *object_opts;     /* QDict * of -object (keyval, "qom-type" implied) */
    uint64_t ram_size;          /* -m, bytes */
    char *kernel;               /* -kernel, -append, -initrd */
    char *append;
    char *initrd;
    unsigned smp_cpus;          /* -smp; 0 = 1 */
    GPtrArray *serials;         /* char * -serial specs in order, "none" included */
    bool nographic;             /* -nographic: the first serial defaults to stdio */
    bool nodefaults;            /* -nodefaults: no default serial */
    bool no_shutdown;           /* -no-shutdown: guest poweroff stops the VM instead */
    bool no_reboot;             /* -no-reboot: guest reset exits instead */
} SysemuConfig;

/* The parsed command line (never NULL after startup). */
const SysemuConfig *sysemu_config(void);
bool kvm_enabled(void);
bool qtest_enabled(void);

/*
 * Hooks other subsystems provide; weak defaults live in system/stubs.c.
 *   blockdev_init_cmdline: create the -drive/-blockdev nodes and backends.
 *     Default: fail if any were given ("... not supported yet").
 *   bdrv_format_lists: space-separated format names for -drive format=help,
 *     read-write and read-only. Default: empty lists.
 *   device_init_cmdline: create -device devices. Default: fail for any.
 *   object_init_cmdline: create -object objects (system/objects.c, which
 *     creates them while parsing; no weak default).
 */
bool blockdev_init_cmdline(const SysemuConfig *cfg, Error **errp);
void bdrv_format_lists(GString *rw, GString *ro);
bool device_init_cmdline(const SysemuConfig *cfg, Error **errp);
bool object_init_cmdline(const SysemuConfig *cfg, Error **errp);

#endif /* GODWIT_SYSEMU_H */
