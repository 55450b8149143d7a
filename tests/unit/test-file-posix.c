/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-file-posix: the "file" protocol driver and its I/O back ends.
 *
 * Nodes are built by hand (a BlockDriverState with drv = &bdrv_file) and the
 * driver's callbacks called directly, so the driver is tested alone, without
 * the request layer. Every back end this build has is exercised with
 * O_DIRECT-aligned requests issued by several coroutines at once (so libaio and
 * io_uring batch them). Locking is checked between two opens in this process
 * and against Debian's qemu-io when it is installed.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/thread-pool.h"
#include "util/cutils.h"
#include "qobject/qdict.h"
#include "block/drivers/file-posix.h"
#include "block/block-backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern const BlockDriver bdrv_file;

static char *test_dir;

/* ---- running coroutine code from the test ---- */

typedef struct CoCall {
    void (*fn)(void *opaque);
    void *opaque;
    bool done;
} CoCall;

static void coroutine_fn co_call_entry(void *opaque)
{
    CoCall *c = opaque;
    c->fn(c->opaque);
    c->done = true;
}

/* Start n coroutines running fn(opaque[i]) and poll until all are done. */
static void run_co_many(void (*fn)(void *), void **opaque, int n)
{
    CoCall *calls = g_new0(CoCall, n);

    for (int i = 0; i < n; i++) {
        calls[i] = (CoCall) { .fn = fn, .opaque = opaque[i] };
        qemu_coroutine_enter(qemu_coroutine_create(co_call_entry, &calls[i]));
    }
    for (int i = 0; i < n; i++) {
        while (!calls[i].done) {
            aio_poll(qemu_get_aio_context(), true);
        }
    }
    g_free(calls);
}

static void run_co(void (*fn)(void *), void *opaque)
{
    run_co_many(fn, &opaque, 1);
}

static char *make_file(const char *name, int64_t size)
{
    char *path = g_build_filename(test_dir, name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

/* ---- back ends ---- */

typedef struct RwReq {
    const FileBackendOps *ops;
    FileBackend *be;
    int fd;
    int64_t offset;
    QEMUIOVector qiov;
    bool is_write;
    int ret;
} RwReq;

static void coroutine_fn rw_req_run(void *opaque)
{
    RwReq *r = opaque;
    r->ret = file_backend_co_rw_full(r->ops, r->be, r->fd, r->offset, &r->qiov, r->is_write);
}

static void test_backend(gconstpointer opaque)
{
    FileAioType type = GPOINTER_TO_INT(opaque);
    enum { NREQ = 16, LEN = 64 * 1024 };
    g_autofree char *path = make_file("backend.img", 0);
    Error *err = NULL;

    const FileBackendOps *ops = file_backend_get(type, &error_abort);
    FileBackend *be = ops->init(qemu_get_aio_context(), &err);
    if (!be) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        return;
    }
    int fd = open(path, O_RDWR | O_DIRECT);
    g_assert_cmpint(fd, >=, 0);

    /* Writes: NREQ coroutines at once, each a two-iovec request. */
    RwReq reqs[NREQ];
    void *args[NREQ];
    uint8_t *bufs[NREQ];
    for (int i = 0; i < NREQ; i++) {
        g_assert_cmpint(posix_memalign((void **)&bufs[i], 4096, LEN), ==, 0);
        memset(bufs[i], 0x40 + i, LEN);
        reqs[i] = (RwReq) { .ops = ops, .be = be, .fd = fd, .offset = (int64_t)i * LEN,
                            .is_write = true };
        qemu_iovec_init(&reqs[i].qiov, 2);
        qemu_iovec_add(&reqs[i].qiov, bufs[i], LEN / 2);
        qemu_iovec_add(&reqs[i].qiov, bufs[i] + LEN / 2, LEN / 2);
        args[i] = &reqs[i];
    }
    run_co_many(rw_req_run, args, NREQ);
    for (int i = 0; i < NREQ; i++) {
        g_assert_cmpint(reqs[i].ret, ==, 0);
        memset(bufs[i], 0, LEN);
        reqs[i].is_write = false;
    }
    /* Reads back, all at once again. */
    run_co_many(rw_req_run, args, NREQ);
    for (int i = 0; i < NREQ; i++) {
        g_assert_cmpint(reqs[i].ret, ==, 0);
        for (int j = 0; j < LEN; j++) {
            if (bufs[i][j] != 0x40 + i) {
                g_error("request %d byte %d: 0x%x", i, j, bufs[i][j]);
            }
        }
    }
    /* A read across end of file: the tail reads as zeroes. */
    memset(bufs[0], 0xff, LEN);
    reqs[0].offset = (int64_t)NREQ * LEN - 4096;
    run_co(rw_req_run, &reqs[0]);
    g_assert_cmpint(reqs[0].ret, ==, 0);
    g_assert_cmpint(bufs[0][0], ==, 0x40 + NREQ - 1);
    g_assert_true(buffer_is_zero(bufs[0] + 4096, LEN - 4096));

    for (int i = 0; i < NREQ; i++) {
        qemu_iovec_destroy(&reqs[i].qiov);
        free(bufs[i]);
    }
    ops->cleanup(be);
    close(fd);
    unlink(path);
}

/*
 * Deep queues: more requests at once than io_uring's 128 slots, so requests
 * also wait for a slot. Every 4 KiB block gets a pattern unique to its round
 * and index; each request must finish exactly once with its own result, and a
 * lost completion fails after a deadline instead of hanging.
 */
enum { DEEP_NREQ = 300, DEEP_LEN = 4096, DEEP_ROUNDS = 3 };

typedef struct DeepReq {
    RwReq rw;
    int finished;                     /* times the request returned */
} DeepReq;

static void coroutine_fn deep_req_run(void *opaque)
{
    DeepReq *d = opaque;

    rw_req_run(&d->rw);
    d->finished++;
}

static uint32_t deep_word(int round, int i)
{
    return 0x5a000000u | (uint32_t)round << 16 | (uint32_t)i;
}

static void deep_timeout(void *opaque)
{
    *(bool *)opaque = true;
}

/* Run every request at once; fail if any is lost or finishes twice. */
static void deep_run_all(DeepReq *reqs)
{
    bool expired = false;
    QEMUTimer *timer = aio_timer_new(qemu_get_aio_context(), QEMU_CLOCK_REALTIME,
                                     deep_timeout, &expired);
    Coroutine *cos[DEEP_NREQ];
    int done;

    timer_mod(timer, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 60 * NANOSECONDS_PER_SECOND);
    for (int i = 0; i < DEEP_NREQ; i++) {
        reqs[i].finished = 0;
        cos[i] = qemu_coroutine_create(deep_req_run, &reqs[i]);
    }
    for (int i = 0; i < DEEP_NREQ; i++) {
        qemu_coroutine_enter(cos[i]);
    }
    do {
        done = 0;
        for (int i = 0; i < DEEP_NREQ; i++) {
            g_assert_cmpint(reqs[i].finished, <=, 1);
            done += reqs[i].finished;
        }
        if (done < DEEP_NREQ) {
            if (expired) {
                g_error("%d of %d requests never completed", DEEP_NREQ - done, DEEP_NREQ);
            }
            aio_poll(qemu_get_aio_context(), true);
        }
    } while (done < DEEP_NREQ);
    timer_free(timer);
}

static void test_backend_deep(gconstpointer opaque)
{
    FileAioType type = GPOINTER_TO_INT(opaque);
    g_autofree char *path = make_file("deep.img", 0);
    DeepReq *reqs = g_new0(DeepReq, DEEP_NREQ);
    Error *err = NULL;

    const FileBackendOps *ops = file_backend_get(type, &error_abort);
    FileBackend *be = ops->init(qemu_get_aio_context(), &err);
    if (!be) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        g_free(reqs);
        return;
    }
    int fd = open(path, O_RDWR | O_DIRECT);
    g_assert_cmpint(fd, >=, 0);
    for (int i = 0; i < DEEP_NREQ; i++) {
        void *buf = NULL;
        g_assert_cmpint(posix_memalign(&buf, 4096, DEEP_LEN), ==, 0);
        /* scattered, so neighbours in the queue are not neighbours on disk */
        int64_t block = (int64_t)(i * 7 % DEEP_NREQ);
        reqs[i].rw = (RwReq) { .ops = ops, .be = be, .fd = fd, .offset = block * DEEP_LEN };
        qemu_iovec_init(&reqs[i].rw.qiov, 1);
        qemu_iovec_add(&reqs[i].rw.qiov, buf, DEEP_LEN);
    }

    for (int round = 0; round < DEEP_ROUNDS; round++) {
        for (int i = 0; i < DEEP_NREQ; i++) {
            uint32_t *words = reqs[i].rw.qiov.iov[0].iov_base;
            for (int j = 0; j < DEEP_LEN / 4; j++) {
                words[j] = deep_word(round, i);
            }
            reqs[i].rw.is_write = true;
        }
        deep_run_all(reqs);
        for (int i = 0; i < DEEP_NREQ; i++) {
            g_assert_cmpint(reqs[i].rw.ret, ==, 0);
            memset(reqs[i].rw.qiov.iov[0].iov_base, 0, DEEP_LEN);
            reqs[i].rw.is_write = false;
        }
        deep_run_all(reqs);
        for (int i = 0; i < DEEP_NREQ; i++) {
            uint32_t *words = reqs[i].rw.qiov.iov[0].iov_base;
            g_assert_cmpint(reqs[i].rw.ret, ==, 0);
            for (int j = 0; j < DEEP_LEN / 4; j++) {
                if (words[j] != deep_word(round, i)) {
                    g_error("round %d request %d word %d: 0x%08x", round, i, j, words[j]);
                }
            }
        }
    }

    for (int i = 0; i < DEEP_NREQ; i++) {
        free(reqs[i].rw.qiov.iov[0].iov_base);
        qemu_iovec_destroy(&reqs[i].rw.qiov);
    }
    g_free(reqs);
    ops->cleanup(be);
    close(fd);
    unlink(path);
}

/* ---- the driver, through a hand-made node ---- */

static BlockDriverState *file_node_open(const char *path, int flags, const char *aio,
                                        Error **errp)
{
    BlockDriverState *bs = g_new0(BlockDriverState, 1);
    QDict *opts = qdict_new();

    bs->drv = &bdrv_file;
    bs->opaque = g_malloc0(bdrv_file.instance_size);
    bs->open_flags = flags;
    qdict_put_str(opts, "filename", path);
    if (aio) {
        qdict_put_str(opts, "aio", aio);
    }
    int ret = bdrv_file.open(bs, opts, flags, errp);
    g_assert_cmpint(qdict_size(opts), ==, 0);
    qobject_unref(opts);
    if (ret < 0) {
        g_free(bs->opaque);
        g_free(bs);
        return NULL;
    }
    bdrv_file.refresh_limits(bs, &error_abort);
    return bs;
}

static void file_node_close(BlockDriverState *bs)
{
    bdrv_file.close(bs);
    g_free(bs->opaque);
    g_free(bs);
}

static void test_open_errors(void)
{
    g_autofree char *missing = g_build_filename(test_dir, "missing.img", NULL);
    g_autofree char *path = make_file("errors.img", 4096);
    g_autofree char *want = g_strdup_printf("Could not open '%s': No such file or directory",
                                            missing);
    Error *err = NULL;

    g_assert_null(file_node_open(missing, BDRV_O_RDWR, NULL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    error_free(err);
    err = NULL;

    g_assert_null(file_node_open(path, BDRV_O_RDWR, "native", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "aio=native was specified, but it requires "
                    "cache.direct=on, which was not specified.");
    error_free(err);
    err = NULL;

    g_assert_null(file_node_open(path, BDRV_O_RDWR, "bogus", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "invalid parameter value: bogus");
    error_free(err);
    unlink(path);
}

typedef struct NodeOp {
    BlockDriverState *bs;
    int64_t offset, bytes;
    void *buf;
    BdrvRequestFlags flags;
    PreallocMode prealloc;
    Error *err;
    int ret;
    int64_t pnum, map;
    enum { OP_READ, OP_WRITE, OP_ZEROES, OP_DISCARD, OP_STATUS, OP_TRUNCATE, OP_FLUSH } op;
} NodeOp;

static void coroutine_fn node_op_run(void *opaque)
{
    NodeOp *o = opaque;
    const BlockDriver *drv = o->bs->drv;
    QEMUIOVector qiov;
    BlockDriverState *file;

    switch (o->op) {
    case OP_READ:
    case OP_WRITE:
        qemu_iovec_init_buf(&qiov, o->buf, o->bytes);
        o->ret = (o->op == OP_READ ? drv->co_preadv : drv->co_pwritev)
                 (o->bs, o->offset, o->bytes, &qiov, 0, 0);
        break;
    case OP_ZEROES:
        o->ret = drv->co_pwrite_zeroes(o->bs, o->offset, o->bytes, o->flags);
        break;
    case OP_DISCARD:
        o->ret = drv->co_pdiscard(o->bs, o->offset, o->bytes);
        break;
    case OP_STATUS:
        o->ret = drv->co_block_status(o->bs, true, o->offset, o->bytes, &o->pnum, &o->map,
                                      &file);
        break;
    case OP_TRUNCATE:
        o->ret = drv->co_truncate(o->bs, o->offset, true, o->prealloc, 0, &o->err);
        break;
    case OP_FLUSH:
        o->ret = drv->co_flush_to_disk(o->bs);
        break;
    }
}

static int node_op(BlockDriverState *bs, int op, int64_t offset, int64_t bytes, void *buf,
                   BdrvRequestFlags flags)
{
    NodeOp o = { .bs = bs, .op = op, .offset = offset, .bytes = bytes, .buf = buf,
                 .flags = flags };
    run_co(node_op_run, &o);
    return o.ret;
}

/* Status of [offset, offset+bytes): the flags, and *pnum. */
static int node_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum)
{
    NodeOp o = { .bs = bs, .op = OP_STATUS, .offset = offset, .bytes = bytes };
    run_co(node_op_run, &o);
    *pnum = o.pnum;
    return o.ret;
}

static void test_driver_io(gconstpointer opaque)
{
    const char *aio = opaque;
    g_autofree char *path = make_file("io.img", 1 * MiB);
    Error *err = NULL;
    int64_t pnum;

    BlockDriverState *bs = file_node_open(path, BDRV_O_RDWR | BDRV_O_NOCACHE, aio, &err);
    if (!bs) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        return;
    }
    g_assert_cmpint(bs->bl.request_alignment, >=, 512);
    g_assert_cmpint(bs->bl.min_mem_alignment, >=, 1);

    /* A misaligned buffer is bounced. */
    g_autofree uint8_t *raw = g_malloc(1 * MiB + 1);
    uint8_t *buf = raw + 1;
    memset(buf, 0x5a, 1 * MiB);
    g_assert_cmpint(node_op(bs, OP_WRITE, 0, 1 * MiB, buf, 0), ==, 0);
    g_assert_cmpint(node_op(bs, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
    memset(buf, 0, 1 * MiB);
    g_assert_cmpint(node_op(bs, OP_READ, 0, 1 * MiB, buf, 0), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x5a);
    g_assert_cmpint(buf[1 * MiB - 1], ==, 0x5a);

    g_assert_cmpint(node_status(bs, 0, 1 * MiB, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 1 * MiB);

    /* Zeroes with unmap and discard punch holes; block status sees them. */
    g_assert_cmpint(node_op(bs, OP_ZEROES, 64 * KiB, 64 * KiB, NULL, BDRV_REQ_MAY_UNMAP), ==, 0);
    g_assert_cmpint(node_op(bs, OP_DISCARD, 256 * KiB, 64 * KiB, NULL, 0), ==, 0);
    g_assert_cmpint(node_status(bs, 0, 1 * MiB, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 64 * KiB);
    g_assert_cmpint(node_status(bs, 64 * KiB, 1 * MiB - 64 * KiB, &pnum), ==,
                    BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 64 * KiB);
    g_assert_cmpint(node_status(bs, 256 * KiB, 512 * KiB, &pnum), ==,
                    BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 64 * KiB);

    /* Zeroes without unmap: reads as zero whatever the file system does. */
    g_assert_cmpint(node_op(bs, OP_ZEROES, 512 * KiB, 64 * KiB, NULL, 0), ==, 0);
    g_assert_cmpint(node_op(bs, OP_READ, 0, 1 * MiB, buf, 0), ==, 0);
    g_assert_true(buffer_is_zero(buf + 64 * KiB, 64 * KiB));
    g_assert_true(buffer_is_zero(buf + 256 * KiB, 64 * KiB));
    g_assert_true(buffer_is_zero(buf + 512 * KiB, 64 * KiB));
    g_assert_cmpint(buf[128 * KiB], ==, 0x5a);

    file_node_close(bs);
    unlink(path);
}

static int64_t allocated(const char *path)
{
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    return (int64_t)st.st_blocks * 512;
}

static int node_truncate(BlockDriverState *bs, int64_t size, PreallocMode prealloc,
                         char **errmsg)
{
    NodeOp o = { .bs = bs, .op = OP_TRUNCATE, .offset = size, .prealloc = prealloc };
    run_co(node_op_run, &o);
    *errmsg = o.err ? g_strdup(error_get_pretty(o.err)) : NULL;
    error_free(o.err);
    return o.ret;
}

static void test_truncate(void)
{
    g_autofree char *path = make_file("trunc.img", 0);
    BlockDriverState *bs = file_node_open(path, BDRV_O_RDWR, NULL, &error_abort);
    char *msg;
    struct stat st;

    g_assert_cmpint(node_truncate(bs, 1 * MiB, PREALLOC_MODE_OFF, &msg), ==, 0);
    g_assert_cmpint(allocated(path), <, 64 * KiB);
    g_assert_cmpint(node_truncate(bs, 2 * MiB, PREALLOC_MODE_FALLOC, &msg), ==, 0);
    g_assert_cmpint(allocated(path), >=, 1 * MiB);
    g_assert_cmpint(node_truncate(bs, 3 * MiB, PREALLOC_MODE_FULL, &msg), ==, 0);
    g_assert_cmpint(allocated(path), >=, 2 * MiB);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 3 * MiB);

    g_assert_cmpint(node_truncate(bs, 1 * MiB, PREALLOC_MODE_FULL, &msg), <, 0);
    g_assert_cmpstr(msg, ==, "Cannot use preallocation for shrinking files");
    g_free(msg);
    g_assert_cmpint(node_truncate(bs, 4 * MiB, PREALLOC_MODE_METADATA, &msg), <, 0);
    g_assert_cmpstr(msg, ==, "Unsupported preallocation mode: metadata");
    g_free(msg);
    g_assert_cmpint(node_truncate(bs, 512 * KiB, PREALLOC_MODE_OFF, &msg), ==, 0);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 512 * KiB);

    file_node_close(bs);
    unlink(path);
}

typedef struct CreateCall {
    const char *filename;
    QDict *opts;
    Error *err;
    int ret;
} CreateCall;

static void coroutine_fn create_run(void *opaque)
{
    CreateCall *c = opaque;
    c->ret = bdrv_file.co_create_opts((BlockDriver *)&bdrv_file, c->filename, c->opts,
                                      &c->err);
}

static void test_create(void)
{
    g_autofree char *path = g_build_filename(test_dir, "create.img", NULL);
    g_autofree char *bad = g_build_filename(test_dir, "nodir", "x.img", NULL);
    g_autofree char *want = g_strdup_printf("Could not create '%s': No such file or directory",
                                            bad);
    struct stat st;

    CreateCall c = { .filename = path, .opts = qdict_new() };
    qdict_put_str(c.opts, "size", "1M");
    qdict_put_str(c.opts, "preallocation", "full");
    run_co(create_run, &c);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 1 * MiB);
    g_assert_cmpint(allocated(path), >=, 1 * MiB);
    qobject_unref(c.opts);

    c = (CreateCall) { .filename = path, .opts = qdict_new() };
    qdict_put_str(c.opts, "size", "64k");
    qdict_put_str(c.opts, "preallocation", "foo");
    run_co(create_run, &c);
    g_assert_cmpint(c.ret, <, 0);
    g_assert_cmpstr(error_get_pretty(c.err), ==, "invalid parameter value: foo");
    error_free(c.err);
    qobject_unref(c.opts);

    c = (CreateCall) { .filename = bad, .opts = qdict_new() };
    run_co(create_run, &c);
    g_assert_cmpint(c.ret, <, 0);
    g_assert_cmpstr(error_get_pretty(c.err), ==, want);
    error_free(c.err);
    qobject_unref(c.opts);
    unlink(path);
}

/*
 * QEMU's create rounds the size up to a sector and writes zeroes over the
 * first block (512 bytes below 4 KiB, else 4 KiB); lengths are whole sectors,
 * and a child given only file.filename is a "file" node.
 */
static void test_create_qemu_layout(void)
{
    g_autofree char *path = g_build_filename(test_dir, "layout.img", NULL);
    g_autofree uint8_t *buf = g_malloc(1024);
    int64_t pnum, map;
    BlockDriverState *file;
    struct stat st;

    CreateCall c = { .filename = path, .opts = qdict_new() };
    qdict_put_str(c.opts, "size", "1000");
    run_co(create_run, &c);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 1024);
    qobject_unref(c.opts);

    c = (CreateCall) { .filename = path, .opts = qdict_new() };
    qdict_put_str(c.opts, "size", "1M");
    run_co(create_run, &c);
    g_assert_cmpint(c.ret, ==, 0);
    qobject_unref(c.opts);
    g_assert_cmpint(truncate(path, 1000), ==, 0);   /* an odd length, as the host has it */

    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", "raw");
    qdict_put_str(opts, "file.filename", path);
    BlockBackend *blk = blk_new_open(NULL, NULL, opts, BDRV_O_RDWR, &error_abort);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)->file->bs), ==, "file");
    g_assert_cmpint(blk_getlength(blk), ==, 1024);
    memset(buf, 0xff, 1024);
    g_assert_cmpint(blk_pread(blk, 0, 1024, buf, 0), >=, 0);   /* past EOF reads zeroes */
    g_assert_cmpint(buf[1023], ==, 0);
    blk_unref(blk);

    c = (CreateCall) { .filename = path, .opts = qdict_new() };
    qdict_put_str(c.opts, "size", "1M");
    run_co(create_run, &c);
    qobject_unref(c.opts);
    opts = qdict_new();
    qdict_put_str(opts, "driver", "raw");
    qdict_put_str(opts, "file.filename", path);
    blk = blk_new_open(NULL, NULL, opts, 0, &error_abort);
    int ret = bdrv_block_status(blk_bs(blk), 0, 1 * MiB, &pnum, &map, &file);
    g_assert_cmpint(ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO), ==, BDRV_BLOCK_DATA);
    g_assert_cmpint(pnum, ==, 4096);
    blk_unref(blk);
    unlink(path);
}

/* ---- locking ---- */

/*
 * A read-write user that lets others read (a guest device's kind of request);
 * QEMU's tools (blk_new_open) share everything instead.
 */
#define RW_PERM   (BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE | BLK_PERM_RESIZE)
#define RO_PERM   BLK_PERM_CONSISTENT_READ
#define TOOL_SHARED (BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED)

static int node_lock(BlockDriverState *bs, uint64_t perm, uint64_t shared, char **msg)
{
    Error *err = NULL;
    int ret = bdrv_file.check_perm(bs, perm, shared, &err);

    if (ret == 0) {
        bdrv_file.set_perm(bs, perm, shared);
    } else {
        bdrv_file.abort_perm_update(bs);
    }
    *msg = err ? g_strdup(error_get_pretty(err)) : NULL;
    error_free(err);
    return ret;
}

static void test_lock_two_opens(void)
{
    g_autofree char *path = make_file("lock.img", 64 * KiB);
    BlockDriverState *a = file_node_open(path, BDRV_O_RDWR, NULL, &error_abort);
    BlockDriverState *b = file_node_open(path, BDRV_O_RDWR, NULL, &error_abort);
    char *msg;

    g_assert_cmpint(node_lock(a, RW_PERM, TOOL_SHARED, &msg), ==, 0);
    g_assert_cmpint(node_lock(b, RW_PERM, TOOL_SHARED, &msg), <, 0);
    g_assert_cmpstr(msg, ==, "Failed to get \"write\" lock");
    g_free(msg);
    g_assert_cmpint(node_lock(b, RO_PERM, TOOL_SHARED, &msg), <, 0);
    g_assert_cmpstr(msg, ==, "Failed to get shared \"write\" lock");
    g_free(msg);
    /* A reader that shares everything (force-share style) may come in. */
    g_assert_cmpint(node_lock(b, RO_PERM, BLK_PERM_ALL, &msg), ==, 0);
    /* Now a may not drop its sharing of consistent read... */
    g_assert_cmpint(node_lock(a, RW_PERM, BLK_PERM_WRITE_UNCHANGED, &msg), <, 0);
    g_assert_cmpstr(msg, ==, "Failed to get shared \"consistent read\" lock");
    g_free(msg);
    /* ...and after the failure a still holds what it had: b is still excluded. */
    g_assert_cmpint(node_lock(b, RW_PERM, TOOL_SHARED, &msg), <, 0);
    g_free(msg);

    file_node_close(a);
    g_assert_cmpint(node_lock(b, RW_PERM, TOOL_SHARED, &msg), ==, 0);
    file_node_close(b);
    unlink(path);
}

static void test_lock_qemu_io(void)
{
    g_autofree char *qemu_io = g_find_program_in_path("qemu-io");
    g_autofree char *path = make_file("lock-qemu.img", 64 * KiB);
    g_autofree char *out = NULL, *errout = NULL;
    char *msg;
    int status;

    if (!qemu_io) {
        g_test_skip("qemu-io is not installed");
        return;
    }
    /* We hold write: QEMU must refuse to open read-write. */
    BlockDriverState *bs = file_node_open(path, BDRV_O_RDWR, NULL, &error_abort);
    g_assert_cmpint(node_lock(bs, RW_PERM, TOOL_SHARED, &msg), ==, 0);
    const char *argv1[] = { qemu_io, "-f", "raw", "-c", "read 0 512", path, NULL };
    g_assert_true(g_spawn_sync(NULL, (char **)argv1, NULL, 0, NULL, NULL, &out, &errout,
                               &status, NULL));
    g_assert_nonnull(strstr(errout, "Failed to get \"write\" lock"));
    g_assert_nonnull(strstr(errout, "Is another process using the image"));
    file_node_close(bs);

    /*
     * QEMU's qemu-io holds write (waiting on stdin) and, like every tool's
     * BlockBackend in QEMU 7.2, shares everything: a device that does not share
     * write must fail, another tool may come in.
     */
    GPid pid;
    int in_fd;
    const char *argv2[] = { qemu_io, "-f", "raw", path, NULL };
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv2, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD |
                                           G_SPAWN_STDOUT_TO_DEV_NULL,
                                           NULL, NULL, &pid, &in_fd, NULL, NULL, NULL));
    bs = file_node_open(path, BDRV_O_RDWR, NULL, &error_abort);
    int ret = -1;
    for (int i = 0; i < 500; i++) {            /* until qemu-io has taken its locks */
        ret = node_lock(bs, RO_PERM, TOOL_SHARED, &msg);
        if (ret < 0) {
            break;
        }
        node_lock(bs, 0, BLK_PERM_ALL, &msg);
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(ret, <, 0);
    g_assert_cmpstr(msg, ==, "Failed to get shared \"write\" lock");
    g_free(msg);
    g_assert_cmpint(node_lock(bs, RW_PERM, BLK_PERM_ALL, &msg), ==, 0);
    node_lock(bs, 0, BLK_PERM_ALL, &msg);
    close(in_fd);                               /* qemu-io quits at end of input */
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    g_assert_cmpint(node_lock(bs, RO_PERM, TOOL_SHARED, &msg), ==, 0);
    file_node_close(bs);
    unlink(path);
}

/* The whole stack: raw on file through bdrv_open and a BlockBackend. */
static void test_stack(gconstpointer opaque)
{
    const char *aio = opaque;
    g_autofree char *path = make_file("stack.img", 1 * MiB);
    g_autofree char *qemu_io = g_find_program_in_path("qemu-io");
    g_autofree uint8_t *buf = g_malloc(64 * KiB);
    Error *err = NULL;
    int64_t pnum, map;
    BlockDriverState *file;

    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", "raw");
    qdict_put_str(opts, "file.driver", "file");
    qdict_put_str(opts, "file.filename", path);
    qdict_put_str(opts, "file.aio", aio);
    BlockBackend *blk = blk_new_open(NULL, NULL, opts,
                                     BDRV_O_RDWR | BDRV_O_NOCACHE | BDRV_O_NO_SHARE, &err);
    if (!blk) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        return;
    }
    memset(buf, 0x17, 64 * KiB);
    g_assert_cmpint(blk_pwrite(blk, 4096, 64 * KiB, buf, 0), >=, 0);
    g_assert_cmpint(blk_pwrite(blk, 100, 13, buf, 0), >=, 0);         /* RMW under O_DIRECT */
    memset(buf, 0, 64 * KiB);
    g_assert_cmpint(blk_pread(blk, 4096, 64 * KiB, buf, 0), >=, 0);
    g_assert_cmpint(buf[0], ==, 0x17);
    g_assert_cmpint(buf[64 * KiB - 1], ==, 0x17);
    g_assert_cmpint(blk_flush(blk), ==, 0);

    int ret = bdrv_block_status(blk_bs(blk), 0, 1 * MiB, &pnum, &map, &file);
    g_assert_cmpint(ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO), ==, BDRV_BLOCK_DATA);
    g_assert_cmpint(pnum, ==, 68 * KiB);
    ret = bdrv_block_status(blk_bs(blk), 68 * KiB, 1 * MiB - 68 * KiB, &pnum, &map, &file);
    g_assert_cmpint(ret & BDRV_BLOCK_ZERO, ==, BDRV_BLOCK_ZERO);

    if (qemu_io) {
        g_autofree char *out = NULL, *errout = NULL;
        int status;
        const char *argv[] = { qemu_io, "-f", "raw", "-c", "write 0 512", path, NULL };
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &errout,
                                   &status, NULL));
        g_assert_nonnull(strstr(errout, "Failed to get \"write\" lock"));
    }
    blk_unref(blk);
    unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_dir = g_dir_make_tmp("godwit-file-posix-XXXXXX", NULL);
    g_assert_nonnull(test_dir);

    g_test_add_data_func("/file-posix/backend/threads", GINT_TO_POINTER(FILE_AIO_THREADS),
                         test_backend);
#ifdef CONFIG_LINUX_AIO
    g_test_add_data_func("/file-posix/backend/native", GINT_TO_POINTER(FILE_AIO_NATIVE),
                         test_backend);
#endif
#ifdef CONFIG_IO_URING
    g_test_add_data_func("/file-posix/backend/io_uring", GINT_TO_POINTER(FILE_AIO_IO_URING),
                         test_backend);
#endif
    g_test_add_data_func("/file-posix/backend-deep/threads", GINT_TO_POINTER(FILE_AIO_THREADS),
                         test_backend_deep);
#ifdef CONFIG_LINUX_AIO
    g_test_add_data_func("/file-posix/backend-deep/native", GINT_TO_POINTER(FILE_AIO_NATIVE),
                         test_backend_deep);
#endif
#ifdef CONFIG_IO_URING
    g_test_add_data_func("/file-posix/backend-deep/io_uring", GINT_TO_POINTER(FILE_AIO_IO_URING),
                         test_backend_deep);
#endif
    g_test_add_func("/file-posix/open/errors", test_open_errors);
    g_test_add_data_func("/file-posix/io/threads", "threads", test_driver_io);
#ifdef CONFIG_LINUX_AIO
    g_test_add_data_func("/file-posix/io/native", "native", test_driver_io);
#endif
#ifdef CONFIG_IO_URING
    g_test_add_data_func("/file-posix/io/io_uring", "io_uring", test_driver_io);
#endif
    g_test_add_func("/file-posix/truncate", test_truncate);
    g_test_add_func("/file-posix/create", test_create);
    g_test_add_func("/file-posix/create/qemu-layout", test_create_qemu_layout);
    g_test_add_func("/file-posix/lock/two-opens", test_lock_two_opens);
    g_test_add_func("/file-posix/lock/qemu-io", test_lock_qemu_io);
    g_test_add_data_func("/file-posix/stack/threads", "threads", test_stack);
#ifdef CONFIG_LINUX_AIO
    g_test_add_data_func("/file-posix/stack/native", "native", test_stack);
#endif
#ifdef CONFIG_IO_URING
    g_test_add_data_func("/file-posix/stack/io_uring", "io_uring", test_stack);
#endif

    int ret = g_test_run();
    rmdir(test_dir);
    g_free(test_dir);
    return ret;
}
