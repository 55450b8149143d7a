/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qbool.h: the JSON true/false value. Immutable after creation.
 */
#ifndef GODWIT_QBOOL_H
#define GODWIT_QBOOL_H

#include "qobject/qobject.h"

struct QBool {
    struct QObjectBase_ base;
    bool value;
};

/* A new QBool holding value (refcount 1). */
QBool *qbool_from_bool(bool value);
bool qbool_get_bool(const QBool *qb);

static inline void qbool_unref(QBool *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QBool, qbool_unref)

#endif /* GODWIT_QBOOL_H */
