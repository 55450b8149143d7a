/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * filter.h: filter nodes, the nodes a block job puts above the node it works on
 * while it runs (mirror_top, commit_top, copy-on-read, copy-before-write), and the
 * passthrough callbacks those drivers share (block/filters/).
 *
 * A filter has exactly one filtered child; every request, the length, the block
 * status and the allocation go to that child unchanged, so a guest device above
 * the filter keeps working. mirror_top and commit_top hold the child as "backing"
 * (so chain walks with bdrv_backing_bs() still see the node below), copy-on-read
 * and copy-before-write as "file" (as blockdev-add opens them). Main loop only.
 */
#ifndef GODWIT_BLOCK_FILTER_H
#define GODWIT_BLOCK_FILTER_H

#include "block/block.h"
#include "block/block-int.h"

extern const BlockDriver bdrv_mirror_top;
extern const BlockDriver bdrv_commit_top;
extern const BlockDriver bdrv_copy_on_read;
extern const BlockDriver bdrv_copy_before_write;

/*
 * Put a new node of driver drv above bs: the new node filters bs, and every
 * parent of bs (device, overlay, other filters) is moved to it (bdrv_replace_node).
 * node_name NULL: an automatic "#blockNNN" name, and the node is implicit
 * (query-block looks through it). The node is read-only when bs is. Returns the
 * filter with one reference that belongs to the caller (bdrv_filter_drop it),
 * or NULL + errp with nothing changed.
 */
BlockDriverState *bdrv_filter_insert(const BlockDriver *drv, BlockDriverState *bs,
                                     const char *node_name, Error **errp);

/*
 * Take *filter out of the graph: its parents go back to the node it filters,
 * then the caller's reference is dropped and *filter set to NULL. Safe with
 * *filter NULL, and when the filter has no parents left.
 */
void bdrv_filter_drop(BlockDriverState **filter);

/* ---- passthrough callbacks for filter drivers (bs->file or bs->backing) ---- */
BdrvChild *bdrv_filter_child(BlockDriverState *bs);
int coroutine_fn bdrv_filter_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags);
int coroutine_fn bdrv_filter_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset,
                                        BdrvRequestFlags flags);
int coroutine_fn bdrv_filter_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                              int64_t bytes, BdrvRequestFlags flags);
int coroutine_fn bdrv_filter_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes);
int coroutine_fn bdrv_filter_co_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                                         PreallocMode prealloc, BdrvRequestFlags flags,
                                         Error **errp);
int64_t coroutine_fn bdrv_filter_co_get_allocated_file_size(BlockDriverState *bs);
/* Parents' needs pass straight through to the filtered child. */
void bdrv_filter_child_perm(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                            uint64_t perm, uint64_t shared, uint64_t *nperm,
                            uint64_t *nshared);
/* The filter is named after its child ("top.qcow2"), as QEMU's job filters are. */
void bdrv_filter_refresh_filename(BlockDriverState *bs);

/* ---- copy-on-read ---- */
/*
 * Only data above bottom (exclusive of what bottom's backing chain holds) is
 * copied up; NULL: everything the child reads from its backing chain. For
 * block-stream with a base.
 */
void cor_filter_set_bottom(BlockDriverState *cor, BlockDriverState *bottom);

/* ---- copy-before-write ---- */
/*
 * The backup job's copy-before-write: hook->notify runs on every write, zero-write
 * and discard through the filter before it reaches the source; -errno fails the
 * guest's request. A filter opened with blockdev-add ("target") has its own hook;
 * one inserted for a backup job gets the job's. NULL removes it.
 */
void cbw_filter_set_hook(BlockDriverState *cbw, BdrvWriteNotifier *hook);

#endif /* GODWIT_BLOCK_FILTER_H */
