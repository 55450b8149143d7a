/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-cutils: number and size parsing and the exact size/time strings the tools
 * print.
 */
#include "util/osdep.h"
#include "util/cutils.h"

/* ---- integers ---- */

static void test_strtoi64(void)
{
    const char *end;
    int64_t v;

    g_assert_cmpint(qemu_strtoi64("  -42", NULL, 10, &v), ==, 0);
    g_assert_cmpint(v, ==, -42);
    g_assert_cmpint(qemu_strtoi64("0x7f", NULL, 0, &v), ==, 0);
    g_assert_cmpint(v, ==, 127);
    g_assert_cmpint(qemu_strtoi64("017", NULL, 0, &v), ==, 0);
    g_assert_cmpint(v, ==, 15);
    g_assert_cmpint(qemu_strtoi64("12abc", NULL, 10, &v), ==, -EINVAL);
    g_assert_cmpint(qemu_strtoi64("12abc", &end, 10, &v), ==, 0);
    g_assert_cmpint(v, ==, 12);
    g_assert_cmpstr(end, ==, "abc");
    g_assert_cmpint(qemu_strtoi64("", &end, 10, &v), ==, -EINVAL);
    g_assert_cmpint(v, ==, 0);
    g_assert_cmpint(qemu_strtoi64("  x", &end, 10, &v), ==, -EINVAL);
    g_assert_cmpstr(end, ==, "  x");
    g_assert_cmpint(qemu_strtoi64(NULL, &end, 10, &v), ==, -EINVAL);
    g_assert_null(end);
    g_assert_cmpint(qemu_strtoi64("9223372036854775807", NULL, 10, &v), ==, 0);
    g_assert_cmpint(v, ==, INT64_MAX);
    g_assert_cmpint(qemu_strtoi64("9223372036854775808", NULL, 10, &v), ==, -ERANGE);
    g_assert_cmpint(v, ==, INT64_MAX);
    g_assert_cmpint(qemu_strtoi64("-9223372036854775809", NULL, 10, &v), ==, -ERANGE);
    g_assert_cmpint(v, ==, INT64_MIN);
}

static void test_strtou64(void)
{
    uint64_t v;

    g_assert_cmpint(qemu_strtou64("18446744073709551615", NULL, 10, &v), ==, 0);
    g_assert_cmpuint(v, ==, UINT64_MAX);
    g_assert_cmpint(qemu_strtou64("18446744073709551616", NULL, 10, &v), ==, -ERANGE);
    g_assert_cmpuint(v, ==, UINT64_MAX);
    g_assert_cmpint(qemu_strtou64("-1", NULL, 10, &v), ==, 0);
    g_assert_cmpuint(v, ==, UINT64_MAX);
    g_assert_cmpint(qemu_strtou64("ff", NULL, 16, &v), ==, 0);
    g_assert_cmpuint(v, ==, 255);
    g_assert_cmpint(qemu_strtou64("1 ", NULL, 10, &v), ==, -EINVAL);
}

static void test_strtoi_ui(void)
{
    int i;
    unsigned int u;
    long l;
    unsigned long ul;

    g_assert_cmpint(qemu_strtoi("2147483647", NULL, 10, &i), ==, 0);
    g_assert_cmpint(i, ==, INT_MAX);
    g_assert_cmpint(qemu_strtoi("2147483648", NULL, 10, &i), ==, -ERANGE);
    g_assert_cmpint(i, ==, INT_MAX);
    g_assert_cmpint(qemu_strtoi("-2147483649", NULL, 10, &i), ==, -ERANGE);
    g_assert_cmpint(i, ==, INT_MIN);
    g_assert_cmpint(qemu_strtoi("-7", NULL, 10, &i), ==, 0);
    g_assert_cmpint(i, ==, -7);
    g_assert_cmpint(qemu_strtoui("4294967295", NULL, 10, &u), ==, 0);
    g_assert_cmpuint(u, ==, UINT_MAX);
    g_assert_cmpint(qemu_strtoui("4294967296", NULL, 10, &u), ==, -ERANGE);
    g_assert_cmpuint(u, ==, UINT_MAX);
    g_assert_cmpint(qemu_strtoui("-1", NULL, 10, &u), ==, 0);
    g_assert_cmpuint(u, ==, UINT_MAX);
    g_assert_cmpint(qemu_strtoui("-4294967296", NULL, 10, &u), ==, -ERANGE);
    g_assert_cmpint(qemu_strtol("-5", NULL, 10, &l), ==, 0);
    g_assert_cmpint(l, ==, -5);
    g_assert_cmpint(qemu_strtoul("5", NULL, 10, &ul), ==, 0);
    g_assert_cmpuint(ul, ==, 5);
}

static void test_strtod(void)
{
    double d;
    const char *end;

    g_assert_cmpint(qemu_strtod("1.25", NULL, &d), ==, 0);
    g_assert_cmpfloat(d, ==, 1.25);
    g_assert_cmpint(qemu_strtod("inf", NULL, &d), ==, 0);
    g_assert_cmpint(qemu_strtod_finite("inf", &end, &d), ==, -EINVAL);
    g_assert_cmpstr(end, ==, "inf");
    g_assert_cmpint(qemu_strtod_finite("2.5x", &end, &d), ==, 0);
    g_assert_cmpstr(end, ==, "x");
    g_assert_cmpint(qemu_strtod_finite("1e999", NULL, &d), ==, -ERANGE);
}

/* ---- sizes ---- */

typedef struct SizeCase {
    const char *str;
    int ret;
    uint64_t val;
} SizeCase;

static void check_sizes(int (*fn)(const char *, const char **, uint64_t *),
                        const SizeCase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0xdeadbeef;
        int ret = fn(cases[i].str, NULL, &v);
        if (ret != cases[i].ret || (ret == 0 && v != cases[i].val)) {
            g_error("'%s': got ret %d val %" PRIu64 ", want ret %d val %" PRIu64,
                    cases[i].str, ret, v, cases[i].ret, cases[i].val);
        }
        if (ret < 0) {
            g_assert_cmpuint(v, ==, 0xdeadbeef);   /* untouched on error */
        }
    }
}

static void test_strtosz(void)
{
    static const SizeCase cases[] = {
        { "0", 0, 0 }, { "12345", 0, 12345 }, { " 7", 0, 7 }, { "512B", 0, 512 },
        { "512b", 0, 512 }, { "64k", 0, 65536 }, { "64K", 0, 65536 },
        { "128M", 0, 128 * MiB }, { "1G", 0, GiB }, { "1g", 0, GiB }, { "5T", 0, 5 * TiB },
        { "2P", 0, 2 * PiB }, { "15E", 0, 15 * (uint64_t)EiB }, { "16E", -ERANGE, 0 },
        { "1.5M", 0, 3 * MiB / 2 }, { "1.5k", 0, 1536 }, { "0.5k", 0, 512 },
        { "1.k", 0, 1024 }, { "1.0", 0, 1 }, { "1.5", -EINVAL, 0 }, { "1.5B", -EINVAL, 0 },
        { "1.0001k", 0, 1024 }, { "0.0005k", 0, 1 }, { "0.0004k", 0, 0 },
        { "1.5e3k", -EINVAL, 0 }, { "1e3", -EINVAL, 0 }, { ".5M", -EINVAL, 0 },
        { "-1", -EINVAL, 0 }, { "-0", -EINVAL, 0 }, { " -0x10", -EINVAL, 0 },
        { "0x1000", 0, 4096 }, { "0X10", 0, 16 }, { "0x1.8k", -EINVAL, 0 },
        { "0x", -EINVAL, 0 }, { "", -EINVAL, 0 }, { "abc", -EINVAL, 0 },
        { "12x", -EINVAL, 0 }, { "1KiB", -EINVAL, 0 }, { "64k ", -EINVAL, 0 },
        { "18446744073709551615", 0, UINT64_MAX }, { "18446744073709551616", -ERANGE, 0 },
        { "15.5E", 0, UINT64_C(17870283321406128128) },
        { "16384P", -ERANGE, 0 }, { "16383.9999999999999999999P", -ERANGE, 0 },
    };
    check_sizes(qemu_strtosz, cases, ARRAY_SIZE(cases));
}

static void test_strtosz_end(void)
{
    const char *end;
    uint64_t v = 0;

    g_assert_cmpint(qemu_strtosz("64kB", &end, &v), ==, 0);
    g_assert_cmpuint(v, ==, 65536);
    g_assert_cmpstr(end, ==, "B");
    g_assert_cmpint(qemu_strtosz("1.5Mx", &end, &v), ==, 0);
    g_assert_cmpstr(end, ==, "x");
    g_assert_cmpint(qemu_strtosz("-5k", &end, &v), ==, -EINVAL);
    g_assert_cmpstr(end, ==, "-5k");
    g_assert_cmpint(qemu_strtosz("1.5", &end, &v), ==, -EINVAL);
    g_assert_cmpstr(end, ==, "1.5");
    g_assert_cmpint(qemu_strtosz("20E", &end, &v), ==, -ERANGE);
    /* deprecated but accepted in QEMU 7.2 (prints a warning) */
    g_assert_cmpint(qemu_strtosz("0x10k", &end, &v), ==, 0);
    g_assert_cmpuint(v, ==, 16384);
    g_assert_cmpint(qemu_strtosz("1,2", &end, &v), ==, 0);
    g_assert_cmpuint(v, ==, 1);
    g_assert_cmpstr(end, ==, ",2");
}

static void test_strtosz_variants(void)
{
    static const SizeCase mib[] = {
        { "1", 0, MiB }, { "1.5", 0, 3 * MiB / 2 }, { "1B", 0, 1 }, { "2k", 0, 2048 },
        { "1G", 0, GiB }, { "-1", -EINVAL, 0 }, { "17592186044416", -ERANGE, 0 },
    };
    static const SizeCase metric[] = {
        { "1", 0, 1 }, { "1k", 0, 1000 }, { "1.5M", 0, 1500000 }, { "2G", 0, 2000000000 },
        { "1E", 0, UINT64_C(1000000000000000000) }, { "19E", -ERANGE, 0 },
    };
    check_sizes(qemu_strtosz_MiB, mib, ARRAY_SIZE(mib));
    check_sizes(qemu_strtosz_metric, metric, ARRAY_SIZE(metric));
}

/* ---- printing ---- */

static void test_size_to_str(void)
{
    static const struct { uint64_t val; const char *str; } cases[] = {
        { 0, "0 B" }, { 1, "1 B" }, { 512, "512 B" }, { 999, "999 B" },
        { 1000, "0.977 KiB" }, { 1023, "0.999 KiB" }, { 1024, "1 KiB" }, { 1536, "1.5 KiB" },
        { 98 * KiB, "98 KiB" }, { 100352 + 512, "98.5 KiB" }, { 197120, "192 KiB" }, { 197121, "193 KiB" },
        { 1000 * KiB, "0.977 MiB" },
        /* QEMU's quirk, kept: just below the switch point "%.3g" rounds up to 1000 */
        { 1000 * KiB - 1, "1e+03 KiB" }, { 64 * MiB, "64 MiB" }, { GiB, "1 GiB" },
        { 10 * GiB + 300 * MiB, "10.3 GiB" }, { 5 * TiB, "5 TiB" }, { PiB, "1 PiB" },
        { EiB, "1 EiB" }, { UINT64_MAX, "16 EiB" },
        { 1023 * KiB + 1023, "1 MiB" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *s = size_to_str(cases[i].val);
        g_assert_cmpstr(s, ==, cases[i].str);
    }
}

static void test_cvtstr(void)
{
    static const struct { double val; const char *str; } cases[] = {
        { 0, "0 bytes" }, { 512, "512 bytes" }, { 1023, "1023 bytes" }, { 4096, "4 KiB" },
        { 65536, "64 KiB" }, { 1536, "1.500 KiB" }, { 66519040, "63.438 MiB" },
        { 128 * MiB, "128 MiB" }, { 1.5 * GiB, "1.500 GiB" }, { 2 * TiB, "2 TiB" },
        { 3 * PiB, "3 PiB" }, { 4.0 * (double)EiB, "4 EiB" }, { 100.25, "100.250 bytes" },
    };
    char buf[64];

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cvtstr(cases[i].val, buf, sizeof(buf));
        g_assert_cmpstr(buf, ==, cases[i].str);
    }
    cvtstr(65536, buf, 4);              /* truncates, stays terminated */
    g_assert_cmpstr(buf, ==, "64 ");
}

static void test_timestr_stats(void)
{
    char buf[64];

    timestr(0.0012345, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "0.0012 sec");
    timestr(1.5, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "0:00:01.50");
    timestr(3723.25, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "1:02:03.25");

    g_autofree char *s = qemu_io_stats_str(65536, 1, 0.5);
    g_assert_cmpstr(s, ==, "64 KiB, 1 ops; 0.5000 sec (128 KiB/sec and 2.0000 ops/sec)");
    g_autofree char *z = qemu_io_stats_str(512, 1, 0);
    g_assert_true(g_str_has_prefix(z, "512 bytes, 1 ops; 0.0000 sec ("));
}

static void test_strings_paths(void)
{
    char buf[8];
    const char *rest;

    strpadcpy(buf, sizeof(buf), "abc", ' ');
    g_assert_cmpmem(buf, 8, "abc     ", 8);
    strpadcpy(buf, sizeof(buf), "0123456789", ' ');
    g_assert_cmpmem(buf, 8, "01234567", 8);

    g_assert_true(strstart("nbd:unix:/x", "nbd:", &rest));
    g_assert_cmpstr(rest, ==, "unix:/x");
    g_assert_false(strstart("nb", "nbd:", &rest));
    g_assert_true(stristart("JSON:{}", "json:", &rest));
    g_assert_cmpstr(rest, ==, "{}");

    g_assert_true(path_has_protocol("nbd://host/x"));
    g_assert_true(path_has_protocol("json:{}"));
    g_assert_false(path_has_protocol("/tmp/a:b"));
    g_assert_false(path_has_protocol("t.qcow2"));

    static const char *const combine[][3] = {
        { "/dir/top.qcow2", "base.qcow2", "/dir/base.qcow2" },
        { "/dir/top.qcow2", "/abs/base", "/abs/base" },
        { "top.qcow2", "base.qcow2", "base.qcow2" },
        { "sub/top.qcow2", "../base", "sub/../base" },
        { "nbd:localhost:10809", "x", "nbd:x" },
        { "nbd://host/exp", "x", "nbd://host/x" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(combine); i++) {
        g_autofree char *p = path_combine(combine[i][0], combine[i][1]);
        g_assert_cmpstr(p, ==, combine[i][2]);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cutils/strtoi64", test_strtoi64);
    g_test_add_func("/cutils/strtou64", test_strtou64);
    g_test_add_func("/cutils/strtoi-ui-l-ul", test_strtoi_ui);
    g_test_add_func("/cutils/strtod", test_strtod);
    g_test_add_func("/cutils/strtosz/table", test_strtosz);
    g_test_add_func("/cutils/strtosz/end", test_strtosz_end);
    g_test_add_func("/cutils/strtosz/mib-metric", test_strtosz_variants);
    g_test_add_func("/cutils/size-to-str", test_size_to_str);
    g_test_add_func("/cutils/cvtstr", test_cvtstr);
    g_test_add_func("/cutils/timestr-stats", test_timestr_stats);
    g_test_add_func("/cutils/strings-paths", test_strings_paths);
    return g_test_run();
}
