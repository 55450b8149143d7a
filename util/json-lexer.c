/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * JSON lexer: a byte-at-a-time state machine, so input can arrive in chunks of
 * any size (the token language and the recovery rules are in json-lexer.h).
 *
 * Numbers and keywords have no terminator: they end at the first byte that cannot
 * continue them, which is then lexed again from LX_START ("lookahead"). Strings
 * and structural characters end on their own last byte.
 *
 * Also here: the modified-UTF-8 decoder and encoder shared by the parser (which
 * validates strings) and the writer (which escapes them).
 */
#include "util/osdep.h"
#include "qobject/json-lexer.h"

enum {
    LX_START,
    LX_STRING,          /* inside quotes; lexer->quote is the delimiter */
    LX_ESCAPE,          /* after a backslash */
    LX_UNICODE,         /* after \u, lexer->hex_left digits to go */
    LX_MINUS,           /* "-" */
    LX_ZERO,            /* "0" or "-0" */
    LX_INT,             /* [1-9][0-9]* */
    LX_DOT,             /* "1." */
    LX_FRAC,            /* "1.5" */
    LX_EXP_E,           /* "1e" */
    LX_EXP_SIGN,        /* "1e+" */
    LX_EXP,             /* "1e5" */
    LX_KEYWORD,         /* [a-z]+ */
    LX_RECOVERY,        /* dropping input until a control byte */
};

void json_lexer_init(JSONLexer *lexer, JSONLexerEmit *emit)
{
    lexer->emit = emit;
    lexer->state = LX_START;
    lexer->quote = 0;
    lexer->hex_left = 0;
    lexer->token = g_string_sized_new(64);
}

void json_lexer_destroy(JSONLexer *lexer)
{
    g_string_free(lexer->token, true);
    lexer->token = NULL;
}

void json_lexer_recover(JSONLexer *lexer)
{
    g_string_truncate(lexer->token, 0);
    lexer->state = LX_RECOVERY;
}

static bool is_resync_byte(uint8_t c)
{
    return c < 0x20 || c == 0xFF;
}

/* Emit the accumulated token; the lexer goes back to LX_START unless emit()
 * asks for recovery. */
static void lexer_emit(JSONLexer *lexer, JSONTokenType type)
{
    lexer->state = LX_START;
    lexer->emit(lexer, type, lexer->token);
    g_string_truncate(lexer->token, 0);
}

/* c cannot continue or start a token: report what we have, with c, as an error. */
static void lexer_error(JSONLexer *lexer, uint8_t c)
{
    g_string_append_c(lexer->token, c);
    lexer_emit(lexer, JSON_ERROR);
    if (lexer->state == LX_START && !is_resync_byte(c)) {
        lexer->state = LX_RECOVERY;
    }
}

/* A number or keyword ended before c: emit it; c must be lexed again. */
static void lexer_end_token(JSONLexer *lexer, JSONTokenType type)
{
    lexer_emit(lexer, type);
}

static bool lexer_start(JSONLexer *lexer, uint8_t c)
{
    static const char structural[] = "{}[]:,";
    static const JSONTokenType structural_type[] = {
        JSON_LCURLY, JSON_RCURLY, JSON_LSQUARE, JSON_RSQUARE, JSON_COLON, JSON_COMMA,
    };
    const char *s;

    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        return true;
    }
    g_string_append_c(lexer->token, c);
    if (c && (s = strchr(structural, c))) {
        lexer_emit(lexer, structural_type[s - structural]);
    } else if (c == '"' || c == '\'') {
        lexer->quote = c;
        lexer->state = LX_STRING;
    } else if (c == '-') {
        lexer->state = LX_MINUS;
    } else if (c == '0') {
        lexer->state = LX_ZERO;
    } else if (c >= '1' && c <= '9') {
        lexer->state = LX_INT;
    } else if (c >= 'a' && c <= 'z') {
        lexer->state = LX_KEYWORD;
    } else {
        g_string_truncate(lexer->token, lexer->token->len - 1);
        lexer_error(lexer, c);
    }
    return true;
}

static bool lexer_string(JSONLexer *lexer, uint8_t c)
{
    /* bytes that never occur in UTF-8 are rejected here, the rest in the parser */
    if (c < 0x20 || c == 0xC0 || c == 0xC1 || c >= 0xF5) {
        lexer_error(lexer, c);
        return true;
    }
    g_string_append_c(lexer->token, c);
    switch (lexer->state) {
    case LX_STRING:
        if (c == lexer->quote) {
            lexer_emit(lexer, JSON_STRING);
        } else if (c == '\\') {
            lexer->state = LX_ESCAPE;
        }
        break;
    case LX_ESCAPE:
        if (c == 'u') {
            lexer->hex_left = 4;
            lexer->state = LX_UNICODE;
        } else if (c && strchr("\"'\\/bfnrt", c)) {
            lexer->state = LX_STRING;
        } else {
            g_string_truncate(lexer->token, lexer->token->len - 1);
            lexer_error(lexer, c);
        }
        break;
    case LX_UNICODE:
        if (!g_ascii_isxdigit(c)) {
            g_string_truncate(lexer->token, lexer->token->len - 1);
            lexer_error(lexer, c);
        } else if (--lexer->hex_left == 0) {
            lexer->state = LX_STRING;
        }
        break;
    }
    return true;
}

/*
 * Number and keyword states. Returns false if c was not consumed (the token
 * ended before it) so the caller lexes c again.
 */
static bool lexer_number(JSONLexer *lexer, uint8_t c)
{
    bool digit = c >= '0' && c <= '9';
    int next = -1;

    switch (lexer->state) {
    case LX_MINUS:
        next = c == '0' ? LX_ZERO : digit ? LX_INT : -1;
        break;
    case LX_ZERO:
    case LX_INT:
        if (lexer->state == LX_INT && digit) {
            next = LX_INT;
        } else if (c == '.') {
            next = LX_DOT;
        } else if (c == 'e' || c == 'E') {
            next = LX_EXP_E;
        } else {
            lexer_end_token(lexer, JSON_INTEGER);
            return false;
        }
        break;
    case LX_DOT:
        next = digit ? LX_FRAC : -1;
        break;
    case LX_FRAC:
        if (digit) {
            next = LX_FRAC;
        } else if (c == 'e' || c == 'E') {
            next = LX_EXP_E;
        } else {
            lexer_end_token(lexer, JSON_FLOAT);
            return false;
        }
        break;
    case LX_EXP_E:
        next = digit ? LX_EXP : (c == '+' || c == '-') ? LX_EXP_SIGN : -1;
        break;
    case LX_EXP_SIGN:
        next = digit ? LX_EXP : -1;
        break;
    case LX_EXP:
        if (!digit) {
            lexer_end_token(lexer, JSON_FLOAT);
            return false;
        }
        next = LX_EXP;
        break;
    case LX_KEYWORD:
        if (c < 'a' || c > 'z') {
            lexer_end_token(lexer, JSON_KEYWORD);
            return false;
        }
        next = LX_KEYWORD;
        break;
    }
    if (next < 0) {
        lexer_error(lexer, c);
    } else {
        g_string_append_c(lexer->token, c);
        lexer->state = next;
    }
    return true;
}

static void lexer_byte(JSONLexer *lexer, uint8_t c)
{
    bool consumed;

    do {
        switch (lexer->state) {
        case LX_START:
            consumed = lexer_start(lexer, c);
            break;
        case LX_STRING:
        case LX_ESCAPE:
        case LX_UNICODE:
            consumed = lexer_string(lexer, c);
            break;
        case LX_RECOVERY:
            if (is_resync_byte(c)) {
                lexer->state = LX_START;
            }
            consumed = true;
            break;
        default:
            consumed = lexer_number(lexer, c);
            break;
        }
    } while (!consumed);

    if (lexer->token->len > JSON_MAX_TOKEN_SIZE) {
        lexer_emit(lexer, JSON_OVERSIZE);
        json_lexer_recover(lexer);
    }
}

void json_lexer_feed(JSONLexer *lexer, const char *buf, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        lexer_byte(lexer, (uint8_t)buf[i]);
    }
}

void json_lexer_flush(JSONLexer *lexer)
{
    switch (lexer->state) {
    case LX_ZERO:
    case LX_INT:
        lexer_emit(lexer, JSON_INTEGER);
        break;
    case LX_FRAC:
    case LX_EXP:
        lexer_emit(lexer, JSON_FLOAT);
        break;
    case LX_KEYWORD:
        lexer_emit(lexer, JSON_KEYWORD);
        break;
    case LX_START:
    case LX_RECOVERY:
        break;
    default:                    /* an unterminated string or number */
        lexer_emit(lexer, JSON_ERROR);
        break;
    }
    g_string_truncate(lexer->token, 0);
    lexer->state = LX_START;
    lexer->emit(lexer, JSON_END_OF_INPUT, lexer->token);
    lexer->state = LX_START;
}

/* ---- modified UTF-8 ----------------------------------------------------------- */

static bool codepoint_is_valid(int cp)
{
    return cp >= 0 && cp <= 0x10FFFF
        && !(cp >= 0xD800 && cp <= 0xDFFF)             /* surrogates */
        && !(cp >= 0xFDD0 && cp <= 0xFDEF)             /* noncharacters */
        && (cp & 0xFFFE) != 0xFFFE;
}

int json_utf8_decode(const char *s, size_t n, size_t *len)
{
    const uint8_t *u = (const uint8_t *)s;
    int cp, need, min;

    *len = 1;
    if (u[0] < 0x80) {
        return u[0];
    }
    if (n >= 2 && u[0] == 0xC0 && u[1] == 0x80) {
        *len = 2;
        return 0;
    }
    if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        need = 1, min = 0x80, cp = u[0] & 0x1F;
    } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        need = 2, min = 0x800, cp = u[0] & 0x0F;
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        need = 3, min = 0x10000, cp = u[0] & 0x07;
    } else {
        return -1;              /* a continuation byte, or never valid */
    }
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || (u[i] & 0xC0) != 0x80) {
            *len = i;           /* skip only what belongs to the broken sequence */
            return -1;
        }
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    *len = need + 1;
    return cp >= min && codepoint_is_valid(cp) ? cp : -1;
}

bool json_utf8_encode(GString *out, int cp)
{
    if (!codepoint_is_valid(cp)) {
        return false;
    }
    if (cp == 0) {
        g_string_append_len(out, "\xC0\x80", 2);
    } else if (cp < 0x80) {
        g_string_append_c(out, cp);
    } else {
        g_string_append_unichar(out, cp);
    }
    return true;
}
