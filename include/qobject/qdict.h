/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qdict.h: a map from strings to QObjects (a JSON object).
 *
 * ITERATION ORDER is QEMU's, because QMP replies and qemu-img --output=json print
 * members in this order and the iotests compare the text byte for byte
 * (spec/iotests-harness.md §2.3): the table has QDICT_BUCKET_MAX = 512 buckets;
 * a key goes to bucket qdict_hash(key) % 512, where
 *     v = 0x238F13AF * strlen(key); v += key[i] << ((i * 5) % 24) for each byte;
 *     hash = 1103515243 * v + 12345            (all in uint32_t)
 * Iteration visits buckets in ascending order and, within a bucket, the key
 * inserted last first. Replacing the value of an existing key keeps its place.
 * So, to reproduce a QEMU reply, insert members in QAPI schema order.
 *
 * Ownership: the dict owns one reference to each value and a copy of each key.
 * qdict_put_obj() and qdict_put() take the caller's reference; getters lend theirs.
 *
 * Iterate with
 *     for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) { ... }
 * Adding or deleting keys during iteration is not allowed, except deleting the
 * current entry after fetching the next one.
 *
 * Threads: see qobject.h (one mutator at a time).
 */
#ifndef GODWIT_QDICT_H
#define GODWIT_QDICT_H

#include "qobject/qobject.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "qobject/qbool.h"
#include "qobject/qnull.h"
#include "util/error.h"

#define QDICT_BUCKET_MAX 512

typedef struct QDictEntry {
    char *key;
    QObject *value;
    struct QDictEntry *next;    /* within the bucket */
} QDictEntry;

struct QDict {
    struct QObjectBase_ base;
    size_t size;
    QDictEntry *table[QDICT_BUCKET_MAX];
};

/* The hash described above (before the modulo). */
uint32_t qdict_hash(const char *key);

QDict *qdict_new(void);
size_t qdict_size(const QDict *qdict);

/* Insert or replace key -> value, taking the caller's reference to value
 * (value must not be NULL). */
void qdict_put_obj(QDict *qdict, const char *key, QObject *value);
/* Same for any concrete QObject pointer. */
#define qdict_put(qdict, key, obj) qdict_put_obj(qdict, key, QOBJECT(obj))
void qdict_put_int(QDict *qdict, const char *key, int64_t value);
void qdict_put_bool(QDict *qdict, const char *key, bool value);
void qdict_put_str(QDict *qdict, const char *key, const char *value);
void qdict_put_null(QDict *qdict, const char *key);

/* Borrowed value for key, or NULL. */
QObject *qdict_get(const QDict *qdict, const char *key);
bool qdict_haskey(const QDict *qdict, const char *key);
/* Remove key (dropping the dict's reference); no-op if absent. */
void qdict_del(QDict *qdict, const char *key);

/*
 * Typed getters. The plain forms assert that the key exists with the right type:
 * use them only on dicts whose shape is already checked. _get_qdict/_get_qlist
 * return NULL when the key is absent or of another type.
 */
int64_t qdict_get_int(const QDict *qdict, const char *key);
double qdict_get_double(const QDict *qdict, const char *key);
bool qdict_get_bool(const QDict *qdict, const char *key);
const char *qdict_get_str(const QDict *qdict, const char *key);
QDict *qdict_get_qdict(const QDict *qdict, const char *key);
QList *qdict_get_qlist(const QDict *qdict, const char *key);

/* Tolerant getters: def_value (or NULL) when absent or of another type. An int
 * lookup fails for a number that is not an int64. */
int64_t qdict_get_try_int(const QDict *qdict, const char *key, int64_t def_value);
bool qdict_get_try_bool(const QDict *qdict, const char *key, bool def_value);
const char *qdict_get_try_str(const QDict *qdict, const char *key);

/* Iteration, in the order described above. */
const QDictEntry *qdict_first(const QDict *qdict);
const QDictEntry *qdict_next(const QDict *qdict, const QDictEntry *entry);
static inline const char *qdict_entry_key(const QDictEntry *entry)
{
    return entry->key;
}
static inline QObject *qdict_entry_value(const QDictEntry *entry)
{
    return entry->value;
}

/* A new dict with the same keys and new references to the same values; it is
 * built in src's iteration order. */
QDict *qdict_clone_shallow(const QDict *src);

/* If dst lacks key and src has it, put a new reference to src's value in dst. */
void qdict_copy_default(QDict *dst, const QDict *src, const char *key);
/* If dst lacks key, put the string val there. */
void qdict_set_default_str(QDict *dst, const char *key, const char *val);

/* Move every entry of src into dest; an existing key in dest is replaced only if
 * overwrite (otherwise the entry stays in src). */
void qdict_join(QDict *dest, QDict *src, bool overwrite);

/*
 * Nested <-> dotted forms, as block-layer options use them
 * ({"file": {"filename": "x"}} <-> {"file.filename": "x"}).
 *
 * qdict_flatten: in place, replace each non-empty nested dict value by its
 * members with keys "<key>.<member>", and each non-empty list value by
 * "<key>.<index>", recursively. Empty dicts and lists stay as values.
 *
 * qdict_crumple: the reverse, returning a new object and leaving src alone. Keys
 * are split at '.', where ".." stands for a literal '.'. A level whose keys are
 * all decimal indices 0..n-1 becomes a list. Errors: a key is both a scalar and a
 * prefix ("a=1" and "a.b=2"), a level mixes indices and names, an index is missing,
 * or a value of src is itself a dict or list.
 *
 * qdict_extract_subqdict: move every entry whose key starts with prefix from src
 * into a new dict *dst with the prefix stripped; dst may be NULL to just drop them.
 *
 * qdict_array_split: move "0", "1", ... (scalars) or "0.*", "1.*", ... (as dicts)
 * from src into a new list *dst, stopping at the first index that is missing or
 * is both a scalar and a prefix.
 */
void qdict_flatten(QDict *qdict);
QObject *qdict_crumple(const QDict *src, Error **errp);
void qdict_extract_subqdict(QDict *src, QDict **dst, const char *prefix);
void qdict_array_split(QDict *src, QList **dst);

static inline void qdict_unref(QDict *q)
{
    qobject_unref(q);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QDict, qdict_unref)

#endif /* GODWIT_QDICT_H */
