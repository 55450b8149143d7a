/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for the streaming JSON parser (what QMP reads from a socket) and
 * the writer: the input is fed whole, then byte by byte, then in chunks whose
 * sizes come from the input itself; every parsed value is written back compactly
 * and pretty, re-parsed, and must compare equal; everything is freed (ASan
 * checks for leaks). The same bytes also go through keyval_parse.
 */
#include "util/osdep.h"
#include "qobject/json-parser.h"
#include "qobject/keyval.h"
#include "qobject/qjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct FuzzState {
    unsigned values;
    unsigned errors;
} FuzzState;

static void fuzz_check_round_trip(QObject *json)
{
    GString *compact = qobject_to_json(json);
    GString *pretty = qobject_to_json_pretty(json, true);
    Error *err = NULL;
    QObject *again = qobject_from_json(compact->str, &err);

    /* the writer emits only valid JSON; doubles like inf are the one exception */
    if (again) {
        if (!strstr(compact->str, "inf") && !strstr(compact->str, "nan")) {
            assert(qobject_is_equal(json, again));
        }
    } else {
        assert(strstr(compact->str, "inf") || strstr(compact->str, "nan"));
        error_free(err);
    }
    qobject_unref(again);
    g_string_free(compact, true);
    g_string_free(pretty, true);
}

static void fuzz_emit(void *opaque, QObject *json, Error *err)
{
    FuzzState *s = opaque;

    assert(!json != !err);
    if (json) {
        s->values++;
        fuzz_check_round_trip(json);
        qobject_unref(json);
    } else {
        s->errors++;
        assert(error_get_pretty(err)[0]);
        error_free(err);
    }
}

static FuzzState fuzz_feed(const uint8_t *data, size_t size, size_t chunk)
{
    FuzzState s = { 0 };
    JSONMessageParser parser;

    json_message_parser_init(&parser, fuzz_emit, &s);
    for (size_t off = 0; off < size;) {
        size_t n = chunk ? MIN(chunk, size - off) : size;
        json_message_parser_feed(&parser, (const char *)data + off, n);
        off += n;
    }
    json_message_parser_flush(&parser);
    json_message_parser_destroy(&parser);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzState whole, bytes;

    whole = fuzz_feed(data, size, 0);
    bytes = fuzz_feed(data, size, 1);
    /* chunking must not change what the stream contains */
    assert(whole.values == bytes.values && whole.errors == bytes.errors);
    if (size) {
        fuzz_feed(data, size, 1 + data[0] % 13);
    }

    /* keyval over the same bytes, as a C string */
    if (size < 4096) {
        char *str = g_strndup((const char *)data, size);
        Error *err = NULL;
        bool help;
        QDict *d = keyval_parse(str, size & 1 ? "driver" : NULL, &help, &err);
        assert(!d != !err);
        qobject_unref(d);
        error_free(err);
        g_free(str);
    }
    return 0;
}
