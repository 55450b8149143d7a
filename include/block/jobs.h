/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * jobs.h: how the monitor starts the block jobs of block/jobs/ (one file each).
 * Each *_start() validates what the job itself must know (with QEMU's error
 * texts), creates the job and starts it; the QMP handlers (monitor/) resolve names
 * and check the arguments that belong to the command. All return false + errp on
 * failure, with nothing changed. Main loop only.
 */
#ifndef GODWIT_BLOCK_JOBS_H
#define GODWIT_BLOCK_JOBS_H

#include "block/blockjob.h"

/* QAPI MirrorSyncMode, in QEMU's order. */
typedef enum MirrorSyncMode {
    MIRROR_SYNC_MODE_TOP,
    MIRROR_SYNC_MODE_FULL,
    MIRROR_SYNC_MODE_NONE,
    MIRROR_SYNC_MODE_INCREMENTAL,
    MIRROR_SYNC_MODE_BITMAP,
    MIRROR_SYNC_MODE__MAX,
} MirrorSyncMode;

/* QAPI MirrorCopyMode. */
typedef enum MirrorCopyMode {
    MIRROR_COPY_MODE_BACKGROUND,
    MIRROR_COPY_MODE_WRITE_BLOCKING,
    MIRROR_COPY_MODE__MAX,
} MirrorCopyMode;

/* QAPI BitmapSyncMode. */
typedef enum BitmapSyncMode {
    BITMAP_SYNC_MODE_ON_SUCCESS,
    BITMAP_SYNC_MODE_NEVER,
    BITMAP_SYNC_MODE_ALWAYS,
    BITMAP_SYNC_MODE__MAX,
} BitmapSyncMode;

/*
 * block-stream: copy what bs reads from the nodes above base (or down to and
 * including bottom) into bs; then base becomes bs's backing node, recorded as
 * backing_file (default: base's filename). While it runs, a copy-on-read filter
 * (named filter_node_name, else implicit) sits above bs.
 */
bool stream_start(const char *job_id, BlockDriverState *bs, BlockDriverState *base,
                  const char *backing_file, BlockDriverState *bottom, int flags,
                  int64_t speed, BlockdevOnError on_error, const char *filter_node_name,
                  Error **errp);

/* What mirror_start needs; zero-initialise and fill. */
typedef struct MirrorParams {
    const char *job_id;
    int flags;                        /* JOB_* creation flags */
    int64_t speed;
    MirrorSyncMode sync;
    const char *replaces;             /* node the target replaces at completion */
    uint32_t granularity;             /* 0: default (target cluster size in [4k, 64k]) */
    int64_t buf_size;                 /* 0: 16 MiB */
    BlockdevOnError on_source_error, on_target_error;
    bool unmap;
    MirrorCopyMode copy_mode;
    bool zero_target;                 /* sync=full: make unallocated areas read as zero */
    /* drive-mirror absolute-paths: at the end, give target the source's backing */
    bool target_takes_source_backing;
    bool target_owned;                /* the job holds the reference to target (drive-mirror) */
    const char *filter_node_name;     /* the mirror_top filter's name; NULL: implicit */
} MirrorParams;

/* drive-mirror / blockdev-mirror: source bs into target. */
bool mirror_start(BlockDriverState *bs, BlockDriverState *target, const MirrorParams *p,
                  Error **errp);

/*
 * block-commit. top == the active layer (bs): active commit, a mirror into base
 * that goes READY and pivots the device to base on completion. Otherwise the
 * data of top and the nodes down to base are written into base and top's overlay
 * then points at base (backing_file recorded, default base's filename).
 * While it runs, a filter sits above top (commit_top) or, for active commit,
 * above bs (mirror_top), named filter_node_name or else implicit.
 */
bool commit_start(const char *job_id, BlockDriverState *bs, BlockDriverState *top,
                  BlockDriverState *base, const char *backing_file, int flags,
                  int64_t speed, BlockdevOnError on_error, const char *filter_node_name,
                  Error **errp);

typedef struct BackupParams {
    const char *job_id;
    int flags;
    int64_t speed;
    MirrorSyncMode sync;
    BdrvDirtyBitmap *bitmap;          /* sync=bitmap/incremental, or NULL */
    BitmapSyncMode bitmap_mode;
    bool compress;
    BlockdevOnError on_source_error, on_target_error;
    JobTxn *txn;                      /* a grouped transaction, or NULL */
    bool target_owned;
    const char *filter_node_name;     /* the copy-before-write filter's name, or NULL */
    /*
     * A transaction's action: non-NULL means create the job (CREATED) and hand
     * it over in *created without starting it; the caller job_start()s it on
     * commit or cancels it (job_cancel_sync) on abort.
     */
    Job **created;
} BackupParams;

/*
 * blockdev-backup / drive-backup: a point-in-time copy of bs into target. A
 * copy-before-write filter sits above bs while the job runs (never implicit:
 * QEMU shows it in query-block); the job's main node is that filter, so bs
 * itself stays free for another backup.
 */
bool backup_start(BlockDriverState *bs, BlockDriverState *target, const BackupParams *p,
                  Error **errp);

/* The default dirty-bitmap granularity for bs (cluster size clamped to [4k, 64k]). */
uint32_t bdrv_default_bitmap_granularity(BlockDriverState *bs);

#endif /* GODWIT_BLOCK_JOBS_H */
