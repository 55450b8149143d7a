/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-migration: live migration of the test guest between two KVM machines in
 * this process, over a socketpair, through the real stream, sender thread, loader
 * and sections (ram, cpu, virtio-mmio, block). The guest verifies its own RAM or
 * disk on the destination; negative control: pages dirtied after the bulk pass are
 * dropped, and the guest must notice. Exits 77 (skip) without a usable /dev/kvm.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "hw/machine.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-mmio.h"
#include "migration/migration.h"
#include "migration/machine-mig.h"
#include "qobject/qdict.h"
#include "e2e-util.h"

#include <fcntl.h>
#include <sys/socket.h>

#define WAIT_MS 120000

typedef struct Side {
    Machine *m;
    E2eConsole console;
    BlockBackend *blk;
    VirtIOBlock *dev;
    VirtIOMMIOProxy *proxy;
    MigRegistry *reg;
    MigrationState *s;
    RamMig *ram;
    CpuMig *cpu;
    VirtioMig *vmig;
    bool paused;
    char *fail;                  /* destination: the load error */
} Side;

static char *tmpdir;

/* VM ops: what vm_stop/vm_start do to the machine (pause, drain, resume). */
static void side_stop(void *opaque)
{
    Side *sd = opaque;

    machine_pause(sd->m);
    sd->paused = true;
    if (sd->dev) {
        virtio_blk_drain(sd->dev);
    }
}

static void side_resume(void *opaque)
{
    Side *sd = opaque;

    sd->paused = false;
    machine_resume(sd->m);
}

static bool side_is_running(void *opaque)
{
    return !((Side *)opaque)->paused;
}

static const MigVmOps side_vm_ops = {
    .stop = side_stop, .resume = side_resume, .start = side_resume,
    .is_running = side_is_running,
};

static void side_fail(void *opaque, const Error *err)
{
    Side *sd = opaque;

    sd->fail = g_strdup(error_get_pretty(err));
}

static void side_init(Side *sd, const char *append, const char *image, bool source)
{
    MachineConfig cfg = {
        .ram_size = 64 * MiB, .append = append ? append : "", .console = e2e_console_write,
        .opaque = &sd->console,
    };

    memset(sd, 0, sizeof(*sd));
    e2e_console_init(&sd->console);
    sd->m = machine_create(&cfg, &error_abort);
    sd->reg = mig_registry_new();
    sd->s = migration_new(sd->reg, &side_vm_ops, sd);
    sd->ram = ram_mig_register(sd->reg, sd->m, sd->s);
    if (image) {
        QDict *opts = qdict_new();
        qdict_put_str(opts, "driver", "raw");
        sd->blk = blk_new_open(image, NULL, opts, BDRV_O_RDWR, &error_abort);
        VirtIOBlkConf conf = { .blk = sd->blk, .serial = "MIG" };
        sd->dev = virtio_blk_create(&conf, &error_abort);
        sd->proxy = e2e_virtio_mmio_attach(sd->m, sd->dev, &error_abort);
        sd->vmig = virtio_mig_register(sd->reg, 0, virtio_blk_vdev(sd->dev), sd->dev, sd->ram);
        const char *names[] = { "disk0" };
        block_migration_register_list(sd->reg, 1, names, &sd->blk);
    }
    sd->cpu = cpu_mig_register(sd->reg, sd->m);
    if (source) {
        machine_load_program(sd->m, GODWIT_GUEST_ELF, &error_abort);
        machine_start(sd->m, false, &error_abort);
    } else {
        machine_start(sd->m, true, &error_abort);      /* parked until the load is done */
        sd->paused = true;
        migration_incoming_set_fail_hook(sd->s, side_fail, sd);
    }
}

static void side_cleanup(Side *sd)
{
    migration_free(sd->s);
    virtio_mig_free(sd->vmig);
    ram_mig_free(sd->ram);
    cpu_mig_free(sd->cpu);
    mig_registry_free(sd->reg);
    if (sd->dev) {      /* the transport unhooks its ioeventfds from the VM: first */
        virtio_mmio_destroy(sd->proxy);
        virtio_blk_destroy(sd->dev);
        blk_unref(sd->blk);
    }
    machine_destroy(sd->m);
    e2e_console_destroy(&sd->console);
    g_free(sd->fail);
}

static void tick(void *opaque)
{
}

/* Run the main loop until cond(opaque) or the deadline. */
static bool loop_until(bool (*cond)(void *), void *opaque, int64_t ms)
{
    QEMUTimer *t = aio_timer_new(qemu_get_aio_context(), QEMU_CLOCK_REALTIME, tick, NULL);
    int64_t end = g_get_monotonic_time() + ms * 1000;
    bool ok;

    while (!(ok = cond(opaque)) && g_get_monotonic_time() < end) {
        timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 5 * SCALE_MS);
        aio_poll(qemu_get_aio_context(), true);
    }
    timer_free(t);
    return ok;
}

typedef struct Pair {
    Side *a, *b;
} Pair;

static bool migration_done(void *opaque)
{
    Pair *p = opaque;

    return !migration_is_active(p->a->s) &&
           (migration_incoming_status(p->b->s) == MIGRATION_STATUS_COMPLETED ||
            migration_incoming_status(p->b->s) == MIGRATION_STATUS_FAILED ||
            migration_status(p->a->s) != MIGRATION_STATUS_COMPLETED);
}

static bool guest_progressed(void *opaque)
{
    Side *sd = opaque;

    return machine_progress(sd->m) >= 3;
}

static bool dest_failed(void *opaque)
{
    return ((Side *)opaque)->fail != NULL;
}

static bool guest_exited(void *opaque)
{
    MachineExit e;

    return machine_wait(((Side *)opaque)->m, 0, &e);
}

/* Migrate a to b; returns the source's final status. */
static MigrationStatus migrate_pair(Side *a, Side *b, const MigrateOpts *o)
{
    int sv[2];
    Pair p = { a, b };

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_assert_true(migration_incoming_fd(b->s, sv[1], &error_abort));
    g_assert_true(migration_start_fd(a->s, sv[0], o, &error_abort));
    g_assert_true(loop_until(migration_done, &p, WAIT_MS));
    g_autoptr(MigrationInfo) info = migration_query(a->s);
    if (info->has_status) {
        g_test_message("migration %s: total %" PRId64 " ms, downtime %" PRId64 " ms, "
                       "setup %" PRId64 " ms, ram transferred %" PRId64 " (%" PRId64
                       " normal, %" PRId64 " zero pages), %" PRId64 " syncs, %.1f Mbit/s%s%s",
                       MigrationStatus_str(info->status), info->total_time, info->downtime,
                       info->setup_time, info->ram ? info->ram->transferred : 0,
                       info->ram ? info->ram->normal : 0, info->ram ? info->ram->duplicate : 0,
                       info->ram ? info->ram->dirty_sync_count : 0,
                       info->ram ? info->ram->mbps : 0, info->error_desc ? ": " : "",
                       info->error_desc ? info->error_desc : "");
    }
    return migration_status(a->s);
}

static int finish_guest(Side *sd)
{
    MachineExit e;

    g_assert_true(loop_until(guest_exited, sd, WAIT_MS));
    machine_wait(sd->m, 0, &e);
    return e2e_exit_status(&sd->console, &e);
}

static void assert_console_has(Side *sd, const char *needle)
{
    e2e_console_assert_has(&sd->console, needle);
}

static void test_ram(gconstpointer data)
{
    bool drop = GPOINTER_TO_INT(data);
    Side a, b;
    MigrateOpts o = { 0 };

    side_init(&a, "ram-verify mib=16 passes=400 report=100", NULL, true);
    side_init(&b, NULL, NULL, false);
    migration_test_drop_dirty(a.s, drop);
    g_assert_true(loop_until(guest_progressed, &a, WAIT_MS));
    g_assert_cmpint(migrate_pair(&a, &b, &o), ==, MIGRATION_STATUS_COMPLETED);
    g_assert_null(b.fail);
    uint32_t switched = machine_progress(b.m);
    int status = finish_guest(&b);
    g_autofree char *out = e2e_console_text(&b.console);
    g_test_message("switched at pass %u; destination console:\n%s", switched, out);
    if (drop) {
        g_assert_cmpint(status, ==, 1);
        assert_console_has(&b, "(stale: generation");
    } else {
        g_assert_cmpint(status, ==, 0);
        assert_console_has(&b, "ram-verify: PASS mib=16 passes=400");
    }
    side_cleanup(&a);
    side_cleanup(&b);
}

static char *make_image(const char *name, uint64_t size)
{
    return e2e_make_image(tmpdir, name, size);
}

/* The guest's blk-pattern (every 64-bit word of sector s is s << 32 | seed), on the host. */
static char *make_reference(const char *name, uint64_t size, uint64_t mib, uint64_t seed)
{
    char *path = make_image(name, size);
    g_autofree uint64_t *buf = g_malloc(MiB);
    int fd = open(path, O_WRONLY);

    for (uint64_t m = 0; m < mib; m++) {
        for (uint64_t w = 0; w < MiB / 8; w++) {
            buf[w] = ((m * 2048 + w / 64) << 32) | (seed & 0xffffffffULL);
        }
        g_assert_cmpint(pwrite(fd, buf, MiB, m * MiB), ==, MiB);
    }
    close(fd);
    return path;
}

static bool files_equal(const char *x, const char *y)
{
    g_autofree char *a = NULL, *b = NULL;
    gsize la, lb;

    g_assert_true(g_file_get_contents(x, &a, &la, NULL));
    g_assert_true(g_file_get_contents(y, &b, &lb, NULL));
    return la == lb && !memcmp(a, b, la);
}

/* The guest writes and verifies its disk while disk and RAM migrate. */
static void test_blk(void)
{
    g_autofree char *src = make_image("src.raw", 64 * MiB);
    g_autofree char *dst = make_image("dst.raw", 64 * MiB);
    MigrateOpts o = { .blk = true };
    Side a, b;

    side_init(&a, "blk-pattern mib=48 kib=4 qd=1 seed=7", src, true);
    side_init(&b, NULL, dst, false);
    g_assert_true(loop_until(guest_progressed, &a, WAIT_MS));
    g_assert_cmpint(migrate_pair(&a, &b, &o), ==, MIGRATION_STATUS_COMPLETED);
    g_assert_null(b.fail);
    g_assert_false(guest_exited(&a));          /* the switch happened mid-run */
    int status = finish_guest(&b);
    g_autofree char *out = e2e_console_text(&b.console);
    g_test_message("destination console:\n%s", out);
    g_assert_cmpint(status, ==, 0);
    assert_console_has(&b, "blk-pattern: PASS mib=48 seed=7");
    side_cleanup(&a);
    side_cleanup(&b);
    /*
     * The destination image holds what the source wrote before the switch plus what
     * the destination wrote after it: the whole pattern, byte for byte.
     */
    g_autofree char *ref = make_reference("ref.raw", 64 * MiB, 48, 7);
    g_assert_true(files_equal(dst, ref));
    if (g_file_test("/usr/bin/qemu-img", G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *cmd = g_strdup_printf("qemu-img compare -q -f raw -F raw '%s' '%s'",
                                               dst, ref);
        g_assert_cmpint(system(cmd), ==, 0);
    }
}

/* Cancel mid-way: the source keeps running and finishes its own run. */
static void test_cancel(void)
{
    g_autofree char *src = make_image("csrc.raw", 64 * MiB);
    g_autofree char *dst = make_image("cdst.raw", 64 * MiB);
    MigrateOpts o = { .blk = true };
    MigrateSetParameters slow = { .has_max_bandwidth = true, .max_bandwidth = 8 * MiB };
    Side a, b;
    int sv[2];

    side_init(&a, "blk-pattern mib=16 kib=4 qd=1 seed=9", src, true);
    side_init(&b, NULL, dst, false);
    migration_set_params(a.s, &slow, &error_abort);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_assert_true(migration_incoming_fd(b.s, sv[1], &error_abort));
    g_assert_true(migration_start_fd(a.s, sv[0], &o, &error_abort));
    loop_until(guest_exited, &b, 500);          /* let it get going */
    g_assert_cmpint(migration_status(a.s), ==, MIGRATION_STATUS_ACTIVE);
    migration_cancel(a.s);
    Pair p = { &a, &b };
    g_assert_true(loop_until(migration_done, &p, WAIT_MS));
    g_assert_cmpint(migration_status(a.s), ==, MIGRATION_STATUS_CANCELLED);
    g_assert_true(loop_until(dest_failed, &b, WAIT_MS));
    g_assert_cmpint(finish_guest(&a), ==, 0);   /* source carried on and verified its disk */
    assert_console_has(&a, "blk-pattern: PASS mib=16 seed=9");
    g_test_message("destination: %s", b.fail ? b.fail : "(no error)");
    g_assert_nonnull(b.fail);                   /* the destination saw a broken stream */
    side_cleanup(&a);
    side_cleanup(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    error_set_progname(argv[0]);
    if (!e2e_kvm_usable("migration e2e tests")) {
        return E2E_SKIP;
    }
    tmpdir = g_dir_make_tmp("godwit-mig-XXXXXX", NULL);
    g_test_add_data_func("/e2e/migration/ram-verify", GINT_TO_POINTER(0), test_ram);
    g_test_add_data_func("/e2e/migration/ram-verify/negative-drop-dirty", GINT_TO_POINTER(1),
                         test_ram);
    g_test_add_func("/e2e/migration/blk-pattern", test_blk);
    g_test_add_func("/e2e/migration/cancel", test_cancel);
    int ret = g_test_run();
    e2e_remove_dir(tmpdir);
    return ret;
}
