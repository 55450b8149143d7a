/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * dirty-bitmap.h: per-node dirty bitmaps on top of HBitmap (util/hbitmap.h).
 *
 * A bitmap covers the node's length in bytes, in chunks of `granularity` bytes (a
 * power of two, >= 512); a chunk is dirty as a whole. io.c marks every *enabled*
 * bitmap of a node after each successful write, zero-write or discard
 * (bdrv_set_dirty). Mirror, backup, block migration and incremental backup read
 * and clear them; QMP block-dirty-bitmap-* manage the named ones.
 *
 * State of a bitmap (QEMU's model, and its error texts):
 *  - name: unique on its node, at most BDRV_BITMAP_MAX_NAME_SIZE bytes; NULL for
 *    a job's private bitmap and for successors;
 *  - enabled ("recording"): io.c only marks enabled bitmaps;
 *  - busy: in use by a job or an export; QMP refuses to touch it
 *    (bdrv_dirty_bitmap_check). A bitmap with a successor is busy;
 *  - persistent: the format driver (qcow2) stores it at close; inconsistent: it
 *    was found "in use" in an image that was not closed cleanly, and can only be
 *    removed; readonly: loaded from a read-only image, cannot be modified.
 *  - successor (backup's bitmap modes): create_successor freezes the bitmap (busy,
 *    disabled) and lets a new anonymous bitmap record in its place while a job
 *    reads the frozen one. At the job's end, abdicate keeps only the successor
 *    (under the parent's name: the data was copied), reclaim merges the
 *    successor back into the parent (the copy failed: keep everything dirty).
 *
 * Ranges are byte offsets. Setting widens to whole chunks; resetting clears only
 * the chunks entirely inside the range (plus the last partial chunk when the
 * range reaches the end), so a reset never loses a dirty byte outside it.
 * Ranges are clipped to the bitmap's size.
 *
 * Threads: main loop only; nothing here yields.
 */
#ifndef GODWIT_DIRTY_BITMAP_H
#define GODWIT_DIRTY_BITMAP_H

#include "block/block-common.h"
#include "util/hbitmap.h"

#define BDRV_BITMAP_MAX_NAME_SIZE 1023

/* What bdrv_dirty_bitmap_check() refuses. */
typedef enum BdrvBitmapCheck {
    BDRV_BITMAP_BUSY = 1,               /* busy (job, export, successor) */
    BDRV_BITMAP_RO = 2,                 /* readonly */
    BDRV_BITMAP_INCONSISTENT = 4,       /* inconsistent */
} BdrvBitmapCheck;
#define BDRV_BITMAP_DEFAULT  (BDRV_BITMAP_BUSY | BDRV_BITMAP_RO | BDRV_BITMAP_INCONSISTENT)
#define BDRV_BITMAP_ALLOW_RO (BDRV_BITMAP_BUSY | BDRV_BITMAP_INCONSISTENT)

/* One line of query-block's "dirty-bitmaps" (name is NULL for unnamed bitmaps). */
typedef struct BdrvDirtyBitmapInfo {
    char *name;
    int64_t count;              /* bdrv_get_dirty_count() */
    uint32_t granularity;
    bool recording;
    bool busy;
    bool persistent;
    bool inconsistent;          /* QMP only shows the key when true */
} BdrvDirtyBitmapInfo;

typedef struct BdrvDirtyBitmapIter BdrvDirtyBitmapIter;

/* ---- life cycle ---- */

/*
 * A new, enabled, empty bitmap on bs covering its current length. name may be
 * NULL. Errors (QEMU's texts): "Granularity must be power of 2 and at least 512",
 * "Bitmap already exists: %s", "Bitmap name too long: %s", or the length error.
 * Empty names are the QMP layer's to refuse ("Bitmap name cannot be empty").
 */
BdrvDirtyBitmap *bdrv_create_dirty_bitmap(BlockDriverState *bs, uint32_t granularity,
                                          const char *name, Error **errp);
/* Free a bitmap (and its successor, if any). No iterator may be active on it. */
void bdrv_release_dirty_bitmap(BdrvDirtyBitmap *bitmap);
/* At close: release every bitmap of bs. */
void bdrv_release_all_dirty_bitmaps(BlockDriverState *bs);
/* The named bitmap of bs, or NULL. name may be NULL (gives NULL). */
BdrvDirtyBitmap *bdrv_find_dirty_bitmap(BlockDriverState *bs, const char *name);
/* Iterate over every bitmap of bs (named or not, successors included). */
BdrvDirtyBitmap *bdrv_dirty_bitmap_first(BlockDriverState *bs);
BdrvDirtyBitmap *bdrv_dirty_bitmap_next(BdrvDirtyBitmap *bitmap);
bool bdrv_has_named_dirty_bitmaps(BlockDriverState *bs);

/*
 * May this bitmap be used for what `flags` (BdrvBitmapCheck) rules out? false +
 * errp: "Bitmap '%s' is currently in use by another operation and cannot be
 * used", "Bitmap '%s' is readonly and cannot be modified", "Bitmap '%s' is
 * inconsistent and cannot be used" (hint: block-dirty-bitmap-remove).
 */
bool bdrv_dirty_bitmap_check(const BdrvDirtyBitmap *bitmap, unsigned flags, Error **errp);

/*
 * Persistence, through the node's driver (BlockDriver.bitmap_can_store and
 * bitmap_remove_persistent, contracts in block-int.h).
 * can_store: call before creating a persistent bitmap. Errors: "Can't store
 * persistent bitmaps to %s: Operation not supported" (node without support) or
 * "Can't make bitmap '%s' persistent in '%s': <driver's reason>".
 * remove: drop the stored copy from the image file now (before releasing the
 * in-memory bitmap); true when there is none (or no driver support).
 */
bool bdrv_can_store_new_dirty_bitmap(BlockDriverState *bs, const char *name,
                                     uint32_t granularity, Error **errp);
bool bdrv_remove_persistent_dirty_bitmap(BlockDriverState *bs, const char *name, Error **errp);

/* ---- attributes ---- */

BlockDriverState *bdrv_dirty_bitmap_bs(const BdrvDirtyBitmap *bitmap);
const char *bdrv_dirty_bitmap_name(const BdrvDirtyBitmap *bitmap);   /* NULL if unnamed */
uint32_t bdrv_dirty_bitmap_granularity(const BdrvDirtyBitmap *bitmap);
int64_t bdrv_dirty_bitmap_size(const BdrvDirtyBitmap *bitmap);      /* bytes covered */

void bdrv_enable_dirty_bitmap(BdrvDirtyBitmap *bitmap);
void bdrv_disable_dirty_bitmap(BdrvDirtyBitmap *bitmap);
bool bdrv_dirty_bitmap_enabled(const BdrvDirtyBitmap *bitmap);
/* query-block's "recording": enabled, or frozen with an enabled successor. */
bool bdrv_dirty_bitmap_recording(const BdrvDirtyBitmap *bitmap);
void bdrv_dirty_bitmap_set_busy(BdrvDirtyBitmap *bitmap, bool busy);
bool bdrv_dirty_bitmap_busy(const BdrvDirtyBitmap *bitmap);
void bdrv_dirty_bitmap_set_persistence(BdrvDirtyBitmap *bitmap, bool persistent);
bool bdrv_dirty_bitmap_get_persistence(const BdrvDirtyBitmap *bitmap);
void bdrv_dirty_bitmap_set_inconsistent(BdrvDirtyBitmap *bitmap);  /* also not persistent-writable */
bool bdrv_dirty_bitmap_inconsistent(const BdrvDirtyBitmap *bitmap);
void bdrv_dirty_bitmap_set_readonly(BdrvDirtyBitmap *bitmap, bool readonly);
bool bdrv_dirty_bitmap_readonly(const BdrvDirtyBitmap *bitmap);

/* ---- successors (backup's sync=bitmap modes) ---- */

/*
 * Freeze bitmap: a new anonymous successor takes over recording (enabled iff the
 * bitmap was), the bitmap becomes disabled and busy. Errors: the busy/inconsistent
 * texts above, "Cannot create a successor for a bitmap that already has one".
 */
bool bdrv_dirty_bitmap_create_successor(BdrvDirtyBitmap *bitmap, Error **errp);
bool bdrv_dirty_bitmap_has_successor(const BdrvDirtyBitmap *bitmap);
/*
 * The job succeeded: release bitmap, keep its successor under bitmap's name and
 * persistence; returns the successor. NULL + errp if there is none.
 */
BdrvDirtyBitmap *bdrv_dirty_bitmap_abdicate(BdrvDirtyBitmap *bitmap, Error **errp);
/*
 * The job failed: merge the successor's bits into bitmap, which takes back the
 * successor's enabled state and is no longer busy; returns bitmap. NULL + errp if
 * there is no successor.
 */
BdrvDirtyBitmap *bdrv_dirty_bitmap_reclaim(BdrvDirtyBitmap *bitmap, Error **errp);

/* ---- bits ---- */

/* io.c: mark [offset, offset+bytes) in every enabled bitmap of bs. */
void bdrv_set_dirty(BlockDriverState *bs, int64_t offset, int64_t bytes);

void bdrv_set_dirty_bitmap(BdrvDirtyBitmap *bitmap, int64_t offset, int64_t bytes);
void bdrv_reset_dirty_bitmap(BdrvDirtyBitmap *bitmap, int64_t offset, int64_t bytes);
/*
 * Clear everything. With out != NULL the old bits are handed over in *out (the
 * caller owns them) so that a transaction can undo the clear with
 * bdrv_restore_dirty_bitmap(bitmap, *out), which takes them back.
 */
void bdrv_clear_dirty_bitmap(BdrvDirtyBitmap *bitmap, HBitmap **out);
void bdrv_restore_dirty_bitmap(BdrvDirtyBitmap *bitmap, HBitmap *backup);
/*
 * dest |= src. Both must cover the same length (granularities may differ): else
 * "Bitmaps are incompatible and can't be merged". dest is checked with
 * BDRV_BITMAP_DEFAULT, src with BDRV_BITMAP_ALLOW_RO. With backup != NULL the old
 * bits of dest go to *backup (for bdrv_restore_dirty_bitmap on abort).
 */
bool bdrv_merge_dirty_bitmap(BdrvDirtyBitmap *dest, const BdrvDirtyBitmap *src,
                             HBitmap **backup, Error **errp);

bool bdrv_dirty_bitmap_get(const BdrvDirtyBitmap *bitmap, int64_t offset);
/*
 * Dirty bytes as QEMU counts them: dirty chunks * granularity, not clipped when
 * the last chunk runs past the end (query-block's "count").
 */
int64_t bdrv_get_dirty_count(const BdrvDirtyBitmap *bitmap);
/*
 * First dirty (or clean) byte offset in [offset, offset+bytes), or -1 if none.
 * bytes < 0 means "to the end".
 */
int64_t bdrv_dirty_bitmap_next_dirty(const BdrvDirtyBitmap *bitmap, int64_t offset,
                                     int64_t bytes);
int64_t bdrv_dirty_bitmap_next_zero(const BdrvDirtyBitmap *bitmap, int64_t offset,
                                    int64_t bytes);
/*
 * The first dirty area in [start, end): *dirty_start and *dirty_count (at most
 * max_dirty_count bytes). false if the range is clean.
 */
bool bdrv_dirty_bitmap_next_dirty_area(const BdrvDirtyBitmap *bitmap, int64_t start,
                                       int64_t end, int64_t max_dirty_count,
                                       int64_t *dirty_start, int64_t *dirty_count);
/* The node was resized: every bitmap follows (io.c calls this after truncate). */
void bdrv_dirty_bitmap_truncate(BlockDriverState *bs, int64_t new_size);

/*
 * Iterator over the dirty chunks, ascending; it reads the live bitmap, so chunks
 * reset behind or ahead of it are honoured. next() returns a chunk's first byte
 * (or `offset` itself for the first chunk when seek/new landed inside it), or -1.
 */
BdrvDirtyBitmapIter *bdrv_dirty_iter_new(BdrvDirtyBitmap *bitmap);
int64_t bdrv_dirty_iter_next(BdrvDirtyBitmapIter *iter);
void bdrv_set_dirty_iter(BdrvDirtyBitmapIter *iter, int64_t offset);
void bdrv_dirty_iter_free(BdrvDirtyBitmapIter *iter);

/* x-debug-block-dirty-bitmap-sha256: lowercase hex of the bits (new string). */
char *bdrv_dirty_bitmap_sha256(const BdrvDirtyBitmap *bitmap, Error **errp);

/* query-block: one entry per bitmap of bs, in creation order; free with the array. */
GPtrArray *bdrv_query_dirty_bitmaps(BlockDriverState *bs);
void bdrv_dirty_bitmap_info_free(BdrvDirtyBitmapInfo *info);

/*
 * ---- serialisation (qcow2 persistent bitmaps, dirty-bitmap migration) ----
 * The format of hbitmap_serialize_part() (little-endian 64-bit words), with byte
 * offsets. offset must be a multiple of bdrv_dirty_bitmap_serialization_align(),
 * bytes too unless the part ends at the bitmap's size. After a series of
 * deserialize calls, call bdrv_dirty_bitmap_deserialize_finish() once.
 */
uint64_t bdrv_dirty_bitmap_serialization_align(const BdrvDirtyBitmap *bitmap);
uint64_t bdrv_dirty_bitmap_serialization_size(const BdrvDirtyBitmap *bitmap,
                                              uint64_t offset, uint64_t bytes);
void bdrv_dirty_bitmap_serialize_part(const BdrvDirtyBitmap *bitmap, uint8_t *buf,
                                      uint64_t offset, uint64_t bytes);
void bdrv_dirty_bitmap_deserialize_part(BdrvDirtyBitmap *bitmap, const uint8_t *buf,
                                        uint64_t offset, uint64_t bytes, bool finish);
void bdrv_dirty_bitmap_deserialize_zeroes(BdrvDirtyBitmap *bitmap, uint64_t offset,
                                          uint64_t bytes, bool finish);
void bdrv_dirty_bitmap_deserialize_ones(BdrvDirtyBitmap *bitmap, uint64_t offset,
                                        uint64_t bytes, bool finish);
void bdrv_dirty_bitmap_deserialize_finish(BdrvDirtyBitmap *bitmap);

#endif /* GODWIT_DIRTY_BITMAP_H */
