/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * HMP: block devices. info block, qemu-io, block_resize, snapshot_blkdev,
 * commit, and the NBD server (nbd_server_start/add/remove/stop). Handlers only format: the work is done by qmp_*() and the block
 * monitor helpers. qemu-io's output goes to our stdout, not to the monitor
 * (QEMU behaves so and iotests capture it there).
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qbool.h"
#include "qobject/qstring.h"
#include "util/cutils.h"
#include "monitor/hmp.h"
#include "block/monitor/block-monitor.h"
#include "tools/io-cmds.h"
#include "nbd/nbd.h"
#include "qapi-commands.h"

/* ---- info block ---- */

static void dump_qobject(Monitor *mon, int indent, const char *key, QObject *obj);

/* "Format specific information": members in QDict order, '-' shown as ' '. */
static void dump_qdict(Monitor *mon, int indent, QDict *d)
{
    for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) {
        g_autofree char *key = g_strdup(qdict_entry_key(e));

        for (char *p = key; *p; p++) {
            if (*p == '-') {
                *p = ' ';
            }
        }
        dump_qobject(mon, indent, key, qdict_entry_value(e));
    }
}

static void dump_qobject(Monitor *mon, int indent, const char *key, QObject *obj)
{
    switch (qobject_type(obj)) {
    case QTYPE_QDICT:
        monitor_printf(mon, "%*s%s:\n", indent, "", key);
        dump_qdict(mon, indent + 4, qobject_to(QDict, obj));
        break;
    case QTYPE_QLIST: {
        int i = 0;
        monitor_printf(mon, "%*s%s:\n", indent, "", key);
        for (const QListEntry *e = qlist_first(qobject_to(QList, obj)); e;
             e = qlist_next(e), i++) {
            g_autofree char *idx = g_strdup_printf("[%d]", i);
            dump_qobject(mon, indent + 4, idx, qlist_entry_obj(e));
        }
        break;
    }
    case QTYPE_QNUM:
        monitor_printf(mon, "%*s%s: %" PRId64 "\n", indent, "", key,
                       qnum_get_int(qobject_to(QNum, obj)));
        break;
    case QTYPE_QBOOL:
        monitor_printf(mon, "%*s%s: %s\n", indent, "", key,
                       qbool_get_bool(qobject_to(QBool, obj)) ? "true" : "false");
        break;
    case QTYPE_QSTRING:
        monitor_printf(mon, "%*s%s: %s\n", indent, "", key,
                       qstring_get_str(qobject_to(QString, obj)));
        break;
    default:
        break;
    }
}

/* One image of "info block -v", as qemu-img info prints it. */
static void print_image_info(Monitor *mon, ImageInfo *img)
{
    g_autofree char *vsize = size_to_str(img->virtual_size);

    monitor_printf(mon, "image: %s\nfile format: %s\n", img->filename, img->format);
    monitor_printf(mon, "virtual size: %s (%" PRId64 " bytes)\n", vsize, img->virtual_size);
    if (img->has_actual_size) {
        g_autofree char *dsize = size_to_str(img->actual_size);
        monitor_printf(mon, "disk size: %s\n", dsize);
    } else {
        monitor_printf(mon, "disk size: unavailable\n");
    }
    if (img->has_encrypted && img->encrypted) {
        monitor_printf(mon, "encrypted: yes\n");
    }
    if (img->has_cluster_size) {
        monitor_printf(mon, "cluster_size: %" PRId64 "\n", img->cluster_size);
    }
    if (img->has_dirty_flag && img->dirty_flag) {
        monitor_printf(mon, "cleanly shut down: no\n");
    }
    if (img->backing_filename) {
        monitor_printf(mon, "backing file: %s", img->backing_filename);
        if (img->full_backing_filename &&
            strcmp(img->backing_filename, img->full_backing_filename)) {
            monitor_printf(mon, " (actual path: %s)", img->full_backing_filename);
        }
        monitor_printf(mon, "\n");
        if (img->backing_filename_format) {
            monitor_printf(mon, "backing file format: %s\n", img->backing_filename_format);
        }
    }
    if (img->format_specific) {
        QDict *d = qobject_to(QDict, qapi_out_ImageInfoSpecific(img->format_specific));
        QDict *data = qdict_get_qdict(d, "data");

        monitor_printf(mon, "Format specific information:\n");
        if (data) {
            dump_qdict(mon, 4, data);
        }
        qobject_unref(d);
    }
}

/* One paragraph: a device (info != NULL) or a node. */
static void print_block_info(Monitor *mon, BlockInfo *info, BlockDeviceInfo *ins,
                             bool verbose)
{
    if (info && *info->device) {
        monitor_puts(mon, info->device);
        if (ins && ins->node_name) {
            monitor_printf(mon, " (%s)", ins->node_name);
        }
    } else {
        monitor_puts(mon, ins && ins->node_name ? ins->node_name
                          : info && info->qdev ? info->qdev : "<anonymous>");
    }
    if (ins) {
        monitor_printf(mon, ": %s (%s%s%s)\n", ins->file, ins->drv,
                       ins->ro ? ", read-only" : "", ins->encrypted ? ", encrypted" : "");
    } else {
        monitor_printf(mon, ": [not inserted]\n");
    }
    if (info) {
        if (info->qdev) {
            monitor_printf(mon, "    Attached to:      %s\n", info->qdev);
        }
        if (info->has_io_status && info->io_status != BLOCK_DEVICE_IO_STATUS_OK) {
            monitor_printf(mon, "    I/O status:       %s\n",
                           BlockDeviceIoStatus_str(info->io_status));
        }
        if (info->removable) {
            monitor_printf(mon, "    Removable device: %slocked, tray %s\n",
                           info->locked ? "" : "not ",
                           info->has_tray_open && info->tray_open ? "open" : "closed");
        }
    }
    if (!ins) {
        return;
    }
    monitor_printf(mon, "    Cache mode:       %s%s%s\n",
                   ins->cache->writeback ? "writeback" : "writethrough",
                   ins->cache->direct ? ", direct" : "",
                   ins->cache->no_flush ? ", ignore flushes" : "");
    if (ins->backing_file) {
        monitor_printf(mon, "    Backing file:     %s (chain depth: %" PRId64 ")\n",
                       ins->backing_file, ins->backing_file_depth);
    }
    if (ins->detect_zeroes != BLOCKDEV_DETECT_ZEROES_OPTIONS_OFF) {
        monitor_printf(mon, "    Detect zeroes:    %s\n",
                       BlockdevDetectZeroesOptions_str(ins->detect_zeroes));
    }
    if (verbose) {
        monitor_printf(mon, "\nImages:\n");
        for (ImageInfo *img = ins->image; img; img = img->backing_image) {
            print_image_info(mon, img);
        }
    }
}

static void hmp_info_block(Monitor *mon, const QDict *qdict)
{
    const char *device = qdict_get_try_str(qdict, "device");
    bool verbose = qdict_get_try_bool(qdict, "verbose", false);
    bool nodes = qdict_get_try_bool(qdict, "nodes", false);
    bool printed = false;

    if (!nodes) {
        BlockInfoList *list = qmp_query_block(NULL);

        /* as QEMU: a blank line before every entry but the list's first */
        for (BlockInfoList *l = list; l; l = l->next) {
            if (device && strcmp(device, l->value->device)) {
                continue;
            }
            if (l != list) {
                monitor_printf(mon, "\n");
            }
            print_block_info(mon, l->value, l->value->inserted, verbose);
            printed = true;
        }
        qapi_free_BlockInfoList(list);
        if (!device || printed) {
            return;
        }
    }
    BlockDeviceInfoList *list = qmp_query_named_block_nodes(false, false, NULL);
    for (BlockDeviceInfoList *l = list; l; l = l->next) {
        if (device && strcmp(device, l->value->node_name)) {
            continue;
        }
        if (l != list) {
            monitor_printf(mon, "\n");
        }
        print_block_info(mon, NULL, l->value, verbose);
    }
    qapi_free_BlockDeviceInfoList(list);
}

/* ---- commands ---- */

/*
 * qemu-io -d: device is a qdev id or path. Only the device that has the
 * backend (.../virtio-backend) qualifies; its proxy (the -device id) is
 * "Device does not have a block device backend", as in QEMU.
 */
static BlockBackend *qemu_io_qdev_backend(const char *device, Error **errp)
{
    g_autofree char *id_path = g_strdup_printf("/machine/peripheral/%s/", device);
    g_autofree char *path_prefix = g_strdup_printf("%s/", device);

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        const char *dev = blk_get_dev_path(blk);
        if (!dev) {
            continue;
        }
        if (!strcmp(dev, device)) {
            blk_ref(blk);
            return blk;
        }
        if (g_str_has_prefix(dev, id_path) || g_str_has_prefix(dev, path_prefix)) {
            error_setg(errp, "Device does not have a block device backend");
            return NULL;
        }
    }
    error_setg(errp, "Device '%s' not found", device);
    return NULL;
}

static void hmp_qemu_io(Monitor *mon, const QDict *qdict)
{
    const char *device = qdict_get_str(qdict, "device");
    const char *command = qdict_get_str(qdict, "command");
    Error *err = NULL;
    BlockBackend *blk = qdict_get_try_bool(qdict, "qdev", false)
                        ? qemu_io_qdev_backend(device, &err)
                        : block_monitor_io_backend(device, &err);

    if (!blk) {
        hmp_handle_error(mon, err);
        return;
    }
    qemuio_command(blk, command);
    if (!blk_by_name(device)) {
        /*
         * A temporary backend on a node: as QEMU, its aio requests complete (and
         * print) before the command returns, and it goes away here, from the
         * monitor, not from their completion callback.
         */
        blk_drain(blk);
    }
    fflush(stdout);
    fflush(stderr);
    blk_unref(blk);
}

static void hmp_block_resize(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_block_resize(qdict_get_str(qdict, "device"), NULL, qdict_get_int(qdict, "size"),
                     &err);
    hmp_handle_error(mon, err);
}

static void hmp_snapshot_blkdev(Monitor *mon, const QDict *qdict)
{
    const char *file = qdict_get_try_str(qdict, "snapshot-file");
    const char *format = qdict_get_try_str(qdict, "format");
    bool reuse = qdict_get_try_bool(qdict, "reuse", false);
    Error *err = NULL;

    if (!file) {
        error_setg(&err, "Parameter 'snapshot-file' is missing");
    } else {
        qmp_blockdev_snapshot_sync(qdict_get_str(qdict, "device"), NULL, file, NULL,
                                   format ? format : "qcow2", true,
                                   reuse ? NEW_IMAGE_MODE_EXISTING
                                         : NEW_IMAGE_MODE_ABSOLUTE_PATHS, &err);
    }
    hmp_handle_error(mon, err);
}

static void hmp_commit(Monitor *mon, const QDict *qdict)
{
    const char *device = qdict_get_str(qdict, "device");
    Error *err = NULL;
    int ret = block_commit_device(device, &err);

    if (err) {
        monitor_printf(mon, "%s\n", error_get_pretty(err));
        error_free(err);
    } else if (ret < 0) {
        monitor_printf(mon, "'commit' error for '%s': %s\n", device, strerror(-ret));
    }
}

/* ---- NBD server ---- */

static void hmp_nbd_server_add_device(const char *device, const char *name, bool writable,
                                      Error **errp)
{
    NbdServerAddOptions export = {
        .device = (char *)device, .name = (char *)name,
        .has_writable = true, .writable = writable,
    };

    qmp_nbd_server_add(&export, errp);
}

/* -a exports every device with a medium (writable with -w); one failure stops all. */
static void hmp_nbd_server_start(Monitor *mon, const QDict *qdict)
{
    bool writable = qdict_get_try_bool(qdict, "writable", false);
    g_autoptr(SocketAddress) addr = NULL;
    Error *err = NULL;

    addr = socket_parse(qdict_get_str(qdict, "uri"), &err);
    if (addr && nbd_server_start(addr, 0, &err) && qdict_get_try_bool(qdict, "all", false)) {
        BlockInfoList *list = qmp_query_block(NULL);

        for (BlockInfoList *l = list; l && !err; l = l->next) {
            if (l->value->inserted) {
                hmp_nbd_server_add_device(l->value->device, NULL, writable, &err);
            }
        }
        if (err) {
            qmp_nbd_server_stop(NULL);
        }
        qapi_free_BlockInfoList(list);
    }
    hmp_handle_error(mon, err);
}

static void hmp_nbd_server_add(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    hmp_nbd_server_add_device(qdict_get_str(qdict, "device"), qdict_get_try_str(qdict, "name"),
                              qdict_get_try_bool(qdict, "writable", false), &err);
    hmp_handle_error(mon, err);
}

static void hmp_nbd_server_remove(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_nbd_server_remove(qdict_get_str(qdict, "name"), true,
                          qdict_get_try_bool(qdict, "force", false)
                              ? BLOCK_EXPORT_REMOVE_MODE_HARD : BLOCK_EXPORT_REMOVE_MODE_SAFE,
                          &err);
    hmp_handle_error(mon, err);
}

static void hmp_nbd_server_stop(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_nbd_server_stop(&err);
    hmp_handle_error(mon, err);
}

const HMPCommand hmp_info_cmds_block[] = {
    { "block", "nodes:-n,verbose:-v,device:B?", "[-n] [-v] [device]",
      "show info of one block device or all block devices "
      "(-n: show named nodes; -v: show details)", hmp_info_block },
    { NULL },
};

const HMPCommand hmp_cmds_block[] = {
    { "block_resize", "device:B,size:o", "device size", "resize a block image",
      hmp_block_resize },
    { "commit", "device:B", "device|all", "commit changes to the disk images (if -snapshot "
      "is used) or backing files", hmp_commit },
    { "qemu-io", "qdev:-d,device:B,command:s", "[-d] [device] \"[command]\"",
      "run a qemu-io command on a block device\n\t\t\t-d: [device] is a device ID rather "
      "than a drive ID or node name", hmp_qemu_io },
    { "snapshot_blkdev", "reuse:-n,device:B,snapshot-file:s?,format:s?",
      "[-n] device [new-image-file] [format]",
      "initiates a live snapshot\n\t\t\tof device. If a new image file is specified, "
      "the\n\t\t\tnew image file will become the new root image.\n\t\t\tIf format is "
      "specified, the snapshot file will\n\t\t\tbe created in that format.\n\t\t\tThe "
      "default format is qcow2.  The -n flag requests QEMU\n\t\t\tto reuse the image "
      "found in new-image-file, instead of\n\t\t\trecreating it from scratch.",
      hmp_snapshot_blkdev },
    { "nbd_server_start", "all:-a,writable:-w,uri:s", "nbd_server_start [-a] [-w] host:port",
      "serve block devices on the given host and port", hmp_nbd_server_start },
    { "nbd_server_add", "writable:-w,device:B,name:s?", "nbd_server_add [-w] device [name]",
      "export a block device via NBD", hmp_nbd_server_add },
    { "nbd_server_remove", "force:-f,name:s", "nbd_server_remove [-f] name",
      "remove an export previously exposed via NBD", hmp_nbd_server_remove },
    { "nbd_server_stop", "", "nbd_server_stop",
      "stop serving block devices using the NBD protocol", hmp_nbd_server_stop },
    { NULL },
};
