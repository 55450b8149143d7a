/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * objects.h: the registry of user-creatable objects (system/objects.c):
 * object-add/object-del and -object, for iothread and throttle-group.
 * Main loop only.
 */
#ifndef GODWIT_SYSEMU_OBJECTS_H
#define GODWIT_SYSEMU_OBJECTS_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

/* The limits of a throttle group, in QAPI ThrottleLimits member order. */
enum {
    THROTTLE_IOPS_TOTAL, THROTTLE_IOPS_TOTAL_MAX, THROTTLE_IOPS_TOTAL_MAX_LENGTH,
    THROTTLE_IOPS_READ, THROTTLE_IOPS_READ_MAX, THROTTLE_IOPS_READ_MAX_LENGTH,
    THROTTLE_IOPS_WRITE, THROTTLE_IOPS_WRITE_MAX, THROTTLE_IOPS_WRITE_MAX_LENGTH,
    THROTTLE_BPS_TOTAL, THROTTLE_BPS_TOTAL_MAX, THROTTLE_BPS_TOTAL_MAX_LENGTH,
    THROTTLE_BPS_READ, THROTTLE_BPS_READ_MAX, THROTTLE_BPS_READ_MAX_LENGTH,
    THROTTLE_BPS_WRITE, THROTTLE_BPS_WRITE_MAX, THROTTLE_BPS_WRITE_MAX_LENGTH,
    THROTTLE_IOPS_SIZE,
    THROTTLE_LIMIT__MAX,
};

/*
 * -object: create the object described by opts (keyval strings if keyval,
 * else JSON values), with the command line's "Duplicate ID" wording.
 */
bool user_object_add_cmdline(QDict *opts, bool keyval, Error **errp);

/* Whether id names an iothread object (virtio-scsi iothread=, blockdev). */
bool user_object_is_iothread(const char *id);

/*
 * The limits of throttle group name (THROTTLE_LIMIT__MAX values), or NULL.
 * throttle_group_use(+1/-1): a throttle node joins/leaves the group; a group
 * in use cannot be deleted ("object '%s' is in use, can not be deleted").
 */
const int64_t *throttle_group_limits(const char *name);
void throttle_group_use(const char *name, int delta);

#endif /* GODWIT_SYSEMU_OBJECTS_H */
