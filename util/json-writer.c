/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * JSON writer: QObject -> text, byte-compatible with QEMU's output (the format
 * rules are in qjson.h; the iotests compare QMP replies and qemu-img output
 * literally).
 */
#include "util/osdep.h"
#include "qobject/qjson.h"
#include "qobject/json-lexer.h"

void json_append_quoted(GString *out, const char *str)
{
    static const char simple[] = "\"\"\\\\\bb\ff\nn\rr\tt";
    size_t n = strlen(str);
    const char *p = str, *end = str + n;

    g_string_append_c(out, '"');
    while (p < end) {
        size_t len;
        int cp = json_utf8_decode(p, end - p, &len);
        const char *e;

        p += len;
        if (cp < 0) {
            cp = 0xFFFD;        /* not UTF-8: the replacement character */
        }
        for (e = simple; *e && *e != cp; e += 2) {
        }
        if (cp && *e) {
            g_string_append_c(out, '\\');
            g_string_append_c(out, e[1]);
        } else if (cp > 0xFFFF) {
            g_string_append_printf(out, "\\u%04X\\u%04X",
                                   0xD800 + ((cp - 0x10000) >> 10),
                                   0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else if (cp < 0x20 || cp >= 0x7F) {
            g_string_append_printf(out, "\\u%04X", cp);
        } else {
            g_string_append_c(out, cp);
        }
    }
    g_string_append_c(out, '"');
}

static void append_newline(GString *out, bool pretty, int level)
{
    if (pretty) {
        g_string_append_printf(out, "\n%*s", level * 4, "");
    }
}

/* Between members: "," then a newline and indent (pretty) or a space. */
static void append_separator(GString *out, bool pretty, int level, bool first)
{
    if (!first) {
        g_string_append_c(out, ',');
        if (!pretty) {
            g_string_append_c(out, ' ');
        }
    }
    append_newline(out, pretty, level);
}

static void append_dict(GString *out, const QDict *dict, bool pretty, int level)
{
    bool first = true;

    g_string_append_c(out, '{');
    for (const QDictEntry *e = qdict_first(dict); e; e = qdict_next(dict, e)) {
        append_separator(out, pretty, level + 1, first);
        first = false;
        json_append_quoted(out, e->key);
        g_string_append(out, ": ");
        qobject_to_json_append(out, e->value, pretty, level + 1);
    }
    /* QEMU puts the newline before the closing brace even for an empty dict */
    append_newline(out, pretty, level);
    g_string_append_c(out, '}');
}

static void append_list(GString *out, const QList *list, bool pretty, int level)
{
    const QListEntry *e;
    bool first = true;

    g_string_append_c(out, '[');
    QLIST_FOREACH_ENTRY(list, e) {
        append_separator(out, pretty, level + 1, first);
        first = false;
        qobject_to_json_append(out, e->value, pretty, level + 1);
    }
    append_newline(out, pretty, level);
    g_string_append_c(out, ']');
}

void qobject_to_json_append(GString *out, const QObject *obj, bool pretty,
                            int indent_level)
{
    switch (qobject_type(obj)) {
    case QTYPE_QNULL:
        g_string_append(out, "null");
        break;
    case QTYPE_QBOOL:
        g_string_append(out, qbool_get_bool(qobject_to(QBool, obj)) ? "true" : "false");
        break;
    case QTYPE_QNUM: {
        g_autofree char *num = qnum_to_string(qobject_to(QNum, obj));
        g_string_append(out, num);
        break;
    }
    case QTYPE_QSTRING:
        json_append_quoted(out, qstring_get_str(qobject_to(QString, obj)));
        break;
    case QTYPE_QDICT:
        append_dict(out, qobject_to(QDict, obj), pretty, indent_level);
        break;
    case QTYPE_QLIST:
        append_list(out, qobject_to(QList, obj), pretty, indent_level);
        break;
    default:
        g_assert_not_reached();
    }
}

GString *qobject_to_json_pretty(const QObject *obj, bool pretty)
{
    GString *out = g_string_new(NULL);

    qobject_to_json_append(out, obj, pretty, 0);
    return out;
}

GString *qobject_to_json(const QObject *obj)
{
    return qobject_to_json_pretty(obj, false);
}
