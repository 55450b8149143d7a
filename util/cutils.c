/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * cutils.c: number and size parsing, human-readable sizes (contracts and the
 * exact QEMU rules in include/util/cutils.h).
 */
#include "util/osdep.h"
#include "util/cutils.h"
#include "util/error.h"

#include <math.h>     /* isfinite: a macro, no libm needed */

/* ---- checked integer parsing ---- */

/*
 * Common tail of the strto* wrappers: ep is where the C parser stopped, err the
 * errno it left. Decides the return value and publishes the end pointer.
 */
static int strtox_finish(const char *nptr, const char *ep, const char **endptr, int err)
{
    if (endptr) {
        *endptr = ep;
    }
    if (ep == nptr) {
        return -EINVAL;
    }
    if (err == ERANGE) {
        return -ERANGE;
    }
    if (!endptr && *ep) {
        return -EINVAL;
    }
    return 0;
}

/* Parse a signed 64-bit value; *val is clamped on overflow, 0 without digits. */
static int strtox_signed(const char *nptr, const char **endptr, int base, int64_t *val)
{
    char *ep;

    if (!nptr) {
        if (endptr) {
            *endptr = NULL;
        }
        *val = 0;
        return -EINVAL;
    }
    errno = 0;
    long long r = strtoll(nptr, &ep, base);
    *val = ep == nptr ? 0 : r;
    return strtox_finish(nptr, ep, endptr, errno);
}

/*
 * Parse an unsigned 64-bit value, wrapping negative input like strtoull. *neg_mag
 * receives the magnitude of a negative number (0 otherwise), so narrower types
 * can decide whether the wrapped value fits.
 */
static int strtox_unsigned(const char *nptr, const char **endptr, int base,
                           uint64_t *val, uint64_t *neg_mag)
{
    char *ep;

    *neg_mag = 0;
    if (!nptr) {
        if (endptr) {
            *endptr = NULL;
        }
        *val = 0;
        return -EINVAL;
    }
    errno = 0;
    unsigned long long r = strtoull(nptr, &ep, base);
    int err = errno;
    *val = ep == nptr ? 0 : r;
    if (ep != nptr && err != ERANGE && memchr(nptr, '-', ep - nptr)) {
        *neg_mag = -(uint64_t)r;
    }
    return strtox_finish(nptr, ep, endptr, err);
}

int qemu_strtoi64(const char *nptr, const char **endptr, int base, int64_t *result)
{
    return strtox_signed(nptr, endptr, base, result);
}

int qemu_strtol(const char *nptr, const char **endptr, int base, long *result)
{
    int64_t v;
    int ret = strtox_signed(nptr, endptr, base, &v);

    G_STATIC_ASSERT(sizeof(long) == sizeof(int64_t));
    *result = v;
    return ret;
}

int qemu_strtoi(const char *nptr, const char **endptr, int base, int *result)
{
    int64_t v;
    int ret = strtox_signed(nptr, endptr, base, &v);

    if (v > INT_MAX) {
        *result = INT_MAX;
        return ret == -EINVAL ? ret : -ERANGE;
    }
    if (v < INT_MIN) {
        *result = INT_MIN;
        return ret == -EINVAL ? ret : -ERANGE;
    }
    *result = v;
    return ret;
}

int qemu_strtou64(const char *nptr, const char **endptr, int base, uint64_t *result)
{
    uint64_t neg;

    return strtox_unsigned(nptr, endptr, base, result, &neg);
}

int qemu_strtoul(const char *nptr, const char **endptr, int base, unsigned long *result)
{
    uint64_t v, neg;
    int ret = strtox_unsigned(nptr, endptr, base, &v, &neg);

    G_STATIC_ASSERT(sizeof(unsigned long) == sizeof(uint64_t));
    *result = v;
    return ret;
}

int qemu_strtoui(const char *nptr, const char **endptr, int base, unsigned int *result)
{
    uint64_t v, neg;
    int ret = strtox_unsigned(nptr, endptr, base, &v, &neg);

    if (neg) {
        if (neg > UINT_MAX) {
            *result = UINT_MAX;
            return ret == -EINVAL ? ret : -ERANGE;
        }
        *result = (unsigned int)-(uint32_t)neg;
        return ret;
    }
    if (v > UINT_MAX) {
        *result = UINT_MAX;
        return ret == -EINVAL ? ret : -ERANGE;
    }
    *result = v;
    return ret;
}

int qemu_strtod(const char *nptr, const char **endptr, double *result)
{
    char *ep;

    if (!nptr) {
        if (endptr) {
            *endptr = NULL;
        }
        *result = 0;
        return -EINVAL;
    }
    errno = 0;
    *result = strtod(nptr, &ep);
    return strtox_finish(nptr, ep, endptr, errno);
}

int qemu_strtod_finite(const char *nptr, const char **endptr, double *result)
{
    const char *ep;
    double v;
    int ret = qemu_strtod(nptr, &ep, &v);

    if (ret == 0 && !isfinite(v)) {
        ep = nptr;
        ret = -EINVAL;
        v = 0;
    }
    if (endptr) {
        *endptr = ep;
    } else if (ret == 0 && *ep) {
        ret = -EINVAL;
    }
    *result = v;
    return ret;
}

/* ---- sizes ---- */

/* Multiplier for a suffix letter, or 0 if c is not one. */
static uint64_t strtosz_suffix_mul(char c, uint64_t unit)
{
    static const char letters[] = "KMGTPE";
    const char *p;
    uint64_t mul = 1;

    if (c == 'B' || c == 'b') {
        return 1;
    }
    p = c ? strchr(letters, g_ascii_toupper(c)) : NULL;
    if (!p) {
        return 0;
    }
    for (const char *q = letters; q <= p; q++) {
        mul *= unit;
    }
    return mul;
}

/*
 * The fraction is held as 64-bit fixed point (frac / 2^64) so that the product
 * with the multiplier is exact in 128 bits; only the final bytes get rounded.
 */
static int do_strtosz(const char *nptr, const char **end, char default_suffix,
                      uint64_t unit, uint64_t *result)
{
    const char *ep;
    uint64_t val, frac = 0;
    bool hex = false;
    int ret = qemu_strtou64(nptr, &ep, 10, &val);

    if (ret < 0) {
        goto out;
    }
    if (val == 0 && (*ep == 'x' || *ep == 'X')) {
        ret = qemu_strtou64(nptr, &ep, 16, &val);
        if (ret < 0) {
            goto out;
        }
        if (*ep == '.') {
            ret = -EINVAL;
            ep = nptr;
            goto out;
        }
        hex = true;
    }
    if (memchr(nptr, '-', ep - nptr)) {
        ret = -EINVAL;
        ep = nptr;
        goto out;
    }
    if (!hex && *ep == '.') {
        const char *fstart = ep;
        double f;
        if (qemu_strtod_finite(fstart, &ep, &f) < 0) {
            ep = fstart + 1;        /* "1.k": a bare dot is allowed */
        } else if (memchr(fstart, 'e', ep - fstart) || memchr(fstart, 'E', ep - fstart)) {
            ret = -EINVAL;
            ep = nptr;
            goto out;
        } else {
            frac = f >= 1.0 ? UINT64_MAX : (uint64_t)(f * 0x1p64);
        }
    }

    uint64_t mul = strtosz_suffix_mul(*ep, unit);
    if (mul) {
        if (hex) {
            warn_report("Using a multiplier suffix on hex numbers is deprecated: %s", nptr);
        }
        ep++;
    } else {
        mul = strtosz_suffix_mul(default_suffix, unit);
        assert(mul);
    }
    if (mul == 1 && frac) {
        ret = -EINVAL;
        ep = nptr;
        goto out;
    }

    unsigned __int128 total = (unsigned __int128)val * mul;
    unsigned __int128 fbytes = (unsigned __int128)frac * mul;
    total += (uint64_t)(fbytes >> 64) + (((uint64_t)fbytes >> 63) & 1);
    if (total >> 64) {
        ret = -ERANGE;
        goto out;
    }
    val = (uint64_t)total;
    ret = 0;

out:
    if (end) {
        *end = ep;
    } else if (ret == 0 && *ep) {
        ret = -EINVAL;
    }
    if (ret == 0) {
        *result = val;
    }
    return ret;
}

int qemu_strtosz(const char *nptr, const char **end, uint64_t *result)
{
    return do_strtosz(nptr, end, 'B', 1024, result);
}

int qemu_strtosz_MiB(const char *nptr, const char **end, uint64_t *result)
{
    return do_strtosz(nptr, end, 'M', 1024, result);
}

int qemu_strtosz_metric(const char *nptr, const char **end, uint64_t *result)
{
    return do_strtosz(nptr, end, 'B', 1000, result);
}

/* ---- printing ---- */

char *size_to_str(uint64_t val)
{
    static const char *const prefix[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
    unsigned i = 0;

    /* Move up a unit once the value would print as 1000 or more. */
    while (i < ARRAY_SIZE(prefix) - 1 && val / 1000 >= (UINT64_C(1) << (10 * i))) {
        i++;
    }
    return g_strdup_printf("%0.3g %sB", (double)val / (double)(UINT64_C(1) << (10 * i)),
                           prefix[i]);
}

void cvtstr(double value, char *str, size_t size)
{
    static const char *const unit[] = { " bytes", " KiB", " MiB", " GiB", " TiB", " PiB",
                                        " EiB" };
    unsigned i = ARRAY_SIZE(unit) - 1;

    while (i > 0 && value < (double)(UINT64_C(1) << (10 * i))) {
        i--;
    }
    char num[64];
    snprintf(num, sizeof(num), "%.3f", value / (double)(UINT64_C(1) << (10 * i)));
    size_t len = strlen(num);
    if (len > 4 && strcmp(num + len - 4, ".000") == 0) {
        num[len - 4] = '\0';
    }
    snprintf(str, size, "%s%s", num, unit[i]);
}

void timestr(double secs, char *str, size_t size)
{
    if (secs < 1.0) {
        snprintf(str, size, "0.%04u sec", (unsigned)(MAX(secs, 0.0) * 10000));
        return;
    }
    unsigned whole = (unsigned)secs;
    snprintf(str, size, "%u:%02u:%05.2f", whole / 3600, whole / 60 % 60,
             whole % 60 + (secs - whole));
}

char *qemu_io_stats_str(int64_t bytes, int ops, double secs)
{
    char size[64], rate[64], time[64];

    if (secs <= 0) {
        secs = 1e-9;
    }
    cvtstr((double)bytes, size, sizeof(size));
    cvtstr(bytes / secs, rate, sizeof(rate));
    timestr(secs, time, sizeof(time));
    return g_strdup_printf("%s, %d ops; %s (%s/sec and %.4f ops/sec)", size, ops, time, rate,
                           ops / secs);
}

/* ---- strings and paths ---- */

void strpadcpy(char *buf, int buf_size, const char *str, char pad)
{
    int len = MIN((int)strlen(str), buf_size);

    memcpy(buf, str, len);
    memset(buf + len, pad, buf_size - len);
}

bool strstart(const char *str, const char *val, const char **ptr)
{
    size_t n = strlen(val);

    if (strncmp(str, val, n) != 0) {
        return false;
    }
    if (ptr) {
        *ptr = str + n;
    }
    return true;
}

bool stristart(const char *str, const char *val, const char **ptr)
{
    size_t n = strlen(val);

    if (g_ascii_strncasecmp(str, val, n) != 0) {
        return false;
    }
    if (ptr) {
        *ptr = str + n;
    }
    return true;
}

bool path_has_protocol(const char *path)
{
    return path[strcspn(path, ":/")] == ':';
}

bool path_is_absolute(const char *path)
{
    return path[0] == '/';
}

char *path_combine(const char *base_path, const char *filename)
{
    if (path_is_absolute(filename)) {
        return g_strdup(filename);
    }
    const char *keep_to = base_path;
    if (path_has_protocol(base_path)) {
        keep_to = strchr(base_path, ':') + 1;
    }
    const char *slash = strrchr(base_path, '/');
    if (slash && slash + 1 > keep_to) {
        keep_to = slash + 1;
    }
    return g_strdup_printf("%.*s%s", (int)(keep_to - base_path), base_path, filename);
}
