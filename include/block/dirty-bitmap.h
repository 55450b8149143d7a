/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * dirty-bitmap.h: per-node dirty bitmaps. A bitmap covers the node's length in
 * chunks of `granularity` bytes (a power of two, >= 512); io.c marks every enabled
 * bitmap of a node after each successful write, zero-write or discard
 * (bdrv_set_dirty). Mirror, backup, block migration and incremental backup read
 * and clear them.
 *
 * Names: a bitmap may have a name unique on its node (QMP block-dirty-bitmap-*),
 * or none (a job's private bitmap). Persistence and QMP come later.
 *
 * Threads: main loop only; nothing here yields.
 */
#ifndef GODWIT_DIRTY_BITMAP_H
#define GODWIT_DIRTY_BITMAP_H

#include "block/block-common.h"

/*
 * A new, enabled, empty bitmap on bs. name may be NULL. Errors:
 * "Granularity must be power of 2, and at least 512", "Bitmap already exists: %s".
 */
BdrvDirtyBitmap *bdrv_create_dirty_bitmap(BlockDriverState *bs, uint32_t granularity,
                                          const char *name, Error **errp);
void bdrv_release_dirty_bitmap(BdrvDirtyBitmap *bitmap);
/* At close: release every bitmap of bs. */
void bdrv_release_all_dirty_bitmaps(BlockDriverState *bs);
BdrvDirtyBitmap *bdrv_find_dirty_bitmap(BlockDriverState *bs, const char *name);

void bdrv_enable_dirty_bitmap(BdrvDirtyBitmap *bitmap);
void bdrv_disable_dirty_bitmap(BdrvDirtyBitmap *bitmap);
bool bdrv_dirty_bitmap_enabled(BdrvDirtyBitmap *bitmap);
const char *bdrv_dirty_bitmap_name(const BdrvDirtyBitmap *bitmap);   /* NULL if unnamed */
uint32_t bdrv_dirty_bitmap_granularity(const BdrvDirtyBitmap *bitmap);
int64_t bdrv_dirty_bitmap_size(const BdrvDirtyBitmap *bitmap);      /* bytes covered */

/* io.c: mark [offset, offset+bytes) in every enabled bitmap of bs. */
void bdrv_set_dirty(BlockDriverState *bs, int64_t offset, int64_t bytes);

/* Ranges are in bytes and widened to whole chunks. */
void bdrv_set_dirty_bitmap(BdrvDirtyBitmap *bitmap, int64_t offset, int64_t bytes);
void bdrv_reset_dirty_bitmap(BdrvDirtyBitmap *bitmap, int64_t offset, int64_t bytes);
void bdrv_clear_dirty_bitmap(BdrvDirtyBitmap *bitmap);
bool bdrv_dirty_bitmap_get(BdrvDirtyBitmap *bitmap, int64_t offset);
/* Dirty bytes (dirty chunks * granularity, the last chunk clipped to the size). */
int64_t bdrv_get_dirty_count(BdrvDirtyBitmap *bitmap);
/* First dirty (or clean) byte offset in [offset, offset+bytes), or -1 if none. */
int64_t bdrv_dirty_bitmap_next_dirty(BdrvDirtyBitmap *bitmap, int64_t offset, int64_t bytes);
int64_t bdrv_dirty_bitmap_next_zero(BdrvDirtyBitmap *bitmap, int64_t offset, int64_t bytes);
/*
 * The first dirty area in [start, end): *dirty_start and *dirty_count (at most
 * max_dirty_count bytes). false if the range is clean.
 */
bool bdrv_dirty_bitmap_next_dirty_area(BdrvDirtyBitmap *bitmap, int64_t start, int64_t end,
                                       int64_t max_dirty_count, int64_t *dirty_start,
                                       int64_t *dirty_count);
/* The node was resized: the bitmaps follow (io.c calls this after truncate). */
void bdrv_dirty_bitmap_truncate(BlockDriverState *bs, int64_t new_size);

#endif /* GODWIT_DIRTY_BITMAP_H */
