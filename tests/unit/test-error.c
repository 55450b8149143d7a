/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Unit tests for util/error.c: set, propagate, prepend, hints, classes, reporting.
 */
#include "util/osdep.h"
#include "util/error.h"

static void test_setg_and_errno(void)
{
    Error *err = NULL;

    error_setg(&err, "Could not open '%s'", "x.img");
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, "Could not open 'x.img'");
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_GENERIC_ERROR);
    error_free(err);

    err = NULL;
    error_setg_errno(&err, ENOENT, "Could not open '%s'", "y");
    g_assert_cmpstr(error_get_pretty(err), ==, "Could not open 'y': No such file or directory");
    error_free(err);
}

static void test_null_errp_drops(void)
{
    error_setg(NULL, "dropped");         /* must not crash or leak */
    error_propagate(NULL, NULL);
}

static void test_propagate_first_wins(void)
{
    Error *dst = NULL, *a = NULL, *b = NULL;

    error_setg(&a, "first");
    error_setg(&b, "second");
    error_propagate(&dst, a);
    error_propagate(&dst, b);            /* dropped: dst already set */
    g_assert_cmpstr(error_get_pretty(dst), ==, "first");
    error_free(dst);
}

static void test_prepend_and_class(void)
{
    Error *err = NULL;

    error_set(&err, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", "drive0");
    error_prepend(&err, "%s: ", "block-commit");
    g_assert_cmpstr(error_get_pretty(err), ==, "block-commit: Device 'drive0' not found");
    g_assert_cmpstr(error_class_name(error_get_class(err)), ==, "DeviceNotFound");
    error_prepend(NULL, "no-op ");       /* harmless */
    error_free_or_abort(&err);
    g_assert_null(err);
}

static void test_copy(void)
{
    Error *err = NULL, *copy;

    error_setg(&err, "msg");
    error_append_hint(&err, "a hint\n");
    copy = error_copy(err);
    error_free(err);
    g_assert_cmpstr(error_get_pretty(copy), ==, "msg");
    error_free(copy);
}

static bool fails_with_guard(int depth, Error **errp)
{
    ERRP_GUARD();

    if (depth == 0) {
        error_setg(errp, "bottom");
        return false;
    }
    fails_with_guard(depth - 1, errp);
    if (*errp) {                        /* dereferencing is safe under the guard */
        error_prepend(errp, "level %d: ", depth);
        return false;
    }
    return true;
}

static void test_errp_guard(void)
{
    Error *err = NULL;

    g_assert_false(fails_with_guard(2, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "level 2: level 1: bottom");
    error_free(err);
    g_assert_false(fails_with_guard(2, NULL));
}

static void test_report_prefix(void)
{
    if (g_test_subprocess()) {
        Error *err = NULL;
        error_set_progname("/usr/bin/godwit-img");
        error_setg(&err, "Image is corrupt");
        error_append_hint(&err, "Try check -r\n");
        error_report_err(err);
        warn_report("careful");
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("godwit-img: Image is corrupt\nTry check -r\ngodwit-img: warning: careful\n");
}

static void test_fatal_exits(void)
{
    if (g_test_subprocess()) {
        error_set_progname("godwit-io");
        error_setg(&error_fatal, "can't open device x");
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("godwit-io: can't open device x\n");
}

static void test_abort_aborts(void)
{
    if (g_test_subprocess()) {
        error_setg(&error_abort, "our bug");
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*Unexpected error in test_abort_aborts()*our bug*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/error/setg", test_setg_and_errno);
    g_test_add_func("/error/null-errp", test_null_errp_drops);
    g_test_add_func("/error/propagate", test_propagate_first_wins);
    g_test_add_func("/error/prepend-class", test_prepend_and_class);
    g_test_add_func("/error/copy", test_copy);
    g_test_add_func("/error/errp-guard", test_errp_guard);
    g_test_add_func("/error/report-prefix", test_report_prefix);
    g_test_add_func("/error/fatal", test_fatal_exits);
    g_test_add_func("/error/abort", test_abort_aborts);
    return g_test_run();
}
