/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * hbitmap.h: a hierarchical bitmap over `size` items (bytes of a disk, for dirty
 * bitmaps) with a granularity g: bit i covers the items [i << g, (i + 1) << g).
 * Setting any item of a chunk sets its whole bit; an item reads as dirty when its
 * bit is set.
 *
 * Above the bit array (level 0) sit summary levels: bit j of level k+1 is set iff
 * word j of level k is non-zero, up to a single top word. Finding the next dirty
 * item therefore costs O(levels) however sparse the bitmap (a 1 TiB disk at
 * 64 KiB granularity has 2^24 bits and 4 levels), and the number of set bits is
 * kept as the bitmap changes, so hbitmap_count() is O(1).
 *
 * Items are counted in int64/uint64 as QEMU's API does; every range must lie
 * inside [0, size) unless a function says otherwise (asserted: a bad range is a
 * caller bug, and callers validate external input such as qcow2 bitmap tables or
 * migration records before calling).
 *
 * Threads: none of its own. An HBitmap belongs to whoever holds it (the main
 * loop for dirty bitmaps); concurrent use needs the caller's lock.
 */
#ifndef GODWIT_HBITMAP_H
#define GODWIT_HBITMAP_H

#include "util/osdep.h"
#include "util/error.h"

typedef struct HBitmap HBitmap;

/*
 * Iterator over dirty items in ascending order. It holds only a position and
 * searches the live bitmap on each step, so resets (and sets) made between steps
 * are honoured: a bit reset before the iterator reaches it is never returned. The
 * bitmap must not be truncated or freed while an iterator is in use.
 */
typedef struct HBitmapIter {
    const HBitmap *hb;
    uint64_t pos;               /* next bit (not item) to examine */
} HBitmapIter;

/* A new, all-clear bitmap of `size` items, granularity 0..63. */
HBitmap *hbitmap_alloc(uint64_t size, int granularity);
void hbitmap_free(HBitmap *hb);
/* A deep copy (same size, granularity and bits). */
HBitmap *hbitmap_copy(const HBitmap *hb);

uint64_t hbitmap_size(const HBitmap *hb);     /* in items, as given to alloc/truncate */
int hbitmap_granularity(const HBitmap *hb);

/* Mark [start, start+count) dirty (whole chunks). count 0 does nothing. */
void hbitmap_set(HBitmap *hb, uint64_t start, uint64_t count);
/*
 * Mark [start, start+count) clean. start must be a multiple of 1 << g, and so must
 * count unless the range ends at size (as QEMU requires: a partial chunk cannot be
 * cleaned).
 */
void hbitmap_reset(HBitmap *hb, uint64_t start, uint64_t count);
void hbitmap_reset_all(HBitmap *hb);
/* Is this item's chunk dirty? */
bool hbitmap_get(const HBitmap *hb, uint64_t item);

/*
 * Number of dirty items counted in whole chunks: (set bits) << g. As in QEMU this
 * is not clamped to size when the last chunk is partial (size 100, g 6, all dirty
 * gives 128), which is what query-block reports as a dirty bitmap's "count".
 */
uint64_t hbitmap_count(const HBitmap *hb);
bool hbitmap_empty(const HBitmap *hb);
static inline bool hbitmap_is_empty(const HBitmap *hb)
{
    return hbitmap_empty(hb);
}

/*
 * First dirty item in [start, start+count), or -1. The result is the start of its
 * chunk, but never less than start. count may run past size (it is clamped), so
 * INT64_MAX means "to the end"; start >= size gives -1.
 */
int64_t hbitmap_next_dirty(const HBitmap *hb, int64_t start, int64_t count);
/* First clean item in [start, start+count), or -1. Same conventions. */
int64_t hbitmap_next_zero(const HBitmap *hb, int64_t start, int64_t count);
/*
 * Find the first dirty run in [start, end) (end is clamped to size): store its
 * start and length, at most max_dirty_count (> 0) items, and return true; false if
 * the range is clean.
 */
bool hbitmap_next_dirty_area(const HBitmap *hb, int64_t start, int64_t end,
                             int64_t max_dirty_count, int64_t *dirty_start,
                             int64_t *dirty_count);
/*
 * Is start dirty? *pnum receives the length of the run of items from start, at
 * most count (clamped to size), that share that state. count > 0, start < size.
 */
bool hbitmap_status(const HBitmap *hb, int64_t start, int64_t count, int64_t *pnum);

/* Position an iterator at the chunk holding item `first`. */
void hbitmap_iter_init(HBitmapIter *hbi, const HBitmap *hb, uint64_t first);
/*
 * The next dirty chunk's first item (which may be below `first` for the first
 * chunk when `first` is not chunk-aligned), or -1 at the end.
 */
int64_t hbitmap_iter_next(HBitmapIter *hbi);

/*
 * Resize to `size` items. Growing adds clean items; shrinking drops the bits past
 * the new end (the count goes down accordingly).
 */
void hbitmap_truncate(HBitmap *hb, uint64_t size);

/* Same size? (Granularities may differ.) */
bool hbitmap_can_merge(const HBitmap *a, const HBitmap *b);
/*
 * result = a | b. All three must be mergeable (asserted); result may be a or b.
 * With differing granularities every dirty chunk of a and b dirties the covering
 * chunks of result.
 */
void hbitmap_merge(const HBitmap *a, const HBitmap *b, HBitmap *result);

/* ---- serialisation (migration, qcow2 persistent bitmaps) ----
 *
 * The level-0 bits travel as 64-bit little-endian words: bit i of the range's
 * first chunk is bit (i % 8) of byte (i / 8), the order of QEMU's qcow2 bitmap
 * clusters and dirty-bitmap migration. A part covers [start, start+count) items:
 * start must be a multiple of hbitmap_serialization_align(), and count too unless
 * the part ends at size. Buffers hold hbitmap_serialization_size() bytes.
 *
 * Deserialising overwrites the covered words. Until hbitmap_deserialize_finish()
 * (or a call with finish = true) the summary levels and count are stale: only
 * further deserialize calls are allowed in between. Bits past size in the final
 * word are ignored.
 */
uint64_t hbitmap_serialization_align(const HBitmap *hb);   /* 64 << g items */
uint64_t hbitmap_serialization_size(const HBitmap *hb, uint64_t start, uint64_t count);
void hbitmap_serialize_part(const HBitmap *hb, uint8_t *buf, uint64_t start, uint64_t count);
void hbitmap_deserialize_part(HBitmap *hb, const uint8_t *buf, uint64_t start,
                              uint64_t count, bool finish);
void hbitmap_deserialize_zeroes(HBitmap *hb, uint64_t start, uint64_t count, bool finish);
void hbitmap_deserialize_ones(HBitmap *hb, uint64_t start, uint64_t count, bool finish);
void hbitmap_deserialize_finish(HBitmap *hb);

/*
 * SHA-256 of all level-0 words (at least one) as little-endian bytes, in lowercase
 * hex, for x-debug-block-dirty-bitmap-sha256. Returns a new string; errp is for
 * interface symmetry and is never set today.
 */
char *hbitmap_sha256(const HBitmap *hb, Error **errp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HBitmap, hbitmap_free)

#endif /* GODWIT_HBITMAP_H */
