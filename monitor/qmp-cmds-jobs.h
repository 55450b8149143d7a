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
#include "qapi-types.h"

/* JOB_* creation flags from the auto-finalize/auto-dismiss arguments. */
int job_flags_from_args(bool has_auto_finalize, bool auto_finalize, bool has_auto_dismiss,
                        bool auto_dismiss);

/* The bitmap name on node (QEMU's lookup texts); *pbs gets the node. */
BdrvDirtyBitmap *block_dirty_bitmap_lookup(const char *node, const char *name,
                                           BlockDriverState **pbs, Error **errp);

/* A blockdev-backup / drive-backup action, alone or in a transaction. */
void do_blockdev_backup(BlockdevBackup *backup, JobTxn *txn, Error **errp);
void do_drive_backup(DriveBackup *backup, JobTxn *txn, Error **errp);

#endif /* GODWIT_QMP_CMDS_JOBS_H */
