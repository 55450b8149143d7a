/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * channel.c: migration URIs, both directions.
 *   tcp:HOST:PORT   connect / listen (PORT 0 picks one; accepted once)
 *   unix:PATH       connect / listen
 *   exec:CMD        `sh -c CMD` with its stdin (outgoing) or stdout (incoming) on a
 *                   pipe; the shell runs detached (double fork: no zombies)
 *   fd:NAME         a descriptor passed with getfd (or a number inherited on exec)
 * Outgoing connects block (local peers answer at once; a dead remote TCP peer
 * times out as connect(2) does). Incoming listeners accept in the main loop.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/sockets.h"
#include "monitor/monitor.h"
#include "migration/channel.h"

#include <sys/wait.h>
#include <fcntl.h>

struct MigListener {
    int fd;                     /* tcp:/unix: listening socket, else -1 */
    MigAcceptFn *cb;
    void *opaque;
    char *uri;
    int ready_fd;               /* exec:/fd: the channel, until deliver_bh runs */
    QEMUBH *deliver_bh;
};

static bool mig_uri_is(const char *uri, const char *scheme, const char **rest)
{
    size_t n = strlen(scheme);

    if (strncmp(uri, scheme, n)) {
        return false;
    }
    *rest = uri + n;
    return true;
}

/* Run `sh -c cmd` with the pipe end child_fd as its stdin (0) or stdout (1). */
static int mig_exec(const char *cmd, bool child_reads, Error **errp)
{
    int p[2];
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "Cannot create a pipe for exec:");
        return -1;
    }
    int ours = child_reads ? p[1] : p[0];
    int theirs = child_reads ? p[0] : p[1];

    pid = fork();
    if (pid < 0) {
        error_setg_errno(errp, errno, "Cannot fork for exec:");
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        if (fork() == 0) {
            dup2(theirs, child_reads ? STDIN_FILENO : STDOUT_FILENO);
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    close(theirs);
    return ours;
}

/* fd:NAME: a getfd name of the current monitor, else a number. */
static int mig_fd_param(const char *name, Error **errp)
{
    Monitor *mon = monitor_cur();
    char *end;

    if (mon) {
        Error *local = NULL;
        int fd = monitor_fd_get(mon, name, &local);
        if (fd >= 0) {
            return fd;
        }
        if (!g_ascii_isdigit(name[0])) {
            error_propagate(errp, local);
            return -1;
        }
        error_free(local);
    }
    long v = strtol(name, &end, 10);
    if (!*name || *end || v < 0 || v > INT_MAX || fcntl(v, F_GETFD) < 0) {
        error_setg(errp, "File descriptor named '%s' has not been found", name);
        return -1;
    }
    return v;
}

int mig_channel_connect(const char *uri, Error **errp)
{
    const char *rest;

    if (mig_uri_is(uri, "tcp:", &rest) || mig_uri_is(uri, "unix:", &rest)) {
        g_autoptr(SocketAddress) addr = socket_parse(uri, errp);
        return addr ? socket_connect(addr, errp) : -1;
    }
    if (mig_uri_is(uri, "exec:", &rest)) {
        return mig_exec(rest, true, errp);
    }
    if (mig_uri_is(uri, "fd:", &rest)) {
        return mig_fd_param(rest, errp);
    }
    error_setg(errp, "Parameter 'uri' expects a valid migration protocol");
    return -1;
}

static void mig_listener_accept(void *opaque)
{
    MigListener *l = opaque;
    Error *err = NULL;
    int fd = socket_accept(l->fd, &err);

    if (fd < 0) {
        if (err) {
            error_free(err);        /* a spurious wake-up or a peer that went away */
        }
        return;
    }
    /* one connection per migration, as QEMU without multifd */
    aio_set_fd_handler(qemu_get_aio_context(), l->fd, NULL, NULL, NULL);
    l->cb(l->opaque, fd);
}

static void mig_listener_deliver(void *opaque)
{
    MigListener *l = opaque;
    int fd = l->ready_fd;

    l->ready_fd = -1;
    l->cb(l->opaque, fd);
}

MigListener *mig_channel_listen(const char *uri, MigAcceptFn *cb, void *opaque, Error **errp)
{
    MigListener *l = g_new0(MigListener, 1);
    const char *rest;

    l->cb = cb;
    l->opaque = opaque;
    l->uri = g_strdup(uri);
    l->fd = -1;
    l->ready_fd = -1;
    if (mig_uri_is(uri, "tcp:", &rest) || mig_uri_is(uri, "unix:", &rest)) {
        g_autoptr(SocketAddress) addr = socket_parse(uri, errp);
        l->fd = addr ? socket_listen(addr, 1, errp) : -1;
        if (l->fd < 0) {
            goto fail;
        }
        qemu_set_nonblock(l->fd);
        aio_set_fd_handler(qemu_get_aio_context(), l->fd, mig_listener_accept, NULL, l);
        return l;
    }
    int fd = -1;
    if (mig_uri_is(uri, "exec:", &rest)) {
        fd = mig_exec(rest, false, errp);
    } else if (mig_uri_is(uri, "fd:", &rest)) {
        fd = mig_fd_param(rest, errp);
    } else {
        error_setg(errp, "unknown migration protocol: %s", uri);
    }
    if (fd < 0) {
        goto fail;
    }
    /*
     * Hand the channel over from the main loop, as a connection would come: the
     * caller gets its listener (and the monitor its reply) before loading starts.
     */
    l->ready_fd = fd;
    l->deliver_bh = aio_bh_new(qemu_get_aio_context(), mig_listener_deliver, l);
    qemu_bh_schedule(l->deliver_bh);
    return l;

fail:
    g_free(l->uri);
    g_free(l);
    return NULL;
}

int mig_listener_port(MigListener *l)
{
    return l->fd >= 0 ? socket_get_port(l->fd, NULL) : -1;
}

SocketAddress *mig_listener_address(MigListener *l)
{
    return l->fd >= 0 ? socket_local_address(l->fd, NULL) : NULL;
}

void mig_listener_free(MigListener *l)
{
    if (!l) {
        return;
    }
    if (l->fd >= 0) {
        aio_set_fd_handler(qemu_get_aio_context(), l->fd, NULL, NULL, NULL);
        close(l->fd);
    }
    if (l->deliver_bh) {
        qemu_bh_delete(l->deliver_bh);
    }
    if (l->ready_fd >= 0) {
        close(l->ready_fd);
    }
    g_free(l->uri);
    g_free(l);
}
