/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * JSON in QEMU's dialect: parsing (one-shot and streaming), limits, resync after
 * errors, and the writer's exact compact and pretty text.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/json-parser.h"

/* ---- helpers ---- */

static QObject *parse(const char *s)
{
    return qobject_from_json(s, &error_abort);
}

static char *to_json(const QObject *obj)
{
    return g_string_free(qobject_to_json(obj), false);
}

/* Parse s and write it back compactly. */
static char *reformat(const char *s)
{
    g_autoptr(QObject) obj = parse(s);

    return to_json(obj);
}

static char *parse_error_text(const char *s)
{
    Error *err = NULL;
    QObject *obj = qobject_from_json(s, &err);
    char *msg;

    g_assert_null(obj);
    g_assert_nonnull(err);
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

/* Streaming: every emitted message, as compact JSON or "ERR: <message>". */
typedef struct Collector {
    GPtrArray *out;
} Collector;

static void collect(void *opaque, QObject *json, Error *err)
{
    Collector *c = opaque;

    g_assert_true(!json != !err);
    if (json) {
        g_ptr_array_add(c->out, to_json(json));
        qobject_unref(json);
    } else {
        g_ptr_array_add(c->out, g_strdup_printf("ERR: %s", error_get_pretty(err)));
        error_free(err);
    }
}

/* Feed input in chunks of chunk bytes (0: all at once), then flush; return the
 * messages joined by '|'. */
static char *stream(const char *input, size_t len, size_t chunk)
{
    Collector c = { g_ptr_array_new_with_free_func(g_free) };
    JSONMessageParser parser;
    char *joined;

    json_message_parser_init(&parser, collect, &c);
    for (size_t off = 0; off < len;) {
        size_t n = chunk ? MIN(chunk, len - off) : len;
        json_message_parser_feed(&parser, input + off, n);
        off += n;
    }
    json_message_parser_flush(&parser);
    json_message_parser_destroy(&parser);
    g_ptr_array_add(c.out, NULL);
    joined = g_strjoinv("|", (char **)c.out->pdata);
    g_ptr_array_unref(c.out);
    return joined;
}

static void check_stream(const char *input, const char *expected)
{
    static const size_t chunks[] = { 0, 1, 2, 3, 7 };

    for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
        g_autofree char *got = stream(input, strlen(input), chunks[i]);
        if (strcmp(got, expected)) {
            g_error("input %s, chunk %zu: got %s, expected %s",
                    input, chunks[i], got, expected);
        }
    }
}

/* ---- parsing ---- */

static void test_parse_types(void)
{
    g_autoptr(QObject) o = parse("{\"s\": \"str\", \"i\": -12, \"f\": 2.5, \"t\": true,"
                                 " \"n\": null, \"l\": [1, [], {}], \"d\": {\"x\": false}}");
    QDict *d = qobject_to(QDict, o);

    g_assert_nonnull(d);
    g_assert_cmpstr(qdict_get_str(d, "s"), ==, "str");
    g_assert_cmpint(qdict_get_int(d, "i"), ==, -12);
    g_assert_cmpfloat(qdict_get_double(d, "f"), ==, 2.5);
    g_assert_true(qdict_get_bool(d, "t"));
    g_assert_nonnull(qobject_to(QNull, qdict_get(d, "n")));
    g_assert_cmpuint(qlist_size(qdict_get_qlist(d, "l")), ==, 3);
    g_assert_false(qdict_get_bool(qdict_get_qdict(d, "d"), "x"));

    g_autoptr(QObject) scalar = parse("  \"top\"\n");
    g_assert_cmpstr(qstring_get_str(qobject_to(QString, scalar)), ==, "top");

    g_assert_null(qobject_from_json("", &error_abort));
    g_assert_null(qobject_from_json(" \n\t ", &error_abort));
}

static void test_parse_strings(void)
{
    static const char *const cases[][2] = {
        { "'single'", "\"single\"" },
        { "'has \"double\" inside'", "\"has \\\"double\\\" inside\"" },
        { "\"it\\'s\"", "\"it's\"" },
        { "'it\\'s'", "\"it's\"" },
        { "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\"" },
        { "\"\\u0041\\u00e9\\u20AC\"", "\"A\\u00E9\\u20AC\"" },
        { "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"" },          /* surrogate pair */
        { "\"\xf0\x9f\x98\x80\"", "\"\\uD83D\\uDE00\"" },        /* raw UTF-8 */
        { "\"caf\xc3\xa9\"", "\"caf\\u00E9\"" },
        { "\"\\u0000\"", "\"\\u0000\"" },                         /* modified UTF-8 */
        { "\"\\u001f\\u007f\"", "\"\\u001F\\u007F\"" },
        { "\"\"", "\"\"" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *got = reformat(cases[i][0]);
        g_assert_cmpstr(got, ==, cases[i][1]);
    }

    g_autoptr(QObject) nul = parse("\"a\\u0000b\"");
    g_assert_cmpstr(qstring_get_str(qobject_to(QString, nul)), ==, "a\xc0\x80" "b");
}

static void test_parse_numbers(void)
{
    static const struct {
        const char *in;
        QNumKind kind;
        const char *out;
    } cases[] = {
        { "0", QNUM_I64, "0" },
        { "-0", QNUM_I64, "0" },
        { "42", QNUM_I64, "42" },
        { "-9223372036854775808", QNUM_I64, "-9223372036854775808" },
        { "9223372036854775807", QNUM_I64, "9223372036854775807" },
        { "9223372036854775808", QNUM_U64, "9223372036854775808" },
        { "18446744073709551615", QNUM_U64, "18446744073709551615" },
        { "18446744073709551616", QNUM_DOUBLE, "1.8446744073709552e+19" },
        { "-9223372036854775809", QNUM_DOUBLE, "-9.2233720368547758e+18" },
        { "0.5", QNUM_DOUBLE, "0.5" },
        { "1.0", QNUM_DOUBLE, "1" },
        { "-0.0", QNUM_DOUBLE, "-0" },
        { "0.1", QNUM_DOUBLE, "0.10000000000000001" },
        { "1e100", QNUM_DOUBLE, "1e+100" },
        { "1E+2", QNUM_DOUBLE, "100" },
        { "-2.5e-3", QNUM_DOUBLE, "-0.0025000000000000001" },
        { "1e400", QNUM_DOUBLE, "inf" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autoptr(QObject) o = parse(cases[i].in);
        QNum *qn = qobject_to(QNum, o);
        g_autofree char *text = to_json(o);
        g_assert_nonnull(qn);
        g_assert_cmpint(qn->kind, ==, cases[i].kind);
        g_assert_cmpstr(text, ==, cases[i].out);
    }
    g_autoptr(QObject) u = parse("18446744073709551615");
    uint64_t uv;
    g_assert_true(qnum_get_try_uint(qobject_to(QNum, u), &uv));
    g_assert_cmpuint(uv, ==, UINT64_MAX);
}

static void test_parse_errors(void)
{
    static const char *const cases[][2] = {
        { "{\"a\" 1}", "JSON parse error, missing : in object pair" },
        { "{1: 2}", "JSON parse error, key is not a string in object" },
        { "{\"a\": 1 \"b\": 2}", "JSON parse error, expected separator in dict" },
        { "[1 2]", "JSON parse error, expected separator in list" },
        { "[1,]", "JSON parse error, expecting value" },
        { "{\"a\": 1, \"a\": 2}", "JSON parse error, duplicate key" },
        { "{\"a\":}", "JSON parse error, expecting value" },
        { "]", "JSON parse error, expecting value" },
        { "[", "JSON parse error, premature EOI" },
        { "{\"a\": [1", "JSON parse error, premature EOI" },
        { "nul", "JSON parse error, invalid keyword 'nul'" },
        { "\"\\ud800\"", "JSON parse error, \\ud800 is not a valid Unicode character" },
        { "\"\\udc00x\"", "JSON parse error, \\udc00 is not a valid Unicode character" },
        { "\"\\ud800\\u0041\"",
          "JSON parse error, \\ud800 is not a valid Unicode character" },
        { "\"\\uffff\"", "JSON parse error, \\uffff is not a valid Unicode character" },
        { "\"\xe2\x82\"", "JSON parse error, invalid UTF-8 sequence in string" },
        { "\"\xe0\x80\x80\"", "JSON parse error, invalid UTF-8 sequence in string" },
        { "\"\xed\xa0\x80\"", "JSON parse error, invalid UTF-8 sequence in string" },
        { "\"\x80\"", "JSON parse error, invalid UTF-8 sequence in string" },
        { "\"\xc0\x80\"", "JSON parse error, stray '\"\xc0'" },
        { "\"\xff\"", "JSON parse error, stray '\"\xff'" },
        { "\"\\x\"", "JSON parse error, stray '\"\\x'" },
        { "\"line\nbreak\"", "JSON parse error, stray '\"line\n'" },
        { "1 2", "Expecting at most one JSON value" },
        { "\"unterminated", "JSON parse error, stray '\"unterminated'" },
        { "1.", "JSON parse error, stray '1.'" },
        { "@", "JSON parse error, stray '@'" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *msg = parse_error_text(cases[i][0]);
        if (strcmp(msg, cases[i][1])) {
            g_error("input %s: got '%s', expected '%s'", cases[i][0], msg, cases[i][1]);
        }
    }

    Error *err = NULL;
    g_assert_null(qdict_from_json("[1]", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "JSON value is not an object");
    error_free(err);
    g_autoptr(QDict) d = qdict_from_json("{'execute': 'x'}", &error_abort);
    g_assert_cmpstr(qdict_get_str(d, "execute"), ==, "x");
}

/* ---- streaming ---- */

static void test_stream_basic(void)
{
    /* several messages in one buffer, split anywhere */
    check_stream("{\"a\": 1}{\"b\": 2}\n[3] \"s\" 4 true",
                 "{\"a\": 1}|{\"b\": 2}|[3]|\"s\"|4|true");
    /* a request spanning lines, single quotes, as bash iotests send it */
    check_stream("{ 'execute': 'qmp_capabilities',\n  'arguments': { 'enable': ['oob'] } }\n",
                 "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
    /* a number at the end completes only on flush */
    check_stream("12", "12");
    check_stream("", "");
    check_stream("{\"a\": ", "ERR: JSON parse error, premature EOI");
}

static void test_stream_resync(void)
{
    /* garbage: one error, the rest of the line is dropped, the next line parses */
    check_stream("@#garbage {\"x\": 1}\n{\"ok\": 1}",
                 "ERR: JSON parse error, stray '@'|{\"ok\": 1}");
    /* a control byte abandons a half-read message */
    check_stream("{\"execute\": \x01{\"ok\": 2}",
                 "ERR: JSON parse error, stray '\x01'|{\"ok\": 2}");
    /* 0xFF works the same way, also inside a string */
    check_stream("{\"a\": \"b\xff{\"ok\": 3}",
                 "ERR: JSON parse error, stray '\"b\xff'|{\"ok\": 3}");
    /* a grammar error drops only that message */
    check_stream("{\"a\" 1}{\"ok\": 4}",
                 "ERR: JSON parse error, missing : in object pair|{\"ok\": 4}");
    /* an unbalanced closer */
    check_stream("}{\"ok\": 5}", "ERR: JSON parse error, expecting value|{\"ok\": 5}");
    /* a bad keyword */
    check_stream("[tru]\n{\"ok\": 6}",
                 "ERR: JSON parse error, invalid keyword 'tru'|{\"ok\": 6}");
}

static void test_stream_depth(void)
{
    GString *ok = g_string_new(NULL), *deep = g_string_new(NULL);
    g_autofree char *got_deep = NULL;

    for (int i = 0; i < 1024; i++) {
        g_string_append_c(ok, '[');
    }
    for (int i = 0; i < 1024; i++) {
        g_string_append_c(ok, ']');
    }
    g_autoptr(QObject) o = parse(ok->str);
    g_assert_nonnull(o);

    for (int i = 0; i < 600; i++) {
        g_string_append(deep, "{'a':[");
    }
    g_string_append(deep, "1");
    for (int i = 0; i < 600; i++) {
        g_string_append(deep, "]}");
    }
    g_string_append(deep, "\n{\"ok\": 1}");
    got_deep = stream(deep->str, deep->len, 4096);
    g_assert_cmpstr(got_deep, ==, "ERR: JSON nesting depth limit exceeded|{\"ok\": 1}");
    g_string_free(ok, true);
    g_string_free(deep, true);
}

static void test_stream_huge(void)
{
    size_t len = JSON_MAX_TOKEN_SIZE + 16;
    char *buf = g_malloc(len + 32);
    g_autofree char *got = NULL;
    size_t n = 0;

    /* one string token over the limit */
    buf[n++] = '"';
    memset(buf + n, 'x', len);
    n += len;
    memcpy(buf + n, "\"\n[1]", 5);
    n += 5;
    got = stream(buf, n, 1 << 20);
    g_assert_cmpstr(got, ==, "ERR: JSON token size limit exceeded|[1]");
    g_free(buf);
}

static void test_stream_many_small_tokens(void)
{
    /* a message under the token count limit still parses */
    GString *s = g_string_new("[");
    for (int i = 0; i < 100000; i++) {
        g_string_append(s, i ? ",1" : "1");
    }
    g_string_append_c(s, ']');
    g_autoptr(QObject) o = parse(s->str);
    g_assert_cmpuint(qlist_size(qobject_to(QList, o)), ==, 100000);
    g_string_free(s, true);
}

/* ---- writer ---- */

static void test_write_compact(void)
{
    g_autoptr(QDict) d = qdict_new();
    QList *l = qlist_new();

    qlist_append_int(l, 1);
    qlist_append_int(l, 2);
    qdict_put_int(d, "a", 1);
    qdict_put(d, "b", l);
    qdict_put(d, "c", qdict_new());
    g_autofree char *s = to_json(QOBJECT(d));
    g_assert_cmpstr(s, ==, "{\"a\": 1, \"b\": [1, 2], \"c\": {}}");

    g_autofree char *q = reformat("{'running': true, 'singlestep': false,"
                                  " 'status': 'running'}");
    g_assert_cmpstr(q, ==, "{\"status\": \"running\", \"singlestep\": false,"
                           " \"running\": true}");
    g_autofree char *e = reformat("[[], {}, null, \"\"]");
    g_assert_cmpstr(e, ==, "[[], {}, null, \"\"]");
}

static void test_write_pretty(void)
{
    static const char *const cases[][2] = {
        { "{\"return\": {}}", "{\n    \"return\": {\n    }\n}" },
        { "{}", "{\n}" },
        { "[]", "[\n]" },
        { "1", "1" },
        { "{\"a\": 1, \"b\": [1, 2], \"c\": []}",
          "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        2\n    ],\n"
          "    \"c\": [\n    ]\n}" },
        { "[{\"x\": {\"y\": {}}}]",
          "[\n    {\n        \"x\": {\n            \"y\": {\n            }\n"
          "        }\n    }\n]" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autoptr(QObject) o = parse(cases[i][0]);
        g_autoptr(GString) s = qobject_to_json_pretty(o, true);
        g_assert_cmpstr(s->str, ==, cases[i][1]);
    }
}

static void test_write_strings(void)
{
    static const char *const cases[][2] = {
        { "plain/slash", "\"plain/slash\"" },
        { "q\"b\\", "\"q\\\"b\\\\\"" },
        { "\b\f\n\r\t\x01\x1f\x7f", "\"\\b\\f\\n\\r\\t\\u0001\\u001F\\u007F\"" },
        { "\xc3\xa9\xe2\x82\xac", "\"\\u00E9\\u20AC\"" },
        { "\xf4\x8f\xbf\xbd", "\"\\uDBFF\\uDFFD\"" },
        { "bad\xff" "x\xe2\x82", "\"bad\\uFFFDx\\uFFFD\"" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autoptr(QString) qs = qstring_from_str(cases[i][0]);
        g_autofree char *s = to_json(QOBJECT(qs));
        g_assert_cmpstr(s, ==, cases[i][1]);
    }
}

static void test_round_trip(void)
{
    static const char *const docs[] = {
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7},"
        " \"package\": \"\"}, \"capabilities\": [\"oob\"]}}",
        "[1, -1, 18446744073709551615, -9223372036854775808, 0.5, 1e-300, 3.14159,"
        " true, false, null, \"\\u00e9\\ud83d\\ude00\\u0000\", [], {}, [[[]]]]",
        "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}",
    };

    for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
        g_autoptr(QObject) a = parse(docs[i]);
        g_autofree char *text = to_json(a);
        g_autoptr(QObject) b = parse(text);
        g_autoptr(GString) pretty = qobject_to_json_pretty(a, true);
        g_autoptr(QObject) c = parse(pretty->str);
        g_assert_true(qobject_is_equal(a, b));
        g_assert_true(qobject_is_equal(a, c));
    }
}

static void test_greeting_order(void)
{
    /*
     * "minor" and "micro" share a bucket, so the text depends on insertion order
     * (and re-parsing QEMU's own output reverses them). Built in schema order
     * (major, minor, micro) it must match QEMU's greeting exactly.
     */
    g_autoptr(QDict) greeting = qdict_new();
    QDict *qmp = qdict_new(), *version = qdict_new(), *qemu = qdict_new();
    QList *caps = qlist_new();

    qdict_put_int(qemu, "major", 7);
    qdict_put_int(qemu, "minor", 2);
    qdict_put_int(qemu, "micro", 22);
    qdict_put(version, "qemu", qemu);
    qdict_put_str(version, "package", "");
    qlist_append_str(caps, "oob");
    qdict_put(qmp, "version", version);
    qdict_put(qmp, "capabilities", caps);
    qdict_put(greeting, "QMP", qmp);
    g_autofree char *s = to_json(QOBJECT(greeting));
    g_assert_cmpstr(s, ==, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2,"
                           " \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/parse/types", test_parse_types);
    g_test_add_func("/json/parse/strings", test_parse_strings);
    g_test_add_func("/json/parse/numbers", test_parse_numbers);
    g_test_add_func("/json/parse/errors", test_parse_errors);
    g_test_add_func("/json/stream/basic", test_stream_basic);
    g_test_add_func("/json/stream/resync", test_stream_resync);
    g_test_add_func("/json/stream/depth", test_stream_depth);
    g_test_add_func("/json/stream/huge-token", test_stream_huge);
    g_test_add_func("/json/stream/many-tokens", test_stream_many_small_tokens);
    g_test_add_func("/json/write/compact", test_write_compact);
    g_test_add_func("/json/write/pretty", test_write_pretty);
    g_test_add_func("/json/write/strings", test_write_strings);
    g_test_add_func("/json/round-trip", test_round_trip);
    g_test_add_func("/json/write/greeting-order", test_greeting_order);
    return g_test_run();
}
