/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QMP: block-dirty-bitmap-{add,remove,clear,enable,disable,merge} and
 * x-debug-block-dirty-bitmap-sha256, with QEMU 7.2's error texts. The on-disk
 * (persistent) part belongs to the qcow2 driver; here persistence is a flag.
 */
#include "util/osdep.h"
#include "block/block-int.h"
#include "block/dirty-bitmap.h"
#include "qapi-commands.h"
#include "monitor/qmp-cmds-jobs.h"

BdrvDirtyBitmap *block_dirty_bitmap_lookup(const char *node, const char *name,
                                           BlockDriverState **pbs, Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(node, node, NULL);
    BdrvDirtyBitmap *bm;

    if (!bs) {
        error_setg(errp, "Node '%s' not found", node);
        return NULL;
    }
    bm = bdrv_find_dirty_bitmap(bs, name);
    if (!bm) {
        error_setg(errp, "Dirty bitmap '%s' not found", name);
        return NULL;
    }
    if (pbs) {
        *pbs = bs;
    }
    return bm;
}

void qmp_block_dirty_bitmap_add(const char *node, const char *name, bool has_granularity,
                                uint32_t granularity, bool has_persistent, bool persistent,
                                bool has_disabled, bool disabled, Error **errp)
{
    BlockDriverState *bs;
    BdrvDirtyBitmap *bm;

    if (!name || !*name) {
        error_setg(errp, "Bitmap name cannot be empty");
        return;
    }
    bs = bdrv_lookup_bs(node, node, errp);
    if (!bs) {
        return;
    }
    if (has_granularity) {
        if (granularity < 512 || (granularity & (granularity - 1))) {
            error_setg(errp, "Granularity must be power of 2 and at least 512");
            return;
        }
    } else {
        granularity = bdrv_default_bitmap_granularity(bs);
    }
    if (has_persistent && persistent &&
        !bdrv_can_store_new_dirty_bitmap(bs, name, granularity, errp)) {
        return;
    }
    bm = bdrv_create_dirty_bitmap(bs, granularity, name, errp);
    if (!bm) {
        return;
    }
    if (has_persistent && persistent) {
        bdrv_dirty_bitmap_set_persistence(bm, true);
    }
    if (has_disabled && disabled) {
        bdrv_disable_dirty_bitmap(bm);
    }
}

void qmp_block_dirty_bitmap_remove(const char *node, const char *name, Error **errp)
{
    BlockDriverState *bs;
    BdrvDirtyBitmap *bm = block_dirty_bitmap_lookup(node, name, &bs, errp);

    if (!bm || !bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_BUSY | BDRV_BITMAP_RO, errp)) {
        return;
    }
    /* a persistent bitmap also leaves the image file */
    if (bdrv_dirty_bitmap_get_persistence(bm) &&
        !bdrv_remove_persistent_dirty_bitmap(bs, name, errp)) {
        return;
    }
    bdrv_release_dirty_bitmap(bm);
}

void qmp_block_dirty_bitmap_clear(const char *node, const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm = block_dirty_bitmap_lookup(node, name, NULL, errp);

    if (bm && bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_DEFAULT, errp)) {
        bdrv_clear_dirty_bitmap(bm, NULL);
    }
}

void qmp_block_dirty_bitmap_enable(const char *node, const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm = block_dirty_bitmap_lookup(node, name, NULL, errp);

    if (bm && bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, errp)) {
        bdrv_enable_dirty_bitmap(bm);
    }
}

void qmp_block_dirty_bitmap_disable(const char *node, const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm = block_dirty_bitmap_lookup(node, name, NULL, errp);

    if (bm && bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, errp)) {
        bdrv_disable_dirty_bitmap(bm);
    }
}

void qmp_block_dirty_bitmap_merge(const char *node, const char *target,
                                  BlockDirtyBitmapOrStrList *bitmaps, Error **errp)
{
    BlockDriverState *bs;
    BdrvDirtyBitmap *dst = block_dirty_bitmap_lookup(node, target, &bs, errp);
    HBitmap *backup = NULL;

    if (!dst || !bdrv_dirty_bitmap_check(dst, BDRV_BITMAP_DEFAULT, errp)) {
        return;
    }
    for (BlockDirtyBitmapOrStrList *l = bitmaps; l; l = l->next) {
        BlockDirtyBitmapOrStr *src = l->value;
        BdrvDirtyBitmap *sbm;
        HBitmap *undo = NULL;

        if (src->type == QTYPE_QSTRING) {
            sbm = bdrv_find_dirty_bitmap(bs, src->u.local);
            if (!sbm) {
                error_setg(errp, "Dirty bitmap '%s' not found", src->u.local);
                goto fail;
            }
        } else {
            sbm = block_dirty_bitmap_lookup(src->u.external.node, src->u.external.name,
                                            NULL, errp);
            if (!sbm) {
                goto fail;
            }
        }
        if (!bdrv_merge_dirty_bitmap(dst, sbm, backup ? &undo : &backup, errp)) {
            goto fail;
        }
        hbitmap_free(undo);
    }
    hbitmap_free(backup);
    return;

fail:
    if (backup) {
        bdrv_restore_dirty_bitmap(dst, backup);
    }
}

BlockDirtyBitmapSha256 *qmp_x_debug_block_dirty_bitmap_sha256(const char *node,
                                                             const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm = block_dirty_bitmap_lookup(node, name, NULL, errp);
    BlockDirtyBitmapSha256 *ret;
    char *sha;

    if (!bm) {
        return NULL;
    }
    sha = bdrv_dirty_bitmap_sha256(bm, errp);
    if (!sha) {
        return NULL;
    }
    ret = g_new0(BlockDirtyBitmapSha256, 1);
    ret->sha256 = sha;
    return ret;
}
