/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qnum.h: a JSON number, held exactly as one of int64_t, uint64_t or double.
 *
 * The JSON parser stores an integer literal as int64 if it fits, else as uint64 if
 * it fits, else as double; a literal with a fraction or exponent is a double. So
 * qnum_get_try_int() succeeds for any signed 64-bit integer literal, and
 * qnum_get_try_uint() for any unsigned one; qnum_get_double() works for every
 * number (integers beyond 2^53 lose precision). Immutable after creation.
 */
#ifndef GODWIT_QNUM_H
#define GODWIT_QNUM_H

#include "qobject/qobject.h"

typedef enum QNumKind {
    QNUM_I64,
    QNUM_U64,       /* only used for values above INT64_MAX by the parser */
    QNUM_DOUBLE,
} QNumKind;

struct QNum {
    struct QObjectBase_ base;
    QNumKind kind;
    union {
        int64_t i64;
        uint64_t u64;
        double dbl;
    } u;
};

QNum *qnum_from_int(int64_t value);
QNum *qnum_from_uint(uint64_t value);
QNum *qnum_from_double(double value);

/* Store the value as int64 in *val and return true if it is an integer that fits
 * (never for a double, even an integral one); else return false. */
bool qnum_get_try_int(const QNum *qn, int64_t *val);
/* qnum_get_try_int() that asserts success: for values we created ourselves. */
int64_t qnum_get_int(const QNum *qn);
/* As qnum_get_try_int, for uint64 (negative integers fail). */
bool qnum_get_try_uint(const QNum *qn, uint64_t *val);
uint64_t qnum_get_uint(const QNum *qn);
/* The value as a double, whatever the representation. */
double qnum_get_double(const QNum *qn);

/* The value as JSON text (integers in decimal, doubles with "%.17g"); g_free it. */
char *qnum_to_string(const QNum *qn);

/* Numeric equality across representations (see qobject_is_equal). */
bool qnum_is_equal(const QNum *x, const QNum *y);

static inline void qnum_unref(QNum *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QNum, qnum_unref)

#endif /* GODWIT_QNUM_H */
