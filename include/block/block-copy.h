/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-copy.h: cluster bookkeeping shared by the copy-before-write filter and
 * the backup job (block/block-copy.c).
 *
 * A BlockCopyState owns a copy map: a disabled, anonymous dirty bitmap on the
 * source, one bit per cluster, set for each cluster whose old data still has to
 * reach the target. Copying an area clears its bits first and puts them back if
 * the copy fails; while a copy is in flight, anyone who wants an overlapping
 * area waits for it to land, so no cluster is copied twice at once.
 *
 * The state does not do the I/O itself: the owner's copy callback moves the
 * data (it knows its source and target handles, write flags, zero detection).
 * Coroutine context, main loop only.
 */
#ifndef GODWIT_BLOCK_COPY_H
#define GODWIT_BLOCK_COPY_H

#include "block/block.h"
#include "block/dirty-bitmap.h"

/* The largest area copied in one go. */
#define BLOCK_COPY_MAX_IO (1 << 20)

typedef struct BlockCopyState BlockCopyState;

typedef struct BlockCopyOps {
    /*
     * Copy [offset, offset + bytes) (whole clusters, or up to the end of the
     * source) to the target. Returns >= 0 or a negative errno; on failure sets
     * *is_read when reading the source failed, leaves it false when writing
     * the target did.
     */
    int coroutine_fn (*copy)(void *opaque, int64_t offset, int64_t bytes, bool *is_read);
    /* Optional: the area has been copied (called before its waiters wake). */
    void (*copied)(void *opaque, int64_t offset, int64_t bytes);
} BlockCopyOps;

/*
 * A state with an empty copy map of the given cluster size on source, covering
 * length bytes. ops must outlive the state; opaque is passed to them. Returns
 * NULL + errp when the bitmap cannot be created.
 */
BlockCopyState *block_copy_state_new(BlockDriverState *source, int64_t cluster,
                                     int64_t length, const BlockCopyOps *ops,
                                     void *opaque, Error **errp);
/* Release the copy map and the state. Nothing may be in flight. NULL is fine. */
void block_copy_state_free(BlockCopyState *s);

/* The copy map, for the owner to fill, count and merge; it stays the state's. */
BdrvDirtyBitmap *block_copy_dirty_bitmap(BlockCopyState *s);

/* Whether a copy overlapping [offset, offset + bytes) is in flight. */
bool block_copy_busy(BlockCopyState *s, int64_t offset, int64_t bytes);
/* Sleep until some copy in flight finishes. */
void coroutine_fn block_copy_wait(BlockCopyState *s);

/*
 * Copy one area that is dirty in the copy map and not busy (the caller checked
 * both), marking it in flight meanwhile. Returns what ops->copy returned, with
 * *is_read from it; on failure the area is dirty again.
 */
int coroutine_fn block_copy_area(BlockCopyState *s, int64_t offset, int64_t bytes,
                                 bool *is_read);

/*
 * Copy-before-write: make sure every cluster touching [offset, offset + bytes)
 * has been copied, copying what is still dirty (in areas of at most
 * BLOCK_COPY_MAX_IO) and waiting for copies in flight. Stops at the first
 * failure and returns it: the caller must then not let the write through.
 */
int coroutine_fn block_copy_range(BlockCopyState *s, int64_t offset, int64_t bytes);

#endif
