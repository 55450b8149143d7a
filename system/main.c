/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The godwit binary: parse the command line (vl.c), daemonize if asked, create
 * chardevs and monitors, start the accelerator, the block layer and devices, set
 * the initial run state, then run the main loop (aio_poll on the main
 * AioContext) until a shutdown request; exit 0 (or the guest's exit status when
 * the guest ended the run) after flushing monitor output.
 */
#include "util/osdep.h"
#include "system/vl.h"
#include "sysemu/accel.h"
#include "sysemu/machine.h"
#include "sysemu/runstate.h"
#include "chardev/char.h"
#include "monitor/monitor.h"
#include "util/aio.h"
#include "block/block.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <fcntl.h>

static VlState vl;
static int daemon_pipe = -1;    /* write end: tells the waiting parent we are up */

/* ---------------------------------------------------------------------------
 * Signals: SIGTERM/SIGINT/SIGHUP become a SHUTDOWN with reason host-signal.
 */

static void main_signal_ready(void *opaque)
{
    int fd = GPOINTER_TO_INT(opaque);
    struct signalfd_siginfo si;
    g_autofree char *comm_path = NULL;
    g_autofree char *comm = NULL;

    if (read(fd, &si, sizeof(si)) != sizeof(si)) {
        return;
    }
    comm_path = g_strdup_printf("/proc/%u/comm", si.ssi_pid);
    if (g_file_get_contents(comm_path, &comm, NULL, NULL)) {
        g_strchomp(comm);
    }
    error_report("terminating on signal %u from pid %u (%s)", si.ssi_signo, si.ssi_pid,
                 comm ? comm : "<unknown process>");
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
}

static void main_setup_signals(void)
{
    sigset_t set;
    int fd;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd >= 0) {
        aio_set_fd_handler(qemu_get_aio_context(), fd, main_signal_ready, NULL,
                           GINT_TO_POINTER(fd));
    }
}

/* ---------------------------------------------------------------------------
 * -daemonize and -pidfile
 */

static void main_daemonize(void)
{
    int fds[2];
    pid_t pid;
    char c;

    if (pipe(fds) < 0) {
        error_report("cannot daemonize: %s", strerror(errno));
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        error_report("cannot daemonize: %s", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(fds[1]);
        /* the child writes one byte once it is up; EOF means it failed */
        exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
    }
    close(fds[0]);
    daemon_pipe = fds[1];
    setsid();
}

static void main_daemon_ready(void)
{
    int null;

    if (daemon_pipe < 0) {
        return;
    }
    null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
    if (write(daemon_pipe, "", 1) != 1) {
        /* the parent is gone: nothing to tell */
    }
    close(daemon_pipe);
    daemon_pipe = -1;
}

static void main_write_pidfile(void)
{
    g_autofree char *pid = g_strdup_printf("%d\n", getpid());
    GError *gerr = NULL;

    if (!g_file_set_contents(vl.pidfile, pid, -1, &gerr)) {
        error_report("cannot create PID file: %s", gerr->message);
        exit(1);
    }
}

/* ---------------------------------------------------------------------------
 * Startup
 */

static void main_check(bool ok, Error **errp)
{
    if (!ok) {
        error_report_err(*errp);
        exit(1);
    }
}

static void main_select_machine(void)
{
    const MachineType *mt = machine_find(vl.cfg.machine_type);

    if (!mt) {
        error_report("unsupported machine type\nUse -machine help to list supported machines");
        exit(1);
    }
    vl.cfg.machine_type = mt->name;
}

static void main_init_accel(void)
{
    Error *err = NULL;
    const char *accel = vl.cfg.accel;

    if (!accel) {
        /* no accelerator given: an empty machine needs none, a real one needs KVM */
        accel = vl.cfg.accel = strcmp(vl.cfg.machine_type, "none") ? "kvm" : "qtest";
    }
    if (!strcmp(accel, "qtest")) {
        qtest_accel_init();
    } else if (!strcmp(accel, "kvm")) {
        if (!kvm_accel_init(&err)) {
            error_report("-accel kvm: %s", error_get_pretty(err));
            exit(1);
        }
    } else {
        error_report("-accel %s: invalid accelerator %s", accel, accel);
        exit(1);
    }
}

static void main_create_chardevs(void)
{
    Error *err = NULL;

    for (guint i = 0; i < vl.chardevs->len; i++) {
        if (!qemu_chr_new_from_opts(g_ptr_array_index(vl.chardevs, i), &err)) {
            error_prepend(&err, "%s: ", (char *)g_ptr_array_index(vl.chardev_origins, i));
            main_check(false, &err);
        }
    }
}

/*
 * After the block devices: opening images polls the main loop, and a monitor
 * must not run commands (query-block...) against a half-made machine. QEMU
 * likewise greets and reads only once its main loop runs.
 */
static void main_create_monitors(void)
{
    Error *err = NULL;

    for (guint i = 0; i < vl.monitors->len; i++) {
        VlMonitor *m = g_ptr_array_index(vl.monitors, i);
        Chardev *chr = qemu_chr_find(m->chardev_id);

        if (!chr) {
            error_report("-mon chardev=%s: chardev \"%s\" not found", m->chardev_id,
                         m->chardev_id);
            exit(1);
        }
        main_check(m->qmp ? monitor_new_qmp(chr, m->pretty, &err) != NULL
                          : monitor_new_hmp(chr, &err) != NULL, &err);
    }
}

static void main_default_monitor(void)
{
    Error *err = NULL;
    g_autoptr(QDict) opts = NULL;
    Chardev *chr;

    if (vl.nodefaults || vl.have_monitor_opt || !vl.nographic) {
        return;
    }
    opts = qemu_chr_parse_compat("compat_monitor0", "stdio", &error_abort);
    chr = qemu_chr_new_from_opts(opts, &err);
    main_check(chr != NULL, &err);
    main_check(monitor_new_hmp(chr, &err) != NULL, &err);
}

static void main_init_qtest(void)
{
    Error *err = NULL;
    g_autoptr(QDict) opts = NULL;

    if (!vl.qtest_spec) {
        return;
    }
    opts = qemu_chr_parse_compat("qtest", vl.qtest_spec, &err);
    if (!opts || !qtest_server_init(opts, &err)) {
        if (err) {
            error_report_err(err);
        }
        error_report("Failed to initialize device for qtest: \"%s\"", vl.qtest_spec);
        exit(1);
    }
}

/* Before the block devices: images opened while inmigrate start inactive. */
static void main_incoming_runstate(void)
{
    if (vl.cfg.incoming) {
        runstate_set(RUN_STATE_INMIGRATE);
    }
}

static void main_initial_runstate(void)
{
    Error *err = NULL;

    runstate_set_autostart(vl.autostart);
    if (vl.cfg.incoming) {
        if (strcmp(vl.cfg.incoming, "defer") &&
            !migration_incoming_start(vl.cfg.incoming, &err)) {
            error_report("-incoming %s: %s", vl.cfg.incoming, error_get_pretty(err));
            exit(1);
        }
    } else if (vl.autostart) {
        vm_start();
    }
}

int main(int argc, char **argv)
{
    AioContext *ctx;
    Error *err = NULL;

    error_set_progname(argv[0]);
    vl_state_init(&vl);
    vl_parse_args(&vl, argc, argv);
    main_select_machine();
    if (vl.daemonize) {
        main_daemonize();
    }
    ctx = qemu_get_aio_context();
    main_setup_signals();
    if (vl.pidfile) {
        main_write_pidfile();
    }
    monitor_init_globals();
    monitor_hold_input(true);
    main_init_accel();
    main_create_chardevs();
    main_init_qtest();
    main_check(object_init_cmdline(&vl.cfg, &err), &err);
    main_incoming_runstate();
    main_check(blockdev_init_cmdline(&vl.cfg, &err), &err);
    main_check(device_init_cmdline(&vl.cfg, &err), &err);
    main_create_monitors();
    main_default_monitor();
    main_initial_runstate();
    monitor_hold_input(false);
    main_daemon_ready();

    while (!qemu_system_exit_requested()) {
        aio_poll(ctx, true);
    }

    qemu_run_exit_notifiers();
    bdrv_close_all();           /* flush format metadata (qcow2 caches) before exit */
    monitor_cleanup();          /* detaches from its chardevs, so it goes first */
    qemu_chr_flush_all_and_close(5000);
    if (vl.pidfile) {
        unlink(vl.pidfile);
    }
    return qemu_system_exit_status();
}
