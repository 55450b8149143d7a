/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * create.c: creating images (qemu-img create, blockdev-create's legacy path) and
 * the "-o key=value" create options of a driver.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "qobject/qdict.h"
#include "block/block-core.h"
#include "util/cutils.h"

typedef struct CreateCo {
    const BlockDriver *drv;
    const char *filename;
    BlockDriverState *file;     /* bdrv_create_node: the node to format */
    QDict *opts;
    Error *err;
    int ret;
    bool done;
} CreateCo;

static void coroutine_fn create_co_entry(void *opaque)
{
    CreateCo *c = opaque;

    if (c->file) {
        c->ret = c->drv->co_create_node(c->file, c->opts, &c->err);
    } else {
        c->ret = c->drv->co_create_opts((BlockDriver *)c->drv, c->filename, c->opts, &c->err);
    }
    c->done = true;
    aio_notify(qemu_get_aio_context());
}

/* Run c in a coroutine (or inline if we are in one) and turn its result into errp. */
static int create_run(CreateCo *c, const char *what, Error **errp)
{
    g_autoptr(QDict) empty = NULL;

    if (!c->opts) {
        c->opts = empty = qdict_new();
    }
    if (qemu_in_coroutine()) {
        create_co_entry(c);
    } else {
        qemu_coroutine_enter(qemu_coroutine_create(create_co_entry, c));
        AIO_WAIT_WHILE(qemu_get_aio_context(), !c->done);
    }
    if (c->ret < 0) {
        if (c->err) {
            error_propagate(errp, c->err);
        } else {
            error_setg_errno(errp, -c->ret, "Could not create %s", what);
        }
    }
    return c->ret;
}

int bdrv_create(const BlockDriver *drv, const char *filename, QDict *opts, Error **errp)
{
    CreateCo c = { .drv = drv, .filename = filename, .opts = opts };
    g_autofree char *what = g_strdup_printf("'%s'", filename);

    if (!drv->co_create_opts) {
        error_setg(errp, "Driver '%s' does not support image creation", drv->format_name);
        return -ENOTSUP;
    }
    return create_run(&c, what, errp);
}

int bdrv_create_node(const BlockDriver *drv, BlockDriverState *file, QDict *opts,
                     Error **errp)
{
    CreateCo c = { .drv = drv, .file = file, .opts = opts };

    if (!drv->co_create_node) {
        error_setg(errp, "Driver '%s' does not support image creation", drv->format_name);
        return -ENOTSUP;
    }
    return create_run(&c, "the image", errp);
}

int bdrv_create_file(const char *filename, QDict *opts, Error **errp)
{
    const BlockDriver *drv = bdrv_find_protocol(filename, true, errp);

    return drv ? bdrv_create(drv, filename, opts, errp) : -ENOENT;
}

static const char *create_opt_type_name(CreateOptionType t)
{
    switch (t) {
    case CREATE_OPT_BOOL:   return "bool (on/off)";
    case CREATE_OPT_NUMBER: return "num";
    case CREATE_OPT_SIZE:   return "size";
    case CREATE_OPT_STRING:
    default:                return "str";
    }
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *bdrv_create_opts_help(const CreateOption *opts)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    GString *out = g_string_new("Supported options:\n");

    for (const CreateOption *o = opts; o && o->name; o++) {
        g_autofree char *name = g_strdup_printf("%s=<%s>", o->name,
                                                create_opt_type_name(o->type));
        /* QEMU's layout: the name padded to 22 columns, then " - help" */
        g_ptr_array_add(lines, o->help ? g_strdup_printf("%-22s - %s", name, o->help)
                                       : g_steal_pointer(&name));
    }
    g_ptr_array_sort(lines, cmp_str);
    for (guint i = 0; i < lines->len; i++) {
        g_string_append_printf(out, "  %s\n", (char *)g_ptr_array_index(lines, i));
    }
    g_ptr_array_free(lines, true);
    return g_string_free(out, false);
}

static const CreateOption *find_create_opt(const CreateOption *opts, const char *name)
{
    for (const CreateOption *o = opts; o && o->name; o++) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}

/*
 * The type check qemu-img makes while it reads the option string, before the
 * driver sees anything; its messages. Numbers are stored in plain decimal
 * (refcount_bits=0x10 -> 16; "-1" wraps to 2^64-1, as in QEMU); sizes and bools
 * keep their spelling.
 */
static bool create_opt_check(const CreateOption *o, const char *val, char **norm,
                             Error **errp)
{
    uint64_t n;
    int ret;

    *norm = NULL;
    switch (o->type) {
    case CREATE_OPT_BOOL: {
        static const char *const spellings[] = {
            "on", "yes", "true", "y", "off", "no", "false", "n", NULL,
        };
        for (int i = 0; spellings[i]; i++) {
            if (!strcmp(val, spellings[i])) {
                return true;
            }
        }
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", o->name);
        return false;
    }
    case CREATE_OPT_NUMBER:
        ret = qemu_strtou64(val, NULL, 0, &n);
        if (ret == -ERANGE) {
            error_setg(errp, "Value '%s' is too large for parameter '%s'", val, o->name);
            return false;
        }
        if (ret < 0) {
            error_setg(errp, "Parameter '%s' expects a number", o->name);
            return false;
        }
        *norm = g_strdup_printf("%" PRIu64, n);
        return true;
    case CREATE_OPT_SIZE:
        ret = qemu_strtosz(val, NULL, &n);
        if (ret == -ERANGE) {
            error_setg(errp, "Value '%s' is out of range for parameter '%s'", val, o->name);
            return false;
        }
        if (ret < 0) {
            error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64",
                       o->name);
            error_append_hint(errp, "Optional suffix k, M, G, T, P or E means kilo-, mega-, "
                              "giga-, tera-, peta-\nand exabytes, respectively.\n");
            return false;
        }
        return true;
    default:
        return true;
    }
}

bool bdrv_create_opts_parse(const CreateOption *opts, const char *str, QDict *out,
                            Error **errp)
{
    g_auto(GStrv) parts = NULL;
    GString *cur = g_string_new(NULL);
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    bool ok = true;

    /* ",," is a literal comma, as in QEMU's option strings */
    for (const char *p = str; ; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(items, g_strdup(cur->str));
            g_string_truncate(cur, 0);
            if (!*p) {
                break;
            }
        } else {
            g_string_append_c(cur, *p);
        }
    }
    g_string_free(cur, true);
    for (guint i = 0; i < items->len && ok; i++) {
        char *item = g_ptr_array_index(items, i);
        char *eq = strchr(item, '=');
        const CreateOption *o;
        if (!*item) {
            continue;
        }
        if (eq) {
            *eq = '\0';
        }
        o = find_create_opt(opts, item);
        if (!o) {
            error_setg(errp, "Invalid parameter '%s'", item);
            ok = false;
            break;
        }
        if (!eq && o->type != CREATE_OPT_BOOL) {
            error_setg(errp, "Parameter '%s' is missing a value", item);  /* no QEMU text */
            ok = false;
            break;
        }
        g_autofree char *norm = NULL;
        if (!create_opt_check(o, eq ? eq + 1 : "on", &norm, errp)) {
            ok = false;
            break;
        }
        qdict_put_str(out, item, norm ? norm : eq ? eq + 1 : "on");
    }
    g_ptr_array_free(items, true);
    return ok;
}
