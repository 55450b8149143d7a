/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qnull.h: the JSON null value. There is one QNull object, never freed; qnull()
 * returns a new reference to it, so callers unref it like any other QObject.
 * Threads: any.
 */
#ifndef GODWIT_QNULL_H
#define GODWIT_QNULL_H

#include "qobject/qobject.h"

struct QNull {
    struct QObjectBase_ base;
};

/* A new reference to the null singleton. */
QNull *qnull(void);

static inline void qnull_unref(QNull *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QNull, qnull_unref)

#endif /* GODWIT_QNULL_H */
