/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QMP: drive-mirror, blockdev-mirror, drive-backup, blockdev-backup. The drive-*
 * forms create (unless mode=existing) and open the target image themselves.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/block-int.h"
#include "block/dirty-bitmap.h"
#include "qapi-commands.h"
#include "monitor/qmp-cmds-jobs.h"
#include "block/monitor/block-monitor.h"

/* The node of a device or node name that may be the root of a job. */
static BlockDriverState *root_bs(const char *name, Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(name, name, errp);

    if (bs && !bdrv_is_inserted(bs)) {
        error_setg(errp, "Device has no medium");
        return NULL;
    }
    return bs;
}

/*
 * QEMU's bdrv_has_zero_init() for a target drive-mirror has just created: a
 * protocol that says so, qcow2 (new and not preallocated: no L2 tables), or a
 * format that passes its file's zeroes through (raw).
 */
static bool new_target_has_zero_init(BlockDriverState *bs)
{
    if (bs->drv->flags & BDRV_F_ZERO_INIT) {
        return true;
    }
    if (!strcmp(bs->drv->format_name, "qcow2")) {
        return true;
    }
    if (!strcmp(bs->drv->format_name, "raw") && bs->file) {
        return new_target_has_zero_init(bs->file->bs);
    }
    return false;
}

/* Create the image of a drive-* target (absolute-paths mode). */
static bool create_target(const char *file, const char *format, BlockDriverState *backing,
                          int64_t size, Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(format);
    g_autoptr(QDict) opts = qdict_new();

    if (!drv) {
        error_setg(errp, "Unknown driver '%s'", format);
        return false;
    }
    qdict_put_int(opts, "size", size);
    if (backing) {
        bdrv_refresh_filename(backing);
        qdict_put_str(opts, "backing_file", backing->filename);
        qdict_put_str(opts, "backing_fmt", backing->drv->format_name);
    }
    block_monitor_print_formatting(drv, file, opts);
    return bdrv_create(drv, file, opts, errp) >= 0;
}

static BlockDriverState *open_target(const char *file, const char *format,
                                     const char *node_name, int flags, Error **errp)
{
    QDict *options = qdict_new();

    if (node_name) {
        qdict_put_str(options, "node-name", node_name);
    }
    if (format) {
        qdict_put_str(options, "driver", format);
    }
    return bdrv_open(file, NULL, options, flags, errp);
}

static bool mirror_check_common(BlockDriverState *bs, BlockDriverState *target,
                                bool has_granularity, uint32_t granularity, Error **errp)
{
    if (has_granularity && (granularity < 512 || granularity > 1048576 * 64)) {
        error_setg(errp, "Parameter 'granularity' expects a value in range [512B, 64MB]");
        return false;
    }
    if (has_granularity && (granularity & (granularity - 1))) {
        error_setg(errp, "Parameter 'granularity' expects a power of 2");
        return false;
    }
    if (bdrv_op_is_blocked(bs, errp) || bdrv_op_is_blocked(target, errp)) {
        return false;
    }
    return true;
}

static bool check_replaces(BlockDriverState *bs, const char *replaces, Error **errp)
{
    BlockDriverState *to_replace;

    if (!replaces) {
        return true;
    }
    to_replace = bdrv_find_node(replaces);
    if (!to_replace) {
        error_setg(errp, "Failed to find node with node-name='%s'", replaces);
        return false;
    }
    if (bdrv_op_is_blocked(to_replace, errp)) {
        return false;
    }
    if (bdrv_getlength(to_replace) != bdrv_getlength(bs)) {
        error_setg(errp, "cannot replace image with a mirror image of different size");
        return false;
    }
    return true;
}

void qmp_drive_mirror(DriveMirror *arg, Error **errp)
{
    BlockDriverState *bs = root_bs(arg->device, errp), *target, *backing;
    NewImageMode mode = arg->has_mode ? arg->mode : NEW_IMAGE_MODE_ABSOLUTE_PATHS;
    MirrorSyncMode sync = arg->sync;
    const char *format;
    int flags;
    int64_t size;

    if (!bs || bdrv_op_is_blocked(bs, errp)) {
        return;     /* a busy source is refused before the target is created */
    }
    format = arg->format ? arg->format
                         : (mode == NEW_IMAGE_MODE_EXISTING ? NULL : bs->drv->format_name);
    backing = bdrv_backing_bs(bs);
    if (!backing && sync == MIRROR_SYNC_MODE_TOP) {
        sync = MIRROR_SYNC_MODE_FULL;
    }
    if (sync == MIRROR_SYNC_MODE_NONE) {
        backing = bs;
    }
    size = bdrv_getlength(bs);
    if (size < 0) {
        error_setg_errno(errp, -size, "bdrv_getlength failed");
        return;
    }
    if (arg->replaces && !arg->node_name) {
        error_setg(errp, "a node-name must be provided when replacing a named node of the "
                   "graph");
        return;
    }
    if (sync == MIRROR_SYNC_MODE_INCREMENTAL || sync == MIRROR_SYNC_MODE_BITMAP) {
        error_setg(errp, "Sync mode '%s' not supported", MirrorSyncMode_str(sync));
        return;
    }
    flags = (bs->open_flags & ~BDRV_O_SNAPSHOT) | BDRV_O_RDWR;
    if (mode != NEW_IMAGE_MODE_EXISTING) {
        if (!create_target(arg->target, format,
                           sync == MIRROR_SYNC_MODE_FULL ? NULL : backing, size, errp)) {
            return;
        }
        flags |= BDRV_O_NO_BACKING;
    }
    target = open_target(arg->target, format, arg->node_name, flags, errp);
    if (!target) {
        return;
    }
    MirrorParams p = {
        .job_id = arg->job_id ? arg->job_id : bdrv_get_device_name(bs),
        .flags = job_flags_from_args(arg->has_auto_finalize, arg->auto_finalize,
                                     arg->has_auto_dismiss, arg->auto_dismiss),
        .speed = arg->has_speed ? arg->speed : 0,
        .sync = sync,
        .replaces = arg->replaces,
        .granularity = arg->has_granularity ? arg->granularity : 0,
        .buf_size = arg->has_buf_size ? arg->buf_size : 0,
        .on_source_error = arg->has_on_source_error ? arg->on_source_error
                                                    : BLOCKDEV_ON_ERROR_REPORT,
        .on_target_error = arg->has_on_target_error ? arg->on_target_error
                                                    : BLOCKDEV_ON_ERROR_REPORT,
        .unmap = arg->has_unmap ? arg->unmap : true,
        .copy_mode = arg->has_copy_mode ? arg->copy_mode : MIRROR_COPY_MODE_BACKGROUND,
        .zero_target = sync == MIRROR_SYNC_MODE_FULL &&
                       (mode == NEW_IMAGE_MODE_EXISTING ||
                        !new_target_has_zero_init(target)),
        .target_takes_source_backing = mode != NEW_IMAGE_MODE_EXISTING &&
                                       sync != MIRROR_SYNC_MODE_FULL,
        .target_owned = true,
    };
    if (!mirror_check_common(bs, target, arg->has_granularity, arg->granularity, errp) ||
        !check_replaces(bs, arg->replaces, errp) || !mirror_start(bs, target, &p, errp)) {
        bdrv_unref(target);
    }
}

void qmp_blockdev_mirror(const char *job_id, const char *device, const char *target,
                         const char *replaces, MirrorSyncMode sync, bool has_speed,
                         int64_t speed, bool has_granularity, uint32_t granularity,
                         bool has_buf_size, int64_t buf_size, bool has_on_source_error,
                         BlockdevOnError on_source_error, bool has_on_target_error,
                         BlockdevOnError on_target_error, const char *filter_node_name,
                         bool has_copy_mode, MirrorCopyMode copy_mode,
                         bool has_auto_finalize, bool auto_finalize, bool has_auto_dismiss,
                         bool auto_dismiss, Error **errp)
{
    BlockDriverState *bs = root_bs(device, errp), *target_bs;

    if (!bs) {
        return;
    }
    target_bs = bdrv_lookup_bs(target, target, errp);
    if (!target_bs) {
        return;
    }
    if (!bdrv_backing_bs(bs) && sync == MIRROR_SYNC_MODE_TOP) {
        sync = MIRROR_SYNC_MODE_FULL;
    }
    MirrorParams p = {
        .job_id = job_id ? job_id : bdrv_get_device_name(bs),
        .flags = job_flags_from_args(has_auto_finalize, auto_finalize, has_auto_dismiss,
                                     auto_dismiss),
        .speed = has_speed ? speed : 0,
        .sync = sync,
        .replaces = replaces,
        .granularity = has_granularity ? granularity : 0,
        .buf_size = has_buf_size ? buf_size : 0,
        .on_source_error = has_on_source_error ? on_source_error : BLOCKDEV_ON_ERROR_REPORT,
        .on_target_error = has_on_target_error ? on_target_error : BLOCKDEV_ON_ERROR_REPORT,
        .unmap = true,
        .copy_mode = has_copy_mode ? copy_mode : MIRROR_COPY_MODE_BACKGROUND,
        .zero_target = sync == MIRROR_SYNC_MODE_FULL,
        .filter_node_name = filter_node_name,
    };
    if (!mirror_check_common(bs, target_bs, has_granularity, granularity, errp) ||
        !check_replaces(bs, replaces, errp)) {
        return;
    }
    if (bdrv_getlength(bs) != bdrv_getlength(target_bs)) {
        error_setg(errp, "Source and target image have different sizes");
        return;
    }
    mirror_start(bs, target_bs, &p, errp);
}

/* ---- backup ---- */

/*
 * The generator flattens a struct's base into it, members first and in order,
 * so both commands' arguments start with a BackupCommon.
 */
G_STATIC_ASSERT(offsetof(BlockdevBackup, x_perf) == offsetof(BackupCommon, x_perf));
G_STATIC_ASSERT(offsetof(DriveBackup, x_perf) == offsetof(BackupCommon, x_perf));
#define BACKUP_COMMON(b) ((BackupCommon *)(b))

static bool backup_params(BackupCommon *c, BlockDriverState *bs, JobTxn *txn, BackupParams *p,
                          Error **errp)
{
    *p = (BackupParams) {
        .job_id = c->job_id ? c->job_id : bdrv_get_device_name(bs),
        .flags = job_flags_from_args(c->has_auto_finalize, c->auto_finalize,
                                     c->has_auto_dismiss, c->auto_dismiss),
        .speed = c->has_speed ? c->speed : 0,
        .sync = c->sync,
        .compress = c->has_compress && c->compress,
        .on_source_error = c->has_on_source_error ? c->on_source_error
                                                  : BLOCKDEV_ON_ERROR_REPORT,
        .on_target_error = c->has_on_target_error ? c->on_target_error
                                                  : BLOCKDEV_ON_ERROR_REPORT,
        .txn = txn,
        .filter_node_name = c->filter_node_name,
    };
    if (c->sync == MIRROR_SYNC_MODE_INCREMENTAL) {
        if (c->has_bitmap_mode && c->bitmap_mode != BITMAP_SYNC_MODE_ON_SUCCESS) {
            error_setg(errp, "Bitmap sync mode must be '%s' when using sync mode '%s'",
                       "on-success", "incremental");
            return false;
        }
        c->has_bitmap_mode = true;
        c->bitmap_mode = BITMAP_SYNC_MODE_ON_SUCCESS;
        p->sync = MIRROR_SYNC_MODE_BITMAP;
    }
    if (c->bitmap) {
        p->bitmap = bdrv_find_dirty_bitmap(bs, c->bitmap);
        if (!p->bitmap) {
            error_setg(errp, "Bitmap '%s' could not be found", c->bitmap);
            return false;
        }
        if (!c->has_bitmap_mode) {
            error_setg(errp, "Bitmap sync mode must be given when providing a bitmap");
            return false;
        }
        if (!bdrv_dirty_bitmap_check(p->bitmap, BDRV_BITMAP_ALLOW_RO, errp)) {
            return false;
        }
        p->bitmap_mode = c->bitmap_mode;
        if (c->sync != MIRROR_SYNC_MODE_BITMAP && c->sync != MIRROR_SYNC_MODE_INCREMENTAL &&
            c->sync != MIRROR_SYNC_MODE_FULL && c->sync != MIRROR_SYNC_MODE_TOP) {
            error_setg(errp, "Cannot specify bitmap sync mode without a bitmap");
            return false;
        }
        if (c->sync != MIRROR_SYNC_MODE_BITMAP && c->sync != MIRROR_SYNC_MODE_INCREMENTAL) {
            /* full/top with a bitmap: copy per the mode, then sync the bitmap */
            p->bitmap = NULL;
        }
    } else if (c->has_bitmap_mode) {
        error_setg(errp, "Cannot specify bitmap sync mode without a bitmap");
        return false;
    } else if (p->sync == MIRROR_SYNC_MODE_BITMAP) {
        error_setg(errp, "must provide a valid bitmap name for '%s' sync mode",
                   MirrorSyncMode_str(c->sync));
        return false;
    }
    return true;
}

void do_blockdev_backup(BlockdevBackup *backup, JobTxn *txn, Job **created, Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(backup->device, backup->device, errp), *target;
    BackupParams p;

    if (!bs) {
        return;
    }
    target = bdrv_lookup_bs(backup->target, backup->target, errp);
    if (!target || !backup_params(BACKUP_COMMON(backup), bs, txn, &p, errp)) {
        return;
    }
    if (bdrv_op_is_blocked(bs, errp) || bdrv_op_is_blocked(target, errp)) {
        return;
    }
    p.created = created;
    backup_start(bs, target, &p, errp);
}

void do_drive_backup(DriveBackup *backup, JobTxn *txn, Job **created, Error **errp)
{
    BlockDriverState *bs = root_bs(backup->device, errp), *target;
    NewImageMode mode = backup->has_mode ? backup->mode : NEW_IMAGE_MODE_ABSOLUTE_PATHS;
    const char *format;
    BackupParams p;
    int64_t size;

    if (!bs) {
        return;
    }
    if (!backup_params(BACKUP_COMMON(backup), bs, txn, &p, errp) ||
        bdrv_op_is_blocked(bs, errp)) {
        return;
    }
    format = backup->format ? backup->format
                            : (mode == NEW_IMAGE_MODE_EXISTING ? NULL : bs->drv->format_name);
    size = bdrv_getlength(bs);
    if (mode != NEW_IMAGE_MODE_EXISTING &&
        !create_target(backup->target, format,
                       backup->sync == MIRROR_SYNC_MODE_TOP ? bdrv_backing_bs(bs) : NULL,
                       size, errp)) {
        return;
    }
    target = open_target(backup->target, format, NULL, BDRV_O_RDWR, errp);
    if (!target) {
        return;
    }
    p.target_owned = true;
    p.created = created;
    if (!backup_start(bs, target, &p, errp)) {
        bdrv_unref(target);
    }
}

/*
 * As in QEMU, the commands are one-action transactions: the job is created
 * with its source drained and started on commit (its events thus show a
 * paused/running pair right after the start).
 */
void qmp_blockdev_backup(BlockdevBackup *arg, Error **errp)
{
    BlockdevBackupWrapper w = { .data = arg };
    TransactionAction a = { .q_type = TRANSACTION_ACTION_KIND_BLOCKDEV_BACKUP,
                            .u.blockdev_backup = w };
    TransactionActionList l = { .value = &a };

    qmp_transaction(&l, NULL, errp);
}

void qmp_drive_backup(DriveBackup *arg, Error **errp)
{
    DriveBackupWrapper w = { .data = arg };
    TransactionAction a = { .q_type = TRANSACTION_ACTION_KIND_DRIVE_BACKUP,
                            .u.drive_backup = w };
    TransactionActionList l = { .value = &a };

    qmp_transaction(&l, NULL, errp);
}
