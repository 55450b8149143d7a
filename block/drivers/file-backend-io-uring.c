/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-backend-io-uring.c: aio=io_uring, through liburing.
 *
 * Same shape as the libaio back end. A request fills an SQE (its UringRequest
 * lives on the coroutine's stack, so nothing is allocated per request) and is
 * submitted at once: one io_uring_enter per request, as QEMU's when unplugged.
 * Batching saves system calls but delays the first request of each batch. On
 * this VM's virtio disk at queue depth 32 (bench/img-bench.sh), one submit per
 * loop iteration from a BH ran at 1.05x QEMU's time, one per completion batch
 * at 1.12x, and submitting at once at 0.93x.
 *
 * Completion: the AioContext watches the ring fd itself, which is readable
 * while the completion queue holds entries, so there is no eventfd to read and
 * clear. The handler reaps the CQ ring in user space and enters each finished
 * request's coroutine right there. A coroutine's next request goes out inside
 * that loop, and since io_uring_enter also runs the kernel's pending completion
 * work, the loop often finds more CQEs without going back to epoll_wait.
 *
 * Where the kernel has them (5.19, 6.0), the ring is set up with COOP_TASKRUN,
 * so that a completion does not interrupt us with an IPI while we run in user
 * space (we enter the kernel for every submission anyway), and with
 * SINGLE_ISSUER, which states a fact: the ring is created and used by its
 * AioContext's thread only (a fork after opening would break that, and no tool
 * forks after opening images). Older kernels refuse unknown setup flags with
 * EINVAL and get a plain ring. A registered ring fd made no measurable
 * difference. Registered files would also save a file reference per request,
 * but a back end does not see when file-posix closes an fd, and a stale
 * registration would keep writing to the old file.
 *
 * At most URING_ENTRIES requests hold a slot, so the completion queue (twice
 * that) never overflows. Later ones wait in a CoQueue, and a finishing request
 * hands its slot straight to the oldest waiter, which keeps FIFO order.
 * Unlike libaio, io_uring is asynchronous without O_DIRECT too, and may return
 * short reads that are not at end of file; file_backend_co_rw_full() resubmits
 * those.
 */
#include "util/osdep.h"
#include "block/drivers/file-posix.h"

#ifdef CONFIG_IO_URING

#include <liburing.h>

#define URING_ENTRIES 128

typedef struct UringRequest {
    Coroutine *co;
    int64_t ret;
    bool done;
} UringRequest;

struct FileBackend {
    AioContext *ctx;
    struct io_uring ring;
    QEMUBH *retry_bh;                 /* resubmits after a refused io_uring_enter */
    CoQueue slot_waiters;             /* requests that found every slot taken */
    unsigned in_flight;               /* slots taken: by filled SQEs, or handed to a waiter */
};

/* Give the kernel every filled SQE; what it refuses stays in the ring. */
static void uring_submit(FileBackend *be)
{
    int ret;

    do {
        ret = io_uring_submit(&be->ring);
    } while (ret == -EINTR);
    if (ret < 0 && ret != -EAGAIN && ret != -EBUSY) {
        /* EEXIST (a second submitting thread), EBADF, EFAULT: our bug */
        fprintf(stderr, "%s: io_uring_enter: %s\n", error_get_progname(), strerror(-ret));
        abort();
    }
    if (io_uring_sq_ready(&be->ring)) {
        /*
         * EAGAIN (no memory for requests), EBUSY, or a stop after an SQE that
         * failed early: retry from the loop, as no completion may be coming.
         */
        qemu_bh_schedule(be->retry_bh);
    }
}

static void uring_retry_bh(void *opaque)
{
    uring_submit(opaque);
}

/* A finished request's slot goes to the oldest waiter, if any, in FIFO order. */
static void uring_release_slot(FileBackend *be)
{
    if (!qemu_co_queue_next(&be->slot_waiters)) {
        be->in_flight--;
    }
}

/*
 * Reap CQEs until the ring is empty, entering each coroutine at once. The CQE
 * is consumed before the coroutine runs, since that may submit its next request
 * and reap more: io_uring_enter posts the completions the kernel has pending.
 */
static void uring_completion_cb(void *opaque)
{
    FileBackend *be = opaque;
    struct io_uring_cqe *cqe;

    while (io_uring_cq_ready(&be->ring) && io_uring_peek_cqe(&be->ring, &cqe) == 0) {
        UringRequest *r = io_uring_cqe_get_data(cqe);
        Coroutine *co = r->co;

        r->ret = cqe->res;
        r->done = true;               /* r lives on co's stack: last use */
        io_uring_cqe_seen(&be->ring, cqe);
        uring_release_slot(be);
        aio_co_enter(qemu_coroutine_get_aio_context(co), co);
    }
}

/* A ring with the cheaper completion flags if the kernel knows them. */
static int uring_queue_init(struct io_uring *ring)
{
    unsigned flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
    int ret = io_uring_queue_init(URING_ENTRIES, ring, flags);

    if (ret == -EINVAL) {
        ret = io_uring_queue_init(URING_ENTRIES, ring, IORING_SETUP_COOP_TASKRUN);
    }
    if (ret == -EINVAL) {
        ret = io_uring_queue_init(URING_ENTRIES, ring, 0);
    }
    return ret;
}

static FileBackend *uring_init(AioContext *ctx, Error **errp)
{
    FileBackend *be = g_new0(FileBackend, 1);
    int ret = uring_queue_init(&be->ring);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to init linux io_uring ring");
        g_free(be);
        return NULL;
    }
    be->ctx = ctx;
    be->retry_bh = aio_bh_new(ctx, uring_retry_bh, be);
    qemu_co_queue_init(&be->slot_waiters);
    aio_set_fd_handler(ctx, be->ring.ring_fd, uring_completion_cb, NULL, be);
    return be;
}

static void uring_cleanup(FileBackend *be)
{
    assert(!be->in_flight);
    aio_set_fd_handler(be->ctx, be->ring.ring_fd, NULL, NULL, NULL);
    qemu_bh_delete(be->retry_bh);
    io_uring_queue_exit(&be->ring);
    g_free(be);
}

static int64_t coroutine_fn uring_co_rw(FileBackend *be, int fd, int64_t offset,
                                        struct iovec *iov, int niov, bool is_write)
{
    UringRequest r = { .co = qemu_coroutine_self() };
    struct io_uring_sqe *sqe;

    if (be->in_flight < URING_ENTRIES) {
        be->in_flight++;
    } else {
        /* woken by uring_release_slot, which hands its slot over */
        qemu_co_queue_wait(&be->slot_waiters, NULL);
    }
    sqe = io_uring_get_sqe(&be->ring);
    assert(sqe);                      /* a slot is an SQE too: SQ size = URING_ENTRIES */
    if (is_write) {
        io_uring_prep_writev(sqe, fd, iov, niov, offset);
    } else {
        io_uring_prep_readv(sqe, fd, iov, niov, offset);
    }
    io_uring_sqe_set_data(sqe, &r);
    uring_submit(be);
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
