/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * board-devices.c: the board's virtio-blk devices (contract in system/board.h).
 *
 * -device virtio-blk-device,drive=ID[,id=X][,serial=S][,werror=..][,rerror=..]
 *         [,logical_block_size=N][,physical_block_size=N][,queue-size=N]
 *         [,discard=on|off][,write-zeroes=on|off][,num-queues=1][,bootindex=N]
 * ("virtio-blk" is an alias) and -drive ...,if=virtio take virtio-mmio slots in
 * the order QEMU creates them: every -device, then every if=virtio drive. Slot
 * n has its registers at GODWIT_VIRTIO_MMIO_BASE + n * STRIDE (hw/godwit-ports.h).
 * query-block's "qdev" is /machine/peripheral/<id>/virtio-backend, or
 * /machine/peripheral-anon/device[N]/virtio-backend for devices without id=.
 *
 * werror/rerror=stop: virtio-blk parks the failed request, blk_error_action
 * records io-status "failed" and emits BLOCK_IO_ERROR, then the device's stop
 * hook stops the VM in "io-error" (STOP). cont resets the io-status (qmp_cont)
 * and the running-state handler submits the parked requests again.
 */
#include "util/osdep.h"
#include "util/cutils.h"
#include "system/board.h"
#include "sysemu/blockdev.h"
#include "sysemu/machine.h"
#include "sysemu/runstate.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-mmio.h"
#include "migration/machine-mig.h"
#include "qobject/qdict.h"

struct BoardDevice {
    char *id;                    /* id=, or NULL */
    char *qdev_path;
    char *serial;
    BlockBackend *blk;
    VirtIOBlock *vblk;
    VirtIOMMIOProxy *proxy;      /* NULL without a KVM machine */
};

static const char *const vblk_props[] = {
    "driver", "id", "drive", "serial", "werror", "rerror", "logical_block_size",
    "physical_block_size", "queue-size", "discard", "write-zeroes", "num-queues",
    "bootindex", NULL,
};

/* werror=stop: the device parked a request; stop the VM (main loop, from a BH). */
static void board_device_stop(void *opaque, VirtIOBlock *s)
{
    vm_stop(RUN_STATE_IO_ERROR);
}

static bool board_prop_bool(QDict *opts, const char *key, bool def, Error **errp)
{
    const char *v = qdict_get_try_str(opts, key);

    if (!v) {
        return def;
    }
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        return false;
    }
    error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
    return def;
}

static bool board_prop_u32(QDict *opts, const char *key, uint32_t *out, Error **errp)
{
    const char *v = qdict_get_try_str(opts, key);
    uint64_t n = 0;

    if (v && (qemu_strtosz(v, NULL, &n) < 0 || n > UINT32_MAX)) {
        error_setg(errp, "Parameter '%s' expects a size", key);
        return false;
    }
    *out = n;
    return true;
}

static bool board_prop_on_error(QDict *opts, const char *key, BlockdevOnError *out,
                                Error **errp)
{
    static const char *const names[] = { "report", "ignore", "enospc", "stop", "auto" };
    const char *v = qdict_get_try_str(opts, key);

    if (!v) {
        return true;
    }
    for (int i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(v, names[i]) && (i != 2 || strcmp(key, "rerror"))) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", key, v);
    return false;
}

/* The device model's properties into conf; conf->blk is already set. */
static bool board_parse_vblk_props(QDict *opts, VirtIOBlkConf *conf, Error **errp)
{
    const char *drv = qdict_get_try_str(opts, "driver");
    const QDictEntry *e;
    uint32_t queue_size = 0, nq = 1;
    BlockdevOnError rerr = blk_get_on_error(conf->blk, true);
    BlockdevOnError werr = blk_get_on_error(conf->blk, false);
    Error *err = NULL;

    for (e = qdict_first(opts); e; e = qdict_next(opts, e)) {
        if (!g_strv_contains(vblk_props, qdict_entry_key(e))) {
            error_setg(errp, "Property '%s.%s' not found", drv, qdict_entry_key(e));
            return false;
        }
    }
    if (!board_prop_u32(opts, "logical_block_size", &conf->logical_block_size, errp) ||
        !board_prop_u32(opts, "physical_block_size", &conf->physical_block_size, errp) ||
        !board_prop_u32(opts, "queue-size", &queue_size, errp) ||
        (qdict_haskey(opts, "num-queues") && !board_prop_u32(opts, "num-queues", &nq, errp)) ||
        !board_prop_on_error(opts, "rerror", &rerr, errp) ||
        !board_prop_on_error(opts, "werror", &werr, errp)) {
        return false;
    }
    if (nq != 1) {
        error_setg(errp, "num-queues property must be 1 on the godwit machine");
        return false;
    }
    conf->queue_size = queue_size;
    conf->no_discard = !board_prop_bool(opts, "discard", true, &err);
    conf->no_write_zeroes = !board_prop_bool(opts, "write-zeroes", true, &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    blk_set_on_error(conf->blk, rerr, werr);
    return true;
}

static bool board_id_in_use(Board *b, const char *id)
{
    for (guint i = 0; i < b->devices->len; i++) {
        BoardDevice *d = g_ptr_array_index(b->devices, i);
        if (d->id && !strcmp(d->id, id)) {
            return true;
        }
    }
    return false;
}

/* Create one virtio-blk device on blk, in the next virtio-mmio slot. */
static bool board_add_vblk(Board *b, BlockBackend *blk, QDict *opts, const char *serial,
                           Error **errp)
{
    const char *id = opts ? qdict_get_try_str(opts, "id") : NULL;
    unsigned slot = b->devices->len;
    VirtIOBlkConf conf = { .blk = blk, .stop = board_device_stop, .opaque = b };
    BoardDevice *d;

    if (id && board_id_in_use(b, id)) {
        error_setg(errp, "Duplicate ID '%s' for device", id);
        return false;
    }
    if (slot >= GODWIT_VIRTIO_MMIO_MAX) {
        error_setg(errp, "No 'virtio-bus' bus found for device 'virtio-blk-device'");
        return false;
    }
    if (opts && !board_parse_vblk_props(opts, &conf, errp)) {
        return false;
    }
    d = g_new0(BoardDevice, 1);
    d->id = g_strdup(id);
    d->serial = g_strdup(opts && qdict_get_try_str(opts, "serial")
                         ? qdict_get_try_str(opts, "serial") : serial);
    conf.serial = d->serial;
    d->blk = blk;
    d->qdev_path = id ? g_strdup_printf("/machine/peripheral/%s/virtio-backend", id)
                      : g_strdup_printf("/machine/peripheral-anon/device[%u]/virtio-backend",
                                        b->anon_devices++);
    g_ptr_array_add(b->devices, d);
    d->vblk = virtio_blk_create(&conf, errp);
    if (!d->vblk) {
        return false;
    }
    if (b->m) {
        uint64_t size;
        void *ram = machine_ram(b->m, &size);
        d->proxy = virtio_mmio_create(machine_vm(b->m),
                                      GODWIT_VIRTIO_MMIO_BASE + slot * GODWIT_VIRTIO_MMIO_STRIDE,
                                      GODWIT_VIRTIO_MMIO_GSI + slot, virtio_blk_vdev(d->vblk),
                                      (VirtioGuestMem) { .base = ram, .size = size },
                                      qemu_get_aio_context(), errp);
        if (!d->proxy) {
            return false;
        }
    }
    blk_set_dev_path(blk, d->qdev_path);
    return true;
}

static bool board_add_device(Board *b, QDict *opts, Error **errp)
{
    const char *driver = qdict_get_try_str(opts, "driver");
    const char *model = driver ? device_model_find(driver) : NULL;
    const char *drive;
    BlockBackend *blk;

    if (!model) {
        error_setg(errp, "'%s' is not a valid device model name", driver ? driver : "");
        return false;
    }
    drive = qdict_get_try_str(opts, "drive");
    if (!drive) {
        error_setg(errp, "drive property not set");
        return false;
    }
    blk = blk_by_name(drive);
    if (!blk) {
        error_setg(errp, "Property '%s.drive' can't find value '%s'", model, drive);
        return false;
    }
    DriveInfo *di = drive_get_by_blk(blk);
    if (di && di->type != IF_NONE) {
        error_setg(errp, "Drive '%s' is already in use because it has been automatically "
                   "connected to another device (did you need 'if=none' in the drive "
                   "options?)", drive);
        return false;
    }
    if (blk_get_dev_path(blk)) {
        error_setg(errp, "Property '%s.drive' can't take value '%s', it's in use", model,
                   drive);
        return false;
    }
    return board_add_vblk(b, blk, opts, di ? di->serial : NULL, errp);
}

bool board_devices_init(Board *b, Error **errp)
{
    for (guint i = 0; i < b->cfg->device_opts->len; i++) {
        if (!board_add_device(b, g_ptr_array_index(b->cfg->device_opts, i), errp)) {
            return false;
        }
    }
    for (DriveInfo *di = drive_next(NULL); di; di = drive_next(di)) {
        if (di->type != IF_VIRTIO) {
            continue;
        }
        if (!board_add_vblk(b, di->blk, NULL, di->serial, errp)) {
            return false;
        }
    }
    return true;
}

void board_devices_retry(Board *b)
{
    for (guint i = 0; i < b->devices->len; i++) {
        BoardDevice *d = g_ptr_array_index(b->devices, i);
        virtio_blk_retry_failed(d->vblk);
    }
}

void board_devices_drain(Board *b)
{
    for (guint i = 0; i < b->devices->len; i++) {
        BoardDevice *d = g_ptr_array_index(b->devices, i);
        virtio_blk_drain(d->vblk);
    }
}

void board_devices_mig_register(Board *b, MigRegistry *reg)
{
    b->virtio_migs = g_ptr_array_new();
    for (guint i = 0; i < b->devices->len; i++) {
        BoardDevice *d = g_ptr_array_index(b->devices, i);
        g_ptr_array_add(b->virtio_migs,
                        virtio_mig_register(reg, i, virtio_blk_vdev(d->vblk), d->vblk,
                                            b->ram_mig));
    }
}

void board_devices_reset(Board *b)
{
    for (guint i = 0; i < b->devices->len; i++) {
        BoardDevice *d = g_ptr_array_index(b->devices, i);
        VirtIODevice *vdev = virtio_blk_vdev(d->vblk);

        virtio_blk_drain(d->vblk);
        pthread_mutex_lock(&vdev->lock);
        virtio_set_status(vdev, 0);
        pthread_mutex_unlock(&vdev->lock);
    }
}

void board_devices_cleanup(Board *b)
{
    for (guint i = 0; i < b->devices->len; i++) {
        BoardDevice *d = g_ptr_array_index(b->devices, i);

        virtio_blk_drain(d->vblk);
        virtio_mmio_destroy(d->proxy);
        virtio_blk_destroy(d->vblk);
        blk_set_dev_path(d->blk, NULL);
        g_free(d->id);
        g_free(d->qdev_path);
        g_free(d->serial);
        g_free(d);
    }
    g_ptr_array_set_size(b->devices, 0);
}
