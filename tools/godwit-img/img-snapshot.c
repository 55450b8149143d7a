/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img snapshot [-l | -c name | -a name | -d name] filename: internal
 * snapshots through the driver's snapshot_* callbacks (block-int.h), with
 * qemu-img 7.2's texts. -d finds the snapshot by name only, as qemu-img does;
 * -a by id, then name.
 */
#include "util/osdep.h"
#include "block/block-int.h"
#include "img.h"
#include <getopt.h>

/* One row (or the header when sn is NULL) of the "Snapshot list:" table. */
void img_snapshot_dump(const QEMUSnapshotInfo *sn)
{
    if (!sn) {
        printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
               "ICOUNT");
        return;
    }
    char date[32], clock[64], icount[32] = "";
    time_t t = sn->date_sec;
    struct tm tm;
    uint64_t secs = sn->vm_clock_nsec / 1000000000;
    g_autofree char *size = size_to_str(sn->vm_state_size);

    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
             (int)((secs / 60) % 60), (int)(secs % 60),
             (int)((sn->vm_clock_nsec / 1000000) % 1000));
    if (sn->icount != UINT64_MAX) {
        snprintf(icount, sizeof(icount), "%" PRIu64, sn->icount);
    }
    printf("%-9s %-16s %8s%20s%13s%11s\n", sn->id_str, sn->name, size, date, clock, icount);
}

int img_snapshot(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *name = NULL;
    bool quiet = false, image_opts = false, force_share = false;
    int action = 0, c, ret = 0;
    Error *err = NULL;

    while ((c = getopt_long(argc, argv, ":la:c:d:f:hqU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("snapshot [--object objectdef] [--image-opts] [-U] [-q] "
                   "[-l | -a snapshot | -c snapshot | -d snapshot] filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'l': case 'a': case 'c': case 'd':
            if (action) {
                img_error_exit("Cannot mix '-l', '-a', '-c', '-d'");
            }
            action = c;
            name = optarg;
            break;
        case 'q': quiet = true; break;
        case 'U': force_share = true; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    action = action ? action : 'l';
    BlockBackend *blk = img_open(image_opts, argv[optind], fmt,
                                 action == 'l' ? 0 : BDRV_O_RDWR, false, quiet,
                                 action == 'l' && force_share);
    if (!blk) {
        return 1;
    }
    BlockDriverState *bs = blk_bs(blk);
    const BlockDriver *drv = bs->drv;
    QEMUSnapshotInfo *list = NULL;
    int n = drv->snapshot_list ? drv->snapshot_list(bs, &list) : -ENOTSUP;

    if (action == 'l') {
        if (n > 0) {
            printf("Snapshot list:\n");
            img_snapshot_dump(NULL);
            for (int i = 0; i < n; i++) {
                img_snapshot_dump(&list[i]);
            }
        }
    } else if (action == 'c') {
        QEMUSnapshotInfo sn = { .icount = 0 };
        g_strlcpy(sn.name, name, sizeof(sn.name));
        ret = drv->snapshot_create ? drv->snapshot_create(bs, &sn, &err) : -ENOTSUP;
        if (ret < 0) {
            if (err) {
                error_reportf_err(err, "Could not create snapshot '%s': ", name);
            } else {
                error_report("Could not create snapshot '%s': %s", name, strerror(-ret));
            }
        }
    } else if (action == 'a') {
        ret = drv->snapshot_goto ? drv->snapshot_goto(bs, name) : -ENOTSUP;
        if (ret < 0) {
            error_report("Could not apply snapshot '%s': Failed to load snapshot: %s", name,
                         strerror(-ret));
        }
    } else {
        int i = 0;
        while (i < n && strcmp(list[i].name, name)) {
            i++;
        }
        if (i >= n) {
            error_report("Could not delete snapshot '%s': snapshot not found", name);
            ret = -ENOENT;
        } else {
            ret = drv->snapshot_delete(bs, list[i].id_str, list[i].name, &err);
            if (ret < 0) {
                error_reportf_err(err, "Could not delete snapshot '%s': ", name);
            }
        }
    }
    g_free(list);
    blk_unref(blk);
    return ret < 0 ? 1 : 0;
}
