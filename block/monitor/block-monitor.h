/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-monitor.h: what the monitor's block files (block/monitor/ and
 * monitor/hmp-cmds-block.c) share. Not for device models: see sysemu/blockdev.h.
 */
#ifndef GODWIT_BLOCK_MONITOR_H
#define GODWIT_BLOCK_MONITOR_H

#include "block/block-backend.h"
#include "qapi-types.h"
#include "qapi-visit.h"

/*
 * The ImageInfo of one node (no backing-image), and the BlockDeviceInfo of a
 * node (with the chain's images as backing-image unless flat). blk, if not
 * NULL, is the backend whose write cache setting is reported.
 */
ImageInfo *block_image_info(BlockDriverState *bs, Error **errp);
BlockDeviceInfo *block_device_info(BlockBackend *blk, BlockDriverState *bs, bool flat,
                                   Error **errp);

/*
 * Open a node graph from flat dotted options (consumed) as blockdev-add and
 * -blockdev do: the root needs a node-name, and the monitor owns the node
 * until blockdev-del.
 */
BlockDriverState *blockdev_add_flat(QDict *flat, Error **errp);

/*
 * A new reference to a BlockBackend for HMP qemu-io on device: the named
 * backend itself, else a temporary one on the node of that name
 * ("Cannot find device='' nor node-name='x'"). blk_unref() it when done.
 */
BlockBackend *block_monitor_io_backend(const char *device, Error **errp);

/*
 * HMP commit: copy what the top image of device (or of every device, for
 * "all") holds into its backing image, synchronously. Returns 0, or -errno
 * for an I/O failure; lookup failures set errp ("Device 'x' not found").
 */
int block_commit_device(const char *device, Error **errp);

/*
 * Print the "Formatting 'FILE', fmt=FMT opt=val..." line to stdout, as QEMU
 * does when a monitor command creates an image (snapshot_blkdev,
 * blockdev-snapshot-sync, drive-mirror/drive-backup in absolute-paths mode):
 * the format's create options, then the protocol's, each with its value in
 * opts (a string or a number) or its default.
 */
void block_monitor_print_formatting(const BlockDriver *drv, const char *filename,
                                    QDict *opts);

/* Install the BLOCK_IO_ERROR hook (at startup, before opening drives). */
void block_monitor_init(void);

#endif /* GODWIT_BLOCK_MONITOR_H */
