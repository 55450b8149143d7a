/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * char.h: character devices ("chardevs"), the byte streams monitors and the
 * qtest protocol run on.
 *
 * Backends (the QEMU -chardev names and options we accept):
 *   socket   path=P | host=H,port=N | fd=N   [server=on|off] [wait=on|off]
 *            Client (default): connect at creation; a failed connect is an error.
 *            Server: listen; with wait=on (the default) creation blocks until the
 *            first client connects. After a client disconnects the server listens
 *            again. fd=N: an inherited socket that is already connected (used as a
 *            client connection) or listening (server=on).
 *   stdio    stdin/stdout of the process
 *   file     path=P: output only, the file is truncated (append=on to append)
 *   pipe     path=P: reads P.in and writes P.out, or P both ways
 *   null     swallows output, never produces input
 * The legacy short forms of -monitor/-qmp/-serial/-qtest are parsed by
 * qemu_chr_parse_compat(): "stdio", "null", "none", "unix:PATH[,opts]",
 * "tcp:HOST:PORT[,opts]", "file:PATH", "pipe:PATH", "chardev:ID".
 *
 * Flow: input is read by an fd handler on the main AioContext and handed to the
 * frontend's read callback (at most CHR_READ_BUF_LEN bytes per call). Output is
 * never written blocking from the main loop: qemu_chr_write() writes what the
 * peer accepts right now and keeps the rest in an output buffer drained by a
 * write handler, so a slow client stalls only itself. When the buffered output
 * exceeds CHR_MAX_OUTBUF the connection is dropped as if the peer had gone away.
 * A disconnect (EOF, error) closes the connection, discards its pending output
 * and raises CHR_EVENT_CLOSED; a server socket then waits for the next client and
 * raises CHR_EVENT_OPENED when one connects.
 *
 * Threads: main loop only.
 */
#ifndef GODWIT_CHAR_H
#define GODWIT_CHAR_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

#define CHR_READ_BUF_LEN    4096
#define CHR_MAX_OUTBUF      (64 * 1024 * 1024)

typedef struct Chardev Chardev;

typedef enum CharEvent {
    CHR_EVENT_OPENED,           /* a peer is connected: a frontend greets it */
    CHR_EVENT_CLOSED,           /* the peer went away; frontends reset their state */
} CharEvent;

/* Frontend callbacks; opaque is the frontend (a monitor, the qtest server). */
typedef void CharReadFunc(void *opaque, const uint8_t *buf, size_t len);
typedef void CharEventFunc(void *opaque, CharEvent event);

/*
 * Create a chardev from option dict opts (string values, as parsed from
 * "-chardev backend,id=...,k=v"): "backend" selects the kind, "id" names it
 * (required; must be unique). Returns NULL with errp set ("Chardev 'x' already
 * exists", "'x' is not a valid char driver name", connect errors).
 */
Chardev *qemu_chr_new_from_opts(QDict *opts, Error **errp);

/*
 * Parse a legacy short form (see above) into chardev options with the given id;
 * "none" returns NULL without an error (no device wanted). "chardev:ID" returns
 * an options dict with only "chardev": ID (callers look that chardev up).
 */
QDict *qemu_chr_parse_compat(const char *id, const char *spec, Error **errp);

/* Find a chardev by id; NULL if none. */
Chardev *qemu_chr_find(const char *id);
const char *qemu_chr_get_id(Chardev *chr);

/*
 * Attach a frontend. If a peer is already connected (stdio, a connected client
 * socket, fd=), CHR_EVENT_OPENED is delivered from a bottom half soon after, so
 * the frontend can greet. Only one frontend per chardev ("... is already in use"
 * otherwise). Detach with all callbacks NULL.
 */
bool qemu_chr_set_handlers(Chardev *chr, CharReadFunc *read, CharEventFunc *event,
                           void *opaque, Error **errp);

/*
 * Stop (false) or resume (true) reading input: a frontend busy with a request
 * stops reading so that nested event loops do not feed it again, and the kernel
 * buffers exert back-pressure on the peer.
 */
void qemu_chr_accept_input(Chardev *chr, bool accept);

/*
 * Queue len bytes for the peer (see "Flow"). Never blocks. Returns false (and
 * drops the data) when no peer is connected.
 */
bool qemu_chr_write(Chardev *chr, const void *buf, size_t len);

bool qemu_chr_is_connected(Chardev *chr);

/*
 * The file descriptor that arrived (SCM_RIGHTS, unix sockets) with the input
 * most recently delivered to the read callback, or -1. The caller takes
 * ownership; later calls return -1 until another fd arrives.
 */
int qemu_chr_get_msgfd(Chardev *chr);

/* Drop the current peer as if it had disconnected (e.g. after a protocol abuse). */
void qemu_chr_disconnect(Chardev *chr);

/*
 * At exit: write out every chardev's pending output, waiting at most timeout_ms
 * in total, then close all of them.
 */
void qemu_chr_flush_all_and_close(int timeout_ms);

#endif /* GODWIT_CHAR_H */
