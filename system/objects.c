/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * User-creatable objects (object-add, object-del, -object): a registry of ids
 * in the QOM container /objects, with QEMU 7.2's checks and error texts.
 * Two types exist:
 *   iothread        accepted and listed; the main loop does all the work;
 *   throttle-group  its limits are validated and kept, for the throttle
 *                   filter driver to find by name (throttle_group_limits).
 * Every other ObjectType name is refused as not supported. -object creates
 * its objects while the command line is parsed, so its errors carry the
 * "-object ...:" prefix, as QEMU's do.
 */
#include "util/osdep.h"
#include "util/cutils.h"
#include "sysemu/sysemu.h"
#include "sysemu/objects.h"
#include "qapi-commands.h"
#include "qapi-visit.h"

typedef struct UserObject {
    char *id;
    ObjectType type;
    int64_t limits[THROTTLE_LIMIT__MAX];     /* throttle-group */
    int users;                              /* throttle nodes in the group */
} UserObject;

static GPtrArray *user_objects;             /* UserObject *, creation order */

/* QEMU's limit: 1e15 bytes or operations per second */
#define THROTTLE_VALUE_MAX 1000000000000000LL

static UserObject *object_find(const char *id)
{
    for (guint i = 0; user_objects && i < user_objects->len; i++) {
        UserObject *o = g_ptr_array_index(user_objects, i);
        if (!strcmp(o->id, id)) {
            return o;
        }
    }
    return NULL;
}

static bool object_id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool iothread_check(IothreadProperties *p, Error **errp)
{
    const struct { const char *name; bool has; int64_t v; } props[] = {
        { "poll-max-ns", p->has_poll_max_ns, p->poll_max_ns },
        { "poll-grow", p->has_poll_grow, p->poll_grow },
        { "poll-shrink", p->has_poll_shrink, p->poll_shrink },
        { "aio-max-batch", p->has_aio_max_batch, p->aio_max_batch },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(props); i++) {
        if (props[i].has && props[i].v < 0) {
            error_setg(errp, "%s value must be in range [0, %" PRId64 "]", props[i].name,
                       INT64_MAX);
            return false;
        }
    }
    return true;
}

/*
 * The limits in ThrottleLimits order: limits first, then the legacy x-
 * properties on top. Unset burst lengths are 1.
 */
static bool throttle_collect(ThrottleGroupProperties *p, int64_t *v, Error **errp)
{
    ThrottleLimits *l = p->limits;
    const struct { bool has; int64_t val; } lim[THROTTLE_LIMIT__MAX] = {
#define L(f) { l && l->has_##f, l ? l->f : 0 }
        L(iops_total), L(iops_total_max), L(iops_total_max_length),
        L(iops_read), L(iops_read_max), L(iops_read_max_length),
        L(iops_write), L(iops_write_max), L(iops_write_max_length),
        L(bps_total), L(bps_total_max), L(bps_total_max_length),
        L(bps_read), L(bps_read_max), L(bps_read_max_length),
        L(bps_write), L(bps_write_max), L(bps_write_max_length),
        L(iops_size),
#undef L
    };
    const struct { bool has; int64_t val; } x[THROTTLE_LIMIT__MAX] = {
#define X(f) { p->has_x_##f, p->x_##f }
        X(iops_total), X(iops_total_max), X(iops_total_max_length),
        X(iops_read), X(iops_read_max), X(iops_read_max_length),
        X(iops_write), X(iops_write_max), X(iops_write_max_length),
        X(bps_total), X(bps_total_max), X(bps_total_max_length),
        X(bps_read), X(bps_read_max), X(bps_read_max_length),
        X(bps_write), X(bps_write_max), X(bps_write_max_length),
        X(iops_size),
#undef X
    };

    for (int i = 0; i < THROTTLE_LIMIT__MAX; i++) {
        v[i] = (i % 3 == 2 && i != THROTTLE_IOPS_SIZE) ? 1 : 0;
        if (lim[i].has) {
            v[i] = lim[i].val;
        }
        if (x[i].has) {
            if (x[i].val < 0) {
                error_setg(errp, "Property values cannot be negative");
                return false;
            }
            v[i] = x[i].val;
        }
    }
    return true;
}

/* avg, max and burst length of bucket b (0..5: iops total/read/write, bps ...) */
#define AVG(v, b) ((v)[(b) * 3])
#define MAX_(v, b) ((v)[(b) * 3 + 1])
#define LEN(v, b) ((v)[(b) * 3 + 2])

static bool throttle_check(const int64_t *v, Error **errp)
{
    for (int kind = 0; kind < 2; kind++) {      /* iops, bps: total vs read/write */
        int t = kind * 3;
        if ((AVG(v, t) && (AVG(v, t + 1) || AVG(v, t + 2))) ||
            (MAX_(v, t) && (MAX_(v, t + 1) || MAX_(v, t + 2)))) {
            error_setg(errp, "bps/iops/max total values and read/write values cannot be "
                       "used at the same time");
            return false;
        }
    }
    if (v[THROTTLE_IOPS_SIZE] && !AVG(v, 0) && !AVG(v, 1) && !AVG(v, 2)) {
        error_setg(errp, "iops size requires an iops value to be set");
        return false;
    }
    for (int b = 0; b < 6; b++) {
        if (AVG(v, b) < 0 || MAX_(v, b) < 0 || AVG(v, b) > THROTTLE_VALUE_MAX ||
            MAX_(v, b) > THROTTLE_VALUE_MAX) {
            error_setg(errp, "bps/iops/max values must be within [0, %lld]",
                       THROTTLE_VALUE_MAX);
            return false;
        }
        if (!LEN(v, b)) {
            error_setg(errp, "the burst length cannot be 0");
            return false;
        }
        if (LEN(v, b) > 1 && !MAX_(v, b)) {
            error_setg(errp, "burst length set without burst rate");
            return false;
        }
        if (MAX_(v, b) && !AVG(v, b)) {
            error_setg(errp, "bps_max/iops_max require corresponding bps/iops values");
            return false;
        }
        if (MAX_(v, b) && MAX_(v, b) < AVG(v, b)) {
            error_setg(errp, "bps_max/iops_max cannot be lower than bps/iops");
            return false;
        }
    }
    return true;
}

static bool object_add(ObjectOptions *opts, bool cmdline, Error **errp)
{
    UserObject *o;
    int64_t limits[THROTTLE_LIMIT__MAX] = { 0 };

    if (!object_id_wellformed(opts->id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return false;
    }
    switch (opts->qom_type) {
    case OBJECT_TYPE_IOTHREAD:
        if (!iothread_check(&opts->u.iothread, errp)) {
            return false;
        }
        break;
    case OBJECT_TYPE_THROTTLE_GROUP:
        if (!throttle_collect(&opts->u.throttle_group, limits, errp) ||
            !throttle_check(limits, errp)) {
            return false;
        }
        break;
    default:
        error_setg(errp, "Object type '%s' is not supported", ObjectType_str(opts->qom_type));
        return false;
    }
    if (object_find(opts->id)) {
        if (cmdline) {
            error_setg(errp, "Duplicate ID '%s' for object", opts->id);
        } else {
            error_setg(errp, "attempt to add duplicate property '%s' to object "
                       "(type 'container')", opts->id);
        }
        return false;
    }
    if (!user_objects) {
        user_objects = g_ptr_array_new();
    }
    o = g_new0(UserObject, 1);
    o->id = g_strdup(opts->id);
    o->type = opts->qom_type;
    memcpy(o->limits, limits, sizeof(limits));
    g_ptr_array_add(user_objects, o);
    return true;
}

void qmp_object_add(ObjectOptions *arg, Error **errp)
{
    object_add(arg, false, errp);
}

void qmp_object_del(const char *id, Error **errp)
{
    UserObject *o = object_find(id);

    if (!o) {
        error_setg(errp, "object '%s' not found", id);
        return;
    }
    if (o->users) {
        error_setg(errp, "object '%s' is in use, can not be deleted", id);
        return;
    }
    g_ptr_array_remove(user_objects, o);
    g_free(o->id);
    g_free(o);
}

bool user_object_add_cmdline(QDict *opts, bool keyval, Error **errp)
{
    ObjectOptions *oo = NULL;
    bool ok;

    qapi_keyval_input = keyval;
    ok = qapi_in_ObjectOptions(QOBJECT(opts), NULL, &oo, errp);
    qapi_keyval_input = false;
    ok = ok && object_add(oo, true, errp);
    qapi_free_ObjectOptions(oo);
    return ok;
}

bool object_init_cmdline(const SysemuConfig *cfg, Error **errp)
{
    return true;        /* created while parsing (vl.c), for the error prefix */
}

bool user_object_is_iothread(const char *id)
{
    UserObject *o = object_find(id);

    return o && o->type == OBJECT_TYPE_IOTHREAD;
}

const int64_t *throttle_group_limits(const char *name)
{
    UserObject *o = object_find(name);

    return o && o->type == OBJECT_TYPE_THROTTLE_GROUP ? o->limits : NULL;
}

void throttle_group_use(const char *name, int delta)
{
    UserObject *o = object_find(name);

    if (o) {
        o->users += delta;
    }
}
