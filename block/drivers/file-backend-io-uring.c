/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-backend-io-uring.c: aio=io_uring, through liburing.
 *
 * Same shape as the libaio back end: a request fills an SQE (or, when the
 * submission ring is full, waits in a queue), a bottom half submits everything
 * queued in this event-loop iteration with one io_uring_submit(), and an eventfd
 * registered with the ring wakes the AioContext, whose handler reaps the CQEs
 * and wakes each request's coroutine. Unlike libaio, io_uring is asynchronous
 * without O_DIRECT too, and may return short reads that are not at end of file;
 * file_backend_co_rw_full() resubmits those.
 */
#include "util/osdep.h"
#include "block/drivers/file-posix.h"

#ifdef CONFIG_IO_URING

#include <liburing.h>

#define URING_ENTRIES 128

typedef struct UringRequest {
    Coroutine *co;
    int fd;
    int64_t offset;
    struct iovec *iov;
    int niov;
    bool is_write;
    int64_t ret;
    bool done;
    struct UringRequest *next;        /* waiting for a free SQE */
} UringRequest;

struct FileBackend {
    AioContext *ctx;
    struct io_uring ring;
    EventNotifier notifier;
    QEMUBH *submit_bh;
    UringRequest *waiting_head;       /* no SQE yet */
    UringRequest **waiting_tail;
    unsigned in_flight;
};

static bool uring_prep(FileBackend *be, UringRequest *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&be->ring);

    if (!sqe) {
        return false;
    }
    if (r->is_write) {
        io_uring_prep_writev(sqe, r->fd, r->iov, r->niov, r->offset);
    } else {
        io_uring_prep_readv(sqe, r->fd, r->iov, r->niov, r->offset);
    }
    io_uring_sqe_set_data(sqe, r);
    be->in_flight++;
    return true;
}

static void uring_submit(FileBackend *be)
{
    while (be->waiting_head && uring_prep(be, be->waiting_head)) {
        be->waiting_head = be->waiting_head->next;
    }
    if (!be->waiting_head) {
        be->waiting_tail = &be->waiting_head;
    }
    int ret;
    do {
        ret = io_uring_submit(&be->ring);
    } while (ret == -EINTR);
    /* -EAGAIN/-EBUSY: the SQEs stay in the ring; the next completion retries. */
}

static void uring_submit_bh(void *opaque)
{
    uring_submit(opaque);
}

static void uring_completion_cb(EventNotifier *e)
{
    FileBackend *be = container_of(e, FileBackend, notifier);
    struct io_uring_cqe *cqe;

    if (!event_notifier_test_and_clear(e)) {
        return;
    }
    while (io_uring_peek_cqe(&be->ring, &cqe) == 0) {
        UringRequest *r = io_uring_cqe_get_data(cqe);
        r->ret = cqe->res;
        r->done = true;
        io_uring_cqe_seen(&be->ring, cqe);
        be->in_flight--;
        aio_co_wake(r->co);
    }
    if (be->waiting_head || io_uring_sq_ready(&be->ring)) {
        uring_submit(be);
    }
}

static FileBackend *uring_init(AioContext *ctx, Error **errp)
{
    FileBackend *be = g_new0(FileBackend, 1);
    int ret = io_uring_queue_init(URING_ENTRIES, &be->ring, 0);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to init linux io_uring ring");
        g_free(be);
        return NULL;
    }
    ret = event_notifier_init(&be->notifier, false);
    if (ret >= 0) {
        ret = io_uring_register_eventfd(&be->ring, event_notifier_get_fd(&be->notifier));
        if (ret < 0) {
            event_notifier_cleanup(&be->notifier);
        }
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to register an eventfd with io_uring");
        io_uring_queue_exit(&be->ring);
        g_free(be);
        return NULL;
    }
    be->ctx = ctx;
    be->waiting_tail = &be->waiting_head;
    be->submit_bh = aio_bh_new(ctx, uring_submit_bh, be);
    aio_set_event_notifier(ctx, &be->notifier, uring_completion_cb);
    return be;
}

static void uring_cleanup(FileBackend *be)
{
    assert(!be->in_flight && !be->waiting_head);
    aio_set_event_notifier(be->ctx, &be->notifier, NULL);
    qemu_bh_delete(be->submit_bh);
    io_uring_unregister_eventfd(&be->ring);
    io_uring_queue_exit(&be->ring);
    event_notifier_cleanup(&be->notifier);
    g_free(be);
}

static int64_t coroutine_fn uring_co_rw(FileBackend *be, int fd, int64_t offset,
                                        struct iovec *iov, int niov, bool is_write)
{
    UringRequest r = {
        .co = qemu_coroutine_self(), .fd = fd, .offset = offset,
        .iov = iov, .niov = niov, .is_write = is_write,
    };

    /* Keep arrival order: nobody overtakes requests already waiting for an SQE. */
    if (be->waiting_head || !uring_prep(be, &r)) {
        *be->waiting_tail = &r;
        be->waiting_tail = &r.next;
    }
    qemu_bh_schedule(be->submit_bh);
    while (!r.done) {
        qemu_coroutine_yield();
    }
    return r.ret;
}

const FileBackendOps file_backend_io_uring = {
    .name    = "io_uring",
    .init    = uring_init,
    .cleanup = uring_cleanup,
    .co_rw   = uring_co_rw,
};

#endif /* CONFIG_IO_URING */
