/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Helpers shared by godwit-io and godwit-img (see include/tools/tool-util.h).
 */
#include "util/osdep.h"
#include "tools/tool-util.h"
#include <math.h>
#include <time.h>

#if !__has_include("util/cutils.h")
/*
 * Local stand-ins until util/cutils.h is merged; same rules as QEMU 7.2's
 * size parsing: decimal with optional fraction or 0x hex, one suffix letter.
 */
static int64_t strtosz_suffix_mult(char c)
{
    switch (g_ascii_toupper(c)) {
    case 'B': return 1;
    case 'K': return KiB;
    case 'M': return MiB;
    case 'G': return GiB;
    case 'T': return TiB;
    case 'P': return PiB;
    case 'E': return EiB;
    default:  return 0;
    }
}

int qemu_strtosz(const char *nptr, const char **end, uint64_t *result)
{
    const char *p = nptr;
    char *ep;
    uint64_t val;
    double fraction = 0;
    bool hex = false;

    while (g_ascii_isspace(*p)) {
        p++;
    }
    if (*p == '-' || !g_ascii_isdigit(*p)) {
        goto invalid;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        hex = true;
        errno = 0;
        val = strtoull(p + 2, &ep, 16);
        if (ep == p + 2) {
            goto invalid;
        }
    } else {
        errno = 0;
        val = strtoull(p, &ep, 10);
        if (*ep == '.') {
            const char *f = ep;
            double d = 0, scale = 0.1;
            f++;
            while (g_ascii_isdigit(*f)) {
                d += (*f - '0') * scale;
                scale /= 10;
                f++;
            }
            fraction = d;
            ep = (char *)f;
        }
    }
    if (errno == ERANGE) {
        return -ERANGE;
    }
    if (*ep == '-' || *ep == '.') {
        goto invalid;
    }
    int64_t mult = 1;
    if (*ep && strtosz_suffix_mult(*ep)) {
        mult = strtosz_suffix_mult(*ep);
        if (hex) {
            warn_report("Using a multiplier suffix on hex numbers is deprecated: %s", nptr);
        }
        ep++;
    }
    if (fraction != 0 && mult == 1) {
        goto invalid;
    }
    if (!end && *ep) {
        goto invalid;
    }
    if (val > UINT64_MAX / mult) {
        return -ERANGE;
    }
    uint64_t frac_bytes = (uint64_t)floor(fraction * mult + 0.5);
    if (val * mult > UINT64_MAX - frac_bytes) {
        return -ERANGE;
    }
    *result = val * mult + frac_bytes;
    if (end) {
        *end = ep;
    }
    return 0;

invalid:
    if (end) {
        *end = nptr;
    }
    return -EINVAL;
}

char *size_to_str(uint64_t val)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = val;
    unsigned i = 0;

    while (v >= 1000 && i + 1 < ARRAY_SIZE(units)) {
        v /= 1024;
        i++;
    }
    return g_strdup_printf("%0.3g %s", v, units[i]);
}

void cvtstr(double value, char *str, size_t size)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    unsigned i = 0;

    while (value >= 1024 && i + 1 < ARRAY_SIZE(units)) {
        value /= 1024;
        i++;
    }
    snprintf(str, size, "%.3f %s", value, units[i]);
    char *dot = strstr(str, ".000 ");
    if (dot) {
        memmove(dot, dot + 4, strlen(dot + 4) + 1);
    }
}
#endif

#ifdef TOOLS_HAVE_QDICT
bool tool_parse_opts(const char *str, const char *implied_key, QDict **dict, Error **errp)
{
    const char *p = str;

    while (*p) {
        g_autoptr(GString) key = g_string_new(NULL);
        g_autoptr(GString) val = g_string_new(NULL);
        const char *k = p;

        while (*p && *p != '=' && *p != ',') {
            p++;
        }
        g_string_append_len(key, k, p - k);
        if (*p != '=') {
            if (!implied_key || k != str) {
                error_setg(errp, "Invalid parameter '%s'", key->str);
                return false;
            }
            g_string_assign(val, key->str);
            g_string_assign(key, implied_key);
        } else {
            p++;
            while (*p) {
                if (*p == ',') {
                    if (p[1] != ',') {
                        break;
                    }
                    p++;
                }
                g_string_append_c(val, *p++);
            }
        }
        if (key->len == 0) {
            error_setg(errp, "Invalid parameter ''");
            return false;
        }
        tool_put_opt(dict, key->str, val->str);
        if (*p == ',') {
            p++;
        }
    }
    return true;
}

void tool_put_opt(QDict **dict, const char *key, const char *value)
{
    if (!*dict) {
        *dict = qdict_new();
    }
    qdict_put_str(*dict, key, value);
}

const char *tool_get_opt(QDict *dict, const char *key)
{
    return dict ? qdict_get_try_str(dict, key) : NULL;
}

void tool_free_opts(QDict *dict)
{
    if (dict) {
        qdict_unref(dict);
    }
}
#else
bool tool_parse_opts(const char *str, const char *implied_key, QDict **dict, Error **errp)
{
    error_setg(errp, "Block driver options are not supported in this build");
    return false;
}

void tool_put_opt(QDict **dict, const char *key, const char *value)
{
}

const char *tool_get_opt(QDict *dict, const char *key)
{
    return NULL;
}

void tool_free_opts(QDict *dict)
{
}
#endif

int64_t tool_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}
