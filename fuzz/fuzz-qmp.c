/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for what a QMP client can send: the bytes go through the streaming
 * JSON parser (in chunks whose sizes the input's first byte picks), and every
 * parsed message is dispatched through qmp_dispatch against the real command
 * table, first in negotiation mode, then in command mode; every reply must be a
 * dict with exactly one of "return" or "error", and serialise. Commands with
 * effects outside the process (quit) only set flags here.
 */
#include "util/osdep.h"
#include "qobject/json-parser.h"
#include "qobject/qjson.h"
#include "qapi/qmp-dispatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_reply(QDict *rsp)
{
    GString *json;

    assert(rsp);
    assert(!!qdict_haskey(rsp, "return") + !!qdict_haskey(rsp, "error") == 1);
    json = qobject_to_json(QOBJECT(rsp));
    assert(json->len > 0);
    g_string_free(json, true);
    qobject_unref(rsp);
}

static void fuzz_emit(void *opaque, QObject *json, Error *err)
{
    if (err) {
        fuzz_check_reply(qmp_error_response(err));
        return;
    }
    fuzz_check_reply(qmp_dispatch(json, QMP_MODE_NEGOTIATION, false));
    fuzz_check_reply(qmp_dispatch(json, QMP_MODE_COMMAND, true));
    qobject_unref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JSONMessageParser parser;
    size_t chunk = size ? (data[0] % 17) + 1 : 1;

    json_message_parser_init(&parser, fuzz_emit, NULL);
    for (size_t off = 0; off < size; off += chunk) {
        json_message_parser_feed(&parser, (const char *)data + off, MIN(chunk, size - off));
    }
    json_message_parser_flush(&parser);
    json_message_parser_destroy(&parser);
    return 0;
}
