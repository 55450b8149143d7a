/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * HMP: block jobs. block_stream, block_job_{cancel,complete,pause,resume,
 * set_speed}, drive_mirror, drive_backup and info block-jobs; each calls the
 * qmp_*() handler with the arguments QEMU's HMP passes.
 */
#include "util/osdep.h"
#include "monitor/hmp.h"
#include "qapi-commands.h"

static void hmp_block_stream(Monitor *mon, const QDict *qdict)
{
    const char *device = qdict_get_str(qdict, "device");
    const char *base = qdict_get_try_str(qdict, "base");
    Error *err = NULL;

    qmp_block_stream(device, device, base, NULL, NULL, NULL, qdict_haskey(qdict, "speed"),
                     qdict_get_try_int(qdict, "speed", 0), true, BLOCKDEV_ON_ERROR_REPORT,
                     NULL, false, false, false, false, &err);
    hmp_handle_error(mon, err);
}

static void hmp_block_job_set_speed(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_block_job_set_speed(qdict_get_str(qdict, "device"), qdict_get_int(qdict, "speed"),
                            &err);
    hmp_handle_error(mon, err);
}

static void hmp_block_job_cancel(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_block_job_cancel(qdict_get_str(qdict, "device"), true,
                         qdict_get_try_bool(qdict, "force", false), &err);
    hmp_handle_error(mon, err);
}

static void hmp_block_job_pause(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_block_job_pause(qdict_get_str(qdict, "device"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_block_job_resume(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_block_job_resume(qdict_get_str(qdict, "device"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_block_job_complete(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_block_job_complete(qdict_get_str(qdict, "device"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_drive_mirror(Monitor *mon, const QDict *qdict)
{
    const char *filename = qdict_get_str(qdict, "target");
    Error *err = NULL;
    DriveMirror mirror = {
        .device = (char *)qdict_get_str(qdict, "device"),
        .target = (char *)filename,
        .format = (char *)qdict_get_try_str(qdict, "format"),
        .sync = qdict_get_try_bool(qdict, "full", false) ? MIRROR_SYNC_MODE_FULL
                                                         : MIRROR_SYNC_MODE_TOP,
        .has_mode = true,
        .mode = qdict_get_try_bool(qdict, "reuse", false) ? NEW_IMAGE_MODE_EXISTING
                                                          : NEW_IMAGE_MODE_ABSOLUTE_PATHS,
    };

    qmp_drive_mirror(&mirror, &err);
    hmp_handle_error(mon, err);
}

static void hmp_drive_backup(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    DriveBackup backup = {
        .device = (char *)qdict_get_str(qdict, "device"),
        .target = (char *)qdict_get_str(qdict, "target"),
        .format = (char *)qdict_get_try_str(qdict, "format"),
        .sync = qdict_get_try_bool(qdict, "full", false) ? MIRROR_SYNC_MODE_FULL
                                                         : MIRROR_SYNC_MODE_TOP,
        .has_mode = true,
        .mode = qdict_get_try_bool(qdict, "reuse", false) ? NEW_IMAGE_MODE_EXISTING
                                                          : NEW_IMAGE_MODE_ABSOLUTE_PATHS,
        .has_compress = true,
        .compress = qdict_get_try_bool(qdict, "compress", false),
    };

    qmp_drive_backup(&backup, &err);
    hmp_handle_error(mon, err);
}

static void hmp_info_block_jobs(Monitor *mon, const QDict *qdict)
{
    BlockJobInfoList *list = qmp_query_block_jobs(NULL);

    if (!list) {
        monitor_printf(mon, "No active jobs\n");
        return;
    }
    for (BlockJobInfoList *l = list; l; l = l->next) {
        BlockJobInfo *j = l->value;

        if (!strcmp(j->q_type, "stream")) {
            monitor_printf(mon, "Streaming device %s: Completed %" PRId64 " of %" PRId64
                           " bytes, speed limit %" PRId64 " bytes/s\n",
                           j->device, j->offset, j->len, j->speed);
        } else {
            monitor_printf(mon, "Type %s, device %s: Completed %" PRId64 " of %" PRId64
                           " bytes, speed limit %" PRId64 " bytes/s\n",
                           j->q_type, j->device, j->offset, j->len, j->speed);
        }
    }
    qapi_free_BlockJobInfoList(list);
}

const HMPCommand hmp_info_cmds_jobs[] = {
    { "block-jobs", "", "", "show progress of ongoing block device operations",
      hmp_info_block_jobs },
    { NULL },
};

const HMPCommand hmp_cmds_jobs[] = {
    { "block_job_cancel", "force:-f,device:B", "[-f] device",
      "stop an active background block operation (use -f\n\t\t\tif you want to abort the "
      "operation immediately\n\t\t\tinstead of keep running until data is in sync)",
      hmp_block_job_cancel },
    { "block_job_complete", "device:B", "device",
      "stop an active background block operation", hmp_block_job_complete },
    { "block_job_pause", "device:B", "device",
      "pause an active background block operation", hmp_block_job_pause },
    { "block_job_resume", "device:B", "device",
      "resume a paused background block operation", hmp_block_job_resume },
    { "block_job_set_speed", "device:B,speed:o", "device speed",
      "set maximum speed for a background block operation", hmp_block_job_set_speed },
    { "block_stream", "device:B,speed:o?,base:s?", "device [speed [base]]",
      "copy data from a backing file into a block device", hmp_block_stream },
    { "drive_backup", "reuse:-n,full:-f,compress:-c,device:B,target:s,format:s?",
      "[-n] [-f] [-c] device target [format]",
      "initiates a point-in-time\n\t\t\tcopy for a device. The device's contents are\n"
      "\t\t\tcopied to the new image file, excluding data that\n\t\t\tis written after "
      "the command is started.", hmp_drive_backup },
    { "drive_mirror", "reuse:-n,full:-f,device:B,target:s,format:s?",
      "[-n] [-f] device target [format]",
      "initiates live storage\n\t\t\tmigration for a device. The device's contents are\n"
      "\t\t\tcopied to the new image file, including data that\n\t\t\tis written after "
      "the command is started.", hmp_drive_mirror },
    { NULL },
};
