/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The socket chardev: a unix or TCP client, a server that accepts one client at a
 * time and listens again after it leaves, or an inherited fd (fd=N).
 */
#include "util/osdep.h"
#include "chardev/char-internal.h"
#include "sysemu/opts.h"
#include "util/sockets.h"
#include "util/error.h"

typedef struct SocketChardev {
    SocketAddress *addr;        /* NULL for fd= */
    bool is_server;
    int listen_fd;              /* server: -1 while a client is connected */
} SocketChardev;

static void socket_accept_ready(void *opaque)
{
    Chardev *chr = opaque;
    SocketChardev *s = chr->be_opaque;
    Error *err = NULL;
    int fd = socket_accept(s->listen_fd, &err);

    if (fd < 0) {
        error_free(err);
        return;
    }
    /* one client at a time: stop listening until it leaves */
    aio_set_fd_handler(qemu_get_aio_context(), s->listen_fd, NULL, NULL, NULL);
    chr_connected(chr, fd, fd, true, true);
}

static void socket_listen_again(Chardev *chr)
{
    SocketChardev *s = chr->be_opaque;

    if (s->is_server && s->listen_fd >= 0) {
        aio_set_fd_handler(qemu_get_aio_context(), s->listen_fd, socket_accept_ready,
                           NULL, chr);
    }
}

/* Interpret fd=N: a connected socket, or (server=on) a listening one. */
static bool socket_open_fd(Chardev *chr, SocketChardev *s, const char *str, Error **errp)
{
    int fd, listening = 0;
    socklen_t len = sizeof(listening);
    char *end;

    errno = 0;
    fd = strtol(str, &end, 10);
    if (errno || *end || fd < 0) {
        error_setg(errp, "Parameter 'fd' expects a file descriptor number");
        return false;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
        error_setg_errno(errp, errno, "Failed to use socket fd %d", fd);
        return false;
    }
    qemu_set_cloexec(fd);
    if (listening) {
        s->is_server = true;
        s->listen_fd = fd;
        socket_listen_again(chr);
        return true;
    }
    chr_connected(chr, fd, fd, true, true);
    return true;
}

static SocketAddress *socket_opts_address(QDict *opts, Error **errp)
{
    const char *path = qdict_get_try_str(opts, "path");
    const char *host = qdict_get_try_str(opts, "host");
    const char *port = qdict_get_try_str(opts, "port");
    SocketAddress *addr = g_new0(SocketAddress, 1);

    if (path) {
        addr->type = SOCKET_ADDRESS_TYPE_UNIX;
        addr->u.q_unix.path = g_strdup(path);
    } else if (host || port) {
        if (!port) {
            error_setg(errp, "chardev: socket: no port given");
            g_free(addr);
            return NULL;
        }
        addr->type = SOCKET_ADDRESS_TYPE_INET;
        addr->u.inet.host = g_strdup(host ? host : "");
        addr->u.inet.port = g_strdup(port);
        addr->u.inet.ipv4 = qemu_opt_get_bool(opts, "ipv4", false, NULL);
        addr->u.inet.ipv6 = qemu_opt_get_bool(opts, "ipv6", false, NULL);
    } else {
        error_setg(errp, "chardev: socket: no host given");
        g_free(addr);
        return NULL;
    }
    return addr;
}

static bool socket_open(Chardev *chr, QDict *opts, Error **errp)
{
    SocketChardev *s = g_new0(SocketChardev, 1);
    const char *fdstr = qdict_get_try_str(opts, "fd");
    Error *err = NULL;
    bool wait;
    int fd;

    s->listen_fd = -1;
    chr->be_opaque = s;
    s->is_server = qemu_opt_get_bool(opts, "server", false, &err);
    wait = qemu_opt_get_bool(opts, "wait", true, err ? NULL : &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    if (fdstr) {
        return socket_open_fd(chr, s, fdstr, errp);
    }
    s->addr = socket_opts_address(opts, errp);
    if (!s->addr) {
        return false;
    }
    if (!s->is_server) {
        fd = socket_connect(s->addr, errp);
        if (fd < 0) {
            return false;
        }
        chr_connected(chr, fd, fd, true, true);
        return true;
    }
    s->listen_fd = socket_listen(s->addr, 1, errp);
    if (s->listen_fd < 0) {
        return false;
    }
    if (wait) {
        g_autofree char *str = socket_address_to_string(s->addr);
        info_report("QEMU waiting for connection on: disconnected:%s,server=on", str);
        fd = socket_accept(s->listen_fd, errp);
        if (fd < 0) {
            return false;
        }
        chr_connected(chr, fd, fd, true, true);
        return true;
    }
    socket_listen_again(chr);
    return true;
}

static void socket_close(Chardev *chr)
{
    SocketChardev *s = chr->be_opaque;

    if (!s) {
        return;
    }
    if (s->listen_fd >= 0) {
        aio_set_fd_handler(qemu_get_aio_context(), s->listen_fd, NULL, NULL, NULL);
        close(s->listen_fd);
        if (s->addr && s->addr->type == SOCKET_ADDRESS_TYPE_UNIX) {
            unlink(s->addr->u.q_unix.path);
        }
    }
    if (s->addr) {
        socket_address_free(s->addr);
    }
    g_free(s);
    chr->be_opaque = NULL;
}

const ChardevClass chardev_socket_class = {
    .name = "socket",
    .open = socket_open,
    .hangup = socket_listen_again,
    .close = socket_close,
};
