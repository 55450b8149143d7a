/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * common.c: what the NBD server and client share: header encoders/decoders,
 * the errno mapping, and NBDSock, a socket that yields in coroutines and polls
 * outside them.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "nbd/proto.h"
#include "nbd/nbd.h"

#include "util/iov.h"

#include <poll.h>
#include <sys/uio.h>

/* ---- headers ---- */

void nbd_encode_request(uint8_t buf[NBD_REQUEST_SIZE], const NBDRequest *req)
{
    nbd_st32(buf, NBD_REQUEST_MAGIC);
    nbd_st16(buf + 4, req->flags);
    nbd_st16(buf + 6, req->type);
    nbd_st64(buf + 8, req->handle);
    nbd_st64(buf + 16, req->offset);
    nbd_st32(buf + 24, req->len);
}

bool nbd_decode_request(const uint8_t buf[NBD_REQUEST_SIZE], NBDRequest *req)
{
    req->flags = nbd_ld16(buf + 4);
    req->type = nbd_ld16(buf + 6);
    req->handle = nbd_ld64(buf + 8);
    req->offset = nbd_ld64(buf + 16);
    req->len = nbd_ld32(buf + 24);
    return nbd_ld32(buf) == NBD_REQUEST_MAGIC;
}

void nbd_encode_simple_reply(uint8_t buf[NBD_SIMPLE_REPLY_SIZE], uint32_t nbd_err,
                             uint64_t handle)
{
    nbd_st32(buf, NBD_SIMPLE_REPLY_MAGIC);
    nbd_st32(buf + 4, nbd_err);
    nbd_st64(buf + 8, handle);
}

void nbd_encode_structured_hdr(uint8_t buf[NBD_STRUCTURED_HDR_SIZE], const NBDStructuredHdr *h)
{
    nbd_st32(buf, NBD_STRUCTURED_REPLY_MAGIC);
    nbd_st16(buf + 4, h->flags);
    nbd_st16(buf + 6, h->type);
    nbd_st64(buf + 8, h->handle);
    nbd_st32(buf + 16, h->length);
}

void nbd_encode_opt_reply_hdr(uint8_t buf[NBD_OPT_REPLY_HDR_SIZE], uint32_t opt,
                              uint32_t type, uint32_t len)
{
    nbd_st64(buf, NBD_REP_MAGIC);
    nbd_st32(buf + 8, opt);
    nbd_st32(buf + 12, type);
    nbd_st32(buf + 16, len);
}

/* ---- errors: the wire values are Linux's, but we map explicitly ---- */

uint32_t nbd_errno_to_wire(int err)
{
    switch (err) {
    case 0:          return NBD_SUCCESS;
    case EPERM:
    case EROFS:      return NBD_EPERM;
    case EIO:        return NBD_EIO;
    case ENOMEM:     return NBD_ENOMEM;
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EFBIG:
    case ENOSPC:     return NBD_ENOSPC;
    case EOVERFLOW:  return NBD_EOVERFLOW;
    case ENOTSUP:    return NBD_ENOTSUP;
    case ESHUTDOWN:  return NBD_ESHUTDOWN;
    case EINVAL:     return NBD_EINVAL;
    default:         return NBD_EINVAL;
    }
}

int nbd_wire_to_errno(uint32_t nbd_err)
{
    switch (nbd_err) {
    case NBD_SUCCESS:   return 0;
    case NBD_EPERM:     return EPERM;
    case NBD_EIO:       return EIO;
    case NBD_ENOMEM:    return ENOMEM;
    case NBD_ENOSPC:    return ENOSPC;
    case NBD_EOVERFLOW: return EOVERFLOW;
    case NBD_ENOTSUP:   return ENOTSUP;
    case NBD_ESHUTDOWN: return ESHUTDOWN;
    default:            return EINVAL;
    }
}

const char *nbd_cmd_name(uint16_t type)
{
    static const char *const names[] = {
        [NBD_CMD_READ] = "read", [NBD_CMD_WRITE] = "write", [NBD_CMD_DISC] = "disconnect",
        [NBD_CMD_FLUSH] = "flush", [NBD_CMD_TRIM] = "trim", [NBD_CMD_CACHE] = "cache",
        [NBD_CMD_WRITE_ZEROES] = "write zeroes", [NBD_CMD_BLOCK_STATUS] = "block status",
    };
    return type < ARRAY_SIZE(names) ? names[type] : "<unknown>";
}

const char *nbd_opt_name(uint32_t opt)
{
    static const char *const names[] = {
        [NBD_OPT_EXPORT_NAME] = "export name", [NBD_OPT_ABORT] = "abort",
        [NBD_OPT_LIST] = "list", [NBD_OPT_STARTTLS] = "starttls", [NBD_OPT_INFO] = "info",
        [NBD_OPT_GO] = "go", [NBD_OPT_STRUCTURED_REPLY] = "structured reply",
        [NBD_OPT_LIST_META_CONTEXT] = "list meta context",
        [NBD_OPT_SET_META_CONTEXT] = "set meta context",
    };
    return opt < ARRAY_SIZE(names) && names[opt] ? names[opt] : "<unknown>";
}

/* ---- NBDSock ---- */

static void nbd_sock_update_handlers(NBDSock *s);

/* Wake the coroutine in *slot (read_waiter or write_waiter), if any. */
static void nbd_sock_wake(NBDSock *s, Coroutine **slot)
{
    Coroutine *co = *slot;

    *slot = NULL;
    nbd_sock_update_handlers(s);
    if (co) {
        aio_co_wake(co);
    }
}

static void nbd_sock_readable(void *opaque)
{
    NBDSock *s = opaque;

    nbd_sock_wake(s, &s->read_waiter);
}

static void nbd_sock_writable(void *opaque)
{
    NBDSock *s = opaque;

    nbd_sock_wake(s, &s->write_waiter);
}

static void nbd_sock_update_handlers(NBDSock *s)
{
    aio_set_fd_handler(qemu_get_aio_context(), s->fd,
                       s->read_waiter ? nbd_sock_readable : NULL,
                       s->write_waiter ? nbd_sock_writable : NULL, s);
}

/* Wait until fd is ready for events (POLLIN or POLLOUT). */
static void nbd_sock_wait(NBDSock *s, short events)
{
    if (qemu_in_coroutine()) {
        Coroutine **slot = events == POLLIN ? &s->read_waiter : &s->write_waiter;
        assert(!*slot);
        *slot = qemu_coroutine_self();
        nbd_sock_update_handlers(s);
        qemu_coroutine_yield();
        /* the handler cleared the slot; a shutdown also wakes us through it */
    } else {
        struct pollfd pfd = { .fd = s->fd, .events = events };
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
        }
    }
}

void nbd_sock_init(NBDSock *s, int fd)
{
    *s = (NBDSock){ .fd = fd };
    qemu_set_nonblock(fd);
}

/* One readv() or sendmsg() on the socket: bytes moved, or < 0 with errno set. */
static ssize_t nbd_sock_io(NBDSock *s, struct iovec *iov, unsigned cnt, bool write)
{
    if (write) {
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = MIN(cnt, IOV_MAX) };

        return sendmsg(s->fd, &msg, MSG_NOSIGNAL);
    }
    return readv(s->fd, iov, MIN(cnt, IOV_MAX));
}

/*
 * Move all of iov in one direction, waiting whenever the socket would block.
 * After a shutdown reads fail with -ESHUTDOWN and writes with -EPIPE; a read
 * that meets EOF part-way fails with -EIO.
 */
static int nbd_sock_xfer(NBDSock *s, struct iovec *iov, unsigned niov, bool write)
{
    size_t want = iov_size(iov, niov), done = 0;
    struct iovec local[64], *v = local;

    /* iov_discard_front edits the vector: work on a copy */
    if (niov > ARRAY_SIZE(local)) {
        v = g_new(struct iovec, niov);
    }
    memcpy(v, iov, niov * sizeof(*iov));
    struct iovec *cur = v;
    unsigned cnt = niov;
    int ret = 0;

    while (done < want) {
        if (s->shut) {
            ret = write ? -EPIPE : -ESHUTDOWN;
            break;
        }
        ssize_t n = nbd_sock_io(s, cur, cnt, write);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            nbd_sock_wait(s, write ? POLLOUT : POLLIN);
            continue;
        }
        if (n < 0) {
            ret = -errno;
            break;
        }
        if (n == 0 && !write) {
            ret = done ? -EIO : -ESHUTDOWN;
            break;
        }
        done += n;
        iov_discard_front(&cur, &cnt, n);
    }
    if (v != local) {
        g_free(v);
    }
    return ret;
}

int nbd_sock_readv(NBDSock *s, struct iovec *iov, unsigned niov)
{
    return nbd_sock_xfer(s, iov, niov, false);
}

int nbd_sock_read(NBDSock *s, void *buf, size_t len)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };

    return len ? nbd_sock_readv(s, &iov, 1) : 0;
}

int nbd_sock_skip(NBDSock *s, size_t len)
{
    uint8_t tmp[4096];

    while (len) {
        size_t n = MIN(len, sizeof(tmp));
        int ret = nbd_sock_read(s, tmp, n);
        if (ret < 0) {
            return ret == -ESHUTDOWN ? -EIO : ret;
        }
        len -= n;
    }
    return 0;
}

int nbd_sock_writev(NBDSock *s, struct iovec *iov, unsigned niov)
{
    return nbd_sock_xfer(s, iov, niov, true);
}

int nbd_sock_write(NBDSock *s, const void *buf, size_t len)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

    return nbd_sock_writev(s, &iov, 1);
}

void nbd_sock_shutdown(NBDSock *s)
{
    if (s->fd < 0 || s->shut) {
        return;
    }
    s->shut = true;
    shutdown(s->fd, SHUT_RDWR);
    /* wake the waiters now: they see s->shut and fail */
    Coroutine *r = s->read_waiter, *w = s->write_waiter;
    s->read_waiter = s->write_waiter = NULL;
    aio_set_fd_handler(qemu_get_aio_context(), s->fd, NULL, NULL, NULL);
    if (r) {
        aio_co_wake(r);
    }
    if (w) {
        aio_co_wake(w);
    }
}

void nbd_sock_close(NBDSock *s)
{
    if (s->fd >= 0) {
        assert(!s->read_waiter && !s->write_waiter);
        aio_set_fd_handler(qemu_get_aio_context(), s->fd, NULL, NULL, NULL);
        close(s->fd);
        s->fd = -1;
    }
}

void nbd_export_info_clear(NBDExportInfo *info)
{
    g_free(info->name);
    g_free(info->meta_context);
    g_free(info->description);
    g_strfreev(info->contexts);
    memset(info, 0, sizeof(*info));
}
