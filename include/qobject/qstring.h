/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qstring.h: an immutable NUL-terminated string value.
 *
 * Text from the JSON parser is UTF-8, except that U+0000 (from "\u0000") is stored
 * as the two bytes C0 80 ("modified UTF-8") so that the C string has no embedded
 * NUL; the JSON writer turns C0 80 back into \u0000. Other callers may store any
 * bytes; the writer replaces invalid UTF-8 with U+FFFD.
 */
#ifndef GODWIT_QSTRING_H
#define GODWIT_QSTRING_H

#include "qobject/qobject.h"

struct QString {
    struct QObjectBase_ base;
    size_t length;          /* strlen(string) */
    char *string;
};

QString *qstring_new(void);                                 /* "" */
QString *qstring_from_str(const char *str);                 /* copies str */
/* Copy of str[start, end): end is exclusive. */
QString *qstring_from_substr(const char *str, size_t start, size_t end);
/* Takes over the contents of gstr and frees the GString itself. */
QString *qstring_from_gstring(GString *gstr);

/* Borrowed: valid while qstring is alive. */
const char *qstring_get_str(const QString *qstring);
size_t qstring_get_length(const QString *qstring);

static inline void qstring_unref(QString *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QString, qstring_unref)

#endif /* GODWIT_QSTRING_H */
