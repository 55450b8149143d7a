/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qmp-cmds-jobs.h: what the job, mirror/backup and bitmap command files of the
 * monitor share. Main loop only.
 */
#ifndef GODWIT_QMP_CMDS_JOBS_H
#define GODWIT_QMP_CMDS_JOBS_H

#include "block/jobs.h"
#include "block/dirty-bitmap.h"
#include "qapi-types.h"

/* JOB_* creation flags from the auto-finalize/auto-dismiss arguments. */
int job_flags_from_args(bool has_auto_finalize, bool auto_finalize, bool has_auto_dismiss,
                        bool auto_dismiss);

/* The bitmap name on node (QEMU's lookup texts); *pbs gets the node. */
BdrvDirtyBitmap *block_dirty_bitmap_lookup(const char *node, const char *name,
                                           BlockDriverState **pbs, Error **errp);

/*
 * A blockdev-backup / drive-backup action, alone or in a transaction. With
 * created != NULL the job is only created (CREATED) and returned in *created:
 * a transaction starts it on commit and cancels it on abort.
 */
void do_blockdev_backup(BlockdevBackup *backup, JobTxn *txn, Job **created, Error **errp);
void do_drive_backup(DriveBackup *backup, JobTxn *txn, Job **created, Error **errp);

/*
 * The block-dirty-bitmap-* actions of a transaction. prepare does the change and
 * keeps what undoes it (the old bits of a cleared or merged bitmap, the old
 * recording state); a bitmap to remove is only disabled and marked busy, and is
 * released on commit. abort undoes a prepared action (an added bitmap goes
 * away, a removed one comes back as it was); both may be called after a failed
 * prepare (they do nothing then). Actions are aborted in reverse order.
 */
typedef struct BitmapAction {
    TransactionActionKind kind;
    BdrvDirtyBitmap *bitmap;          /* set once prepare succeeded */
    HBitmap *backup;                  /* clear/merge: the old bits */
    bool was_enabled;                 /* enable/disable/remove: the old state */
} BitmapAction;

bool bitmap_action_prepare(BitmapAction *a, TransactionAction *act, Error **errp);
void bitmap_action_commit(BitmapAction *a);
void bitmap_action_abort(BitmapAction *a);

#endif /* GODWIT_QMP_CMDS_JOBS_H */
