/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * JSON message parser, stages two and three (stage one is json-lexer.c):
 *
 *   bytes --lexer--> tokens --streamer--> one message's tokens --parser--> QObject
 *
 * The streamer counts open braces and brackets; when both are back to zero (or
 * one goes negative, which can only be an error) the collected tokens form one
 * message and are parsed by recursive descent. The nesting limit is enforced by
 * the streamer, so the recursion depth is bounded by JSON_MAX_NESTING.
 */
#include "util/osdep.h"
#include "qobject/json-parser.h"
#include "qobject/qjson.h"
#include "qobject/qdict.h"

typedef struct JSONToken {
    JSONTokenType type;
    char str[];         /* NUL-terminated text */
} JSONToken;

typedef struct JSONParserContext {
    JSONToken **tokens;
    guint count;
    guint pos;
    Error *err;         /* the first error wins */
} JSONParserContext;

static QObject *parse_value(JSONParserContext *ctxt);

static void GODWIT_PRINTF(2, 3) parse_error(JSONParserContext *ctxt, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    if (ctxt->err) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(&ctxt->err, "JSON parse error, %s", msg);
}

static JSONToken *peek_token(JSONParserContext *ctxt)
{
    return ctxt->pos < ctxt->count ? ctxt->tokens[ctxt->pos] : NULL;
}

static JSONToken *pop_token(JSONParserContext *ctxt)
{
    return ctxt->pos < ctxt->count ? ctxt->tokens[ctxt->pos++] : NULL;
}

static int hex4(const char *s)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        if (!g_ascii_isxdigit(s[i])) {
            return -1;
        }
        v = (v << 4) | g_ascii_xdigit_value(s[i]);
    }
    return v;
}

/* Decode a \uXXXX escape (or a surrogate pair) at *p, just after the 'u'. */
static bool parse_unicode_escape(JSONParserContext *ctxt, const char **p, GString *out)
{
    const char *begin = *p - 2;     /* the backslash */
    int cp = hex4(*p);

    *p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && (*p)[0] == '\\' && (*p)[1] == 'u') {
        int low = hex4(*p + 2);
        if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            *p += 6;
        }
    }
    if (!json_utf8_encode(out, cp)) {
        parse_error(ctxt, "%.*s is not a valid Unicode character", (int)(*p - begin), begin);
        return false;
    }
    return true;
}

static QObject *parse_string(JSONParserContext *ctxt, JSONToken *token)
{
    static const char escapes[] = "\"\"''\\\\//b\bf\fn\nr\rt\t";
    const char *p = token->str;
    char quote = *p++;
    g_autoptr(GString) out = g_string_new(NULL);

    while (*p != quote) {
        if (*p == '\\') {
            char c = p[1];
            const char *e;
            p += 2;
            if (c == 'u') {
                if (!parse_unicode_escape(ctxt, &p, out)) {
                    return NULL;
                }
                continue;
            }
            for (e = escapes; *e && *e != c; e += 2) {
            }
            if (!*e) {          /* the lexer only lets valid escapes through */
                parse_error(ctxt, "invalid escape sequence in string");
                return NULL;
            }
            g_string_append_c(out, e[1]);
        } else {
            size_t len;
            int cp = json_utf8_decode(p, strlen(p), &len);
            if (cp <= 0) {      /* a raw C0 80 is not accepted in input either */
                parse_error(ctxt, "invalid UTF-8 sequence in string");
                return NULL;
            }
            g_string_append_len(out, p, len);
            p += len;
        }
    }
    return QOBJECT(qstring_from_gstring(g_steal_pointer(&out)));
}

static QObject *parse_number(JSONToken *token)
{
    const char *s = token->str;
    char *end;

    if (token->type == JSON_INTEGER) {
        /* int64 if it fits, else uint64 if it fits, else double */
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (!errno && !*end) {
            return QOBJECT(qnum_from_int(i));
        }
        if (s[0] != '-') {
            errno = 0;
            unsigned long long u = strtoull(s, &end, 10);
            if (!errno && !*end) {
                return QOBJECT(qnum_from_uint(u));
            }
        }
    }
    return QOBJECT(qnum_from_double(g_ascii_strtod(s, NULL)));
}

static bool parse_pair(JSONParserContext *ctxt, QDict *dict)
{
    g_autoptr(QObject) key = NULL;
    QObject *value;
    JSONToken *token;

    if (!peek_token(ctxt)) {
        parse_error(ctxt, "premature EOI");
        return false;
    }
    key = parse_value(ctxt);
    if (!qobject_to(QString, key)) {
        parse_error(ctxt, "key is not a string in object");
        return false;
    }
    token = pop_token(ctxt);
    if (!token) {
        parse_error(ctxt, "premature EOI");
        return false;
    }
    if (token->type != JSON_COLON) {
        parse_error(ctxt, "missing : in object pair");
        return false;
    }
    value = parse_value(ctxt);
    if (!value) {
        parse_error(ctxt, "Missing value in dict");
        return false;
    }
    const char *name = qstring_get_str(qobject_to(QString, key));
    if (qdict_haskey(dict, name)) {
        qobject_unref(value);
        parse_error(ctxt, "duplicate key");
        return false;
    }
    qdict_put_obj(dict, name, value);
    return true;
}

/* A dict or a list: the opening token is already consumed. */
static QObject *parse_container(JSONParserContext *ctxt, bool is_dict)
{
    JSONTokenType close = is_dict ? JSON_RCURLY : JSON_RSQUARE;
    QDict *dict = is_dict ? qdict_new() : NULL;
    QList *list = is_dict ? NULL : qlist_new();
    g_autoptr(QObject) result = is_dict ? QOBJECT(dict) : QOBJECT(list);
    JSONToken *token = peek_token(ctxt);

    if (!token) {
        parse_error(ctxt, "premature EOI");
        return NULL;
    }
    if (token->type == close) {
        pop_token(ctxt);
        return g_steal_pointer(&result);
    }
    for (;;) {
        if (is_dict) {
            if (!parse_pair(ctxt, dict)) {
                return NULL;
            }
        } else {
            QObject *value = parse_value(ctxt);
            if (!value) {
                parse_error(ctxt, "expecting value");
                return NULL;
            }
            qlist_append_obj(list, value);
        }
        token = pop_token(ctxt);
        if (!token) {
            parse_error(ctxt, "premature EOI");
            return NULL;
        }
        if (token->type == close) {
            return g_steal_pointer(&result);
        }
        if (token->type != JSON_COMMA) {
            parse_error(ctxt, is_dict ? "expected separator in dict"
                                      : "expected separator in list");
            return NULL;
        }
    }
}

static QObject *parse_value(JSONParserContext *ctxt)
{
    JSONToken *token = pop_token(ctxt);

    if (!token) {
        parse_error(ctxt, "premature EOI");
        return NULL;
    }
    switch (token->type) {
    case JSON_LCURLY:
        return parse_container(ctxt, true);
    case JSON_LSQUARE:
        return parse_container(ctxt, false);
    case JSON_STRING:
        return parse_string(ctxt, token);
    case JSON_INTEGER:
    case JSON_FLOAT:
        return parse_number(token);
    case JSON_KEYWORD:
        if (!strcmp(token->str, "true")) {
            return QOBJECT(qbool_from_bool(true));
        } else if (!strcmp(token->str, "false")) {
            return QOBJECT(qbool_from_bool(false));
        } else if (!strcmp(token->str, "null")) {
            return QOBJECT(qnull());
        }
        parse_error(ctxt, "invalid keyword '%s'", token->str);
        return NULL;
    default:
        parse_error(ctxt, "expecting value");
        return NULL;
    }
}

/* Parse one message from the collected tokens; exactly one of the results is set. */
static QObject *parse_message(GPtrArray *tokens, Error **errp)
{
    JSONParserContext ctxt = {
        .tokens = (JSONToken **)tokens->pdata, .count = tokens->len,
    };
    QObject *result = parse_value(&ctxt);

    if (result && ctxt.pos != ctxt.count) {
        /* unreachable with the streamer's framing; kept for safety */
        parse_error(&ctxt, "expecting end of input");
    }
    if (ctxt.err) {
        qobject_unref(result);
        error_propagate(errp, ctxt.err);
        return NULL;
    }
    return result;
}

/* ---- streamer --------------------------------------------------------------- */

static void parser_reset(JSONMessageParser *parser)
{
    g_ptr_array_set_size(parser->tokens, 0);
    parser->brace_count = 0;
    parser->bracket_count = 0;
    parser->token_size = 0;
}

static void parser_emit_error(JSONMessageParser *parser, Error *err)
{
    parser_reset(parser);
    parser->emit(parser->opaque, NULL, err);
}

static void parser_emit_message(JSONMessageParser *parser)
{
    Error *err = NULL;
    QObject *json = parse_message(parser->tokens, &err);

    parser_reset(parser);
    parser->emit(parser->opaque, json, err);
}

static void parser_limit_error(JSONMessageParser *parser, const char *msg)
{
    Error *err = NULL;

    error_setg(&err, "%s", msg);
    /* drop the rest of the oversized message instead of reporting each piece */
    json_lexer_recover(&parser->lexer);
    parser_emit_error(parser, err);
}

static void parser_token(JSONLexer *lexer, JSONTokenType type, const GString *text)
{
    JSONMessageParser *parser = container_of(lexer, JSONMessageParser, lexer);
    JSONToken *token;
    Error *err = NULL;

    switch (type) {
    case JSON_ERROR:
        error_setg(&err, "JSON parse error, stray '%s'", text->str);
        parser_emit_error(parser, err);
        return;
    case JSON_OVERSIZE:
        parser_limit_error(parser, "JSON token size limit exceeded");
        return;
    case JSON_END_OF_INPUT:
        if (parser->tokens->len) {
            parser_emit_message(parser);
        }
        return;
    case JSON_LCURLY:
        parser->brace_count++;
        break;
    case JSON_RCURLY:
        parser->brace_count--;
        break;
    case JSON_LSQUARE:
        parser->bracket_count++;
        break;
    case JSON_RSQUARE:
        parser->bracket_count--;
        break;
    default:
        break;
    }

    parser->token_size += text->len;
    if (parser->token_size > JSON_MAX_MESSAGE_SIZE) {
        parser_limit_error(parser, "JSON token size limit exceeded");
        return;
    }
    if (parser->tokens->len >= JSON_MAX_TOKEN_COUNT) {
        parser_limit_error(parser, "JSON token count limit exceeded");
        return;
    }
    if (parser->brace_count + parser->bracket_count > JSON_MAX_NESTING) {
        parser_limit_error(parser, "JSON nesting depth limit exceeded");
        return;
    }

    token = g_malloc(sizeof(*token) + text->len + 1);
    token->type = type;
    memcpy(token->str, text->str, text->len + 1);
    g_ptr_array_add(parser->tokens, token);

    if (parser->brace_count < 0 || parser->bracket_count < 0
        || (parser->brace_count == 0 && parser->bracket_count == 0)) {
        parser_emit_message(parser);
    }
}

void json_message_parser_init(JSONMessageParser *parser, JSONMessageEmit *emit,
                              void *opaque)
{
    parser->emit = emit;
    parser->opaque = opaque;
    parser->tokens = g_ptr_array_new_with_free_func(g_free);
    parser_reset(parser);
    json_lexer_init(&parser->lexer, parser_token);
}

void json_message_parser_feed(JSONMessageParser *parser, const char *buf, size_t size)
{
    json_lexer_feed(&parser->lexer, buf, size);
}

void json_message_parser_flush(JSONMessageParser *parser)
{
    json_lexer_flush(&parser->lexer);
}

void json_message_parser_destroy(JSONMessageParser *parser)
{
    json_lexer_destroy(&parser->lexer);
    g_ptr_array_unref(parser->tokens);
    parser->tokens = NULL;
}

/* ---- one-shot ----------------------------------------------------------------- */

typedef struct JSONOneShot {
    QObject *result;
    Error *err;
    bool extra;
} JSONOneShot;

static void one_shot_emit(void *opaque, QObject *json, Error *err)
{
    JSONOneShot *s = opaque;

    if (s->result || s->err) {
        /* keep the first outcome; anything more makes the input invalid */
        s->extra = true;
        qobject_unref(json);
        error_free(err);
        return;
    }
    s->result = json;
    s->err = err;
}

QObject *qobject_from_json(const char *string, Error **errp)
{
    JSONOneShot s = { 0 };
    JSONMessageParser parser;

    json_message_parser_init(&parser, one_shot_emit, &s);
    json_message_parser_feed(&parser, string, strlen(string));
    json_message_parser_flush(&parser);
    json_message_parser_destroy(&parser);

    if (s.extra && !s.err) {
        qobject_unref(s.result);
        s.result = NULL;
        error_setg(&s.err, "Expecting at most one JSON value");
    }
    error_propagate(errp, s.err);
    return s.result;
}

QDict *qdict_from_json(const char *string, Error **errp)
{
    Error *err = NULL;
    QObject *obj = qobject_from_json(string, &err);
    QDict *dict = qobject_to(QDict, obj);

    if (err) {
        error_propagate(errp, err);
        return NULL;
    }
    if (!dict) {
        qobject_unref(obj);
        error_setg(errp, "JSON value is not an object");
    }
    return dict;
}
