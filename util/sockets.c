/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * sockets.c: socket address parsing, listen/connect/accept and blocking
 * send/recv helpers (contracts in include/util/sockets.h).
 */
#include "util/osdep.h"
#include "util/sockets.h"
#include "util/cutils.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>

#define UNIX_PATH_MAX_LEN (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* ---- addresses ---- */

/* host:port, [v6]:port or :port, then optional ",ipv4" / ",ipv6" (others ignored). */
static bool inet_parse(InetSocketAddress *inet, const char *str, Error **errp)
{
    const char *port, *colon;

    if (str[0] == '[') {
        const char *close = strchr(str, ']');
        if (!close || close[1] != ':' || close == str + 1) {
            error_setg(errp, "error parsing IPv6 address '%s'", str);
            return false;
        }
        inet->host = g_strndup(str + 1, close - str - 1);
        port = close + 2;
    } else {
        colon = strchr(str, ':');
        if (!colon) {
            error_setg(errp, "error parsing address '%s'", str);
            return false;
        }
        inet->host = g_strndup(str, colon - str);
        port = colon + 1;
    }
    size_t port_len = strcspn(port, ",");
    if (port_len == 0) {
        error_setg(errp, str[0] == ':' ? "error parsing port in address '%s'"
                                       : "error parsing address '%s'", str);
        g_clear_pointer(&inet->host, g_free);
        return false;
    }
    inet->port = g_strndup(port, port_len);
    g_auto(GStrv) opts = g_strsplit(port + port_len, ",", -1);
    for (char **o = opts; *o; o++) {
        if (strcmp(*o, "ipv4") == 0 || strcmp(*o, "ipv4=on") == 0) {
            inet->ipv4 = true;
        } else if (strcmp(*o, "ipv6") == 0 || strcmp(*o, "ipv6=on") == 0) {
            inet->ipv6 = true;
        }
    }
    return true;
}

SocketAddress *socket_parse(const char *str, Error **errp)
{
    g_autoptr(SocketAddress) addr = g_new0(SocketAddress, 1);
    const char *rest;

    if (strstart(str, "unix:", &rest)) {
        if (!*rest) {
            error_setg(errp, "invalid Unix socket address");
            return NULL;
        }
        addr->type = SOCKET_ADDRESS_TYPE_UNIX;
        addr->u.q_unix.path = g_strdup(rest);
    } else if (strstart(str, "fd:", &rest)) {
        if (!*rest) {
            error_setg(errp, "invalid file descriptor address");
            return NULL;
        }
        addr->type = SOCKET_ADDRESS_TYPE_FD;
        addr->u.fd.str = g_strdup(rest);
    } else {
        strstart(str, "tcp:", &str);
        addr->type = SOCKET_ADDRESS_TYPE_INET;
        if (!inet_parse(&addr->u.inet, str, errp)) {
            return NULL;
        }
    }
    return g_steal_pointer(&addr);
}

SocketAddress *socket_address_copy(const SocketAddress *addr)
{
    SocketAddress *copy = g_new0(SocketAddress, 1);

    copy->type = addr->type;
    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_INET:
        copy->u.inet = addr->u.inet;
        copy->u.inet.host = g_strdup(addr->u.inet.host);
        copy->u.inet.port = g_strdup(addr->u.inet.port);
        break;
    case SOCKET_ADDRESS_TYPE_UNIX:
        copy->u.q_unix.path = g_strdup(addr->u.q_unix.path);
        break;
    case SOCKET_ADDRESS_TYPE_FD:
        copy->u.fd.str = g_strdup(addr->u.fd.str);
        break;
    }
    return copy;
}

void socket_address_free(SocketAddress *addr)
{
    if (!addr) {
        return;
    }
    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_INET:
        g_free(addr->u.inet.host);
        g_free(addr->u.inet.port);
        break;
    case SOCKET_ADDRESS_TYPE_UNIX:
        g_free(addr->u.q_unix.path);
        break;
    case SOCKET_ADDRESS_TYPE_FD:
        g_free(addr->u.fd.str);
        break;
    }
    g_free(addr);
}

char *socket_address_to_string(const SocketAddress *addr)
{
    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_INET:
        if (strchr(addr->u.inet.host, ':')) {
            return g_strdup_printf("[%s]:%s", addr->u.inet.host, addr->u.inet.port);
        }
        return g_strdup_printf("%s:%s", addr->u.inet.host, addr->u.inet.port);
    case SOCKET_ADDRESS_TYPE_UNIX:
        return g_strdup_printf("unix:%s", addr->u.q_unix.path);
    case SOCKET_ADDRESS_TYPE_FD:
        return g_strdup_printf("fd:%s", addr->u.fd.str);
    }
    g_assert_not_reached();
}

/* ---- fd flags ---- */

static int fd_update_flags(int fd, int get, int set, int flag, bool on)
{
    int flags = fcntl(fd, get);

    if (flags < 0) {
        return -errno;
    }
    flags = on ? flags | flag : flags & ~flag;
    return fcntl(fd, set, flags) < 0 ? -errno : 0;
}

int qemu_set_nonblock(int fd)
{
    return fd_update_flags(fd, F_GETFL, F_SETFL, O_NONBLOCK, true);
}

int qemu_set_block(int fd)
{
    return fd_update_flags(fd, F_GETFL, F_SETFL, O_NONBLOCK, false);
}

int qemu_set_cloexec(int fd)
{
    return fd_update_flags(fd, F_GETFD, F_SETFD, FD_CLOEXEC, true);
}

/* ---- unix ---- */

static bool unix_fill_addr(struct sockaddr_un *un, const char *path, Error **errp)
{
    if (strlen(path) > UNIX_PATH_MAX_LEN) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        error_append_hint(errp, "Path must be less than %zu bytes\n", UNIX_PATH_MAX_LEN + 1);
        return false;
    }
    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, strlen(path));
    return true;
}

static int unix_listen(const UnixSocketAddress *a, int backlog, Error **errp)
{
    struct sockaddr_un un;

    if (!unix_fill_addr(&un, a->path, errp)) {
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create Unix socket");
        return -1;
    }
    if (unlink(a->path) < 0 && errno != ENOENT) {
        error_setg_errno(errp, errno, "Failed to unlink socket %s", a->path);
        goto fail;
    }
    if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s", a->path);
        goto fail;
    }
    if (listen(fd, backlog) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on socket");
        goto fail;
    }
    return fd;

fail:
    close(fd);
    return -1;
}

/* Connect (blocking, or not when nonblock) to a unix socket; *in_progress as documented. */
static int unix_connect(const UnixSocketAddress *a, bool nonblock, bool *in_progress,
                        Error **errp)
{
    struct sockaddr_un un;
    int rc;

    if (!unix_fill_addr(&un, a->path, errp)) {
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create Unix socket");
        return -1;
    }
    do {
        rc = connect(fd, (struct sockaddr *)&un, sizeof(un));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 && nonblock && (errno == EINPROGRESS || errno == EAGAIN)) {
        *in_progress = true;
        return fd;
    }
    if (rc < 0) {
        error_setg_errno(errp, errno, "Failed to connect to '%s'", a->path);
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- inet ---- */

static struct addrinfo *inet_resolve(const InetSocketAddress *a, bool passive, Error **errp)
{
    struct addrinfo hints = {
        .ai_socktype = SOCK_STREAM,
        .ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG,
        .ai_family = a->ipv4 && !a->ipv6 ? AF_INET : a->ipv6 && !a->ipv4 ? AF_INET6 : AF_UNSPEC,
    };
    struct addrinfo *res = NULL;
    const char *host = a->host && a->host[0] ? a->host : NULL;

    if (!passive && !host) {
        error_setg(errp, "host not specified");
        return NULL;
    }
    int rc = getaddrinfo(host, a->port, &hints, &res);
    if (rc != 0) {
        error_setg(errp, "address resolution failed for %s:%s: %s", host ? host : "",
                   a->port, gai_strerror(rc));
        return NULL;
    }
    return res;
}

static int inet_listen(const InetSocketAddress *a, int backlog, Error **errp)
{
    struct addrinfo *res = inet_resolve(a, true, errp);
    int saved_errno = 0;

    if (!res) {
        return -1;
    }
    for (struct addrinfo *e = res; e; e = e->ai_next) {
        int fd = socket(e->ai_family, e->ai_socktype | SOCK_CLOEXEC, e->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, e->ai_addr, e->ai_addrlen) == 0) {
            if (listen(fd, backlog) == 0) {
                freeaddrinfo(res);
                return fd;
            }
            error_setg_errno(errp, errno, "Failed to listen on socket");
            close(fd);
            freeaddrinfo(res);
            return -1;
        }
        saved_errno = errno;
        close(fd);
    }
    freeaddrinfo(res);
    error_setg_errno(errp, saved_errno, "Failed to find an available port");
    return -1;
}

static int inet_connect(const InetSocketAddress *a, bool nonblock, bool *in_progress,
                        Error **errp)
{
    struct addrinfo *res = inet_resolve(a, false, errp);
    int saved_errno = 0, rc;

    if (!res) {
        return -1;
    }
    for (struct addrinfo *e = res; e; e = e->ai_next) {
        int type = e->ai_socktype | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
        int fd = socket(e->ai_family, type, e->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        do {
            rc = connect(fd, e->ai_addr, e->ai_addrlen);
        } while (rc < 0 && errno == EINTR);
        if (rc == 0 || (nonblock && errno == EINPROGRESS)) {
            *in_progress = rc < 0;
            freeaddrinfo(res);
            return fd;
        }
        saved_errno = errno;
        close(fd);
        if (nonblock) {
            break;      /* documented: one address only */
        }
    }
    freeaddrinfo(res);
    error_setg_errno(errp, saved_errno, "Failed to connect to '%s:%s'", a->host, a->port);
    return -1;
}

/* ---- fd ---- */

static int fd_address_get(const FdSocketAddress *a, Error **errp)
{
    int fd;
    struct stat st;

    if (qemu_strtoi(a->str, NULL, 10, &fd) < 0 || fd < 0) {
        error_setg(errp, "File descriptor named '%s' has not been found", a->str);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "Failed to stat file descriptor %d", fd);
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        error_setg(errp, "File descriptor '%s' is not a socket", a->str);
        return -1;
    }
    return fd;
}

/* ---- public entry points ---- */

int socket_listen(const SocketAddress *addr, int backlog, Error **errp)
{
    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_INET:
        return inet_listen(&addr->u.inet, backlog, errp);
    case SOCKET_ADDRESS_TYPE_UNIX:
        return unix_listen(&addr->u.q_unix, backlog, errp);
    case SOCKET_ADDRESS_TYPE_FD:
        return fd_address_get(&addr->u.fd, errp);
    }
    g_assert_not_reached();
}

int socket_connect(const SocketAddress *addr, Error **errp)
{
    bool in_progress = false;

    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_INET:
        return inet_connect(&addr->u.inet, false, &in_progress, errp);
    case SOCKET_ADDRESS_TYPE_UNIX:
        return unix_connect(&addr->u.q_unix, false, &in_progress, errp);
    case SOCKET_ADDRESS_TYPE_FD:
        return fd_address_get(&addr->u.fd, errp);
    }
    g_assert_not_reached();
}

int socket_connect_nonblock(const SocketAddress *addr, bool *in_progress, Error **errp)
{
    *in_progress = false;
    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_INET:
        return inet_connect(&addr->u.inet, true, in_progress, errp);
    case SOCKET_ADDRESS_TYPE_UNIX:
        return unix_connect(&addr->u.q_unix, true, in_progress, errp);
    case SOCKET_ADDRESS_TYPE_FD:
        error_setg(errp, "Non-blocking connect is not supported for fd addresses");
        return -1;
    }
    g_assert_not_reached();
}

int socket_connect_finish(int fd, const SocketAddress *addr, Error **errp)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err) {
        g_autofree char *name = addr->type == SOCKET_ADDRESS_TYPE_UNIX
            ? g_strdup(addr->u.q_unix.path) : socket_address_to_string(addr);
        error_setg_errno(errp, err, "Failed to connect to '%s'", name);
        return -1;
    }
    return 0;
}

int socket_accept(int listen_fd, Error **errp)
{
    int fd;

    do {
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to accept connection");
        return -1;
    }
    return fd;
}

SocketAddress *socket_local_address(int fd, Error **errp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        error_setg_errno(errp, errno, "Failed to get socket address");
        return NULL;
    }
    SocketAddress *addr = g_new0(SocketAddress, 1);
    if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&ss;
        addr->type = SOCKET_ADDRESS_TYPE_UNIX;
        addr->u.q_unix.path = g_strndup(un->sun_path, len - offsetof(struct sockaddr_un, sun_path));
        return addr;
    }
    int rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
        rc = EAI_FAMILY;
    }
    if (rc != 0) {
        error_setg(errp, "Cannot format socket address: %s", gai_strerror(rc));
        g_free(addr);
        return NULL;
    }
    addr->type = SOCKET_ADDRESS_TYPE_INET;
    addr->u.inet.host = g_strdup(host);
    addr->u.inet.port = g_strdup(port);
    addr->u.inet.ipv4 = ss.ss_family == AF_INET;
    addr->u.inet.ipv6 = ss.ss_family == AF_INET6;
    return addr;
}

int socket_get_port(int fd, Error **errp)
{
    g_autoptr(SocketAddress) addr = socket_local_address(fd, errp);
    int port;

    if (!addr) {
        return -1;
    }
    if (addr->type != SOCKET_ADDRESS_TYPE_INET) {
        error_setg(errp, "Socket is not an inet socket");
        return -1;
    }
    if (qemu_strtoi(addr->u.inet.port, NULL, 10, &port) < 0) {
        error_setg(errp, "Invalid port '%s'", addr->u.inet.port);
        return -1;
    }
    return port;
}

/* ---- blocking I/O ---- */

int socket_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= n;
    }
    return 0;
}

ssize_t socket_recv_all(int fd, void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = recv(fd, (char *)buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            break;
        }
        done += n;
    }
    return done;
}
