/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QString: an immutable string value.
 */
#include "util/osdep.h"
#include "qobject/qstring.h"

void qstring_destroy_obj(QObject *obj);

static QString *qstring_take(char *str, size_t length)
{
    QString *qs = g_new(QString, 1);

    qobject_init(QOBJECT(qs), QTYPE_QSTRING);
    qs->string = str;
    qs->length = length;
    return qs;
}

QString *qstring_new(void)
{
    return qstring_take(g_strdup(""), 0);
}

QString *qstring_from_str(const char *str)
{
    return qstring_from_substr(str, 0, strlen(str));
}

QString *qstring_from_substr(const char *str, size_t start, size_t end)
{
    char *copy;

    assert(start <= end);
    copy = g_strndup(str + start, end - start);     /* stops early at a NUL */
    return qstring_take(copy, strlen(copy));
}

QString *qstring_from_gstring(GString *gstr)
{
    size_t len = strlen(gstr->str);     /* an embedded NUL ends the string */

    return qstring_take(g_string_free(gstr, false), len);
}

const char *qstring_get_str(const QString *qstring)
{
    return qstring->string;
}

size_t qstring_get_length(const QString *qstring)
{
    return qstring->length;
}

void qstring_destroy_obj(QObject *obj)
{
    QString *qs = qobject_to(QString, obj);

    g_free(qs->string);
    g_free(qs);
}
