/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-nbd: the NBD header codecs and errno mapping; then a loopback: a server
 * in a forked child (exports "" writable and "ro" read-only, on a sparse temp
 * file) and, in the parent, the nbd block driver (many requests in flight, block
 * status) plus a hand-written hostile client checking the server's replies to
 * malformed options and requests.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block.h"
#include "block/block-backend.h"
#include "qobject/qdict.h"
#include "nbd/proto.h"
#include "nbd/nbd.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static char *tmpdir, *sock_path, *img_path;
static pid_t server_pid;

/* ---- codecs ---- */

static void test_codec(void)
{
    NBDRequest r = { .flags = NBD_CMD_FLAG_FUA, .type = NBD_CMD_WRITE, .handle = 0x1122334455667788ULL,
                     .offset = 1ULL << 40, .len = 4096 }, back;
    uint8_t buf[NBD_REQUEST_SIZE];

    nbd_encode_request(buf, &r);
    g_assert_cmphex(buf[0], ==, 0x25);
    g_assert_cmphex(buf[3], ==, 0x13);
    g_assert_true(nbd_decode_request(buf, &back));
    g_assert_cmpuint(back.flags, ==, r.flags);
    g_assert_cmpuint(back.type, ==, r.type);
    g_assert_cmphex(back.handle, ==, r.handle);
    g_assert_cmpuint(back.offset, ==, r.offset);
    g_assert_cmpuint(back.len, ==, r.len);
    buf[0] ^= 1;
    g_assert_false(nbd_decode_request(buf, &back));

    uint8_t s[NBD_STRUCTURED_HDR_SIZE];
    NBDStructuredHdr h = { .flags = NBD_REPLY_FLAG_DONE, .type = NBD_REPLY_TYPE_ERROR,
                           .handle = 7, .length = 6 };
    nbd_encode_structured_hdr(s, &h);
    g_assert_cmphex(nbd_ld32(s), ==, NBD_STRUCTURED_REPLY_MAGIC);
    g_assert_cmphex(nbd_ld16(s + 6), ==, 0x8001);
    g_assert_cmpuint(nbd_ld64(s + 8), ==, 7);

    int errs[] = { EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN };
    for (unsigned i = 0; i < ARRAY_SIZE(errs); i++) {
        g_assert_cmpint(nbd_wire_to_errno(nbd_errno_to_wire(errs[i])), ==, errs[i]);
    }
    g_assert_cmpuint(nbd_errno_to_wire(EROFS), ==, NBD_EPERM);
    g_assert_cmpuint(nbd_errno_to_wire(EBADF), ==, NBD_EINVAL);
    g_assert_cmpint(nbd_wire_to_errno(12345), ==, EINVAL);
}

/* ---- the server child ---- */

static void server_child(int ready)
{
    Error *err = NULL;
    QDict *opts = qdict_new();

    qdict_put_str(opts, "driver", "file");
    BlockBackend *blk = blk_new_open(img_path, NULL, opts, BDRV_O_RDWR, &error_abort);
    NBDExportOptions rw = { .name = "", .description = "rw export", .writable = true,
                            .allocation_depth = true, .multi_conn = -1 };
    NBDExportOptions ro = { .name = "ro", .writable = false, .multi_conn = -1 };
    g_assert(nbd_export_add(blk, &rw, &error_abort));
    g_assert(nbd_export_add(blk, &ro, &error_abort));
    g_assert_null(nbd_export_add(blk, &ro, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "NBD server already has export named 'ro'");
    error_free(err);
    err = NULL;
    blk_unref(blk);

    SocketAddress addr = { .type = SOCKET_ADDRESS_TYPE_UNIX, .u.q_unix.path = sock_path };
    g_assert_true(nbd_server_start(&addr, 0, &error_abort));
    g_assert_false(nbd_server_start(&addr, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "NBD server already running");
    error_free(err);
    if (write(ready, "", 1) != 1) {
        _exit(1);
    }
    for (;;) {
        aio_poll(qemu_get_aio_context(), true);
    }
}

static void start_server(void)
{
    int p[2];

    tmpdir = g_dir_make_tmp("test-nbd-XXXXXX", NULL);
    sock_path = g_build_filename(tmpdir, "sock", NULL);
    img_path = g_build_filename(tmpdir, "img", NULL);
    int fd = open(img_path, O_CREAT | O_RDWR, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 64 * MiB), ==, 0);
    close(fd);
    g_assert_cmpint(pipe(p), ==, 0);
    server_pid = fork();
    g_assert_cmpint(server_pid, >=, 0);
    if (server_pid == 0) {
        close(p[0]);
        server_child(p[1]);
    }
    close(p[1]);
    char c;
    g_assert_cmpint(read(p[0], &c, 1), ==, 1);
    close(p[0]);
}

static void stop_server(void)
{
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
    unlink(sock_path);
    unlink(img_path);
    rmdir(tmpdir);
}

/* ---- the nbd driver against it ---- */

static BlockBackend *open_client(const char *export, int flags)
{
    g_autofree char *url = g_strdup_printf("nbd+unix:///%s?socket=%s", export, sock_path);
    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", "raw");
    return blk_new_open(url, NULL, opts, flags, &error_abort);
}

typedef struct ParallelIO {
    BlockBackend *blk;
    int index;
    int ret;
    bool done;
} ParallelIO;

static void coroutine_fn parallel_io_co(void *opaque)
{
    ParallelIO *p = opaque;
    uint8_t buf[8192], back[8192];

    memset(buf, 'a' + p->index, sizeof(buf));
    p->ret = blk_co_pwrite(p->blk, p->index * 65536, sizeof(buf), buf, 0);
    if (p->ret == 0) {
        p->ret = blk_co_pread(p->blk, p->index * 65536, sizeof(back), back, 0);
    }
    if (p->ret == 0 && memcmp(buf, back, sizeof(buf))) {
        p->ret = -EILSEQ;
    }
    p->done = true;
}

static void test_driver(void)
{
    BlockBackend *blk = open_client("", BDRV_O_RDWR);
    g_autofree uint8_t *buf = g_malloc(1 * MiB), *back = g_malloc(1 * MiB);

    g_assert_cmpint(blk_getlength(blk), ==, 64 * MiB);
    memset(buf, 0x5a, 1 * MiB);
    g_assert_cmpint(blk_pwrite(blk, 1 * MiB, 1 * MiB, buf, BDRV_REQ_FUA), ==, 0);
    g_assert_cmpint(blk_pread(blk, 1 * MiB, 1 * MiB, back, 0), ==, 0);
    g_assert_cmpmem(buf, 1 * MiB, back, 1 * MiB);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 1 * MiB, 4096, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 1 * MiB, 8192, back, 0), ==, 0);
    g_assert_true(buffer_is_zero(back, 4096));
    g_assert_cmpint(back[4096], ==, 0x5a);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_pdiscard(blk, 0, 65536), ==, 0);

    /* block status over the wire: data where we wrote, a hole further on */
    int64_t pnum, map;
    BlockDriverState *file;
    int ret = bdrv_block_status(blk_bs(blk), 1 * MiB + 8192, 4096, &pnum, &map, &file);
    g_assert_cmpint(ret, >=, 0);
    g_assert_true(ret & BDRV_BLOCK_DATA);
    ret = bdrv_block_status(blk_bs(blk), 32 * MiB, 1 * MiB, &pnum, &map, &file);
    g_assert_cmpint(ret, >=, 0);
    g_assert_false(ret & BDRV_BLOCK_DATA);
    g_assert_true(ret & BDRV_BLOCK_ZERO);

    /* many requests in flight on one connection */
    ParallelIO p[24];
    for (int i = 0; i < 24; i++) {
        p[i] = (ParallelIO){ .blk = blk, .index = 100 + i };
        aio_co_enter(qemu_get_aio_context(), qemu_coroutine_create(parallel_io_co, &p[i]));
    }
    for (int i = 0; i < 24; i++) {
        while (!p[i].done) {
            aio_poll(qemu_get_aio_context(), true);
        }
        g_assert_cmpint(p[i].ret, ==, 0);
    }
    blk_unref(blk);

    /* a read-only export refuses a read-write open, in QEMU's words */
    Error *err = NULL;
    g_autofree char *url = g_strdup_printf("nbd+unix:///ro?socket=%s", sock_path);
    g_assert_null(blk_new_open(url, NULL, NULL, BDRV_O_RDWR | BDRV_O_PROTOCOL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "NBD export is read-only");
    error_free(err);
    err = NULL;
    g_autofree char *missing = g_strdup_printf("nbd+unix:///nope?socket=%s", sock_path);
    g_assert_null(blk_new_open(missing, NULL, NULL, BDRV_O_PROTOCOL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Requested export not available");
    error_free(err);
}

/* ---- a hostile client ---- */

static NBDSock raw_connect(void)
{
    SocketAddress addr = { .type = SOCKET_ADDRESS_TYPE_UNIX, .u.q_unix.path = sock_path };
    NBDSock s;
    uint8_t greet[18];

    nbd_sock_init(&s, socket_connect(&addr, &error_abort));
    g_assert_cmpint(nbd_sock_read(&s, greet, 18), ==, 0);
    g_assert_cmphex(nbd_ld64(greet), ==, NBD_MAGIC);
    g_assert_cmphex(nbd_ld64(greet + 8), ==, NBD_OPTS_MAGIC);
    nbd_st32(greet, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
    g_assert_cmpint(nbd_sock_write(&s, greet, 4), ==, 0);
    return s;
}

static void send_opt(NBDSock *s, uint32_t opt, const void *data, uint32_t len)
{
    uint8_t h[16];
    nbd_st64(h, NBD_OPTS_MAGIC);
    nbd_st32(h + 8, opt);
    nbd_st32(h + 12, len);
    g_assert_cmpint(nbd_sock_write(s, h, 16), ==, 0);
    g_assert_cmpint(nbd_sock_write(s, data, len), ==, 0);
}

/* Read option replies until a final one; returns its type. */
static uint32_t read_opt_final(NBDSock *s, uint32_t opt)
{
    for (;;) {
        uint8_t h[20];
        g_assert_cmpint(nbd_sock_read(s, h, 20), ==, 0);
        g_assert_cmphex(nbd_ld64(h), ==, NBD_REP_MAGIC);
        g_assert_cmpuint(nbd_ld32(h + 8), ==, opt);
        g_assert_cmpint(nbd_sock_skip(s, nbd_ld32(h + 16)), ==, 0);
        uint32_t type = nbd_ld32(h + 12);
        if (type == NBD_REP_ACK || (type & NBD_REP_ERR(0))) {
            return type;
        }
    }
}

static void go(NBDSock *s, const char *name, bool structured)
{
    uint8_t d[64];
    size_t n = strlen(name);

    if (structured) {
        send_opt(s, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
        g_assert_cmphex(read_opt_final(s, NBD_OPT_STRUCTURED_REPLY), ==, NBD_REP_ACK);
    }
    nbd_st32(d, n);
    memcpy(d + 4, name, n);
    nbd_st16(d + 4 + n, 0);
    send_opt(s, NBD_OPT_GO, d, 6 + n);
    g_assert_cmphex(read_opt_final(s, NBD_OPT_GO), ==, NBD_REP_ACK);
}

/* Send a request; return the simple reply's error. */
static uint32_t simple_request(NBDSock *s, uint16_t type, uint16_t flags, uint64_t off,
                               uint32_t len)
{
    uint8_t b[NBD_REQUEST_SIZE];
    NBDRequest r = { .type = type, .flags = flags, .handle = 42, .offset = off, .len = len };

    nbd_encode_request(b, &r);
    g_assert_cmpint(nbd_sock_write(s, b, sizeof(b)), ==, 0);
    g_assert_cmpint(nbd_sock_read(s, b, NBD_SIMPLE_REPLY_SIZE), ==, 0);
    g_assert_cmphex(nbd_ld32(b), ==, NBD_SIMPLE_REPLY_MAGIC);
    g_assert_cmpuint(nbd_ld64(b + 8), ==, 42);
    return nbd_ld32(b + 4);
}

static void test_hostile(void)
{
    uint8_t junk[64] = { 0 };

    /* malformed and unknown options get error replies, the session goes on */
    NBDSock s = raw_connect();
    send_opt(&s, NBD_OPT_GO, junk, 3);
    g_assert_cmphex(read_opt_final(&s, NBD_OPT_GO), ==, NBD_REP_ERR_INVALID);
    nbd_st32(junk, 0xffffff00);          /* name length past the payload */
    send_opt(&s, NBD_OPT_INFO, junk, 10);
    g_assert_cmphex(read_opt_final(&s, NBD_OPT_INFO), ==, NBD_REP_ERR_INVALID);
    send_opt(&s, 999, junk, 8);
    g_assert_cmphex(read_opt_final(&s, 999), ==, NBD_REP_ERR_UNSUP);
    send_opt(&s, NBD_OPT_SET_META_CONTEXT, junk, 8);   /* before structured replies */
    g_assert_cmphex(read_opt_final(&s, NBD_OPT_SET_META_CONTEXT), ==, NBD_REP_ERR_INVALID);
    send_opt(&s, NBD_OPT_LIST, NULL, 0);
    g_assert_cmphex(read_opt_final(&s, NBD_OPT_LIST), ==, NBD_REP_ACK);
    uint8_t unknown[] = { 0, 0, 0, 4, 'n', 'o', 'p', 'e', 0, 0 };
    send_opt(&s, NBD_OPT_GO, unknown, sizeof(unknown));
    g_assert_cmphex(read_opt_final(&s, NBD_OPT_GO), ==, NBD_REP_ERR_UNKNOWN);

    /* transmission on the read-only export, simple replies */
    go(&s, "ro", false);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_READ, 0, 64 * MiB - 512, 1024), ==, NBD_EINVAL);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_READ, 0, UINT64_MAX - 10, 100), ==, NBD_EINVAL);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_READ, 0, 0, 64 * MiB), ==, NBD_EINVAL);
    g_assert_cmpuint(simple_request(&s, 77, 0, 0, 0), ==, NBD_EINVAL);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_TRIM, 0, 0, 4096), ==, NBD_EPERM);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_FLUSH, 0xff, 0, 0), ==, NBD_EINVAL);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_BLOCK_STATUS, 0, 0, 4096), ==, NBD_EINVAL);
    g_assert_cmpuint(simple_request(&s, NBD_CMD_FLUSH, 0, 0, 0), ==, 0);
    /* a bad magic drops the connection */
    memset(junk, 0xee, sizeof(junk));
    g_assert_cmpint(nbd_sock_write(&s, junk, NBD_REQUEST_SIZE), ==, 0);
    g_assert_cmpint(nbd_sock_read(&s, junk, 1), ==, -ESHUTDOWN);
    nbd_sock_close(&s);

    /* an oversized option drops the client */
    s = raw_connect();
    uint8_t h[16];
    nbd_st64(h, NBD_OPTS_MAGIC);
    nbd_st32(h + 8, NBD_OPT_GO);
    nbd_st32(h + 12, 0x7fffffff);
    g_assert_cmpint(nbd_sock_write(&s, h, 16), ==, 0);
    g_assert_cmpint(nbd_sock_read(&s, junk, 1), ==, -ESHUTDOWN);
    nbd_sock_close(&s);

    /* structured: a WRITE past the end is read whole and answered ENOSPC */
    s = raw_connect();
    go(&s, "", true);
    uint8_t b[NBD_REQUEST_SIZE];
    NBDRequest r = { .type = NBD_CMD_WRITE, .handle = 9, .offset = 64 * MiB, .len = 16 };
    nbd_encode_request(b, &r);
    g_assert_cmpint(nbd_sock_write(&s, b, sizeof(b)), ==, 0);
    g_assert_cmpint(nbd_sock_write(&s, junk, 16), ==, 0);
    uint8_t rep[NBD_STRUCTURED_HDR_SIZE + 6];
    g_assert_cmpint(nbd_sock_read(&s, rep, NBD_STRUCTURED_HDR_SIZE), ==, 0);
    g_assert_cmphex(nbd_ld16(rep + 6), ==, NBD_REPLY_TYPE_ERROR);
    g_assert_cmpint(nbd_sock_read(&s, rep, 6), ==, 0);
    g_assert_cmpuint(nbd_ld32(rep), ==, NBD_ENOSPC);
    g_assert_cmpint(nbd_sock_skip(&s, nbd_ld16(rep + 4)), ==, 0);
    /* DISC ends the session cleanly */
    r = (NBDRequest){ .type = NBD_CMD_DISC };
    nbd_encode_request(b, &r);
    g_assert_cmpint(nbd_sock_write(&s, b, sizeof(b)), ==, 0);
    g_assert_cmpint(nbd_sock_read(&s, junk, 1), ==, -ESHUTDOWN);
    nbd_sock_close(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    start_server();
    g_test_add_func("/nbd/codec", test_codec);
    g_test_add_func("/nbd/driver", test_driver);
    g_test_add_func("/nbd/hostile", test_hostile);
    int ret = g_test_run();
    stop_server();
    return ret;
}
