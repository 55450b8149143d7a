/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * sockets.h: stream socket addresses and the blocking helpers around them, for
 * NBD (server and client), migration channels (tcp:, unix:, fd:) and the QMP/HMP
 * monitors.
 *
 * Textual forms accepted by socket_parse(), as QEMU's:
 *   host:port   [v6addr]:port   :port (any host)   tcp:<any of these>
 *   unix:/path/to/socket        fd:<name or number>
 * An inet address may end in ",ipv4" or ",ipv6" to restrict the family. Ports are
 * kept as strings (service names work); port "0" on listen picks a free port,
 * which socket_get_port() then reports.
 *
 * Every fd returned here is close-on-exec and blocking; use qemu_set_nonblock()
 * before handing one to an AioContext. Unix socket paths may be at most 107 bytes
 * (sun_path, NUL included).
 *
 * Threads: no shared state; the blocking calls (connect, accept, send_all,
 * recv_all) must not run in a coroutine or on the main loop unless the socket is
 * known to be ready. Error texts follow QEMU's ("Failed to connect to '%s:%s'").
 */
#ifndef GODWIT_SOCKETS_H
#define GODWIT_SOCKETS_H

#include "util/osdep.h"
#include "util/error.h"

#include <sys/socket.h>

typedef enum SocketAddressType {
    SOCKET_ADDRESS_TYPE_INET,
    SOCKET_ADDRESS_TYPE_UNIX,
    SOCKET_ADDRESS_TYPE_FD,
} SocketAddressType;

typedef struct InetSocketAddress {
    char *host;             /* "" on listen: every interface */
    char *port;
    bool ipv4;              /* both false: either family */
    bool ipv6;
} InetSocketAddress;

typedef struct UnixSocketAddress {
    char *path;
} UnixSocketAddress;

typedef struct FdSocketAddress {
    char *str;              /* a number; monitor fd names are resolved by callers */
} FdSocketAddress;

/* The tagged union of the three; owns its strings. */
typedef struct SocketAddress {
    SocketAddressType type;
    union {
        InetSocketAddress inet;
        UnixSocketAddress q_unix;   /* "unix" is a predefined macro in GNU C */
        FdSocketAddress fd;
    } u;
} SocketAddress;

/* Parse one of the forms above; NULL with errp set on a malformed string. */
SocketAddress *socket_parse(const char *str, Error **errp);
SocketAddress *socket_address_copy(const SocketAddress *addr);
void socket_address_free(SocketAddress *addr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SocketAddress, socket_address_free)
/* "host:port", "[::1]:port", "unix:/path" or "fd:str": what socket_parse() reads back. */
char *socket_address_to_string(const SocketAddress *addr);

/*
 * Create a listening socket (unix: an existing socket file at the path is
 * unlinked first). Returns the fd or -1 with errp set. An fd address must name an
 * open socket, which is returned as is (ownership passes to the caller) and must
 * already be listening.
 */
int socket_listen(const SocketAddress *addr, int backlog, Error **errp);
/* Blocking connect; returns the fd or -1 with errp set. */
int socket_connect(const SocketAddress *addr, Error **errp);
/*
 * Start a connect without blocking (inet, unix). Returns the fd (non-blocking) or
 * -1; *in_progress tells whether the caller must wait for POLLOUT and then call
 * socket_connect_finish(), which returns 0 or -1 with errp set. For inet, only the
 * first resolved address is tried.
 */
int socket_connect_nonblock(const SocketAddress *addr, bool *in_progress, Error **errp);
int socket_connect_finish(int fd, const SocketAddress *addr, Error **errp);
/* accept() one connection, retrying EINTR; the new fd is blocking and cloexec. */
int socket_accept(int listen_fd, Error **errp);

/* Port an inet socket is bound to (after listen on port 0), or -1 with errp set. */
int socket_get_port(int fd, Error **errp);
/* The local address of a socket as a new SocketAddress (inet or unix). */
SocketAddress *socket_local_address(int fd, Error **errp);

/* 0 or -errno. */
int qemu_set_nonblock(int fd);
int qemu_set_block(int fd);
int qemu_set_cloexec(int fd);

/*
 * Send all of buf, retrying short writes and EINTR, without raising SIGPIPE.
 * Returns 0 or -errno (-EPIPE when the peer is gone).
 */
int socket_send_all(int fd, const void *buf, size_t len);
/*
 * Receive exactly len bytes unless the peer closes first. Returns len, or the
 * smaller count received before end of file (0 at a clean EOF), or -errno.
 */
ssize_t socket_recv_all(int fd, void *buf, size_t len);

#endif /* GODWIT_SOCKETS_H */
