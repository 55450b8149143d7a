/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QObject core: reference counting, destruction by type, deep equality, and the
 * two trivial types QNull and QBool.
 */
#include "util/osdep.h"
#include "qobject/qobject.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnull.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"

/* Destructors live with their types (qdict.c, qlist.c, qstring.c). */
void qdict_destroy_obj(QObject *obj);
void qlist_destroy_obj(QObject *obj);
void qstring_destroy_obj(QObject *obj);

/* Starts at 1 and is never dropped to 0 by a balanced caller, so never freed. */
static QNull qnull_singleton = { .base = { .type = QTYPE_QNULL, .refcnt = 1 } };

void qobject_init(QObject *obj, QType type)
{
    assert(type > QTYPE_NONE && type < QTYPE__MAX);
    obj->base.type = type;
    obj->base.refcnt = 1;
}

const char *qtype_name(QType type)
{
    static const char *const names[QTYPE__MAX] = {
        [QTYPE_NONE] = "none",
        [QTYPE_QNULL] = "null",
        [QTYPE_QNUM] = "number",
        [QTYPE_QSTRING] = "string",
        [QTYPE_QDICT] = "dict",
        [QTYPE_QLIST] = "list",
        [QTYPE_QBOOL] = "bool",
    };
    assert(type >= QTYPE_NONE && type < QTYPE__MAX);
    return names[type];
}

void qobject_ref_impl(QObject *obj)
{
    if (obj) {
        g_atomic_int_inc(&obj->base.refcnt);
    }
}

static void qobject_destroy(QObject *obj)
{
    switch (qobject_type(obj)) {
    case QTYPE_QNULL:
        g_assert_not_reached();     /* the singleton's own reference was dropped */
    case QTYPE_QNUM:
    case QTYPE_QBOOL:
        g_free(obj);
        break;
    case QTYPE_QSTRING:
        qstring_destroy_obj(obj);
        break;
    case QTYPE_QDICT:
        qdict_destroy_obj(obj);
        break;
    case QTYPE_QLIST:
        qlist_destroy_obj(obj);
        break;
    default:
        g_assert_not_reached();
    }
}

void qobject_unref_impl(QObject *obj)
{
    if (obj) {
        assert(obj->base.refcnt > 0);
        if (g_atomic_int_dec_and_test(&obj->base.refcnt)) {
            qobject_destroy(obj);
        }
    }
}

QNull *qnull(void)
{
    return qobject_ref(&qnull_singleton);
}

QBool *qbool_from_bool(bool value)
{
    QBool *qb = g_new(QBool, 1);

    qobject_init(QOBJECT(qb), QTYPE_QBOOL);
    qb->value = value;
    return qb;
}

bool qbool_get_bool(const QBool *qb)
{
    return qb->value;
}

static bool qdict_is_equal(const QDict *x, const QDict *y)
{
    if (qdict_size(x) != qdict_size(y)) {
        return false;
    }
    for (const QDictEntry *e = qdict_first(x); e; e = qdict_next(x, e)) {
        QObject *other = qdict_get(y, e->key);
        if (!other || !qobject_is_equal(e->value, other)) {
            return false;
        }
    }
    return true;
}

static bool qlist_is_equal(const QList *x, const QList *y)
{
    const QListEntry *a = qlist_first(x), *b = qlist_first(y);

    for (; a && b; a = a->next, b = b->next) {
        if (!qobject_is_equal(a->value, b->value)) {
            return false;
        }
    }
    return !a && !b;
}

bool qobject_is_equal(const QObject *x, const QObject *y)
{
    if (x == y) {
        return true;
    }
    if (!x || !y || qobject_type(x) != qobject_type(y)) {
        return false;
    }
    switch (qobject_type(x)) {
    case QTYPE_QNULL:
        return true;
    case QTYPE_QBOOL:
        return qbool_get_bool(qobject_to(QBool, x)) == qbool_get_bool(qobject_to(QBool, y));
    case QTYPE_QNUM:
        return qnum_is_equal(qobject_to(QNum, x), qobject_to(QNum, y));
    case QTYPE_QSTRING:
        return !strcmp(qstring_get_str(qobject_to(QString, x)),
                       qstring_get_str(qobject_to(QString, y)));
    case QTYPE_QDICT:
        return qdict_is_equal(qobject_to(QDict, x), qobject_to(QDict, y));
    case QTYPE_QLIST:
        return qlist_is_equal(qobject_to(QList, x), qobject_to(QList, y));
    default:
        g_assert_not_reached();
    }
}
