/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * marker.c: the "machine" section of a guest-less machine (-machine none, qtest):
 * one FULL record holding the machine type, so both ends agree on what they run
 * and an empty stream is still a complete, checkable migration.
 */
#include "util/osdep.h"
#include "migration/migration.h"

static int coroutine_fn marker_save_state(MigStream *f, void *opaque, Error **errp)
{
    mig_put_str8(f, opaque);
    return 0;
}

static int coroutine_fn marker_load(MigStream *f, void *opaque, uint8_t type,
                                    uint32_t version, Error **errp)
{
    g_autofree char *type_name = NULL;

    if (type != MIG_REC_FULL) {
        error_setg(errp, "Unexpected record type %u", type);
        return -EINVAL;
    }
    type_name = mig_get_str8(f);
    if (!type_name) {
        return -EINVAL;
    }
    if (strcmp(type_name, opaque)) {
        error_setg(errp, "Machine type mismatch: the stream is from '%s', this machine is "
                   "'%s'", type_name, (const char *)opaque);
        return -EINVAL;
    }
    return 0;
}

static const MigSectionOps marker_ops = {
    .save_state = marker_save_state,
    .load = marker_load,
};

void machine_marker_register(MigRegistry *reg, const char *machine_type)
{
    mig_register(reg, "machine", 0, 1, &marker_ops, g_strdup(machine_type));
}
