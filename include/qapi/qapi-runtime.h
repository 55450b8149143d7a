/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qapi-runtime.h: what the generated QAPI code (build/qapi/qapi-*.c, made by
 * scripts/qapi-gen from qapi/schema.json) calls: visitors for builtin types with
 * QEMU's error texts, member-path helpers, and the event emission hook.
 *
 * Input visitors read a QObject (usually a command's "arguments" dict) into C
 * values and fail with QEMU's messages:
 *   "Parameter 'x' is missing"
 *   "Parameter 'x' is unexpected"
 *   "Invalid parameter type for 'x', expected: integer"
 *   "Parameter 'x' expects uint8"                     (out of range)
 *   "Parameter 'x' does not accept value 'y'"         (enums)
 * where 'x' is the member's full path ("options.file.driver", "bitmaps[1]").
 *
 * Threads: no state; any thread.
 */
#ifndef GODWIT_QAPI_RUNTIME_H
#define GODWIT_QAPI_RUNTIME_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

/* "parent.member" (or "member" at the top); g_free the result. */
char *qapi_path(const char *parent, const char *member);
/* "parent[index]". */
char *qapi_path_index(const char *parent, int index);

void qapi_err_missing(Error **errp, const char *parent, const char *member);
void qapi_err_type(Error **errp, const char *path, const char *expected);

/*
 * A shallow copy of obj as a dict the visitor may consume (members are deleted as
 * they are read, so what remains is unexpected); NULL + error if obj is no dict.
 */
QDict *qapi_in_dict(QObject *obj, const char *path, Error **errp);
/* Fail with "Parameter 'x' is unexpected" if dict still has members. */
bool qapi_check_unexpected(QDict *dict, const char *path, Error **errp);

/*
 * Keyval mode, for command-line options parsed by keyval_parse (-blockdev
 * key=value): scalar members arrive as strings and the builtin visitors parse
 * them as QEMU's keyval visitor does ("Parameter 'x' expects integer").
 * Set it around one qapi_in_*() call, main loop only.
 */
extern bool qapi_keyval_input;

/* Builtin input visitors. */
bool qapi_in_str(QObject *obj, const char *path, char **out, Error **errp);
bool qapi_in_number(QObject *obj, const char *path, double *out, Error **errp);
bool qapi_in_bool(QObject *obj, const char *path, bool *out, Error **errp);
bool qapi_in_null(QObject *obj, const char *path, QNull **out, Error **errp);
bool qapi_in_any(QObject *obj, const char *path, QObject **out, Error **errp);
bool qapi_in_int(QObject *obj, const char *path, int64_t *out, Error **errp);
bool qapi_in_int8(QObject *obj, const char *path, int8_t *out, Error **errp);
bool qapi_in_int16(QObject *obj, const char *path, int16_t *out, Error **errp);
bool qapi_in_int32(QObject *obj, const char *path, int32_t *out, Error **errp);
bool qapi_in_int64(QObject *obj, const char *path, int64_t *out, Error **errp);
bool qapi_in_uint8(QObject *obj, const char *path, uint8_t *out, Error **errp);
bool qapi_in_uint16(QObject *obj, const char *path, uint16_t *out, Error **errp);
bool qapi_in_uint32(QObject *obj, const char *path, uint32_t *out, Error **errp);
bool qapi_in_uint64(QObject *obj, const char *path, uint64_t *out, Error **errp);
bool qapi_in_size(QObject *obj, const char *path, uint64_t *out, Error **errp);
bool qapi_in_enum(QObject *obj, const char *path, const char *const lookup[], int max,
                  int *out, Error **errp);

/* Builtin output visitors: new references. */
QObject *qapi_out_str(const char *s);
QObject *qapi_out_number(double v);
QObject *qapi_out_bool(bool v);
QObject *qapi_out_null(const QNull *v);
QObject *qapi_out_any(const QObject *v);
QObject *qapi_out_int(int64_t v);
QObject *qapi_out_int8(int8_t v);
QObject *qapi_out_int16(int16_t v);
QObject *qapi_out_int32(int32_t v);
QObject *qapi_out_int64(int64_t v);
QObject *qapi_out_uint8(uint8_t v);
QObject *qapi_out_uint16(uint16_t v);
QObject *qapi_out_uint32(uint32_t v);
QObject *qapi_out_uint64(uint64_t v);
QObject *qapi_out_size(uint64_t v);

/* Index of name in a NULL-terminated lookup table, or -1. */
int qapi_enum_parse(const char *const lookup[], const char *name);

/*
 * Events. Generated qapi_event_send_*() build the data dict (members in schema
 * order; NULL when the event has none) and call qapi_event_emit(), which hands it to
 * the hook the monitor installed (with a timestamp taken here). No hook: dropped.
 * The hook does not take data's reference; qapi_event_emit frees it afterwards.
 */
typedef void QAPIEventHook(const char *event, QDict *data, int64_t seconds, int64_t usecs);
void qapi_event_set_hook(QAPIEventHook *hook);
/* `event` is a QAPIEvent (from the generated qapi-events.h). */
void qapi_event_emit(int event, QDict *data);
extern const char *const QAPIEvent_lookup[];

#endif /* GODWIT_QAPI_RUNTIME_H */
