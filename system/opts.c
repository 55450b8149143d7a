/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QemuOpts-style option strings (contract in include/sysemu/opts.h).
 */
#include "util/osdep.h"
#include "sysemu/opts.h"
#include "qobject/qstring.h"

/* Copy one item (up to an unescaped ',') into out; return the position after it. */
static const char *opts_next_item(const char *p, GString *out)
{
    g_string_truncate(out, 0);
    while (*p) {
        if (*p == ',') {
            if (p[1] != ',') {
                return p + 1;
            }
            p++;            /* ",," is a literal comma */
        }
        g_string_append_c(out, *p++);
    }
    return p;
}

QDict *qemu_opts_parse_flat(const char *str, const char *implied_key, Error **errp)
{
    QDict *opts = qdict_new();
    g_autoptr(GString) item = g_string_new(NULL);
    const char *p = str;
    bool first = true;

    while (*p) {
        char *eq;

        p = opts_next_item(p, item);
        eq = strchr(item->str, '=');
        if (eq) {
            *eq = '\0';
            if (!item->str[0]) {
                error_setg(errp, "Invalid parameter ''");
                qobject_unref(opts);
                return NULL;
            }
            qdict_put_str(opts, item->str, eq + 1);
        } else if (!strcmp(item->str, "help") || !strcmp(item->str, "?")) {
            qdict_put_str(opts, "help", "on");
        } else if (first && implied_key) {
            qdict_put_str(opts, implied_key, item->str);
        } else if (!item->len) {
            /* a trailing or doubled separator: ignored, as QEMU does */
        } else if (!strncmp(item->str, "no", 2) && item->len > 2) {
            qdict_put_str(opts, item->str + 2, "off");
        } else {
            qdict_put_str(opts, item->str, "on");
        }
        first = false;
    }
    return opts;
}

bool qemu_opt_get_bool(QDict *opts, const char *key, bool dflt, Error **errp)
{
    const char *v = qdict_get_try_str(opts, key);

    if (!v) {
        return dflt;
    }
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "y")) {
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "n")) {
        return false;
    }
    error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
    return dflt;
}

bool qemu_opts_check_keys(QDict *opts, const char *const *allowed, Error **errp)
{
    for (const QDictEntry *e = qdict_first(opts); e; e = qdict_next(opts, e)) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) {
            ok = !strcmp(*a, qdict_entry_key(e));
        }
        if (!ok) {
            error_setg(errp, "Invalid parameter '%s'", qdict_entry_key(e));
            return false;
        }
    }
    return true;
}
