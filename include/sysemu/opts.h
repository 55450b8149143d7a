/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * opts.h: QEMU's classic "QemuOpts" option strings, as -chardev, -mon, -machine,
 * -accel, -drive and the legacy -qmp/-monitor forms take them:
 *
 *   [implied-value,]key=value,flag,noflag,...
 *
 * ",," inside a value is a literal comma. A bare "flag" means flag=on, "noflag"
 * means flag=off (QEMU's old boolean syntax: "server,nowait"). When implied_key is
 * given, a first item without '=' is the value of implied_key. "help" and "?" as
 * an item set "help"="on". A key given twice keeps the last value.
 *
 * The result is a flat QDict of QStrings (dotted keys such as "file.driver" stay
 * as they are). Threads: any; no state.
 */
#ifndef GODWIT_SYSEMU_OPTS_H
#define GODWIT_SYSEMU_OPTS_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

/* New dict, or NULL with errp set ("Invalid parameter ''" for an empty key). */
QDict *qemu_opts_parse_flat(const char *str, const char *implied_key, Error **errp);

/*
 * A boolean option value: "on"/"yes"/"true"/"y" or "off"/"no"/"false"/"n".
 * Absent: dflt. Otherwise an error in QEMU's words
 * ("Parameter 'x' expects 'on' or 'off'").
 */
bool qemu_opt_get_bool(QDict *opts, const char *key, bool dflt, Error **errp);

/* Fail with "Invalid parameter 'x'" if opts has a key not in the NULL-ended list. */
bool qemu_opts_check_keys(QDict *opts, const char *const *allowed, Error **errp);

#endif /* GODWIT_SYSEMU_OPTS_H */
