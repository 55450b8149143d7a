/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * export-qmp.c: block exports as QMP sees them. The NBD server commands
 * (nbd-server-start/-stop, the deprecated nbd-server-add/-remove), the generic
 * block-export-add/-del, query-block-exports and BLOCK_EXPORT_DELETED, on top
 * of the C API of include/nbd/nbd.h. Error texts and their order are QEMU 7.2's.
 *
 * A BlockExport is the monitor's record of one export: its id, and the NBD
 * export behind it. Removing an export (block-export-del, nbd-server-remove,
 * nbd-server-stop) hides it from new clients at once; the record stays, marked
 * shutting-down, until the NBD server calls back that the last client has left,
 * and only then is BLOCK_EXPORT_DELETED sent and the id free again. Main loop only.
 */
#include "util/osdep.h"
#include "block/block-int.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"
#include "block/monitor/block-monitor.h"
#include "monitor/monitor.h"
#include "monitor/qmp-cmds-jobs.h"
#include "nbd/nbd.h"
#include "qapi-commands.h"
#include "qapi-events.h"

#define NBD_EXPORT_MAX_STRING 4096      /* NBD_MAX_STRING_SIZE of the protocol */

typedef struct BlockExport {
    char *id;
    NBDExport *nbd;
    bool shutting_down;
} BlockExport;

static GList *block_exports;        /* BlockExport *, newest first as QEMU lists them */

static BlockExport *block_export_find(const char *id)
{
    for (GList *l = block_exports; l; l = l->next) {
        BlockExport *exp = l->data;
        if (!strcmp(exp->id, id)) {
            return exp;
        }
    }
    return NULL;
}

/* The NBD server's callback: the export is gone for good. */
static void block_export_deleted(void *opaque)
{
    BlockExport *exp = opaque;

    block_exports = g_list_remove(block_exports, exp);
    qapi_event_send_block_export_deleted(exp->id);
    g_free(exp->id);
    g_free(exp);
}

/* QEMU's id rule: a letter, then letters, digits, '-', '.', '_'. */
static bool export_id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

/* ---- nbd-server-start / -stop ---- */

/* SocketAddressLegacy into the C SocketAddress; fd names come from getfd. */
static SocketAddress *legacy_to_socket_address(SocketAddressLegacy *addr, Error **errp)
{
    g_autoptr(SocketAddress) sa = g_new0(SocketAddress, 1);

    switch (addr->q_type) {
    case QMP_SOCKET_ADDRESS_TYPE_INET: {
        QmpInetSocketAddress *in = addr->u.inet.data;
        sa->type = SOCKET_ADDRESS_TYPE_INET;
        sa->u.inet.host = g_strdup(in->host);
        sa->u.inet.port = g_strdup(in->port);
        sa->u.inet.ipv4 = in->has_ipv4 && in->ipv4;
        sa->u.inet.ipv6 = in->has_ipv6 && in->ipv6;
        break;
    }
    case QMP_SOCKET_ADDRESS_TYPE_UNIX:
        sa->type = SOCKET_ADDRESS_TYPE_UNIX;
        sa->u.q_unix.path = g_strdup(addr->u.q_unix.data->path);
        break;
    case QMP_SOCKET_ADDRESS_TYPE_FD: {
        const char *str = addr->u.fd.data->str;
        sa->type = SOCKET_ADDRESS_TYPE_FD;
        if (g_ascii_isdigit(str[0])) {
            sa->u.fd.str = g_strdup(str);
        } else {
            int fd = monitor_fd_get(monitor_cur(), str, errp);
            if (fd < 0) {
                return NULL;
            }
            sa->u.fd.str = g_strdup_printf("%d", fd);
        }
        break;
    }
    default:
        error_setg(errp, "vsock sockets are not supported");
        return NULL;
    }
    return g_steal_pointer(&sa);
}

void qmp_nbd_server_start(SocketAddressLegacy *addr, const char *tls_creds,
                          const char *tls_authz, bool has_max_connections,
                          uint32_t max_connections, Error **errp)
{
    g_autoptr(SocketAddress) sa = NULL;

    (void)tls_authz;        /* only meaningful with TLS credentials */
    if (nbd_server_is_running()) {
        error_setg(errp, "NBD server already running");
        return;
    }
    if (tls_creds) {
        /* there are no tls-creds-* objects: every id is unknown */
        error_setg(errp, "No TLS credentials with id '%s'", tls_creds);
        return;
    }
    sa = legacy_to_socket_address(addr, errp);
    if (sa) {
        nbd_server_start(sa, has_max_connections ? (int)MIN(max_connections, INT_MAX) : 0,
                         errp);
    }
}

void qmp_nbd_server_stop(Error **errp)
{
    /* removes every export; their deleted callbacks send the events */
    nbd_server_stop(errp);
}

/* ---- block-export-add ---- */

/* The NBD part of block-export-add, once the generic checks have passed. */
static NBDExport *export_nbd_create(BlockExport *exp, BlockBackend *blk,
                                    BlockExportOptions *arg, bool writable, Error **errp)
{
    BlockExportOptionsNbd *nbd = &arg->u.nbd;
    const char *name = nbd->name ? nbd->name : arg->node_name;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GPtrArray) objs = g_ptr_array_new();

    if (!nbd_server_is_running()) {
        error_setg(errp, "NBD server not running");
        return NULL;
    }
    if (strlen(name) > NBD_EXPORT_MAX_STRING) {
        error_setg(errp, "export name '%s' too long", name);
        return NULL;
    }
    if (nbd->description && strlen(nbd->description) > NBD_EXPORT_MAX_STRING) {
        error_setg(errp, "description '%s' too long", nbd->description);
        return NULL;
    }
    for (BlockDirtyBitmapOrStrList *l = nbd->bitmaps; l; l = l->next) {
        BlockDirtyBitmapOrStr *b = l->value;
        BdrvDirtyBitmap *bm = NULL;

        if (b->type == QTYPE_QDICT) {
            bm = block_dirty_bitmap_lookup(b->u.external.node, b->u.external.name, NULL, errp);
            if (!bm) {
                return NULL;
            }
        }
        g_ptr_array_add(names, b->type == QTYPE_QDICT ? b->u.external.name : b->u.local);
        g_ptr_array_add(objs, bm);
    }
    g_ptr_array_add(names, NULL);
    g_ptr_array_add(objs, NULL);

    NBDExportOptions o = {
        .name = name,
        .description = nbd->description,
        .writable = writable,
        .allocation_depth = nbd->has_allocation_depth && nbd->allocation_depth,
        .bitmaps = (const char *const *)names->pdata,
        .bitmap_objs = (BdrvDirtyBitmap *const *)objs->pdata,
        .multi_conn = -1,
        .deleted = block_export_deleted,
        .opaque = exp,
    };
    return nbd_export_add(blk, &o, errp);
}

static BlockExport *block_export_add(BlockExportOptions *arg, Error **errp)
{
    bool writable = arg->has_writable && arg->writable;
    BlockDriverState *bs;
    BlockBackend *blk;
    BlockExport *exp;

    if (!export_id_wellformed(arg->id)) {
        error_setg(errp, "Invalid block export id");
        return NULL;
    }
    if (block_export_find(arg->id)) {
        error_setg(errp, "Block export id '%s' is already in use", arg->id);
        return NULL;
    }
    bs = bdrv_lookup_bs(NULL, arg->node_name, errp);
    if (!bs) {
        return NULL;
    }
    if (arg->iothread) {
        error_setg(errp, "Cannot find iothread %s", arg->iothread);
        return NULL;
    }
    if (writable && bdrv_is_read_only(bs)) {
        error_setg(errp, "Cannot export read-only node as writable");
        return NULL;
    }
    /*
     * The destination of a storage migration exports its disks before the
     * switch-over: take the image over from the (absent) migration peer now.
     */
    if (bdrv_activate(bs, errp) < 0) {
        return NULL;
    }

    blk = blk_new(BLK_PERM_CONSISTENT_READ | (writable ? BLK_PERM_WRITE : 0), BLK_PERM_ALL);
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    blk_set_enable_write_cache(blk, !(arg->has_writethrough && arg->writethrough));
    exp = g_new0(BlockExport, 1);
    exp->id = g_strdup(arg->id);
    exp->nbd = export_nbd_create(exp, blk, arg, writable, errp);
    blk_unref(blk);                 /* the NBD export holds its own reference */
    if (!exp->nbd) {
        g_free(exp->id);
        g_free(exp);
        return NULL;
    }
    block_exports = g_list_prepend(block_exports, exp);
    return exp;
}

void qmp_block_export_add(BlockExportOptions *arg, Error **errp)
{
    block_export_add(arg, errp);
}

void qmp_nbd_server_add(NbdServerAddOptions *arg, Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(arg->device, arg->device, errp);
    const char *name = arg->name ? arg->name : arg->device;
    BlockDirtyBitmapOrStrList bitmap = {
        .value = &(BlockDirtyBitmapOrStr){ .type = QTYPE_QSTRING, .u.local = arg->bitmap },
    };

    if (!bs) {
        return;
    }
    /* nbd-server-add quietly exports a read-only device read-only */
    BlockExportOptions opts = {
        .q_type = BLOCK_EXPORT_TYPE_NBD,
        .id = (char *)name,
        .node_name = (char *)bdrv_get_node_name(bs),
        .has_writable = true,
        .writable = arg->has_writable && arg->writable && !bdrv_is_read_only(bs),
        .u.nbd = {
            .name = (char *)name,
            .description = arg->description,
            .bitmaps = arg->bitmap ? &bitmap : NULL,
        },
    };
    block_export_add(&opts, errp);
}

/* ---- block-export-del / nbd-server-remove ---- */

void qmp_block_export_del(const char *id, bool has_mode, BlockExportRemoveMode mode,
                          Error **errp)
{
    BlockExport *exp = block_export_find(id);
    bool hard = has_mode && mode == BLOCK_EXPORT_REMOVE_MODE_HARD;

    if (!exp) {
        error_setg(errp, "Export '%s' is not found", id);
        return;
    }
    if (exp->shutting_down || nbd_export_is_removed(exp->nbd)) {
        error_setg(errp, "Export '%s' is already shutting down", id);
        return;
    }
    if (!hard && nbd_export_client_count(exp->nbd)) {
        error_setg(errp, "export '%s' still in use", id);
        error_append_hint(errp, "Use mode='hard' to force client disconnect\n");
        return;
    }
    exp->shutting_down = true;
    nbd_export_remove(nbd_export_name(exp->nbd), hard, errp);
}

void qmp_nbd_server_remove(const char *name, bool has_mode, BlockExportRemoveMode mode,
                           Error **errp)
{
    qmp_block_export_del(name, has_mode, mode, errp);
}

/* ---- query-block-exports ---- */

BlockExportInfoList *qmp_query_block_exports(Error **errp)
{
    BlockExportInfoList *head = NULL, **tail = &head;

    for (GList *l = block_exports; l; l = l->next) {
        BlockExport *exp = l->data;
        BlockExportInfo *info = g_new0(BlockExportInfo, 1);

        info->id = g_strdup(exp->id);
        info->q_type = BLOCK_EXPORT_TYPE_NBD;
        info->node_name = g_strdup(bdrv_get_node_name(blk_bs(nbd_export_blk(exp->nbd))));
        info->shutting_down = exp->shutting_down || nbd_export_is_removed(exp->nbd);
        *tail = g_new0(BlockExportInfoList, 1);
        (*tail)->value = info;
        tail = &(*tail)->next;
    }
    return head;
}
