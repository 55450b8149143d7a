/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for keyval beyond a single keyval_parse (which fuzz-json covers):
 * the input is two option strings A and B split at the first '\n' (byte 0 picks
 * the implied keys). A is parsed, B is parsed on its own and merged into A
 * (keyval_merge), then B is parsed into A again (keyval_parse_into, what
 * repeated -blockdev/-object arguments do); if that succeeds, the result is
 * flattened and crumpled back, and must come out equal. Errors must be Errors; no leaks.
 */
#include "util/osdep.h"
#include "qobject/keyval.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

/*
 * A key fragment may hold dots (a downstream "__rfqdn_" prefix such as
 * "__com.example_x"); qdict_flatten() does not escape them, so such a tree
 * does not come back from qdict_crumple() the same, in QEMU neither.
 */
static bool has_dotted_key(QObject *obj)
{
    QDict *d = qobject_to(QDict, obj);
    QList *l = qobject_to(QList, obj);

    if (d) {
        for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) {
            if (strchr(qdict_entry_key(e), '.') || has_dotted_key(qdict_entry_value(e))) {
                return true;
            }
        }
    } else if (l) {
        QListEntry *e;
        QLIST_FOREACH_ENTRY(l, e) {
            if (has_dotted_key(qlist_entry_obj(e))) {
                return true;
            }
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_implied[] = { NULL, "driver", "id", "type" };

static QDict *fuzz_parse(const char *s, const char *implied)
{
    Error *err = NULL;
    bool help = false;
    QDict *d = keyval_parse(s, implied, &help, &err);

    assert(!d != !err);
    error_free(err);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192) {
        return 0;
    }
    g_autofree char *a_str = g_strndup((const char *)data + 1, size - 1);
    char *nl = strchr(a_str, '\n');
    const char *b_str = "";
    const char *implied_a = fuzz_implied[data[0] & 3];
    const char *implied_b = fuzz_implied[(data[0] >> 2) & 3];
    Error *err = NULL;
    bool help = false;

    if (nl) {
        *nl = 0;
        b_str = nl + 1;
    }
    QDict *a = fuzz_parse(a_str, implied_a);
    QDict *b = fuzz_parse(b_str, implied_b);
    if (!a) {
        qobject_unref(b);
        return 0;
    }
    if (b) {
        keyval_merge(a, b, &err);
        error_free(err);
        err = NULL;
        qobject_unref(b);
    }
    if (!keyval_parse_into(a, b_str, implied_b, &help, &err)) {
        /* a is now partly updated (as documented): only free it */
        assert(err);
        error_free(err);
        qobject_unref(a);
        return 0;
    }

    /* flatten and crumple: a keyval tree survives the round trip */
    QDict *flat = qdict_clone_shallow(a);
    qdict_flatten(flat);
    QObject *back = qdict_crumple(flat, &err);
    if (!back) {
        error_free(err);
    } else if (!has_dotted_key(QOBJECT(a))) {
        assert(qobject_is_equal(back, QOBJECT(a)));
    }
    qobject_unref(back);
    qobject_unref(flat);
    qobject_unref(a);
    return 0;
}
