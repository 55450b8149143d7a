/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * dirty-bitmap.c: per-node dirty bitmaps (include/block/dirty-bitmap.h).
 *
 * One bit per chunk in a flat array of 64-bit words. HBitmap's multi-level
 * search would make next_dirty faster on huge sparse bitmaps; the flat form is
 * enough for the sizes the tests and v1 jobs use and keeps this file standalone.
 */
#include "util/osdep.h"
#include "block/block-int.h"
#include "block/block.h"
#include "block/dirty-bitmap.h"

struct BdrvDirtyBitmap {
    BlockDriverState *bs;
    char *name;
    uint32_t granularity;
    int granularity_bits;
    int64_t size;               /* bytes covered */
    uint64_t nr_chunks;
    uint64_t *words;
    uint64_t dirty_chunks;
    bool disabled;
};

static uint64_t bm_nr_words(uint64_t chunks)
{
    return DIV_ROUND_UP(chunks, 64);
}

BdrvDirtyBitmap *bdrv_create_dirty_bitmap(BlockDriverState *bs, uint32_t granularity,
                                          const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm;
    int64_t size;

    if (granularity < 512 || (granularity & (granularity - 1))) {
        error_setg(errp, "Granularity must be power of 2, and at least 512");
        return NULL;
    }
    if (name && bdrv_find_dirty_bitmap(bs, name)) {
        error_setg(errp, "Bitmap already exists: %s", name);
        return NULL;
    }
    size = bdrv_getlength(bs);
    if (size < 0) {
        error_setg_errno(errp, -size, "could not get length of device");
        return NULL;
    }
    bm = g_new0(BdrvDirtyBitmap, 1);
    bm->bs = bs;
    bm->name = g_strdup(name);
    bm->granularity = granularity;
    bm->granularity_bits = __builtin_ctz(granularity);
    bm->size = size;
    bm->nr_chunks = DIV_ROUND_UP((uint64_t)size, granularity);
    bm->words = g_new0(uint64_t, bm_nr_words(bm->nr_chunks) + 1);
    bs->dirty_bitmaps = g_slist_append(bs->dirty_bitmaps, bm);
    return bm;
}

void bdrv_release_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    bm->bs->dirty_bitmaps = g_slist_remove(bm->bs->dirty_bitmaps, bm);
    g_free(bm->name);
    g_free(bm->words);
    g_free(bm);
}

void bdrv_release_all_dirty_bitmaps(BlockDriverState *bs)
{
    while (bs->dirty_bitmaps) {
        bdrv_release_dirty_bitmap(bs->dirty_bitmaps->data);
    }
}

BdrvDirtyBitmap *bdrv_find_dirty_bitmap(BlockDriverState *bs, const char *name)
{
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        if (bm->name && !strcmp(bm->name, name)) {
            return bm;
        }
    }
    return NULL;
}

void bdrv_enable_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    bm->disabled = false;
}

void bdrv_disable_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    bm->disabled = true;
}

bool bdrv_dirty_bitmap_enabled(BdrvDirtyBitmap *bm)
{
    return !bm->disabled;
}

const char *bdrv_dirty_bitmap_name(const BdrvDirtyBitmap *bm)
{
    return bm->name;
}

uint32_t bdrv_dirty_bitmap_granularity(const BdrvDirtyBitmap *bm)
{
    return bm->granularity;
}

int64_t bdrv_dirty_bitmap_size(const BdrvDirtyBitmap *bm)
{
    return bm->size;
}

static bool bm_test(const BdrvDirtyBitmap *bm, uint64_t chunk)
{
    return bm->words[chunk / 64] & (1ULL << (chunk % 64));
}

/* Set (or clear) the chunks covering [offset, offset+bytes), clipped to the size. */
static void bm_update(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes, bool set)
{
    uint64_t first, last;

    if (bytes <= 0 || offset >= bm->size) {
        return;
    }
    bytes = MIN(bytes, bm->size - offset);
    first = offset >> bm->granularity_bits;
    last = (offset + bytes - 1) >> bm->granularity_bits;
    for (uint64_t c = first; c <= last; c++) {
        uint64_t mask = 1ULL << (c % 64);
        bool was = bm->words[c / 64] & mask;
        if (set && !was) {
            bm->words[c / 64] |= mask;
            bm->dirty_chunks++;
        } else if (!set && was) {
            bm->words[c / 64] &= ~mask;
            bm->dirty_chunks--;
        }
    }
}

void bdrv_set_dirty(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        if (!bm->disabled) {
            bm_update(bm, offset, bytes, true);
        }
    }
}

void bdrv_set_dirty_bitmap(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    bm_update(bm, offset, bytes, true);
}

void bdrv_reset_dirty_bitmap(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    bm_update(bm, offset, bytes, false);
}

void bdrv_clear_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    memset(bm->words, 0, bm_nr_words(bm->nr_chunks) * sizeof(uint64_t));
    bm->dirty_chunks = 0;
}

bool bdrv_dirty_bitmap_get(BdrvDirtyBitmap *bm, int64_t offset)
{
    if (offset < 0 || offset >= bm->size) {
        return false;
    }
    return bm_test(bm, offset >> bm->granularity_bits);
}

int64_t bdrv_get_dirty_count(BdrvDirtyBitmap *bm)
{
    int64_t count = (int64_t)bm->dirty_chunks << bm->granularity_bits;

    /* the last chunk may extend past the end */
    if (bm->nr_chunks && bm_test(bm, bm->nr_chunks - 1)) {
        count -= ((int64_t)bm->nr_chunks << bm->granularity_bits) - bm->size;
    }
    return count;
}

static int64_t bm_find(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes, bool dirty)
{
    int64_t end;

    if (offset < 0 || offset >= bm->size) {
        return -1;
    }
    end = bytes < 0 ? bm->size : MIN(bm->size, offset + bytes);
    for (uint64_t c = offset >> bm->granularity_bits;
         (int64_t)(c << bm->granularity_bits) < end; c++) {
        if (bm_test(bm, c) == dirty) {
            return MAX(offset, (int64_t)(c << bm->granularity_bits));
        }
    }
    return -1;
}

int64_t bdrv_dirty_bitmap_next_dirty(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    return bm_find(bm, offset, bytes, true);
}

int64_t bdrv_dirty_bitmap_next_zero(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    return bm_find(bm, offset, bytes, false);
}

bool bdrv_dirty_bitmap_next_dirty_area(BdrvDirtyBitmap *bm, int64_t start, int64_t end,
                                       int64_t max_dirty_count, int64_t *dirty_start,
                                       int64_t *dirty_count)
{
    int64_t s, z;

    end = MIN(end, bm->size);
    s = bm_find(bm, start, end - start, true);
    if (s < 0) {
        return false;
    }
    z = bm_find(bm, s, end - s, false);
    if (z < 0) {
        z = end;
    }
    *dirty_start = s;
    *dirty_count = MIN(z - s, max_dirty_count);
    return true;
}

void bdrv_dirty_bitmap_truncate(BlockDriverState *bs, int64_t new_size)
{
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        uint64_t chunks = DIV_ROUND_UP((uint64_t)new_size, bm->granularity);
        uint64_t *words = g_new0(uint64_t, bm_nr_words(chunks) + 1);

        bm->dirty_chunks = 0;
        for (uint64_t c = 0; c < MIN(chunks, bm->nr_chunks); c++) {
            if (bm_test(bm, c)) {
                words[c / 64] |= 1ULL << (c % 64);
                bm->dirty_chunks++;
            }
        }
        g_free(bm->words);
        bm->words = words;
        bm->nr_chunks = chunks;
        bm->size = new_size;
    }
}
