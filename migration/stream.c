/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * stream.c: the buffered migration stream (include/migration/stream.h) and the
 * wire format. Our own format; nothing here is meant to be read by QEMU.
 *
 *   stream  := header record* eof
 *   header  := be32 magic 0x4744574d ("GDWM") | be32 version (1)
 *
 *   record  := u8 type | be32 length | payload[length]          (every record)
 *     START  1: be32 section-id | str8 name | be32 instance | be32 version | data
 *     PART   2: be32 section-id | data
 *     END    3: be32 section-id | data
 *     FULL   4: be32 section-id | str8 name | be32 instance | be32 version | data
 *     EOF    5: nothing (length 0)
 *
 *   A section sends START once (setup), PART while the source runs, END once
 *   the source has stopped; a FULL record carries a whole section in one go
 *   (device state). The loader fences every payload at its length, so a section
 *   that misparses fails at its own boundary and never eats the next record.
 *
 *   section data (each file draws its own in detail):
 *     ram     START: be64 ram-size | be32 page-size
 *             PART/END: { be64 gpa|flags ; PAGE: page-size bytes }*
 *                       flags (low 12 bits): 1 ZERO, 2 PAGE
 *     block   START: be32 count | { str8 device | be64 size }*
 *             PART/END: { be64 offset|flags | str8 device | be32 length | bytes }*
 *                       flags (low 9 bits): 1 ZERO, 2 PROGRESS, 4 EOS
 *     vmstate FULL: { str8 field | be32 length | bytes }* in table order
 *     machine FULL: str8 machine type
 *
 *   str8 := u8 length | bytes (no NUL). Integers are big-endian; vmstate BUFFER
 *   fields carry KVM's structs in the host's layout (same architecture only).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/ratelimit.h"
#include "util/sockets.h"
#include "migration/stream.h"

#include <sys/socket.h>

#define MIG_BUF_COMMIT   (256 * KiB)   /* ship the output buffer past this size */
#define MIG_IN_BUF       (256 * KiB)

struct MigStream {
    bool output;
    int fd;                       /* -1 for memory streams */

    /* set in the owner thread; error fields also by the sender, under lock */
    GMutex lock;
    int err;
    char *err_msg;

    /* output, owner thread */
    GByteArray *cur;              /* buffer being filled */
    unsigned open_lens;
    uint64_t bytes_out;
    GByteArray *mem_out;          /* memory output: everything */

    /* output, protected by lock */
    GCond cond;
    GQueue queue;                 /* GByteArray * for the sender */
    uint64_t queued;
    uint64_t written;
    uint64_t bandwidth;
    bool closing;
    Coroutine *waiter;            /* owner coroutine waiting for room */
    uint64_t wait_mark;
    GThread *thread;

    /* input, owner thread */
    uint8_t *in;
    size_t in_len, in_pos;
    uint64_t pos;                 /* bytes consumed */
    uint64_t fence;               /* absolute position; UINT64_MAX: none */
    bool eof;
    bool mem_in;
    Coroutine *reader;
};

/* ------------------------------------------------------------------------- */
/* errors */

static void mig_sender_wake_waiter_locked(MigStream *f);

static void mig_stream_set_error_locked(MigStream *f, int err, char *msg)
{
    if (f->err) {
        g_free(msg);
        return;
    }
    f->err = err ? err : -EIO;
    f->err_msg = msg;
}

void mig_stream_set_error(MigStream *f, int err, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_mutex_lock(&f->lock);
    mig_stream_set_error_locked(f, err, msg);
    mig_sender_wake_waiter_locked(f);
    g_cond_broadcast(&f->cond);
    g_mutex_unlock(&f->lock);
}

int mig_stream_get_error(MigStream *f)
{
    g_mutex_lock(&f->lock);
    int err = f->err;
    g_mutex_unlock(&f->lock);
    return err;
}

bool mig_stream_error(MigStream *f, Error **errp)
{
    bool failed;

    g_mutex_lock(&f->lock);
    failed = f->err != 0;
    if (failed) {
        error_setg(errp, "%s", f->err_msg);
    }
    g_mutex_unlock(&f->lock);
    return failed;
}

/* ------------------------------------------------------------------------- */
/* creation */

static MigStream *mig_stream_new(bool output, int fd)
{
    MigStream *f = g_new0(MigStream, 1);

    f->output = output;
    f->fd = fd;
    f->fence = UINT64_MAX;
    g_mutex_init(&f->lock);
    g_cond_init(&f->cond);
    g_queue_init(&f->queue);
    if (output) {
        f->cur = g_byte_array_sized_new(MIG_BUF_COMMIT + 64 * KiB);
    }
    return f;
}

static void mig_sender_wake_waiter_locked(MigStream *f)
{
    if (f->waiter && (f->queued <= f->wait_mark || f->err)) {
        Coroutine *co = f->waiter;

        f->waiter = NULL;
        aio_co_wake(co);
    }
}

/* Write everything (sockets without SIGPIPE, pipes with write(2)); 0 or -errno. */
static int mig_write_all(int fd, const uint8_t *buf, size_t len)
{
    bool sock = true;

    while (len) {
        ssize_t n = sock ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);

        if (n < 0 && errno == ENOTSOCK) {
            sock = false;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        buf += n;
        len -= n;
    }
    return 0;
}

/*
 * The sender thread: blocking writes of queued buffers, paced by the rate limiter.
 * After an error it drops what is queued (the owner sees the error on the stream).
 */
static gpointer mig_sender_thread(gpointer opaque)
{
    MigStream *f = opaque;
    RateLimit rl;
    uint64_t speed = 0;

    ratelimit_init(&rl);
    g_mutex_lock(&f->lock);
    for (;;) {
        while (!f->queue.length && !f->closing) {
            g_cond_wait(&f->cond, &f->lock);
        }
        GByteArray *b = g_queue_pop_head(&f->queue);
        if (!b) {
            break;                          /* closing and nothing left */
        }
        bool failed = f->err != 0;
        if (speed != f->bandwidth) {
            speed = f->bandwidth;
            ratelimit_set_speed(&rl, speed, 100 * SCALE_MS);
        }
        g_mutex_unlock(&f->lock);

        int ret = 0;
        for (size_t off = 0; !failed && off < b->len;) {
            size_t n = MIN(b->len - off, (size_t)(256 * KiB));
            uint64_t delay = ratelimit_calculate_delay(&rl, n);

            if (delay) {
                g_usleep(delay / 1000);
            }
            ret = mig_write_all(f->fd, b->data + off, n);
            if (ret < 0) {
                break;
            }
            off += n;
            g_mutex_lock(&f->lock);
            f->written += n;
            failed = f->err != 0;
            g_mutex_unlock(&f->lock);
        }

        g_mutex_lock(&f->lock);
        if (ret < 0) {
            mig_stream_set_error_locked(f, ret, g_strdup_printf(
                "Unable to write to the migration channel: %s", strerror(-ret)));
        }
        f->queued -= b->len;
        g_byte_array_unref(b);
        mig_sender_wake_waiter_locked(f);
        g_cond_broadcast(&f->cond);
    }
    mig_sender_wake_waiter_locked(f);
    g_mutex_unlock(&f->lock);
    return NULL;
}

MigStream *mig_stream_new_output(int fd, uint64_t bandwidth)
{
    MigStream *f = mig_stream_new(true, fd);

    qemu_set_block(fd);
    f->bandwidth = bandwidth;
    f->thread = g_thread_new("mig/send", mig_sender_thread, f);
    return f;
}

MigStream *mig_stream_new_output_mem(void)
{
    MigStream *f = mig_stream_new(true, -1);

    f->mem_out = g_byte_array_new();
    return f;
}

MigStream *mig_stream_new_input(int fd)
{
    MigStream *f = mig_stream_new(false, fd);

    qemu_set_nonblock(fd);
    f->in = g_malloc(MIG_IN_BUF);
    return f;
}

MigStream *mig_stream_new_input_mem(const void *buf, size_t len)
{
    MigStream *f = mig_stream_new(false, -1);

    f->in = g_memdup2(buf, len);
    f->in_len = len;
    f->mem_in = true;
    return f;
}

void mig_stream_shutdown(MigStream *f, const char *why)
{
    mig_stream_set_error(f, -ECANCELED, "%s", why);
    if (f->fd >= 0) {
        shutdown(f->fd, SHUT_RDWR);
    }
}

void mig_stream_free(MigStream *f)
{
    if (!f) {
        return;
    }
    if (f->thread) {
        mig_stream_commit(f);
        g_mutex_lock(&f->lock);
        f->closing = true;
        g_cond_broadcast(&f->cond);
        g_mutex_unlock(&f->lock);
        g_thread_join(f->thread);
    }
    if (f->reader && f->fd >= 0) {
        aio_set_fd_handler(qemu_get_aio_context(), f->fd, NULL, NULL, NULL);
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    if (f->cur) {
        g_byte_array_unref(f->cur);
    }
    if (f->mem_out) {
        g_byte_array_unref(f->mem_out);
    }
    g_free(f->in);
    g_free(f->err_msg);
    g_mutex_clear(&f->lock);
    g_cond_clear(&f->cond);
    g_free(f);
}

/* ------------------------------------------------------------------------- */
/* output */

static bool mig_out_ok(MigStream *f)
{
    return !f->err;     /* read without the lock: a stale 0 only wastes a put */
}

void mig_put_buffer(MigStream *f, const void *buf, size_t len)
{
    assert(f->output);
    if (!mig_out_ok(f)) {
        return;
    }
    g_byte_array_append(f->cur, buf, len);
    f->bytes_out += len;
}

void mig_put_be8(MigStream *f, uint8_t v)
{
    mig_put_buffer(f, &v, 1);
}

void mig_put_be16(MigStream *f, uint16_t v)
{
    v = GUINT16_TO_BE(v);
    mig_put_buffer(f, &v, 2);
}

void mig_put_be32(MigStream *f, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    mig_put_buffer(f, &v, 4);
}

void mig_put_be64(MigStream *f, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    mig_put_buffer(f, &v, 8);
}

void mig_put_str8(MigStream *f, const char *s)
{
    size_t len = strlen(s);

    assert(len < 256);
    mig_put_be8(f, len);
    mig_put_buffer(f, s, len);
}

size_t mig_put_len_begin(MigStream *f)
{
    size_t token = f->cur->len;

    mig_put_be32(f, 0);
    f->open_lens++;
    return token;
}

void mig_put_len_end(MigStream *f, size_t token)
{
    assert(f->open_lens > 0);
    f->open_lens--;
    if (mig_out_ok(f) && token + 4 <= f->cur->len) {
        uint32_t len = GUINT32_TO_BE(f->cur->len - token - 4);
        memcpy(f->cur->data + token, &len, 4);
    }
    if (!f->open_lens && f->cur->len >= MIG_BUF_COMMIT) {
        mig_stream_commit(f);
    }
}

void mig_stream_commit(MigStream *f)
{
    assert(f->output && !f->open_lens);
    if (!f->cur->len) {
        return;
    }
    if (f->mem_out) {
        g_byte_array_append(f->mem_out, f->cur->data, f->cur->len);
        g_byte_array_set_size(f->cur, 0);
        return;
    }
    g_mutex_lock(&f->lock);
    if (f->err) {
        g_byte_array_set_size(f->cur, 0);
    } else {
        f->queued += f->cur->len;
        g_queue_push_tail(&f->queue, f->cur);
        f->cur = g_byte_array_sized_new(MIG_BUF_COMMIT + 64 * KiB);
        g_cond_broadcast(&f->cond);
    }
    g_mutex_unlock(&f->lock);
}

uint64_t mig_stream_bytes_out(MigStream *f)
{
    return f->bytes_out;
}

uint64_t mig_stream_bytes_written(MigStream *f)
{
    g_mutex_lock(&f->lock);
    uint64_t n = f->mem_out ? f->mem_out->len : f->written;
    g_mutex_unlock(&f->lock);
    return n;
}

void mig_stream_set_bandwidth(MigStream *f, uint64_t bandwidth)
{
    g_mutex_lock(&f->lock);
    f->bandwidth = bandwidth;
    g_mutex_unlock(&f->lock);
}

bool coroutine_fn mig_stream_co_wait_room(MigStream *f, uint64_t max_queued)
{
    bool ok;

    if (!f->open_lens) {
        mig_stream_commit(f);
    }
    if (!f->thread) {
        return mig_stream_get_error(f) == 0;
    }
    g_mutex_lock(&f->lock);
    while (f->queued > max_queued && !f->err) {
        f->waiter = qemu_coroutine_self();
        f->wait_mark = max_queued;
        g_mutex_unlock(&f->lock);
        qemu_coroutine_yield();
        g_mutex_lock(&f->lock);
    }
    ok = !f->err;
    g_mutex_unlock(&f->lock);
    return ok;
}

bool coroutine_fn mig_stream_co_flush(MigStream *f)
{
    return mig_stream_co_wait_room(f, 0);
}

const uint8_t *mig_stream_output_data(MigStream *f, size_t *len)
{
    if (!f->open_lens) {
        mig_stream_commit(f);
    }
    *len = f->mem_out ? f->mem_out->len : 0;
    return f->mem_out ? f->mem_out->data : NULL;
}

/* ------------------------------------------------------------------------- */
/* input */

static void mig_reader_ready(void *opaque)
{
    MigStream *f = opaque;

    aio_set_fd_handler(qemu_get_aio_context(), f->fd, NULL, NULL, NULL);
    if (f->reader) {
        Coroutine *co = f->reader;
        f->reader = NULL;
        qemu_coroutine_enter(co);
    }
}

/* Refill the input buffer; false at EOF or on error (recorded). May yield. */
static bool mig_fill(MigStream *f)
{
    if (f->mem_in || f->eof || f->err) {
        return false;
    }
    if (f->in_pos < f->in_len) {
        memmove(f->in, f->in + f->in_pos, f->in_len - f->in_pos);
    }
    f->in_len -= f->in_pos;
    f->in_pos = 0;
    for (;;) {
        ssize_t n = read(f->fd, f->in + f->in_len, MIG_IN_BUF - f->in_len);

        if (n > 0) {
            f->in_len += n;
            return true;
        }
        if (n == 0) {
            f->eof = true;
            return false;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN || !qemu_in_coroutine()) {
            mig_stream_set_error(f, -errno, "Unable to read from the migration channel: %s",
                                 strerror(errno));
            return false;
        }
        f->reader = qemu_coroutine_self();
        aio_set_fd_handler(qemu_get_aio_context(), f->fd, mig_reader_ready, NULL, f);
        qemu_coroutine_yield();
        if (f->err) {
            return false;
        }
    }
}

bool mig_get_buffer(MigStream *f, void *buf, size_t len)
{
    uint8_t *p = buf;

    assert(!f->output);
    if (!f->err && len > f->fence - f->pos) {
        mig_stream_set_error(f, -EINVAL, "Migration record overrun: %zu bytes wanted, "
                             "%" PRIu64 " left in the record", len, f->fence - f->pos);
    }
    while (len && !f->err) {
        size_t n = MIN(len, f->in_len - f->in_pos);

        if (!n) {
            if (!mig_fill(f)) {
                mig_stream_set_error(f, -EIO, "Unexpected end of migration stream");
                break;
            }
            continue;
        }
        memcpy(p, f->in + f->in_pos, n);
        f->in_pos += n;
        f->pos += n;
        p += n;
        len -= n;
    }
    if (len) {
        memset(p, 0, len);
        return false;
    }
    return true;
}

uint8_t mig_get_be8(MigStream *f)
{
    uint8_t v;

    mig_get_buffer(f, &v, 1);
    return v;
}

uint16_t mig_get_be16(MigStream *f)
{
    uint16_t v;

    mig_get_buffer(f, &v, 2);
    return GUINT16_FROM_BE(v);
}

uint32_t mig_get_be32(MigStream *f)
{
    uint32_t v;

    mig_get_buffer(f, &v, 4);
    return GUINT32_FROM_BE(v);
}

uint64_t mig_get_be64(MigStream *f)
{
    uint64_t v;

    mig_get_buffer(f, &v, 8);
    return GUINT64_FROM_BE(v);
}

char *mig_get_str8(MigStream *f)
{
    uint8_t len = mig_get_be8(f);
    char *s = g_malloc(len + 1);

    if (!mig_get_buffer(f, s, len) || memchr(s, 0, len)) {
        mig_stream_set_error(f, -EINVAL, "Invalid name in migration stream");
        g_free(s);
        return NULL;
    }
    s[len] = 0;
    return s;
}

MigFence mig_get_len_begin(MigStream *f, uint32_t *len)
{
    MigFence saved = f->fence;

    *len = mig_get_be32(f);
    if (!f->err && *len > f->fence - f->pos) {
        mig_stream_set_error(f, -EINVAL, "Migration record length %" PRIu32 " exceeds its "
                             "enclosing record (%" PRIu64 " bytes left)", *len,
                             f->fence - f->pos);
    }
    if (!f->err) {
        f->fence = f->pos + *len;
    }
    return saved;
}

bool mig_get_len_end(MigStream *f, MigFence saved)
{
    if (!f->err && f->pos != f->fence) {
        mig_stream_set_error(f, -EINVAL, "Migration record has %" PRIu64 " unread bytes",
                             f->fence - f->pos);
    }
    f->fence = saved;
    return !f->err;
}

uint64_t mig_stream_left(MigStream *f)
{
    return f->fence == UINT64_MAX ? UINT64_MAX : f->fence - f->pos;
}

uint64_t mig_stream_bytes_in(MigStream *f)
{
    return f->pos;
}

bool mig_stream_at_eof(MigStream *f)
{
    if (f->in_pos < f->in_len) {
        return false;
    }
    return f->mem_in || !mig_fill(f);
}
