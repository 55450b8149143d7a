/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Chardevs: registry, option parsing, and the reading and buffered writing every
 * backend shares (contract in include/chardev/char.h).
 */
#include "util/osdep.h"
#include "chardev/char-internal.h"
#include "util/sockets.h"
#include "util/cutils.h"
#include "qobject/qstring.h"
#include "sysemu/opts.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>

static GPtrArray *chardevs;          /* Chardev *, in creation order */

static const ChardevClass *const chardev_classes[] = {
    &chardev_socket_class, &chardev_stdio_class, &chardev_file_class,
    &chardev_pipe_class, &chardev_null_class,
};

static void chr_update_handlers(Chardev *chr);

bool chr_fd_is_pollable(int fd)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return false;
    }
    return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd);
}

Chardev *qemu_chr_find(const char *id)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *chr = g_ptr_array_index(chardevs, i);
        if (!strcmp(chr->id, id)) {
            return chr;
        }
    }
    return NULL;
}

const char *qemu_chr_get_id(Chardev *chr)
{
    return chr->id;
}

Chardev *qemu_chr_new_from_opts(QDict *opts, Error **errp)
{
    const char *backend = qdict_get_try_str(opts, "backend");
    const char *id = qdict_get_try_str(opts, "id");
    const ChardevClass *cls = NULL;
    Chardev *chr;

    if (!backend) {
        error_setg(errp, "chardev: \"%s\" missing backend", id ? id : "");
        return NULL;
    }
    if (!id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    if (qemu_chr_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", id);
        return NULL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(chardev_classes); i++) {
        if (!strcmp(chardev_classes[i]->name, backend)) {
            cls = chardev_classes[i];
        }
    }
    if (!cls) {
        error_setg(errp, "'%s' is not a valid char driver name", backend);
        return NULL;
    }
    chr = g_new0(Chardev, 1);
    chr->id = g_strdup(id);
    chr->cls = cls;
    chr->in_fd = chr->out_fd = chr->msgfd = -1;
    chr->outbuf = g_byte_array_new();
    chr->accept_input = true;
    if (!cls->open(chr, opts, errp)) {
        if (cls->close) {
            cls->close(chr);
        }
        g_byte_array_unref(chr->outbuf);
        g_free(chr->id);
        g_free(chr);
        return NULL;
    }
    if (!chardevs) {
        chardevs = g_ptr_array_new();
    }
    g_ptr_array_add(chardevs, chr);
    return chr;
}

/* ---------------------------------------------------------------------------
 * Input
 */

static void chr_deliver(Chardev *chr, const uint8_t *buf, size_t len)
{
    if (chr->fe_read) {
        chr->fe_read(chr->fe_opaque, buf, len);
    }
}

/* Read what is available on a socket, collecting a passed fd. -errno, 0 at EOF. */
static ssize_t chr_socket_recv(Chardev *chr, uint8_t *buf, size_t len)
{
    union {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = &control, .msg_controllen = sizeof(control) };
    ssize_t n;

    do {
        n = recvmsg(chr->in_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(fd));
            if (chr->msgfd >= 0) {
                close(chr->msgfd);
            }
            chr->msgfd = fd;
        }
    }
    return n;
}

static void chr_input_eof(Chardev *chr)
{
    if (!chr->own_fds && chr->out_fd >= 0) {
        /* stdin ended: keep writing to stdout, as QEMU does */
        aio_set_fd_handler(qemu_get_aio_context(), chr->in_fd, NULL, NULL, NULL);
        chr->in_fd = -1;
        chr_update_handlers(chr);
        return;
    }
    chr_hangup(chr);
}

static void chr_read_ready(void *opaque)
{
    Chardev *chr = opaque;
    uint8_t buf[CHR_READ_BUF_LEN];
    ssize_t n;

    if (chr->is_socket) {
        n = chr_socket_recv(chr, buf, sizeof(buf));
    } else {
        do {
            n = read(chr->in_fd, buf, sizeof(buf));
        } while (n < 0 && errno == EINTR);
        n = n < 0 ? -errno : n;
    }
    if (n == -EAGAIN || n == -EWOULDBLOCK) {
        return;
    }
    if (n <= 0) {
        chr_input_eof(chr);
        return;
    }
    chr_deliver(chr, buf, n);
}

/* OPENED delivery, and reading input that epoll cannot watch. */
static void chr_bh(void *opaque)
{
    Chardev *chr = opaque;

    if (chr->open_pending && chr->connected && chr->fe_event) {
        chr->open_pending = false;
        chr->fe_event(chr->fe_opaque, CHR_EVENT_OPENED);
        chr_update_handlers(chr);
        return;
    }
    if (chr->connected && chr->in_fd >= 0 && !chr->in_pollable && chr->accept_input &&
        chr->fe_read) {
        chr_read_ready(chr);
        if (chr->in_fd >= 0 && !chr->in_pollable) {
            qemu_bh_schedule(chr->bh);
        }
    }
}

/* ---------------------------------------------------------------------------
 * Output
 */

/* Write as much of outbuf as the peer takes now; false if the peer is gone. */
static bool chr_flush_some(Chardev *chr)
{
    while (chr->outbuf->len) {
        size_t len = chr->outbuf->len;
        ssize_t n;

        if (chr->is_socket) {
            n = send(chr->out_fd, chr->outbuf->data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            if (chr->out_pollable) {
                struct pollfd pfd = { .fd = chr->out_fd, .events = POLLOUT };
                if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLOUT)) {
                    return !(pfd.revents & (POLLERR | POLLHUP | POLLNVAL));
                }
                len = MIN(len, (size_t)PIPE_BUF);   /* a pipe takes PIPE_BUF without blocking */
            }
            n = write(chr->out_fd, chr->outbuf->data, len);
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        g_byte_array_remove_range(chr->outbuf, 0, n);
    }
    return true;
}

static void chr_write_ready(void *opaque)
{
    Chardev *chr = opaque;

    if (!chr_flush_some(chr)) {
        chr_hangup(chr);
        return;
    }
    chr_update_handlers(chr);
}

static void chr_update_handlers(Chardev *chr)
{
    AioContext *ctx = qemu_get_aio_context();
    /* no input before the frontend has seen OPENED (it greets first) */
    bool can_read = chr->connected && chr->in_fd >= 0 && chr->accept_input &&
                    chr->fe_read && !(chr->open_pending && chr->fe_event);
    bool want_read = can_read && chr->in_pollable;
    bool want_write = chr->connected && chr->out_fd >= 0 && chr->out_pollable &&
                      chr->outbuf->len;

    if (chr->in_fd >= 0 && chr->in_fd == chr->out_fd) {
        aio_set_fd_handler(ctx, chr->in_fd, want_read ? chr_read_ready : NULL,
                           want_write ? chr_write_ready : NULL, chr);
        return;
    }
    if (chr->in_fd >= 0 && chr->in_pollable) {
        aio_set_fd_handler(ctx, chr->in_fd, want_read ? chr_read_ready : NULL, NULL, chr);
    }
    if (chr->out_fd >= 0 && chr->out_pollable) {
        aio_set_fd_handler(ctx, chr->out_fd, NULL, want_write ? chr_write_ready : NULL, chr);
    }
    if (can_read && !chr->in_pollable) {
        qemu_bh_schedule(chr->bh);
    }
}

bool qemu_chr_write(Chardev *chr, const void *buf, size_t len)
{
    if (!chr->connected || chr->out_fd < 0) {
        return false;
    }
    if (chr->outbuf->len + len > CHR_MAX_OUTBUF) {
        chr_hangup(chr);                 /* a peer that does not read is dropped */
        return false;
    }
    g_byte_array_append(chr->outbuf, buf, len);
    if (!chr_flush_some(chr)) {
        chr_hangup(chr);
        return false;
    }
    if (!chr->out_pollable && chr->outbuf->len) {
        /* a regular file or terminal-like sink: writes do not block for long */
        g_byte_array_set_size(chr->outbuf, 0);
    }
    chr_update_handlers(chr);
    return true;
}

/* ---------------------------------------------------------------------------
 * Connection state
 */

void chr_connected(Chardev *chr, int in_fd, int out_fd, bool is_socket, bool own_fds)
{
    chr->in_fd = in_fd;
    chr->out_fd = out_fd;
    chr->in_pollable = in_fd >= 0 && chr_fd_is_pollable(in_fd);
    chr->out_pollable = out_fd >= 0 && chr_fd_is_pollable(out_fd);
    chr->is_socket = is_socket;
    chr->own_fds = own_fds;
    chr->connected = true;
    chr->open_pending = true;
    if (!chr->bh) {
        chr->bh = aio_bh_new(qemu_get_aio_context(), chr_bh, chr);
    }
    if (chr->fe_event) {
        qemu_bh_schedule(chr->bh);
    }
    chr_update_handlers(chr);
}

void chr_hangup(Chardev *chr)
{
    AioContext *ctx = qemu_get_aio_context();

    if (!chr->connected) {
        return;
    }
    if (chr->in_fd >= 0 && chr->in_pollable) {
        aio_set_fd_handler(ctx, chr->in_fd, NULL, NULL, NULL);
    }
    if (chr->out_fd >= 0 && chr->out_pollable && chr->out_fd != chr->in_fd) {
        aio_set_fd_handler(ctx, chr->out_fd, NULL, NULL, NULL);
    }
    if (chr->own_fds) {
        if (chr->in_fd >= 0) {
            close(chr->in_fd);
        }
        if (chr->out_fd >= 0 && chr->out_fd != chr->in_fd) {
            close(chr->out_fd);
        }
    }
    if (chr->msgfd >= 0) {
        close(chr->msgfd);
        chr->msgfd = -1;
    }
    chr->in_fd = chr->out_fd = -1;
    chr->connected = false;
    chr->open_pending = false;
    g_byte_array_set_size(chr->outbuf, 0);
    if (chr->fe_event) {
        chr->fe_event(chr->fe_opaque, CHR_EVENT_CLOSED);
    }
    if (chr->cls->hangup && !chr->closing) {
        chr->cls->hangup(chr);
    }
}

bool qemu_chr_set_handlers(Chardev *chr, CharReadFunc *read, CharEventFunc *event,
                           void *opaque, Error **errp)
{
    if ((read || event) && (chr->fe_read || chr->fe_event)) {
        error_setg(errp, "Device '%s' is in use", chr->id);
        return false;
    }
    chr->fe_read = read;
    chr->fe_event = event;
    chr->fe_opaque = opaque;
    if (chr->connected && event && chr->bh) {
        chr->open_pending = true;
        qemu_bh_schedule(chr->bh);
    }
    chr_update_handlers(chr);
    return true;
}

void qemu_chr_accept_input(Chardev *chr, bool accept)
{
    chr->accept_input = accept;
    chr_update_handlers(chr);
}

bool qemu_chr_is_connected(Chardev *chr)
{
    return chr->connected;
}

int qemu_chr_get_msgfd(Chardev *chr)
{
    int fd = chr->msgfd;

    chr->msgfd = -1;
    return fd;
}

void qemu_chr_disconnect(Chardev *chr)
{
    chr_hangup(chr);
}

void qemu_chr_flush_all_and_close(int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;

    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *chr = g_ptr_array_index(chardevs, i);

        chr->closing = true;
        while (chr->connected && chr->outbuf->len && g_get_monotonic_time() < deadline) {
            struct pollfd pfd = { .fd = chr->out_fd, .events = POLLOUT };
            poll(&pfd, 1, 10);
            if (!chr_flush_some(chr)) {
                break;
            }
        }
        chr_hangup(chr);
        if (chr->cls->close) {
            chr->cls->close(chr);
        }
        if (chr->bh) {
            qemu_bh_delete(chr->bh);
        }
        g_byte_array_unref(chr->outbuf);
        g_free(chr->id);
        g_free(chr);
    }
    if (chardevs) {
        g_ptr_array_free(chardevs, true);
        chardevs = NULL;
    }
}

/* ---------------------------------------------------------------------------
 * Legacy short forms
 */

QDict *qemu_chr_parse_compat(const char *id, const char *spec, Error **errp)
{
    const char *rest;
    QDict *opts = NULL;

    if (!strcmp(spec, "none")) {
        return NULL;
    }
    if (!strcmp(spec, "null") || !strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
        opts = qdict_new();
        qdict_put_str(opts, "backend", strcmp(spec, "null") ? "stdio" : "null");
    } else if (strstart(spec, "unix:", &rest)) {
        opts = qemu_opts_parse_flat(rest, "path", errp);
        if (opts) {
            qdict_put_str(opts, "backend", "socket");
        }
    } else if (strstart(spec, "tcp:", &rest)) {
        opts = qemu_opts_parse_flat(rest, "host", errp);
        const char *hostport = opts ? qdict_get_try_str(opts, "host") : NULL;
        const char *colon = hostport ? strrchr(hostport, ':') : NULL;
        if (opts && !colon) {
            error_setg(errp, "chardev: %s: expected host:port", spec);
            qobject_unref(opts);
            return NULL;
        }
        if (opts) {
            g_autofree char *host = g_strndup(hostport, colon - hostport);
            qdict_put_str(opts, "port", colon + 1);
            qdict_put_str(opts, "host", host);
            qdict_put_str(opts, "backend", "socket");
        }
    } else if (strstart(spec, "file:", &rest) || strstart(spec, "pipe:", &rest)) {
        opts = qdict_new();
        qdict_put_str(opts, "backend", spec[0] == 'f' ? "file" : "pipe");
        qdict_put_str(opts, "path", rest);
    } else if (strstart(spec, "chardev:", &rest)) {
        opts = qdict_new();
        qdict_put_str(opts, "chardev", rest);
        return opts;
    } else {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        return NULL;
    }
    if (opts) {
        qdict_put_str(opts, "id", id);
    }
    return opts;
}
