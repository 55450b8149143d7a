/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * inactive.c: who owns an image during a shared-storage migration (block.h).
 *
 * Source and destination open the same files. The destination opens them
 * inactive (no write lock, no metadata writes); at switch-over the source
 * writes out what it caches and goes inactive too, dropping its write lock;
 * then the destination activates: it takes the locks and forgets everything it
 * read while the source was still changing the file.
 *
 * Inactivation goes top down (a node's users let go before the node does) and
 * activation bottom up (a format node re-reads its metadata through an active,
 * locked file). Permissions: an inactive node only keeps what it held (see
 * file_locking() in file-posix.c), and an inactive format node lets others
 * write its file (bdrv_default_perms), so the peer can lock it.
 */
#include "util/osdep.h"
#include "block/block-core.h"

bool bdrv_is_inactive(BlockDriverState *bs)
{
    return bs->open_flags & BDRV_O_INACTIVE;
}

/* ---- activation ---- */

/* Give bs back to its parents (BlockBackends take their permissions back). */
static int bdrv_activate_parents(BlockDriverState *bs, Error **errp)
{
    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        Error *local_err = NULL;

        if (c->klass->activate) {
            c->klass->activate(c, &local_err);
            if (local_err) {
                error_propagate(errp, local_err);
                return -EPERM;
            }
        }
    }
    return 0;
}

/* Clear the flag, lock, re-read: on failure the node is inactive again. */
static int bdrv_activate_node(BlockDriverState *bs, Error **errp)
{
    int ret;

    bs->open_flags &= ~BDRV_O_INACTIVE;
    /* the locks first: the peer must have let go before we trust the file */
    ret = bdrv_refresh_perms(bs, errp);
    if (ret == 0 && bs->drv->invalidate_cache) {
        ret = bs->drv->invalidate_cache(bs, errp);
    }
    if (ret < 0) {
        bs->open_flags |= BDRV_O_INACTIVE;
        bdrv_refresh_perms(bs, NULL);
        return ret;
    }
    /* the peer may have grown the file: ask again when needed (may be in a coroutine) */
    bs->total_size = -1;
    return 0;
}

int bdrv_activate(BlockDriverState *bs, Error **errp)
{
    int ret;

    if (!bs->drv) {
        return 0;
    }
    for (GSList *l = bs->children; l; l = l->next) {
        ret = bdrv_activate(((BdrvChild *)l->data)->bs, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (bdrv_is_inactive(bs)) {
        ret = bdrv_activate_node(bs, errp);
        if (ret < 0) {
            return ret;
        }
    }
    return bdrv_activate_parents(bs, errp);
}

bool bdrv_activate_all(Error **errp)
{
    for (BlockDriverState *bs = bdrv_next_node(NULL); bs; bs = bdrv_next_node(bs)) {
        if (bdrv_activate(bs, errp) < 0) {
            return false;
        }
    }
    return true;
}

/* ---- inactivation ---- */

/* Is a node parent of bs still active? Then bs goes inactive after it. */
static bool bdrv_has_active_node_parent(BlockDriverState *bs)
{
    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->klass->parent_is_bds && !bdrv_is_inactive(c->opaque)) {
            return true;
        }
    }
    return false;
}

static int bdrv_inactivate_node(BlockDriverState *bs)
{
    uint64_t perm, shared;
    int ret;

    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->klass->inactivate && (ret = c->klass->inactivate(c)) < 0) {
            return ret;
        }
    }
    /* a user that still writes (not a device or a node) cannot hand over */
    bdrv_get_cumulative_perm(bs, &perm, &shared);
    if (perm & (BLK_PERM_WRITE | BLK_PERM_WRITE_UNCHANGED)) {
        return -EPERM;
    }
    ret = bdrv_flush(bs);
    if (ret == 0 && bs->drv->inactivate) {
        ret = bs->drv->inactivate(bs);
    }
    if (ret < 0) {
        return ret;
    }
    bs->open_flags |= BDRV_O_INACTIVE;
    /* only loosens what the children hold: cannot fail */
    bdrv_refresh_perms(bs, NULL);
    return 0;
}

static int bdrv_inactivate_recurse(BlockDriverState *bs)
{
    int ret;

    if (!bs->drv || bdrv_has_active_node_parent(bs)) {
        return 0;
    }
    if (!bdrv_is_inactive(bs)) {
        ret = bdrv_inactivate_node(bs);
        if (ret < 0) {
            return ret;
        }
    }
    for (GSList *l = bs->children; l; l = l->next) {
        ret = bdrv_inactivate_recurse(((BdrvChild *)l->data)->bs);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

int bdrv_inactivate_all(void)
{
    for (BlockDriverState *bs = bdrv_next_node(NULL); bs; bs = bdrv_next_node(bs)) {
        int ret = bdrv_inactivate_recurse(bs);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}
