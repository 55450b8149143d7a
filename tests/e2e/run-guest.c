/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * run-guest: boot a program on the Godwit machine and exit with its status, for
 * manual runs and benchmarks until the `godwit` command line exists.
 *   run-guest [-m MIB] [-d IMAGE [-f FORMAT] [-n] [-s]] PROGRAM [PARAMETERS...]
 *     -d IMAGE   a virtio-blk disk at the first virtio-mmio slot
 *     -f FORMAT  its format driver (default raw)
 *     -n         cache=none (O_DIRECT) with aio=native
 *     -s         print device statistics at the end
 * Exit status: the guest's, or 125 if the VM could not run, 77 without KVM.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "hw/machine.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-mmio.h"
#include "qobject/qdict.h"
#include "e2e-util.h"

typedef struct Disk {
    BlockBackend *blk;
    VirtIOBlock *dev;
    VirtIOMMIOProxy *proxy;
} Disk;

static void tick(void *opaque)
{
}

static bool disk_attach(Machine *m, Disk *d, const char *image, const char *format,
                        bool nocache, Error **errp)
{
    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", format);
    int flags = BDRV_O_RDWR | (nocache ? BDRV_O_NOCACHE | BDRV_O_NATIVE_AIO : 0);
    d->blk = blk_new_open(image, NULL, opts, flags, errp);
    if (!d->blk) {
        return false;
    }
    VirtIOBlkConf conf = { .blk = d->blk, .serial = "run-guest" };
    d->dev = virtio_blk_create(&conf, errp);
    if (!d->dev) {
        return false;
    }
    d->proxy = e2e_virtio_mmio_attach(m, d->dev, errp);
    return d->proxy != NULL;
}

static void disk_stats(Disk *d)
{
    VirtIOBlkStats st;
    uint64_t kicks_fd, kicks_exit;

    virtio_blk_get_stats(d->dev, &st);
    virtio_mmio_get_stats(d->proxy, &kicks_fd, &kicks_exit);
    fprintf(stderr, "virtio-blk: %" PRIu64 " requests, %" PRIu64 " kicks via ioeventfd, %"
            PRIu64 " via MMIO exits, at most %u in flight, irqfd %s\n", st.requests, kicks_fd,
            kicks_exit, st.max_in_flight, virtio_mmio_has_irqfd(d->proxy) ? "on" : "off");
}

int main(int argc, char **argv)
{
    MachineConfig cfg = { .ram_size = 64 * MiB };
    const char *image = NULL, *format = "raw";
    bool nocache = false, stats = false;
    Error *err = NULL;
    Disk disk = { 0 };
    int i = 1, opt;

    error_set_progname(argv[0]);
    while ((opt = getopt(argc, argv, "+m:d:f:ns")) != -1) {
        switch (opt) {
        case 'm': cfg.ram_size = (uint64_t)atoll(optarg) * MiB; break;
        case 'd': image = optarg; break;
        case 'f': format = optarg; break;
        case 'n': nocache = true; break;
        case 's': stats = true; break;
        default: return 125;
        }
    }
    i = optind;
    if (i >= argc) {
        fprintf(stderr, "usage: %s [-m MIB] [-d IMAGE [-f FORMAT] [-n] [-s]] PROGRAM "
                "[PARAMETERS...]\n", argv[0]);
        return 125;
    }
    g_autofree char *append = g_strjoinv(" ", argv + i + 1);
    cfg.append = append;
    if (!kvm_available(&err)) {
        error_reportf_err(err, "SKIP: KVM is not usable here: ");
        return 77;
    }
    Machine *m = machine_create(&cfg, &err);
    if (!m || (image && !disk_attach(m, &disk, image, format, nocache, &err)) ||
        !machine_load_program(m, argv[i], &err) || !machine_start(m, false, &err)) {
        error_report_err(err);
        machine_destroy(m);
        return 125;
    }
    AioContext *ctx = qemu_get_aio_context();
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, tick, NULL);
    MachineExit e;
    while (!machine_wait(m, 0, &e)) {
        timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 10 * SCALE_MS);
        aio_poll(ctx, true);
    }
    timer_free(t);
    int ret = e.status;
    if (e.reason != KVM_GODWIT_STOP_REQUESTED) {
        error_report("guest stopped (%s): %s", kvm_stop_reason_name(e.reason), e.message);
        ret = 125;
    }
    if (disk.dev && stats) {
        disk_stats(&disk);
    }
    machine_destroy(m);
    virtio_mmio_destroy(disk.proxy);
    virtio_blk_destroy(disk.dev);
    if (disk.blk) {
        blk_unref(disk.blk);
    }
    return ret;
}
