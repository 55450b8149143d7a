/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * KEY=VALUE,... parsing (grammar and semantics in keyval.h).
 *
 * Parsing is two passes: keyval_parse_one() reads one key-val into a tree of
 * QDicts (index fragments are plain keys at that point), then keyval_listify()
 * turns every dict whose keys are all indices into a QList.
 */
#include "util/osdep.h"
#include "qobject/keyval.h"

#define KEYVAL_FRAGMENT_MAX 128

/* Length of a QAPI name at s ("__rfqdn_" downstream prefix allowed), or 0. */
static size_t keyval_name_len(const char *s)
{
    const char *p = s;

    if (p[0] == '_' && p[1] == '_') {
        const char *q = p + 2;
        while (g_ascii_islower(*q) || g_ascii_isdigit(*q) || *q == '.' || *q == '-') {
            q++;
        }
        if (q == p + 2 || *q != '_') {
            return 0;
        }
        p = q + 1;
    }
    if (!g_ascii_isalpha(*p)) {
        return 0;
    }
    while (g_ascii_isalnum(*p) || *p == '_' || *p == '-') {
        p++;
    }
    return p - s;
}

/* Length of a run of digits at s. */
static size_t keyval_index_len(const char *s)
{
    size_t n = 0;

    while (g_ascii_isdigit(s[n])) {
        n++;
    }
    return n;
}

/* Is the whole of key an index? Sets *index (saturating at INT_MAX). */
static bool keyval_key_to_index(const char *key, int *index)
{
    size_t n = keyval_index_len(key);
    int64_t v = 0;

    if (!n || key[n]) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        v = MIN(v * 10 + (key[i] - '0'), (int64_t)INT_MAX);
    }
    *index = (int)v;
    return true;
}

/* "help" or "?" exactly filling len bytes at s */
static bool keyval_is_help(const char *s, size_t len)
{
    return (len == 4 && !strncmp(s, "help", 4)) || (len == 1 && s[0] == '?');
}

/*
 * Split key[0, key_len) into its fragments (appended to frags as strings), checking
 * each: a name, or an index after the first fragment, shorter than 128 bytes.
 */
static bool keyval_split_key(const char *key, size_t key_len, GPtrArray *frags,
                             Error **errp)
{
    const char *s = key, *end = key + key_len;

    for (;;) {
        size_t len = s != key && keyval_index_len(s) ? keyval_index_len(s)
                                                      : keyval_name_len(s);
        if (s + len > end) {
            len = end - s;      /* the name ran into the '=' or ',' after the key */
        }
        if (!len || (s + len < end && s[len] != '.')) {
            error_setg(errp, "Invalid parameter '%.*s'", (int)key_len, key);
            return false;
        }
        if (len >= KEYVAL_FRAGMENT_MAX) {
            error_setg(errp, "Parameter%s '%.*s' is too long",
                       s != key || s + len != end ? " fragment" : "", (int)len, s);
            return false;
        }
        g_ptr_array_add(frags, g_strndup(s, len));
        s += len;
        if (s == end) {
            return true;
        }
        s++;                    /* the '.' */
    }
}

/* Put value at key[0, key_len), creating dicts on the way. Takes value. */
static bool keyval_put(QDict *qdict, const char *key, size_t key_len, QString *value,
                       Error **errp)
{
    g_autoptr(GPtrArray) frags = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(QString) val = value;
    size_t prefix_len = 0;
    QDict *cur = qdict;

    if (!keyval_split_key(key, key_len, frags, errp)) {
        return false;
    }
    for (guint i = 0; i < frags->len; i++) {
        const char *frag = g_ptr_array_index(frags, i);
        bool last = i == frags->len - 1;
        QObject *old = qdict_get(cur, frag);

        prefix_len += strlen(frag) + (i ? 1 : 0);
        if (old && (last ? !qobject_to(QString, old) : !qobject_to(QDict, old))) {
            error_setg(errp, "Parameters '%.*s.*' used inconsistently",
                       (int)prefix_len, key);
            return false;
        }
        if (last) {
            qdict_put(cur, frag, g_steal_pointer(&val));   /* a later value replaces */
            return true;
        }
        if (!old) {
            old = QOBJECT(qdict_new());
            qdict_put_obj(cur, frag, old);
        }
        cur = qobject_to(QDict, old);
    }
    g_assert_not_reached();
}

/* Parse one key-val at params; returns where the next one starts, or NULL. */
static const char *keyval_parse_one(QDict *qdict, const char *params,
                                    const char *implied_key, bool *help, Error **errp)
{
    size_t len = strcspn(params, "=,");
    const char *s;
    GString *val;

    if (len && params[len] != '=') {
        if (keyval_is_help(params, len)) {
            *help = true;
            s = params + len;
            return *s == ',' ? s + 1 : s;
        }
        if (implied_key) {
            /* the value runs to the first ',' (no ",," escape here) */
            QString *v = qstring_from_substr(params, 0, len);
            if (!keyval_put(qdict, implied_key, strlen(implied_key), v, errp)) {
                return NULL;
            }
            s = params + len;
            return *s == ',' ? s + 1 : s;
        }
    }
    if (params[len] != '=') {
        g_autoptr(GPtrArray) frags = g_ptr_array_new_with_free_func(g_free);
        /* a bad key is reported before the missing '=' */
        if (keyval_split_key(params, len, frags, errp)) {
            error_setg(errp, "Expected '=' after parameter '%.*s'", (int)len, params);
        }
        return NULL;
    }

    val = g_string_new(NULL);
    for (s = params + len + 1; *s; s++) {
        if (*s == ',') {
            if (s[1] != ',') {
                s++;
                break;
            }
            s++;                /* ",," is a literal comma */
        }
        g_string_append_c(val, *s);
    }
    if (!keyval_put(qdict, params, len, qstring_from_gstring(val), errp)) {
        return NULL;
    }
    return s;
}

/* Turn index-keyed dicts into lists, bottom up. path is the key so far ("a.b."). */
static QObject *keyval_listify(QDict *cur, GString *path, Error **errp)
{
    size_t path_len = path->len;
    bool has_index = false, has_member = false;
    int index, max_index = -1;
    g_autofree QObject **elt = NULL;
    size_t n = qdict_size(cur);
    QList *list;

    for (const QDictEntry *e = qdict_first(cur); e; e = qdict_next(cur, e)) {
        QDict *child = qobject_to(QDict, e->value);

        if (keyval_key_to_index(e->key, &index)) {
            has_index = true;
            max_index = MAX(max_index, index);
        } else {
            has_member = true;
        }
        if (child) {
            g_string_append_printf(path, "%s.", e->key);
            QObject *val = keyval_listify(child, path, errp);
            g_string_truncate(path, path_len);
            if (!val) {
                return NULL;
            }
            if (val != e->value) {
                qdict_put_obj(cur, e->key, val);    /* replaces in place */
            }
        }
    }
    if (has_index && has_member) {
        error_setg(errp, "Parameters '%s*' used inconsistently", path->str);
        return NULL;
    }
    if (!has_index) {
        return QOBJECT(cur);
    }

    /* indices beyond n - 1 cannot all be present: stop at the first gap */
    elt = g_new0(QObject *, n);
    for (const QDictEntry *e = qdict_first(cur); e; e = qdict_next(cur, e)) {
        keyval_key_to_index(e->key, &index);
        if ((size_t)index < n) {
            elt[index] = e->value;
        }
    }
    list = qlist_new();
    for (int i = 0; i <= max_index; i++) {
        if ((size_t)i >= n || !elt[i]) {
            error_setg(errp, "Parameter '%s%d' missing", path->str, i);
            qobject_unref(list);
            return NULL;
        }
        qlist_append_obj(list, qobject_ref(elt[i]));
    }
    return QOBJECT(list);
}

QDict *keyval_parse_into(QDict *qdict, const char *params, const char *implied_key,
                         bool *p_help, Error **errp)
{
    g_autoptr(GString) path = g_string_new(NULL);
    bool help = false;
    QObject *listified;

    for (const char *s = params; *s; implied_key = NULL) {
        s = keyval_parse_one(qdict, s, implied_key, &help, errp);
        if (!s) {
            return NULL;
        }
    }
    if (p_help) {
        *p_help = help;
    } else if (help) {
        error_setg(errp, "Help is not available for this option");
        return NULL;
    }
    listified = keyval_listify(qdict, path, errp);
    if (!listified) {
        return NULL;
    }
    assert(listified == QOBJECT(qdict));    /* the root has no index keys */
    return qdict;
}

QDict *keyval_parse(const char *params, const char *implied_key, bool *help,
                    Error **errp)
{
    QDict *qdict = qdict_new();

    if (!keyval_parse_into(qdict, params, implied_key, help, errp)) {
        qobject_unref(qdict);
        return NULL;
    }
    return qdict;
}

static void keyval_do_merge(QDict *dest, const QDict *src, GString *path, Error **errp)
{
    size_t path_len = path->len;

    for (const QDictEntry *e = qdict_first(src); e; e = qdict_next(src, e)) {
        QObject *old = qdict_get(dest, e->key);

        if (old && qobject_type(old) != qobject_type(e->value)) {
            error_setg(errp, "Parameter '%s%s' used inconsistently", path->str, e->key);
            return;
        }
        if (old && qobject_type(old) == QTYPE_QDICT) {
            g_string_append_printf(path, "%s.", e->key);
            keyval_do_merge(qobject_to(QDict, old), qobject_to(QDict, e->value), path, errp);
            g_string_truncate(path, path_len);
            continue;
        }
        if (old && qobject_type(old) == QTYPE_QLIST) {
            const QListEntry *item;
            QLIST_FOREACH_ENTRY(qobject_to(QList, e->value), item) {
                qlist_append_obj(qobject_to(QList, old), qobject_ref(item->value));
            }
            continue;
        }
        qdict_put_obj(dest, e->key, qobject_ref(e->value));
    }
}

void keyval_merge(QDict *dest, const QDict *src, Error **errp)
{
    g_autoptr(GString) path = g_string_new(NULL);

    keyval_do_merge(dest, src, path, errp);
}
