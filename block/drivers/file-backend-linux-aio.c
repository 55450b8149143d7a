/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-backend-linux-aio.c: aio=native, Linux AIO through libaio.
 *
 * Submission is immediate, as QEMU's when unplugged: deferring it to a bottom
 * half (one io_submit per loop iteration) saved syscalls but cost latency, and
 * at queue depth 32 that lost ~15% of the IOPS (bench/qcow2-bench.sh). Only
 * requests the kernel refused for lack of room wait in the queue. Completion:
 * every iocb names our eventfd (io_set_eventfd), whose handler in the AioContext reaps with a zero timeout and
 * wakes each request's coroutine. When the kernel queue is full (io_submit says
 * EAGAIN or takes fewer iocbs) the rest stay queued and go out after the next
 * completion. Linux AIO is only asynchronous with O_DIRECT, which is why
 * file-posix.c insists on cache.direct=on for aio=native.
 */
#include "util/osdep.h"
#include "block/drivers/file-posix.h"

#ifdef CONFIG_LINUX_AIO

#include <libaio.h>

#define LAIO_QUEUE_DEPTH 128          /* iocbs in flight per back end */

typedef struct LaioRequest {
    struct iocb iocb;                 /* first: io_event.obj points here */
    Coroutine *co;
    int64_t ret;
    bool done;
    struct LaioRequest *next;         /* in the pending queue */
} LaioRequest;

struct FileBackend {
    AioContext *ctx;
    io_context_t io_ctx;
    EventNotifier notifier;
    QEMUBH *submit_bh;
    LaioRequest *pending_head;        /* queued, not yet given to the kernel */
    LaioRequest **pending_tail;
    unsigned in_flight;               /* given to the kernel, not yet reaped */
};

static void laio_submit_pending(FileBackend *be)
{
    struct iocb *batch[LAIO_QUEUE_DEPTH];

    while (be->pending_head && be->in_flight < LAIO_QUEUE_DEPTH) {
        int n = 0;
        LaioRequest *r = be->pending_head;
        for (; r && be->in_flight + n < LAIO_QUEUE_DEPTH; r = r->next) {
            batch[n++] = &r->iocb;
        }
        int ret = io_submit(be->io_ctx, n, batch);
        if ((ret == -EAGAIN || ret == 0) && be->in_flight) {
            return;                   /* retried after the next completion */
        }
        if (ret <= 0) {
            ret = ret ? ret : -EAGAIN;
            /* The first iocb is bad (io_submit reports it, not the others). */
            LaioRequest *bad = be->pending_head;
            be->pending_head = bad->next;
            bad->ret = ret;
            bad->done = true;
            if (!qemu_in_coroutine() || bad->co != qemu_coroutine_self()) {
                aio_co_wake(bad->co);   /* the submitter itself sees done at once */
            }
            ret = 0;
        }
        for (int i = 0; i < ret; i++) {
            be->pending_head = be->pending_head->next;
        }
        be->in_flight += ret;
        if (!be->pending_head) {
            be->pending_tail = &be->pending_head;
        }
    }
}

static void laio_submit_bh(void *opaque)
{
    laio_submit_pending(opaque);
}

static void laio_completion_cb(EventNotifier *e)
{
    FileBackend *be = container_of(e, FileBackend, notifier);
    struct io_event events[LAIO_QUEUE_DEPTH];
    struct timespec zero = { 0, 0 };

    if (!event_notifier_test_and_clear(e)) {
        return;
    }
    for (;;) {
        int n = io_getevents(be->io_ctx, 0, LAIO_QUEUE_DEPTH, events, &zero);
        if (n <= 0) {
            break;
        }
        for (int i = 0; i < n; i++) {
            LaioRequest *r = container_of(events[i].obj, LaioRequest, iocb);
            /* res is unsigned long; negative errno values come back wrapped. */
            r->ret = (int64_t)(long)events[i].res;
            r->done = true;
            be->in_flight--;
            aio_co_wake(r->co);
        }
    }
    laio_submit_pending(be);
}

static FileBackend *laio_init(AioContext *ctx, Error **errp)
{
    FileBackend *be = g_new0(FileBackend, 1);
    int ret = event_notifier_init(&be->notifier, false);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to initialize event notifier");
        g_free(be);
        return NULL;
    }
    ret = io_setup(LAIO_QUEUE_DEPTH, &be->io_ctx);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to create linux AIO context");
        event_notifier_cleanup(&be->notifier);
        g_free(be);
        return NULL;
    }
    be->ctx = ctx;
    be->pending_tail = &be->pending_head;
    be->submit_bh = aio_bh_new(ctx, laio_submit_bh, be);
    aio_set_event_notifier(ctx, &be->notifier, laio_completion_cb);
    return be;
}

static void laio_cleanup(FileBackend *be)
{
    assert(!be->in_flight && !be->pending_head);
    aio_set_event_notifier(be->ctx, &be->notifier, NULL);
    qemu_bh_delete(be->submit_bh);
    io_destroy(be->io_ctx);
    event_notifier_cleanup(&be->notifier);
    g_free(be);
}

static int64_t coroutine_fn laio_co_rw(FileBackend *be, int fd, int64_t offset,
                                       struct iovec *iov, int niov, bool is_write)
{
    LaioRequest r = { .co = qemu_coroutine_self() };

    if (is_write) {
        io_prep_pwritev(&r.iocb, fd, iov, niov, offset);
    } else {
        io_prep_preadv(&r.iocb, fd, iov, niov, offset);
    }
    io_set_eventfd(&r.iocb, event_notifier_get_fd(&be->notifier));
    *be->pending_tail = &r;
    be->pending_tail = &r.next;
    laio_submit_pending(be);
    if (be->pending_head) {
        qemu_bh_schedule(be->submit_bh);
    }
    while (!r.done) {
        qemu_coroutine_yield();
    }
    return r.ret;
}

const FileBackendOps file_backend_linux_aio = {
    .name    = "native",
    .init    = laio_init,
    .cleanup = laio_cleanup,
    .co_rw   = laio_co_rw,
};

#endif /* CONFIG_LINUX_AIO */
