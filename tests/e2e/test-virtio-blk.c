/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-virtio-blk: the test guest's block workloads on a virtio-blk device
 * (virtio-mmio, ioeventfd kicks handled in this thread's main loop) backed by a
 * BlockBackend on an image file. Checks the guest's verdicts, the image contents
 * from the host (our own checker and Debian's qemu-img when installed), pause and
 * resume in the middle of writes, the werror=stop policy with an error injected
 * by blkdebug, and negative controls. Exits 77 (skip) without a usable /dev/kvm.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "hw/machine.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-mmio.h"
#include "qobject/qdict.h"
#include "e2e-util.h"

#include <fcntl.h>

#define WAIT_MS   120000
#define SERIAL    "GODWIT-VBLK-0001"

typedef struct VRun {
    Machine *m;
    BlockBackend *blk;
    VirtIOBlock *dev;
    VirtIOMMIOProxy *proxy;
    QEMUTimer *tick;
    E2eConsole console;
    unsigned stops;              /* werror=stop hook calls */
} VRun;

static char *tmpdir;

/* The stop policy's hook: what `-drive werror=stop` does to the VM. */
static void vrun_stop(void *opaque, VirtIOBlock *s)
{
    VRun *r = opaque;

    r->stops++;
    machine_pause(r->m);
}

static void vrun_tick(void *opaque)
{
    /* Only wakes aio_poll so the loop can look at the VM. */
}

static BlockBackend *open_image(const char *filename, const char *format, Error **errp)
{
    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", format);
    return blk_new_open(filename, NULL, opts, BDRV_O_RDWR, errp);
}

static void vrun_start(VRun *r, const char *filename, const char *format, const char *append,
                       BlockdevOnError werror)
{
    MachineConfig cfg = {
        .ram_size = 128 * MiB, .append = append, .console = e2e_console_write,
        .opaque = &r->console,
    };
    memset(r, 0, sizeof(*r));
    e2e_console_init(&r->console);
    r->m = machine_create(&cfg, &error_abort);
    r->blk = open_image(filename, format, &error_abort);
    blk_set_on_error(r->blk, BLOCKDEV_ON_ERROR_REPORT, werror);
    VirtIOBlkConf conf = {
        .blk = r->blk, .serial = SERIAL, .stop = vrun_stop, .opaque = r,
    };
    r->dev = virtio_blk_create(&conf, &error_abort);
    r->proxy = e2e_virtio_mmio_attach(r->m, r->dev, &error_abort);
    r->tick = aio_timer_new(qemu_get_aio_context(), QEMU_CLOCK_REALTIME, vrun_tick, r);
    machine_load_program(r->m, GODWIT_GUEST_ELF, &error_abort);
    machine_start(r->m, false, &error_abort);
}

/* Run the main loop for up to ms milliseconds or until the guest exits; true if it did. */
static bool vrun_loop(VRun *r, int64_t ms, MachineExit *e)
{
    int64_t end = g_get_monotonic_time() + ms * 1000;

    while (!machine_wait(r->m, 0, e)) {
        if (g_get_monotonic_time() >= end) {
            return false;
        }
        timer_mod(r->tick, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 5 * SCALE_MS);
        aio_poll(qemu_get_aio_context(), true);
    }
    return true;
}

static int vrun_finish(VRun *r)
{
    MachineExit e;

    g_assert_true(vrun_loop(r, WAIT_MS, &e));
    virtio_blk_drain(r->dev);
    return e2e_exit_status(&r->console, &e);
}

static void vrun_cleanup(VRun *r)
{
    timer_free(r->tick);
    /*
     * The board's order: park the vCPUs, then take the device down while the VM
     * still exists (its ioeventfds are deassigned on the VM fd), then the VM.
     */
    machine_pause(r->m);
    virtio_blk_drain(r->dev);
    virtio_mmio_destroy(r->proxy);
    virtio_blk_destroy(r->dev);
    machine_destroy(r->m);
    blk_unref(r->blk);
    e2e_console_destroy(&r->console);
}

static void assert_console_has(VRun *r, const char *needle)
{
    e2e_console_assert_has(&r->console, needle);
}

static char *make_image(const char *name, uint64_t size)
{
    return e2e_make_image(tmpdir, name, size);
}

static uint64_t pattern_word(uint64_t sector, uint64_t seed)
{
    return (sector << 32) | (seed & 0xffffffffULL);
}

/* Host-side check of the guest's pattern in a raw image; -1 or the first bad sector. */
static int64_t check_pattern(const char *path, uint64_t off_mib, uint64_t mib, uint64_t seed)
{
    g_autofree uint64_t *buf = g_malloc(MiB);
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    for (uint64_t m = off_mib; m < off_mib + mib; m++) {
        g_assert_cmpint(pread(fd, buf, MiB, m * MiB), ==, MiB);
        for (uint64_t w = 0; w < MiB / 8; w++) {
            uint64_t sector = m * 2048 + w / 64;
            if (buf[w] != pattern_word(sector, seed)) {
                close(fd);
                return sector;
            }
        }
    }
    close(fd);
    return -1;
}

/* A raw file holding the pattern, made on the host, for qemu-img compare. */
static char *make_reference(uint64_t mib, uint64_t seed)
{
    g_autofree uint64_t *buf = g_malloc(MiB);
    char *path = make_image("reference.raw", mib * MiB);
    int fd = open(path, O_WRONLY);
    for (uint64_t m = 0; m < mib; m++) {
        for (uint64_t w = 0; w < MiB / 8; w++) {
            buf[w] = pattern_word(m * 2048 + w / 64, seed);
        }
        g_assert_cmpint(pwrite(fd, buf, MiB, m * MiB), ==, MiB);
    }
    close(fd);
    return path;
}

/* Debian's qemu-img, when installed, agrees that the image holds the pattern. */
static void qemu_img_compare(const char *ref, const char *img, const char *fmt)
{
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
    if (!qemu_img) {
        g_test_message("qemu-img not installed: interop check skipped");
        return;
    }
    g_autofree char *cmd = g_strdup_printf("%s compare -f raw -F %s '%s' '%s'", qemu_img, fmt,
                                           ref, img);
    g_autofree char *out = NULL;
    int status;
    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    g_test_message("%s: %s", cmd, out);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static void test_selftest(void)
{
    g_autofree char *img = make_image("selftest.raw", 64 * MiB);
    VRun r;

    vrun_start(&r, img, "raw", "blk-selftest", BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(vrun_finish(&r), ==, 0);
    assert_console_has(&r, "blk-selftest: serial '" SERIAL "'");
    assert_console_has(&r, "blk-selftest: PASS");
    VirtIOBlkStats st;
    virtio_blk_get_stats(r.dev, &st);
    g_assert_cmpuint(st.ioerr, ==, 4);
    g_assert_cmpuint(st.unsupp, ==, 2);
    vrun_cleanup(&r);
}

/* Write and verify in the guest, then check the image from the host; then verify again. */
static void test_pattern(void)
{
    g_autofree char *img = make_image("pattern.raw", 64 * MiB);
    g_autofree char *ref = make_reference(32, 77);
    VRun r;

    vrun_start(&r, img, "raw", "blk-pattern mib=32 seed=77 qd=8 kib=128", BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(vrun_finish(&r), ==, 0);
    assert_console_has(&r, "blk-pattern: PASS mib=32 seed=77");
    VirtIOBlkStats st;
    virtio_blk_get_stats(r.dev, &st);
    g_test_message("requests %" PRIu64 ", kicks handled %" PRIu64 ", most in flight %u",
                   st.requests, st.kicks, st.max_in_flight);
    g_assert_cmpuint(st.max_in_flight, >, 1);
    g_assert_cmpuint(st.ioerr, ==, 0);
    vrun_cleanup(&r);

    g_assert_cmpint(check_pattern(img, 0, 32, 77), ==, -1);
    qemu_img_compare(ref, img, "raw");

    /* A fresh VM reads what the first one wrote (no EVENT_IDX this time). */
    vrun_start(&r, img, "raw", "blk-verify mib=32 seed=77 qd=4 kib=64 evt=0", BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(vrun_finish(&r), ==, 0);
    assert_console_has(&r, "blk-verify: PASS mib=32 seed=77");
    vrun_cleanup(&r);
}

/* Negative control: verifying with the wrong seed must fail, naming the sector. */
static void test_wrong_seed_fails(void)
{
    g_autofree char *img = make_image("seed.raw", 16 * MiB);
    VRun r;

    vrun_start(&r, img, "raw", "blk-pattern mib=4 seed=5", BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(vrun_finish(&r), ==, 0);
    vrun_cleanup(&r);
    g_assert_cmpint(check_pattern(img, 0, 4, 6), ==, 0);    /* the host checker bites too */

    vrun_start(&r, img, "raw", "blk-verify mib=4 seed=6 qd=1", BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(vrun_finish(&r), ==, 1);
    assert_console_has(&r, "blk-verify: FAIL sector 0 word 0: expected 0x6 found 0x5");
    g_autofree char *out = e2e_console_text(&r.console);
    g_assert_null(strstr(out, "PASS"));
    vrun_cleanup(&r);
}

/* Pause and resume many times while the guest writes: nothing is lost. */
static void test_pause_resume(void)
{
    g_autofree char *img = make_image("pause.raw", 64 * MiB);
    MachineExit e;
    unsigned pauses = 0;
    VRun r;

    vrun_start(&r, img, "raw", "blk-pattern mib=48 seed=9 qd=16 kib=64", BLOCKDEV_ON_ERROR_REPORT);
    bool done = false;
    while (!done && pauses < 40) {
        done = vrun_loop(&r, 3, &e);
        if (done || !machine_pause(r.m)) {
            break;
        }
        pauses++;
        uint32_t p = machine_progress(r.m);
        virtio_blk_drain(r.dev);            /* what a migration or snapshot would do */
        g_assert_cmpuint(virtio_blk_in_flight(r.dev), ==, 0);
        g_usleep(2000);
        g_assert_cmpuint(machine_progress(r.m), ==, p);
        machine_resume(r.m);
    }
    g_assert_cmpint(vrun_finish(&r), ==, 0);
    assert_console_has(&r, "blk-pattern: PASS mib=48 seed=9");
    g_test_message("paused and resumed %u times", pauses);
    g_assert_cmpuint(pauses, >, 0);
    vrun_cleanup(&r);
    g_assert_cmpint(check_pattern(img, 0, 48, 9), ==, -1);
}

/*
 * werror=stop: blkdebug fails one write with EIO; the VM pauses with the request
 * parked and io-status failed; "cont" (reset io-status, retry, resume) finishes.
 */
static void test_werror_stop(void)
{
    g_autofree char *img = make_image("werror.raw", 32 * MiB);
    g_autofree char *conf = g_build_filename(tmpdir, "blkdebug.conf", NULL);
    g_autofree char *fname = g_strdup_printf("blkdebug:%s:%s", conf, img);
    MachineExit e;
    VRun r;

    g_assert_true(g_file_set_contents(conf, "[inject-error]\nevent = \"write_aio\"\n"
                                      "errno = \"5\"\nonce = \"on\"\n", -1, NULL));
    vrun_start(&r, fname, "raw", "blk-pattern mib=16 seed=3 qd=8 kib=64", BLOCKDEV_ON_ERROR_STOP);
    int64_t end = g_get_monotonic_time() + WAIT_MS * 1000;
    while (!r.stops && g_get_monotonic_time() < end) {
        g_assert_false(vrun_loop(&r, 10, &e));
    }
    g_assert_cmpuint(r.stops, ==, 1);
    g_assert_true(kvm_vm_is_paused(machine_vm(r.m)));
    g_assert_cmpint(blk_iostatus(r.blk), ==, BLOCK_DEVICE_IO_STATUS_FAILED);
    virtio_blk_drain(r.dev);
    g_assert_cmpuint(virtio_blk_failed(r.dev), ==, 1);
    g_assert_cmpuint(virtio_blk_in_flight(r.dev), ==, 1);
    uint32_t p = machine_progress(r.m);
    g_assert_false(vrun_loop(&r, 50, &e));          /* stays stopped */
    g_assert_cmpuint(machine_progress(r.m), ==, p);

    /* cont */
    blk_iostatus_reset(r.blk);
    virtio_blk_retry_failed(r.dev);
    machine_resume(r.m);
    g_assert_cmpint(vrun_finish(&r), ==, 0);
    assert_console_has(&r, "blk-pattern: PASS mib=16 seed=3");
    VirtIOBlkStats st;
    virtio_blk_get_stats(r.dev, &st);
    g_assert_cmpuint(st.retried, ==, 1);
    g_assert_cmpuint(st.ioerr, ==, 0);
    g_assert_cmpuint(r.stops, ==, 1);
    vrun_cleanup(&r);
    g_assert_cmpint(check_pattern(img, 0, 16, 3), ==, -1);
}

/* werror=report: the same error reaches the guest as IOERR and it says FAIL. */
static void test_werror_report(void)
{
    g_autofree char *img = make_image("report.raw", 32 * MiB);
    g_autofree char *conf = g_build_filename(tmpdir, "blkdebug2.conf", NULL);
    g_autofree char *fname = g_strdup_printf("blkdebug:%s:%s", conf, img);
    VRun r;

    g_assert_true(g_file_set_contents(conf, "[inject-error]\nevent = \"write_aio\"\n"
                                      "errno = \"5\"\nonce = \"on\"\n", -1, NULL));
    vrun_start(&r, fname, "raw", "blk-pattern mib=8 seed=3 qd=1 kib=64", BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(vrun_finish(&r), ==, 1);
    assert_console_has(&r, "blk-pattern: FAIL request at sector 0 returned status 1");
    g_assert_cmpuint(r.stops, ==, 0);
    vrun_cleanup(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    error_set_progname(argv[0]);
    if (!e2e_kvm_usable("e2e virtio-blk tests")) {
        return E2E_SKIP;
    }
    tmpdir = g_dir_make_tmp("godwit-vblk-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/e2e/virtio-blk/selftest", test_selftest);
    g_test_add_func("/e2e/virtio-blk/pattern/raw", test_pattern);
    g_test_add_func("/e2e/virtio-blk/pattern/wrong-seed-fails", test_wrong_seed_fails);
    g_test_add_func("/e2e/virtio-blk/pause-resume", test_pause_resume);
    g_test_add_func("/e2e/virtio-blk/werror/stop-then-cont", test_werror_stop);
    g_test_add_func("/e2e/virtio-blk/werror/report", test_werror_report);
    int ret = g_test_run();
    e2e_remove_dir(tmpdir);
    return ret;
}
