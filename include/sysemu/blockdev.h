/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blockdev.h: the drives of the command line (-drive), for the machine and its
 * device models. block/monitor/blockdev.c opens every -drive at startup into a
 * named BlockBackend ("device" in QMP) and records its interface here; a board
 * or device model then looks the drive up and attaches its device:
 *
 *   for (DriveInfo *d = drive_next(NULL); d; d = drive_next(d))
 *       if (d->type == IF_VIRTIO) create virtio-blk on d->blk and call
 *       blk_set_dev_path(d->blk, "/machine/peripheral-anon/device[N]/virtio-backend");
 *
 * if=none drives are only for -device ...,drive=ID (blk_by_name). Names follow
 * QEMU: id= if given, else "virtio<index>", "none<index>", "ide<bus>-hd<unit>".
 *
 * Threads: main loop only.
 */
#ifndef GODWIT_SYSEMU_BLOCKDEV_H
#define GODWIT_SYSEMU_BLOCKDEV_H

#include "block/block-backend.h"

typedef enum BlockInterfaceType {
    IF_NONE, IF_IDE, IF_SCSI, IF_FLOPPY, IF_PFLASH, IF_MTD, IF_SD, IF_VIRTIO, IF_XEN,
    IF_COUNT,
} BlockInterfaceType;

typedef struct DriveInfo {
    BlockBackend *blk;          /* named backend; its root may be NULL (empty drive) */
    BlockInterfaceType type;
    int bus, unit;              /* from bus=/unit=/index= (virtio: unit = index) */
    bool is_cdrom;              /* media=cdrom */
    char *serial;               /* serial=, or NULL */
} DriveInfo;

/* All drives in command-line order; NULL starts. */
DriveInfo *drive_next(DriveInfo *prev);
/* The drive whose backend is blk, or NULL. */
DriveInfo *drive_get_by_blk(BlockBackend *blk);
/* "none", "ide", "virtio" ... as in -drive if= */
const char *drive_if_name(BlockInterfaceType type);

#endif /* GODWIT_SYSEMU_BLOCKDEV_H */
