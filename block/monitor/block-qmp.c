/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-qmp.c: QMP commands that change the block graph: blockdev-add and
 * blockdev-del (nodes the monitor owns), block_resize, external snapshots
 * (blockdev-snapshot-sync, blockdev-snapshot) and transaction; plus the
 * BLOCK_IO_ERROR event. Error texts are QEMU 7.2's.
 *
 * Snapshots run in two phases so that a transaction is all-or-nothing:
 * prepare (look up, create and open the overlay, check it) may fail and is
 * undone by dropping what it opened; commit (bdrv_append) is then done for
 * every action, and undone in reverse order if one of them fails. The
 * transaction also runs the dirty-bitmap actions (monitor/qmp-cmds-bitmaps.c)
 * and the backup actions (created on prepare, started on commit).
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/block-int.h"
#include "block/block-backend.h"
#include "block/block-core.h"
#include "block/monitor/block-monitor.h"
#include "monitor/qmp-cmds-jobs.h"
#include "sysemu/runstate.h"
#include "qapi-commands.h"
#include "qapi-events.h"

/* Nodes created by blockdev-add / -blockdev: the monitor holds one reference. */
static GList *monitor_owned;

BlockDriverState *blockdev_add_flat(QDict *flat, Error **errp)
{
    BlockDriverState *bs;
    int flags = BDRV_O_RDWR;

    if (!qdict_get_try_str(flat, "node-name")) {
        error_setg(errp, "'node-name' must be specified for the root node");
        qobject_unref(flat);
        return NULL;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        flags |= BDRV_O_INACTIVE;
    }
    bs = bdrv_open(NULL, NULL, flat, flags, errp);
    if (bs) {
        monitor_owned = g_list_append(monitor_owned, bs);
    }
    return bs;
}

void qmp_blockdev_add(BlockdevOptions *arg, Error **errp)
{
    QDict *flat = qobject_to(QDict, qapi_out_BlockdevOptions(arg));

    qdict_flatten(flat);
    blockdev_add_flat(flat, errp);
}

void qmp_blockdev_del(const char *node_name, Error **errp)
{
    BlockDriverState *bs = bdrv_find_node(node_name);

    if (!bs) {
        error_setg(errp, "Failed to find node with node-name='%s'", node_name);
        return;
    }
    if (blk_by_public(bs)) {
        error_setg(errp, "Node %s is in use", node_name);
        return;
    }
    if (bdrv_op_is_blocked(bs, errp)) {
        return;
    }
    /* QEMU blocks deleting a backing node while its overlay uses it. */
    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->klass == &child_of_bds && (c->role & BDRV_CHILD_COW)) {
            BlockDriverState *parent = c->opaque;
            error_setg(errp, "Node '%s' is busy: node is used as backing hd of '%s'",
                       bdrv_get_device_or_node_name(bs),
                       bdrv_get_device_or_node_name(parent));
            return;
        }
    }
    if (!g_list_find(monitor_owned, bs)) {
        error_setg(errp, "Node %s is not owned by the monitor", node_name);
        return;
    }
    if (bs->refcnt > 1) {
        error_setg(errp, "Block device %s is in use", node_name);
        return;
    }
    monitor_owned = g_list_remove(monitor_owned, bs);
    bdrv_unref(bs);
}

void qmp_block_resize(const char *device, const char *node_name, int64_t size,
                      Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(device, node_name, errp);
    BlockBackend *blk;

    if (!bs) {
        return;
    }
    if (size < 0) {
        error_setg(errp, "Parameter 'size' expects a >0 size");
        return;
    }
    if (bdrv_op_is_blocked(bs, NULL)) {
        /* QEMU names the device argument here, even when only node-name was given */
        error_setg(errp, "Device '%s' is in use", device ? device : "(null)");
        return;
    }
    blk = blk_new(BLK_PERM_RESIZE, BLK_PERM_ALL);
    if (blk_insert_bs(blk, bs, errp) == 0) {
        bdrv_drained_begin(bs);
        blk_truncate(blk, size, false, PREALLOC_MODE_OFF, 0, errp);
        bdrv_drained_end(bs);
    }
    blk_unref(blk);
}

/* ---- external snapshots ---- */

typedef struct SnapshotAction {
    BlockDriverState *old_bs;
    BlockDriverState *new_bs;       /* our reference; the graph takes its own */
    bool appended;
} SnapshotAction;

static void print_create_opts(const CreateOption *opts, QDict *values, GHashTable *seen)
{
    for (const CreateOption *o = opts; o && o->name; o++) {
        QObject *v = qdict_get(values, o->name);
        g_autofree char *num = NULL;
        const char *text = o->def_value_str;

        if (g_hash_table_contains(seen, o->name)) {
            continue;
        }
        g_hash_table_add(seen, (gpointer)o->name);
        if (qobject_to(QString, v)) {
            text = qstring_get_str(qobject_to(QString, v));
        } else if (qobject_to(QNum, v)) {
            text = num = qnum_to_string(qobject_to(QNum, v));
        } else if (qobject_to(QBool, v)) {
            text = qbool_get_bool(qobject_to(QBool, v)) ? "on" : "off";
        }
        if (text) {
            printf(" %s=%s", o->name, text);
        }
    }
}

void block_monitor_print_formatting(const BlockDriver *drv, const char *filename,
                                    QDict *opts)
{
    const BlockDriver *proto = bdrv_find_protocol(filename, true, NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    printf("Formatting '%s', fmt=%s", filename, drv->format_name);
    print_create_opts(drv->create_opts, opts, seen);
    if (proto && proto != drv) {
        print_create_opts(proto->create_opts, opts, seen);
    }
    printf("\n");
    fflush(stdout);
}

/* Create the overlay file of blockdev-snapshot-sync, backed by old_bs. */
static bool snapshot_create_overlay(BlockDriverState *old_bs, const char *file,
                                    const BlockDriver *drv, Error **errp)
{
    g_autoptr(QDict) opts = qdict_new();
    int64_t size = bdrv_getlength(old_bs);
    char size_str[32];

    if (size < 0) {
        error_setg_errno(errp, -size, "bdrv_getlength failed");
        return false;
    }
    if (!(drv->flags & BDRV_F_SUPPORTS_BACKING)) {
        error_setg(errp, "Backing file not supported for file format '%s'",
                   drv->format_name);
        return false;
    }
    bdrv_refresh_filename(old_bs);
    snprintf(size_str, sizeof(size_str), "%" PRId64, size);
    qdict_put_str(opts, "size", size_str);
    qdict_put_str(opts, "backing_file", old_bs->filename);
    qdict_put_str(opts, "backing_fmt", old_bs->drv->format_name);
    block_monitor_print_formatting(drv, file, opts);
    return bdrv_create(drv, file, opts, errp) == 0;
}

/* Checks common to both snapshot commands, on the overlay node. */
static bool snapshot_check_overlay(BlockDriverState *new_bs, Error **errp)
{
    if (blk_by_public(new_bs)) {
        error_setg(errp, "The overlay is already in use");
        return false;
    }
    if (bdrv_op_is_blocked(new_bs, errp)) {
        return false;
    }
    if (new_bs->backing) {
        error_setg(errp, "The overlay already has a backing image");
        return false;
    }
    if (!(new_bs->drv->flags & BDRV_F_SUPPORTS_BACKING)) {
        error_setg(errp, "The overlay does not support backing images");
        return false;
    }
    return true;
}

static BlockDriverState *snapshot_old_bs(const char *device, const char *node_name,
                                         Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(device, node_name, errp);

    if (!bs) {
        return NULL;
    }
    if (!bdrv_is_inserted(bs)) {
        error_setg(errp, "Device '%s' has no medium", device ? device : node_name);
        return NULL;
    }
    if (bdrv_op_is_blocked(bs, errp)) {
        return NULL;
    }
    if (!bdrv_is_read_only(bs) && bdrv_flush(bs) < 0) {
        error_setg(errp, "Failed to flush");
        return NULL;
    }
    return bs;
}

static bool snapshot_sync_prepare(SnapshotAction *a, BlockdevSnapshotSync *s, Error **errp)
{
    const char *format = s->format ? s->format : "qcow2";
    NewImageMode mode = s->has_mode ? s->mode : NEW_IMAGE_MODE_ABSOLUTE_PATHS;
    const BlockDriver *drv;
    QDict *options;
    int flags;

    a->old_bs = snapshot_old_bs(s->device, s->node_name, errp);
    if (!a->old_bs) {
        return false;
    }
    if (s->node_name && !s->snapshot_node_name) {
        error_setg(errp, "New overlay node-name missing");
        return false;
    }
    if (s->snapshot_node_name &&
        (blk_by_name(s->snapshot_node_name) || bdrv_find_node(s->snapshot_node_name))) {
        error_setg(errp, "New overlay node-name already in use");
        return false;
    }
    drv = bdrv_find_format(format);
    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", format);
        return false;
    }
    flags = a->old_bs->open_flags & ~(BDRV_O_SNAPSHOT | BDRV_O_COPY_ON_READ | BDRV_O_PROTOCOL);
    flags |= BDRV_O_NO_BACKING;
    if (mode != NEW_IMAGE_MODE_EXISTING &&
        !snapshot_create_overlay(a->old_bs, s->snapshot_file, drv, errp)) {
        return false;
    }
    options = qdict_new();
    if (s->snapshot_node_name) {
        qdict_put_str(options, "node-name", s->snapshot_node_name);
    }
    qdict_put_str(options, "driver", format);
    a->new_bs = bdrv_open(s->snapshot_file, NULL, options, flags, errp);
    return a->new_bs && snapshot_check_overlay(a->new_bs, errp);
}

static bool snapshot_prepare(SnapshotAction *a, BlockdevSnapshot *s, Error **errp)
{
    BlockDriverState *new_bs;

    a->old_bs = snapshot_old_bs(s->node, s->node, errp);
    if (!a->old_bs) {
        return false;
    }
    new_bs = bdrv_lookup_bs(s->overlay, s->overlay, errp);
    if (!new_bs || !snapshot_check_overlay(new_bs, errp)) {
        return false;
    }
    if (bdrv_chain_contains(new_bs, a->old_bs) || new_bs == a->old_bs) {
        error_setg(errp, "Making '%s' a backing child of '%s' would create a cycle",
                   bdrv_get_node_name(a->old_bs), bdrv_get_node_name(new_bs));
        return false;
    }
    bdrv_ref(new_bs);
    a->new_bs = new_bs;
    return true;
}

static bool snapshot_commit(SnapshotAction *a, Error **errp)
{
    if (bdrv_append(a->new_bs, a->old_bs, errp) < 0) {
        return false;
    }
    a->appended = true;
    return true;
}

static void snapshot_undo(SnapshotAction *a)
{
    if (a->appended) {
        bdrv_replace_node(a->new_bs, a->old_bs, NULL);
        bdrv_set_backing_hd(a->new_bs, NULL, NULL);
    }
}

static void snapshot_clean(SnapshotAction *a)
{
    if (a->new_bs) {
        bdrv_unref(a->new_bs);
    }
}

void qmp_blockdev_snapshot_sync(const char *device, const char *node_name,
                                const char *snapshot_file, const char *snapshot_node_name,
                                const char *format, bool has_mode, NewImageMode mode,
                                Error **errp)
{
    BlockdevSnapshotSync s = {
        .device = (char *)device, .node_name = (char *)node_name,
        .snapshot_file = (char *)snapshot_file,
        .snapshot_node_name = (char *)snapshot_node_name, .format = (char *)format,
        .has_mode = has_mode, .mode = mode,
    };
    SnapshotAction a = { 0 };

    if (snapshot_sync_prepare(&a, &s, errp)) {
        snapshot_commit(&a, errp);
    }
    snapshot_clean(&a);
}

void qmp_blockdev_snapshot(const char *node, const char *overlay, Error **errp)
{
    BlockdevSnapshot s = { .node = (char *)node, .overlay = (char *)overlay };
    SnapshotAction a = { 0 };

    if (snapshot_prepare(&a, &s, errp)) {
        snapshot_commit(&a, errp);
    }
    snapshot_clean(&a);
}

/* ---- transaction ---- */

/*
 * One action of a transaction. Phases: prepare every action in order (each may
 * fail); then the snapshot commits (bdrv_append, which may fail); then the
 * commits that cannot fail (bitmap removal, starting the backup jobs). A failure
 * anywhere aborts every action prepared so far, in reverse order.
 */
typedef struct TxnAction {
    TransactionActionKind kind;
    SnapshotAction snap;
    BitmapAction bitmap;
    Job *job;                         /* backup: created, started on commit */
    BlockDriverState *drained;        /* backup: its source, drained until clean */
} TxnAction;

static bool txn_is_bitmap(TransactionActionKind k)
{
    switch (k) {
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ADD:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_REMOVE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_CLEAR:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ENABLE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_DISABLE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_MERGE:
        return true;
    default:
        return false;
    }
}

static bool txn_prepare(TxnAction *t, TransactionAction *act, JobTxn *job_txn, Error **errp)
{
    Error *local_err = NULL;
    const char *device;

    t->kind = act->q_type;
    if (txn_is_bitmap(act->q_type)) {
        return bitmap_action_prepare(&t->bitmap, act, errp);
    }
    switch (act->q_type) {
    case TRANSACTION_ACTION_KIND_ABORT:
        error_setg(errp, "Transaction aborted using Abort action");
        return false;
    case TRANSACTION_ACTION_KIND_BLOCKDEV_SNAPSHOT_SYNC:
        return snapshot_sync_prepare(&t->snap, act->u.blockdev_snapshot_sync.data, errp);
    case TRANSACTION_ACTION_KIND_BLOCKDEV_SNAPSHOT:
        return snapshot_prepare(&t->snap, act->u.blockdev_snapshot.data, errp);
    case TRANSACTION_ACTION_KIND_BLOCKDEV_BACKUP:
    case TRANSACTION_ACTION_KIND_DRIVE_BACKUP:
        /*
         * Like QEMU, the source stays drained from prepare to clean: the job,
         * started on commit, pauses at once and resumes at the end.
         */
        device = act->q_type == TRANSACTION_ACTION_KIND_DRIVE_BACKUP
                 ? act->u.drive_backup.data->device : act->u.blockdev_backup.data->device;
        t->drained = bdrv_lookup_bs(device, device, NULL);
        if (t->drained) {
            bdrv_ref(t->drained);
            bdrv_drained_begin(t->drained);
        }
        break;
    default:
        break;
    }
    switch (act->q_type) {
    case TRANSACTION_ACTION_KIND_BLOCKDEV_BACKUP:
        do_blockdev_backup(act->u.blockdev_backup.data, job_txn, &t->job, &local_err);
        break;
    case TRANSACTION_ACTION_KIND_DRIVE_BACKUP:
        do_drive_backup(act->u.drive_backup.data, job_txn, &t->job, &local_err);
        break;
    default:
        error_setg(errp, "Action '%s' is not supported in a transaction yet",
                   TransactionActionKind_str(act->q_type));
        return false;
    }
    if (local_err) {
        error_propagate(errp, local_err);
        t->job = NULL;
        return false;
    }
    /* held until the end, so that a grouped abort cannot free it under us */
    job_ref(t->job);
    return true;
}

static void txn_abort(TxnAction *t)
{
    if (txn_is_bitmap(t->kind)) {
        bitmap_action_abort(&t->bitmap);
    } else if (t->job) {
        if (!job_is_completed(t->job)) {
            job_cancel_sync(t->job, true);
        }
    } else {
        snapshot_undo(&t->snap);
    }
}

static void txn_commit(TxnAction *t)
{
    if (txn_is_bitmap(t->kind)) {
        bitmap_action_commit(&t->bitmap);
    } else if (t->job) {
        job_start(t->job);
    }
}

static void txn_clean(TxnAction *t)
{
    if (t->drained) {
        bdrv_drained_end(t->drained);
        bdrv_unref(t->drained);
        t->drained = NULL;
    }
    if (t->job) {
        job_unref(t->job);
        t->job = NULL;
    }
    snapshot_clean(&t->snap);
}

void qmp_transaction(TransactionActionList *actions, TransactionProperties *properties,
                     Error **errp)
{
    bool grouped = properties && properties->has_completion_mode &&
                   properties->completion_mode == ACTION_COMPLETION_MODE_GROUPED;
    size_t n = 0, i, prepared = 0;
    g_autofree TxnAction *acts = NULL;
    JobTxn *job_txn = grouped ? job_txn_new() : NULL;
    TransactionActionList *l;
    bool ok = true;

    for (l = actions; l; l = l->next) {
        n++;
    }
    acts = g_new0(TxnAction, n + 1);
    for (l = actions, i = 0; l && ok; l = l->next, i++) {
        TransactionAction *act = l->value;

        if (grouped && act->q_type != TRANSACTION_ACTION_KIND_ABORT &&
            act->q_type != TRANSACTION_ACTION_KIND_BLOCKDEV_BACKUP &&
            act->q_type != TRANSACTION_ACTION_KIND_DRIVE_BACKUP) {
            error_setg(errp, "Action '%s' does not support Transaction property "
                       "completion-mode = grouped", TransactionActionKind_str(act->q_type));
            ok = false;
            break;
        }
        prepared++;
        ok = txn_prepare(&acts[i], act, job_txn, errp);
    }
    for (i = 0; ok && i < n; i++) {
        if (acts[i].snap.new_bs) {
            ok = snapshot_commit(&acts[i].snap, errp);
        }
    }
    if (ok) {
        for (i = 0; i < n; i++) {
            txn_commit(&acts[i]);
        }
    } else {
        for (i = prepared; i > 0; i--) {
            txn_abort(&acts[i - 1]);
        }
    }
    for (i = 0; i < prepared; i++) {
        txn_clean(&acts[i]);
    }
    if (job_txn) {
        job_txn_unref(job_txn);
    }
}

/* ---- events ---- */

static void block_io_error_event(BlockBackend *blk, bool is_read, BlockErrorAction action,
                                 int error)
{
    BlockDriverState *bs = blk_bs(blk);

    qapi_event_send_block_io_error(blk_name(blk), bs ? bdrv_get_node_name(bs) : NULL,
                                   is_read ? IO_OPERATION_TYPE_READ : IO_OPERATION_TYPE_WRITE,
                                   action, blk_get_dev_path(blk) != NULL, error == ENOSPC,
                                   strerror(error));
}

static void block_corruption_event(BlockDriverState *bs, const char *msg, int64_t offset,
                                   int64_t size, bool fatal)
{
    qapi_event_send_block_image_corrupted(bdrv_get_device_name(bs), bdrv_get_node_name(bs),
                                          msg, offset >= 0, offset, size >= 0, size, fatal);
}

void block_monitor_init(void)
{
    blk_set_io_error_hook(block_io_error_event);
    bdrv_set_corruption_hook(block_corruption_event);
}

/* ---- helpers of HMP commands ---- */

BlockBackend *block_monitor_io_backend(const char *device, Error **errp)
{
    BlockBackend *blk = blk_by_name(device);
    BlockDriverState *bs;

    if (blk) {
        blk_ref(blk);
        return blk;
    }
    bs = bdrv_lookup_bs(NULL, device, errp);
    if (!bs) {
        return NULL;
    }
    blk = blk_new(0, BLK_PERM_ALL);
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    return blk;
}

/* Copy every range allocated in top (not below) into its backing node. */
static int commit_top(BlockDriverState *top)
{
    BlockDriverState *base = bdrv_backing_bs(top);
    bool base_ro = base && bdrv_is_read_only(base);
    const int64_t chunk = 1 << 20;
    BlockBackend *src = NULL, *dst = NULL;
    int64_t len, off, n;
    void *buf = NULL;
    int ret = 0;

    if (!base) {
        return -ENOTSUP;
    }
    if (base_ro && bdrv_reopen_set_read_only(base, false, NULL) < 0) {
        return -EACCES;
    }
    src = blk_new(BLK_PERM_CONSISTENT_READ, BLK_PERM_ALL);
    dst = blk_new(BLK_PERM_WRITE | BLK_PERM_RESIZE, BLK_PERM_ALL);
    if (blk_insert_bs(src, top, NULL) < 0 || blk_insert_bs(dst, base, NULL) < 0) {
        ret = -EPERM;
        goto out;
    }
    len = blk_getlength(src);
    if (len < 0 || blk_getlength(dst) < 0) {
        ret = len < 0 ? len : -EIO;
        goto out;
    }
    if (blk_getlength(dst) < len) {
        ret = blk_truncate(dst, len, false, PREALLOC_MODE_OFF, 0, NULL);
        if (ret < 0) {
            goto out;
        }
    }
    buf = g_malloc(chunk);
    for (off = 0; off < len; off += n) {
        ret = bdrv_is_allocated(top, off, MIN(chunk, len - off), &n);
        if (ret < 0) {
            goto out;
        }
        if (ret && ((ret = blk_pread(src, off, n, buf, 0)) < 0 ||
                    (ret = blk_pwrite(dst, off, n, buf, 0)) < 0)) {
            goto out;
        }
    }
    ret = blk_flush(dst);
    if (ret == 0 && top->drv->make_empty) {
        /* as QEMU's commit: what now lives in the backing file leaves the top */
        ret = top->drv->make_empty(top);
        if (ret == 0) {
            ret = bdrv_flush(top);
        }
    }
out:
    g_free(buf);
    blk_unref(src);
    blk_unref(dst);
    if (base_ro) {
        bdrv_reopen_set_read_only(base, true, NULL);
    }
    return ret < 0 ? ret : 0;
}

int block_commit_device(const char *device, Error **errp)
{
    BlockBackend *blk;

    if (!strcmp(device, "all")) {
        for (blk = blk_next(NULL); blk; blk = blk_next(blk)) {
            BlockDriverState *bs = blk_bs(blk);
            int ret = bs && bdrv_backing_bs(bs) ? commit_top(bs) : 0;
            if (ret < 0) {
                return ret;
            }
        }
        return 0;
    }
    blk = blk_by_name(device);
    if (!blk) {
        error_setg(errp, "Device '%s' not found", device);
        return -ENODEV;
    }
    if (!blk_bs(blk)) {
        error_setg(errp, "Device '%s' has no medium", device);
        return -ENOMEDIUM;
    }
    return commit_top(blk_bs(blk));
}
