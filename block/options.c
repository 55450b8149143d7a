/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * options.c: take typed values out of a node's flat option QDict. Values arrive
 * as strings (command line, keyval) or as JSON scalars (json:{}, QMP); both are
 * accepted. Taking a key removes it, which is how open.c knows it was understood.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/block-int.h"

char *bdrv_opt_take_str(QDict *options, const char *key)
{
    QObject *v = qdict_get(options, key);
    char *s = NULL;

    if (!v) {
        return NULL;
    }
    switch (qobject_type(v)) {
    case QTYPE_QSTRING:
        s = g_strdup(qstring_get_str(qobject_to(QString, v)));
        break;
    case QTYPE_QNUM:
        s = qnum_to_string(qobject_to(QNum, v));
        break;
    case QTYPE_QBOOL:
        s = g_strdup(qbool_get_bool(qobject_to(QBool, v)) ? "on" : "off");
        break;
    default:
        return NULL;            /* dicts, lists, null: not a string option; leave it */
    }
    qdict_del(options, key);
    return s;
}

bool bdrv_opt_take_bool(QDict *options, const char *key, bool def, bool *out, Error **errp)
{
    QObject *v = qdict_get(options, key);
    const char *s;

    *out = def;
    if (!v) {
        return true;
    }
    if (qobject_type(v) == QTYPE_QBOOL) {
        *out = qbool_get_bool(qobject_to(QBool, v));
        qdict_del(options, key);
        return true;
    }
    s = qobject_type(v) == QTYPE_QSTRING ? qstring_get_str(qobject_to(QString, v)) : NULL;
    if (s && (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "y"))) {
        *out = true;
    } else if (s && (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false")
                     || !strcmp(s, "n"))) {
        *out = false;
    } else {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    qdict_del(options, key);
    return true;
}

bool bdrv_opt_take_uint(QDict *options, const char *key, uint64_t def, uint64_t *out,
                        Error **errp)
{
    QObject *v = qdict_get(options, key);

    *out = def;
    if (!v) {
        return true;
    }
    if (qobject_type(v) == QTYPE_QNUM) {
        if (!qnum_get_try_uint(qobject_to(QNum, v), out)) {
            error_setg(errp, "Parameter '%s' expects a non-negative number", key);
            return false;
        }
    } else if (qobject_type(v) == QTYPE_QSTRING) {
        const char *s = qstring_get_str(qobject_to(QString, v));
        char *end;
        errno = 0;
        if (!g_ascii_isdigit(*s)) {
            error_setg(errp, "Parameter '%s' expects a non-negative number", key);
            return false;
        }
        *out = g_ascii_strtoull(s, &end, 0);
        if (errno || *end) {
            error_setg(errp, "Parameter '%s' expects a non-negative number", key);
            return false;
        }
    } else {
        error_setg(errp, "Parameter '%s' expects a non-negative number", key);
        return false;
    }
    qdict_del(options, key);
    return true;
}

/* "1M", "512", "1.5G": binary suffixes k M G T P E (also lower case), bytes "b"/"B". */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    double d;
    uint64_t mul = 1;

    if (!g_ascii_isdigit(*s) && *s != '.') {
        return false;
    }
    errno = 0;
    d = g_ascii_strtod(s, &end);
    if (errno || end == s || d < 0) {
        return false;
    }
    switch (g_ascii_toupper(*end)) {
    case 'B': mul = 1; end++; break;
    case 'K': mul = KiB; end++; break;
    case 'M': mul = MiB; end++; break;
    case 'G': mul = GiB; end++; break;
    case 'T': mul = TiB; end++; break;
    case 'P': mul = PiB; end++; break;
    case 'E': mul = EiB; end++; break;
    case '\0': break;
    default: return false;
    }
    if (*end || d * mul >= 18446744073709551616.0) {
        return false;
    }
    /* fractions are only exact enough with a suffix; plain numbers go through strtoull */
    if (mul == 1 && !strchr(s, '.')) {
        *out = g_ascii_strtoull(s, NULL, 10);
    } else {
        *out = (uint64_t)(d * mul);
    }
    return true;
}

bool bdrv_opt_take_size(QDict *options, const char *key, uint64_t def, uint64_t *out,
                        Error **errp)
{
    QObject *v = qdict_get(options, key);

    *out = def;
    if (!v) {
        return true;
    }
    if (qobject_type(v) == QTYPE_QNUM) {
        if (!qnum_get_try_uint(qobject_to(QNum, v), out)) {
            goto fail;
        }
    } else if (qobject_type(v) != QTYPE_QSTRING
               || !parse_size(qstring_get_str(qobject_to(QString, v)), out)) {
        goto fail;
    }
    qdict_del(options, key);
    return true;
fail:
    error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64", key);
    error_append_hint(errp, "Optional suffix k, M, G, T, P or E means kilo-, mega-, "
                      "giga-, tera-, peta-\nand exabytes, respectively.\n");
    return false;
}
