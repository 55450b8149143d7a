/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-backend-linux-aio.c: aio=native, Linux AIO through libaio.
 *
 * Submission is immediate, as QEMU's when unplugged. Batching costs latency
 * the disk does not give back: a BH per loop iteration lost ~15% of the IOPS at
 * queue depth 32, and even one io_submit per completion batch (the coroutines
 * woken by one eventfd wake-up queue their next requests, the handler submits
 * them together: 6x fewer system calls) lost ~20% on this VM's virtio disk
 * (bench/qcow2-bench.sh). When the kernel queue is full (io_submit says EAGAIN
 * or takes fewer iocbs) the rest stay queued and go out after the next
 * completion. Linux AIO is only asynchronous with O_DIRECT, which is why
 * file-posix.c insists on cache.direct=on for aio=native.
 *
 * Completion: every iocb names our eventfd (io_set_eventfd). Its handler in the
 * AioContext reaps the completion ring, which the kernel maps into our address
 * space (io_setup's io_context_t is its address), so reaping is a few loads and
 * one store instead of io_getevents calls; io_getevents stays the fallback for
 * a ring we do not recognise. Each finished request's coroutine is entered
 * right there rather than scheduled, which saves a pass through the loop.
 *
 * The completion ring (kernel ABI, fs/aio.c), all fields native-endian u32:
 *
 *   id | nr | head | tail | magic 0xa10a10a1 | compat | incompat | header_length
 *   struct io_event[nr]           slots head..tail-1 (mod nr) hold completions
 *
 * The kernel fills a slot, then advances tail; we read slots up to tail (after
 * an acquire load of it) and then publish head (release store), which tells the
 * kernel the slots are free again.
 */
#include "util/osdep.h"
#include "block/drivers/file-posix.h"

#ifdef CONFIG_LINUX_AIO

#include <libaio.h>

#define LAIO_QUEUE_DEPTH 128          /* iocbs in flight per back end */
#define LAIO_RING_MAGIC  0xa10a10a1

typedef struct LaioRing {             /* the kernel's completion ring header */
    unsigned id, nr, head, tail;
    unsigned magic, compat_features, incompat_features, header_length;
    struct io_event events[];
} LaioRing;

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
    LaioRing *ring;                   /* NULL: reap with io_getevents */
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

/* Finish one request: its coroutine runs now unless we are inside a coroutine. */
static void laio_complete(FileBackend *be, struct io_event *ev)
{
    LaioRequest *r = container_of(ev->obj, LaioRequest, iocb);
    Coroutine *co = r->co;

    /* res is unsigned long; negative errno values come back wrapped. */
    r->ret = (int64_t)(long)ev->res;
    r->done = true;                   /* r lives on co's stack: last use */
    be->in_flight--;
    aio_co_enter(qemu_coroutine_get_aio_context(co), co);
}

/* Reap what the ring holds, without a system call; false if none was there. */
static bool laio_reap_ring(FileBackend *be)
{
    LaioRing *ring = be->ring;
    unsigned head = ring->head, nr = ring->nr;
    unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);

    if (head == tail) {
        return false;
    }
    while (head != tail) {
        struct io_event ev = ring->events[head];

        head = head + 1 == nr ? 0 : head + 1;
        /* free the slot before the coroutine runs: it may submit more */
        __atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
        laio_complete(be, &ev);
    }
    return true;
}

static bool laio_reap_syscall(FileBackend *be)
{
    struct io_event events[LAIO_QUEUE_DEPTH];
    struct timespec zero = { 0, 0 };
    int n = io_getevents(be->io_ctx, 0, LAIO_QUEUE_DEPTH, events, &zero);

    for (int i = 0; i < n; i++) {
        laio_complete(be, &events[i]);
    }
    return n > 0;
}

static void laio_completion_cb(EventNotifier *e)
{
    FileBackend *be = container_of(e, FileBackend, notifier);

    if (!event_notifier_test_and_clear(e)) {
        return;
    }
    while (be->ring ? laio_reap_ring(be) : laio_reap_syscall(be)) {
        /* completions that arrived while coroutines ran are reaped too */
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
    be->ring = (LaioRing *)be->io_ctx;
    if (be->ring->magic != LAIO_RING_MAGIC || be->ring->incompat_features ||
        be->ring->header_length != sizeof(LaioRing)) {
        be->ring = NULL;
    }
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
