/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * nbd.h: the NBD server (exports of BlockBackends over unix or TCP sockets) and
 * the client handshake used by the nbd block driver and godwit-nbd --list.
 * The wire format is drawn in nbd/proto.h.
 *
 * Threads: everything runs in the main loop's AioContext. The server runs one
 * coroutine per client (handshake, then reading requests) and one coroutine per
 * request, so many requests of one client are in flight at once; replies are
 * serialised by a per-client CoMutex.
 *
 * Socket I/O (NBDSock): nbd_sock_read()/nbd_sock_write() yield while the socket is
 * not ready when called in a coroutine, and poll() the fd otherwise (tools and
 * open() negotiate from outside coroutines). A shut-down socket fails every
 * pending and later call, which is how connections are torn down.
 */
#ifndef GODWIT_NBD_H
#define GODWIT_NBD_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/coroutine.h"
#include "util/sockets.h"

typedef struct BlockBackend BlockBackend;

/* ---------------------------------------------------------------------------
 * Sockets
 */
typedef struct NBDSock {
    int fd;                     /* non-blocking, owned */
    Coroutine *read_waiter;     /* coroutine waiting for POLLIN */
    Coroutine *write_waiter;    /* coroutine waiting for POLLOUT */
    bool shut;                  /* nbd_sock_shutdown() was called */
} NBDSock;

/* Take ownership of fd (made non-blocking). */
void nbd_sock_init(NBDSock *s, int fd);
/*
 * Read exactly len bytes. 0 on success; -ESHUTDOWN when the peer closed before
 * the first byte (a clean end); -EIO on a short message; -errno otherwise.
 */
int nbd_sock_read(NBDSock *s, void *buf, size_t len);
int nbd_sock_readv(NBDSock *s, struct iovec *iov, unsigned niov);
/* Read and throw away len bytes. */
int nbd_sock_skip(NBDSock *s, size_t len);
/* Write all of buf (iov); 0 or -errno (-EPIPE when the peer is gone). */
int nbd_sock_write(NBDSock *s, const void *buf, size_t len);
int nbd_sock_writev(NBDSock *s, struct iovec *iov, unsigned niov);
/* shutdown(2) both directions: waiters wake up and fail. Idempotent. */
void nbd_sock_shutdown(NBDSock *s);
/* Close the fd; nobody may be waiting. */
void nbd_sock_close(NBDSock *s);

/* ---------------------------------------------------------------------------
 * Client handshake (nbd/client.c)
 */
typedef struct NBDExportInfo {
    /* ---- in ---- */
    char *name;                 /* export to open ("" is a valid name) */
    bool want_structured;       /* negotiate structured replies */
    char *meta_context;         /* context to select ("base:allocation", an
                                 * x-dirty-bitmap name) or NULL for none */
    /* ---- out ---- */
    bool structured;            /* structured replies are on */
    bool meta_ok;               /* meta_context was selected; its id follows */
    uint32_t context_id;
    uint64_t size;
    uint16_t flags;             /* NBD_FLAG_* transmission flags */
    uint32_t min_block, opt_block, max_block;   /* 0 when the server sent none */
    char *description;          /* NULL if none */
    char **contexts;            /* --list only: every context the export offers */
} NBDExportInfo;

void nbd_export_info_clear(NBDExportInfo *info);

/*
 * Fixed-newstyle handshake up to transmission on export info->name (NBD_OPT_GO,
 * falling back to EXPORT_NAME for servers without GO). Returns 0 or -errno with
 * errp set in QEMU's words ("Requested export not available" with the server's
 * message as a second line).
 */
int nbd_receive_negotiate(NBDSock *sock, NBDExportInfo *info, Error **errp);
/*
 * --list: NBD_OPT_LIST, then INFO and LIST_META_CONTEXT for every export; ends
 * with NBD_OPT_ABORT. Returns the number of exports (*infos is a new array of
 * them) or -errno with errp set.
 */
int nbd_receive_export_list(NBDSock *sock, NBDExportInfo **infos, Error **errp);

/* ---------------------------------------------------------------------------
 * Server (nbd/server.c): QEMU's nbd-server-start/-stop/-add/-remove behind C calls.
 */
typedef struct NBDExport NBDExport;

typedef struct NBDExportOptions {
    const char *name;           /* NULL: the node or device name is the caller's job */
    const char *description;    /* NULL: none */
    bool writable;
    bool allocation_depth;      /* offer qemu:allocation-depth */
    const char *const *bitmaps; /* NULL-terminated names, offered as qemu:dirty-bitmap:N */
    /*
     * NULL, or one entry per name: a bitmap the caller already found (QMP's
     * {node, name} form) or NULL to look the name up on the exported node and
     * down its filter/backing chain. Exported bitmaps are busy while the export lives.
     */
    struct BdrvDirtyBitmap *const *bitmap_objs;
    int multi_conn;             /* 1 on, 0 off, -1 auto (on when read-only) */
    /* Called once when the export is gone (removed and its last client left). */
    void (*deleted)(void *opaque);
    void *opaque;
} NBDExportOptions;

/*
 * Listen on addr and serve every export; max_connections 0 = unlimited (while at
 * the limit the server stops accepting). Errors: "NBD server already running",
 * plus the socket's error.
 */
bool nbd_server_start(const SocketAddress *addr, int max_connections, Error **errp);
/* The same on an already listening fd (ownership passes to the server). */
bool nbd_server_start_fd(int listen_fd, int max_connections, Error **errp);
/*
 * Disconnect every client, remove every export. "NBD server not running".
 * Polls the main loop until the clients are gone: not from a coroutine.
 */
bool nbd_server_stop(Error **errp);
bool nbd_server_is_running(void);
/* Serve one already-connected client on fd (tests, fuzzing); needs no listener. */
void nbd_server_serve_fd(int fd);
/* Clients connected now (any export, including those still negotiating). */
unsigned nbd_server_client_count(void);
/* Called after each client disconnects (qemu-nbd exits after the last one without -t). */
void nbd_server_set_client_closed_hook(void (*hook)(void *opaque), void *opaque);

/*
 * Export blk (a reference is taken) under o->name. Errors in QEMU's words:
 * "NBD server already has export named '%s'", "Bitmap '%s' is not found",
 * the busy/inconsistent bitmap errors of bdrv_dirty_bitmap_check(),
 * "Enabled bitmap '%s' incompatible with readonly export" (an enabled bitmap on a
 * writable node cannot be exported read-only: it would change under the client),
 * "Failed to determine the NBD export's length".
 * The export does not need a running server (qemu-nbd adds it first).
 */
NBDExport *nbd_export_add(BlockBackend *blk, const NBDExportOptions *o, Error **errp);
NBDExport *nbd_export_find(const char *name);
/*
 * Remove an export: new clients can no longer see it; hard disconnects its
 * current clients (QEMU's mode=hard), else they keep it until they leave.
 * "Export '%s' is not found".
 */
bool nbd_export_remove(const char *name, bool hard, Error **errp);
const char *nbd_export_name(NBDExport *exp);
/* Removed but still held by connected clients (query-block-exports' shutting-down). */
bool nbd_export_is_removed(NBDExport *exp);
/* Clients attached to exp now. */
unsigned nbd_export_client_count(NBDExport *exp);
BlockBackend *nbd_export_blk(NBDExport *exp);

#endif /* GODWIT_NBD_H */
