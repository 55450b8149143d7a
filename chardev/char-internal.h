/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * char-internal.h: what the chardev backends (char-socket.c, char-fd.c) share with
 * the generic part (char.c). Nobody outside chardev/ includes this.
 *
 * A Chardev is a connection slot: in_fd/out_fd are the current peer's fds (the
 * same fd for sockets), -1 when nobody is connected. char.c does all reading and
 * writing; a backend only opens, connects and re-listens.
 */
#ifndef GODWIT_CHAR_INTERNAL_H
#define GODWIT_CHAR_INTERNAL_H

#include "chardev/char.h"
#include "util/aio.h"

typedef struct ChardevClass {
    const char *name;
    /* Open the backend from its options; chr->id is set. */
    bool (*open)(Chardev *chr, QDict *opts, Error **errp);
    /* The peer went away (fds already closed): e.g. listen again. Optional. */
    void (*hangup)(Chardev *chr);
    /* Free backend state (fds of the peer are closed by char.c). Optional. */
    void (*close)(Chardev *chr);
} ChardevClass;

struct Chardev {
    /* set at creation */
    char *id;
    const ChardevClass *cls;
    void *be_opaque;            /* backend state */

    /* the current peer */
    int in_fd;                  /* -1: no input */
    int out_fd;                 /* -1: no output (null, or disconnected) */
    bool in_pollable;           /* else read from a bottom half (regular files) */
    bool out_pollable;          /* else write synchronously (regular files, ttys' peers) */
    bool is_socket;             /* recvmsg/send with SCM_RIGHTS and MSG_NOSIGNAL */
    bool own_fds;               /* close fds on hangup (not stdin/stdout) */
    bool connected;
    GByteArray *outbuf;         /* output the peer has not taken yet */
    int msgfd;                  /* fd received with the last input, or -1 */

    /* the frontend */
    CharReadFunc *fe_read;
    CharEventFunc *fe_event;
    void *fe_opaque;
    bool accept_input;
    QEMUBH *bh;                 /* delivers OPENED, reads non-pollable input */
    bool open_pending;          /* OPENED not yet delivered */
    bool closing;               /* exiting: do not listen again */
};

/* Backends call this when a peer is there (creation, accept, connect). */
void chr_connected(Chardev *chr, int in_fd, int out_fd, bool is_socket, bool own_fds);
/* Drop the peer: close its fds, discard output, tell the frontend, call cls->hangup. */
void chr_hangup(Chardev *chr);
/* True if fd can be watched with epoll (pipes, sockets, terminals). */
bool chr_fd_is_pollable(int fd);

extern const ChardevClass chardev_socket_class;
extern const ChardevClass chardev_stdio_class;
extern const ChardevClass chardev_file_class;
extern const ChardevClass chardev_pipe_class;
extern const ChardevClass chardev_null_class;

#endif /* GODWIT_CHAR_INTERNAL_H */
