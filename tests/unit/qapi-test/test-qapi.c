/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The QAPI generator and runtime, end to end: a test schema (schema.json here) is
 * generated at build time; these tests dispatch JSON requests through the generated
 * marshallers to the handlers below and check replies, QEMU's error texts, member
 * order, events and introspection.
 */
#include "util/osdep.h"
#include "qapi/qmp-dispatch.h"
#include "qobject/qjson.h"
#include "qapi-commands.h"
#include "qapi-events.h"
#include "qapi-visit.h"

extern const char qmp_schema_json[];

static TestOptions *last_added;

void qmp_test_add(TestOptions *arg, Error **errp)
{
    if (arg->node_name && !strcmp(arg->node_name, "fail")) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", arg->node_name);
        return;
    }
    qapi_free_TestOptions(last_added);
    last_added = g_memdup2(arg, sizeof(*arg));
    /* take over the members: the marshaller frees arg itself */
    memset(arg, 0, sizeof(*arg));
}

TestInfo *qmp_test_query(Error **errp)
{
    TestInfo *info = g_new0(TestInfo, 1);
    TestColorList *c = g_new0(TestColorList, 1);

    info->status = g_strdup("running");
    info->running = true;
    c->value = TEST_COLOR_DARK_BLUE;
    info->colors = c;
    info->u8 = 255;
    return info;
}

char *qmp_test_args(const char *device, int64_t speed, bool has_force, bool force,
                    TestRef *ref, bool has_level, int8_t level, strList *names,
                    bool has_color, TestColor color, Error **errp)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "%s/%" PRId64, device, speed);
    if (has_force) {
        g_string_append_printf(s, " force=%d", force);
    }
    if (ref) {
        if (ref->type == QTYPE_QSTRING) {
            g_string_append_printf(s, " ref=%s", ref->u.reference);
        } else {
            g_string_append_printf(s, " def=%s", TestKind_str(ref->u.definition.kind));
            if (ref->u.definition.kind == TEST_KIND_FILE) {
                g_string_append_printf(s, ":%s", ref->u.definition.u.file.filename);
            }
        }
    }
    if (has_level) {
        g_string_append_printf(s, " level=%d", level);
    }
    for (strList *n = names; n; n = n->next) {
        g_string_append_printf(s, " name=%s", n->value);
    }
    if (has_color) {
        g_string_append_printf(s, " color=%s", TestColor_str(color));
    }
    return g_string_free(s, false);
}

void qmp_test_oob(Error **errp)
{
}

/* Run one request given as JSON text; return the reply as compact JSON text. */
static char *run(const char *request, QmpDispatchMode mode)
{
    Error *err = NULL;
    QObject *req = qobject_from_json(request, &err);
    QDict *rsp;
    GString *out;

    g_assert_no_error((void *)err);
    rsp = qmp_dispatch(req, mode, true);
    out = qobject_to_json(QOBJECT(rsp));
    qobject_unref(req);
    qobject_unref(rsp);
    return g_string_free(out, false);
}

static void check(const char *request, const char *expected)
{
    g_autofree char *got = run(request, QMP_MODE_COMMAND);
    g_assert_cmpstr(got, ==, expected);
}

#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}"

static void test_success(void)
{
    check("{'execute': 'test-args', 'arguments': {'device': 'drive0', 'speed': 5}}",
          "{\"return\": \"drive0/5\"}");
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': -1, 'force': true,"
          " 'level': -128, 'names': ['a', 'b'], 'color': 'dark-blue', 'ref': 'node1'}}",
          "{\"return\": \"d/-1 force=1 ref=node1 level=-128 name=a name=b color=dark-blue\"}");
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 0,"
          " 'ref': {'kind': 'file', 'filename': 'x.img', 'size': 512}}}",
          "{\"return\": \"d/0 def=file:x.img\"}");
}

static void test_argument_errors(void)
{
    check("{'execute': 'test-args', 'arguments': {'device': 'd'}}",
          ERR("Parameter 'speed' is missing"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1, 'bogus': 1}}",
          ERR("Parameter 'bogus' is unexpected"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 'fast'}}",
          ERR("Invalid parameter type for 'speed', expected: integer"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1.5}}",
          ERR("Invalid parameter type for 'speed', expected: integer"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1, 'level': 128}}",
          ERR("Parameter 'level' expects int8_t"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1, 'color': 'pink'}}",
          ERR("Parameter 'color' does not accept value 'pink'"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1, 'names': ['a', 1]}}",
          ERR("Invalid parameter type for 'names[1]', expected: string"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1, 'force': 'yes'}}",
          ERR("Invalid parameter type for 'force', expected: boolean"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1,"
          " 'ref': {'kind': 'file', 'filename': 'x', 'bogus': 1}}}",
          ERR("Parameter 'ref.bogus' is unexpected"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1,"
          " 'ref': {'kind': 'file'}}}",
          ERR("Parameter 'ref.filename' is missing"));
    check("{'execute': 'test-args', 'arguments': {'device': 'd', 'speed': 1, 'ref': 7}}",
          ERR("Invalid parameter type for 'ref', expected: TestRef"));
    check("{'execute': 'test-query', 'arguments': {'x': 1}}",
          ERR("Parameter 'x' is unexpected"));
}

static void test_boxed_union(void)
{
    check("{'execute': 'test-add', 'arguments': {'kind': 'null', 'node-name': 'n0',"
          " 'read-zeroes': true}}", "{\"return\": {}}");
    g_assert_nonnull(last_added);
    g_assert_cmpint(last_added->kind, ==, TEST_KIND_NULL);
    g_assert_cmpstr(last_added->node_name, ==, "n0");
    g_assert_true(last_added->u.null.has_read_zeroes && last_added->u.null.read_zeroes);
    check("{'execute': 'test-add', 'arguments': {'kind': 'disk'}}",
          ERR("Parameter 'kind' does not accept value 'disk'"));
    check("{'execute': 'test-add', 'arguments': {'node-name': 'x'}}",
          ERR("Parameter 'kind' is missing"));
    check("{'execute': 'test-add', 'arguments': {'kind': 'null', 'filename': 'f'}}",
          ERR("Parameter 'filename' is unexpected"));
    check("{'execute': 'test-add', 'arguments': {'kind': 'file', 'filename': 'f',"
          " 'node-name': 'fail'}}", ERR("Duplicate nodes with node-name='fail'"));
    qapi_free_TestOptions(last_added);
    last_added = NULL;
}

static void test_return_member_order(void)
{
    /*
     * Inserted in schema order running, singlestep, status (as QEMU's StatusInfo);
     * QEMU's QDict order prints status, singlestep, running (spec §2.3). Buckets:
     * u8 106, singlestep = status 202 (last inserted first), running 246, colors 314.
     */
    check("{'execute': 'test-query'}",
          "{\"return\": {\"u8\": 255, \"status\": \"running\", \"singlestep\": false, "
          "\"running\": true, \"colors\": [\"dark-blue\"]}}");
}

static void test_request_errors(void)
{
    check("[1, 2]", ERR("QMP input must be a JSON object"));
    check("{'arguments': {}}", ERR("QMP input lacks member 'execute'"));
    check("{'execute': 1}", ERR("QMP input member 'execute' must be a string"));
    check("{'execute': 'test-query', 'arguments': []}",
          ERR("QMP input member 'arguments' must be an object"));
    check("{'execute': 'test-query', 'foo': 1}", ERR("QMP input member 'foo' is unexpected"));
    check("{'execute': 'nope', 'id': 'libvirt-7'}",
          "{\"id\": \"libvirt-7\", \"error\": {\"class\": \"CommandNotFound\", "
          "\"desc\": \"The command nope has not been found\"}}");
    check("{'exec-oob': 'test-query'}", ERR("The command test-query does not support OOB"));
    check("{'exec-oob': 'test-oob'}", "{\"return\": {}}");
    check("{'execute': 'test-oob', 'id': {'nested': [1]}}",
          "{\"return\": {}, \"id\": {\"nested\": [1]}}");
}

static void test_negotiation(void)
{
    g_autofree char *a = run("{'execute': 'test-query'}", QMP_MODE_NEGOTIATION);
    g_assert_cmpstr(a, ==, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                    "\"Expecting capabilities negotiation with 'qmp_capabilities'\"}}");
}

static GString *events;

static void event_hook(const char *event, QDict *data, int64_t seconds, int64_t usecs)
{
    g_assert_cmpint(seconds, >, 1600000000);
    g_string_append_printf(events, "%s", event);
    if (data) {
        g_autoptr(GString) s = qobject_to_json(QOBJECT(data));
        g_string_append_printf(events, " %s", s->str);
    }
    g_string_append_c(events, ';');
}

static void test_events(void)
{
    events = g_string_new(NULL);
    qapi_event_set_hook(event_hook);
    qapi_event_send_test_event("job0", 100, 50, 0, TEST_COLOR_GREEN, NULL);
    qapi_event_send_test_event("job0", 100, 100, 0, TEST_COLOR_RED, "Input/output error");
    qapi_event_send_test_empty();
    qapi_event_set_hook(NULL);
    qapi_event_send_test_empty();          /* no hook: dropped, no leak */
    /* block-job events print device, len, offset, speed, type (spec §2.3) */
    g_assert_cmpstr(events->str, ==,
        "TEST_EVENT {\"device\": \"job0\", \"len\": 100, \"offset\": 50, \"speed\": 0, "
        "\"type\": \"green\"};"
        "TEST_EVENT {\"device\": \"job0\", \"len\": 100, \"offset\": 100, \"speed\": 0, "
        "\"type\": \"red\", \"error\": \"Input/output error\"};"
        "TEST_EMPTY;");
    g_string_free(events, true);
}

static void test_introspection(void)
{
    Error *err = NULL;
    QObject *schema = qobject_from_json(qmp_schema_json, &err);
    QList *list = qobject_to(QList, schema);
    bool found_cmd = false, found_enum = false;

    g_assert_no_error((void *)err);
    g_assert_nonnull(list);
    for (const QListEntry *e = qlist_first(list); e; e = qlist_next(e)) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(e));
        const char *meta = qdict_get_str(info, "meta-type");
        if (!strcmp(qdict_get_str(info, "name"), "test-oob")) {
            g_assert_cmpstr(meta, ==, "command");
            g_assert_true(qdict_get_bool(info, "allow-oob"));
            found_cmd = true;
        }
        if (!strcmp(meta, "enum") && qdict_get_qlist(info, "values") &&
            qlist_size(qdict_get_qlist(info, "values")) == 3) {
            found_enum = true;           /* TestColor, name masked */
            g_assert_true(g_ascii_isdigit(qdict_get_str(info, "name")[0]));
        }
    }
    g_assert_true(found_cmd && found_enum);
    qobject_unref(schema);
}

static void test_output_visitor_roundtrip(void)
{
    Error *err = NULL;
    QObject *in = qobject_from_json("{'kind': 'file', 'node-name': 'n', 'filename': 'f',"
                                    " 'size': 18446744073709551615, 'aio': 'green'}", &err);
    TestOptions *opts;
    QObject *out;

    g_assert_true(qapi_in_TestOptions(in, NULL, &opts, &err));
    g_assert_cmpuint(opts->u.file.size, ==, UINT64_MAX);
    out = qapi_out_TestOptions(opts);
    g_assert_true(qobject_is_equal(in, out));
    qobject_unref(in);
    qobject_unref(out);
    qapi_free_TestOptions(opts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qapi/dispatch/success", test_success);
    g_test_add_func("/qapi/dispatch/argument-errors", test_argument_errors);
    g_test_add_func("/qapi/dispatch/boxed-union", test_boxed_union);
    g_test_add_func("/qapi/dispatch/member-order", test_return_member_order);
    g_test_add_func("/qapi/dispatch/request-errors", test_request_errors);
    g_test_add_func("/qapi/dispatch/negotiation", test_negotiation);
    g_test_add_func("/qapi/events", test_events);
    g_test_add_func("/qapi/introspection", test_introspection);
    g_test_add_func("/qapi/visitor/roundtrip", test_output_visitor_roundtrip);
    return g_test_run();
}
