/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QNum: a number kept exactly as int64, uint64 or double.
 */
#include "util/osdep.h"
#include "qobject/qnum.h"
#include <math.h>

static QNum *qnum_alloc(QNumKind kind)
{
    QNum *qn = g_new(QNum, 1);

    qobject_init(QOBJECT(qn), QTYPE_QNUM);
    qn->kind = kind;
    return qn;
}

QNum *qnum_from_int(int64_t value)
{
    QNum *qn = qnum_alloc(QNUM_I64);

    qn->u.i64 = value;
    return qn;
}

QNum *qnum_from_uint(uint64_t value)
{
    QNum *qn = qnum_alloc(QNUM_U64);

    qn->u.u64 = value;
    return qn;
}

QNum *qnum_from_double(double value)
{
    QNum *qn = qnum_alloc(QNUM_DOUBLE);

    qn->u.dbl = value;
    return qn;
}

bool qnum_get_try_int(const QNum *qn, int64_t *val)
{
    switch (qn->kind) {
    case QNUM_I64:
        *val = qn->u.i64;
        return true;
    case QNUM_U64:
        if (qn->u.u64 > INT64_MAX) {
            return false;
        }
        *val = (int64_t)qn->u.u64;
        return true;
    default:
        return false;
    }
}

int64_t qnum_get_int(const QNum *qn)
{
    int64_t val;
    bool ok = qnum_get_try_int(qn, &val);

    assert(ok);
    return val;
}

bool qnum_get_try_uint(const QNum *qn, uint64_t *val)
{
    switch (qn->kind) {
    case QNUM_I64:
        if (qn->u.i64 < 0) {
            return false;
        }
        *val = (uint64_t)qn->u.i64;
        return true;
    case QNUM_U64:
        *val = qn->u.u64;
        return true;
    default:
        return false;
    }
}

uint64_t qnum_get_uint(const QNum *qn)
{
    uint64_t val;
    bool ok = qnum_get_try_uint(qn, &val);

    assert(ok);
    return val;
}

double qnum_get_double(const QNum *qn)
{
    switch (qn->kind) {
    case QNUM_I64:
        return (double)qn->u.i64;
    case QNUM_U64:
        return (double)qn->u.u64;
    default:
        return qn->u.dbl;
    }
}

char *qnum_to_string(const QNum *qn)
{
    switch (qn->kind) {
    case QNUM_I64:
        return g_strdup_printf("%" PRId64, qn->u.i64);
    case QNUM_U64:
        return g_strdup_printf("%" PRIu64, qn->u.u64);
    default:
        /* 17 significant digits make every double round-trip; QEMU prints the same */
        return g_strdup_printf("%.17g", qn->u.dbl);
    }
}

/* Is the double d exactly the integer (neg ? -mag : mag)? */
static bool double_is_integer(double d, bool neg, uint64_t mag)
{
    /* 2^64 as a double; every double below it in magnitude converts exactly */
    const double two64 = 18446744073709551616.0;

    if (isnan(d) || d != floor(d) || fabs(d) >= two64) {
        return false;
    }
    if (d == 0) {
        return mag == 0;        /* -0.0 equals 0 */
    }
    return (d < 0) == neg && (uint64_t)fabs(d) == mag;
}

bool qnum_is_equal(const QNum *x, const QNum *y)
{
    bool xneg, yneg;
    uint64_t xmag, ymag;

    if (x->kind == QNUM_DOUBLE && y->kind == QNUM_DOUBLE) {
        return x->u.dbl == y->u.dbl;
    }
    if (y->kind == QNUM_DOUBLE) {
        const QNum *t = x;
        x = y;
        y = t;
    }
    /* y is an integer now: sign and magnitude, so int64 and uint64 compare exactly */
    yneg = y->kind == QNUM_I64 && y->u.i64 < 0;
    ymag = y->kind == QNUM_U64 ? y->u.u64
         : yneg ? -(uint64_t)y->u.i64 : (uint64_t)y->u.i64;
    if (x->kind == QNUM_DOUBLE) {
        return double_is_integer(x->u.dbl, yneg, ymag);
    }
    xneg = x->kind == QNUM_I64 && x->u.i64 < 0;
    xmag = x->kind == QNUM_U64 ? x->u.u64
         : xneg ? -(uint64_t)x->u.i64 : (uint64_t)x->u.i64;
    return xneg == yneg && xmag == ymag;
}
