/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * vmstate.c: the generic saver and bounds-checked loader of field tables
 * (include/migration/vmstate.h; wire layout drawn there).
 */
#include "util/osdep.h"
#include "migration/vmstate.h"

static uint64_t vms_get_scalar(const VMStateField *fl, const void *obj)
{
    const uint8_t *p = (const uint8_t *)obj + fl->offset;

    switch (fl->size) {
    case 1: return *(const uint8_t *)p;
    case 2: return *(const uint16_t *)p;
    case 4: return *(const uint32_t *)p;
    default: return *(const uint64_t *)p;
    }
}

static void vms_set_scalar(const VMStateField *fl, void *obj, uint64_t v)
{
    uint8_t *p = (uint8_t *)obj + fl->offset;

    switch (fl->size) {
    case 1: *(uint8_t *)p = v; break;
    case 2: *(uint16_t *)p = v; break;
    case 4: *(uint32_t *)p = v; break;
    default: *(uint64_t *)p = v; break;
    }
}

static unsigned vms_wire_size(VMStateType t)
{
    return t == VMS_U16 ? 2 : t == VMS_U32 ? 4 : t == VMS_U64 ? 8 : 1;
}

/* Elements in an array field (the saved object's count, capped at capacity). */
static uint64_t vms_count(const VMStateDesc *d, const VMStateField *fl, const void *obj)
{
    if (fl->count_field < 0) {
        return fl->max;
    }
    return MIN(vms_get_scalar(&d->fields[fl->count_field], obj), fl->max);
}

void vmstate_save(MigStream *f, const VMStateDesc *d, const void *obj)
{
    for (const VMStateField *fl = d->fields; fl->name; fl++) {
        mig_put_str8(f, fl->name);
        size_t tok = mig_put_len_begin(f);
        uint64_t n;

        switch (fl->type) {
        case VMS_U8:
        case VMS_BOOL:
            mig_put_be8(f, vms_get_scalar(fl, obj));
            break;
        case VMS_U16:
            mig_put_be16(f, vms_get_scalar(fl, obj));
            break;
        case VMS_U32:
            mig_put_be32(f, vms_get_scalar(fl, obj));
            break;
        case VMS_U64:
            mig_put_be64(f, vms_get_scalar(fl, obj));
            break;
        case VMS_BUFFER:
            n = vms_count(d, fl, obj);
            mig_put_buffer(f, (const uint8_t *)obj + fl->offset, n * fl->size);
            break;
        case VMS_STRUCT:
            n = vms_count(d, fl, obj);
            for (uint64_t i = 0; i < n; i++) {
                vmstate_save(f, fl->sub, (const uint8_t *)obj + fl->offset + i * fl->size);
            }
            break;
        }
        mig_put_len_end(f, tok);
    }
}

static bool vms_load_field(MigStream *f, const VMStateDesc *d, const VMStateField *fl,
                           void *obj, uint32_t len, Error **errp)
{
    uint64_t v, n;

    switch (fl->type) {
    case VMS_U8:
    case VMS_BOOL:
    case VMS_U16:
    case VMS_U32:
    case VMS_U64:
        if (len != vms_wire_size(fl->type)) {
            break;
        }
        v = fl->type == VMS_U16 ? mig_get_be16(f) : fl->type == VMS_U32 ? mig_get_be32(f) :
            fl->type == VMS_U64 ? mig_get_be64(f) : mig_get_be8(f);
        if (fl->max && v > fl->max) {
            error_setg(errp, "%s.%s: value %" PRIu64 " is above %" PRIu64, d->name, fl->name,
                       v, fl->max);
            return false;
        }
        vms_set_scalar(fl, obj, v);
        return true;
    case VMS_BUFFER:
        n = vms_count(d, fl, obj);
        if (len != n * fl->size) {
            break;
        }
        return mig_get_buffer(f, (uint8_t *)obj + fl->offset, len);
    case VMS_STRUCT:
        n = vms_count(d, fl, obj);
        for (uint64_t i = 0; i < n; i++) {
            if (!vmstate_load(f, fl->sub, (uint8_t *)obj + fl->offset + i * fl->size, errp)) {
                return false;
            }
        }
        return true;
    }
    error_setg(errp, "%s.%s: length %" PRIu32 " is wrong", d->name, fl->name, len);
    return false;
}

bool vmstate_load(MigStream *f, const VMStateDesc *d, void *obj, Error **errp)
{
    for (const VMStateField *fl = d->fields; fl->name; fl++) {
        g_autofree char *name = mig_get_str8(f);
        uint32_t len;

        if (!name) {
            mig_stream_error(f, errp);
            return false;
        }
        if (strcmp(name, fl->name)) {
            error_setg(errp, "%s: field '%s' expected, '%s' found", d->name, fl->name, name);
            return false;
        }
        MigFence fence = mig_get_len_begin(f, &len);
        if (mig_stream_error(f, errp)) {
            return false;
        }
        if (fl->count_field >= 0) {
            /* counts are bounded by the array's capacity before anything uses them */
            const VMStateField *cf = &d->fields[fl->count_field];
            if (vms_get_scalar(cf, obj) > fl->max) {
                error_setg(errp, "%s.%s: %" PRIu64 " elements, at most %" PRIu64, d->name,
                           fl->name, vms_get_scalar(cf, obj), fl->max);
                return false;
            }
        }
        if (!vms_load_field(f, d, fl, obj, len, errp)) {
            if (!*errp) {
                mig_stream_error(f, errp);
            }
            return false;
        }
        if (!mig_get_len_end(f, fence)) {
            mig_stream_error(f, errp);
            return false;
        }
    }
    return true;
}
