/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * nbd.c: the "nbd" protocol driver, an NBD client. open() connects and runs the
 * handshake (nbd/client.c) outside coroutines; after that, one connection
 * carries up to NBD_CLIENT_SLOTS requests at once:
 *
 *   request coroutine: take a slot (handle = slot index), send the request under
 *                      send_mutex, yield until the slot is done
 *   reader coroutine:  read a reply header, find the slot by handle, read the
 *                      payload straight into the slot's buffers, wake the
 *                      request coroutine on the final chunk
 *
 * A reply that breaks the protocol (bad magic, unknown handle, a chunk outside
 * its request, a bad length, a read reply that leaves part of the request
 * unfilled) kills the connection: the reason is reported once, and every
 * request in flight and every later one fails with -EIO. There is no reconnect
 * (QEMU's default).
 *
 * Filenames: nbd://host[:port][/export], nbd+tcp://..., nbd+unix:///export?socket=PATH,
 * nbd:host:port[:exportname=X], nbd:unix:PATH[:exportname=X]. Options: server.type
 * (inet|unix), server.host, server.port, server.path, export, x-dirty-bitmap
 * (a meta context read in place of base:allocation, as qemu-img map uses it).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block.h"
#include "block/block-int.h"
#include "qobject/qdict.h"
#include "nbd/proto.h"
#include "nbd/nbd.h"

#define NBD_CLIENT_SLOTS 16
#define NBD_DEFAULT_PORT "10809"

typedef struct NBDClientReq {
    bool in_use;
    bool done;
    bool waiting;                   /* the owner yielded and needs a wake-up */
    Coroutine *co;
    uint16_t type;
    uint64_t offset;
    uint32_t len;
    QEMUIOVector *qiov;             /* READ destination */
    size_t qiov_offset;
    int ret;                        /* first error (-errno) */
    uint32_t received;              /* READ: bytes filled by data and hole chunks */
    bool have_extent;
    uint32_t ext_len, ext_flags;
} NBDClientReq;

/* bs->opaque. Main loop only. */
typedef struct BDRVNBDState {
    NBDSock sock;
    NBDExportInfo info;
    SocketAddress *saddr;
    char *export;                   /* NULL: default ("") */
    char *x_dirty_bitmap;
    /* transmission */
    NBDClientReq reqs[NBD_CLIENT_SLOTS];
    unsigned in_flight;
    CoQueue free_slots;
    CoMutex send_mutex;
    Coroutine *reader;
    bool reader_running;
    int dead;                       /* -errno once the connection is unusable */
} BDRVNBDState;

/* ---- filenames ---- */

static void nbd_put_server(QDict *o, const char *type, const char *a, const char *b)
{
    qdict_put_str(o, "server.type", type);
    if (!strcmp(type, "unix")) {
        qdict_put_str(o, "server.path", a);
    } else {
        qdict_put_str(o, "server.host", a);
        qdict_put_str(o, "server.port", b ? b : NBD_DEFAULT_PORT);
    }
}

/* nbd[+tcp|+unix]://[host[:port]]/[export][?socket=path] */
static void nbd_parse_uri(const char *filename, QDict *o, Error **errp)
{
    g_autoptr(GUri) uri = g_uri_parse(filename, G_URI_FLAGS_ENCODED_QUERY, NULL);
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;

    if (!uri || (strcmp(scheme, "nbd") && strcmp(scheme, "nbd+tcp") &&
                 strcmp(scheme, "nbd+unix"))) {
        error_setg(errp, "Invalid URI");
        return;
    }
    bool is_unix = !strcmp(scheme, "nbd+unix");
    const char *path = g_uri_get_path(uri), *query = g_uri_get_query(uri);
    const char *host = g_uri_get_host(uri);
    if (path[0] == '/') {
        path++;
    }
    if (*path) {
        g_autofree char *exp = g_uri_unescape_string(path, NULL);
        qdict_put_str(o, "export", exp ? exp : path);
    }
    if (is_unix) {
        if ((host && *host) || !query || !g_str_has_prefix(query, "socket=") ||
            strchr(query, '&')) {
            error_setg(errp, "Invalid URI");
            return;
        }
        g_autofree char *sock = g_uri_unescape_string(query + 7, NULL);
        nbd_put_server(o, "unix", sock ? sock : query + 7, NULL);
    } else {
        if (query || !host || !*host) {
            error_setg(errp, "Invalid URI");
            return;
        }
        g_autofree char *port = g_uri_get_port(uri) > 0 ?
                                g_strdup_printf("%d", g_uri_get_port(uri)) : NULL;
        nbd_put_server(o, "inet", host, port);
    }
}

/* nbd:unix:PATH[:exportname=X] or nbd:HOST:PORT[:exportname=X] */
static void nbd_parse_legacy(const char *filename, QDict *o, Error **errp)
{
    g_autofree char *rest = g_strdup(filename + strlen("nbd:"));
    char *exp = strstr(rest, ":exportname=");

    if (exp) {
        *exp = '\0';
        qdict_put_str(o, "export", exp + strlen(":exportname="));
    }
    if (g_str_has_prefix(rest, "unix:")) {
        nbd_put_server(o, "unix", rest + 5, NULL);
        return;
    }
    char *colon = strrchr(rest, ':');
    if (!colon || colon == rest) {
        error_setg(errp, "No valid URL specified");
        return;
    }
    *colon = '\0';
    char *host = rest;
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    }
    nbd_put_server(o, "inet", host, colon + 1);
}

static void nbd_parse_filename(const char *filename, QDict *options, Error **errp)
{
    static const char *const conflicting[] = {
        "host", "port", "path", "export", "server.type", "server.path", "server.host", NULL,
    };

    for (int i = 0; conflicting[i]; i++) {
        if (qdict_haskey(options, conflicting[i])) {
            error_setg(errp, "host/port/path and a file name may not be specified at the "
                       "same time");
            return;
        }
    }
    if (strstr(filename, "://")) {
        nbd_parse_uri(filename, options, errp);
    } else {
        nbd_parse_legacy(filename, options, errp);
    }
}

/* server.* (or the legacy host/port/path) into a SocketAddress. */
static SocketAddress *nbd_take_address(QDict *o, Error **errp)
{
    g_autofree char *type = bdrv_opt_take_str(o, "server.type");
    g_autofree char *host = bdrv_opt_take_str(o, "server.host");
    g_autofree char *port = bdrv_opt_take_str(o, "server.port");
    g_autofree char *path = bdrv_opt_take_str(o, "server.path");
    g_autofree char *lhost = bdrv_opt_take_str(o, "host");
    g_autofree char *lport = bdrv_opt_take_str(o, "port");
    g_autofree char *lpath = bdrv_opt_take_str(o, "path");
    SocketAddress *addr = g_new0(SocketAddress, 1);

    if (!type && (lhost || lpath)) {
        type = g_strdup(lpath ? "unix" : "inet");
        host = g_steal_pointer(&lhost);
        port = g_steal_pointer(&lport);
        path = g_steal_pointer(&lpath);
    }
    if (!type) {
        error_setg(errp, "Parameter 'server.type' is missing");
        goto fail;
    }
    if (!strcmp(type, "unix")) {
        if (!path) {
            error_setg(errp, "Parameter 'server.path' is missing");
            goto fail;
        }
        addr->type = SOCKET_ADDRESS_TYPE_UNIX;
        addr->u.q_unix.path = g_steal_pointer(&path);
    } else if (!strcmp(type, "inet")) {
        if (!host) {
            error_setg(errp, "Parameter 'server.host' is missing");
            goto fail;
        }
        addr->type = SOCKET_ADDRESS_TYPE_INET;
        addr->u.inet.host = g_steal_pointer(&host);
        addr->u.inet.port = port ? g_steal_pointer(&port) : g_strdup(NBD_DEFAULT_PORT);
    } else {
        error_setg(errp, "Parameter 'server.type' does not accept value '%s'", type);
        goto fail;
    }
    return addr;
fail:
    g_free(addr);
    return NULL;
}

/* ---- the reader ---- */

static void nbd_fail_all(BDRVNBDState *s, int err)
{
    if (!s->dead) {
        s->dead = err;
    }
    nbd_sock_shutdown(&s->sock);
    for (int i = 0; i < NBD_CLIENT_SLOTS; i++) {
        NBDClientReq *r = &s->reqs[i];
        if (r->in_use && !r->done) {
            r->done = true;
            if (!r->ret) {
                r->ret = err;
            }
            if (r->waiting) {
                r->waiting = false;
                aio_co_wake(r->co);
            }
        }
    }
}

/* Read len bytes of payload into r's qiov at byte offset off of the request. */
static int coroutine_fn nbd_read_into(BDRVNBDState *s, NBDClientReq *r, uint64_t off,
                                      uint32_t len)
{
    QEMUIOVector slice;

    qemu_iovec_init_slice(&slice, r->qiov, r->qiov_offset + off, len);
    int ret = nbd_sock_readv(&s->sock, slice.iov, slice.niov);
    qemu_iovec_destroy(&slice);
    return ret;
}

/* OFFSET_DATA or OFFSET_HOLE: fill part of r's buffer. */
static int coroutine_fn nbd_read_data_chunk(BDRVNBDState *s, NBDClientReq *r,
                                            const NBDStructuredHdr *h, Error **errp)
{
    bool hole = h->type == NBD_REPLY_TYPE_OFFSET_HOLE;
    const char *name = hole ? "NBD_REPLY_TYPE_OFFSET_HOLE" : "NBD_REPLY_TYPE_OFFSET_DATA";
    uint32_t len = h->length;
    uint8_t buf[12];

    if (r->type != NBD_CMD_READ) {
        error_setg(errp, "Protocol error: server sent %s for a %s request", name,
                   nbd_cmd_name(r->type));
        return -EINVAL;
    }
    if (hole ? len != 12 : len <= 8) {
        error_setg(errp, "Protocol error: invalid payload length %" PRIu32 " for %s", len, name);
        return -EINVAL;
    }
    if (nbd_sock_read(&s->sock, buf, hole ? 12 : 8) < 0) {
        error_setg(errp, "Failed to read %s payload", name);
        return -EIO;
    }
    uint64_t off = nbd_ld64(buf);
    uint32_t n = hole ? nbd_ld32(buf + 8) : len - 8;
    if (off < r->offset || n > r->len || off - r->offset > r->len - n) {
        error_setg(errp, "Protocol error: server sent chunk exceeding requested region");
        return -EINVAL;
    }
    /* chunks must not overlap, so together they cannot exceed the request */
    if (n > r->len - r->received) {
        error_setg(errp, "Protocol error: server sent overlapping read chunks");
        return -EINVAL;
    }
    r->received += n;
    if (hole) {
        qemu_iovec_memset(r->qiov, r->qiov_offset + (off - r->offset), 0, n);
        return 0;
    }
    if (nbd_read_into(s, r, off - r->offset, n) < 0) {
        error_setg(errp, "Failed to read %s payload", name);
        return -EIO;
    }
    return 0;
}

/* BLOCK_STATUS: keep the first extent of our context (we ask for one). */
static int coroutine_fn nbd_read_status_chunk(BDRVNBDState *s, NBDClientReq *r,
                                              const NBDStructuredHdr *h, Error **errp)
{
    uint32_t len = h->length;
    uint8_t buf[12];

    if (r->type != NBD_CMD_BLOCK_STATUS) {
        error_setg(errp, "Protocol error: server sent NBD_REPLY_TYPE_BLOCK_STATUS for a %s "
                   "request", nbd_cmd_name(r->type));
        return -EINVAL;
    }
    if (len < 12 || (len - 4) % 8) {
        error_setg(errp, "Protocol error: invalid payload for NBD_REPLY_TYPE_BLOCK_STATUS");
        return -EINVAL;
    }
    if (nbd_sock_read(&s->sock, buf, 12) < 0) {
        error_setg(errp, "Failed to read NBD_REPLY_TYPE_BLOCK_STATUS payload");
        return -EIO;
    }
    if (nbd_ld32(buf) != s->info.context_id) {
        error_setg(errp, "Protocol error: unexpected context id %" PRIu32 " for "
                   "NBD_REPLY_TYPE_BLOCK_STATUS, when negotiated context id is %" PRIu32,
                   nbd_ld32(buf), s->info.context_id);
        return -EINVAL;
    }
    if (r->have_extent) {
        error_setg(errp, "Protocol error: server sent more than one "
                   "NBD_REPLY_TYPE_BLOCK_STATUS chunk");
        return -EINVAL;
    }
    if (!nbd_ld32(buf + 4)) {
        error_setg(errp, "Protocol error: server sent an extent of length 0");
        return -EINVAL;
    }
    r->have_extent = true;
    r->ext_len = nbd_ld32(buf + 4);
    r->ext_flags = nbd_ld32(buf + 8);
    if (nbd_sock_skip(&s->sock, len - 12) < 0) {
        error_setg(errp, "Failed to read NBD_REPLY_TYPE_BLOCK_STATUS payload");
        return -EIO;
    }
    return 0;
}

/* An error chunk: the request fails with the server's errno; the message is skipped. */
static int coroutine_fn nbd_read_error_chunk(BDRVNBDState *s, NBDClientReq *r,
                                             const NBDStructuredHdr *h, Error **errp)
{
    uint32_t len = h->length;
    uint8_t buf[6];

    if (len < 6) {
        error_setg(errp, "Protocol error: invalid payload for structured error");
        return -EINVAL;
    }
    if (nbd_sock_read(&s->sock, buf, 6) < 0) {
        error_setg(errp, "Failed to read structured error payload");
        return -EIO;
    }
    if (nbd_ld16(buf + 4) > len - 6) {
        error_setg(errp, "Protocol error: invalid payload for structured error");
        return -EINVAL;
    }
    int err = nbd_wire_to_errno(nbd_ld32(buf));
    if (!r->ret) {
        r->ret = -(err ? err : EINVAL);
    }
    if (nbd_sock_skip(&s->sock, len - 6) < 0) {
        error_setg(errp, "Failed to read structured error payload");
        return -EIO;
    }
    return 0;
}

/* One structured chunk's payload: 0, or -errno with errp set (the connection dies). */
static int coroutine_fn nbd_read_chunk(BDRVNBDState *s, NBDClientReq *r,
                                       const NBDStructuredHdr *h, Error **errp)
{
    switch (h->type) {
    case NBD_REPLY_TYPE_NONE:
        if (h->length || !(h->flags & NBD_REPLY_FLAG_DONE)) {
            error_setg(errp, "Protocol error: NBD_REPLY_TYPE_NONE chunk must be empty and final");
            return -EINVAL;
        }
        return 0;
    case NBD_REPLY_TYPE_OFFSET_DATA:
    case NBD_REPLY_TYPE_OFFSET_HOLE:
        return nbd_read_data_chunk(s, r, h, errp);
    case NBD_REPLY_TYPE_BLOCK_STATUS:
        return nbd_read_status_chunk(s, r, h, errp);
    default:
        if (!(h->type & NBD_REPLY_TYPE_ERROR_BIT)) {
            error_setg(errp, "Protocol error: unknown structured reply chunk type %" PRIu16,
                       h->type);
            return -EINVAL;
        }
        return nbd_read_error_chunk(s, r, h, errp);
    }
}

/* A final chunk: a successful structured READ must have filled every byte. */
static void nbd_complete(BDRVNBDState *s, NBDClientReq *r, bool simple, Error **errp)
{
    if (!simple && r->type == NBD_CMD_READ && !r->ret && r->received != r->len) {
        error_setg(errp, "Protocol error: server's reply to a read of %" PRIu32 " bytes "
                   "at offset %" PRIu64 " left %" PRIu32 " bytes unfilled", r->len,
                   r->offset, r->len - r->received);
        r->ret = -EIO;
    }
    r->done = true;
    if (r->waiting) {
        r->waiting = false;
        aio_co_wake(r->co);
    }
}

/* One reply header (simple or structured) into *h; *err = the simple reply's error. */
static int coroutine_fn nbd_read_reply_hdr(BDRVNBDState *s, NBDStructuredHdr *h,
                                           uint32_t *err, bool *simple, Error **errp)
{
    uint8_t hdr[NBD_STRUCTURED_HDR_SIZE];
    int ret = nbd_sock_read(&s->sock, hdr, 4);

    if (ret < 0) {
        return ret;                 /* -ESHUTDOWN: the server closed between replies */
    }
    uint32_t magic = nbd_ld32(hdr);
    *simple = magic == NBD_SIMPLE_REPLY_MAGIC;
    if (!*simple && (magic != NBD_STRUCTURED_REPLY_MAGIC || !s->info.structured)) {
        error_setg(errp, "Protocol error: invalid reply magic 0x%" PRIx32, magic);
        return -EINVAL;
    }
    if (nbd_sock_read(&s->sock, hdr + 4, (*simple ? NBD_SIMPLE_REPLY_SIZE
                                                  : NBD_STRUCTURED_HDR_SIZE) - 4) < 0) {
        error_setg(errp, "Failed to read reply header");
        return -EIO;
    }
    *h = (NBDStructuredHdr){ .flags = NBD_REPLY_FLAG_DONE, .handle = nbd_ld64(hdr + 8) };
    *err = 0;
    if (*simple) {
        *err = nbd_ld32(hdr + 4);
    } else {
        h->flags = nbd_ld16(hdr + 4);
        h->type = nbd_ld16(hdr + 6);
        h->length = nbd_ld32(hdr + 16);
    }
    return 0;
}

static void coroutine_fn nbd_reader_co(void *opaque)
{
    BlockDriverState *bs = opaque;
    BDRVNBDState *s = bs->opaque;
    Error *err = NULL;

    while (!s->dead) {
        NBDStructuredHdr h;
        uint32_t nbd_err;
        bool simple;
        if (nbd_read_reply_hdr(s, &h, &nbd_err, &simple, &err) < 0) {
            break;
        }
        NBDClientReq *r = h.handle < NBD_CLIENT_SLOTS ? &s->reqs[h.handle] : NULL;
        if (!r || !r->in_use || r->done) {
            error_setg(&err, "Unexpected reply cookie %" PRIu64, h.handle);
            break;
        }
        if (simple) {
            if (nbd_err) {
                int e = nbd_wire_to_errno(nbd_err);
                r->ret = -(e ? e : EINVAL);
            } else if (r->type == NBD_CMD_READ && nbd_read_into(s, r, 0, r->len) < 0) {
                error_setg(&err, "Failed to read reply payload");
                break;
            }
        } else if (nbd_read_chunk(s, r, &h, &err) < 0) {
            break;
        }
        if (h.flags & NBD_REPLY_FLAG_DONE) {
            nbd_complete(s, r, simple, &err);
            if (err) {
                break;
            }
        }
    }
    /* our own shutdown (close) is no news; a server breaking the protocol is */
    if (err && !s->sock.shut) {
        error_reportf_err(err, "NBD server '%s': ", bdrv_get_node_name(bs));
    } else {
        error_free(err);
    }
    nbd_fail_all(s, -EIO);
    s->reader_running = false;
}

/* ---- requests ---- */

static int coroutine_fn nbd_co_request(BlockDriverState *bs, uint16_t type, uint16_t flags,
                                       uint64_t offset, uint32_t len, QEMUIOVector *qiov,
                                       size_t qiov_offset, NBDClientReq *out)
{
    BDRVNBDState *s = bs->opaque;
    uint8_t hdr[NBD_REQUEST_SIZE];
    int i, ret;

    while (s->in_flight >= NBD_CLIENT_SLOTS && !s->dead) {
        qemu_co_queue_wait(&s->free_slots, NULL);
    }
    if (s->dead) {
        return s->dead;
    }
    for (i = 0; s->reqs[i].in_use; i++) {
    }
    NBDClientReq *r = &s->reqs[i];
    *r = (NBDClientReq){ .in_use = true, .co = qemu_coroutine_self(), .type = type,
                         .offset = offset, .len = len, .qiov = qiov,
                         .qiov_offset = qiov_offset };
    s->in_flight++;

    NBDRequest req = { .flags = flags, .type = type, .handle = i, .offset = offset, .len = len };
    nbd_encode_request(hdr, &req);
    qemu_co_mutex_lock(&s->send_mutex);
    if (type == NBD_CMD_WRITE) {
        QEMUIOVector v;
        qemu_iovec_init(&v, qiov->niov + 1);
        qemu_iovec_add(&v, hdr, sizeof(hdr));
        qemu_iovec_concat(&v, qiov, qiov_offset, len);
        ret = nbd_sock_writev(&s->sock, v.iov, v.niov);
        qemu_iovec_destroy(&v);
    } else {
        ret = nbd_sock_write(&s->sock, hdr, sizeof(hdr));
    }
    qemu_co_mutex_unlock(&s->send_mutex);
    if (ret < 0) {
        nbd_fail_all(s, -EIO);
    }
    while (!r->done) {
        r->waiting = true;
        qemu_coroutine_yield();
    }
    ret = r->ret;
    if (out) {
        *out = *r;
    }
    r->in_use = false;
    s->in_flight--;
    qemu_co_queue_next(&s->free_slots);
    return ret;
}

static int coroutine_fn nbd_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    if (!bytes) {
        return 0;
    }
    return nbd_co_request(bs, NBD_CMD_READ, 0, offset, bytes, qiov, qiov_offset, NULL);
}

static int coroutine_fn nbd_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    BDRVNBDState *s = bs->opaque;
    uint16_t f = (flags & BDRV_REQ_FUA) && (s->info.flags & NBD_FLAG_SEND_FUA) ?
                 NBD_CMD_FLAG_FUA : 0;

    if (!bytes) {
        return 0;
    }
    return nbd_co_request(bs, NBD_CMD_WRITE, f, offset, bytes, qiov, qiov_offset, NULL);
}

static int coroutine_fn nbd_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                             int64_t bytes, BdrvRequestFlags flags)
{
    BDRVNBDState *s = bs->opaque;
    uint16_t f = 0;

    if (!(s->info.flags & NBD_FLAG_SEND_WRITE_ZEROES)) {
        return -ENOTSUP;
    }
    if (flags & BDRV_REQ_NO_FALLBACK) {
        if (!(s->info.flags & NBD_FLAG_SEND_FAST_ZERO)) {
            return -ENOTSUP;
        }
        f |= NBD_CMD_FLAG_FAST_ZERO;
    }
    if ((flags & BDRV_REQ_FUA) && (s->info.flags & NBD_FLAG_SEND_FUA)) {
        f |= NBD_CMD_FLAG_FUA;
    }
    if (!(flags & BDRV_REQ_MAY_UNMAP)) {
        f |= NBD_CMD_FLAG_NO_HOLE;
    }
    return nbd_co_request(bs, NBD_CMD_WRITE_ZEROES, f, offset, bytes, NULL, 0, NULL);
}

static int coroutine_fn nbd_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    BDRVNBDState *s = bs->opaque;

    if (!(s->info.flags & NBD_FLAG_SEND_TRIM) || !bytes) {
        return 0;
    }
    return nbd_co_request(bs, NBD_CMD_TRIM, 0, offset, bytes, NULL, 0, NULL);
}

static int coroutine_fn nbd_co_flush(BlockDriverState *bs)
{
    BDRVNBDState *s = bs->opaque;

    if (!(s->info.flags & NBD_FLAG_SEND_FLUSH)) {
        return 0;
    }
    return nbd_co_request(bs, NBD_CMD_FLUSH, 0, 0, 0, NULL, 0, NULL);
}

static int coroutine_fn nbd_co_block_status(BlockDriverState *bs, bool want_zero,
                                            int64_t offset, int64_t bytes, int64_t *pnum,
                                            int64_t *map, BlockDriverState **file)
{
    BDRVNBDState *s = bs->opaque;
    NBDClientReq r;

    *map = offset;
    *file = bs;
    if (!s->info.meta_ok) {
        *pnum = bytes;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    }
    uint32_t len = MIN(bytes, (int64_t)(UINT32_MAX / 2 + 1));
    int ret = nbd_co_request(bs, NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE, offset, len,
                             NULL, 0, &r);
    if (ret < 0) {
        return ret;
    }
    if (!r.have_extent) {
        return -EIO;
    }
    *pnum = MIN(r.ext_len, len);
    ret = (r.ext_flags & NBD_STATE_HOLE ? 0 : BDRV_BLOCK_DATA) |
          (r.ext_flags & NBD_STATE_ZERO ? BDRV_BLOCK_ZERO : 0);
    /* QEMU shows no offset for an extent that is neither data nor zero */
    return ret ? ret | BDRV_BLOCK_OFFSET_VALID : 0;
}

static int64_t coroutine_fn nbd_co_getlength(BlockDriverState *bs)
{
    BDRVNBDState *s = bs->opaque;

    return s->info.size;
}

/* ---- open / close ---- */

static void nbd_close(BlockDriverState *bs);

static int nbd_do_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    BDRVNBDState *s = bs->opaque;
    Error *local_err = NULL;

    qemu_co_queue_init(&s->free_slots);
    qemu_co_mutex_init(&s->send_mutex);
    s->sock.fd = -1;
    s->saddr = nbd_take_address(options, errp);
    if (!s->saddr) {
        return -EINVAL;
    }
    s->export = bdrv_opt_take_str(options, "export");
    s->x_dirty_bitmap = bdrv_opt_take_str(options, "x-dirty-bitmap");
    g_free(bdrv_opt_take_str(options, "filename"));

    int fd = socket_connect(s->saddr, &local_err);
    if (fd < 0) {
        error_propagate(errp, local_err);
        return -ECONNREFUSED;
    }
    nbd_sock_init(&s->sock, fd);
    s->info.name = g_strdup(s->export ? s->export : "");
    s->info.want_structured = true;
    s->info.meta_context = g_strdup(s->x_dirty_bitmap ? s->x_dirty_bitmap : "base:allocation");
    int ret = nbd_receive_negotiate(&s->sock, &s->info, errp);
    if (ret < 0) {
        return ret;
    }
    if (s->info.size > INT64_MAX) {
        error_setg(errp, "export size too large");
        return -EFBIG;
    }
    if (s->x_dirty_bitmap && !s->info.meta_ok) {
        error_setg_errno(errp, EINVAL, "Could not open image");  /* QEMU 7.2 says no more */
        return -EINVAL;
    }
    if ((flags & BDRV_O_RDWR) && (s->info.flags & NBD_FLAG_READ_ONLY)) {
        if (!(flags & BDRV_O_AUTO_RDONLY)) {
            error_setg(errp, "NBD export is read-only");
            return -EACCES;
        }
        bs->read_only = true;
        bs->open_flags &= ~BDRV_O_RDWR;
    }
    bs->total_size = s->info.size;
    if (s->info.flags & NBD_FLAG_SEND_FUA) {
        bs->supported_write_flags = BDRV_REQ_FUA;
        bs->supported_zero_flags = BDRV_REQ_FUA;
    }
    if (s->info.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
        bs->supported_zero_flags |= BDRV_REQ_MAY_UNMAP;
        if (s->info.flags & NBD_FLAG_SEND_FAST_ZERO) {
            bs->supported_zero_flags |= BDRV_REQ_NO_FALLBACK;
        }
    }
    s->reader_running = true;
    s->reader = qemu_coroutine_create(nbd_reader_co, bs);
    aio_co_enter(qemu_get_aio_context(), s->reader);
    return 0;
}

static void nbd_close(BlockDriverState *bs)
{
    BDRVNBDState *s = bs->opaque;

    if (s->reader_running) {
        /* NBD_CMD_DISC is a courtesy; a shut-down socket is what stops the reader */
        if (!s->dead && !s->in_flight) {
            uint8_t hdr[NBD_REQUEST_SIZE];
            NBDRequest req = { .type = NBD_CMD_DISC };
            nbd_encode_request(hdr, &req);
            send(s->sock.fd, hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        nbd_sock_shutdown(&s->sock);
        AIO_WAIT_WHILE(qemu_get_aio_context(), s->reader_running);
    }
    nbd_sock_close(&s->sock);
    nbd_export_info_clear(&s->info);
    if (s->saddr) {
        socket_address_free(s->saddr);
    }
    g_free(s->export);
    g_free(s->x_dirty_bitmap);
}

static int nbd_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    int ret = nbd_do_open(bs, options, flags, errp);

    if (ret < 0) {
        nbd_close(bs);              /* the core expects a failed open to clean up */
    }
    return ret;
}

static void nbd_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVNBDState *s = bs->opaque;
    uint32_t max = s->info.max_block ? s->info.max_block : NBD_MAX_BUFFER_SIZE;

    bs->bl.request_alignment = MAX(s->info.min_block, 1);
    bs->bl.max_transfer = MIN(max, NBD_MAX_BUFFER_SIZE);
    bs->bl.opt_transfer = s->info.opt_block;
    bs->bl.max_pdiscard = bs->bl.max_pwrite_zeroes = UINT32_MAX / 2 + 1;
}

static void nbd_refresh_filename(BlockDriverState *bs)
{
    BDRVNBDState *s = bs->opaque;
    const SocketAddress *a = s->saddr;
    const char *exp = s->export;
    char *fn = NULL;

    if (s->x_dirty_bitmap) {
        return;                     /* not expressible as a URL: json:{} */
    }
    if (a->type == SOCKET_ADDRESS_TYPE_UNIX) {
        fn = exp ? g_strdup_printf("nbd+unix:///%s?socket=%s", exp, a->u.q_unix.path)
                 : g_strdup_printf("nbd+unix://?socket=%s", a->u.q_unix.path);
    } else if (a->type == SOCKET_ADDRESS_TYPE_INET) {
        fn = exp ? g_strdup_printf("nbd://%s:%s/%s", a->u.inet.host, a->u.inet.port, exp)
                 : g_strdup_printf("nbd://%s:%s", a->u.inet.host, a->u.inet.port);
    }
    if (fn) {
        g_strlcpy(bs->exact_filename, fn, sizeof(bs->exact_filename));
        g_free(fn);
    }
}

static const char *const nbd_open_options[] = {
    "filename", "server.type", "server.host", "server.port", "server.path", "host", "port",
    "path", "export", "x-dirty-bitmap", NULL,
};

const BlockDriver bdrv_nbd = {
    .format_name       = "nbd",
    .protocol_name     = "nbd",
    .instance_size     = sizeof(BDRVNBDState),
    .flags             = BDRV_F_PROTOCOL,
    .open_options      = nbd_open_options,
    .parse_filename    = nbd_parse_filename,
    .open              = nbd_open,
    .close             = nbd_close,
    .refresh_limits    = nbd_refresh_limits,
    .refresh_filename  = nbd_refresh_filename,
    .co_preadv         = nbd_co_preadv,
    .co_pwritev        = nbd_co_pwritev,
    .co_pwrite_zeroes  = nbd_co_pwrite_zeroes,
    .co_pdiscard       = nbd_co_pdiscard,
    .co_flush_to_disk  = nbd_co_flush,
    .co_block_status   = nbd_co_block_status,
    .co_getlength      = nbd_co_getlength,
};
