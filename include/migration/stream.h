/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * stream.h: MigStream, the buffered byte stream a migration travels in. The wire
 * layout built on top of it (header, section records, their payloads) is drawn at
 * the top of migration/stream.c.
 *
 * An output stream collects puts in a buffer. At record boundaries (the outermost
 * mig_put_len_end) a full buffer goes to the sender thread, which writes it to the
 * channel with blocking writes, paced by the max-bandwidth rate limiter. The
 * producer (the migration coroutine in the main loop) never blocks: it asks
 * mig_stream_co_wait_room() to yield until the queue has drained below a mark.
 * A memory output (tests, fuzz seeds) collects everything in one GByteArray.
 *
 * An input stream reads its channel from a coroutine in the main loop: the fd is
 * non-blocking, and when the buffer runs dry the coroutine yields until the fd is
 * readable (an AioContext fd handler wakes it). A memory input reads a buffer and
 * never yields, so loaders can be fuzzed outside coroutines.
 *
 * Errors: the first error (I/O, end of stream, a limit overrun, or one a loader
 * reports with mig_stream_set_error) stays on the stream; later puts are dropped
 * and later gets return zeroes. Callers check mig_stream_error() at record and
 * section boundaries (STYLE.md section 4).
 *
 * Lengths: mig_put_len_begin/end wrap a payload in a be32 length (patched in
 * place: the payload stays in the buffer until the outermost end). On input,
 * mig_get_len_begin reads the length and fences the stream: gets beyond it fail
 * with an error instead of reading the next record, and mig_get_len_end fails
 * unless the payload was consumed exactly.
 *
 * Threads: one owner thread (the main loop) calls everything here; only the
 * sender thread's internals run elsewhere. Functions named _co_ may yield and
 * must run in a coroutine; gets may yield too when the stream has an fd.
 */
#ifndef GODWIT_MIGRATION_STREAM_H
#define GODWIT_MIGRATION_STREAM_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/coroutine.h"

typedef struct MigStream MigStream;

/* A saved input fence (mig_get_len_begin); opaque to callers. */
typedef uint64_t MigFence;

/* ---- creation ---- */

/*
 * Output to fd (a socket or pipe; the stream owns and closes it) through a sender
 * thread. bandwidth: bytes/s, 0 = unlimited.
 */
MigStream *mig_stream_new_output(int fd, uint64_t bandwidth);
/* Output into memory; mig_stream_output_data() returns what was written. */
MigStream *mig_stream_new_output_mem(void);
/* Input from fd (owned and closed by the stream); gets must run in a coroutine. */
MigStream *mig_stream_new_input(int fd);
/* Input from a copy of buf; never yields. */
MigStream *mig_stream_new_input_mem(const void *buf, size_t len);
/*
 * Stop the sender thread (after it wrote what is queued, unless the stream has
 * failed), close the fd, free. NULL is a no-op. Blocks until the thread ends:
 * call mig_stream_shutdown first if the peer may be stuck.
 */
void mig_stream_free(MigStream *f);
/* Unblock any reader or writer of the channel (shutdown(2)); the stream fails. */
void mig_stream_shutdown(MigStream *f, const char *why);

/* ---- errors ---- */

/* The first error's -errno, 0 if none. */
int mig_stream_get_error(MigStream *f);
/* If the stream failed, set errp to its message and return true. */
bool mig_stream_error(MigStream *f, Error **errp);
/* Record err (-errno) with a message unless an error is already recorded. */
void mig_stream_set_error(MigStream *f, int err, const char *fmt, ...) GODWIT_PRINTF(3, 4);

/* ---- output ---- */

void mig_put_be8(MigStream *f, uint8_t v);
void mig_put_be16(MigStream *f, uint16_t v);
void mig_put_be32(MigStream *f, uint32_t v);
void mig_put_be64(MigStream *f, uint64_t v);
void mig_put_buffer(MigStream *f, const void *buf, size_t len);
/* u8 length then the bytes; s must be shorter than 256 bytes (asserts). */
void mig_put_str8(MigStream *f, const char *s);
/* Start a be32-length-prefixed payload; returns the token for _end. Nests. */
size_t mig_put_len_begin(MigStream *f);
void mig_put_len_end(MigStream *f, size_t token);
/* Hand the buffer to the sender now (outside any open length). */
void mig_stream_commit(MigStream *f);

/* Bytes handed to the stream so far (the "transferred" count). */
uint64_t mig_stream_bytes_out(MigStream *f);
/* Bytes the sender thread has written to the channel. */
uint64_t mig_stream_bytes_written(MigStream *f);
/* Change the pacing (bytes/s, 0 = unlimited); effective for the next write. */
void mig_stream_set_bandwidth(MigStream *f, uint64_t bandwidth);
/*
 * Yield until at most max_queued bytes wait for the sender (or the stream
 * failed). Commits the buffer first. Returns false if the stream has failed.
 */
bool coroutine_fn mig_stream_co_wait_room(MigStream *f, uint64_t max_queued);
/* Commit and wait until the sender wrote everything; false if the stream failed. */
bool coroutine_fn mig_stream_co_flush(MigStream *f);
/* Memory output: everything put so far (committed or not); valid until free. */
const uint8_t *mig_stream_output_data(MigStream *f, size_t *len);

/* ---- input ---- */

uint8_t mig_get_be8(MigStream *f);
uint16_t mig_get_be16(MigStream *f);
uint32_t mig_get_be32(MigStream *f);
uint64_t mig_get_be64(MigStream *f);
/* Exactly len bytes into buf (zeroes after an error); false on error. */
bool mig_get_buffer(MigStream *f, void *buf, size_t len);
/* A str8 as a NUL-terminated g_malloc'd string; NULL on error or embedded NUL. */
char *mig_get_str8(MigStream *f);
/* Read a be32 length and fence the stream at the payload's end. */
MigFence mig_get_len_begin(MigStream *f, uint32_t *len);
/* The payload must be consumed exactly; restores the outer fence. */
bool mig_get_len_end(MigStream *f, MigFence saved);
/* Bytes left before the current fence (UINT64_MAX without one). */
uint64_t mig_stream_left(MigStream *f);
/* Bytes consumed so far. */
uint64_t mig_stream_bytes_in(MigStream *f);
/* True at a clean end of input (fd closed or buffer used up), with no bytes left. */
bool mig_stream_at_eof(MigStream *f);

#endif /* GODWIT_MIGRATION_STREAM_H */
