/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qjson.h: one-shot conversions between QObjects and JSON text.
 *
 * Parsing uses the dialect and error texts of json-parser.h. Writing follows
 * QEMU's output byte for byte (spec/iotests-harness.md §2.3):
 *   compact  {"a": 1, "b": [1, 2], "c": {}}    separators ": " and ", "
 *   pretty   4-space indent, one member per line, "key": value; an empty dict is
 *            "{" newline indent "}" and an empty list "[" newline indent "]"
 *            (so {"return": {}} prints as "{\n    \"return\": {\n    }\n}")
 * Members come in QDict iteration order (qdict.h). Integers print in decimal,
 * doubles with "%.17g" (0.5 -> 0.5, 1.0 -> 1, 0.1 -> 0.10000000000000001,
 * 1e100 -> 1e+100; inf and nan print as such, as in QEMU). Strings are ASCII
 * only: \" \\ \b \f \n \r \t, other bytes below 0x20 and all of 0x7F and above as
 * \uXXXX (upper-case hex, surrogate pairs beyond U+FFFF), invalid UTF-8 as \uFFFD.
 * '/' is not escaped.
 *
 * Threads: any; the functions keep no state.
 */
#ifndef GODWIT_QJSON_H
#define GODWIT_QJSON_H

#include "qobject/qobject.h"
#include "qobject/qdict.h"
#include "util/error.h"

/*
 * Parse exactly one JSON value from string. Returns a new reference, or NULL with
 * *errp set on a syntax error or when string holds more than one value ("Expecting
 * at most one JSON value"). An empty or all-whitespace string returns NULL
 * without an error.
 */
QObject *qobject_from_json(const char *string, Error **errp);
/* As qobject_from_json, but the value must be an object ("JSON value is not an
 * object" otherwise, and for empty input). */
QDict *qdict_from_json(const char *string, Error **errp);

/* New GString holding obj in compact form; the caller frees it (g_string_free). */
GString *qobject_to_json(const QObject *obj);
/* As qobject_to_json, or pretty-printed if pretty. */
GString *qobject_to_json_pretty(const QObject *obj, bool pretty);
/* Append obj to out; indent_level is the depth of obj in an enclosing pretty
 * document (0 at top level). */
void qobject_to_json_append(GString *out, const QObject *obj, bool pretty,
                            int indent_level);
/* Append str as a quoted JSON string. */
void json_append_quoted(GString *out, const char *str);

#endif /* GODWIT_QJSON_H */
