/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-block-graph.c: opening nodes from options (null-co, raw), node names,
 * unknown options, references, backing chains and cycles, replace/append,
 * permission conflicts, op blockers.
 */
#include "block-fake.h"
#include "qobject/qdict.h"

static void expect_open_error(const char *filename, QDict *opts, int flags, const char *msg)
{
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(filename, NULL, opts, flags, &err);

    g_assert_null(bs);
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, msg);
    error_free(err);
}

static QDict *opts_null(const char *node_name)
{
    QDict *o = qdict_new();

    qdict_put_str(o, "driver", "null-co");
    if (node_name) {
        qdict_put_str(o, "node-name", node_name);
    }
    return o;
}

static void test_open_null_and_names(void)
{
    BlockDriverState *bs = bdrv_open(NULL, NULL, opts_null("n0"), BDRV_O_RDWR, &error_abort);

    g_assert_cmpstr(bdrv_get_node_name(bs), ==, "n0");
    g_assert_true(bdrv_find_node("n0") == bs);
    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "null-co");
    expect_open_error(NULL, opts_null("n0"), 0, "Duplicate nodes with node-name='n0'");
    expect_open_error(NULL, opts_null("0bad"), 0, "Invalid node-name: '0bad'");
    bdrv_unref(bs);
    g_assert_null(bdrv_find_node("n0"));

    /* automatic names start with '#block' */
    bs = bdrv_open(NULL, NULL, opts_null(NULL), 0, &error_abort);
    g_assert_true(g_str_has_prefix(bdrv_get_node_name(bs), "#block"));
    bdrv_unref(bs);
}

static void test_open_errors(void)
{
    QDict *o = opts_null(NULL);

    qdict_put_str(o, "bogus", "1");
    expect_open_error(NULL, o, 0, "Block protocol 'null-co' doesn't support the option 'bogus'");
    o = qdict_new();
    qdict_put_str(o, "driver", "nosuch");
    expect_open_error(NULL, o, 0, "Unknown driver 'nosuch'");
    o = qdict_new();
    qdict_put_str(o, "driver", "raw");
    qdict_put_str(o, "file.driver", "null-co");
    qdict_put_str(o, "bogus", "1");
    expect_open_error(NULL, o, 0, "Block format 'raw' does not support the option 'bogus'");
    expect_open_error(NULL, NULL, 0, "Must specify either driver or file");
    expect_open_error(NULL, NULL, 0, "Must specify either driver or file");
    Error *err = NULL;
    g_assert_null(bdrv_open(NULL, "nonode", NULL, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Cannot find device='nonode' nor node-name='nonode'");
    error_free(err);
}

static void test_open_nested_and_json(void)
{
    QDict *o = qdict_new();
    BlockDriverState *bs, *file;

    qdict_put_str(o, "driver", "raw");
    qdict_put_str(o, "node-name", "fmt");
    qdict_put_str(o, "file.driver", "null-co");
    qdict_put_str(o, "file.node-name", "proto");
    qdict_put_str(o, "file.size", "4096");
    bs = bdrv_open(NULL, NULL, o, BDRV_O_RDWR, &error_abort);
    g_assert_nonnull(bs->file);
    file = bs->file->bs;
    g_assert_cmpstr(bdrv_get_node_name(file), ==, "proto");
    g_assert_cmpint(bdrv_getlength(bs), ==, 4096);
    g_assert_false(bdrv_is_read_only(file));

    /* a second format node referencing the existing protocol node by name */
    o = qdict_new();
    qdict_put_str(o, "driver", "raw");
    qdict_put_str(o, "file", "proto");
    qdict_put_bool(o, "read-only", true);
    BlockDriverState *bs2 = bdrv_open(NULL, NULL, o, 0, &error_abort);
    g_assert_true(bs2->file->bs == file);
    bdrv_unref(bs2);
    bdrv_unref(bs);

    /* json: pseudo-filename, probing falls back to raw */
    bs = bdrv_open("json:{\"driver\": \"null-co\", \"size\": 1024, \"node-name\": \"j\"}",
                   NULL, NULL, BDRV_O_PROTOCOL, &error_abort);
    g_assert_cmpstr(bdrv_get_node_name(bs), ==, "j");
    g_assert_cmpint(bdrv_getlength(bs), ==, 1024);
    bdrv_unref(bs);
    bs = bdrv_open("null-co://", NULL, NULL, 0, &error_abort);
    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "raw");
    g_assert_true(bs->probed);
    bdrv_unref(bs);
}

static void test_backing_cycle_and_replace(void)
{
    BlockDriverState *a = fake_node("a", 1 * MiB, 512, 0);
    BlockDriverState *b = fake_node("b", 1 * MiB, 512, 0);
    BlockDriverState *c = fake_node("c", 1 * MiB, 512, 0);
    Error *err = NULL;

    g_assert_cmpint(bdrv_set_backing_hd(a, b, &error_abort), ==, 0);
    g_assert_cmpint(bdrv_set_backing_hd(b, c, &error_abort), ==, 0);
    g_assert_true(bdrv_chain_contains(a, c));
    g_assert_cmpint(bdrv_get_backing_file_depth(a), ==, 2);
    g_assert_cmpint(bdrv_set_backing_hd(c, a, &err), <, 0);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Making 'a' a backing child of 'c' would create a cycle");
    error_free(err);

    /* a backend on b moves to a new node d with replace_node */
    BlockBackend *blk = fake_blk(b, BLK_PERM_CONSISTENT_READ);
    BlockDriverState *d = fake_node("d", 1 * MiB, 512, 0);
    g_assert_cmpint(bdrv_replace_node(b, d, &error_abort), ==, 0);
    g_assert_true(blk_bs(blk) == d);
    g_assert_true(bdrv_backing_bs(a) == d);
    g_assert_null(b->parents);

    /* append: e goes on top of d, d's users now see e */
    BlockDriverState *e = fake_node("e", 1 * MiB, 512, 0);
    g_assert_cmpint(bdrv_append(e, d, &error_abort), ==, 0);
    g_assert_true(blk_bs(blk) == e);
    g_assert_true(bdrv_backing_bs(e) == d);
    blk_unref(blk);
    bdrv_unref(e);
    bdrv_unref(d);
    bdrv_unref(b);
    bdrv_unref(a);
    bdrv_unref(c);
    g_assert_null(bdrv_find_node("a"));
}

static void test_perm_conflict(void)
{
    BlockDriverState *bs = fake_node("fmt", 1 * MiB, 512, 0);
    BlockBackend *b1 = blk_new(PERM_RW, BLK_PERM_CONSISTENT_READ);
    BlockBackend *b2 = blk_new(PERM_RW, BLK_PERM_ALL);
    Error *err = NULL;

    g_assert_true(blk_set_name(b1, "sda", &error_abort));
    g_assert_cmpint(blk_insert_bs(b1, bs, &error_abort), ==, 0);
    g_assert_cmpint(blk_insert_bs(b2, bs, &err), <, 0);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Permission conflict on node 'fmt': permissions 'write' are both "
                    "required by an unnamed block device (uses node 'fmt' as 'root' child) "
                    "and unshared by block device 'sda' (uses node 'fmt' as 'root' child).");
    error_free(err);
    g_assert_null(blk_bs(b2));
    /* a reader is fine */
    g_assert_cmpint(blk_set_perm(b2, BLK_PERM_CONSISTENT_READ, BLK_PERM_ALL, &error_abort), ==, 0);
    g_assert_cmpint(blk_insert_bs(b2, bs, &error_abort), ==, 0);
    blk_unref(b2);
    blk_unref(b1);
    bdrv_unref(bs);

    /* read-only nodes refuse writers */
    bs = fake_node(NULL, 1 * MiB, 512, 0);
    bs->read_only = true;
    b1 = blk_new(PERM_RW, BLK_PERM_ALL);
    err = NULL;
    g_assert_cmpint(blk_insert_bs(b1, bs, &err), <, 0);
    g_assert_cmpstr(error_get_pretty(err), ==, "Block node is read-only");
    error_free(err);
    blk_unref(b1);
    bdrv_unref(bs);
}

static void test_op_blockers_and_lookup(void)
{
    BlockDriverState *bs = fake_node("node0", 1 * MiB, 512, 0);
    BlockBackend *blk = fake_blk(bs, BLK_PERM_CONSISTENT_READ);
    Error *reason = NULL, *err = NULL;

    g_assert_true(blk_set_name(blk, "drive0", &error_abort));
    g_assert_true(bdrv_lookup_bs("drive0", NULL, &error_abort) == bs);
    g_assert_true(bdrv_lookup_bs(NULL, "node0", &error_abort) == bs);
    g_assert_cmpstr(bdrv_get_device_or_node_name(bs), ==, "drive0");
    g_assert_false(blk_set_name(blk, "node0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Device name 'node0' conflicts with an existing node name");
    error_free(err);
    err = NULL;
    error_setg(&reason, "block device is in use by block job: stream");
    bdrv_op_block_all(bs, reason);
    g_assert_true(bdrv_op_is_blocked(bs, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Node 'drive0' is busy: block device is in use by block job: stream");
    error_free(err);
    bdrv_op_unblock_all(bs, reason);
    g_assert_false(bdrv_op_is_blocked(bs, NULL));
    error_free(reason);
    blk_unref(blk);
    bdrv_unref(bs);
}

static void test_create_opts_help(void)
{
    static const CreateOption opts[] = {
        { "size", CREATE_OPT_SIZE, "Virtual disk size" },
        { "preallocation", CREATE_OPT_STRING, "Preallocation mode (allowed values: off)" },
        { "nocow", CREATE_OPT_BOOL, "Turn off copy-on-write" },
        { "extent_size_hint", CREATE_OPT_SIZE, "Extent size hint" },
        { NULL },
    };
    g_autofree char *help = bdrv_create_opts_help(opts);
    QDict *out = qdict_new();
    Error *err = NULL;

    /* QEMU pads the name to 22 columns; a longer one just gets " - " */
    g_assert_cmpstr(help, ==, "Supported options:\n"
                    "  extent_size_hint=<size> - Extent size hint\n"
                    "  nocow=<bool (on/off)>  - Turn off copy-on-write\n"
                    "  preallocation=<str>    - Preallocation mode (allowed values: off)\n"
                    "  size=<size>            - Virtual disk size\n");
    g_assert_true(bdrv_create_opts_parse(opts, "size=1M,preallocation=off", out, &error_abort));
    g_assert_cmpstr(qdict_get_str(out, "size"), ==, "1M");
    g_assert_false(bdrv_create_opts_parse(opts, "foo=1", out, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Invalid parameter 'foo'");
    error_free(err);
    qobject_unref(out);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_get_aio_context();
    g_test_add_func("/block-graph/open/null-and-names", test_open_null_and_names);
    g_test_add_func("/block-graph/open/errors", test_open_errors);
    g_test_add_func("/block-graph/open/nested-and-json", test_open_nested_and_json);
    g_test_add_func("/block-graph/backing-cycle-replace", test_backing_cycle_and_replace);
    g_test_add_func("/block-graph/perm-conflict", test_perm_conflict);
    g_test_add_func("/block-graph/op-blockers-lookup", test_op_blockers_and_lookup);
    g_test_add_func("/block-graph/create-opts-help", test_create_opts_help);
    return g_test_run();
}
