/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-blkdebug: the blkdebug filter's rules (config file and options, state
 * transitions, once, immediately, iotype, sector), breakpoints, and the driver
 * registry's lookups and event names.
 *
 * Every node is blkdebug on a null-co image (read-zeroes=on), opened through
 * blk_new_open; requests go through the BlockBackend, events straight to the node.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/cutils.h"
#include "qobject/qdict.h"
#include "block/block.h"
#include "block/block-int.h"
#include "block/block-backend.h"

extern const BlockDriver bdrv_blkdebug;
extern const BlockDriver bdrv_null_co;

static char *test_dir;

/* ---- a blkdebug node on a null-co image ---- */

static BlockBackend *blkdebug_node(QDict *opts, Error **errp)
{
    qdict_put_str(opts, "driver", "blkdebug");
    qdict_put_str(opts, "image.driver", "null-co");
    qdict_put_str(opts, "image.read-zeroes", "on");
    return blk_new_open(NULL, NULL, opts, BDRV_O_RDWR, errp);
}

static void blkdebug_node_free(BlockBackend *blk)
{
    blk_unref(blk);
}

static char *write_config(const char *text)
{
    char *path = g_build_filename(test_dir, "blkdebug.conf", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* A request of one kind, run in a coroutine; done tells whether it finished. */
typedef struct Req {
    BlockBackend *bs;
    enum { REQ_READ, REQ_WRITE, REQ_FLUSH, REQ_EVENT } kind;
    int64_t offset, bytes;
    BlkdebugEvent event;
    int ret;
    bool done;
} Req;

static void coroutine_fn req_entry(void *opaque)
{
    Req *r = opaque;
    g_autofree void *buf = g_malloc0(MAX(r->bytes, 1));

    switch (r->kind) {
    case REQ_READ:
        r->ret = blk_co_pread(r->bs, r->offset, r->bytes, buf, 0);
        break;
    case REQ_WRITE:
        r->ret = blk_co_pwrite(r->bs, r->offset, r->bytes, buf, 0);
        break;
    case REQ_FLUSH:
        r->ret = blk_co_flush(r->bs);
        break;
    case REQ_EVENT:
        bdrv_debug_event(blk_bs(r->bs), r->event);
        r->ret = 0;
        break;
    }
    r->ret = MIN(r->ret, 0);
    r->done = true;
}

/* Start the request; true if it finished without the event loop. */
static bool req_start(Req *r)
{
    qemu_coroutine_enter(qemu_coroutine_create(req_entry, r));
    return r->done;
}

static int req_wait(Req *r)
{
    while (!r->done) {
        aio_poll(qemu_get_aio_context(), true);
    }
    return r->ret;
}

static int req_run(BlockBackend *bs, int kind, int64_t offset, int64_t bytes)
{
    Req r = { .bs = bs, .kind = kind, .offset = offset, .bytes = bytes };
    req_start(&r);
    return req_wait(&r);
}

static void event(BlockBackend *bs, BlkdebugEvent ev)
{
    Req r = { .bs = bs, .kind = REQ_EVENT, .event = ev };
    req_start(&r);
    req_wait(&r);
}

/* ---- tests ---- */

static void expect_open_error(QDict *opts, const char *want);

static void test_event_names(void)
{
    for (int i = 0; i < BLKDBG__MAX; i++) {
        g_assert_cmpint(blkdebug_event_from_name(blkdebug_event_name(i)), ==, i);
    }
    g_assert_cmpint(blkdebug_event_from_name("read_aio"), ==, BLKDBG_READ_AIO);
    g_assert_cmpint(blkdebug_event_from_name("flush_to_disk"), ==, BLKDBG_FLUSH_TO_DISK);
    g_assert_cmpint(blkdebug_event_from_name("pwritev"), ==, BLKDBG_PWRITEV);
    g_assert_cmpint(blkdebug_event_from_name("none"), ==, BLKDBG_NONE);
    g_assert_cmpint(blkdebug_event_from_name("bogus"), ==, -1);
    /* QEMU 7.2's list: these two exist, "corruption" does not */
    g_assert_cmpint(blkdebug_event_from_name("cor_write"), ==, BLKDBG_COR_WRITE);
    g_assert_cmpint(blkdebug_event_from_name("cluster_alloc_space"), ==,
                    BLKDBG_CLUSTER_ALLOC_SPACE);
    g_assert_cmpint(blkdebug_event_from_name("corruption"), ==, -1);
    g_assert_cmpint(BLKDBG__MAX, ==, 48);       /* QEMU 7.2 has 48 events */
}

/* take-child-perms / unshare-child-perms change what the image child holds. */
static void test_child_perms(void)
{
    QDict *opts = qdict_new();
    qdict_put_str(opts, "take-child-perms.0", "resize");
    qdict_put_str(opts, "take-child-perms.1", "consistent-read");
    qdict_put_str(opts, "unshare-child-perms.0", "write");
    BlockBackend *blk = blkdebug_node(opts, &error_abort);
    BdrvChild *image = blk_bs(blk)->file;

    g_assert_true(image->perm & BLK_PERM_RESIZE);
    g_assert_true(image->perm & BLK_PERM_CONSISTENT_READ);
    g_assert_false(image->shared_perm & BLK_PERM_WRITE);
    g_assert_true(image->shared_perm & BLK_PERM_CONSISTENT_READ);
    blkdebug_node_free(blk);

    opts = qdict_new();
    blk = blkdebug_node(opts, &error_abort);
    g_assert_false(blk_bs(blk)->file->perm & BLK_PERM_RESIZE);
    blkdebug_node_free(blk);

    opts = qdict_new();
    qdict_put_str(opts, "take-child-perms.0", "graph-mod");
    expect_open_error(opts, "Parameter 'take-child-perms[0]' does not accept value 'graph-mod'");
}

static void collect_name(void *opaque, const char *name)
{
    g_string_append_printf(opaque, "%s ", name);
}

static void test_registry(void)
{
    g_autoptr(GString) names = g_string_new("");
    Error *err = NULL;

    bdrv_iterate_format(collect_name, names, false);
    g_assert_cmpstr(names->str, ==, "blkdebug copy-before-write copy-on-read file host_device nbd null-aio null-co qcow2 raw ");
    g_assert_true(bdrv_find_format("raw") != NULL);
    g_assert_null(bdrv_find_format("vmdk"));
    g_assert_cmpstr(bdrv_find_protocol("blkdebug::x.img", true, NULL)->format_name, ==,
                    "blkdebug");
    g_assert_cmpstr(bdrv_find_protocol("null-co://", true, NULL)->format_name, ==, "null-co");
    g_assert_cmpstr(bdrv_find_protocol("/dir/a:b", true, NULL)->format_name, ==, "file");
    g_assert_cmpstr(bdrv_find_protocol("file:x", true, NULL)->format_name, ==, "file");
    g_assert_cmpstr(bdrv_find_protocol("foo:bar", false, NULL)->format_name, ==, "file");
    g_assert_null(bdrv_find_protocol("foo:bar", true, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Unknown protocol 'foo'");
    error_free(err);

    uint8_t buf[512] = { 0 };
    g_assert_cmpstr(bdrv_probe_format(buf, sizeof(buf), "x")->format_name, ==, "raw");
}

static void test_config_file(void)
{
    g_autofree char *conf = write_config(
        "# a comment\n"
        "[inject-error]\n"
        "state = \"2\"\n"
        "event = \"read_aio\"\n"
        "errno = \"28\"\n"
        "once = \"on\"\n"
        "immediately = \"on\"\n"
        "\n"
        "[set-state]\n"
        "state = \"1\"\n"
        "event = \"write_aio\"\n"
        "new_state = \"2\"\n");
    QDict *opts = qdict_new();
    qdict_put_str(opts, "config", conf);
    BlockBackend *bs = blkdebug_node(opts, &error_abort);

    /* State 1: the read_aio rule does not apply. */
    event(bs, BLKDBG_READ_AIO);
    g_assert_cmpint(req_run(bs, REQ_READ, 0, 512), ==, 0);
    /* write_aio moves to state 2; now read_aio arms ENOSPC, once. */
    event(bs, BLKDBG_WRITE_AIO);
    event(bs, BLKDBG_READ_AIO);
    g_assert_cmpint(req_run(bs, REQ_READ, 0, 512), ==, -ENOSPC);
    g_assert_cmpint(req_run(bs, REQ_READ, 0, 512), ==, 0);
    event(bs, BLKDBG_READ_AIO);
    g_assert_cmpint(req_run(bs, REQ_READ, 0, 512), ==, 0);   /* once: gone */
    blkdebug_node_free(bs);
    unlink(conf);
}

static void test_options_sector_iotype(void)
{
    QDict *opts = qdict_new();
    qdict_put_str(opts, "inject-error.0.event", "read_aio");
    qdict_put_str(opts, "inject-error.0.sector", "8");
    qdict_put_str(opts, "inject-error.0.iotype.0", "read");
    qdict_put_str(opts, "inject-error.0.immediately", "on");
    BlockBackend *bs = blkdebug_node(opts, &error_abort);

    event(bs, BLKDBG_READ_AIO);
    g_assert_cmpint(req_run(bs, REQ_READ, 0, 4096), ==, 0);          /* misses sector 8 */
    g_assert_cmpint(req_run(bs, REQ_READ, 4096, 512), ==, -EIO);     /* default errno */
    g_assert_cmpint(req_run(bs, REQ_READ, 2048, 4096), ==, -EIO);
    g_assert_cmpint(req_run(bs, REQ_WRITE, 4096, 512), ==, 0);       /* not a read */
    g_assert_cmpint(req_run(bs, REQ_READ, 4096, 512), ==, -EIO);     /* not once */
    blkdebug_node_free(bs);
}

static void test_immediately(void)
{
    QDict *opts = qdict_new();
    qdict_put_str(opts, "inject-error.0.event", "flush_to_disk");
    qdict_put_str(opts, "inject-error.0.errno", "5");
    qdict_put_str(opts, "inject-error.0.iotype.0", "flush");
    qdict_put_str(opts, "inject-error.1.event", "none");
    qdict_put_str(opts, "inject-error.1.errno", "1");
    qdict_put_str(opts, "inject-error.1.immediately", "on");
    qdict_put_str(opts, "inject-error.1.iotype", "write");
    BlockBackend *bs = blkdebug_node(opts, &error_abort);

    /* "none" fired during open: its write rule is active, and immediate. */
    Req w = { .bs = bs, .kind = REQ_WRITE, .offset = 0, .bytes = 512 };
    g_assert_true(req_start(&w));
    g_assert_cmpint(w.ret, ==, -EPERM);
    g_assert_cmpint(req_run(bs, REQ_READ, 0, 512), ==, 0);

    /* immediately=off: the failure comes back only through the event loop. */
    event(bs, BLKDBG_FLUSH_TO_DISK);
    Req f = { .bs = bs, .kind = REQ_FLUSH };
    g_assert_false(req_start(&f));
    g_assert_cmpint(req_wait(&f), ==, -EIO);
    /* The flush rule replaced the write rule. */
    g_assert_cmpint(req_run(bs, REQ_WRITE, 0, 512), ==, 0);
    blkdebug_node_free(bs);
}

static void test_breakpoint(void)
{
    BlockBackend *blk = blkdebug_node(qdict_new(), &error_abort);
    BlockDriverState *bs = blk_bs(blk);

    g_assert_cmpint(bdrv_debug_breakpoint(bs, "bogus", "A"), ==, -ENOENT);
    g_assert_cmpint(bdrv_debug_breakpoint(bs, "write_aio", "A"), ==, 0);
    g_assert_false(bdrv_debug_is_suspended(bs, "A"));

    Req r = { .bs = blk, .kind = REQ_EVENT, .event = BLKDBG_WRITE_AIO };
    g_assert_false(req_start(&r));
    g_assert_true(bdrv_debug_is_suspended(bs, "A"));
    aio_poll(qemu_get_aio_context(), false);
    g_assert_false(r.done);
    g_assert_cmpint(bdrv_debug_resume(bs, "B"), ==, -ENOENT);
    g_assert_cmpint(bdrv_debug_resume(bs, "A"), ==, 0);
    g_assert_true(r.done);
    g_assert_false(bdrv_debug_is_suspended(bs, "A"));

    /* One-shot: the next write_aio passes. */
    r.done = false;
    g_assert_true(req_start(&r));

    /* remove_break drops the rule and releases suspended requests. */
    g_assert_cmpint(bdrv_debug_breakpoint(bs, "read_aio", "C"), ==, 0);
    Req r2 = { .bs = blk, .kind = REQ_EVENT, .event = BLKDBG_READ_AIO };
    g_assert_false(req_start(&r2));
    g_assert_cmpint(bdrv_debug_remove_breakpoint(bs, "C"), ==, 0);
    g_assert_true(r2.done);
    g_assert_cmpint(bdrv_debug_remove_breakpoint(bs, "C"), ==, -ENOENT);
    blkdebug_node_free(blk);
}

static void expect_open_error(QDict *opts, const char *want)
{
    Error *err = NULL;

    BlockBackend *blk = blkdebug_node(opts, &err);
    g_assert_null(blk);
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    error_free(err);
}

static void test_errors(void)
{
    QDict *opts = qdict_new();
    qdict_put_str(opts, "inject-error.0.errno", "5");
    expect_open_error(opts, "Missing event name for rule");

    opts = qdict_new();
    qdict_put_str(opts, "set-state.0.event", "nonsense");
    expect_open_error(opts, "invalid parameter value: nonsense");

    g_autofree char *missing = g_build_filename(test_dir, "nope.conf", NULL);
    opts = qdict_new();
    qdict_put_str(opts, "config", missing);
    expect_open_error(opts, "Could not read blkdebug config file: No such file or directory");

    opts = qdict_new();
    qdict_put_str(opts, "align", "3");
    expect_open_error(opts, "Cannot meet constraints with align 3");

    opts = qdict_new();
    Error *err = NULL;
    bdrv_blkdebug.parse_filename("blkdebug:nocolon", opts, &err);
    g_assert_cmpstr(error_get_pretty(err), ==, "blkdebug requires both config file and image path");
    error_free(err);
    bdrv_blkdebug.parse_filename("blkdebug::img.qcow2", opts, &error_abort);
    g_assert_cmpstr(qdict_get_try_str(opts, "x-image"), ==, "img.qcow2");
    g_assert_false(qdict_haskey(opts, "config"));
    bdrv_blkdebug.parse_filename("blkdebug:c.conf:i.img", opts, &error_abort);
    g_assert_cmpstr(qdict_get_try_str(opts, "config"), ==, "c.conf");
    g_assert_cmpstr(qdict_get_try_str(opts, "x-image"), ==, "i.img");
    qobject_unref(opts);
}

/* The legacy filename through bdrv_open: raw (probed) on blkdebug on a file. */
static void test_legacy_filename(void)
{
    g_autofree char *conf = write_config("[inject-error]\n"
                                         "event = \"read_aio\"\n"
                                         "errno = \"5\"\n"
                                         "once = \"on\"\n");
    g_autofree char *img = g_build_filename(test_dir, "legacy.img", NULL);
    g_autofree char *name = g_strdup_printf("blkdebug:%s:%s", conf, img);
    g_autofree char *name2 = g_strdup_printf("blkdebug::%s", img);
    char buf[512];

    g_assert_true(g_file_set_contents(img, "", 0, NULL));
    g_assert_cmpint(truncate(img, 64 * KiB), ==, 0);
    QDict *opts = qdict_new();
    qdict_put_str(opts, "driver", "raw");
    BlockBackend *blk = blk_new_open(name, NULL, opts, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(blk_pread(blk, 0, sizeof(buf), buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, 0, sizeof(buf), buf, 0), >=, 0);
    blk_unref(blk);

    opts = qdict_new();
    qdict_put_str(opts, "driver", "raw");
    blk = blk_new_open(name2, NULL, opts, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(blk_pread(blk, 0, sizeof(buf), buf, 0), >=, 0);
    blk_unref(blk);
    unlink(img);
    unlink(conf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_dir = g_dir_make_tmp("godwit-blkdebug-XXXXXX", NULL);

    g_test_add_func("/blkdebug/event-names", test_event_names);
    g_test_add_func("/blkdebug/registry", test_registry);
    g_test_add_func("/blkdebug/child-perms", test_child_perms);
    g_test_add_func("/blkdebug/config-file", test_config_file);
    g_test_add_func("/blkdebug/options/sector-iotype", test_options_sector_iotype);
    g_test_add_func("/blkdebug/immediately", test_immediately);
    g_test_add_func("/blkdebug/breakpoint", test_breakpoint);
    g_test_add_func("/blkdebug/errors", test_errors);
    g_test_add_func("/blkdebug/legacy-filename", test_legacy_filename);

    int ret = g_test_run();
    rmdir(test_dir);
    g_free(test_dir);
    return ret;
}
