/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QObject types: construction, refcounting, QDict order (QEMU's, spec §2.3),
 * flatten/crumple/extract/array_split, equality.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"

/* The keys of d in iteration order, comma-separated. */
static char *dict_keys(const QDict *d)
{
    GString *s = g_string_new(NULL);

    for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) {
        g_string_append_printf(s, "%s%s", s->len ? "," : "", qdict_entry_key(e));
    }
    return g_string_free(s, false);
}

/* A dict with the given keys inserted in order (values: their index). */
static QDict *dict_with_keys(const char *csv)
{
    g_auto(GStrv) keys = g_strsplit(csv, ",", -1);
    QDict *d = qdict_new();

    for (int i = 0; keys[i]; i++) {
        qdict_put_int(d, keys[i], i);
    }
    return d;
}

static void check_order(const char *insert, const char *expected)
{
    g_autoptr(QDict) d = dict_with_keys(insert);
    g_autofree char *got = dict_keys(d);

    g_assert_cmpstr(got, ==, expected);
}

static void test_dict_order_spec(void)
{
    /* query-status, inserted in schema order */
    check_order("running,singlestep,status", "status,singlestep,running");
    check_order("event,timestamp,data", "timestamp,event,data");
    check_order("type,device,len,offset,speed", "device,len,offset,speed,type");
    check_order("id,status", "status,id");
    check_order("guest,reason", "guest,reason");
    check_order("filename,format,dirty-flag,actual-size,virtual-size,cluster-size,"
                "backing-filename,full-backing-filename,backing-filename-format,"
                "format-specific",
                "backing-filename-format,virtual-size,filename,cluster-size,format,"
                "actual-size,format-specific,full-backing-filename,backing-filename,"
                "dirty-flag");
    check_order("filename,format,check-errors,image-end-offset,total-clusters,"
                "allocated-clusters",
                "image-end-offset,total-clusters,check-errors,allocated-clusters,"
                "filename,format");
    check_order("required,fully-allocated,bitmaps", "bitmaps,required,fully-allocated");
    check_order("a,b,c", "a,b,c");
    check_order("c,b,a", "a,b,c");
}

static void test_dict_order_bucket(void)
{
    /* "running" and "singlestep" share a bucket: the last inserted comes first */
    g_assert_cmpuint(qdict_hash("singlestep") % 512, ==, qdict_hash("status") % 512);
    check_order("status,singlestep", "singlestep,status");
    check_order("singlestep,status", "status,singlestep");

    /* replacing a value keeps the position; delete + reinsert moves it */
    g_autoptr(QDict) d = dict_with_keys("status,singlestep");
    qdict_put_str(d, "status", "x");
    g_autofree char *k1 = dict_keys(d);
    g_assert_cmpstr(k1, ==, "singlestep,status");
    qdict_del(d, "status");
    qdict_put_str(d, "status", "y");
    g_autofree char *k2 = dict_keys(d);
    g_assert_cmpstr(k2, ==, "status,singlestep");
    g_assert_cmpuint(qdict_size(d), ==, 2);
}

static void test_dict_basic(void)
{
    g_autoptr(QDict) d = qdict_new();
    QList *l = qlist_new();

    qdict_put_int(d, "i", -5);
    qdict_put_bool(d, "b", true);
    qdict_put_str(d, "s", "str");
    qdict_put_null(d, "n");
    qdict_put(d, "l", l);
    qdict_put(d, "d", qdict_new());
    qdict_put(d, "u", qnum_from_uint(UINT64_MAX));
    qdict_put(d, "f", qnum_from_double(1.5));

    g_assert_cmpuint(qdict_size(d), ==, 8);
    g_assert_cmpint(qdict_get_int(d, "i"), ==, -5);
    g_assert_true(qdict_get_bool(d, "b"));
    g_assert_cmpstr(qdict_get_str(d, "s"), ==, "str");
    g_assert_true(qobject_to(QNull, qdict_get(d, "n")));
    g_assert_true(qdict_get_qlist(d, "l") == l);
    g_assert_nonnull(qdict_get_qdict(d, "d"));
    g_assert_null(qdict_get_qdict(d, "s"));
    g_assert_null(qdict_get_qlist(d, "missing"));
    g_assert_cmpfloat(qdict_get_double(d, "f"), ==, 1.5);
    g_assert_cmpfloat(qdict_get_double(d, "i"), ==, -5.0);

    g_assert_cmpint(qdict_get_try_int(d, "i", 7), ==, -5);
    g_assert_cmpint(qdict_get_try_int(d, "s", 7), ==, 7);
    g_assert_cmpint(qdict_get_try_int(d, "u", 7), ==, 7);    /* not an int64 */
    g_assert_cmpint(qdict_get_try_int(d, "f", 7), ==, 7);
    g_assert_false(qdict_get_try_bool(d, "missing", false));
    g_assert_true(qdict_get_try_bool(d, "b", false));
    g_assert_cmpstr(qdict_get_try_str(d, "s"), ==, "str");
    g_assert_null(qdict_get_try_str(d, "i"));

    g_assert_true(qdict_haskey(d, "n"));
    qdict_del(d, "n");
    qdict_del(d, "n");
    g_assert_false(qdict_haskey(d, "n"));
    g_assert_cmpuint(qdict_size(d), ==, 7);

    size_t count = 0;
    for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) {
        g_assert_true(qdict_get(d, qdict_entry_key(e)) == qdict_entry_value(e));
        count++;
    }
    g_assert_cmpuint(count, ==, 7);

    /* many keys: all retrievable, iteration visits each once */
    g_autoptr(QDict) big = qdict_new();
    for (int i = 0; i < 3000; i++) {
        g_autofree char *k = g_strdup_printf("key%d", i);
        qdict_put_int(big, k, i);
    }
    g_assert_cmpuint(qdict_size(big), ==, 3000);
    count = 0;
    for (const QDictEntry *e = qdict_first(big); e; e = qdict_next(big, e)) {
        count++;
    }
    g_assert_cmpuint(count, ==, 3000);
    g_assert_cmpint(qdict_get_int(big, "key2999"), ==, 2999);
}

static void test_refcount(void)
{
    QString *s = qstring_from_str("abc");
    QDict *d = qdict_new();
    QList *l = qlist_new();

    g_assert_true(qobject_ref(s) == s);
    g_assert_cmpint(QOBJECT(s)->base.refcnt, ==, 2);
    qdict_put(d, "s", s);                  /* takes one reference */
    qlist_append(l, qobject_ref(d));
    qobject_unref(d);                      /* l still holds d */
    g_assert_cmpstr(qdict_get_str(qobject_to(QDict, qlist_peek(l)), "s"), ==, "abc");
    qobject_unref(l);                      /* frees d; s survives with our ref */
    g_assert_cmpint(QOBJECT(s)->base.refcnt, ==, 1);
    g_assert_cmpstr(qstring_get_str(s), ==, "abc");
    qobject_unref(s);

    qobject_unref((QDict *)NULL);
    g_assert_null(qobject_ref((QList *)NULL));

    /* the null singleton survives any balanced use */
    QNull *n1 = qnull(), *n2 = qnull();
    g_assert_true(n1 == n2);
    qobject_unref(n1);
    qobject_unref(n2);
    g_autoptr(QNull) n3 = qnull();
    g_assert_cmpint(qobject_type(QOBJECT(n3)), ==, QTYPE_QNULL);
}

static void test_casts(void)
{
    g_autoptr(QObject) o = QOBJECT(qstring_from_str("x"));

    g_assert_nonnull(qobject_to(QString, o));
    g_assert_null(qobject_to(QDict, o));
    g_assert_null(qobject_to(QNum, (QObject *)NULL));
    g_assert_cmpint(qobject_type(o), ==, QTYPE_QSTRING);
    g_assert_cmpstr(qtype_name(QTYPE_QDICT), ==, "dict");
}

static void test_qnum(void)
{
    g_autoptr(QNum) i = qnum_from_int(-42);
    g_autoptr(QNum) u = qnum_from_uint(UINT64_MAX);
    g_autoptr(QNum) small_u = qnum_from_uint(7);
    g_autoptr(QNum) d = qnum_from_double(0.25);
    int64_t iv;
    uint64_t uv;

    g_assert_true(qnum_get_try_int(i, &iv) && iv == -42);
    g_assert_false(qnum_get_try_uint(i, &uv));
    g_assert_false(qnum_get_try_int(u, &iv));
    g_assert_true(qnum_get_try_uint(u, &uv) && uv == UINT64_MAX);
    g_assert_cmpint(qnum_get_int(small_u), ==, 7);
    g_assert_cmpuint(qnum_get_uint(small_u), ==, 7);
    g_assert_false(qnum_get_try_int(d, &iv));
    g_assert_cmpfloat(qnum_get_double(d), ==, 0.25);
    g_assert_cmpfloat(qnum_get_double(i), ==, -42.0);

    g_autofree char *s1 = qnum_to_string(i);
    g_autofree char *s2 = qnum_to_string(u);
    g_autofree char *s3 = qnum_to_string(d);
    g_assert_cmpstr(s1, ==, "-42");
    g_assert_cmpstr(s2, ==, "18446744073709551615");
    g_assert_cmpstr(s3, ==, "0.25");
}

static void test_qlist(void)
{
    g_autoptr(QList) l = qlist_new();
    const QListEntry *e;
    int n = 0;

    g_assert_true(qlist_empty(l));
    g_assert_null(qlist_peek(l));
    g_assert_null(qlist_pop(l));
    qlist_append_int(l, 1);
    qlist_append_str(l, "two");
    qlist_append_bool(l, false);
    qlist_append_null(l);
    g_assert_cmpuint(qlist_size(l), ==, 4);
    QLIST_FOREACH_ENTRY(l, e) {
        g_assert_nonnull(qlist_entry_obj(e));
        n++;
    }
    g_assert_cmpint(n, ==, 4);

    g_autoptr(QList) copy = qlist_copy(l);
    g_assert_true(qobject_is_equal(QOBJECT(copy), QOBJECT(l)));

    QObject *first = qlist_pop(l);
    g_assert_cmpint(qnum_get_int(qobject_to(QNum, first)), ==, 1);
    qobject_unref(first);
    g_assert_cmpuint(qlist_size(l), ==, 3);
    g_assert_false(qobject_is_equal(QOBJECT(copy), QOBJECT(l)));
    while ((first = qlist_pop(l))) {
        qobject_unref(first);
    }
    g_assert_true(qlist_empty(l));
    qlist_append_int(l, 9);                 /* tail reset correctly after emptying */
    g_assert_cmpuint(qlist_size(l), ==, 1);
}

static QObject *json(const char *s)
{
    return qobject_from_json(s, &error_abort);
}

static void test_equal(void)
{
    static const char *const equal_pairs[][2] = {
        { "1", "1.0" },
        { "-1", "-1.0" },
        { "0", "-0.0" },
        { "9223372036854775807", "9223372036854775807" },
        { "{\"a\": 1, \"b\": [1, 2]}", "{\"b\": [1, 2.0], \"a\": 1}" },
        { "null", "null" },
        { "\"x\"", "'x'" },
    };
    static const char *const unequal_pairs[][2] = {
        { "1", "2" },
        { "1", "\"1\"" },
        { "9007199254740993", "9007199254740992.0" },    /* 2^53 + 1 vs 2^53 */
        { "18446744073709551615", "-1" },
        { "{\"a\": 1}", "{\"a\": 1, \"b\": 2}" },
        { "[1, 2]", "[2, 1]" },
        { "[1]", "[1, 1]" },
        { "true", "false" },
        { "0.5", "0" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(equal_pairs); i++) {
        g_autoptr(QObject) a = json(equal_pairs[i][0]);
        g_autoptr(QObject) b = json(equal_pairs[i][1]);
        g_assert_true(qobject_is_equal(a, b));
        g_assert_true(qobject_is_equal(b, a));
    }
    for (size_t i = 0; i < ARRAY_SIZE(unequal_pairs); i++) {
        g_autoptr(QObject) a = json(unequal_pairs[i][0]);
        g_autoptr(QObject) b = json(unequal_pairs[i][1]);
        g_assert_false(qobject_is_equal(a, b));
        g_assert_false(qobject_is_equal(b, a));
    }
    g_autoptr(QNum) u = qnum_from_uint(5);
    g_autoptr(QNum) i = qnum_from_int(5);
    g_assert_true(qobject_is_equal(QOBJECT(u), QOBJECT(i)));
    g_assert_true(qobject_is_equal(NULL, NULL));
    g_assert_false(qobject_is_equal(QOBJECT(u), NULL));
}

static void assert_json_eq(const QObject *obj, const char *expected)
{
    g_autoptr(QObject) want = json(expected);

    if (!qobject_is_equal(obj, want)) {
        g_autoptr(GString) got = qobject_to_json(obj);
        g_error("got %s, expected %s", got->str, expected);
    }
}

static void test_flatten(void)
{
    g_autoptr(QObject) o = json("{\"driver\": \"qcow2\", \"file\": {\"driver\": \"file\","
                                " \"filename\": \"x\", \"aio\": {\"n\": 1}},"
                                " \"l\": [1, {\"a\": 2}], \"e\": {}, \"el\": []}");
    QDict *d = qobject_to(QDict, o);

    qdict_flatten(d);
    assert_json_eq(o, "{\"driver\": \"qcow2\", \"file.driver\": \"file\","
                      " \"file.filename\": \"x\", \"file.aio.n\": 1, \"l.0\": 1,"
                      " \"l.1.a\": 2, \"e\": {}, \"el\": []}");
}

static void test_crumple(void)
{
    g_autoptr(QObject) flat = json("{\"driver\": \"qcow2\", \"file.driver\": \"file\","
                                   " \"file.filename\": \"x\", \"l.0\": 1, \"l.1.a\": 2,"
                                   " \"dot..ted\": 3, \"n.dot..x.y\": 4}");
    Error *err = NULL;
    g_autoptr(QObject) nested = qdict_crumple(qobject_to(QDict, flat), &error_abort);

    assert_json_eq(nested, "{\"driver\": \"qcow2\", \"file\": {\"driver\": \"file\","
                           " \"filename\": \"x\"}, \"l\": [1, {\"a\": 2}],"
                           " \"dot.ted\": 3, \"n\": {\"dot.x\": {\"y\": 4}}}");

    /* flatten(crumple(x)) == x */
    qdict_flatten(qobject_to(QDict, nested));
    g_autoptr(QObject) flat2 = json("{\"driver\": \"qcow2\", \"file.driver\": \"file\","
                                    " \"file.filename\": \"x\", \"l.0\": 1, \"l.1.a\": 2,"
                                    " \"dot.ted\": 3, \"n.dot.x.y\": 4}");
    g_assert_true(qobject_is_equal(nested, flat2));

    static const char *const bad[] = {
        "{\"a\": 1, \"a.b\": 2}",           /* scalar and prefix */
        "{\"a.b\": 2, \"a\": 1}",
        "{\"a.0\": 1, \"a.x\": 2}",         /* list and dict keys */
        "{\"a.0\": 1, \"a.2\": 2}",         /* a gap */
        "{\"a\": {\"b\": 1}}",              /* not flat */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autoptr(QObject) in = json(bad[i]);
        g_assert_null(qdict_crumple(qobject_to(QDict, in), &err));
        error_free_or_abort(&err);
    }

    g_autoptr(QObject) top = json("{\"0\": \"a\", \"1\": \"b\"}");
    g_autoptr(QObject) list = qdict_crumple(qobject_to(QDict, top), &error_abort);
    assert_json_eq(list, "[\"a\", \"b\"]");
}

static void test_extract_split(void)
{
    g_autoptr(QObject) o = json("{\"file.filename\": \"x\", \"file.driver\": \"file\","
                                " \"filex\": 1, \"driver\": \"raw\"}");
    QDict *src = qobject_to(QDict, o);
    g_autoptr(QDict) sub = NULL;

    qdict_extract_subqdict(src, &sub, "file.");
    assert_json_eq(QOBJECT(sub), "{\"filename\": \"x\", \"driver\": \"file\"}");
    assert_json_eq(o, "{\"filex\": 1, \"driver\": \"raw\"}");
    qdict_extract_subqdict(src, NULL, "file");
    assert_json_eq(o, "{\"driver\": \"raw\"}");

    g_autoptr(QObject) arr = json("{\"0.a\": 1, \"0.b\": 2, \"1\": \"s\", \"2.x\": 3,"
                                  " \"4\": 5, \"other\": 6}");
    g_autoptr(QList) list = NULL;
    qdict_array_split(qobject_to(QDict, arr), &list);
    assert_json_eq(QOBJECT(list), "[{\"a\": 1, \"b\": 2}, \"s\", {\"x\": 3}]");
    assert_json_eq(arr, "{\"4\": 5, \"other\": 6}");
}

static void test_defaults_clone(void)
{
    g_autoptr(QDict) a = qdict_new();
    g_autoptr(QDict) b = qdict_new();

    qdict_put_str(a, "x", "1");
    qdict_put_str(b, "x", "2");
    qdict_put_str(b, "y", "3");
    qdict_copy_default(a, b, "x");
    qdict_copy_default(a, b, "y");
    qdict_copy_default(a, b, "z");
    qdict_set_default_str(a, "x", "9");
    qdict_set_default_str(a, "w", "4");
    assert_json_eq(QOBJECT(a), "{\"x\": \"1\", \"y\": \"3\", \"w\": \"4\"}");

    g_autoptr(QDict) c = qdict_clone_shallow(a);
    g_assert_true(qobject_is_equal(QOBJECT(a), QOBJECT(c)));
    g_assert_true(qdict_get(a, "y") == qdict_get(c, "y"));
    g_autofree char *ka = dict_keys(a);
    g_autofree char *kc = dict_keys(c);
    g_assert_cmpstr(ka, ==, kc);

    qdict_join(c, b, false);                /* "x" stays in b, "y" too */
    assert_json_eq(QOBJECT(b), "{\"x\": \"2\", \"y\": \"3\"}");
    qdict_join(c, b, true);
    g_assert_cmpuint(qdict_size(b), ==, 0);
    g_assert_cmpstr(qdict_get_str(c, "x"), ==, "2");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qobject/dict/order-spec", test_dict_order_spec);
    g_test_add_func("/qobject/dict/order-bucket", test_dict_order_bucket);
    g_test_add_func("/qobject/dict/basic", test_dict_basic);
    g_test_add_func("/qobject/dict/defaults-clone", test_defaults_clone);
    g_test_add_func("/qobject/dict/flatten", test_flatten);
    g_test_add_func("/qobject/dict/crumple", test_crumple);
    g_test_add_func("/qobject/dict/extract-split", test_extract_split);
    g_test_add_func("/qobject/refcount", test_refcount);
    g_test_add_func("/qobject/casts", test_casts);
    g_test_add_func("/qobject/qnum", test_qnum);
    g_test_add_func("/qobject/qlist", test_qlist);
    g_test_add_func("/qobject/equal", test_equal);
    return g_test_run();
}
