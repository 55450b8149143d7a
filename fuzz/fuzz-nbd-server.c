/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * fuzz-nbd-server: arbitrary bytes as a client's half of an NBD session. The
 * server gets one end of a socketpair (nbd_server_serve_fd) and serves a 1 MiB
 * writable null-co export "" with qemu:allocation-depth and one dirty bitmap,
 * so every option and command path is reachable. We write the input, then shut
 * our sending side, and drain the replies until the server drops the client.
 * Anything but a clean end (a crash, a sanitizer report, a hang) is a bug.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"
#include "qobject/qdict.h"
#include "nbd/nbd.h"
#include <poll.h>
#include <signal.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_nbd_setup(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    signal(SIGPIPE, SIG_IGN);
    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", "null-co");
    qdict_put_str(opts, "size", "1048576");
    qdict_put_str(opts, "read-zeroes", "on");
    BlockBackend *blk = blk_new_open(NULL, NULL, opts, BDRV_O_RDWR, &error_abort);
    bdrv_create_dirty_bitmap(blk_bs(blk), 65536, "b0", &error_abort);
    static const char *const bitmaps[] = { "b0", NULL };
    NBDExportOptions o = { .name = "", .description = "fuzz", .writable = true,
                           .allocation_depth = true, .bitmaps = bitmaps, .multi_conn = -1 };
    nbd_export_add(blk, &o, &error_abort);
    blk_unref(blk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    AioContext *ctx = qemu_get_aio_context();
    int sv[2];
    char sink[65536];
    size_t sent = 0;

    fuzz_nbd_setup();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        abort();
    }
    qemu_set_nonblock(sv[1]);
    nbd_server_serve_fd(sv[0]);
    bool shut = false;
    for (unsigned rounds = 0; nbd_server_client_count() > 0; rounds++) {
        if (sent < size) {
            ssize_t n = send(sv[1], data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                sent = size;            /* the server hung up on us */
            }
        }
        if (sent == size && !shut) {
            shutdown(sv[1], SHUT_WR);
            shut = true;
        }
        while (recv(sv[1], sink, sizeof(sink), 0) > 0) {
        }
        if (!aio_poll(ctx, false)) {
            struct pollfd pfd = { .fd = sv[1], .events = POLLIN | (sent < size ? POLLOUT : 0) };
            poll(&pfd, 1, 1);
        }
        if (rounds > 10000000) {
            abort();                    /* a hang: the server ignores EOF */
        }
    }
    close(sv[1]);
    return 0;
}
