/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QDict: a fixed 512-bucket hash table with chaining. The bucket count, the hash
 * and head insertion are not tuning choices: together they give QEMU's iteration
 * order, which QMP and qemu-img output must reproduce (see qdict.h).
 *
 * The nested/dotted conversions (flatten, crumple, extract, array split) follow the
 * core operations.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"

void qdict_destroy_obj(QObject *obj);

uint32_t qdict_hash(const char *key)
{
    size_t len = strlen(key);
    uint32_t v = 0x238F13AFu * (uint32_t)len;

    for (size_t i = 0; i < len; i++) {
        v += (uint32_t)(uint8_t)key[i] << ((i * 5) % 24);
    }
    return 1103515243u * v + 12345u;
}

static unsigned qdict_bucket(const char *key)
{
    return qdict_hash(key) % QDICT_BUCKET_MAX;
}

QDict *qdict_new(void)
{
    QDict *qdict = g_new0(QDict, 1);

    qobject_init(QOBJECT(qdict), QTYPE_QDICT);
    return qdict;
}

size_t qdict_size(const QDict *qdict)
{
    return qdict->size;
}

static QDictEntry *qdict_find(const QDict *qdict, const char *key, unsigned bucket)
{
    for (QDictEntry *e = qdict->table[bucket]; e; e = e->next) {
        if (!strcmp(e->key, key)) {
            return e;
        }
    }
    return NULL;
}

void qdict_put_obj(QDict *qdict, const char *key, QObject *value)
{
    unsigned bucket = qdict_bucket(key);
    QDictEntry *e = qdict_find(qdict, key, bucket);

    assert(value);
    if (e) {
        /* replace in place: the key keeps its position in the iteration order */
        qobject_unref(e->value);
        e->value = value;
        return;
    }
    e = g_new(QDictEntry, 1);
    e->key = g_strdup(key);
    e->value = value;
    e->next = qdict->table[bucket];
    qdict->table[bucket] = e;
    qdict->size++;
}

void qdict_put_int(QDict *qdict, const char *key, int64_t value)
{
    qdict_put(qdict, key, qnum_from_int(value));
}

void qdict_put_bool(QDict *qdict, const char *key, bool value)
{
    qdict_put(qdict, key, qbool_from_bool(value));
}

void qdict_put_str(QDict *qdict, const char *key, const char *value)
{
    qdict_put(qdict, key, qstring_from_str(value));
}

void qdict_put_null(QDict *qdict, const char *key)
{
    qdict_put(qdict, key, qnull());
}

QObject *qdict_get(const QDict *qdict, const char *key)
{
    QDictEntry *e = qdict_find(qdict, key, qdict_bucket(key));

    return e ? e->value : NULL;
}

bool qdict_haskey(const QDict *qdict, const char *key)
{
    return qdict_get(qdict, key) != NULL;
}

static void qdict_entry_free(QDictEntry *e)
{
    qobject_unref(e->value);
    g_free(e->key);
    g_free(e);
}

void qdict_del(QDict *qdict, const char *key)
{
    QDictEntry **link = &qdict->table[qdict_bucket(key)];

    for (; *link; link = &(*link)->next) {
        QDictEntry *e = *link;
        if (!strcmp(e->key, key)) {
            *link = e->next;
            qdict_entry_free(e);
            qdict->size--;
            return;
        }
    }
}

int64_t qdict_get_int(const QDict *qdict, const char *key)
{
    return qnum_get_int(qobject_to(QNum, qdict_get(qdict, key)));
}

double qdict_get_double(const QDict *qdict, const char *key)
{
    return qnum_get_double(qobject_to(QNum, qdict_get(qdict, key)));
}

bool qdict_get_bool(const QDict *qdict, const char *key)
{
    QBool *qb = qobject_to(QBool, qdict_get(qdict, key));

    assert(qb);
    return qbool_get_bool(qb);
}

const char *qdict_get_str(const QDict *qdict, const char *key)
{
    QString *qs = qobject_to(QString, qdict_get(qdict, key));

    assert(qs);
    return qstring_get_str(qs);
}

QDict *qdict_get_qdict(const QDict *qdict, const char *key)
{
    return qobject_to(QDict, qdict_get(qdict, key));
}

QList *qdict_get_qlist(const QDict *qdict, const char *key)
{
    return qobject_to(QList, qdict_get(qdict, key));
}

int64_t qdict_get_try_int(const QDict *qdict, const char *key, int64_t def_value)
{
    QNum *qn = qobject_to(QNum, qdict_get(qdict, key));
    int64_t val;

    return qn && qnum_get_try_int(qn, &val) ? val : def_value;
}

bool qdict_get_try_bool(const QDict *qdict, const char *key, bool def_value)
{
    QBool *qb = qobject_to(QBool, qdict_get(qdict, key));

    return qb ? qbool_get_bool(qb) : def_value;
}

const char *qdict_get_try_str(const QDict *qdict, const char *key)
{
    QString *qs = qobject_to(QString, qdict_get(qdict, key));

    return qs ? qstring_get_str(qs) : NULL;
}

static const QDictEntry *qdict_first_from(const QDict *qdict, unsigned bucket)
{
    for (; bucket < QDICT_BUCKET_MAX; bucket++) {
        if (qdict->table[bucket]) {
            return qdict->table[bucket];
        }
    }
    return NULL;
}

const QDictEntry *qdict_first(const QDict *qdict)
{
    return qdict_first_from(qdict, 0);
}

const QDictEntry *qdict_next(const QDict *qdict, const QDictEntry *entry)
{
    if (entry->next) {
        return entry->next;
    }
    return qdict_first_from(qdict, qdict_bucket(entry->key) + 1);
}

QDict *qdict_clone_shallow(const QDict *src)
{
    QDict *dst = qdict_new();

    for (const QDictEntry *e = qdict_first(src); e; e = qdict_next(src, e)) {
        qdict_put_obj(dst, e->key, qobject_ref(e->value));
    }
    return dst;
}

void qdict_copy_default(QDict *dst, const QDict *src, const char *key)
{
    QObject *val = qdict_get(src, key);

    if (val && !qdict_haskey(dst, key)) {
        qdict_put_obj(dst, key, qobject_ref(val));
    }
}

void qdict_set_default_str(QDict *dst, const char *key, const char *val)
{
    if (!qdict_haskey(dst, key)) {
        qdict_put_str(dst, key, val);
    }
}

void qdict_join(QDict *dest, QDict *src, bool overwrite)
{
    const QDictEntry *e = qdict_first(src), *next;

    for (; e; e = next) {
        next = qdict_next(src, e);
        if (overwrite || !qdict_haskey(dest, e->key)) {
            qdict_put_obj(dest, e->key, qobject_ref(e->value));
            qdict_del(src, e->key);
        }
    }
}

void qdict_destroy_obj(QObject *obj)
{
    QDict *qdict = qobject_to(QDict, obj);

    for (unsigned i = 0; i < QDICT_BUCKET_MAX; i++) {
        QDictEntry *e = qdict->table[i];
        while (e) {
            QDictEntry *next = e->next;
            qdict_entry_free(e);
            e = next;
        }
    }
    g_free(qdict);
}

/* ---- nested <-> dotted ------------------------------------------------------ */

static bool qobject_is_nonempty_container(const QObject *obj)
{
    QDict *d = qobject_to(QDict, obj);
    QList *l = qobject_to(QList, obj);

    return (d && qdict_size(d)) || (l && !qlist_empty(l));
}

/* Put the leaves of value into target under prefix ("a" -> "a.b", "a.0"). */
static void qdict_flatten_into(QDict *target, QObject *value, const char *prefix)
{
    QDict *d = qobject_to(QDict, value);
    QList *l = qobject_to(QList, value);

    if (!qobject_is_nonempty_container(value)) {
        qdict_put_obj(target, prefix, qobject_ref(value));
    } else if (d) {
        for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) {
            g_autofree char *key = g_strdup_printf("%s.%s", prefix, e->key);
            qdict_flatten_into(target, e->value, key);
        }
    } else {
        const QListEntry *e;
        size_t i = 0;
        QLIST_FOREACH_ENTRY(l, e) {
            g_autofree char *key = g_strdup_printf("%s.%zu", prefix, i++);
            qdict_flatten_into(target, e->value, key);
        }
    }
}

void qdict_flatten(QDict *qdict)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);

    for (const QDictEntry *e = qdict_first(qdict); e; e = qdict_next(qdict, e)) {
        if (qobject_is_nonempty_container(e->value)) {
            g_ptr_array_add(keys, g_strdup(e->key));
        }
    }
    for (guint i = 0; i < keys->len; i++) {
        const char *key = g_ptr_array_index(keys, i);
        QObject *value = qobject_ref(qdict_get(qdict, key));
        qdict_del(qdict, key);
        qdict_flatten_into(qdict, value, key);
        qobject_unref(value);
    }
}

void qdict_extract_subqdict(QDict *src, QDict **dst, const char *prefix)
{
    size_t plen = strlen(prefix);
    const QDictEntry *e = qdict_first(src), *next;

    if (dst) {
        *dst = qdict_new();
    }
    for (; e; e = next) {
        next = qdict_next(src, e);
        if (!strncmp(e->key, prefix, plen)) {
            if (dst) {
                qdict_put_obj(*dst, e->key + plen, qobject_ref(e->value));
            }
            qdict_del(src, e->key);
        }
    }
}

static bool qdict_has_prefixed_entries(const QDict *src, const char *prefix)
{
    size_t plen = strlen(prefix);

    for (const QDictEntry *e = qdict_first(src); e; e = qdict_next(src, e)) {
        if (!strncmp(e->key, prefix, plen)) {
            return true;
        }
    }
    return false;
}

void qdict_array_split(QDict *src, QList **dst)
{
    *dst = qlist_new();
    for (unsigned i = 0;; i++) {
        g_autofree char *key = g_strdup_printf("%u", i);
        g_autofree char *prefix = g_strdup_printf("%u.", i);
        QObject *scalar = qdict_get(src, key);
        bool is_subqdict = qdict_has_prefixed_entries(src, prefix);

        if (scalar && !is_subqdict) {
            qlist_append_obj(*dst, qobject_ref(scalar));
            qdict_del(src, key);
        } else if (!scalar && is_subqdict) {
            QDict *sub;
            qdict_extract_subqdict(src, &sub, prefix);
            qlist_append(*dst, sub);
        } else {
            break;
        }
    }
}

/* Split key at the first single '.', unescaping "..". *suffix is NULL if none. */
static char *qdict_split_key(const char *key, const char **suffix)
{
    GString *prefix = g_string_new(NULL);
    const char *p = key;

    *suffix = NULL;
    for (; *p; p++) {
        if (*p == '.') {
            if (p[1] != '.') {
                *suffix = p + 1;
                break;
            }
            p++;
        }
        g_string_append_c(prefix, *p);
    }
    return g_string_free(prefix, false);
}

/* Parse a list index: decimal digits only, no sign, no leading zeros but "0". */
static bool qdict_key_to_index(const char *key, size_t *index)
{
    uint64_t val = 0;

    if (!*key || (key[0] == '0' && key[1])) {
        return false;
    }
    for (const char *p = key; *p; p++) {
        if (*p < '0' || *p > '9' || val > (UINT32_MAX - 9) / 10) {
            return false;
        }
        val = val * 10 + (*p - '0');
    }
    *index = val;
    return true;
}

/* Turn a dict whose keys are all indices into a list; NULL + error otherwise. */
static QObject *qdict_crumple_listify(QDict *dict, Error **errp)
{
    size_t n = qdict_size(dict), idx;
    bool all_index = n > 0, any_index = false;
    QList *list;

    for (const QDictEntry *e = qdict_first(dict); e; e = qdict_next(dict, e)) {
        bool is_index = qdict_key_to_index(e->key, &idx);
        all_index &= is_index;
        any_index |= is_index;
    }
    if (!any_index) {
        return qobject_ref(QOBJECT(dict));
    }
    if (!all_index) {
        error_setg(errp, "Cannot mix list and non-list keys");
        return NULL;
    }
    list = qlist_new();
    for (size_t i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof(key), "%zu", i);
        QObject *child = qdict_get(dict, key);
        if (!child) {
            error_setg(errp, "Missing list index '%zu'", i);
            qobject_unref(list);
            return NULL;
        }
        qlist_append_obj(list, qobject_ref(child));
    }
    return QOBJECT(list);
}

QObject *qdict_crumple(const QDict *src, Error **errp)
{
    g_autoptr(QDict) two_level = qdict_new();
    g_autoptr(QDict) multi_level = qdict_new();

    /* First pass: split off the first key component, grouping by it. */
    for (const QDictEntry *e = qdict_first(src); e; e = qdict_next(src, e)) {
        const char *suffix;
        g_autofree char *prefix = qdict_split_key(e->key, &suffix);
        QObject *old = qdict_get(two_level, prefix);

        if (qobject_to(QDict, e->value) || qobject_to(QList, e->value)) {
            error_setg(errp, "Value %s is not flat", e->key);
            return NULL;
        }
        if (suffix) {
            QDict *child = qobject_to(QDict, old);
            if (old && !child) {
                error_setg(errp, "Key %s prefix is already set as a scalar", prefix);
                return NULL;
            }
            if (!child) {
                child = qdict_new();
                qdict_put(two_level, prefix, child);
            }
            qdict_put_obj(child, suffix, qobject_ref(e->value));
        } else {
            if (old) {
                error_setg(errp, "Key %s prefix is already set as a dict", prefix);
                return NULL;
            }
            qdict_put_obj(two_level, prefix, qobject_ref(e->value));
        }
    }

    /* Second pass: crumple the children recursively. */
    for (const QDictEntry *e = qdict_first(two_level); e; e = qdict_next(two_level, e)) {
        QDict *child = qobject_to(QDict, e->value);
        QObject *value = child ? qdict_crumple(child, errp) : qobject_ref(e->value);
        if (!value) {
            return NULL;
        }
        qdict_put_obj(multi_level, e->key, value);
    }
    return qdict_crumple_listify(multi_level, errp);
}
