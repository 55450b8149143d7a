/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-guest: the test guest (guest/) on the Godwit machine under KVM. Each case
 * checks the guest's own verdict (console text) and its exit status; the negative
 * controls show that those checks bite. Without a usable /dev/kvm the whole
 * program says why on stderr and exits 77, which meson reports as SKIP.
 */
#include "util/osdep.h"
#include "hw/machine.h"
#include "e2e-util.h"

#define WAIT_MS 60000

typedef struct Run {
    Machine *m;
    E2eConsole console;
} Run;

static void run_init(Run *r, const char *append, uint64_t ram_mib)
{
    MachineConfig cfg = {
        .ram_size = ram_mib * MiB, .append = append, .console = e2e_console_write,
        .opaque = &r->console,
    };
    e2e_console_init(&r->console);
    r->m = machine_create(&cfg, &error_abort);
}

/* Create, load and start: the common case. */
static void run_boot(Run *r, const char *program, const char *append, uint64_t ram_mib)
{
    run_init(r, append, ram_mib);
    machine_load_program(r->m, program, &error_abort);
    machine_start(r->m, false, &error_abort);
}

/* Wait for the guest's exit port write and return its status. */
static int run_finish(Run *r)
{
    MachineExit e;

    g_assert_true(machine_wait(r->m, WAIT_MS, &e));
    return e2e_exit_status(&r->console, &e);
}

static void run_cleanup(Run *r)
{
    machine_destroy(r->m);
    e2e_console_destroy(&r->console);
}

static void assert_console_has(Run *r, const char *needle)
{
    e2e_console_assert_has(&r->console, needle);
}

static void wait_progress(Machine *m, uint32_t at_least)
{
    for (int i = 0; i < WAIT_MS && machine_progress(m) < at_least; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(machine_progress(m), >=, at_least);
}

static void test_exit_status(gconstpointer program)
{
    Run r;

    run_boot(&r, program, "exit code=42", 16);
    g_assert_cmpint(run_finish(&r), ==, 42);
    run_cleanup(&r);
    run_boot(&r, program, "exit code=0", 16);
    g_assert_cmpint(run_finish(&r), ==, 0);
    run_cleanup(&r);
}

static void test_console(void)
{
    Run r;

    run_boot(&r, GODWIT_GUEST_ELF, "hello x=1 y=two", 64);
    g_assert_cmpint(run_finish(&r), ==, 0);
    assert_console_has(&r, "hello: Godwit guest up, RAM 64 MiB");
    assert_console_has(&r, "args ' x=1 y=two'\n");
    run_cleanup(&r);

    run_boot(&r, GODWIT_GUEST_ELF, "no-such-workload", 16);
    g_assert_cmpint(run_finish(&r), ==, 2);
    assert_console_has(&r, "guest: unknown workload 'no-such-workload'");
    run_cleanup(&r);
}

static void test_bad_program(void)
{
    static const uint8_t junk_elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
    g_autofree uint8_t *huge = g_malloc0(4 * MiB);
    MachineConfig bad_ram = { .ram_size = 3 * MiB };
    Error *err = NULL;
    Run r;

    run_init(&r, "", 16);
    g_assert_false(machine_load_program_data(r.m, junk_elf, sizeof(junk_elf), &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Not an x86-64 little-endian ELF64 executable");
    error_free(err);
    err = NULL;
    g_assert_false(machine_load_program_data(r.m, huge, 4 * MiB, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "does not fit"));
    error_free(err);
    err = NULL;
    g_assert_false(machine_load_program(r.m, "/nonexistent/guest.elf", &err));
    error_free_or_abort(&err);
    run_cleanup(&r);

    g_assert_null(machine_create(&bad_ram, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Invalid RAM size"));
    error_free(err);
}

static void test_ram_verify(void)
{
    Run r;

    run_boot(&r, GODWIT_GUEST_ELF, "ram-verify mib=16 passes=50", 64);
    g_assert_cmpint(run_finish(&r), ==, 0);
    assert_console_has(&r, "ram-verify: start mib=16 passes=50\n");
    assert_console_has(&r, "ram-verify: pass 50/50 ok\n");
    assert_console_has(&r, "ram-verify: PASS mib=16 passes=50\n");
    g_assert_cmpuint(machine_progress(r.m), ==, 50);
    run_cleanup(&r);
}

/* Negative control: the guest corrupts one word itself; its check must catch it. */
static void test_ram_verify_corrupt(void)
{
    Run r;

    run_boot(&r, GODWIT_GUEST_BIN, "ram-verify mib=16 passes=50 corrupt=5", 64);
    g_assert_cmpint(run_finish(&r), ==, 1);
    assert_console_has(&r, "ram-verify: FAIL pass=6 ");
    g_autofree char *out = e2e_console_text(&r.console);
    g_assert_null(strstr(out, "PASS"));
    run_cleanup(&r);
}

/* Pause and resume many times mid-run: nothing runs while paused, nothing is lost. */
static void test_pause_resume(void)
{
    g_autofree MachineState *st = g_new0(MachineState, 1);
    const uint32_t passes = 600;
    uint32_t last = 0;
    unsigned paused = 0;
    Run r;

    Error *err = NULL;
    run_boot(&r, GODWIT_GUEST_ELF, "ram-verify mib=16 passes=600 report=100", 64);
    wait_progress(r.m, 1);
    g_assert_false(machine_save_state(r.m, st, &err));     /* refused while running */
    g_assert_cmpstr(error_get_pretty(err), ==, "The VM must be paused to save or restore its state");
    error_free(err);
    for (int i = 0; i < 25 && machine_progress(r.m) < passes - 50; i++) {
        g_usleep(5000);
        g_assert_true(machine_pause(r.m));
        g_assert_true(kvm_vm_is_paused(machine_vm(r.m)));
        KvmVcpu *cpu = kvm_vm_get_vcpu(machine_vm(r.m), 0);
        uint32_t p1 = machine_progress(r.m);
        uint64_t exits = kvm_vcpu_exit_count(cpu);
        machine_save_state(r.m, st, &error_abort);     /* legal while paused */
        g_usleep(10000);
        g_assert_cmpuint(machine_progress(r.m), ==, p1);
        g_assert_cmpuint(kvm_vcpu_exit_count(cpu), ==, exits);
        g_assert_cmpuint(p1, >=, last);
        last = p1;
        paused++;
        machine_resume(r.m);
    }
    g_assert_cmpint(run_finish(&r), ==, 0);
    assert_console_has(&r, "ram-verify: pass 600/600 ok\n");
    assert_console_has(&r, "ram-verify: PASS mib=16 passes=600\n");
    g_assert_cmpuint(machine_progress(r.m), ==, passes);
    g_test_message("paused and resumed %u times, last seen at pass %u", paused, last);
    run_cleanup(&r);
}

/* vCPU 1 sits in the reset state (waiting for SIPI) inside KVM_RUN; kicks reach it too. */
static void test_two_vcpus(void)
{
    g_autofree MachineState *st = g_new0(MachineState, 1);
    MachineConfig cfg = {
        .ram_size = 64 * MiB, .nr_cpus = 2, .append = "ram-verify mib=8 passes=200 report=200",
    };
    Run r;

    e2e_console_init(&r.console);
    cfg.console = e2e_console_write;
    cfg.opaque = &r.console;
    r.m = machine_create(&cfg, &error_abort);
    g_assert_cmpuint(kvm_vm_nr_vcpus(machine_vm(r.m)), ==, 2);
    machine_load_program(r.m, GODWIT_GUEST_ELF, &error_abort);
    machine_start(r.m, false, &error_abort);
    wait_progress(r.m, 2);
    for (int i = 0; i < 5; i++) {
        g_assert_true(machine_pause(r.m));
        machine_save_state(r.m, st, &error_abort);
        g_assert_cmpuint(st->kvm.nr_vcpus, ==, 2);
        g_assert_cmpuint(st->kvm.vcpus[1].mp_state.mp_state, ==, KVM_MP_STATE_UNINITIALIZED);
        machine_restore_state(r.m, st, &error_abort);    /* in place: must change nothing */
        machine_resume(r.m);
        g_usleep(2000);
    }
    g_assert_cmpint(run_finish(&r), ==, 0);
    assert_console_has(&r, "ram-verify: PASS mib=8 passes=200\n");
    run_cleanup(&r);
}

/* The host ends a run mid-way: every vCPU thread leaves, the status says so. */
static void test_host_stop(void)
{
    MachineExit e;
    Run r;

    run_boot(&r, GODWIT_GUEST_ELF, "ram-verify mib=16 passes=100000", 64);
    wait_progress(r.m, 2);
    machine_stop(r.m);
    g_assert_true(machine_wait(r.m, WAIT_MS, &e));
    g_assert_cmpint(e.reason, ==, KVM_GODWIT_STOP_REQUESTED);
    g_assert_cmpint(e.status, ==, -1);
    g_assert_false(machine_pause(r.m));
    run_cleanup(&r);
}

typedef struct MigrateParams {
    const char *append;
    bool resend_dirty;           /* false: negative control, dirty pages are not re-sent */
    unsigned max_rounds;
    uint64_t converge_pages;     /* stop pre-copy once a round has at most this many */
    int expect_status;
    const char *expect_text;
} MigrateParams;

static uint64_t copy_dirty(const KvmMemSlot *slot, uint8_t *dst, const uint64_t *bitmap,
                           bool copy)
{
    size_t page = qemu_real_host_page_size();
    uint64_t n = 0;

    for (size_t w = 0; w < kvm_dirty_bitmap_words(slot); w++) {
        for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1) {
            uint64_t off = (w * 64 + __builtin_ctzll(bits)) * page;
            if (copy) {
                memcpy(dst + off, (uint8_t *)slot->host + off, page);
            }
            n++;
        }
    }
    return n;
}

/*
 * In-process state transfer: A runs the workload; RAM goes to a fresh B in a bulk
 * pass and dirty-log rounds while A runs; then A pauses, the last dirty pages and
 * the whole machine state follow, and B resumes where A stopped.
 */
static void test_migrate(gconstpointer opaque)
{
    const MigrateParams *p = opaque;
    g_autofree MachineState *st = g_new0(MachineState, 1);
    GString *rounds = g_string_new("");
    Run a, b;

    run_boot(&a, GODWIT_GUEST_ELF, p->append, 64);
    run_init(&b, "", 64);
    wait_progress(a.m, 3);

    KvmVm *vm = machine_vm(a.m);
    const KvmMemSlot *slot = kvm_vm_get_slot(vm, 0);
    uint8_t *dst = machine_ram(b.m, NULL);
    g_autofree uint64_t *bitmap = g_new0(uint64_t, kvm_dirty_bitmap_words(slot));
    gint64 t0 = g_get_monotonic_time();

    kvm_vm_set_dirty_log(vm, true, &error_abort);
    memcpy(dst, slot->host, slot->size);                       /* bulk pass */
    uint32_t bulk_at = machine_progress(a.m);
    unsigned r;
    for (r = 0; r < p->max_rounds; r++) {
        g_usleep(20000);
        kvm_vm_get_dirty_log(vm, 0, bitmap, &error_abort);
        uint64_t n = copy_dirty(slot, dst, bitmap, p->resend_dirty);
        g_string_append_printf(rounds, " %" PRIu64, n);
        if (n <= p->converge_pages) {
            r++;
            break;
        }
    }
    if (!p->resend_dirty) {
        wait_progress(a.m, bulk_at + 2);    /* make sure pages went stale after the bulk pass */
    }
    gint64 t_stop = g_get_monotonic_time();
    g_assert_true(machine_pause(a.m));
    uint32_t switch_at = machine_progress(a.m);
    kvm_vm_get_dirty_log(vm, 0, bitmap, &error_abort);
    uint64_t last = copy_dirty(slot, dst, bitmap, p->resend_dirty);
    machine_save_state(a.m, st, &error_abort);
    machine_restore_state(b.m, st, &error_abort);
    gint64 t_cmp = g_get_monotonic_time();
    if (p->resend_dirty) {                  /* B's RAM is now exactly A's */
        g_assert_cmpint(memcmp(dst, slot->host, slot->size), ==, 0);
    }
    t_stop += g_get_monotonic_time() - t_cmp;   /* the check is not part of the downtime */
    machine_start(b.m, false, &error_abort);
    gint64 t_end = g_get_monotonic_time();
    g_test_message("%s: dirty pages per 20 ms round:%s; %" PRIu64 " in the final round; "
                   "%u rounds in %.1f ms, downtime %.2f ms; switched at pass %u%s",
                   p->append, rounds->str, last, r, (t_end - t0) / 1000.0,
                   (t_end - t_stop) / 1000.0, switch_at,
                   p->resend_dirty ? "" : " (dirty pages NOT re-sent)");
    g_string_free(rounds, true);

    run_cleanup(&a);                                           /* the source is gone */
    g_assert_cmpint(run_finish(&b), ==, p->expect_status);
    assert_console_has(&b, p->expect_text);
    g_autofree char *out = e2e_console_text(&b.console);
    g_test_message("destination console:\n%s", out);
    if (p->resend_dirty) {
        g_assert_cmpuint(machine_progress(b.m), >, switch_at);
    }
    run_cleanup(&b);
}

static const MigrateParams migrate_verify = {
    .append = "ram-verify mib=16 passes=600 report=100", .resend_dirty = true, .max_rounds = 5,
    .expect_status = 0, .expect_text = "ram-verify: PASS mib=16 passes=600\n",
};
static const MigrateParams migrate_stale = {
    .append = "ram-verify mib=16 passes=600 report=100", .resend_dirty = false, .max_rounds = 5,
    .expect_status = 1, .expect_text = "(stale: generation",
};
static const MigrateParams migrate_dirty_rate = {
    .append = "ram-dirty mib=16 rate=20000 ms=1500", .resend_dirty = true, .max_rounds = 30,
    .converge_pages = 1000, .expect_status = 0, .expect_text = "ram-dirty: PASS mib=16",
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    error_set_progname(argv[0]);
    if (!e2e_kvm_usable("e2e guest tests")) {
        return E2E_SKIP;
    }
    g_test_add_data_func("/e2e/boot/exit-status/elf", GODWIT_GUEST_ELF, test_exit_status);
    g_test_add_data_func("/e2e/boot/exit-status/flat", GODWIT_GUEST_BIN, test_exit_status);
    g_test_add_func("/e2e/boot/console", test_console);
    g_test_add_func("/e2e/boot/bad-program", test_bad_program);
    g_test_add_func("/e2e/ram-verify/pass", test_ram_verify);
    g_test_add_func("/e2e/ram-verify/corrupt-fails", test_ram_verify_corrupt);
    g_test_add_func("/e2e/run/pause-resume", test_pause_resume);
    g_test_add_func("/e2e/run/host-stop", test_host_stop);
    g_test_add_func("/e2e/run/two-vcpus", test_two_vcpus);
    g_test_add_data_func("/e2e/migrate/ram-verify", &migrate_verify, test_migrate);
    g_test_add_data_func("/e2e/migrate/stale-without-resend", &migrate_stale, test_migrate);
    g_test_add_data_func("/e2e/migrate/ram-dirty-converges", &migrate_dirty_rate, test_migrate);
    return g_test_run();
}
