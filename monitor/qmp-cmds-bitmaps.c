/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * QMP: block-dirty-bitmap-{add,remove,clear,enable,disable,merge} and
 * x-debug-block-dirty-bitmap-sha256, with QEMU 7.2's error texts. The on-disk
 * (persistent) part belongs to the qcow2 driver; here persistence is a flag.
 * Also the transaction actions of these commands (prepare/commit/abort).
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

/*
 * target |= every bitmap of the list. On success the target is returned and,
 * with backup != NULL, its old bits are in *backup; on failure it is unchanged.
 */
static BdrvDirtyBitmap *do_block_dirty_bitmap_merge(const char *node, const char *target,
                                                    BlockDirtyBitmapOrStrList *bitmaps,
                                                    HBitmap **backup_out, Error **errp)
{
    BlockDriverState *bs;
    BdrvDirtyBitmap *dst = block_dirty_bitmap_lookup(node, target, &bs, errp);
    HBitmap *backup = NULL;

    if (!dst || !bdrv_dirty_bitmap_check(dst, BDRV_BITMAP_DEFAULT, errp)) {
        return NULL;
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
    if (backup_out) {
        *backup_out = backup;
    } else {
        hbitmap_free(backup);
    }
    return dst;

fail:
    if (backup) {
        bdrv_restore_dirty_bitmap(dst, backup);
    }
    return NULL;
}

void qmp_block_dirty_bitmap_merge(const char *node, const char *target,
                                  BlockDirtyBitmapOrStrList *bitmaps, Error **errp)
{
    do_block_dirty_bitmap_merge(node, target, bitmaps, NULL, errp);
}

/* ---- transaction actions ---- */

bool bitmap_action_prepare(BitmapAction *a, TransactionAction *act, Error **errp)
{
    BlockDriverState *bs;
    BdrvDirtyBitmap *bm;

    a->kind = act->q_type;
    switch (act->q_type) {
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ADD: {
        BlockDirtyBitmapAdd *d = act->u.block_dirty_bitmap_add.data;
        Error *local_err = NULL;

        qmp_block_dirty_bitmap_add(d->node, d->name, d->has_granularity, d->granularity,
                                   d->has_persistent, d->persistent, d->has_disabled,
                                   d->disabled, &local_err);
        if (local_err) {
            error_propagate(errp, local_err);
            return false;
        }
        bs = bdrv_lookup_bs(d->node, d->node, NULL);
        a->bitmap = bs ? bdrv_find_dirty_bitmap(bs, d->name) : NULL;
        return true;
    }
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_MERGE: {
        BlockDirtyBitmapMerge *d = act->u.block_dirty_bitmap_merge.data;

        a->bitmap = do_block_dirty_bitmap_merge(d->node, d->target, d->bitmaps, &a->backup,
                                                errp);
        return a->bitmap != NULL;
    }
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_REMOVE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_CLEAR:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ENABLE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_DISABLE:
        /* the four share the {node, name} wrapper */
        break;
    default:
        g_assert_not_reached();
    }

    {
        BlockDirtyBitmap *d = act->u.block_dirty_bitmap_clear.data;

        bm = block_dirty_bitmap_lookup(d->node, d->name, &bs, errp);
        if (!bm) {
            return false;
        }
        a->was_enabled = bdrv_dirty_bitmap_enabled(bm);
        switch (act->q_type) {
        case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_REMOVE:
            if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_BUSY | BDRV_BITMAP_RO, errp)) {
                return false;
            }
            /* like QEMU, the stored copy goes now; the in-memory one on commit */
            if (bdrv_dirty_bitmap_get_persistence(bm) &&
                !bdrv_remove_persistent_dirty_bitmap(bs, d->name, errp)) {
                return false;
            }
            bdrv_disable_dirty_bitmap(bm);
            bdrv_dirty_bitmap_set_busy(bm, true);
            break;
        case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_CLEAR:
            if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_DEFAULT, errp)) {
                return false;
            }
            bdrv_clear_dirty_bitmap(bm, &a->backup);
            break;
        case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ENABLE:
            if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, errp)) {
                return false;
            }
            bdrv_enable_dirty_bitmap(bm);
            break;
        default:
            if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, errp)) {
                return false;
            }
            bdrv_disable_dirty_bitmap(bm);
            break;
        }
        a->bitmap = bm;
    }
    return true;
}

void bitmap_action_commit(BitmapAction *a)
{
    if (!a->bitmap) {
        return;
    }
    if (a->kind == TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_REMOVE) {
        bdrv_dirty_bitmap_set_busy(a->bitmap, false);
        bdrv_release_dirty_bitmap(a->bitmap);
    }
    hbitmap_free(a->backup);
    a->backup = NULL;
    a->bitmap = NULL;
}

void bitmap_action_abort(BitmapAction *a)
{
    BdrvDirtyBitmap *bm = a->bitmap;

    if (!bm) {
        return;
    }
    switch (a->kind) {
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ADD:
        bdrv_release_dirty_bitmap(bm);
        break;
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_CLEAR:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_MERGE:
        bdrv_restore_dirty_bitmap(bm, a->backup);     /* takes the bits back */
        a->backup = NULL;
        break;
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_REMOVE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_ENABLE:
    case TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_DISABLE:
        /* the old recording state (and a removed bitmap is no longer busy) */
        if (a->kind == TRANSACTION_ACTION_KIND_BLOCK_DIRTY_BITMAP_REMOVE) {
            bdrv_dirty_bitmap_set_busy(bm, false);
        }
        if (a->was_enabled) {
            bdrv_enable_dirty_bitmap(bm);
        } else {
            bdrv_disable_dirty_bitmap(bm);
        }
        break;
    default:
        g_assert_not_reached();
    }
    a->bitmap = NULL;
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
