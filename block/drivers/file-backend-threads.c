/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-backend-threads.c: aio=threads. Each request is one preadv/pwritev on a
 * thread-pool worker; the submitting coroutine yields in thread_pool_submit_co().
 * Works everywhere, with or without O_DIRECT; the default back end.
 */
#include "util/osdep.h"
#include "util/thread-pool.h"
#include "block/drivers/file-posix.h"

#include <sys/uio.h>

struct FileBackend {
    AioContext *ctx;
};

typedef struct ThreadsRequest {
    int fd;
    int64_t offset;
    struct iovec *iov;
    int niov;
    bool is_write;
} ThreadsRequest;

/* Runs on a worker: one system call, retried on EINTR only. */
static int threads_do_rw(void *opaque)
{
    ThreadsRequest *r = opaque;
    ssize_t n;

    do {
        if (r->is_write) {
            n = pwritev(r->fd, r->iov, r->niov, r->offset);
        } else {
            n = preadv(r->fd, r->iov, r->niov, r->offset);
        }
    } while (n < 0 && errno == EINTR);
    /* Requests are bounded by io.c's max_transfer, so the count fits an int. */
    return n < 0 ? -errno : (int)MIN(n, INT_MAX);
}

static FileBackend *threads_init(AioContext *ctx, Error **errp)
{
    FileBackend *be = g_new0(FileBackend, 1);

    be->ctx = ctx;
    return be;
}

static void threads_cleanup(FileBackend *be)
{
    g_free(be);
}

static int64_t coroutine_fn threads_co_rw(FileBackend *be, int fd, int64_t offset,
                                          struct iovec *iov, int niov, bool is_write)
{
    ThreadsRequest r = {
        .fd = fd, .offset = offset, .iov = iov, .niov = niov, .is_write = is_write,
    };

    return thread_pool_submit_co(threads_do_rw, &r);
}

const FileBackendOps file_backend_threads = {
    .name    = "threads",
    .init    = threads_init,
    .cleanup = threads_cleanup,
    .co_rw   = threads_co_rw,
};
