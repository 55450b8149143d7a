/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-sockets: address parsing, inet and unix listen/connect/accept with data
 * exchange, non-blocking connect, and the error texts.
 */
#include "util/osdep.h"
#include "util/sockets.h"

#include <fcntl.h>
#include <poll.h>

static void test_parse(void)
{
    static const struct { const char *in, *type_host, *port, *out; bool v4, v6; } ok[] = {
        { "localhost:10809", "localhost", "10809", "localhost:10809" },
        { "tcp:127.0.0.1:0", "127.0.0.1", "0", "127.0.0.1:0" },
        { "[::1]:4444", "::1", "4444", "[::1]:4444" },
        { ":5555", "", "5555", ":5555" },
        { "host:nbd,ipv4", "host", "nbd", "host:nbd", true, false },
        { "host:1,ipv6,to=9", "host", "1", "host:1", false, true },
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        g_autoptr(SocketAddress) a = socket_parse(ok[i].in, &error_abort);
        g_assert_cmpint(a->type, ==, SOCKET_ADDRESS_TYPE_INET);
        g_assert_cmpstr(a->u.inet.host, ==, ok[i].type_host);
        g_assert_cmpstr(a->u.inet.port, ==, ok[i].port);
        g_assert_cmpint(a->u.inet.ipv4, ==, ok[i].v4);
        g_assert_cmpint(a->u.inet.ipv6, ==, ok[i].v6);
        g_autofree char *s = socket_address_to_string(a);
        g_assert_cmpstr(s, ==, ok[i].out);
        g_autoptr(SocketAddress) c = socket_address_copy(a);
        g_autofree char *cs = socket_address_to_string(c);
        g_assert_cmpstr(cs, ==, ok[i].out);
    }

    g_autoptr(SocketAddress) u = socket_parse("unix:/tmp/sock", &error_abort);
    g_assert_cmpint(u->type, ==, SOCKET_ADDRESS_TYPE_UNIX);
    g_assert_cmpstr(u->u.q_unix.path, ==, "/tmp/sock");
    g_autoptr(SocketAddress) f = socket_parse("fd:monfd", &error_abort);
    g_assert_cmpint(f->type, ==, SOCKET_ADDRESS_TYPE_FD);
    g_assert_cmpstr(f->u.fd.str, ==, "monfd");

    static const struct { const char *in, *msg; } bad[] = {
        { "unix:", "invalid Unix socket address" },
        { "fd:", "invalid file descriptor address" },
        { "localhost", "error parsing address 'localhost'" },
        { "host:", "error parsing address 'host:'" },
        { ":", "error parsing port in address ':'" },
        { "[::1]", "error parsing IPv6 address '[::1]'" },
        { "[::1:80", "error parsing IPv6 address '[::1:80'" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        Error *err = NULL;
        g_assert_null(socket_parse(bad[i].in, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, bad[i].msg);
        error_free(err);
    }
}

/* A sender thread, so the blocking send cannot deadlock against our recv. */
typedef struct SendJob {
    int fd;
    const char *buf;
    size_t len;
    int ret;
} SendJob;

static gpointer send_thread(gpointer opaque)
{
    SendJob *job = opaque;
    job->ret = socket_send_all(job->fd, job->buf, job->len);
    return NULL;
}

static void exchange_bulk(int from, int to)
{
    enum { LEN = 4 * 1024 * 1024 };
    g_autofree char *out = g_malloc(LEN);
    g_autofree char *in = g_malloc(LEN);
    SendJob job = { .fd = from, .buf = out, .len = LEN };

    for (size_t i = 0; i < LEN; i++) {
        out[i] = i * 7 + (i >> 12);
    }
    GThread *t = g_thread_new("send", send_thread, &job);
    g_assert_cmpint(socket_recv_all(to, in, LEN), ==, LEN);
    g_thread_join(t);
    g_assert_cmpint(job.ret, ==, 0);
    g_assert_cmpmem(in, LEN, out, LEN);
}

static void check_cloexec_blocking(int fd)
{
    g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, !=, 0);
    g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, 0);
}

static void test_inet(void)
{
    g_autoptr(SocketAddress) la = socket_parse("127.0.0.1:0", &error_abort);
    int lfd = socket_listen(la, 1, &error_abort);
    int port = socket_get_port(lfd, &error_abort);
    g_assert_cmpint(port, >, 0);
    check_cloexec_blocking(lfd);

    g_autofree char *target = g_strdup_printf("tcp:127.0.0.1:%d", port);
    g_autoptr(SocketAddress) ca = socket_parse(target, &error_abort);
    int cfd = socket_connect(ca, &error_abort);
    int sfd = socket_accept(lfd, &error_abort);
    check_cloexec_blocking(cfd);
    check_cloexec_blocking(sfd);

    exchange_bulk(cfd, sfd);
    exchange_bulk(sfd, cfd);

    /* peer closes: recv_all reports the short count, then 0; send gets EPIPE */
    g_assert_cmpint(socket_send_all(sfd, "abc", 3), ==, 0);
    close(sfd);
    char buf[8];
    g_assert_cmpint(socket_recv_all(cfd, buf, sizeof(buf)), ==, 3);
    g_assert_cmpmem(buf, 3, "abc", 3);
    g_assert_cmpint(socket_recv_all(cfd, buf, sizeof(buf)), ==, 0);
    int ret = 0;
    for (int i = 0; i < 100 && ret == 0; i++) {
        ret = socket_send_all(cfd, buf, sizeof(buf));
    }
    g_assert_true(ret == -EPIPE || ret == -ECONNRESET);
    close(cfd);

    g_autoptr(SocketAddress) local = socket_local_address(lfd, &error_abort);
    g_assert_cmpstr(local->u.inet.host, ==, "127.0.0.1");
    g_assert_true(local->u.inet.ipv4);
    close(lfd);

    /* nothing listens there any more */
    Error *err = NULL;
    g_assert_cmpint(socket_connect(ca, &err), ==, -1);
    g_autofree char *want = g_strdup_printf("Failed to connect to '127.0.0.1:%d': "
                                            "Connection refused", port);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    error_free(err);
}

static void test_inet_listen_busy(void)
{
    g_autoptr(SocketAddress) la = socket_parse("127.0.0.1:0", &error_abort);
    int lfd = socket_listen(la, 1, &error_abort);
    g_autofree char *again = g_strdup_printf("127.0.0.1:%d", socket_get_port(lfd, &error_abort));
    g_autoptr(SocketAddress) busy = socket_parse(again, &error_abort);
    Error *err = NULL;

    g_assert_cmpint(socket_listen(busy, 1, &err), ==, -1);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Failed to find an available port: Address already in use");
    error_free(err);
    close(lfd);
}

static void test_nonblock_connect(void)
{
    g_autoptr(SocketAddress) la = socket_parse("127.0.0.1:0", &error_abort);
    int lfd = socket_listen(la, 1, &error_abort);
    g_autofree char *target = g_strdup_printf("127.0.0.1:%d", socket_get_port(lfd, &error_abort));
    g_autoptr(SocketAddress) ca = socket_parse(target, &error_abort);
    bool in_progress;

    int cfd = socket_connect_nonblock(ca, &in_progress, &error_abort);
    g_assert_cmpint(fcntl(cfd, F_GETFL) & O_NONBLOCK, !=, 0);
    if (in_progress) {
        struct pollfd pfd = { .fd = cfd, .events = POLLOUT };
        g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
    }
    g_assert_cmpint(socket_connect_finish(cfd, ca, &error_abort), ==, 0);
    int sfd = socket_accept(lfd, &error_abort);
    g_assert_cmpint(qemu_set_block(cfd), ==, 0);
    exchange_bulk(sfd, cfd);
    g_assert_cmpint(qemu_set_nonblock(sfd), ==, 0);
    char c;
    g_assert_cmpint(socket_recv_all(sfd, &c, 1), ==, -EAGAIN);
    close(sfd);
    close(cfd);
    close(lfd);
}

static void test_unix(void)
{
    g_autofree char *dir = g_dir_make_tmp("godwit-sock-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "s", NULL);
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    g_autoptr(SocketAddress) a = socket_parse(uri, &error_abort);
    Error *err = NULL;

    /* no server yet */
    g_assert_cmpint(socket_connect(a, &err), ==, -1);
    g_autofree char *want = g_strdup_printf("Failed to connect to '%s': "
                                            "No such file or directory", path);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    g_clear_pointer(&err, error_free);

    int lfd = socket_listen(a, 1, &error_abort);
    int cfd = socket_connect(a, &error_abort);
    int sfd = socket_accept(lfd, &error_abort);
    exchange_bulk(cfd, sfd);
    g_autoptr(SocketAddress) local = socket_local_address(lfd, &error_abort);
    g_assert_cmpint(local->type, ==, SOCKET_ADDRESS_TYPE_UNIX);
    g_assert_cmpstr(local->u.q_unix.path, ==, path);
    g_assert_cmpint(socket_get_port(lfd, &err), ==, -1);
    g_clear_pointer(&err, error_free);
    close(sfd);
    close(cfd);
    close(lfd);

    /* listening again on a stale socket file works (it is unlinked first) */
    lfd = socket_listen(a, 1, &error_abort);
    close(lfd);

    /* fd: addresses take an open socket by number */
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_autofree char *fdaddr = g_strdup_printf("fd:%d", sv[0]);
    g_autoptr(SocketAddress) fa = socket_parse(fdaddr, &error_abort);
    g_assert_cmpint(socket_connect(fa, &error_abort), ==, sv[0]);
    int devnull = open("/dev/null", O_RDONLY);
    g_autofree char *nfd = g_strdup_printf("fd:%d", devnull);
    g_autoptr(SocketAddress) na = socket_parse(nfd, &error_abort);
    g_assert_cmpint(socket_connect(na, &err), ==, -1);
    g_autofree char *want_ns = g_strdup_printf("File descriptor '%d' is not a socket", devnull);
    g_assert_cmpstr(error_get_pretty(err), ==, want_ns);
    g_clear_pointer(&err, error_free);
    close(devnull);
    close(sv[0]);
    close(sv[1]);

    unlink(path);
    rmdir(dir);
}

static void test_unix_path_too_long(void)
{
    g_autofree char *p107 = g_strnfill(107, 'a');
    g_autofree char *p108 = g_strnfill(108, 'a');
    p107[0] = p108[0] = '/';
    g_autofree char *s108 = g_strdup_printf("unix:%s", p108);
    g_autofree char *s107 = g_strdup_printf("unix:%s", p107);
    g_autoptr(SocketAddress) a108 = socket_parse(s108, &error_abort);
    g_autoptr(SocketAddress) a107 = socket_parse(s107, &error_abort);
    Error *err = NULL;

    g_assert_cmpint(socket_listen(a108, 1, &err), ==, -1);
    g_autofree char *want = g_strdup_printf("UNIX socket path '%s' is too long", p108);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    g_clear_pointer(&err, error_free);
    g_assert_cmpint(socket_connect(a108, &err), ==, -1);
    g_clear_pointer(&err, error_free);
    /* 107 bytes is accepted by the length check (and then fails: no such dir) */
    g_assert_cmpint(socket_connect(a107, &err), ==, -1);
    g_assert_true(g_str_has_suffix(error_get_pretty(err), "No such file or directory"));
    g_clear_pointer(&err, error_free);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sockets/parse", test_parse);
    g_test_add_func("/sockets/inet", test_inet);
    g_test_add_func("/sockets/inet-listen-busy", test_inet_listen_busy);
    g_test_add_func("/sockets/nonblock-connect", test_nonblock_connect);
    g_test_add_func("/sockets/unix", test_unix);
    g_test_add_func("/sockets/unix-path-too-long", test_unix_path_too_long);
    return g_test_run();
}
