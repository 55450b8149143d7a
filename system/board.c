/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * board.c: the godwit binary's machine (contract in system/board.h): the KVM
 * machine, the serial console, and how run states drive the vCPUs.
 *
 *   vm_start (no -S, cont)  -> resume the parked vCPU threads, retry parked I/O
 *   vm_stop (stop, io-error) -> park every vCPU (machine_pause)
 *   guest writes the exit port -> SHUTDOWN guest-shutdown; exit with its status,
 *                               or with -no-shutdown stop in "shutdown"
 *   guest triple fault       -> RESET guest-reset and run the program again,
 *                               or with -no-reboot as a guest shutdown
 *   KVM cannot go on         -> message on stderr, stop in "internal-error"
 *   system_reset             -> park (or re-arm ended threads), reset devices,
 *                               reload the program; run if the state is running
 */
#include "util/osdep.h"
#include "system/board.h"
#include "sysemu/accel.h"
#include "sysemu/runstate.h"
#include "chardev/char.h"
#include "migration/machine-mig.h"
#include "util/coroutine.h"
#include "qapi-commands.h"

#define BOARD_RAM_DEFAULT  (128 * MiB)     /* QEMU's default -m */
#define BOARD_STOP_WAIT_MS 10000

/* The one board of this process (NULL until device_init_cmdline, or without one). */
static Board *board;

static void board_mig_unregister(Board *b);

bool kvm_accel_init(Error **errp)
{
    Error *err = NULL;

    if (!kvm_available(&err)) {
        error_setg(errp, "failed to initialize kvm: %s", error_get_pretty(err));
        error_free(err);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * Serial console: the guest's console port
 */

static void board_console(void *opaque, const uint8_t *buf, size_t len)
{
    Board *b = opaque;

    switch (b->serial_kind) {
    case BOARD_SERIAL_NONE:
        break;
    case BOARD_SERIAL_FILE:
        g_mutex_lock(&b->serial_lock);
        fwrite(buf, 1, len, b->serial_file);
        if (memchr(buf, '\n', len)) {
            fflush(b->serial_file);
        }
        g_mutex_unlock(&b->serial_lock);
        break;
    case BOARD_SERIAL_CHARDEV:
        g_mutex_lock(&b->serial_lock);
        g_string_append_len(b->serial_pending, (const char *)buf, len);
        g_mutex_unlock(&b->serial_lock);
        qemu_bh_schedule(b->serial_bh);
        break;
    }
}

static void board_serial_bh(void *opaque)
{
    Board *b = opaque;

    g_mutex_lock(&b->serial_lock);
    if (b->serial_pending->len) {
        qemu_chr_write(b->serial_chr, b->serial_pending->str, b->serial_pending->len);
        g_string_truncate(b->serial_pending, 0);
    }
    g_mutex_unlock(&b->serial_lock);
}

static void board_serial_flush(Board *b)
{
    if (b->serial_kind == BOARD_SERIAL_FILE) {
        g_mutex_lock(&b->serial_lock);
        fflush(b->serial_file);
        g_mutex_unlock(&b->serial_lock);
    } else if (b->serial_kind == BOARD_SERIAL_CHARDEV) {
        board_serial_bh(b);
    }
}

/*
 * The first -serial is the console port; without one, -nographic means stdio
 * (QEMU: mon:stdio) unless -nodefaults. Further -serial ports are accepted and
 * unused (the machine has one console port).
 */
static bool board_serial_init(Board *b, Error **errp)
{
    const char *spec = b->cfg->serials->len ? g_ptr_array_index(b->cfg->serials, 0) : NULL;
    g_autoptr(QDict) opts = NULL;

    g_mutex_init(&b->serial_lock);
    b->serial_pending = g_string_new(NULL);
    b->serial_bh = aio_bh_new(qemu_get_aio_context(), board_serial_bh, b);
    if (!spec && b->cfg->nographic && !b->cfg->nodefaults) {
        spec = "stdio";
    }
    if (!spec || !strcmp(spec, "none") || !strcmp(spec, "null") || !strcmp(spec, "vc")) {
        b->serial_kind = BOARD_SERIAL_NONE;
        return true;
    }
    if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
        b->serial_kind = BOARD_SERIAL_FILE;
        b->serial_file = stdout;
        return true;
    }
    opts = qemu_chr_parse_compat("serial0", spec, errp);
    if (!opts) {
        return false;
    }
    if (qdict_get_try_str(opts, "chardev")) {
        const char *id = qdict_get_try_str(opts, "chardev");
        b->serial_chr = qemu_chr_find(id);
        if (!b->serial_chr) {
            error_setg(errp, "-serial %s: chardev \"%s\" not found", spec, id);
            return false;
        }
    } else {
        b->serial_chr = qemu_chr_new_from_opts(opts, errp);
        if (!b->serial_chr) {
            error_prepend(errp, "-serial %s: ", spec);
            return false;
        }
    }
    b->serial_kind = BOARD_SERIAL_CHARDEV;
    return true;
}

/* ---------------------------------------------------------------------------
 * Run control
 */

/* Any thread: the VM stopped running (the guest exited, faulted, or KVM failed). */
static void board_stop_notify(void *opaque)
{
    Board *b = opaque;

    __atomic_add_fetch(&b->stops_notified, 1, __ATOMIC_SEQ_CST);
    qemu_bh_schedule(b->stop_bh);
}

static int board_exit_code(int status)
{
    return status >= 0 && status <= 255 ? status : 255;
}

static void board_stop_bh(void *opaque)
{
    Board *b = opaque;
    unsigned seen = __atomic_load_n(&b->stops_notified, __ATOMIC_SEQ_CST);
    MachineExit e;

    if (seen == b->stops_handled) {
        return;                          /* system_reset took care of it */
    }
    b->stops_handled = seen;
    if (!machine_wait(b->m, BOARD_STOP_WAIT_MS, &e)) {
        error_report("vCPU threads did not stop");
        return;
    }
    board_serial_flush(b);
    switch (e.reason) {
    case KVM_GODWIT_STOP_REQUESTED:
        qemu_system_guest_shutdown(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, b->cfg->no_shutdown,
                                   board_exit_code(e.status));
        break;
    case KVM_GODWIT_STOP_SHUTDOWN:
        /* a triple fault is a reset request from the guest */
        if (b->cfg->no_reboot) {
            qemu_system_guest_shutdown(SHUTDOWN_CAUSE_GUEST_RESET, b->cfg->no_shutdown, 0);
        } else {
            qemu_system_reset(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        break;
    default:
        error_report("%s", e.message[0] ? e.message : "the vCPUs stopped");
        vm_stop(RUN_STATE_INTERNAL_ERROR);
        break;
    }
}

static void board_vm_state_change(void *opaque, bool running, RunState state)
{
    Board *b = opaque;

    if (running) {
        board_devices_retry(b);
        if (b->m) {
            machine_resume(b->m);
        }
    } else {
        if (b->m && b->vcpus_started) {
            machine_pause(b->m);         /* false once the vCPUs have ended: fine */
            board_serial_flush(b);
        }
        /*
         * As QEMU's vm_stop drains: once stopped, no request is running, so a
         * migration's last block pass and RAM sync see every write (parked
         * werror=stop requests stay parked). Draining polls the main loop, so
         * not from a coroutine (migration stops the VM from a bottom half).
         */
        if (!qemu_in_coroutine()) {
            board_devices_drain(b);
        }
    }
}

static bool board_load_program(Board *b, Error **errp)
{
    return machine_load_program_data(b->m, b->program, b->program_len, errp);
}

static void board_reset(void *opaque)
{
    Board *b = opaque;
    Error *err = NULL;

    if (b->m && b->vcpus_started && !machine_pause(b->m)) {
        /* the run had ended: join the threads and forget the stop */
        machine_wait(b->m, -1, NULL);
        b->stops_handled = __atomic_load_n(&b->stops_notified, __ATOMIC_SEQ_CST);
        kvm_vm_rearm(machine_vm(b->m));
        b->vcpus_started = false;
    }
    board_devices_reset(b);
    if (!b->m || !b->program) {
        return;
    }
    if (!board_load_program(b, &err) ||
        (!b->vcpus_started && !machine_start(b->m, true, &err))) {
        error_report_err(err);
        vm_stop(RUN_STATE_INTERNAL_ERROR);
        return;
    }
    b->vcpus_started = true;
    if (runstate_is_running()) {
        machine_resume(b->m);
    }
}

static void board_exit(void *opaque)
{
    Board *b = opaque;

    /*
     * Order matters: park the vCPUs so nothing new arrives; let in-flight disk
     * requests finish (they complete by writing into guest RAM) and take the
     * devices down (their ioeventfds live in the VM); only then free the VM and
     * its RAM.
     */
    if (b->m) {
        machine_pause(b->m);             /* false once the vCPUs have ended: fine */
    }
    board_mig_unregister(b);             /* the sections refer to devices and RAM */
    board_devices_cleanup(b);            /* drains each device first */
    if (b->m) {
        machine_destroy(b->m);
        b->m = NULL;
    }
    board_serial_flush(b);
}

/* ---------------------------------------------------------------------------
 * Migration: the KVM machine's sections in the binary's registry
 */

/*
 * ram, then one virtio-mmio section per device, then cpu (RAM before the state
 * that refers to it); the registry already holds the block section (every
 * writable named -drive). The destination's vCPUs start parked (board_start);
 * the run state machine (inmigrate -> running or paused) releases them.
 */
static void board_mig_register(Board *b)
{
    MigRegistry *reg = migration_default_registry();

    b->ram_mig = ram_mig_register(reg, b->m, migrate_get_current());
    board_devices_mig_register(b, reg);
    b->cpu_mig = cpu_mig_register(reg, b->m);
}

static void board_mig_unregister(Board *b)
{
    MigRegistry *reg;

    if (!b->ram_mig) {
        return;
    }
    reg = migration_default_registry();
    mig_unregister(reg, "cpu", 0);
    cpu_mig_free(b->cpu_mig);
    for (guint i = 0; i < b->virtio_migs->len; i++) {
        mig_unregister(reg, "virtio-mmio", i);
        virtio_mig_free(g_ptr_array_index(b->virtio_migs, i));
    }
    g_ptr_array_free(b->virtio_migs, true);
    mig_unregister(reg, "ram", 0);
    ram_mig_free(b->ram_mig);
    b->ram_mig = NULL;
    b->cpu_mig = NULL;
    b->virtio_migs = NULL;
}

/* ---------------------------------------------------------------------------
 * Creation: the device_init_cmdline hook of sysemu.h
 */

static bool board_create_machine(Board *b, Error **errp)
{
    MachineConfig mc = {
        .ram_size = b->cfg->ram_size ? b->cfg->ram_size : BOARD_RAM_DEFAULT,
        .nr_cpus = b->cfg->smp_cpus ? b->cfg->smp_cpus : 1,
        .append = b->cfg->append,
        .console = board_console,
        .opaque = b,
    };
    GError *gerr = NULL;

    if (b->cfg->kernel &&
        !g_file_get_contents(b->cfg->kernel, &b->program, &b->program_len, &gerr)) {
        error_setg(errp, "could not load kernel '%s': %s", b->cfg->kernel, gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (b->cfg->initrd) {
        error_setg(errp, "-initrd is not supported by the godwit machine");
        return false;
    }
    b->m = machine_create(&mc, errp);
    if (!b->m) {
        return false;
    }
    kvm_vm_set_stop_notify(machine_vm(b->m), board_stop_notify, b);
    return true;
}

/* Load the program and start the vCPU threads parked; vm_start releases them. */
static bool board_start(Board *b, Error **errp)
{
    if (!b->m || !b->program) {
        return true;                     /* no program: the vCPUs never run */
    }
    if (!board_load_program(b, errp)) {
        error_prepend(errp, "could not load kernel '%s': ", b->cfg->kernel);
        return false;
    }
    if (!machine_start(b->m, true, errp)) {
        return false;
    }
    b->vcpus_started = true;
    return true;
}

bool device_init_cmdline(const SysemuConfig *cfg, Error **errp)
{
    Board *b;

    if (!strcmp(cfg->machine_type, "none")) {
        if (cfg->device_opts->len) {
            QDict *opts = g_ptr_array_index(cfg->device_opts, 0);
            const char *drv = qdict_get_try_str(opts, "driver");
            error_setg(errp, "No 'virtio-bus' bus found for device '%s'", drv ? drv : "");
            return false;
        }
        return true;
    }
    b = board = g_new0(Board, 1);
    b->cfg = cfg;
    b->devices = g_ptr_array_new();
    b->stop_bh = aio_bh_new(qemu_get_aio_context(), board_stop_bh, b);
    if (!board_serial_init(b, errp) ||
        (kvm_enabled() && !board_create_machine(b, errp)) ||
        !board_devices_init(b, errp) ||
        !board_start(b, errp)) {
        return false;                    /* main() exits */
    }
    if (b->m) {
        board_mig_register(b);
    }
    qemu_add_vm_change_state_handler(board_vm_state_change, b);
    qemu_register_reset_hook(board_reset, b);
    qemu_add_exit_notifier(board_exit, b);
    return true;
}

/* ---------------------------------------------------------------------------
 * QMP
 */

static CpuInfoFast *board_cpu_info(unsigned index, int64_t thread_id)
{
    CpuInfoFast *info = g_new0(CpuInfoFast, 1);

    info->cpu_index = index;
    info->qom_path = g_strdup_printf("/machine/unattached/device[%u]", index);
    info->thread_id = thread_id;
    info->props = g_new0(CpuInstanceProperties, 1);
    info->props->has_socket_id = info->props->has_core_id = info->props->has_thread_id = true;
    info->props->socket_id = index;      /* -smp N: N sockets of one core, one thread */
    info->target = SYS_EMU_TARGET_X86_64;
    return info;
}

CpuInfoFastList *qmp_query_cpus_fast(Error **errp)
{
    CpuInfoFastList *head = NULL, **tail = &head;
    unsigned n;

    if (!board) {
        return NULL;                     /* -machine none: no CPUs */
    }
    n = board->m ? kvm_vm_nr_vcpus(machine_vm(board->m)) : 1;
    for (unsigned i = 0; i < n; i++) {
        pid_t tid = 0;
        if (board->m && board->vcpus_started) {
            tid = kvm_vcpu_thread_id(kvm_vm_get_vcpu(machine_vm(board->m), i));
        }
        *tail = g_new0(CpuInfoFastList, 1);
        (*tail)->value = board_cpu_info(i, tid ? tid : gettid());
        tail = &(*tail)->next;
    }
    return head;
}
