/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * fuzz-nbd-client: arbitrary bytes as a hostile server's half of an NBD session,
 * against our client (nbd/client.c and the nbd block driver).
 *
 * Input: one config byte, then the server's byte stream, cut into segments by
 * the 4 bytes "NEXT". Config bit 0 picks --list (nbd_receive_export_list) over
 * opening the driver; bit 1 asks for qemu:dirty-bitmap:b0 (x-dirty-bitmap) in
 * place of base:allocation; bit 2 opens read-only.
 *
 * Driver mode opens "nbd" on a unix socket that we accept, from a coroutine, so
 * the handshake yields instead of blocking in poll() and one thread can play
 * both sides. Then a fixed script of phases runs (reads, block status, writes,
 * write zeroes, trim, flush; several requests of a phase are in flight at once,
 * so handles 0, 1, ... are predictable and replies may come in any order).
 *
 * Segment 0 is written at once; whenever nothing can move (the client waits
 * and all we had is written) the next segment goes out, and after the last one
 * we shut our sending side. A phase starts when the previous one has finished,
 * so segment k usually answers phase k. The client must then give up cleanly:
 * a crash, a leak, a sanitizer report or a hang (no progress after EOF) is a bug.
 *
 * FUZZ_NBD_CLIENT_VERBOSE=1 prints the errors and request results (for seeds).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/coroutine.h"
#include "block/block.h"
#include "block/block-backend.h"
#include "qobject/qdict.h"
#include "nbd/nbd.h"
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEP        "NEXT"
#define FUZZ_MAX_ROUNDS 1000000     /* loop turns without an end: a hang */

enum {
    CFG_LIST = 1 << 0,
    CFG_BITMAP = 1 << 1,
    CFG_READONLY = 1 << 2,
};

/* ---- the fake server: our end of the socket and what is left to send ---- */

typedef struct FuzzServer {
    int fd;                     /* -1 until the driver connected and we accepted */
    int listen_fd;              /* driver mode only */
    const uint8_t *data;        /* the input after the config byte */
    size_t size;
    size_t pos;                 /* next byte to send */
    size_t seg_end;             /* end of the segment being sent */
    size_t next;                /* start of the next segment (> size: none left) */
    bool eof;                   /* our sending side is shut */
} FuzzServer;

static bool verbose;
static char *sock_path;
static int listen_fd = -1;

/* Release the next segment, or shut our sending side after the last. */
static void fuzz_next_segment(FuzzServer *sv)
{
    if (sv->next > sv->size) {
        if (sv->fd >= 0) {
            shutdown(sv->fd, SHUT_WR);
        }
        sv->eof = true;
        return;
    }
    sv->pos = sv->next;
    const uint8_t *sep = memmem(sv->data + sv->pos, sv->size - sv->pos, FUZZ_SEP,
                                strlen(FUZZ_SEP));
    sv->seg_end = sep ? (size_t)(sep - sv->data) : sv->size;
    sv->next = sv->seg_end + strlen(FUZZ_SEP);     /* past the end after the last */
}

/* No more bytes from the server, whatever the input had left. */
static void fuzz_end_stream(FuzzServer *sv)
{
    sv->pos = sv->seg_end = sv->size;
    sv->next = sv->size + 1;
    fuzz_next_segment(sv);
}

/* Accept, read what the client sent (thrown away), send what we may: true if anything moved. */
static bool fuzz_pump(FuzzServer *sv)
{
    uint8_t sink[65536];
    bool progress = false;

    if (sv->fd < 0 && sv->listen_fd >= 0) {
        sv->fd = accept4(sv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (sv->fd < 0) {
            return false;
        }
        progress = true;
        if (sv->eof) {
            shutdown(sv->fd, SHUT_WR);
        }
    }
    if (sv->fd < 0) {
        return false;
    }
    while (recv(sv->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
        progress = true;
    }
    if (!sv->eof && sv->pos < sv->seg_end) {
        ssize_t n = send(sv->fd, sv->data + sv->pos, sv->seg_end - sv->pos,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sv->pos += n;
            progress = true;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            sv->pos = sv->seg_end = sv->size;  /* the client hung up */
        }
    }
    return progress;
}

/*
 * Run the main loop until done(opaque). When nothing moves, the client waits
 * for bytes we have not released yet: release the next segment, or EOF.
 */
static void fuzz_run_until(FuzzServer *sv, bool (*done)(void *opaque), void *opaque)
{
    AioContext *ctx = qemu_get_aio_context();

    for (unsigned rounds = 0; !done(opaque); rounds++) {
        bool progress = fuzz_pump(sv);
        progress |= aio_poll(ctx, false);
        if (!progress && !(sv->pos < sv->seg_end)) {
            if (sv->eof) {
                fprintf(stderr, "fuzz-nbd-client: the client is stuck after EOF\n");
                abort();
            }
            fuzz_next_segment(sv);
        }
        if (rounds > FUZZ_MAX_ROUNDS) {
            fprintf(stderr, "fuzz-nbd-client: no end after %u rounds\n", rounds);
            abort();
        }
    }
}

static bool fuzz_flag_set(void *opaque)
{
    return *(bool *)opaque;
}

static void fuzz_report(const char *what, Error *err)
{
    if (verbose && err) {
        fprintf(stderr, "fuzz-nbd-client: %s: %s\n", what, error_get_pretty(err));
    }
    error_free(err);
}

/* ---- --list ---- */

typedef struct FuzzList {
    NBDSock sock;
    bool done;
} FuzzList;

static void coroutine_fn fuzz_list_co(void *opaque)
{
    FuzzList *l = opaque;
    NBDExportInfo *infos;
    Error *err = NULL;
    int n = nbd_receive_export_list(&l->sock, &infos, &err);

    fuzz_report("list", err);
    for (int i = 0; i < n; i++) {
        if (verbose) {
            fprintf(stderr, "fuzz-nbd-client: export '%s' size %" PRIu64 "\n", infos[i].name,
                    infos[i].size);
        }
        nbd_export_info_clear(&infos[i]);
    }
    g_free(n >= 0 ? infos : NULL);
    l->done = true;
}

static void fuzz_list(FuzzServer *sv)
{
    FuzzList l = { 0 };
    int fds[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        abort();
    }
    nbd_sock_init(&l.sock, fds[0]);
    sv->fd = fds[1];
    qemu_set_nonblock(sv->fd);
    qemu_coroutine_enter(qemu_coroutine_create(fuzz_list_co, &l));
    fuzz_run_until(sv, fuzz_flag_set, &l.done);
    nbd_sock_close(&l.sock);
}

/* ---- the driver: open, then the request script ---- */

typedef enum { OP_NONE, OP_READ, OP_WRITE, OP_ZERO, OP_TRIM, OP_FLUSH, OP_STATUS } FuzzOpKind;

typedef struct FuzzOpSpec {
    FuzzOpKind kind;
    bool mid;                   /* at the middle of the export, else at offset off */
    int64_t off, len;           /* both clamped to the export */
} FuzzOpSpec;

#define FUZZ_PHASE_OPS 4

/* Each phase: up to 4 requests at once; a phase starts when the previous one ended. */
static const FuzzOpSpec fuzz_script[][FUZZ_PHASE_OPS] = {
    { { OP_READ, false, 0, 4096 } },
    { { OP_STATUS, false, 0, INT64_MAX } },
    { { OP_READ, true, 0, 8192 }, { OP_READ, false, 0, 512 } },
    { { OP_WRITE, false, 0, 4096 }, { OP_ZERO, false, 4096, 4096 },
      { OP_TRIM, false, 8192, 4096 }, { OP_FLUSH } },
    { { OP_STATUS, true, 0, INT64_MAX }, { OP_READ, false, 0, 16384 } },
};

typedef struct FuzzOp {
    BlockBackend *blk;
    const FuzzOpSpec *spec;
    int64_t off, len;
    bool done;
} FuzzOp;

static const char *const fuzz_op_names[] = {
    [OP_NONE] = "none", [OP_READ] = "read", [OP_WRITE] = "write", [OP_ZERO] = "write zeroes",
    [OP_TRIM] = "trim", [OP_FLUSH] = "flush", [OP_STATUS] = "block status",
};

static void coroutine_fn fuzz_op_co(void *opaque)
{
    FuzzOp *op = opaque;
    BlockDriverState *bs = blk_bs(op->blk), *file;
    bool io = op->spec->kind == OP_READ || op->spec->kind == OP_WRITE;
    g_autofree uint8_t *buf = g_malloc(io ? op->len : 1);     /* small: see fuzz_script */
    int64_t pnum = 0, map;
    int ret = 0;

    memset(buf, 0xa5, io ? op->len : 1);
    switch (op->spec->kind) {
    case OP_NONE:
        break;
    case OP_READ:
        ret = blk_co_pread(op->blk, op->off, op->len, buf, 0);
        break;
    case OP_WRITE:
        ret = blk_co_pwrite(op->blk, op->off, op->len, buf, BDRV_REQ_FUA);
        break;
    case OP_ZERO:
        ret = blk_co_pwrite_zeroes(op->blk, op->off, op->len, BDRV_REQ_MAY_UNMAP);
        break;
    case OP_TRIM:
        ret = blk_co_pdiscard(op->blk, op->off, op->len);
        break;
    case OP_FLUSH:
        ret = blk_co_flush(op->blk);
        break;
    case OP_STATUS:
        ret = bdrv_co_block_status_above(bs, NULL, true, op->off, op->len, &pnum, &map,
                                         &file, NULL);
        break;
    }
    if (verbose) {
        fprintf(stderr, "fuzz-nbd-client: %s %" PRId64 "+%" PRId64 ": %d%s",
                fuzz_op_names[op->spec->kind], op->off, op->len, ret,
                ret < 0 ? strerror(-ret) : "");
        if (op->spec->kind == OP_STATUS && ret >= 0) {
            fprintf(stderr, " pnum %" PRId64, pnum);
        }
        if (op->spec->kind == OP_READ && ret >= 0) {
            fprintf(stderr, " first byte 0x%02x", buf[0]);
        }
        fprintf(stderr, "\n");
    }
    op->done = true;
}

static bool fuzz_ops_done(void *opaque)
{
    FuzzOp *ops = opaque;

    for (int i = 0; i < FUZZ_PHASE_OPS; i++) {
        if (ops[i].spec && !ops[i].done) {
            return false;
        }
    }
    return true;
}

static void fuzz_phase(FuzzServer *sv, BlockBackend *blk, const FuzzOpSpec *specs)
{
    int64_t size = blk_getlength(blk);
    FuzzOp ops[FUZZ_PHASE_OPS] = { 0 };

    if (size <= 0) {
        return;
    }
    for (int i = 0; i < FUZZ_PHASE_OPS && specs[i].kind != OP_NONE; i++) {
        int64_t off = specs[i].mid ? size / 2 : MIN(specs[i].off, size - 1);
        ops[i] = (FuzzOp){ .blk = blk, .spec = &specs[i], .off = off,
                           .len = MIN(specs[i].len, size - off) };
        qemu_coroutine_enter(qemu_coroutine_create(fuzz_op_co, &ops[i]));
    }
    fuzz_run_until(sv, fuzz_ops_done, ops);
}

typedef struct FuzzOpen {
    QDict *opts;
    int flags;
    BlockBackend *blk;
    bool done;
} FuzzOpen;

static void coroutine_fn fuzz_open_co(void *opaque)
{
    FuzzOpen *o = opaque;
    Error *err = NULL;

    o->blk = blk_new_open(NULL, NULL, o->opts, o->flags, &err);
    fuzz_report("open", err);
    o->done = true;
}

static void fuzz_driver(FuzzServer *sv, uint8_t cfg)
{
    FuzzOpen o = { .opts = qdict_new(), .flags = BDRV_O_RDWR };

    qdict_put_str(o.opts, "driver", "nbd");
    qdict_put_str(o.opts, "server.type", "unix");
    qdict_put_str(o.opts, "server.path", sock_path);
    qdict_put_str(o.opts, "discard", "unmap");
    if (cfg & CFG_BITMAP) {
        qdict_put_str(o.opts, "x-dirty-bitmap", "qemu:dirty-bitmap:b0");
    }
    if (cfg & CFG_READONLY) {
        o.flags = 0;
    }
    sv->listen_fd = listen_fd;
    qemu_coroutine_enter(qemu_coroutine_create(fuzz_open_co, &o));
    fuzz_run_until(sv, fuzz_flag_set, &o.done);
    if (o.blk) {
        for (size_t i = 0; i < ARRAY_SIZE(fuzz_script); i++) {
            fuzz_phase(sv, o.blk, fuzz_script[i]);
        }
        /*
         * Closing flushes, and nobody pumps the socket while blk_unref() waits:
         * the server's stream ends here so that the flush fails instead of hanging.
         */
        fuzz_end_stream(sv);
        blk_unref(o.blk);
    }
    /* a connection the driver made but we never accepted */
    if (sv->fd < 0) {
        sv->fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
}

static void fuzz_cleanup(void)
{
    if (sock_path) {
        unlink(sock_path);
        g_autofree char *dir = g_path_get_dirname(sock_path);
        rmdir(dir);
    }
}

static void fuzz_setup(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    signal(SIGPIPE, SIG_IGN);
    verbose = getenv("FUZZ_NBD_CLIENT_VERBOSE") != NULL;
    g_autofree char *dir = g_dir_make_tmp("fuzz-nbd-client-XXXXXX", NULL);
    if (!dir) {
        abort();
    }
    sock_path = g_build_filename(dir, "sock", NULL);
    SocketAddress addr = { .type = SOCKET_ADDRESS_TYPE_UNIX, .u.q_unix.path = sock_path };
    listen_fd = socket_listen(&addr, 16, &error_abort);
    qemu_set_nonblock(listen_fd);
    atexit(fuzz_cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzServer sv = { .fd = -1, .listen_fd = -1 };

    fuzz_setup();
    if (size < 1) {
        return 0;
    }
    sv.data = data + 1;
    sv.size = size - 1;
    fuzz_next_segment(&sv);
    if (data[0] & CFG_LIST) {
        fuzz_list(&sv);
    } else {
        fuzz_driver(&sv, data[0]);
    }
    if (sv.fd >= 0) {
        close(sv.fd);
    }
    return 0;
}
