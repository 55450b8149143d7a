/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * KEY=VALUE,... parsing (keyval.h).
 */
#include "util/osdep.h"
#include "qobject/keyval.h"
#include "qobject/qjson.h"

/* Parse params and compare the result with the JSON text expected. */
static void check_ok(const char *params, const char *implied, const char *expected)
{
    g_autoptr(QDict) d = keyval_parse(params, implied, NULL, &error_abort);
    g_autoptr(QObject) want = qobject_from_json(expected, &error_abort);

    if (!qobject_is_equal(QOBJECT(d), want)) {
        g_autoptr(GString) got = qobject_to_json(QOBJECT(d));
        g_error("%s: got %s, expected %s", params, got->str, expected);
    }
}

static void check_err(const char *params, const char *implied, const char *expected)
{
    Error *err = NULL;
    QDict *d = keyval_parse(params, implied, NULL, &err);

    g_assert_null(d);
    g_assert_nonnull(err);
    if (strcmp(error_get_pretty(err), expected)) {
        g_error("%s: got '%s', expected '%s'", params, error_get_pretty(err), expected);
    }
    error_free(err);
}

static void test_keyval_basic(void)
{
    check_ok("", NULL, "{}");
    check_ok("a=1", NULL, "{'a': '1'}");
    check_ok("a=1,", NULL, "{'a': '1'}");
    check_ok("a=,b=2", NULL, "{'a': '', 'b': '2'}");
    check_ok("a=1,a=2", NULL, "{'a': '2'}");                  /* last one wins */
    check_ok("a=x,,y,,,b=z", NULL, "{'a': 'x,y,', 'b': 'z'}");
    check_ok("a=b=c", NULL, "{'a': 'b=c'}");
    check_ok("driver=qcow2,file.driver=file,file.filename=/tmp/x.qcow2", NULL,
             "{'driver': 'qcow2', 'file': {'driver': 'file', 'filename': '/tmp/x.qcow2'}}");
    check_ok("a.b.c=1,a.b.d=2,a.e=3", NULL, "{'a': {'b': {'c': '1', 'd': '2'}, 'e': '3'}}");
    check_ok("x-y_z=1,__com.redhat_foo=2", NULL, "{'x-y_z': '1', '__com.redhat_foo': '2'}");
}

static void test_keyval_implied(void)
{
    check_ok("qcow2,file.filename=x", "driver",
             "{'driver': 'qcow2', 'file': {'filename': 'x'}}");
    check_ok("driver=raw", "driver", "{'driver': 'raw'}");
    check_ok("val", "a.b", "{'a': {'b': 'val'}}");
    check_ok("", "driver", "{}");
    check_err(",", "implied", "Invalid parameter ''");
    check_err("a,b", "driver", "Expected '=' after parameter 'b'");
}

static void test_keyval_lists(void)
{
    check_ok("a.0=x,a.1=y", NULL, "{'a': ['x', 'y']}");
    check_ok("a.1=y,a.0=x", NULL, "{'a': ['x', 'y']}");
    check_ok("a.0.b=1,a.1.b=2", NULL, "{'a': [{'b': '1'}, {'b': '2'}]}");
    check_ok("a.0.0=1,a.0.1=2", NULL, "{'a': [['1', '2']]}");
    check_err("a.0=x,a.2=y", NULL, "Parameter 'a.1' missing");
    check_err("a.0=x,a.b=y", NULL, "Parameters 'a.*' used inconsistently");
    check_err("a.1=x", NULL, "Parameter 'a.0' missing");
}

static void test_keyval_errors(void)
{
    g_autofree char *long_key = g_strnfill(128, 'k');
    g_autofree char *long_param = g_strdup_printf("%s=1", long_key);
    g_autofree char *long_frag = g_strdup_printf("a.%s=1", long_key);

    check_err("a", NULL, "Expected '=' after parameter 'a'");
    check_err("a.b", NULL, "Expected '=' after parameter 'a.b'");
    check_err("=1", NULL, "Invalid parameter ''");
    check_ok("a=1,,b=2", NULL, "{'a': '1,b=2'}");
    check_err("1=x", NULL, "Invalid parameter '1'");
    check_err("a..b=1", NULL, "Invalid parameter 'a..b'");
    check_err("a.=1", NULL, "Invalid parameter 'a.'");
    check_err("a b=1", NULL, "Invalid parameter 'a b'");
    check_err("a=1,a.b=2", NULL, "Parameters 'a.*' used inconsistently");
    check_err("a.b=2,a=1", NULL, "Parameters 'a.*' used inconsistently");
    check_err(long_param, NULL, "Parameter 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
              "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'"
              " is too long");
    check_err(long_frag, NULL, "Parameter fragment 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
              "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
              "kkkkk' is too long");
}

static void test_keyval_help(void)
{
    bool help = false;
    Error *err = NULL;
    g_autoptr(QDict) d1 = keyval_parse("help", "driver", &help, &error_abort);
    g_assert_true(help);
    g_assert_cmpuint(qdict_size(d1), ==, 0);

    g_autoptr(QDict) d2 = keyval_parse("driver=raw,?", NULL, &help, &error_abort);
    g_assert_true(help);
    g_assert_cmpstr(qdict_get_str(d2, "driver"), ==, "raw");

    g_autoptr(QDict) d3 = keyval_parse("driver=raw", NULL, &help, &error_abort);
    g_assert_false(help);
    g_assert_cmpuint(qdict_size(d3), ==, 1);

    g_assert_null(keyval_parse("help", NULL, NULL, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Help is not available for this option");
    error_free(err);
}

static void test_keyval_merge(void)
{
    g_autoptr(QDict) a = keyval_parse("x=1,n.y=2,l.0=a", NULL, NULL, &error_abort);
    g_autoptr(QDict) b = keyval_parse("x=3,n.z=4,l.0=b", NULL, NULL, &error_abort);
    g_autoptr(QDict) c = keyval_parse("n=5", NULL, NULL, &error_abort);
    g_autoptr(QObject) want = qobject_from_json(
        "{'x': '3', 'n': {'y': '2', 'z': '4'}, 'l': ['a', 'b']}", &error_abort);
    Error *err = NULL;

    keyval_merge(a, b, &error_abort);
    g_assert_true(qobject_is_equal(QOBJECT(a), want));
    keyval_merge(a, c, &err);
    g_assert_cmpstr(error_get_pretty(err), ==, "Parameter 'n' used inconsistently");
    error_free(err);

    g_autoptr(QDict) d = keyval_parse("a=1", NULL, NULL, &error_abort);
    g_assert_true(keyval_parse_into(d, "b.c=2", NULL, NULL, &error_abort) == d);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(d, "b"), "c"), ==, "2");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval/basic", test_keyval_basic);
    g_test_add_func("/keyval/implied", test_keyval_implied);
    g_test_add_func("/keyval/lists", test_keyval_lists);
    g_test_add_func("/keyval/errors", test_keyval_errors);
    g_test_add_func("/keyval/help", test_keyval_help);
    g_test_add_func("/keyval/merge", test_keyval_merge);
    return g_test_run();
}
