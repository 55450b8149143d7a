/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * json-lexer.h: the first stage of the JSON parser (util/json-lexer.c), exposed
 * for util/json-parser.c and util/json-writer.c. Other code uses json-parser.h.
 *
 * The lexer turns bytes, fed in chunks of any size, into tokens of QEMU's JSON
 * dialect:
 *   - structural  { } [ ] : ,
 *   - strings     "..." or '...', escapes \" \' \\ \/ \b \f \n \r \t \uXXXX
 *                 (the token keeps the quotes and the escapes; json-parser.c
 *                 decodes and validates them); raw bytes 0x00-0x1F, C0, C1 and
 *                 F5-FF inside a string are lexical errors
 *   - numbers     -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?; INTEGER
 *                 without fraction or exponent, FLOAT otherwise
 *   - keywords    [a-z]+ (the parser accepts true, false, null)
 *   - whitespace  space, \t, \n, \r between tokens
 *
 * Error recovery: on a byte that cannot continue or start a token the lexer emits
 * JSON_ERROR with the offending text. If that byte is a control byte (0x00-0x1F) or
 * 0xFF the lexer is back at the start; otherwise it drops everything up to and
 * including the next such byte. So a client resynchronises by sending a control
 * character, and a newline ends the damage of a bad line. A token longer than
 * JSON_MAX_TOKEN_SIZE is emitted as JSON_OVERSIZE and the lexer recovers the same way.
 *
 * Threads: a lexer is used by one thread at a time.
 */
#ifndef GODWIT_JSON_LEXER_H
#define GODWIT_JSON_LEXER_H

#include "util/osdep.h"

#define JSON_MAX_TOKEN_SIZE (64 * MiB)

typedef enum JSONTokenType {
    JSON_LCURLY,
    JSON_RCURLY,
    JSON_LSQUARE,
    JSON_RSQUARE,
    JSON_COLON,
    JSON_COMMA,
    JSON_INTEGER,
    JSON_FLOAT,
    JSON_KEYWORD,
    JSON_STRING,
    JSON_ERROR,         /* lexical error; text is what was read of the bad token */
    JSON_OVERSIZE,      /* a token exceeded JSON_MAX_TOKEN_SIZE */
    JSON_END_OF_INPUT,  /* from json_lexer_flush(), after any pending token */
} JSONTokenType;

typedef struct JSONLexer JSONLexer;

/* Called once per token; text is only valid during the call. It may call
 * json_lexer_recover() to make the lexer drop input until the next control byte. */
typedef void JSONLexerEmit(JSONLexer *lexer, JSONTokenType type, const GString *text);

struct JSONLexer {
    JSONLexerEmit *emit;
    int state;          /* private to json-lexer.c */
    char quote;         /* the quote of the string being read */
    int hex_left;       /* \uXXXX digits still expected */
    GString *token;     /* text of the token being read */
};

void json_lexer_init(JSONLexer *lexer, JSONLexerEmit *emit);
void json_lexer_feed(JSONLexer *lexer, const char *buf, size_t size);
/* End of input: emit the pending token (or JSON_ERROR if it is incomplete), then
 * JSON_END_OF_INPUT. The lexer is then ready for new input. */
void json_lexer_flush(JSONLexer *lexer);
void json_lexer_recover(JSONLexer *lexer);
void json_lexer_destroy(JSONLexer *lexer);

/*
 * Decode one code point of modified UTF-8 at s (n bytes available, n >= 1).
 * Sets *len to the bytes consumed (>= 1). Returns the code point, or -1 for an
 * invalid, overlong or truncated sequence, a surrogate, a noncharacter
 * (U+FDD0..U+FDEF, U+xxFFFE/U+xxFFFF) or a value beyond U+10FFFF. C0 80 decodes to 0.
 */
int json_utf8_decode(const char *s, size_t n, size_t *len);
/* Append the modified UTF-8 encoding of cp (0 becomes C0 80). Returns false, and
 * appends nothing, if cp is not a valid code point (as above). */
bool json_utf8_encode(GString *out, int cp);

#endif /* GODWIT_JSON_LEXER_H */
