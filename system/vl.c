/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The godwit command line: QEMU's option names and value syntax, collected into
 * a SysemuConfig plus the chardev/monitor requests (include/sysemu/sysemu.h).
 * Options may repeat; "-opt" and "--opt" are the same. Errors are reported as
 * QEMU does: "godwit: -opt value: message", exit status 1.
 */
#include "util/osdep.h"
#include "system/vl.h"
#include "sysemu/machine.h"
#include "sysemu/opts.h"
#include "sysemu/objects.h"
#include "chardev/char.h"
#include "qobject/keyval.h"
#include "qobject/qjson.h"
#include "util/cutils.h"

typedef enum OptArg { ARG_NONE, ARG_REQUIRED } OptArg;

typedef struct Option {
    const char *name;
    OptArg arg;
    bool (*handler)(VlState *vl, const char *optarg, Error **errp);
} Option;

static bool opt_machine(VlState *vl, const char *arg, Error **errp)
{
    g_autoptr(QDict) opts = qemu_opts_parse_flat(arg, "type", errp);
    const char *type, *accel;

    if (!opts) {
        return false;
    }
    type = qdict_get_try_str(opts, "type");
    if (qdict_haskey(opts, "help") || (type && !strcmp(type, "help"))) {
        machine_print_help();
        qobject_unref(g_steal_pointer(&opts));   /* exit() skips g_autoptr */
        exit(0);
    }
    if (type) {
        vl->cfg.machine_type = g_intern_string(type);   /* may be replaced: never freed */
    }
    accel = qdict_get_try_str(opts, "accel");
    if (accel) {
        vl->cfg.accel = g_intern_string(accel);
    }
    return true;
}

static bool opt_accel(VlState *vl, const char *arg, Error **errp)
{
    g_autoptr(QDict) opts = qemu_opts_parse_flat(arg, "accel", errp);
    const char *accel;

    if (!opts) {
        return false;
    }
    accel = qdict_get_try_str(opts, "accel");
    if (qdict_haskey(opts, "help") || (accel && !strcmp(accel, "help"))) {
        printf("Accelerators supported in QEMU binary:\nqtest\nkvm\n");
        qobject_unref(g_steal_pointer(&opts));   /* exit() skips g_autoptr */
        exit(0);
    }
    if (!accel) {
        error_setg(errp, "Parameter 'accel' is missing");
        return false;
    }
    vl->cfg.accel = g_intern_string(accel);
    return true;
}

static bool opt_enable_kvm(VlState *vl, const char *arg, Error **errp)
{
    vl->cfg.accel = "kvm";
    return true;
}

static bool opt_nodefaults(VlState *vl, const char *arg, Error **errp)
{
    vl->nodefaults = true;
    vl->cfg.nodefaults = true;
    return true;
}

static bool opt_display(VlState *vl, const char *arg, Error **errp)
{
    if (strcmp(arg, "none") && !strstart(arg, "none,", NULL)) {
        error_setg(errp, "Display '%s' is not available", arg);
        return false;
    }
    return true;
}

static bool opt_nographic(VlState *vl, const char *arg, Error **errp)
{
    vl->nographic = true;
    vl->cfg.nographic = true;
    return true;
}

static bool opt_no_shutdown(VlState *vl, const char *arg, Error **errp)
{
    vl->cfg.no_shutdown = true;
    return true;
}

static bool opt_no_reboot(VlState *vl, const char *arg, Error **errp)
{
    vl->cfg.no_reboot = true;
    return true;
}

/* -smp [cpus=]N[,sockets=S][,dies=D][,cores=C][,threads=T][,maxcpus=M] */
static bool opt_smp(VlState *vl, const char *arg, Error **errp)
{
    static const char *const keys[] = { "cpus", "sockets", "dies", "clusters", "cores",
                                        "threads", "maxcpus", NULL };
    g_autoptr(QDict) opts = qemu_opts_parse_flat(arg, "cpus", errp);
    uint64_t v[7], cpus = 1;

    if (!opts || !qemu_opts_check_keys(opts, keys, errp)) {
        return false;
    }
    for (int i = 0; keys[i]; i++) {
        const char *str = qdict_get_try_str(opts, keys[i]);
        v[i] = 0;
        if (str && qemu_strtou64(str, NULL, 10, &v[i]) < 0) {
            error_setg(errp, "Parameter '%s' expects a number", keys[i]);
            return false;
        }
    }
    /* cpus, or the product of the topology; maxcpus beyond cpus is not hot-pluggable here */
    cpus = v[0] ? v[0] : MAX(v[1], 1) * MAX(v[2], 1) * MAX(v[3], 1) * MAX(v[4], 1) * MAX(v[5], 1);
    if (!cpus || cpus > 16) {
        error_setg(errp, "Invalid SMP CPUs %" PRIu64 ". The max CPUs supported by machine "
                   "'godwit' is 16", cpus);
        return false;
    }
    vl->cfg.smp_cpus = cpus;
    return true;
}

static bool opt_ignored(VlState *vl, const char *arg, Error **errp)
{
    return true;
}

static bool opt_serial(VlState *vl, const char *arg, Error **errp)
{
    if (vl->cfg.serials->len >= 4) {
        error_setg(errp, "Too many serial ports (at most 4)");
        return false;
    }
    g_ptr_array_add(vl->cfg.serials, g_strdup(arg));
    if (strcmp(arg, "none") && strcmp(arg, "null")) {
        g_ptr_array_add(vl->serials, g_strdup(arg));
    }
    return true;
}

static bool opt_S(VlState *vl, const char *arg, Error **errp)
{
    vl->autostart = false;
    return true;
}

static bool opt_name(VlState *vl, const char *arg, Error **errp)
{
    g_autoptr(QDict) opts = qemu_opts_parse_flat(arg, "guest", errp);
    const char *name = opts ? qdict_get_try_str(opts, "guest") : NULL;

    if (!opts) {
        return false;
    }
    g_free(vl->cfg.name);
    vl->cfg.name = g_strdup(name);
    return true;
}

static bool opt_daemonize(VlState *vl, const char *arg, Error **errp)
{
    vl->daemonize = true;
    return true;
}

static bool opt_pidfile(VlState *vl, const char *arg, Error **errp)
{
    vl->pidfile = arg;
    return true;
}

/* A chardev to create later; ORIGIN ("-chardev ARG") prefixes its errors as QEMU's do. */
static void vl_add_chardev(VlState *vl, QDict *opts, const char *option, const char *arg)
{
    g_ptr_array_add(vl->chardevs, opts);
    g_ptr_array_add(vl->chardev_origins, g_strdup_printf("-%s %s", option, arg));
}

static bool opt_chardev(VlState *vl, const char *arg, Error **errp)
{
    QDict *opts = qemu_opts_parse_flat(arg, "backend", errp);

    if (!opts) {
        return false;
    }
    if (!qdict_get_try_str(opts, "id")) {
        error_setg(errp, "chardev: no id specified");
        qobject_unref(opts);
        return false;
    }
    vl_add_chardev(vl, opts, "chardev", arg);
    return true;
}

/* A monitor from a legacy spec ("stdio", "unix:...", "none") with its own chardev. */
static bool vl_add_compat_monitor(VlState *vl, const char *option, const char *spec, bool qmp,
                                  bool pretty, Error **errp)
{
    g_autofree char *id = g_strdup_printf("compat_monitor%u", vl->monitors->len);
    QDict *chr = qemu_chr_parse_compat(id, spec, errp);
    VlMonitor *m;

    if (!chr) {
        return !*errp;      /* "none": no monitor, not an error */
    }
    m = g_new0(VlMonitor, 1);
    m->qmp = qmp;
    m->pretty = pretty;
    if (qdict_get_try_str(chr, "chardev")) {
        m->chardev_id = g_strdup(qdict_get_try_str(chr, "chardev"));
        qobject_unref(chr);
    } else {
        m->chardev_id = g_strdup(id);
        vl_add_chardev(vl, chr, option, spec);
    }
    g_ptr_array_add(vl->monitors, m);
    return true;
}

static bool opt_qmp(VlState *vl, const char *arg, Error **errp)
{
    vl->have_monitor_opt = true;
    return vl_add_compat_monitor(vl, "qmp", arg, true, false, errp);
}

static bool opt_qmp_pretty(VlState *vl, const char *arg, Error **errp)
{
    vl->have_monitor_opt = true;
    return vl_add_compat_monitor(vl, "qmp-pretty", arg, true, true, errp);
}

static bool opt_monitor(VlState *vl, const char *arg, Error **errp)
{
    vl->have_monitor_opt = true;
    return vl_add_compat_monitor(vl, "monitor", arg, false, false, errp);
}

static bool opt_mon(VlState *vl, const char *arg, Error **errp)
{
    static const char *const keys[] = { "chardev", "mode", "pretty", "id", NULL };
    g_autoptr(QDict) opts = qemu_opts_parse_flat(arg, "chardev", errp);
    const char *mode;
    VlMonitor *m;
    Error *err = NULL;

    if (!opts || !qemu_opts_check_keys(opts, keys, errp)) {
        return false;
    }
    mode = qdict_get_try_str(opts, "mode");
    if (mode && strcmp(mode, "control") && strcmp(mode, "readline")) {
        error_setg(errp, "Parameter 'mode' does not accept value '%s'", mode);
        return false;
    }
    if (!qdict_get_try_str(opts, "chardev")) {
        error_setg(errp, "Parameter 'chardev' is missing");
        return false;
    }
    m = g_new0(VlMonitor, 1);
    m->chardev_id = g_strdup(qdict_get_try_str(opts, "chardev"));
    m->qmp = mode && !strcmp(mode, "control");
    m->pretty = qemu_opt_get_bool(opts, "pretty", false, &err);
    g_ptr_array_add(vl->monitors, m);
    vl->have_monitor_opt = true;
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

static bool opt_qtest(VlState *vl, const char *arg, Error **errp)
{
    vl->qtest_spec = arg;
    return true;
}

static bool opt_incoming(VlState *vl, const char *arg, Error **errp)
{
    g_free(vl->cfg.incoming);
    vl->cfg.incoming = g_strdup(arg);
    return true;
}

static bool opt_object(VlState *vl, const char *arg, Error **errp)
{
    QDict *opts = arg[0] == '{' ? qdict_from_json(arg, errp)
                                : keyval_parse(arg, "qom-type", NULL, errp);

    if (!opts) {
        return false;
    }
    g_ptr_array_add(vl->cfg.object_opts, opts);
    return user_object_add_cmdline(opts, arg[0] != '{', errp);
}

static bool opt_device(VlState *vl, const char *arg, Error **errp)
{
    bool help = false;
    QDict *opts = arg[0] == '{' ? qdict_from_json(arg, errp)
                                : keyval_parse(arg, "driver", &help, errp);
    const char *driver = opts ? qdict_get_try_str(opts, "driver") : NULL;

    if (!opts) {
        return false;
    }
    if ((help && !driver) || (driver && !strcmp(driver, "help"))) {
        device_print_help();
        qobject_unref(opts);
        exit(0);
    }
    g_ptr_array_add(vl->cfg.device_opts, opts);
    return true;
}

static void vl_print_formats(void)
{
    g_autoptr(GString) rw = g_string_new(NULL);
    g_autoptr(GString) ro = g_string_new(NULL);

    bdrv_format_lists(rw, ro);
    printf("Supported formats:%s%s\n", rw->len ? " " : "", rw->str);
    printf("Supported formats (read-only):%s%s\n", ro->len ? " " : "", ro->str);
}

static bool vl_add_block_opt(VlState *vl, bool is_blockdev, QDict *opts, const char *arg)
{
    CmdlineBlockOpt *o = g_new0(CmdlineBlockOpt, 1);

    o->is_blockdev = is_blockdev;
    o->opts = opts;
    o->optarg = g_strdup(arg);
    g_ptr_array_add(vl->cfg.block_opts, o);
    return true;
}

static bool opt_drive(VlState *vl, const char *arg, Error **errp)
{
    QDict *opts = qemu_opts_parse_flat(arg, NULL, errp);
    const char *format = opts ? qdict_get_try_str(opts, "format") : NULL;

    if (!opts) {
        return false;
    }
    if (format && !strcmp(format, "help")) {
        qobject_unref(opts);                     /* format points into opts */
        vl_print_formats();
        exit(0);
    }
    return vl_add_block_opt(vl, false, opts, arg);
}

static bool opt_blockdev(VlState *vl, const char *arg, Error **errp)
{
    QDict *opts = arg[0] == '{' ? qdict_from_json(arg, errp)
                                : keyval_parse(arg, "driver", NULL, errp);

    if (!opts) {
        return false;
    }
    return vl_add_block_opt(vl, true, opts, arg);
}

static bool opt_trace(VlState *vl, const char *arg, Error **errp)
{
    warn_report("-trace %s: tracing is not supported; ignored", arg);
    return true;
}

static bool opt_m(VlState *vl, const char *arg, Error **errp)
{
    g_autoptr(QDict) opts = qemu_opts_parse_flat(arg, "size", errp);
    const char *size = opts ? qdict_get_try_str(opts, "size") : NULL;
    uint64_t v;

    if (!opts) {
        return false;
    }
    if (!size || qemu_strtosz_MiB(size, NULL, &v) < 0 || !v) {
        error_setg(errp, "invalid ram size: %s", size ? size : "");
        return false;
    }
    vl->cfg.ram_size = v;
    return true;
}

static bool opt_kernel(VlState *vl, const char *arg, Error **errp)
{
    vl->cfg.kernel = g_strdup(arg);
    return true;
}

static bool opt_append(VlState *vl, const char *arg, Error **errp)
{
    vl->cfg.append = g_strdup(arg);
    return true;
}

static bool opt_initrd(VlState *vl, const char *arg, Error **errp)
{
    vl->cfg.initrd = g_strdup(arg);
    return true;
}

static bool opt_version(VlState *vl, const char *arg, Error **errp)
{
    printf("QEMU emulator version %d.%d.%d (%s)\n", QEMU_COMPAT_MAJOR, QEMU_COMPAT_MINOR,
           QEMU_COMPAT_MICRO, GODWIT_PACKAGE);
    printf("Copyright (c) 2026 The Godwit authors\n");
    exit(0);
}

static bool opt_help(VlState *vl, const char *arg, Error **errp)
{
    printf("usage: godwit [options]\n"
           "QEMU 7.2 compatible options: -machine/-M, -accel, -enable-kvm, -nodefaults,\n"
           "-display none, -nographic, -serial, -S, -name, -daemonize, -pidfile,\n"
           "-chardev, -mon, -qmp, -qmp-pretty, -monitor, -qtest, -incoming, -object,\n"
           "-device, -drive, -blockdev, -m, -smp, -kernel, -append, -initrd, -no-shutdown,\n"
           "-no-reboot, -trace, -version\n");
    exit(0);
}

static const Option options[] = {
    { "M", ARG_REQUIRED, opt_machine },
    { "machine", ARG_REQUIRED, opt_machine },
    { "accel", ARG_REQUIRED, opt_accel },
    { "enable-kvm", ARG_NONE, opt_enable_kvm },
    { "nodefaults", ARG_NONE, opt_nodefaults },
    { "display", ARG_REQUIRED, opt_display },
    { "nographic", ARG_NONE, opt_nographic },
    { "vga", ARG_REQUIRED, opt_ignored },
    { "no-user-config", ARG_NONE, opt_ignored },
    { "no-shutdown", ARG_NONE, opt_no_shutdown },
    { "no-reboot", ARG_NONE, opt_no_reboot },
    { "msg", ARG_REQUIRED, opt_ignored },
    { "smp", ARG_REQUIRED, opt_smp },
    { "cpu", ARG_REQUIRED, opt_ignored },
    { "qtest-log", ARG_REQUIRED, opt_ignored },
    { "serial", ARG_REQUIRED, opt_serial },
    { "S", ARG_NONE, opt_S },
    { "name", ARG_REQUIRED, opt_name },
    { "daemonize", ARG_NONE, opt_daemonize },
    { "pidfile", ARG_REQUIRED, opt_pidfile },
    { "chardev", ARG_REQUIRED, opt_chardev },
    { "mon", ARG_REQUIRED, opt_mon },
    { "qmp", ARG_REQUIRED, opt_qmp },
    { "qmp-pretty", ARG_REQUIRED, opt_qmp_pretty },
    { "monitor", ARG_REQUIRED, opt_monitor },
    { "qtest", ARG_REQUIRED, opt_qtest },
    { "incoming", ARG_REQUIRED, opt_incoming },
    { "object", ARG_REQUIRED, opt_object },
    { "device", ARG_REQUIRED, opt_device },
    { "drive", ARG_REQUIRED, opt_drive },
    { "blockdev", ARG_REQUIRED, opt_blockdev },
    { "trace", ARG_REQUIRED, opt_trace },
    { "m", ARG_REQUIRED, opt_m },
    { "kernel", ARG_REQUIRED, opt_kernel },
    { "append", ARG_REQUIRED, opt_append },
    { "initrd", ARG_REQUIRED, opt_initrd },
    { "version", ARG_NONE, opt_version },
    { "h", ARG_NONE, opt_help },
    { "help", ARG_NONE, opt_help },
};

void vl_parse_args(VlState *vl, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        const Option *opt = NULL;
        Error *err = NULL;

        if (name[0] != '-') {
            error_report("%s: drive with bus=0, unit=0 (index=0) exists", name);
            exit(1);
        }
        name += name[1] == '-' ? 2 : 1;
        for (size_t k = 0; k < G_N_ELEMENTS(options); k++) {
            if (!strcmp(options[k].name, name)) {
                opt = &options[k];
            }
        }
        if (!opt) {
            error_report("%s: invalid option", argv[i]);
            exit(1);
        }
        if (opt->arg == ARG_REQUIRED && i + 1 >= argc) {
            error_report("%s: requires an argument", argv[i]);
            exit(1);
        }
        if (!opt->handler(vl, opt->arg == ARG_REQUIRED ? argv[i + 1] : NULL, &err)) {
            if (opt->arg == ARG_REQUIRED) {
                error_report("%s %s: %s", argv[i], argv[i + 1], error_get_pretty(err));
            } else {
                error_report("%s: %s", argv[i], error_get_pretty(err));
            }
            error_free(err);
            exit(1);
        }
        i += opt->arg == ARG_REQUIRED;
    }
}

/* The configuration of this process: set once by vl_state_init. */
static const SysemuConfig *current_config;

const SysemuConfig *sysemu_config(void)
{
    return current_config;
}

bool kvm_enabled(void)
{
    return current_config && current_config->accel && !strcmp(current_config->accel, "kvm");
}

bool qtest_enabled(void)
{
    return current_config && current_config->accel &&
           !strcmp(current_config->accel, "qtest");
}

void vl_state_init(VlState *vl)
{
    current_config = &vl->cfg;
    memset(vl, 0, sizeof(*vl));
    vl->autostart = true;
    vl->chardevs = g_ptr_array_new();
    vl->chardev_origins = g_ptr_array_new_with_free_func(g_free);
    vl->monitors = g_ptr_array_new();
    vl->serials = g_ptr_array_new();
    vl->cfg.block_opts = g_ptr_array_new();
    vl->cfg.device_opts = g_ptr_array_new();
    vl->cfg.object_opts = g_ptr_array_new();
    vl->cfg.serials = g_ptr_array_new();
}
