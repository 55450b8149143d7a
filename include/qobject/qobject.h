/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qobject.h: QObject, the reference-counted dynamic value that QMP, the QAPI
 * visitors, block-layer options and the JSON parser/writer exchange.
 *
 * The concrete types, one header each, all embed `struct QObjectBase_ base` as their
 * first member, so a pointer to any of them converts to QObject * with QOBJECT():
 *
 *   QType          C type    header      constructor
 *   QTYPE_QNULL    QNull     qnull.h     qnull()           (a singleton)
 *   QTYPE_QNUM     QNum      qnum.h      qnum_from_int/_uint/_double
 *   QTYPE_QSTRING  QString   qstring.h   qstring_from_str
 *   QTYPE_QDICT    QDict     qdict.h     qdict_new
 *   QTYPE_QLIST    QList     qlist.h     qlist_new
 *   QTYPE_QBOOL    QBool     qbool.h     qbool_from_bool
 *
 * Ownership: every constructor returns a new reference (refcount 1). A function
 * that "takes" or "steals" an object (qdict_put_obj, qlist_append_obj) consumes the
 * caller's reference; a getter (qdict_get, qlist_peek) returns a borrowed pointer,
 * valid while its container holds it. qobject_ref() adds a reference, qobject_unref()
 * drops one and frees the object (recursively, for containers) at zero. Both accept
 * NULL and any of the concrete pointer types, and qobject_ref() returns its argument
 * with its type. g_autoptr(QDict) etc. unref at scope exit.
 *
 * Threads: the refcount is atomic, so a value may be shared between threads once it
 * is no longer modified; the containers themselves have no lock, so mutation is
 * limited to one thread at a time (in practice the main loop).
 */
#ifndef GODWIT_QOBJECT_H
#define GODWIT_QOBJECT_H

#include "util/osdep.h"

typedef enum QType {
    QTYPE_NONE,         /* only as "no such value"; never the type of an object */
    QTYPE_QNULL,
    QTYPE_QNUM,
    QTYPE_QSTRING,
    QTYPE_QDICT,
    QTYPE_QLIST,
    QTYPE_QBOOL,
    QTYPE__MAX,
} QType;

/* The header shared by every concrete type; do not touch its fields directly. */
struct QObjectBase_ {
    QType type;
    int refcnt;         /* atomic */
};

typedef struct QObject {
    struct QObjectBase_ base;
} QObject;

typedef struct QNull QNull;
typedef struct QNum QNum;
typedef struct QString QString;
typedef struct QDict QDict;
typedef struct QList QList;
typedef struct QBool QBool;

/* Convert a pointer to any concrete type (or QObject *) to QObject *; NULL stays NULL. */
#define QOBJECT(obj) ({                                                 \
    __typeof__(obj) qobject_cast_tmp_ = (obj);                          \
    qobject_cast_tmp_ ? (QObject *)&qobject_cast_tmp_->base : NULL;     \
})

/* Checked downcast: qobject_to(QDict, obj) is obj as QDict *, or NULL if obj is NULL
 * or of another type. */
#define QTYPE_CAST_TO_QNull     QTYPE_QNULL
#define QTYPE_CAST_TO_QNum      QTYPE_QNUM
#define QTYPE_CAST_TO_QString   QTYPE_QSTRING
#define QTYPE_CAST_TO_QDict     QTYPE_QDICT
#define QTYPE_CAST_TO_QList     QTYPE_QLIST
#define QTYPE_CAST_TO_QBool     QTYPE_QBOOL
#define qobject_to(type, obj) \
    ((type *)qobject_check_type(QOBJECT(obj), QTYPE_CAST_TO_##type))

static inline QObject *qobject_check_type(const QObject *obj, QType type)
{
    return (obj && obj->base.type == type) ? (QObject *)obj : NULL;
}

/* Type of obj, which must not be NULL. */
static inline QType qobject_type(const QObject *obj)
{
    assert(obj && obj->base.type > QTYPE_NONE && obj->base.type < QTYPE__MAX);
    return obj->base.type;
}

/* Name of a QType: "null", "number", "string", "dict", "list", "bool". */
const char *qtype_name(QType type);

void qobject_ref_impl(QObject *obj);
void qobject_unref_impl(QObject *obj);

/* Add a reference; returns obj unchanged (with its static type). NULL is a no-op. */
#define qobject_ref(obj) ({                                             \
    __typeof__(obj) qobject_ref_tmp_ = (obj);                           \
    qobject_ref_impl(QOBJECT(qobject_ref_tmp_));                        \
    qobject_ref_tmp_;                                                   \
})

/* Drop a reference, freeing the object at zero. NULL is a no-op. */
#define qobject_unref(obj) qobject_unref_impl(QOBJECT(obj))

/* Initialise the header of a freshly allocated object (refcount 1). For the
 * implementations of the concrete types only. */
void qobject_init(QObject *obj, QType type);

/*
 * Deep equality. Numbers compare by value across representations (int 1 equals
 * uint 1 equals double 1.0; a double equals an integer only if it is exactly that
 * integer). Dicts compare as unordered maps, lists element by element. NULL equals
 * only NULL.
 */
bool qobject_is_equal(const QObject *x, const QObject *y);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QObject, qobject_unref_impl)

#endif /* GODWIT_QOBJECT_H */
