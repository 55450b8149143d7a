/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * channel.h: opening migration channels from URIs (migration/channel.c):
 * tcp:HOST:PORT, unix:PATH, exec:CMD, fd:NAME. Main loop only.
 */
#ifndef GODWIT_MIGRATION_CHANNEL_H
#define GODWIT_MIGRATION_CHANNEL_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/sockets.h"

/* Outgoing: a connected, blocking fd, or -1 with errp set. */
int mig_channel_connect(const char *uri, Error **errp);

typedef struct MigListener MigListener;
/* Called once, in the main loop, with the connected fd (the callee owns it). */
typedef void MigAcceptFn(void *opaque, int fd);
/*
 * Incoming: listen (tcp, unix) and call cb on the first connection, or open
 * (exec, fd) and call cb before returning. NULL with errp set on failure.
 */
MigListener *mig_channel_listen(const char *uri, MigAcceptFn *cb, void *opaque, Error **errp);
/* The TCP port listened on (port 0 asked for one), or -1. */
int mig_listener_port(MigListener *l);
/* Where a tcp: or unix: listener listens (the real port for tcp:HOST:0); else NULL. */
SocketAddress *mig_listener_address(MigListener *l);
void mig_listener_free(MigListener *l);

#endif /* GODWIT_MIGRATION_CHANNEL_H */
