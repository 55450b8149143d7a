/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * keyval.h: KEY=VALUE,... option strings, as in QEMU's -blockdev and qemu-img's
 * "driver=qcow2,file.filename=x".
 *
 * Syntax:
 *   key-vals     = [ key-val { ',' key-val } [ ',' ] ]
 *   key-val      = key '=' val | 'help' | '?'
 *   key          = key-fragment { '.' key-fragment }
 *   key-fragment = name | index       (an index only after the first fragment)
 *   name         = [ '__' [a-z0-9.-]+ '_' ] [A-Za-z][A-Za-z0-9_-]*   (< 128 bytes)
 *   index        = [0-9]+
 *   val          = { any byte but ',' | ',,' }    (",," is a literal comma)
 *
 * Semantics: the result is a tree of QDicts whose leaves are QStrings; "a.b.c=v"
 * puts v at a -> b -> c. A later value for the same key replaces the earlier one.
 * A dict whose keys are all indices becomes a QList ordered by index, which must
 * run from 0 without gaps. If implied_key is given and the first key-val has no
 * '=', it is the value of implied_key, up to the first ',' (no ",," escape):
 * keyval_parse("qcow2,file.filename=x", "driver", ...) is {"driver": "qcow2",
 * "file": {"filename": "x"}}.
 *
 * help: "help" or "?" as a whole key-val requests help. With help != NULL,
 * *help tells whether it was requested; with help == NULL it is an error ("Help
 * is not available for this option").
 *
 * Errors, in QEMU's words: "Invalid parameter 'x'", "Expected '=' after parameter
 * 'x'", "Parameter 'x' is too long" (or "Parameter fragment ..."), "Parameters
 * 'x.*' used inconsistently" (a key is both a value and a prefix, or a level mixes
 * indices and names), "Parameter 'x.N' missing" (a gap in a list).
 *
 * Returns a new QDict, or NULL with *errp set.
 */
#ifndef GODWIT_KEYVAL_H
#define GODWIT_KEYVAL_H

#include "qobject/qdict.h"
#include "util/error.h"

QDict *keyval_parse(const char *params, const char *implied_key, bool *help,
                    Error **errp);
/* As keyval_parse, adding to an existing qdict (which must itself come from
 * keyval_parse). Returns qdict, or NULL with *errp set (qdict is then partly
 * updated). */
QDict *keyval_parse_into(QDict *qdict, const char *params, const char *implied_key,
                         bool *help, Error **errp);
/* Merge the keyval tree src into dest: nested dicts merge, lists concatenate,
 * strings replace. A type mismatch is "Parameter 'x' used inconsistently". */
void keyval_merge(QDict *dest, const QDict *src, Error **errp);

#endif /* GODWIT_KEYVAL_H */
