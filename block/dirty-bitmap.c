/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * dirty-bitmap.c: per-node dirty bitmaps (contracts in include/block/dirty-bitmap.h).
 *
 * Each BdrvDirtyBitmap wraps one HBitmap whose items are the node's bytes and
 * whose granularity is log2(chunk size), so offsets pass through unchanged and
 * next_dirty costs O(levels) on a sparse 1 TiB bitmap. The bitmaps of a node live
 * on bs->dirty_bitmaps in creation order; successors are ordinary (anonymous)
 * entries there, which is how io.c's bdrv_set_dirty reaches them.
 */
#include "util/osdep.h"
#include "block/block-int.h"
#include "block/block.h"
#include "block/dirty-bitmap.h"

struct BdrvDirtyBitmap {
    BlockDriverState *bs;
    HBitmap *hb;
    char *name;
    BdrvDirtyBitmap *successor;     /* records while this one is frozen */
    int active_iterators;
    bool disabled;
    bool busy;
    bool persistent;
    bool inconsistent;
    bool readonly;
};

struct BdrvDirtyBitmapIter {
    HBitmapIter hbi;
    BdrvDirtyBitmap *bitmap;
};

/* ---- life cycle ---- */

BdrvDirtyBitmap *bdrv_create_dirty_bitmap(BlockDriverState *bs, uint32_t granularity,
                                          const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm;
    int64_t size;

    if (granularity < 512 || (granularity & (granularity - 1))) {
        error_setg(errp, "Granularity must be power of 2 and at least 512");
        return NULL;
    }
    if (name) {
        if (bdrv_find_dirty_bitmap(bs, name)) {
            error_setg(errp, "Bitmap already exists: %s", name);
            return NULL;
        }
        if (strlen(name) > BDRV_BITMAP_MAX_NAME_SIZE) {
            error_setg(errp, "Bitmap name too long: %s", name);
            return NULL;
        }
    }
    size = bdrv_getlength(bs);
    if (size < 0) {
        error_setg_errno(errp, -size, "could not get length of device");
        return NULL;
    }
    bm = g_new0(BdrvDirtyBitmap, 1);
    bm->bs = bs;
    bm->hb = hbitmap_alloc(size, __builtin_ctz(granularity));
    bm->name = g_strdup(name);
    bs->dirty_bitmaps = g_slist_append(bs->dirty_bitmaps, bm);
    return bm;
}

void bdrv_release_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    assert(bm->active_iterators == 0);
    if (bm->successor) {
        bdrv_release_dirty_bitmap(bm->successor);
    }
    bm->bs->dirty_bitmaps = g_slist_remove(bm->bs->dirty_bitmaps, bm);
    hbitmap_free(bm->hb);
    g_free(bm->name);
    g_free(bm);
}

void bdrv_release_all_dirty_bitmaps(BlockDriverState *bs)
{
    while (bs->dirty_bitmaps) {
        BdrvDirtyBitmap *bm = bs->dirty_bitmaps->data;
        /* a successor is released with its parent; detach it so the order is free */
        for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
            BdrvDirtyBitmap *p = l->data;
            if (p->successor == bm) {
                p->successor = NULL;
            }
        }
        bm->active_iterators = 0;
        bdrv_release_dirty_bitmap(bm);
    }
}

BdrvDirtyBitmap *bdrv_find_dirty_bitmap(BlockDriverState *bs, const char *name)
{
    if (!name) {
        return NULL;
    }
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        if (bm->name && !strcmp(bm->name, name)) {
            return bm;
        }
    }
    return NULL;
}

BdrvDirtyBitmap *bdrv_dirty_bitmap_first(BlockDriverState *bs)
{
    return bs->dirty_bitmaps ? bs->dirty_bitmaps->data : NULL;
}

BdrvDirtyBitmap *bdrv_dirty_bitmap_next(BdrvDirtyBitmap *bm)
{
    GSList *l = g_slist_find(bm->bs->dirty_bitmaps, bm);

    return l && l->next ? l->next->data : NULL;
}

bool bdrv_has_named_dirty_bitmaps(BlockDriverState *bs)
{
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        if (((BdrvDirtyBitmap *)l->data)->name) {
            return true;
        }
    }
    return false;
}

bool bdrv_dirty_bitmap_check(const BdrvDirtyBitmap *bm, unsigned flags, Error **errp)
{
    const char *name = bm->name ? bm->name : "";

    if ((flags & BDRV_BITMAP_BUSY) && bdrv_dirty_bitmap_busy(bm)) {
        error_setg(errp, "Bitmap '%s' is currently in use by another operation and "
                   "cannot be used", name);
        return false;
    }
    if ((flags & BDRV_BITMAP_RO) && bm->readonly) {
        error_setg(errp, "Bitmap '%s' is readonly and cannot be modified", name);
        return false;
    }
    if ((flags & BDRV_BITMAP_INCONSISTENT) && bm->inconsistent) {
        error_setg(errp, "Bitmap '%s' is inconsistent and cannot be used", name);
        error_append_hint(errp, "Try block-dirty-bitmap-remove to delete this bitmap "
                          "from disk\n");
        return false;
    }
    return true;
}

/* ---- attributes ---- */

BlockDriverState *bdrv_dirty_bitmap_bs(const BdrvDirtyBitmap *bm)
{
    return bm->bs;
}

const char *bdrv_dirty_bitmap_name(const BdrvDirtyBitmap *bm)
{
    return bm->name;
}

uint32_t bdrv_dirty_bitmap_granularity(const BdrvDirtyBitmap *bm)
{
    return UINT32_C(1) << hbitmap_granularity(bm->hb);
}

int64_t bdrv_dirty_bitmap_size(const BdrvDirtyBitmap *bm)
{
    return hbitmap_size(bm->hb);
}

void bdrv_enable_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    bm->disabled = false;
}

void bdrv_disable_dirty_bitmap(BdrvDirtyBitmap *bm)
{
    bm->disabled = true;
}

bool bdrv_dirty_bitmap_enabled(const BdrvDirtyBitmap *bm)
{
    return !bm->disabled;
}

bool bdrv_dirty_bitmap_recording(const BdrvDirtyBitmap *bm)
{
    return !bm->disabled || (bm->successor && !bm->successor->disabled);
}

void bdrv_dirty_bitmap_set_busy(BdrvDirtyBitmap *bm, bool busy)
{
    bm->busy = busy;
}

bool bdrv_dirty_bitmap_busy(const BdrvDirtyBitmap *bm)
{
    return bm->busy;
}

void bdrv_dirty_bitmap_set_persistence(BdrvDirtyBitmap *bm, bool persistent)
{
    bm->persistent = persistent;
}

bool bdrv_dirty_bitmap_get_persistence(const BdrvDirtyBitmap *bm)
{
    return bm->persistent;
}

void bdrv_dirty_bitmap_set_inconsistent(BdrvDirtyBitmap *bm)
{
    /* an inconsistent bitmap is only ever removed, so it must not record either */
    bm->inconsistent = true;
    bm->disabled = true;
}

bool bdrv_dirty_bitmap_inconsistent(const BdrvDirtyBitmap *bm)
{
    return bm->inconsistent;
}

void bdrv_dirty_bitmap_set_readonly(BdrvDirtyBitmap *bm, bool readonly)
{
    bm->readonly = readonly;
}

bool bdrv_dirty_bitmap_readonly(const BdrvDirtyBitmap *bm)
{
    return bm->readonly;
}

/* ---- successors ---- */

bool bdrv_dirty_bitmap_create_successor(BdrvDirtyBitmap *bm, Error **errp)
{
    BdrvDirtyBitmap *child;

    if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_BUSY | BDRV_BITMAP_INCONSISTENT, errp)) {
        return false;
    }
    if (bm->successor) {
        error_setg(errp, "Cannot create a successor for a bitmap that already has one");
        return false;
    }
    child = bdrv_create_dirty_bitmap(bm->bs, bdrv_dirty_bitmap_granularity(bm), NULL, errp);
    if (!child) {
        return false;
    }
    child->disabled = bm->disabled;
    bm->disabled = true;
    bm->successor = child;
    bm->busy = true;
    return true;
}

bool bdrv_dirty_bitmap_has_successor(const BdrvDirtyBitmap *bm)
{
    return bm->successor != NULL;
}

BdrvDirtyBitmap *bdrv_dirty_bitmap_abdicate(BdrvDirtyBitmap *bm, Error **errp)
{
    BdrvDirtyBitmap *succ = bm->successor;

    if (!succ) {
        error_setg(errp, "Cannot relinquish control if there's no successor present");
        return NULL;
    }
    succ->name = bm->name;
    bm->name = NULL;
    succ->persistent = bm->persistent;
    bm->successor = NULL;
    bdrv_release_dirty_bitmap(bm);
    return succ;
}

BdrvDirtyBitmap *bdrv_dirty_bitmap_reclaim(BdrvDirtyBitmap *bm, Error **errp)
{
    BdrvDirtyBitmap *succ = bm->successor;

    if (!succ) {
        error_setg(errp, "Cannot reclaim a successor when none is present");
        return NULL;
    }
    hbitmap_merge(bm->hb, succ->hb, bm->hb);
    bm->disabled = succ->disabled;
    bm->busy = false;
    bm->successor = NULL;
    bdrv_release_dirty_bitmap(succ);
    return bm;
}

/* ---- bits ---- */

/* Clip [*offset, *offset + *bytes) to the bitmap; false if nothing is left. */
static bool bm_clip(const BdrvDirtyBitmap *bm, int64_t *offset, int64_t *bytes)
{
    int64_t size = hbitmap_size(bm->hb);

    if (*offset < 0 || *bytes <= 0 || *offset >= size) {
        return false;
    }
    *bytes = MIN(*bytes, size - *offset);
    return true;
}

void bdrv_set_dirty_bitmap(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    if (bm_clip(bm, &offset, &bytes)) {
        hbitmap_set(bm->hb, offset, bytes);
    }
}

void bdrv_set_dirty(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        if (!bm->disabled) {
            bdrv_set_dirty_bitmap(bm, offset, bytes);
        }
    }
}

void bdrv_reset_dirty_bitmap(BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    int64_t chunk = bdrv_dirty_bitmap_granularity(bm);
    int64_t size = hbitmap_size(bm->hb);
    int64_t start, end;

    if (!bm_clip(bm, &offset, &bytes)) {
        return;
    }
    /* only whole chunks: a partly covered chunk may hold dirty bytes outside */
    start = QEMU_ALIGN_UP(offset, chunk);
    end = offset + bytes == size ? size : QEMU_ALIGN_DOWN(offset + bytes, chunk);
    if (start < end) {
        hbitmap_reset(bm->hb, start, end - start);
    }
}

void bdrv_clear_dirty_bitmap(BdrvDirtyBitmap *bm, HBitmap **out)
{
    if (out) {
        *out = bm->hb;
        bm->hb = hbitmap_alloc(hbitmap_size(*out), hbitmap_granularity(*out));
    } else {
        hbitmap_reset_all(bm->hb);
    }
}

void bdrv_restore_dirty_bitmap(BdrvDirtyBitmap *bm, HBitmap *backup)
{
    HBitmap *cur = bm->hb;

    bm->hb = backup;
    hbitmap_free(cur);
}

bool bdrv_merge_dirty_bitmap(BdrvDirtyBitmap *dest, const BdrvDirtyBitmap *src,
                             HBitmap **backup, Error **errp)
{
    if (!bdrv_dirty_bitmap_check(dest, BDRV_BITMAP_DEFAULT, errp) ||
        !bdrv_dirty_bitmap_check(src, BDRV_BITMAP_ALLOW_RO, errp)) {
        return false;
    }
    if (!hbitmap_can_merge(dest->hb, src->hb)) {
        error_setg(errp, "Bitmaps are incompatible and can't be merged");
        return false;
    }
    if (backup) {
        *backup = dest->hb;
        dest->hb = hbitmap_alloc(hbitmap_size(*backup), hbitmap_granularity(*backup));
        hbitmap_merge(*backup, src->hb, dest->hb);
    } else {
        hbitmap_merge(dest->hb, src->hb, dest->hb);
    }
    return true;
}

bool bdrv_dirty_bitmap_get(const BdrvDirtyBitmap *bm, int64_t offset)
{
    if (offset < 0 || (uint64_t)offset >= hbitmap_size(bm->hb)) {
        return false;
    }
    return hbitmap_get(bm->hb, offset);
}

int64_t bdrv_get_dirty_count(const BdrvDirtyBitmap *bm)
{
    return hbitmap_count(bm->hb);
}

int64_t bdrv_dirty_bitmap_next_dirty(const BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    if (offset < 0) {
        return -1;
    }
    return hbitmap_next_dirty(bm->hb, offset, bytes < 0 ? INT64_MAX - offset : bytes);
}

int64_t bdrv_dirty_bitmap_next_zero(const BdrvDirtyBitmap *bm, int64_t offset, int64_t bytes)
{
    if (offset < 0) {
        return -1;
    }
    return hbitmap_next_zero(bm->hb, offset, bytes < 0 ? INT64_MAX - offset : bytes);
}

bool bdrv_dirty_bitmap_next_dirty_area(const BdrvDirtyBitmap *bm, int64_t start, int64_t end,
                                       int64_t max_dirty_count, int64_t *dirty_start,
                                       int64_t *dirty_count)
{
    if (start < 0 || start >= end || max_dirty_count <= 0) {
        return false;
    }
    return hbitmap_next_dirty_area(bm->hb, start, end, max_dirty_count, dirty_start,
                                   dirty_count);
}

void bdrv_dirty_bitmap_truncate(BlockDriverState *bs, int64_t new_size)
{
    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        hbitmap_truncate(bm->hb, new_size);
    }
}

/* ---- iterator ---- */

BdrvDirtyBitmapIter *bdrv_dirty_iter_new(BdrvDirtyBitmap *bm)
{
    BdrvDirtyBitmapIter *it = g_new(BdrvDirtyBitmapIter, 1);

    hbitmap_iter_init(&it->hbi, bm->hb, 0);
    it->bitmap = bm;
    bm->active_iterators++;
    return it;
}

int64_t bdrv_dirty_iter_next(BdrvDirtyBitmapIter *it)
{
    return hbitmap_iter_next(&it->hbi);
}

void bdrv_set_dirty_iter(BdrvDirtyBitmapIter *it, int64_t offset)
{
    hbitmap_iter_init(&it->hbi, it->bitmap->hb, MAX(offset, 0));
}

void bdrv_dirty_iter_free(BdrvDirtyBitmapIter *it)
{
    if (it) {
        it->bitmap->active_iterators--;
        g_free(it);
    }
}

/* ---- reporting ---- */

char *bdrv_dirty_bitmap_sha256(const BdrvDirtyBitmap *bm, Error **errp)
{
    return hbitmap_sha256(bm->hb, errp);
}

void bdrv_dirty_bitmap_info_free(BdrvDirtyBitmapInfo *info)
{
    if (info) {
        g_free(info->name);
        g_free(info);
    }
}

GPtrArray *bdrv_query_dirty_bitmaps(BlockDriverState *bs)
{
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)bdrv_dirty_bitmap_info_free);

    for (GSList *l = bs->dirty_bitmaps; l; l = l->next) {
        BdrvDirtyBitmap *bm = l->data;
        BdrvDirtyBitmapInfo *info = g_new0(BdrvDirtyBitmapInfo, 1);

        info->name = g_strdup(bm->name);
        info->count = bdrv_get_dirty_count(bm);
        info->granularity = bdrv_dirty_bitmap_granularity(bm);
        info->recording = bdrv_dirty_bitmap_recording(bm);
        info->busy = bdrv_dirty_bitmap_busy(bm);
        info->persistent = bm->persistent;
        info->inconsistent = bm->inconsistent;
        g_ptr_array_add(list, info);
    }
    return list;
}

/* ---- serialisation ---- */

uint64_t bdrv_dirty_bitmap_serialization_align(const BdrvDirtyBitmap *bm)
{
    return hbitmap_serialization_align(bm->hb);
}

uint64_t bdrv_dirty_bitmap_serialization_size(const BdrvDirtyBitmap *bm, uint64_t offset,
                                              uint64_t bytes)
{
    return hbitmap_serialization_size(bm->hb, offset, bytes);
}

void bdrv_dirty_bitmap_serialize_part(const BdrvDirtyBitmap *bm, uint8_t *buf,
                                      uint64_t offset, uint64_t bytes)
{
    hbitmap_serialize_part(bm->hb, buf, offset, bytes);
}

void bdrv_dirty_bitmap_deserialize_part(BdrvDirtyBitmap *bm, const uint8_t *buf,
                                        uint64_t offset, uint64_t bytes, bool finish)
{
    hbitmap_deserialize_part(bm->hb, buf, offset, bytes, finish);
}

void bdrv_dirty_bitmap_deserialize_zeroes(BdrvDirtyBitmap *bm, uint64_t offset,
                                          uint64_t bytes, bool finish)
{
    hbitmap_deserialize_zeroes(bm->hb, offset, bytes, finish);
}

void bdrv_dirty_bitmap_deserialize_ones(BdrvDirtyBitmap *bm, uint64_t offset,
                                        uint64_t bytes, bool finish)
{
    hbitmap_deserialize_ones(bm->hb, offset, bytes, finish);
}

void bdrv_dirty_bitmap_deserialize_finish(BdrvDirtyBitmap *bm)
{
    hbitmap_deserialize_finish(bm->hb);
}

/* ---- persistence through the format driver ---- */

bool bdrv_can_store_new_dirty_bitmap(BlockDriverState *bs, const char *name,
                                     uint32_t granularity, Error **errp)
{
    Error *local_err = NULL;

    if (!bs->drv || !bs->drv->bitmap_can_store) {
        error_setg_errno(errp, ENOTSUP, "Can't store persistent bitmaps to %s",
                         bdrv_get_device_or_node_name(bs));
        return false;
    }
    if (!bs->drv->bitmap_can_store(bs, name, granularity, &local_err)) {
        error_prepend(&local_err, "Can't make bitmap '%s' persistent in '%s': ",
                      name, bdrv_get_device_or_node_name(bs));
        error_propagate(errp, local_err);
        return false;
    }
    return true;
}

bool bdrv_remove_persistent_dirty_bitmap(BlockDriverState *bs, const char *name, Error **errp)
{
    if (!bs->drv || !bs->drv->bitmap_remove_persistent) {
        return true;
    }
    return bs->drv->bitmap_remove_persistent(bs, name, errp);
}
