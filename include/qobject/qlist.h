/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qlist.h: an ordered list of QObjects (a JSON array).
 *
 * The list owns one reference to each element: qlist_append_obj() takes the
 * caller's reference, qlist_pop() gives it back, qlist_peek() and iteration lend it.
 * Appending and popping are O(1); qlist_size() is O(1).
 *
 * Iterate with
 *     QListEntry *e;
 *     QLIST_FOREACH_ENTRY(list, e) { QObject *v = qlist_entry_obj(e); ... }
 * and do not modify the list inside the loop.
 */
#ifndef GODWIT_QLIST_H
#define GODWIT_QLIST_H

#include "qobject/qobject.h"

typedef struct QListEntry {
    QObject *value;
    struct QListEntry *next;
} QListEntry;

struct QList {
    struct QObjectBase_ base;
    QListEntry *head;
    QListEntry *tail;
    size_t size;
};

QList *qlist_new(void);

/* Append value at the end, taking the caller's reference. value must not be NULL. */
void qlist_append_obj(QList *qlist, QObject *value);
/* Append any concrete QObject pointer, taking the reference. */
#define qlist_append(qlist, obj) qlist_append_obj(qlist, QOBJECT(obj))
void qlist_append_int(QList *qlist, int64_t value);
void qlist_append_bool(QList *qlist, bool value);
void qlist_append_str(QList *qlist, const char *value);
void qlist_append_null(QList *qlist);

/* Remove the first element and return it (the caller now owns the reference), or
 * NULL if the list is empty. */
QObject *qlist_pop(QList *qlist);
/* The first element, borrowed, or NULL. */
QObject *qlist_peek(QList *qlist);

size_t qlist_size(const QList *qlist);
bool qlist_empty(const QList *qlist);

/* A new list holding new references to the same elements. */
QList *qlist_copy(const QList *src);

static inline const QListEntry *qlist_first(const QList *qlist)
{
    return qlist->head;
}

static inline const QListEntry *qlist_next(const QListEntry *entry)
{
    return entry->next;
}

static inline QObject *qlist_entry_obj(const QListEntry *entry)
{
    return entry->value;
}

#define QLIST_FOREACH_ENTRY(qlist, var) \
    for ((var) = (qlist)->head; (var); (var) = (var)->next)

static inline void qlist_unref(QList *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QList, qlist_unref)

#endif /* GODWIT_QLIST_H */
