/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The human monitor: line editing with QEMU's echo, command lookup, argument
 * parsing by args_type, help (contract in include/monitor/hmp.h).
 *
 * Echo: like QEMU's readline on a terminal that is not one: after each typed
 * character the cursor goes back over what was shown (ESC [ D per character),
 * the whole line is printed again and the rest of the screen line cleared
 * (ESC [ K). Enter prints "\r\n", the command's output, then the prompt.
 */
#include "util/osdep.h"
#include "monitor-internal.h"
#include "util/cutils.h"
#include "qobject/qbool.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "sysemu/runstate.h"
#include "sysemu/sysemu.h"

#define HMP_BANNER "QEMU %d.%d.%d monitor - type 'help' for more information\n"
#define HMP_PROMPT "(qemu) "

void hmp_handle_error(Monitor *mon, Error *err)
{
    if (err) {
        /* QEMU prints the hint too ("Is another process using the image ...?") */
        monitor_printf(mon, "Error: %s\n%s", error_get_pretty(err), error_get_hint(err));
        error_free(err);
    }
}

/* ---------------------------------------------------------------------------
 * Command lookup
 */

/* Does name (e.g. "stop|s") include word? */
static bool hmp_name_matches(const char *name, const char *word)
{
    size_t len = strlen(word);

    for (const char *p = name; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && !strncmp(p, word, n)) {
            return true;
        }
        p += n + (bar ? 1 : 0);
    }
    return false;
}

static const HMPCommand *hmp_find(const HMPCommand *const *tables, const char *word)
{
    for (const HMPCommand *const *t = tables; *t; t++) {
        for (const HMPCommand *c = *t; c->name; c++) {
            if (hmp_name_matches(c->name, word)) {
                return c;
            }
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Argument parsing
 */

static const char *hmp_skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

/* One word, or a double-quoted string with \n \r \\ \' \" escapes; NULL if none. */
static char *hmp_get_word(const char **pp)
{
    const char *p = hmp_skip_spaces(*pp);
    GString *out = g_string_new(NULL);

    if (!*p) {
        g_string_free(out, true);
        return NULL;
    }
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) {
                p++;
                g_string_append_c(out, *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p);
            } else {
                g_string_append_c(out, *p);
            }
            p++;
        }
        if (*p != '"') {
            g_string_free(out, true);
            *pp = p;
            return NULL;
        }
        p++;
    } else {
        while (*p && *p != ' ' && *p != '\t') {
            g_string_append_c(out, *p++);
        }
    }
    *pp = p;
    return g_string_free(out, false);
}

/* One "key:T[?]" item of args_type. */
typedef struct HMPArgSpec {
    char key[64];
    char type[8];
    bool optional;
} HMPArgSpec;

static const char *hmp_next_spec(const char *p, HMPArgSpec *spec)
{
    const char *colon = strchr(p, ':');
    const char *end = strchr(p, ',');
    size_t tlen;

    end = end ? end : p + strlen(p);
    g_strlcpy(spec->key, p, MIN((size_t)(colon - p + 1), sizeof(spec->key)));
    tlen = end - colon - 1;
    spec->optional = tlen && colon[tlen] == '?';
    tlen -= spec->optional;
    g_strlcpy(spec->type, colon + 1, MIN(tlen + 1, sizeof(spec->type)));
    return *end ? end + 1 : end;
}

static const char *hmp_missing_text(char type)
{
    switch (type) {
    case 'B': return "block device name expected";
    case 'F': return "filename expected";
    case 'i': case 'l': return "integer expected";
    case 'b': return "expected 'on' or 'off'";
    default:  return "string expected";
    }
}

/* Parse one non-flag argument; false with *msg set on a malformed value. */
static bool hmp_parse_value(QDict *args, const HMPArgSpec *spec, const char **pp,
                            const char **msg)
{
    g_autofree char *word = NULL;
    char type = spec->type[0];

    if (type == 'S') {
        const char *p = hmp_skip_spaces(*pp);
        if (*p) {
            qdict_put_str(args, spec->key, p);
        } else if (!spec->optional) {
            *msg = hmp_missing_text(type);
            return false;
        }
        *pp = p + strlen(p);
        return true;
    }
    word = hmp_get_word(pp);
    if (!word) {
        if (type == 'o') {
            *msg = spec->optional ? NULL : "invalid size";
        } else {
            *msg = spec->optional ? NULL : hmp_missing_text(type);
        }
        return spec->optional;
    }
    if (type == 'i' || type == 'l') {
        int64_t v;
        if (qemu_strtoi64(word, NULL, 0, &v) < 0 ||
            (type == 'i' && (v < INT32_MIN || v > INT32_MAX))) {
            *msg = "invalid number";
            return false;
        }
        qdict_put_int(args, spec->key, v);
    } else if (type == 'o') {
        uint64_t v;
        if (qemu_strtosz_MiB(word, NULL, &v) < 0 || v > INT64_MAX) {
            *msg = "invalid size";
            return false;
        }
        qdict_put_int(args, spec->key, v);
    } else if (type == 'b') {
        if (strcmp(word, "on") && strcmp(word, "off")) {
            *msg = "expected 'on' or 'off'";
            return false;
        }
        qdict_put_bool(args, spec->key, !strcmp(word, "on"));
    } else {
        qdict_put_str(args, spec->key, word);
    }
    return true;
}

/* Flags ("-f") come first: consume every leading "-X" the spec knows. */
static bool hmp_parse_flags(const HMPCommand *cmd, QDict *args, const char **pp,
                            char *bad_flag)
{
    for (;;) {
        const char *p = hmp_skip_spaces(*pp);
        const char *s = cmd->args_type;
        HMPArgSpec spec;
        bool found = false;

        if (p[0] != '-' || !p[1] || (p[2] && p[2] != ' ')) {
            return true;
        }
        while (*s) {
            s = hmp_next_spec(s, &spec);
            if (spec.type[0] == '-' && spec.type[1] == p[1]) {
                qdict_put_bool(args, spec.key, true);
                found = true;
            }
        }
        if (!found) {
            *bad_flag = p[1];
            return false;
        }
        *pp = p + 2;
    }
}

static QDict *hmp_parse_args(Monitor *mon, const HMPCommand *cmd, const char *p,
                             const char *typed)
{
    QDict *args = qdict_new();
    const char *s = cmd->args_type;
    const char *msg = NULL;
    char bad_flag = 0;
    HMPArgSpec spec;

    if (!hmp_parse_flags(cmd, args, &p, &bad_flag)) {
        monitor_printf(mon, "%s: unsupported option -%c\n", cmd->name, bad_flag);
        goto fail;
    }
    while (*s) {
        s = hmp_next_spec(s, &spec);
        if (spec.type[0] == '-') {
            continue;
        }
        if (!hmp_parse_value(args, &spec, &p, &msg)) {
            if (!strcmp(msg, "invalid size")) {
                monitor_printf(mon, "%s\n", msg);       /* QEMU prints it bare */
            } else {
                monitor_printf(mon, "%s: %s\n", cmd->name, msg);
            }
            goto fail;
        }
    }
    if (*hmp_skip_spaces(p)) {
        monitor_printf(mon, "%s: extraneous characters at the end of line\n", cmd->name);
        goto fail;
    }
    return args;

fail:
    monitor_printf(mon, "Try \"help %s\" for more information\n", typed);
    qobject_unref(args);
    return NULL;
}

void hmp_handle_command(Monitor *mon, const char *cmdline)
{
    const char *p = cmdline;
    g_autofree char *word = hmp_get_word(&p);
    g_autofree char *typed = NULL;
    const HMPCommand *cmd;
    QDict *args;

    if (!word) {
        return;
    }
    cmd = hmp_find(hmp_cmd_tables, word);
    if (!cmd) {
        monitor_printf(mon, "unknown command: '%s'\n", word);
        return;
    }
    typed = g_strdup(word);
    if (cmd->sub_table) {
        const char *q = p;
        g_autofree char *sub = hmp_get_word(&q);
        if (sub) {
            const HMPCommand *subcmd = hmp_find(cmd->sub_table, sub);
            if (!subcmd) {
                monitor_printf(mon, "unknown command: '%s %s'\n", word, sub);
                return;
            }
            g_free(typed);
            typed = g_strdup_printf("%s %s", word, sub);
            cmd = subcmd;
            p = q;
        }
    }
    args = hmp_parse_args(mon, cmd, p, typed);
    if (args) {
        cmd->cmd(mon, args);
        qobject_unref(args);
    }
}

/* ---------------------------------------------------------------------------
 * Help
 */

static gint hmp_cmd_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp((*(const HMPCommand *const *)a)->name, (*(const HMPCommand *const *)b)->name);
}

static void hmp_print_help_line(Monitor *mon, const char *prefix, const HMPCommand *c)
{
    monitor_printf(mon, "%s%s %s -- %s\n", prefix, c->name, c->params, c->help);
}

static void hmp_list(Monitor *mon, const HMPCommand *const *tables, const char *prefix,
                     const char *only)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();

    for (const HMPCommand *const *t = tables; *t; t++) {
        for (const HMPCommand *c = *t; c->name; c++) {
            g_ptr_array_add(all, (gpointer)c);
        }
    }
    g_ptr_array_sort(all, hmp_cmd_cmp);
    for (guint i = 0; i < all->len; i++) {
        const HMPCommand *c = g_ptr_array_index(all, i);
        if (!only || hmp_name_matches(c->name, only)) {
            hmp_print_help_line(mon, prefix, c);
        }
    }
}

void hmp_help(Monitor *mon, const QDict *qdict)
{
    const char *name = qdict_get_try_str(qdict, "name");
    const HMPCommand *cmd;
    const char *sub;

    if (!name) {
        hmp_list(mon, hmp_cmd_tables, "", NULL);
        return;
    }
    if (!strcmp(name, "info")) {
        hmp_list(mon, hmp_info_tables, "info ", NULL);
        return;
    }
    if (strstart(name, "info ", &sub)) {
        hmp_list(mon, hmp_info_tables, "info ", sub);
        return;
    }
    cmd = hmp_find(hmp_cmd_tables, name);
    if (!cmd) {
        monitor_printf(mon, "unknown command: '%s'\n", name);
        return;
    }
    hmp_print_help_line(mon, "", cmd);
}

void hmp_info_help(Monitor *mon, const QDict *qdict)
{
    hmp_list(mon, hmp_info_tables, "info ", NULL);
}

/* ---------------------------------------------------------------------------
 * The line editor
 */

static void hmp_echo_line(Monitor *mon)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (size_t i = 0; i < mon->echoed; i++) {
        g_string_append(out, "\033[D");
    }
    g_string_append_len(out, mon->line->str, mon->line->len);
    g_string_append(out, "\033[K");
    mon->echoed = mon->line->len;
    monitor_write_raw(mon, out->str, out->len);
}

static void hmp_enter(Monitor *mon)
{
    g_autofree char *cmdline = g_strdup(mon->line->str);
    Monitor *old;

    monitor_write_raw(mon, "\r\n", 2);
    g_string_truncate(mon->line, 0);
    mon->echoed = 0;
    old = monitor_set_cur(mon);
    hmp_handle_command(mon, cmdline);
    monitor_set_cur(old);
    if (!qemu_system_exit_requested()) {
        monitor_puts(mon, HMP_PROMPT);
    }
}

static void hmp_input_byte(Monitor *mon, uint8_t c)
{
    if (mon->esc_state == 1) {
        mon->esc_state = c == '[' || c == 'O' ? 2 : 0;
        return;
    }
    if (mon->esc_state == 2) {
        if (c >= 0x40 && c <= 0x7e) {
            mon->esc_state = 0;
        }
        return;
    }
    if (c == '\n' && mon->after_cr) {
        mon->after_cr = false;
        return;
    }
    mon->after_cr = c == '\r';
    if (c == '\r' || c == '\n') {
        hmp_enter(mon);
    } else if (c == 27) {
        mon->esc_state = 1;
    } else if (c == 127 || c == 8) {
        if (mon->line->len) {
            g_string_truncate(mon->line, mon->line->len - 1);
            hmp_echo_line(mon);
        }
    } else if (c >= 32) {
        g_string_append_c(mon->line, c);
        hmp_echo_line(mon);
    }
}

static void hmp_chr_read(void *opaque, const uint8_t *buf, size_t len)
{
    Monitor *mon = opaque;

    qemu_chr_accept_input(mon->chr, false);
    for (size_t i = 0; i < len && !qemu_system_exit_requested(); i++) {
        hmp_input_byte(mon, buf[i]);
    }
    qemu_chr_accept_input(mon->chr, !monitor_input_held());
}

static void hmp_chr_event(void *opaque, CharEvent event)
{
    Monitor *mon = opaque;

    g_string_truncate(mon->line, 0);
    mon->echoed = 0;
    mon->esc_state = 0;
    mon->after_cr = false;
    if (event == CHR_EVENT_OPENED) {
        monitor_printf(mon, HMP_BANNER, QEMU_COMPAT_MAJOR, QEMU_COMPAT_MINOR,
                       QEMU_COMPAT_MICRO);
        monitor_puts(mon, HMP_PROMPT);
    }
}

Monitor *monitor_new_hmp(Chardev *chr, Error **errp)
{
    Monitor *mon = g_new0(Monitor, 1);

    mon->chr = chr;
    mon->line = g_string_new(NULL);
    if (!qemu_chr_set_handlers(chr, hmp_chr_read, hmp_chr_event, mon, errp)) {
        g_string_free(mon->line, true);
        g_free(mon);
        return NULL;
    }
    monitor_register(mon);
    return mon;
}

char *hmp_run_line_captured(const char *line)
{
    Monitor *mon = g_new0(Monitor, 1);
    Monitor *old = monitor_set_cur(mon);
    char *out;

    mon->capture = g_string_new(NULL);
    hmp_handle_command(mon, line);
    monitor_set_cur(old);
    out = g_string_free(mon->capture, false);
    mon->capture = NULL;
    monitor_free(mon);
    return out;
}
