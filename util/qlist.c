/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QList: a singly linked list with a tail pointer (append and pop are O(1)).
 */
#include "util/osdep.h"
#include "qobject/qlist.h"
#include "qobject/qbool.h"
#include "qobject/qnull.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"

void qlist_destroy_obj(QObject *obj);

QList *qlist_new(void)
{
    QList *qlist = g_new0(QList, 1);

    qobject_init(QOBJECT(qlist), QTYPE_QLIST);
    return qlist;
}

void qlist_append_obj(QList *qlist, QObject *value)
{
    QListEntry *entry = g_new(QListEntry, 1);

    assert(value);
    entry->value = value;
    entry->next = NULL;
    if (qlist->tail) {
        qlist->tail->next = entry;
    } else {
        qlist->head = entry;
    }
    qlist->tail = entry;
    qlist->size++;
}

void qlist_append_int(QList *qlist, int64_t value)
{
    qlist_append(qlist, qnum_from_int(value));
}

void qlist_append_bool(QList *qlist, bool value)
{
    qlist_append(qlist, qbool_from_bool(value));
}

void qlist_append_str(QList *qlist, const char *value)
{
    qlist_append(qlist, qstring_from_str(value));
}

void qlist_append_null(QList *qlist)
{
    qlist_append(qlist, qnull());
}

QObject *qlist_pop(QList *qlist)
{
    QListEntry *entry = qlist->head;
    QObject *value;

    if (!entry) {
        return NULL;
    }
    qlist->head = entry->next;
    if (!qlist->head) {
        qlist->tail = NULL;
    }
    qlist->size--;
    value = entry->value;
    g_free(entry);
    return value;
}

QObject *qlist_peek(QList *qlist)
{
    return qlist->head ? qlist->head->value : NULL;
}

size_t qlist_size(const QList *qlist)
{
    return qlist->size;
}

bool qlist_empty(const QList *qlist)
{
    return qlist->size == 0;
}

QList *qlist_copy(const QList *src)
{
    QList *dst = qlist_new();
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(src, e) {
        qlist_append_obj(dst, qobject_ref(e->value));
    }
    return dst;
}

void qlist_destroy_obj(QObject *obj)
{
    QList *qlist = qobject_to(QList, obj);
    QObject *value;

    while ((value = qlist_pop(qlist))) {
        qobject_unref(value);
    }
    g_free(qlist);
}
