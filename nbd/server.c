/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * server.c: the NBD server: the listening socket, exports, and the transmission
 * phase of each client (the handshake is in server-handshake.c).
 *
 *   accept ──> client coroutine: negotiate ──> loop { read request, validate,
 *                  read WRITE payload, spawn a request coroutine }
 *              request coroutine: block I/O ──> reply (send_lock held) ──> done
 *
 * Hostile input is normal: a bad magic, an oversized WRITE, or EOF in the middle
 * of a request drops the client; everything else that is wrong with a request
 * (range, flags, type, permissions) gets an error reply and the client goes on.
 * At most NBD_MAX_IN_FLIGHT requests of one client run at once, so a client can
 * pin at most 16 * 32 MiB of buffers.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block.h"
#include "nbd/server-int.h"

typedef struct NBDServer {
    int listen_fd;                  /* -1: only nbd_server_serve_fd() clients */
    int max_connections;            /* 0 = unlimited */
    bool accepting;
} NBDServer;

static NBDServer *nbd_server;
static GList *nbd_exports;          /* NBDExport *, visible ones */
static GList *nbd_clients;          /* NBDClient * */
static void (*client_closed_hook)(void *opaque);
static void *client_closed_opaque;

/* ---- exports ---- */

NBDExport *nbd_export_lookup(const char *name)
{
    for (GList *l = nbd_exports; l; l = l->next) {
        NBDExport *exp = l->data;
        if (!strcmp(exp->name, name)) {
            return exp;
        }
    }
    return NULL;
}

NBDExport *nbd_export_find(const char *name)
{
    return nbd_export_lookup(name);
}

NBDExport *nbd_export_next(NBDExport *exp)
{
    if (!exp) {
        return nbd_exports ? nbd_exports->data : NULL;
    }
    GList *l = g_list_find(nbd_exports, exp);
    return l && l->next ? l->next->data : NULL;
}

const char *nbd_export_name(NBDExport *exp)
{
    return exp->name;
}

BlockBackend *nbd_export_blk(NBDExport *exp)
{
    return exp->blk;
}

bool nbd_export_is_removed(NBDExport *exp)
{
    return exp->removed;
}

unsigned nbd_export_client_count(NBDExport *exp)
{
    unsigned n = 0;

    for (GList *l = nbd_clients; l; l = l->next) {
        n += ((NBDClient *)l->data)->exp == exp;
    }
    return n;
}

void nbd_export_ref(NBDExport *exp)
{
    exp->refcnt++;
}

void nbd_export_unref(NBDExport *exp)
{
    assert(exp->refcnt > 0);
    if (--exp->refcnt) {
        return;
    }
    for (unsigned i = 0; i < exp->nr_bitmaps; i++) {
        bdrv_dirty_bitmap_set_busy(exp->bitmaps[i], false);
    }
    blk_unref(exp->blk);
    if (exp->deleted) {
        exp->deleted(exp->opaque);
    }
    g_free(exp->name);
    g_free(exp->description);
    g_free(exp->bitmaps);
    g_strfreev(exp->bitmap_names);
    g_free(exp);
}

/* Bitmaps live on the node or further down its filter/backing chain. */
static BdrvDirtyBitmap *nbd_find_bitmap(BlockDriverState *bs, const char *name)
{
    for (; bs; bs = bdrv_filter_or_cow_bs(bs)) {
        BdrvDirtyBitmap *bm = bdrv_find_dirty_bitmap(bs, name);
        if (bm) {
            return bm;
        }
    }
    return NULL;
}

static bool nbd_export_add_bitmaps(NBDExport *exp, const NBDExportOptions *o, Error **errp)
{
    const char *const *names = o->bitmaps;
    unsigned n = names ? g_strv_length((char **)names) : 0;

    exp->bitmaps = g_new0(BdrvDirtyBitmap *, n + 1);
    exp->bitmap_names = g_new0(char *, n + 1);
    for (unsigned i = 0; i < n; i++) {
        BdrvDirtyBitmap *bm = o->bitmap_objs ? o->bitmap_objs[i] : NULL;
        BlockDriverState *bs = blk_bs(exp->blk);

        if (!bm) {
            bm = nbd_find_bitmap(bs, names[i]);
            if (!bm) {
                error_setg(errp, "Bitmap '%s' is not found", names[i]);
                return false;
            }
            bs = bdrv_dirty_bitmap_bs(bm);
        }
        if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, errp)) {
            return false;
        }
        if ((exp->eflags & NBD_FLAG_READ_ONLY) && bdrv_is_writable(bs) &&
            bdrv_dirty_bitmap_enabled(bm)) {
            error_setg(errp, "Enabled bitmap '%s' incompatible with readonly export", names[i]);
            return false;
        }
        exp->bitmaps[i] = bm;
        exp->bitmap_names[i] = g_strdup_printf("qemu:dirty-bitmap:%s", names[i]);
    }
    /* Busy only once all are found, so that a failure has nothing to undo. */
    for (unsigned i = 0; i < n; i++) {
        bdrv_dirty_bitmap_set_busy(exp->bitmaps[i], true);
    }
    exp->nr_bitmaps = n;
    return true;
}

NBDExport *nbd_export_add(BlockBackend *blk, const NBDExportOptions *o, Error **errp)
{
    const char *name = o->name ? o->name : "";

    if (strlen(name) > NBD_MAX_STRING_SIZE) {
        error_setg(errp, "export name '%s' too long", name);
        return NULL;
    }
    if (o->description && strlen(o->description) > NBD_MAX_STRING_SIZE) {
        error_setg(errp, "description '%s' too long", o->description);
        return NULL;
    }
    if (nbd_export_lookup(name)) {
        error_setg(errp, "NBD server already has export named '%s'", name);
        return NULL;
    }
    int64_t size = blk_getlength(blk);
    if (size < 0) {
        error_setg_errno(errp, -size, "Failed to determine the NBD export's length");
        return NULL;
    }
    NBDExport *exp = g_new0(NBDExport, 1);
    exp->name = g_strdup(name);
    exp->description = g_strdup(o->description);
    exp->blk = blk;
    blk_ref(blk);
    exp->size = size;
    exp->allocation_depth = o->allocation_depth;
    exp->deleted = o->deleted;
    exp->opaque = o->opaque;
    exp->refcnt = 1;
    exp->eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
                  NBD_FLAG_SEND_DF | NBD_FLAG_SEND_CACHE;
    bool readonly = !o->writable || blk_is_read_only(blk);
    if (readonly) {
        exp->eflags |= NBD_FLAG_READ_ONLY;
    } else {
        exp->eflags |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
    }
    if (o->multi_conn > 0 || (o->multi_conn < 0 && readonly)) {
        exp->eflags |= NBD_FLAG_CAN_MULTI_CONN;
    }
    if (!nbd_export_add_bitmaps(exp, o, errp)) {
        exp->deleted = NULL;
        nbd_export_unref(exp);
        return NULL;
    }
    nbd_exports = g_list_append(nbd_exports, exp);
    return exp;
}

bool nbd_export_remove(const char *name, bool hard, Error **errp)
{
    NBDExport *exp = nbd_export_lookup(name);

    if (!exp) {
        error_setg(errp, "Export '%s' is not found", name);
        return false;
    }
    nbd_exports = g_list_remove(nbd_exports, exp);
    exp->removed = true;
    if (hard) {
        for (GList *l = nbd_clients; l; l = l->next) {
            NBDClient *client = l->data;
            if (client->exp == exp) {
                nbd_sock_shutdown(&client->sock);
            }
        }
    }
    nbd_export_unref(exp);
    return true;
}

/* ---- replies ---- */

/* A simple reply, or a structured NONE/ERROR chunk with DONE. */
static int coroutine_fn nbd_send_status(NBDClient *client, uint64_t handle, int err,
                                        const char *msg)
{
    uint8_t buf[NBD_STRUCTURED_HDR_SIZE + 6 + 128];
    uint32_t wire = nbd_errno_to_wire(err);

    if (!client->structured) {
        nbd_encode_simple_reply(buf, wire, handle);
        return nbd_sock_write(&client->sock, buf, NBD_SIMPLE_REPLY_SIZE);
    }
    size_t ml = wire ? MIN(strlen(msg), 128) : 0;
    NBDStructuredHdr h = {
        .flags = NBD_REPLY_FLAG_DONE,
        .type = wire ? NBD_REPLY_TYPE_ERROR : NBD_REPLY_TYPE_NONE,
        .handle = handle,
        .length = wire ? 6 + ml : 0,
    };
    nbd_encode_structured_hdr(buf, &h);
    if (wire) {
        nbd_st32(buf + NBD_STRUCTURED_HDR_SIZE, wire);
        nbd_st16(buf + NBD_STRUCTURED_HDR_SIZE + 4, ml);
        memcpy(buf + NBD_STRUCTURED_HDR_SIZE + 6, msg, ml);
    }
    return nbd_sock_write(&client->sock, buf, NBD_STRUCTURED_HDR_SIZE + h.length);
}

static int coroutine_fn nbd_send_read_data(NBDClient *client, const NBDRequest *req,
                                           void *data)
{
    uint8_t hdr[NBD_STRUCTURED_HDR_SIZE + 8];
    struct iovec iov[2] = { { .iov_base = hdr }, { .iov_base = data, .iov_len = req->len } };

    if (!client->structured) {
        nbd_encode_simple_reply(hdr, 0, req->handle);
        iov[0].iov_len = NBD_SIMPLE_REPLY_SIZE;
    } else {
        NBDStructuredHdr h = { .flags = NBD_REPLY_FLAG_DONE, .type = NBD_REPLY_TYPE_OFFSET_DATA,
                               .handle = req->handle, .length = 8 + req->len };
        nbd_encode_structured_hdr(hdr, &h);
        nbd_st64(hdr + NBD_STRUCTURED_HDR_SIZE, req->offset);
        iov[0].iov_len = sizeof(hdr);
    }
    return nbd_sock_writev(&client->sock, iov, req->len ? 2 : 1);
}

/* ---- block status ---- */

#define NBD_MAX_EXTENTS 4096

typedef struct NBDExtents {
    uint8_t *buf;                   /* u32 id, then (u32 len, u32 flags) pairs */
    unsigned count, max;
    uint64_t total;
} NBDExtents;

/* Append an extent, merging with the previous one when the flags match. */
static bool nbd_extent_add(NBDExtents *ex, uint64_t len, uint32_t flags)
{
    while (len) {
        uint8_t *last = ex->count ? ex->buf + 4 + 8 * (ex->count - 1) : NULL;
        if (last && nbd_ld32(last + 4) == flags && nbd_ld32(last) < UINT32_MAX) {
            uint64_t add = MIN(len, (uint64_t)UINT32_MAX - nbd_ld32(last));
            nbd_st32(last, nbd_ld32(last) + add);
            ex->total += add;
            len -= add;
            continue;
        }
        if (ex->count == ex->max) {
            return false;
        }
        uint8_t *e = ex->buf + 4 + 8 * ex->count++;
        uint32_t n = MIN(len, UINT32_MAX);
        nbd_st32(e, n);
        nbd_st32(e + 4, flags);
        ex->total += n;
        len -= n;
    }
    return true;
}

/* Fill ex for [off, off+len) of one context; -errno from block status. */
static int coroutine_fn nbd_collect_extents(NBDExport *exp, uint32_t ctx, uint64_t off,
                                            uint64_t len, NBDExtents *ex)
{
    BlockDriverState *bs = blk_bs(exp->blk);
    uint64_t end = off + len;

    while (off < end && ex->count <= ex->max) {
        int64_t pnum = 0;
        uint32_t flags;
        if (ctx >= NBD_CTX_BITMAP0) {
            BdrvDirtyBitmap *bm = exp->bitmaps[ctx - NBD_CTX_BITMAP0];
            int64_t bsize = bdrv_dirty_bitmap_size(bm), next;
            if ((int64_t)off >= bsize) {
                pnum = end - off;
                flags = 0;
            } else {
                bool dirty = bdrv_dirty_bitmap_get(bm, off);
                int64_t span = MIN((int64_t)(end - off), bsize - (int64_t)off);
                next = dirty ? bdrv_dirty_bitmap_next_zero(bm, off, span)
                             : bdrv_dirty_bitmap_next_dirty(bm, off, span);
                pnum = next < 0 ? span : next - (int64_t)off;
                flags = dirty ? NBD_STATE_DIRTY : 0;
            }
        } else {
            int depth = 0;
            bool want_zero = ctx == NBD_CTX_BASE_ALLOCATION;
            int ret = bdrv_co_block_status_above(bs, NULL, want_zero, off, end - off, &pnum,
                                                 NULL, NULL, &depth);
            if (ret < 0) {
                return ret;
            }
            if (want_zero) {
                flags = (ret & BDRV_BLOCK_DATA ? 0 : NBD_STATE_HOLE) |
                        (ret & BDRV_BLOCK_ZERO ? NBD_STATE_ZERO : 0);
            } else {
                flags = ret & BDRV_BLOCK_ALLOCATED ? depth : 0;
            }
            if (pnum <= 0) {
                /* past the node's end (it shrank): report the rest as a hole */
                pnum = end - off;
                flags = want_zero ? NBD_STATE_HOLE | NBD_STATE_ZERO : 0;
            }
        }
        if (!nbd_extent_add(ex, pnum, flags)) {
            break;
        }
        off += pnum;
    }
    return 0;
}

static int coroutine_fn nbd_send_block_status(NBDClient *client, const NBDRequest *req)
{
    NBDExport *exp = client->exp;
    uint32_t ids[2 + 64];
    unsigned n = 0;

    if (client->ctx_base) {
        ids[n++] = NBD_CTX_BASE_ALLOCATION;
    }
    if (client->ctx_depth) {
        ids[n++] = NBD_CTX_ALLOCATION_DEPTH;
    }
    for (unsigned i = 0; i < exp->nr_bitmaps && n < ARRAY_SIZE(ids); i++) {
        if (client->ctx_bitmaps[i]) {
            ids[n++] = NBD_CTX_BITMAP0 + i;
        }
    }
    bool one = req->flags & NBD_CMD_FLAG_REQ_ONE;
    NBDExtents ex = { .max = one ? 1 : NBD_MAX_EXTENTS };
    g_autofree uint8_t *buf = g_malloc(NBD_STRUCTURED_HDR_SIZE + 4 + 8 * ex.max);
    int ret = 0;

    /* replies of other requests must not come between our chunks */
    qemu_co_mutex_lock(&client->send_lock);
    for (unsigned i = 0; i < n; i++) {
        ex.buf = buf + NBD_STRUCTURED_HDR_SIZE;
        ex.count = 0;
        ex.total = 0;
        ret = nbd_collect_extents(exp, ids[i], req->offset, req->len, &ex);
        if (ret < 0) {
            ret = nbd_send_status(client, req->handle, -ret, "block status failed");
            goto out;
        }
        nbd_st32(ex.buf, ids[i]);
        NBDStructuredHdr h = {
            .flags = i == n - 1 ? NBD_REPLY_FLAG_DONE : 0,
            .type = NBD_REPLY_TYPE_BLOCK_STATUS,
            .handle = req->handle,
            .length = 4 + 8 * ex.count,
        };
        nbd_encode_structured_hdr(buf, &h);
        ret = nbd_sock_write(&client->sock, buf, NBD_STRUCTURED_HDR_SIZE + h.length);
        if (ret < 0) {
            goto out;
        }
    }
out:
    qemu_co_mutex_unlock(&client->send_lock);
    return ret;
}

/* ---- requests ---- */

typedef struct NBDRequestData {
    NBDClient *client;
    NBDRequest req;
    void *buf;                      /* WRITE payload, READ data */
    int err;                        /* > 0: reply with this errno without doing I/O */
    const char *msg;
} NBDRequestData;

static int coroutine_fn nbd_do_request(NBDClient *client, NBDRequest *req, void *buf)
{
    BlockBackend *blk = client->exp->blk;
    BdrvRequestFlags fua = req->flags & NBD_CMD_FLAG_FUA ? BDRV_REQ_FUA : 0;
    int ret;

    switch (req->type) {
    case NBD_CMD_READ:
        return blk_co_pread(blk, req->offset, req->len, buf, 0);
    case NBD_CMD_WRITE:
        return blk_co_pwrite(blk, req->offset, req->len, buf, fua);
    case NBD_CMD_WRITE_ZEROES: {
        BdrvRequestFlags f = fua;
        if (!(req->flags & NBD_CMD_FLAG_NO_HOLE)) {
            f |= BDRV_REQ_MAY_UNMAP;
        }
        if (req->flags & NBD_CMD_FLAG_FAST_ZERO) {
            f |= BDRV_REQ_NO_FALLBACK;
        }
        return blk_co_pwrite_zeroes(blk, req->offset, req->len, f);
    }
    case NBD_CMD_TRIM:
        ret = blk_co_pdiscard(blk, req->offset, req->len);
        if (ret == 0 && fua) {
            ret = blk_co_flush(blk);
        }
        return ret;
    case NBD_CMD_FLUSH:
        return blk_co_flush(blk);
    case NBD_CMD_CACHE:
        return 0;       /* a hint; our back ends have no prefetch */
    default:
        return -EINVAL;
    }
}

static void coroutine_fn nbd_request_co(void *opaque)
{
    NBDRequestData *rd = opaque;
    NBDClient *client = rd->client;
    NBDRequest *req = &rd->req;
    int ret;

    if (rd->err) {
        qemu_co_mutex_lock(&client->send_lock);
        ret = nbd_send_status(client, req->handle, rd->err, rd->msg);
        qemu_co_mutex_unlock(&client->send_lock);
    } else if (req->type == NBD_CMD_BLOCK_STATUS) {
        ret = nbd_send_block_status(client, req);
    } else {
        int io = nbd_do_request(client, req, rd->buf);
        if (io == -ENOTSUP && !(req->flags & NBD_CMD_FLAG_FAST_ZERO)) {
            io = -EINVAL;
        }
        qemu_co_mutex_lock(&client->send_lock);
        if (io == 0 && req->type == NBD_CMD_READ) {
            ret = nbd_send_read_data(client, req, rd->buf);
        } else {
            ret = nbd_send_status(client, req->handle, io < 0 ? -io : 0, "request failed");
        }
        qemu_co_mutex_unlock(&client->send_lock);
    }
    if (ret < 0) {
        nbd_sock_shutdown(&client->sock);
    }
    g_free(rd->buf);
    g_free(rd);
    client->in_flight--;
    qemu_co_queue_next(&client->slots);
}

/*
 * Check a request before any I/O: 0, or the errno of an error reply in *msg.
 * Called after the WRITE payload was read, so a failed WRITE still leaves the
 * stream in sync.
 */
static int nbd_check_request(NBDClient *client, const NBDRequest *req, const char **msg)
{
    NBDExport *exp = client->exp;
    static const uint16_t allowed[] = {
        [NBD_CMD_READ] = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_DF,
        [NBD_CMD_WRITE] = NBD_CMD_FLAG_FUA,
        [NBD_CMD_FLUSH] = 0,
        [NBD_CMD_TRIM] = NBD_CMD_FLAG_FUA,
        [NBD_CMD_CACHE] = 0,
        [NBD_CMD_WRITE_ZEROES] = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO,
        [NBD_CMD_BLOCK_STATUS] = NBD_CMD_FLAG_REQ_ONE,
    };
    bool writes = req->type == NBD_CMD_WRITE || req->type == NBD_CMD_WRITE_ZEROES ||
                  req->type == NBD_CMD_TRIM;

    *msg = "invalid request";
    if (req->type >= ARRAY_SIZE(allowed) || req->type == NBD_CMD_DISC) {
        *msg = "unsupported command";
        return EINVAL;
    }
    if (req->flags & ~allowed[req->type]) {
        *msg = "unsupported flags";
        return EINVAL;
    }
    if ((req->flags & NBD_CMD_FLAG_DF) && !client->structured) {
        return EINVAL;
    }
    if (req->type == NBD_CMD_FLUSH) {
        return req->offset || req->len ? EINVAL : 0;
    }
    if (req->type == NBD_CMD_READ && req->len > NBD_MAX_BUFFER_SIZE) {
        *msg = "request too large";
        return EINVAL;
    }
    if (req->offset > exp->size || req->len > exp->size - req->offset) {
        *msg = "request out of bounds";
        return req->type == NBD_CMD_WRITE || req->type == NBD_CMD_WRITE_ZEROES ? ENOSPC : EINVAL;
    }
    if (writes && (exp->eflags & NBD_FLAG_READ_ONLY)) {
        *msg = "export is read-only";
        return EPERM;
    }
    if (req->type == NBD_CMD_BLOCK_STATUS) {
        if (!client->structured || !client->ctx_count || !req->len) {
            *msg = "block status without negotiated meta contexts";
            return EINVAL;
        }
    }
    return 0;
}

/* Read one request (and its payload); NULL when the client must go. */
static NBDRequestData *coroutine_fn nbd_receive_request(NBDClient *client, bool *disc)
{
    uint8_t hdr[NBD_REQUEST_SIZE];
    NBDRequest req;

    if (nbd_sock_read(&client->sock, hdr, sizeof(hdr)) < 0 || !nbd_decode_request(hdr, &req)) {
        return NULL;
    }
    if (req.type == NBD_CMD_DISC) {
        *disc = true;
        return NULL;
    }
    NBDRequestData *rd = g_new0(NBDRequestData, 1);
    rd->client = client;
    rd->req = req;
    if (req.type == NBD_CMD_WRITE) {
        /* a payload we cannot hold cannot be skipped safely either */
        if (req.len > NBD_MAX_BUFFER_SIZE ||
            !(rd->buf = g_try_malloc(req.len ? req.len : 1)) ||
            nbd_sock_read(&client->sock, rd->buf, req.len) < 0) {
            g_free(rd->buf);
            g_free(rd);
            return NULL;
        }
    }
    rd->err = nbd_check_request(client, &req, &rd->msg);
    if (!rd->err && req.type == NBD_CMD_READ) {
        rd->buf = g_try_malloc(req.len ? req.len : 1);
        if (!rd->buf) {
            rd->err = ENOMEM;
            rd->msg = "out of memory";
        }
    }
    return rd;
}

static void nbd_client_accepting_update(void);

static void coroutine_fn nbd_client_co(void *opaque)
{
    NBDClient *client = opaque;
    bool disc = false;

    if (nbd_server_negotiate(client) == 0 && client->exp) {
        while (!client->closing) {
            while (client->in_flight >= NBD_MAX_IN_FLIGHT) {
                qemu_co_queue_wait(&client->slots, NULL);
            }
            NBDRequestData *rd = nbd_receive_request(client, &disc);
            if (!rd) {
                break;
            }
            client->in_flight++;
            Coroutine *co = qemu_coroutine_create(nbd_request_co, rd);
            aio_co_enter(qemu_get_aio_context(), co);
        }
    }
    /* NBD_CMD_DISC: let the requests in flight reply first; else just fail them */
    if (!disc) {
        nbd_sock_shutdown(&client->sock);
    }
    while (client->in_flight) {
        qemu_co_queue_wait(&client->slots, NULL);
    }
    nbd_sock_shutdown(&client->sock);
    nbd_sock_close(&client->sock);
    nbd_clients = g_list_remove(nbd_clients, client);
    if (client->exp) {
        nbd_export_unref(client->exp);
    }
    g_free(client->ctx_bitmaps);
    g_free(client);
    nbd_client_accepting_update();
    if (client_closed_hook) {
        client_closed_hook(client_closed_opaque);
    }
}

void nbd_server_serve_fd(int fd)
{
    NBDClient *client = g_new0(NBDClient, 1);

    nbd_sock_init(&client->sock, fd);
    qemu_co_mutex_init(&client->send_lock);
    qemu_co_queue_init(&client->slots);
    nbd_clients = g_list_append(nbd_clients, client);
    client->recv_co = qemu_coroutine_create(nbd_client_co, client);
    aio_co_enter(qemu_get_aio_context(), client->recv_co);
}

unsigned nbd_server_client_count(void)
{
    return g_list_length(nbd_clients);
}

void nbd_server_set_client_closed_hook(void (*hook)(void *opaque), void *opaque)
{
    client_closed_hook = hook;
    client_closed_opaque = opaque;
}

/* ---- the listener ---- */

static void nbd_accept(void *opaque)
{
    Error *err = NULL;
    int fd = socket_accept(nbd_server->listen_fd, &err);

    if (fd < 0) {
        error_free(err);
        return;
    }
    nbd_server_serve_fd(fd);
    nbd_client_accepting_update();
}

/* Listen only while below max_connections (QEMU stops accepting at the limit). */
static void nbd_client_accepting_update(void)
{
    if (!nbd_server || nbd_server->listen_fd < 0) {
        return;
    }
    bool want = !nbd_server->max_connections ||
                g_list_length(nbd_clients) < (unsigned)nbd_server->max_connections;
    if (want != nbd_server->accepting) {
        aio_set_fd_handler(qemu_get_aio_context(), nbd_server->listen_fd,
                           want ? nbd_accept : NULL, NULL, NULL);
        nbd_server->accepting = want;
    }
}

bool nbd_server_is_running(void)
{
    return nbd_server != NULL;
}

bool nbd_server_start_fd(int listen_fd, int max_connections, Error **errp)
{
    if (nbd_server) {
        error_setg(errp, "NBD server already running");
        return false;
    }
    nbd_server = g_new0(NBDServer, 1);
    nbd_server->listen_fd = listen_fd;
    nbd_server->max_connections = max_connections > 0 ? max_connections : 0;
    if (listen_fd >= 0) {
        qemu_set_nonblock(listen_fd);
    }
    nbd_client_accepting_update();
    return true;
}

bool nbd_server_start(const SocketAddress *addr, int max_connections, Error **errp)
{
    if (nbd_server) {
        error_setg(errp, "NBD server already running");
        return false;
    }
    int fd = socket_listen(addr, 128, errp);
    if (fd < 0) {
        return false;
    }
    return nbd_server_start_fd(fd, max_connections, errp);
}

bool nbd_server_stop(Error **errp)
{
    if (!nbd_server) {
        error_setg(errp, "NBD server not running");
        return false;
    }
    if (nbd_server->listen_fd >= 0) {
        aio_set_fd_handler(qemu_get_aio_context(), nbd_server->listen_fd, NULL, NULL, NULL);
        close(nbd_server->listen_fd);
    }
    g_free(nbd_server);
    nbd_server = NULL;
    while (nbd_exports) {
        NBDExport *exp = nbd_exports->data;
        nbd_export_remove(exp->name, true, NULL);
    }
    for (GList *l = nbd_clients; l; l = l->next) {
        nbd_sock_shutdown(&((NBDClient *)l->data)->sock);
    }
    AIO_WAIT_WHILE(qemu_get_aio_context(), nbd_clients != NULL);
    return true;
}
