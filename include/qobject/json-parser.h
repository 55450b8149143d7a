/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * json-parser.h: the streaming JSON message parser, what QMP reads a socket with.
 *
 * Feed it bytes in chunks of any size; it calls emit() once per complete top-level
 * JSON value ("message"), or once per error, in input order:
 *     emit(opaque, json, NULL)   json: a new reference the callee owns
 *     emit(opaque, NULL, err)    err: a new Error the callee owns
 * A message may span lines and chunks; several messages may share a chunk. A
 * top-level number or keyword is complete only when the next byte arrives (or on
 * json_message_parser_flush()).
 *
 * Dialect: RFC 8259 plus single-quoted strings and the \' escape (json-lexer.h).
 * Integers become int64 if they fit, else uint64, else double (qnum.h). Strings
 * must be valid UTF-8; "\u0000" is stored as C0 80 (qstring.h). Duplicate keys
 * in an object are an error.
 *
 * Errors, in QEMU's words:
 *   "JSON parse error, <detail>"      grammar; details as QEMU's ("expecting value",
 *                                     "premature EOI", "duplicate key", ...)
 *   "JSON parse error, stray '<text>'" a lexical error (then resynchronisation,
 *                                     see json-lexer.h)
 *   "JSON token size limit exceeded"  a token, or all tokens of one message
 *                                     together, exceed 64 MiB
 *   "JSON token count limit exceeded" more than 2 Mi tokens in one message
 *   "JSON nesting depth limit exceeded" more than 1024 open brackets/braces
 * After an error the tokens of the failed message are dropped; after a limit
 * error the lexer also drops input up to the next control byte (e.g. newline).
 *
 * Threads: one parser per stream, used by one thread at a time. emit() runs
 * synchronously inside feed()/flush(); it must not feed the same parser.
 */
#ifndef GODWIT_JSON_PARSER_H
#define GODWIT_JSON_PARSER_H

#include "qobject/qobject.h"
#include "qobject/json-lexer.h"
#include "util/error.h"

#define JSON_MAX_MESSAGE_SIZE   (64 * MiB)
#define JSON_MAX_TOKEN_COUNT    (2 * 1024 * 1024)
#define JSON_MAX_NESTING        1024

typedef void JSONMessageEmit(void *opaque, QObject *json, Error *err);

typedef struct JSONMessageParser {
    JSONMessageEmit *emit;
    void *opaque;
    JSONLexer lexer;
    /* private: the message being collected */
    int brace_count;
    int bracket_count;
    GPtrArray *tokens;          /* JSONToken *, see json-parser.c */
    uint64_t token_size;
} JSONMessageParser;

void json_message_parser_init(JSONMessageParser *parser, JSONMessageEmit *emit,
                              void *opaque);
void json_message_parser_feed(JSONMessageParser *parser, const char *buf, size_t size);
/* End of input: complete a pending top-level number/keyword and report an
 * incomplete message as an error. The parser can be fed again afterwards. */
void json_message_parser_flush(JSONMessageParser *parser);
void json_message_parser_destroy(JSONMessageParser *parser);

#endif /* GODWIT_JSON_PARSER_H */
