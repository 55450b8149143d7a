/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-core.h: private glue between the files of the block core (graph.c,
 * open.c, perm.c, io.c, block-status.c, block-backend.c). Not for drivers.
 *
 * Threads: main loop only, like the graph itself.
 */
#ifndef GODWIT_BLOCK_CORE_H
#define GODWIT_BLOCK_CORE_H

#include "block/block-int.h"
#include "block/block.h"

/* ---- graph.c ---- */
/* A fresh node: no driver, one reference, not yet in the node list. */
BlockDriverState *bdrv_new(void);
/* Name bs (user's name, or "#blockNNN" if NULL) and list it; QEMU's errors. */
bool bdrv_assign_node_name(BlockDriverState *bs, const char *node_name, Error **errp);
/* The edge class of a node parent (format -> file, overlay -> backing). */
extern const BdrvChildClass child_of_bds;
/*
 * Attach child_bs under a parent of any kind with an explicit permission request.
 * Takes a new reference on child_bs; on failure nothing changed.
 */
BdrvChild *bdrv_root_attach_child(BlockDriverState *child_bs, const char *child_name,
                                  const BdrvChildClass *klass, BdrvChildRole role,
                                  uint64_t perm, uint64_t shared, void *opaque,
                                  Error **errp);
/* Detach and free the edge, drop its reference, refresh permissions below. */
void bdrv_root_unref_child(BdrvChild *child);

/* Drain plumbing for one edge (nesting counted in c->parent_quiesce_counter). */
void bdrv_parent_drained_begin_single(BdrvChild *c);
void bdrv_parent_drained_end_single(BdrvChild *c);
/* Does bs, or any user above it, still have requests in flight? */
bool bdrv_drain_poll(BlockDriverState *bs);

/* ---- open.c ---- */
/* Free bs->options and bs->explicit_options (at close). */
void bdrv_release_options(BlockDriverState *bs);
/*
 * Open one node (with its children). parent/role are set when opening a child
 * (flags and weak options are inherited). options is consumed.
 */
BlockDriverState *bdrv_open_inherit(const char *filename, const char *reference,
                                    QDict *options, int flags, BlockDriverState *parent,
                                    BdrvChildRole role, Error **errp);

/* ---- perm.c ---- */
/* The (perm, shared) a parent node bs wants on its child c, given bs's own use. */
void bdrv_child_perm(BlockDriverState *bs, BdrvChild *c, uint64_t perm, uint64_t shared,
                     uint64_t *nperm, uint64_t *nshared);
/*
 * Set c's request to (perm, shared) and update the subtree below it; on a
 * conflict restore everything and fail with QEMU's message.
 */
int bdrv_child_try_set_perm(BdrvChild *c, uint64_t perm, uint64_t shared, Error **errp);
/* Recompute the subtree of every node in list (BlockDriverState *). */
int bdrv_refresh_perms_list(GSList *list, Error **errp);
/* "node 'x'", "block device 'y'", "unnamed block device": who holds edge c. */
char *bdrv_child_user_desc(BdrvChild *c);

/* ---- io.c ---- */
void bdrv_inc_in_flight(BlockDriverState *bs);
void bdrv_dec_in_flight(BlockDriverState *bs);
/* Recompute bs->bl from the driver and the children (after open and graph changes). */
void bdrv_refresh_limits(BlockDriverState *bs, Error **errp);
/* Drop the cached length and ask the driver again. */
int64_t bdrv_refresh_total_size(BlockDriverState *bs);

/* ---- block-backend.c ---- */
/* Name of the backend whose root is bs, or NULL. */
const char *blk_name_of_bs(const BlockDriverState *bs);
bool blk_name_taken(const char *name);
/* Detach every backend's root (bdrv_close_all). */
void blk_remove_all_bs(void);

#endif /* GODWIT_BLOCK_CORE_H */
