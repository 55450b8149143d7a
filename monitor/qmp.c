/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The QMP monitor: greeting, JSON input, dispatch, replies (contract in
 * include/monitor/monitor.h; wire format in QEMU's docs/interop/qmp-spec).
 *
 *   server: {"QMP": {"version": VersionInfo, "capabilities": ["oob"]}}  at connect
 *   client: {"execute": "qmp_capabilities"[, "arguments": {"enable": ["oob"]}]}
 *   server: {"return": {}}          now in command mode; events start flowing
 *   client: {"execute": CMD, "arguments": {...}, "id": ANY}
 *   server: {"return": ...[, "id": ANY]} | {"error": {"class", "desc"}[, "id"]}
 *
 * Input is parsed by the streaming JSON parser; every complete value (or parse
 * error) becomes a queued request, run in order with the chardev's input paused.
 * A parse error is answered with an error reply and the parser resynchronises;
 * a message over the parser's size limit also ends the connection.
 */
#include "util/osdep.h"
#include "monitor-internal.h"
#include "qobject/qjson.h"
#include "qapi-commands.h"
#include "qapi-visit.h"
#include "qobject/qlist.h"
#include "sysemu/runstate.h"

typedef struct QmpRequest {
    QObject *req;               /* a parsed message, or NULL with err */
    Error *err;
} QmpRequest;

void qmp_send_message(Monitor *mon, QDict *msg)
{
    GString *json = qobject_to_json_pretty(QOBJECT(msg), mon->pretty);

    g_string_append_c(json, '\n');
    monitor_puts(mon, json->str);
    g_string_free(json, true);
}

static void qmp_request_free(QmpRequest *r)
{
    qobject_unref(r->req);
    if (r->err) {
        error_free(r->err);
    }
    g_free(r);
}

static void qmp_parser_emit(void *opaque, QObject *json, Error *err)
{
    Monitor *mon = opaque;
    QmpRequest *r = g_new0(QmpRequest, 1);

    r->req = json;
    r->err = err;
    g_queue_push_tail(&mon->requests, r);
}

static void qmp_session_reset(Monitor *mon)
{
    QmpRequest *r;

    json_message_parser_destroy(&mon->parser);
    json_message_parser_init(&mon->parser, qmp_parser_emit, mon);
    while ((r = g_queue_pop_head(&mon->requests))) {
        qmp_request_free(r);
    }
    mon->mode = QMP_MODE_NEGOTIATION;
    mon->oob_enabled = false;
}

void qmp_monitor_destroy(Monitor *mon)
{
    QmpRequest *r;

    json_message_parser_destroy(&mon->parser);
    while ((r = g_queue_pop_head(&mon->requests))) {
        qmp_request_free(r);
    }
}

static void qmp_send_greeting(Monitor *mon)
{
    g_autoptr(QDict) greeting = qdict_new();
    QDict *qmp = qdict_new();
    QList *caps = qlist_new();
    VersionInfo *info = qmp_query_version(NULL);

    qlist_append_str(caps, "oob");
    qdict_put_obj(qmp, "version", qapi_out_VersionInfo(info));
    qdict_put(qmp, "capabilities", caps);
    qdict_put(greeting, "QMP", qmp);
    qapi_free_VersionInfo(info);
    qmp_send_message(mon, greeting);
}

static bool qmp_error_is_limit(Error *err)
{
    return strstr(error_get_pretty(err), "size limit exceeded") != NULL;
}

/* Run queued requests in order; input stays paused meanwhile. */
static void qmp_run_queue(Monitor *mon)
{
    QmpRequest *r;

    if (mon->busy) {
        return;
    }
    mon->busy = true;
    qemu_chr_accept_input(mon->chr, false);
    while ((r = g_queue_pop_head(&mon->requests))) {
        g_autoptr(QDict) rsp = NULL;
        bool disconnect = false;

        if (qemu_system_exit_requested()) {
            /* after quit, nothing else runs */
            qmp_request_free(r);
            continue;
        }
        if (r->err) {
            disconnect = qmp_error_is_limit(r->err);
            rsp = qmp_error_response(r->err);
            r->err = NULL;
        } else {
            Monitor *old = monitor_set_cur(mon);
            rsp = qmp_dispatch(r->req, mon->mode, mon->oob_enabled);
            monitor_set_cur(old);
        }
        qmp_request_free(r);
        if (qemu_system_exit_requested() && !mon->exit_reply) {
            /*
             * QEMU 7.2.22 answers quit only at exit, after the jobs were
             * cancelled and the nodes closed: their events come first.
             */
            mon->exit_reply = g_steal_pointer(&rsp);
            continue;
        }
        qmp_send_message(mon, rsp);
        if (disconnect) {
            qemu_chr_disconnect(mon->chr);      /* resets the session */
            break;
        }
    }
    mon->busy = false;
    if (mon->chr) {
        qemu_chr_accept_input(mon->chr, !monitor_input_held());
    }
}

static void qmp_chr_read(void *opaque, const uint8_t *buf, size_t len)
{
    Monitor *mon = opaque;

    json_message_parser_feed(&mon->parser, (const char *)buf, len);
    qmp_run_queue(mon);
}

static void qmp_chr_event(void *opaque, CharEvent event)
{
    Monitor *mon = opaque;

    qmp_session_reset(mon);
    if (event == CHR_EVENT_OPENED) {
        qmp_send_greeting(mon);
    }
}

Monitor *monitor_new_qmp(Chardev *chr, bool pretty, Error **errp)
{
    Monitor *mon = g_new0(Monitor, 1);

    mon->is_qmp = true;
    mon->chr = chr;
    mon->pretty = pretty;
    g_queue_init(&mon->requests);
    json_message_parser_init(&mon->parser, qmp_parser_emit, mon);
    if (!qemu_chr_set_handlers(chr, qmp_chr_read, qmp_chr_event, mon, errp)) {
        json_message_parser_destroy(&mon->parser);
        g_free(mon);
        return NULL;
    }
    monitor_register(mon);
    return mon;
}

/* ---------------------------------------------------------------------------
 * Session commands
 */

void qmp_qmp_capabilities(QMPCapabilityList *enable, Error **errp)
{
    Monitor *mon = monitor_cur();
    bool oob = false;

    for (QMPCapabilityList *c = enable; c; c = c->next) {
        if (c->value == QMP_CAPABILITY_OOB) {
            oob = true;
        }
    }
    if (mon && mon->is_qmp) {
        mon->oob_enabled = oob;
        mon->mode = QMP_MODE_COMMAND;
    }
}

static void command_list_prepend(CommandInfoList **list, const char *name)
{
    CommandInfoList *e = g_new0(CommandInfoList, 1);

    e->value = g_new0(CommandInfo, 1);
    e->value->name = g_strdup(name);
    e->next = *list;
    *list = e;
}

static bool command_in_qemu_order(const char *name)
{
    for (size_t i = 0; qmp_command_order[i]; i++) {
        if (!strcmp(qmp_command_order[i], name)) {
            return true;
        }
    }
    return false;
}

/* QEMU's order (qmp_command_order), then ours that QEMU lacks, alphabetically. */
CommandInfoList *qmp_query_commands(Error **errp)
{
    CommandInfoList *list = NULL;
    size_t n = 0;

    for (size_t i = qmp_commands_count; i-- > 0;) {
        if (!command_in_qemu_order(qmp_commands[i].name)) {
            command_list_prepend(&list, qmp_commands[i].name);
        }
    }
    while (qmp_command_order[n]) {
        n++;
    }
    for (size_t i = n; i-- > 0;) {
        if (qmp_find_command(qmp_command_order[i])) {
            command_list_prepend(&list, qmp_command_order[i]);
        }
    }
    return list;
}
