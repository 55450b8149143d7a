/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Builtin-type visitors and path helpers for the generated QAPI code
 * (contract in include/qapi/qapi-runtime.h).
 */
#include "util/osdep.h"
#include "util/cutils.h"
#include "qapi/qapi-runtime.h"

char *qapi_path(const char *parent, const char *member)
{
    return parent ? g_strdup_printf("%s.%s", parent, member) : g_strdup(member);
}

char *qapi_path_index(const char *parent, int index)
{
    return g_strdup_printf("%s[%d]", parent ? parent : "", index);
}

void qapi_err_missing(Error **errp, const char *parent, const char *member)
{
    g_autofree char *p = qapi_path(parent, member);
    error_setg(errp, "Parameter '%s' is missing", p);
}

void qapi_err_type(Error **errp, const char *path, const char *expected)
{
    error_setg(errp, "Invalid parameter type for '%s', expected: %s", path ? path : "null",
               expected);
}

static void qapi_err_value(Error **errp, const char *path, const char *expected)
{
    error_setg(errp, "Parameter '%s' expects %s", path ? path : "null", expected);
}

QDict *qapi_in_dict(QObject *obj, const char *path, Error **errp)
{
    QDict *dict = qobject_to(QDict, obj);

    if (!dict) {
        qapi_err_type(errp, path, "object");
        return NULL;
    }
    return qdict_clone_shallow(dict);
}

bool qapi_check_unexpected(QDict *dict, const char *path, Error **errp)
{
    const QDictEntry *e = dict ? qdict_first(dict) : NULL;

    if (e) {
        g_autofree char *p = qapi_path(path, qdict_entry_key(e));
        error_setg(errp, "Parameter '%s' is unexpected", p);
        return false;
    }
    return true;
}

bool qapi_keyval_input;

/* In keyval mode (-blockdev key=value), scalars arrive as strings. */
static const char *keyval_str(QObject *obj)
{
    QString *s = qapi_keyval_input ? qobject_to(QString, obj) : NULL;

    return s ? qstring_get_str(s) : NULL;
}

bool qapi_in_str(QObject *obj, const char *path, char **out, Error **errp)
{
    QString *s = qobject_to(QString, obj);

    if (!s) {
        qapi_err_type(errp, path, "string");
        return false;
    }
    *out = g_strdup(qstring_get_str(s));
    return true;
}

bool qapi_in_number(QObject *obj, const char *path, double *out, Error **errp)
{
    QNum *n = qobject_to(QNum, obj);
    const char *kv = keyval_str(obj);

    if (kv) {
        char *end;
        *out = strtod(kv, &end);
        if (!*kv || *end) {
            error_setg(errp, "Parameter '%s' expects number", path ? path : "null");
            return false;
        }
        return true;
    }
    if (!n) {
        qapi_err_type(errp, path, "number");
        return false;
    }
    *out = qnum_get_double(n);
    return true;
}

bool qapi_in_bool(QObject *obj, const char *path, bool *out, Error **errp)
{
    QBool *b = qobject_to(QBool, obj);
    const char *kv = keyval_str(obj);

    if (kv) {
        if (!strcmp(kv, "on") || !strcmp(kv, "yes") || !strcmp(kv, "true") ||
            !strcmp(kv, "y")) {
            *out = true;
        } else if (!strcmp(kv, "off") || !strcmp(kv, "no") || !strcmp(kv, "false") ||
                   !strcmp(kv, "n")) {
            *out = false;
        } else {
            error_setg(errp, "Parameter '%s' expects 'on' or 'off'", path ? path : "null");
            return false;
        }
        return true;
    }
    if (!b) {
        qapi_err_type(errp, path, "boolean");
        return false;
    }
    *out = qbool_get_bool(b);
    return true;
}

bool qapi_in_null(QObject *obj, const char *path, QNull **out, Error **errp)
{
    if (qobject_type(obj) != QTYPE_QNULL) {
        qapi_err_type(errp, path, "null");
        return false;
    }
    *out = qnull();
    return true;
}

bool qapi_in_any(QObject *obj, const char *path, QObject **out, Error **errp)
{
    *out = qobject_ref(obj);
    return true;
}

bool qapi_in_int(QObject *obj, const char *path, int64_t *out, Error **errp)
{
    QNum *n = qobject_to(QNum, obj);
    const char *kv = keyval_str(obj);

    if (kv) {
        if (qemu_strtoi64(kv, NULL, 0, out) < 0) {
            error_setg(errp, "Parameter '%s' expects integer", path ? path : "null");
            return false;
        }
        return true;
    }

    if (!n || !qnum_get_try_int(n, out)) {
        qapi_err_type(errp, path, "integer");
        return false;
    }
    return true;
}

bool qapi_in_int64(QObject *obj, const char *path, int64_t *out, Error **errp)
{
    return qapi_in_int(obj, path, out, errp);
}

/* A signed value that must fit [min, max]; QEMU names the type on overflow. */
static bool in_int_range(QObject *obj, const char *path, int64_t min, int64_t max,
                         const char *tname, int64_t *out, Error **errp)
{
    if (!qapi_in_int(obj, path, out, errp)) {
        return false;
    }
    if (*out < min || *out > max) {
        qapi_err_value(errp, path, tname);
        return false;
    }
    return true;
}

bool qapi_in_uint64(QObject *obj, const char *path, uint64_t *out, Error **errp)
{
    QNum *n = qobject_to(QNum, obj);
    const char *kv = keyval_str(obj);
    int64_t v;

    if (kv) {
        if (qemu_strtou64(kv, NULL, 0, out) < 0) {
            error_setg(errp, "Parameter '%s' expects integer", path ? path : "null");
            return false;
        }
        return true;
    }
    if (n && qnum_get_try_uint(n, out)) {
        return true;
    }
    /* Negative numbers are accepted and wrap around, as QEMU does for compatibility. */
    if (n && qnum_get_try_int(n, &v)) {
        *out = (uint64_t)v;
        return true;
    }
    qapi_err_value(errp, path, "uint64");
    return false;
}

bool qapi_in_size(QObject *obj, const char *path, uint64_t *out, Error **errp)
{
    const char *kv = keyval_str(obj);

    if (kv) {
        if (qemu_strtosz(kv, NULL, out) < 0) {
            error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64",
                       path ? path : "null");
            error_append_hint(errp, "Optional suffix k, M, G, T, P or E means kilo-, mega-, "
                              "giga-, tera-, peta-\nand exabytes, respectively.\n");
            return false;
        }
        return true;
    }
    return qapi_in_uint64(obj, path, out, errp);
}

static bool in_uint_range(QObject *obj, const char *path, uint64_t max, const char *tname,
                          uint64_t *out, Error **errp)
{
    if (!qapi_in_uint64(obj, path, out, errp)) {
        return false;
    }
    if (*out > max) {
        qapi_err_value(errp, path, tname);
        return false;
    }
    return true;
}

#define DEFINE_IN_INT(name, ctype, min, max)                                        \
    bool qapi_in_##name(QObject *obj, const char *path, ctype *out, Error **errp)   \
    {                                                                               \
        int64_t v;                                                                  \
        if (!in_int_range(obj, path, min, max, #ctype, &v, errp)) {                 \
            return false;                                                           \
        }                                                                           \
        *out = (ctype)v;                                                            \
        return true;                                                                \
    }
#define DEFINE_IN_UINT(name, ctype, max)                                            \
    bool qapi_in_##name(QObject *obj, const char *path, ctype *out, Error **errp)   \
    {                                                                               \
        uint64_t v;                                                                 \
        if (!in_uint_range(obj, path, max, #ctype, &v, errp)) {                     \
            return false;                                                           \
        }                                                                           \
        *out = (ctype)v;                                                            \
        return true;                                                                \
    }

DEFINE_IN_INT(int8, int8_t, INT8_MIN, INT8_MAX)
DEFINE_IN_INT(int16, int16_t, INT16_MIN, INT16_MAX)
DEFINE_IN_INT(int32, int32_t, INT32_MIN, INT32_MAX)
DEFINE_IN_UINT(uint8, uint8_t, UINT8_MAX)
DEFINE_IN_UINT(uint16, uint16_t, UINT16_MAX)
DEFINE_IN_UINT(uint32, uint32_t, UINT32_MAX)

int qapi_enum_parse(const char *const lookup[], const char *name)
{
    for (int i = 0; lookup[i]; i++) {
        if (!strcmp(lookup[i], name)) {
            return i;
        }
    }
    return -1;
}

bool qapi_in_enum(QObject *obj, const char *path, const char *const lookup[], int max,
                  int *out, Error **errp)
{
    QString *s = qobject_to(QString, obj);
    int i;

    if (!s) {
        qapi_err_type(errp, path, "string");
        return false;
    }
    i = qapi_enum_parse(lookup, qstring_get_str(s));
    if (i < 0 || i >= max) {
        /* QEMU names the member itself here, not its path; list elements are "null" */
        const char *name = path ? strrchr(path, '.') : NULL;
        name = name ? name + 1 : path;
        if (name && name[strlen(name) - 1] == ']') {
            name = NULL;
        }
        error_setg(errp, "Parameter '%s' does not accept value '%s'", name ? name : "null",
                   qstring_get_str(s));
        return false;
    }
    *out = i;
    return true;
}

QObject *qapi_out_str(const char *s)
{
    return QOBJECT(qstring_from_str(s ? s : ""));
}

QObject *qapi_out_number(double v)
{
    return QOBJECT(qnum_from_double(v));
}

QObject *qapi_out_bool(bool v)
{
    return QOBJECT(qbool_from_bool(v));
}

QObject *qapi_out_null(const QNull *v)
{
    return QOBJECT(qnull());
}

QObject *qapi_out_any(const QObject *v)
{
    return v ? qobject_ref((QObject *)v) : QOBJECT(qnull());
}

QObject *qapi_out_int(int64_t v)    { return QOBJECT(qnum_from_int(v)); }
QObject *qapi_out_int8(int8_t v)    { return QOBJECT(qnum_from_int(v)); }
QObject *qapi_out_int16(int16_t v)  { return QOBJECT(qnum_from_int(v)); }
QObject *qapi_out_int32(int32_t v)  { return QOBJECT(qnum_from_int(v)); }
QObject *qapi_out_int64(int64_t v)  { return QOBJECT(qnum_from_int(v)); }
QObject *qapi_out_uint8(uint8_t v)  { return QOBJECT(qnum_from_uint(v)); }
QObject *qapi_out_uint16(uint16_t v) { return QOBJECT(qnum_from_uint(v)); }
QObject *qapi_out_uint32(uint32_t v) { return QOBJECT(qnum_from_uint(v)); }
QObject *qapi_out_uint64(uint64_t v) { return QOBJECT(qnum_from_uint(v)); }
QObject *qapi_out_size(uint64_t v)  { return QOBJECT(qnum_from_uint(v)); }

static QAPIEventHook *event_hook;

void qapi_event_set_hook(QAPIEventHook *hook)
{
    event_hook = hook;
}

void qapi_event_emit(int event, QDict *data)
{
    if (event_hook) {
        gint64 now = g_get_real_time();
        event_hook(QAPIEvent_lookup[event], data, now / G_USEC_PER_SEC, now % G_USEC_PER_SEC);
    }
    if (data) {
        qobject_unref(data);
    }
}
