/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * server-int.h: what nbd/server.c (exports, clients, transmission) and
 * nbd/server-handshake.c (option haggling) share. Main loop only.
 */
#ifndef GODWIT_NBD_SERVER_INT_H
#define GODWIT_NBD_SERVER_INT_H

#include "nbd/proto.h"
#include "nbd/nbd.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"

/*
 * Meta context ids are fixed per export: 0 base:allocation,
 * 1 qemu:allocation-depth (when offered), 2 + i the i-th dirty bitmap.
 */
#define NBD_CTX_BASE_ALLOCATION   0
#define NBD_CTX_ALLOCATION_DEPTH  1
#define NBD_CTX_BITMAP0           2

struct NBDExport {
    /* set at creation */
    char *name;
    char *description;              /* NULL: none */
    BlockBackend *blk;              /* referenced */
    uint64_t size;
    uint16_t eflags;                /* NBD_FLAG_* sent to clients */
    bool allocation_depth;
    unsigned nr_bitmaps;
    BdrvDirtyBitmap **bitmaps;
    char **bitmap_names;            /* "qemu:dirty-bitmap:<name>" */
    void (*deleted)(void *opaque);
    void *opaque;
    /* main loop only */
    unsigned refcnt;                /* the export list holds one, each client one */
    bool removed;
};

typedef struct NBDClient {
    NBDSock sock;
    NBDExport *exp;                 /* after GO/EXPORT_NAME; referenced */
    Coroutine *recv_co;
    bool structured;
    bool no_zeroes;
    /* meta contexts chosen by SET_META_CONTEXT for ctx_exp */
    NBDExport *ctx_exp;             /* not referenced: only compared */
    bool ctx_base, ctx_depth;
    bool *ctx_bitmaps;              /* ctx_exp->nr_bitmaps entries */
    unsigned ctx_count;
    /* transmission */
    CoMutex send_lock;              /* one reply (all its chunks) at a time */
    CoQueue slots;                  /* recv_co waits here at NBD_MAX_IN_FLIGHT */
    unsigned in_flight;
    bool closing;
} NBDClient;

#define NBD_MAX_IN_FLIGHT 16

/*
 * Run the handshake (server-handshake.c). Returns 0 with client->exp set for
 * transmission, or -errno when the client must be dropped (ABORT, EOF, a
 * protocol violation).
 */
int coroutine_fn nbd_server_negotiate(NBDClient *client);
/* server.c: exports visible to clients (not removed), by name. */
NBDExport *nbd_export_lookup(const char *name);
/* Iterate the visible exports: NULL starts. */
NBDExport *nbd_export_next(NBDExport *exp);
void nbd_export_ref(NBDExport *exp);
void nbd_export_unref(NBDExport *exp);

#endif /* GODWIT_NBD_SERVER_INT_H */
