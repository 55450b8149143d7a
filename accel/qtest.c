/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The qtest protocol server (contract in include/sysemu/accel.h).
 */
#include "util/osdep.h"
#include "sysemu/accel.h"
#include "chardev/char.h"
#include "util/aio.h"
#include "util/cutils.h"

typedef struct QTestState {
    Chardev *chr;
    GString *line;              /* input up to the next newline */
} QTestState;

static QTestState qtest;        /* one qtest connection per process */
/*
 * The virtual clock's value when the accelerator started: the protocol reports
 * time since then, so a qtest session starts at 0 as in QEMU.
 */
static int64_t qtest_clock_base;

void qtest_accel_init(void)
{
    qemu_clock_virtual_set_manual(true);
    qtest_clock_base = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/* Run the virtual timers that are due now, in every context we own. */
static void qtest_run_due_timers(void)
{
    while (aio_poll(qemu_get_aio_context(), false)) {
        /* keep going while callbacks make progress */
    }
}

static void qtest_clock_advance(int64_t ns, GString *reply)
{
    int64_t now = qemu_clock_step(ns);

    qtest_run_due_timers();
    g_string_append_printf(reply, "OK %" PRId64, now - qtest_clock_base);
}

void qtest_process_line(const char *line, GString *reply)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    int64_t ns;

    if (!words[0] || !words[0][0]) {
        g_string_append(reply, "FAIL Empty command");
    } else if (!strcmp(words[0], "clock_step")) {
        if (words[1]) {
            if (qemu_strtoi64(words[1], NULL, 0, &ns) < 0 || ns < 0) {
                g_string_append_printf(reply, "FAIL Invalid number '%s'", words[1]);
                return;
            }
        } else {
            ns = qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL);
            ns = ns < 0 ? 0 : ns;
        }
        qtest_clock_advance(ns, reply);
    } else if (!strcmp(words[0], "clock_set") && words[1]) {
        if (qemu_strtoi64(words[1], NULL, 0, &ns) < 0) {
            g_string_append_printf(reply, "FAIL Invalid number '%s'", words[1]);
            return;
        }
        ns -= qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - qtest_clock_base;
        qtest_clock_advance(ns > 0 ? ns : 0, reply);
    } else {
        g_string_append_printf(reply, "FAIL Unknown command '%s'", words[0]);
    }
}

static void qtest_read(void *opaque, const uint8_t *buf, size_t len)
{
    QTestState *s = opaque;

    for (size_t i = 0; i < len; i++) {
        g_autoptr(GString) reply = NULL;

        if (buf[i] != '\n') {
            if (buf[i] != '\r') {
                g_string_append_c(s->line, buf[i]);
            }
            continue;
        }
        reply = g_string_new(NULL);
        qtest_process_line(s->line->str, reply);
        g_string_append_c(reply, '\n');
        g_string_truncate(s->line, 0);
        qemu_chr_write(s->chr, reply->str, reply->len);
    }
}

static void qtest_event(void *opaque, CharEvent event)
{
    QTestState *s = opaque;

    g_string_truncate(s->line, 0);
}

bool qtest_server_init(QDict *chr_opts, Error **errp)
{
    const char *id = qdict_get_try_str(chr_opts, "chardev");

    qtest.chr = id ? qemu_chr_find(id) : qemu_chr_new_from_opts(chr_opts, errp);
    if (!qtest.chr) {
        if (id) {
            error_setg(errp, "chardev \"%s\" not found", id);
        }
        return false;
    }
    qtest.line = g_string_new(NULL);
    return qemu_chr_set_handlers(qtest.chr, qtest_read, qtest_event, &qtest, errp);
}
