/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qmp-dispatch.h: run one QMP request against the generated command table and
 * build the reply, following the QMP specification (docs/interop/qmp-spec):
 *   {"execute": NAME, "arguments": {...}, "id": ANY} -> {"return": X, "id": ...}
 *                                                     or {"error": {"class", "desc"}, "id": ...}
 * Request-shape errors use QEMU's texts ("QMP input must be a JSON object",
 * "QMP input member 'arguments' must be an object", "The command X has not been
 * found" (CommandNotFound), ...).
 *
 * Threads: main loop only (handlers touch the block graph).
 */
#ifndef GODWIT_QMP_DISPATCH_H
#define GODWIT_QMP_DISPATCH_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

typedef void QmpCommandFunc(QDict *args, QObject **ret, Error **errp);

enum {
    QCO_ALLOW_OOB  = 1 << 0,
    QCO_COROUTINE  = 1 << 1,
    QCO_DEPRECATED = 1 << 2,
};

typedef struct QmpCommand {
    const char *name;
    QmpCommandFunc *fn;
    unsigned options;
} QmpCommand;

/* The generated table (build/qapi/qapi-commands.c), sorted by name. */
extern const QmpCommand qmp_commands[];
extern const size_t qmp_commands_count;

const QmpCommand *qmp_find_command(const char *name);

/*
 * What the monitor allows right now: in capabilities-negotiation mode only
 * qmp_capabilities runs; after negotiation qmp_capabilities is refused.
 */
typedef enum QmpDispatchMode {
    QMP_MODE_NEGOTIATION,
    QMP_MODE_COMMAND,
} QmpDispatchMode;

/*
 * Execute request (a parsed JSON value) and return the reply dict (new
 * reference). oob_enabled: the session negotiated "oob" (exec-oob allowed).
 */
QDict *qmp_dispatch(QObject *request, QmpDispatchMode mode, bool oob_enabled);

/* A reply for a request that could not even be parsed (JSON error). */
QDict *qmp_error_response(Error *err);

#endif /* GODWIT_QMP_DISPATCH_H */
