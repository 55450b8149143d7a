/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * What QMP and HMP monitors share: the list of monitors, the current monitor,
 * text output with QEMU's "\n" -> "\r\n" conversion, named fds, and the event
 * broadcast (contract in include/monitor/monitor.h).
 */
#include "util/osdep.h"
#include "monitor-internal.h"
#include "qapi/qapi-runtime.h"
#include "qobject/qnum.h"

static GPtrArray *monitors;         /* Monitor *, in creation order */
static Monitor *cur_mon;
static bool monitors_held;          /* startup: read no input yet */

void monitor_register(Monitor *mon)
{
    if (!monitors) {
        monitors = g_ptr_array_new();
    }
    g_ptr_array_add(monitors, mon);
    if (monitors_held && mon->chr) {
        qemu_chr_accept_input(mon->chr, false);
    }
}

void monitor_hold_input(bool hold)
{
    monitors_held = hold;
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        if (mon->chr) {
            qemu_chr_accept_input(mon->chr, !hold);
        }
    }
}

bool monitor_input_held(void)
{
    return monitors_held;
}

Monitor *monitor_cur(void)
{
    return cur_mon;
}

Monitor *monitor_set_cur(Monitor *mon)
{
    Monitor *old = cur_mon;

    cur_mon = mon;
    return old;
}

bool monitor_is_qmp(const Monitor *mon)
{
    return mon->is_qmp;
}

void monitor_write_raw(Monitor *mon, const char *buf, size_t len)
{
    if (!mon) {
        fwrite(buf, 1, len, stdout);
        fflush(stdout);
    } else if (mon->capture) {
        g_string_append_len(mon->capture, buf, len);
    } else if (mon->chr) {
        qemu_chr_write(mon->chr, buf, len);
    }
}

void monitor_puts(Monitor *mon, const char *str)
{
    g_autoptr(GString) out = g_string_sized_new(strlen(str) + 16);

    for (const char *p = str; *p; p++) {
        if (*p == '\n') {
            g_string_append_c(out, '\r');
        }
        g_string_append_c(out, *p);
    }
    monitor_write_raw(mon, out->str, out->len);
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *str = NULL;

    va_start(ap, fmt);
    str = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    monitor_puts(mon, str);
}

int monitor_fd_get(Monitor *mon, const char *name, Error **errp)
{
    gpointer val;

    if (!mon || !mon->fds || !g_hash_table_lookup_extended(mon->fds, name, NULL, &val)) {
        error_setg(errp, "File descriptor named '%s' has not been found", name);
        return -1;
    }
    g_hash_table_steal(mon->fds, name);
    return GPOINTER_TO_INT(val);
}

static void monitor_fd_free(gpointer val)
{
    close(GPOINTER_TO_INT(val));
}

void qmp_getfd(const char *fdname, Error **errp)
{
    Monitor *mon = monitor_cur();
    int fd = mon && mon->chr ? qemu_chr_get_msgfd(mon->chr) : -1;

    if (fd < 0) {
        error_setg(errp, "No file descriptor supplied via SCM_RIGHTS");
        return;
    }
    if (g_ascii_isdigit(fdname[0])) {
        close(fd);
        error_setg(errp, "Parameter 'fdname' expects a name not starting with a digit");
        return;
    }
    if (!mon->fds) {
        mon->fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, monitor_fd_free);
    }
    g_hash_table_replace(mon->fds, g_strdup(fdname), GINT_TO_POINTER(fd));
}

void qmp_closefd(const char *fdname, Error **errp)
{
    Monitor *mon = monitor_cur();

    if (!mon || !mon->fds || !g_hash_table_remove(mon->fds, fdname)) {
        error_setg(errp, "File descriptor named '%s' not found", fdname);
    }
}

/* The QAPI event hook: {"timestamp": {...}, "event": NAME, "data": {...}}. */
static void monitor_qapi_event(const char *event, QDict *data, int64_t seconds,
                               int64_t usecs)
{
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        g_autoptr(QDict) msg = NULL;
        QDict *ts;

        if (!mon->is_qmp || mon->mode != QMP_MODE_COMMAND || !mon->chr ||
            !qemu_chr_is_connected(mon->chr)) {
            continue;
        }
        msg = qdict_new();
        ts = qdict_new();
        qdict_put_int(ts, "seconds", seconds);
        qdict_put_int(ts, "microseconds", usecs);
        qdict_put(msg, "timestamp", ts);
        qdict_put_str(msg, "event", event);
        if (data) {
            qdict_put_obj(msg, "data", qobject_ref(QOBJECT(data)));
        }
        qmp_send_message(mon, msg);
    }
}

void monitor_init_globals(void)
{
    qapi_event_set_hook(monitor_qapi_event);
}

void monitor_free(Monitor *mon)
{
    if (mon->chr) {
        qemu_chr_set_handlers(mon->chr, NULL, NULL, NULL, NULL);
    }
    if (mon->is_qmp) {
        qmp_monitor_destroy(mon);
    }
    if (mon->line) {
        g_string_free(mon->line, true);
    }
    if (mon->capture) {
        g_string_free(mon->capture, true);
    }
    if (mon->fds) {
        g_hash_table_destroy(mon->fds);
    }
    g_free(mon);
}

void monitor_cleanup(void)
{
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        if (mon->exit_reply) {
            qmp_send_message(mon, mon->exit_reply);
            qobject_unref(mon->exit_reply);
            mon->exit_reply = NULL;
        }
    }
    qapi_event_set_hook(NULL);
    for (guint i = 0; monitors && i < monitors->len; i++) {
        monitor_free(g_ptr_array_index(monitors, i));
    }
    if (monitors) {
        g_ptr_array_free(monitors, true);
        monitors = NULL;
    }
}
