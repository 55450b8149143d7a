/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * One QMP request -> one reply (contract in include/qapi/qmp-dispatch.h).
 */
#include "util/osdep.h"
#include "qapi/qmp-dispatch.h"

static int command_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const QmpCommand *)elem)->name);
}

const QmpCommand *qmp_find_command(const char *name)
{
    return bsearch(name, qmp_commands, qmp_commands_count, sizeof(QmpCommand), command_cmp);
}

QDict *qmp_error_response(Error *err)
{
    QDict *rsp = qdict_new();
    QDict *error = qdict_new();

    qdict_put_str(error, "class", error_class_name(error_get_class(err)));
    qdict_put_str(error, "desc", error_get_pretty(err));
    qdict_put(rsp, "error", error);
    error_free(err);
    return rsp;
}

/*
 * Check the request's members; return the name of the command member
 * ("execute" or "exec-oob") or NULL with errp set.
 */
static const char *check_request(QDict *dict, bool oob_enabled, Error **errp)
{
    const char *exec_key = NULL;

    for (const QDictEntry *e = qdict_first(dict); e; e = qdict_next(dict, e)) {
        const char *key = qdict_entry_key(e);
        QObject *val = qdict_entry_value(e);

        if (!strcmp(key, "execute") || (!strcmp(key, "exec-oob") && oob_enabled)) {
            if (qobject_type(val) != QTYPE_QSTRING) {
                error_setg(errp, "QMP input member '%s' must be a string", key);
                return NULL;
            }
            if (exec_key) {
                error_setg(errp, "QMP input member '%s' clashes with '%s'", key, exec_key);
                return NULL;
            }
            exec_key = key;
        } else if (!strcmp(key, "arguments")) {
            if (qobject_type(val) != QTYPE_QDICT) {
                error_setg(errp, "QMP input member 'arguments' must be an object");
                return NULL;
            }
        } else if (strcmp(key, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!exec_key) {
        error_setg(errp, "QMP input lacks member 'execute'");
    }
    return exec_key;
}

static QObject *run_command(QDict *dict, const char *exec_key, QmpDispatchMode mode,
                            Error **errp)
{
    const char *name = qdict_get_str(dict, exec_key);
    bool is_oob = !strcmp(exec_key, "exec-oob");
    const QmpCommand *cmd = qmp_find_command(name);
    QDict *args = qdict_get_qdict(dict, "arguments");
    g_autoptr(QDict) empty = NULL;
    QObject *ret = NULL;

    if (mode == QMP_MODE_NEGOTIATION && strcmp(name, "qmp_capabilities")) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Expecting capabilities negotiation with 'qmp_capabilities'");
        return NULL;
    }
    if (mode == QMP_MODE_COMMAND && !strcmp(name, "qmp_capabilities")) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    if (!cmd) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND, "The command %s has not been found",
                  name);
        return NULL;
    }
    if (is_oob && !(cmd->options & QCO_ALLOW_OOB)) {
        error_setg(errp, "The command %s does not support OOB", name);
        return NULL;
    }
    if (!args) {
        args = empty = qdict_new();
    }
    cmd->fn(args, &ret, errp);
    return ret;
}

QDict *qmp_dispatch(QObject *request, QmpDispatchMode mode, bool oob_enabled)
{
    QDict *dict = qobject_to(QDict, request);
    Error *err = NULL;
    QObject *id = dict ? qdict_get(dict, "id") : NULL;
    QObject *ret = NULL;
    QDict *rsp;

    if (!dict) {
        error_setg(&err, "QMP input must be a JSON object");
    } else {
        const char *exec_key = check_request(dict, oob_enabled, &err);
        if (exec_key) {
            ret = run_command(dict, exec_key, mode, &err);
        }
    }
    if (err) {
        rsp = qmp_error_response(err);
    } else {
        rsp = qdict_new();
        qdict_put_obj(rsp, "return", ret ? ret : QOBJECT(qdict_new()));
    }
    if (id) {
        qdict_put_obj(rsp, "id", qobject_ref(id));
    }
    return rsp;
}
