/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block.h: the block graph's public API: open and close nodes, look them up,
 * change the graph, and do I/O on a node (the request layer, block/io.c).
 *
 * Threads: main loop only. Functions with `co` in their name are coroutine_fn;
 * the same names without `co` are blocking wrappers (block/co-wrappers.c) that
 * create a coroutine and poll the main AioContext until it finishes; they may be
 * called from outside coroutine context only (tools, tests, QMP handlers).
 *
 * Node lifetime: bdrv_open() returns a node with one reference; bdrv_unref()
 * drops it. Children and BlockBackends hold references of their own.
 */
#ifndef GODWIT_BLOCK_H
#define GODWIT_BLOCK_H

#include "block/block-common.h"


/* ---- opening ---- */

/*
 * Open a node from a filename and/or options (a flat QDict with dotted keys such as
 * "driver", "file.filename", "backing.node-name"; consumed, i.e. reference taken).
 * filename may be "json:{...}" or a protocol form ("blkdebug:CONF:FILE",
 * "nbd+unix:///exp?socket=S"). Without "driver" the format is probed (raw is the
 * fallback). flags: BDRV_O_*. Common options handled here for every node:
 * node-name, driver, read-only, auto-read-only, cache.direct, cache.no-flush,
 * discard, detect-zeroes, force-share. Errors use QEMU's texts
 * ("Unknown driver 'x'", "Could not open 'f': No such file or directory",
 *  "Block protocol 'file' doesn't support the option 'x'").
 */
BlockDriverState *bdrv_open(const char *filename, const char *reference, QDict *options,
                            int flags, Error **errp);

/* Parse "cache=" mode names: writeback, none/off, writethrough, unsafe, directsync. */
int bdrv_parse_cache_mode(const char *mode, int *flags, bool *writethrough);
/* Parse "discard=" ignore/off, unmap/on. */
int bdrv_parse_discard_flags(const char *mode, int *flags);
/* Parse "aio=" threads, native, io_uring. */
int bdrv_parse_aio(const char *mode, int *flags);

/*
 * Buffers for I/O on bs: aligned to bs->bl.opt_mem_alignment (O_DIRECT needs it).
 * Free with bdrv_blockfree(). blockalign0 zeroes the buffer.
 */
void *bdrv_blockalign(BlockDriverState *bs, size_t size);
void *bdrv_blockalign0(BlockDriverState *bs, size_t size);
void bdrv_blockfree(void *ptr);

void bdrv_ref(BlockDriverState *bs);
void bdrv_unref(BlockDriverState *bs);       /* closes and frees at zero */

/* Create an image: drv->co_create_opts with "-o" options (strings in opts). */
int bdrv_create(const BlockDriver *drv, const char *filename, QDict *opts, Error **errp);
/*
 * Format the open node file with drv (drv->co_create_node, "-o" options as for
 * bdrv_create); "Driver '%s' does not support image creation" without it.
 * Callable from a coroutine (blockdev-create's job) or outside one.
 */
int bdrv_create_node(const BlockDriver *drv, BlockDriverState *file, QDict *opts,
                     Error **errp);
/* Create with the protocol driver for filename ("file"). */
int bdrv_create_file(const char *filename, QDict *opts, Error **errp);

/*
 * Create options ("-o" of qemu-img create/amend, block/create.c).
 * bdrv_create_opts_parse: add the "key=value,key2=value2" items of str (",," is a
 * literal comma) to out as strings; an unknown key fails with
 * "Invalid parameter '%s'". A bare "key" of a bool option means "on".
 * bdrv_create_opts_help: the text for "-o help": "Supported options:\n" then one
 * line per option, sorted: "  name=<type>" padded to column 24 + " - help".
 * Free with g_free.
 */
bool bdrv_create_opts_parse(const CreateOption *opts, const char *str, QDict *out,
                            Error **errp);
char *bdrv_create_opts_help(const CreateOption *opts);

/* ---- lookup ---- */
BlockDriverState *bdrv_find_node(const char *node_name);
/* By BlockBackend name or node name; "Cannot find device=%s nor node-name=%s". */
BlockDriverState *bdrv_lookup_bs(const char *device, const char *node_name, Error **errp);
/* Iterate every node that has a node name (all nodes: auto names count). NULL starts. */
BlockDriverState *bdrv_next_node(BlockDriverState *bs);
const char *bdrv_get_node_name(const BlockDriverState *bs);
const char *bdrv_get_format_name(const BlockDriverState *bs);
/* Name of the BlockBackend this node is root of, or "". */
const char *bdrv_get_device_name(const BlockDriverState *bs);
const char *bdrv_get_device_or_node_name(const BlockDriverState *bs);
bool bdrv_is_read_only(BlockDriverState *bs);
bool bdrv_is_writable(BlockDriverState *bs);
/*
 * Image ownership for shared-storage migration (block/inactive.c). An inactive
 * node (BDRV_O_INACTIVE) belongs to the migration peer: it takes no write or
 * resize lock in its file, writes no metadata, and requests that write fail
 * with -EPERM. Nodes opened while the run state is inmigrate start inactive.
 *
 * bdrv_activate: take bs and every node below it over: children first, each
 *   node takes its locks (QEMU's "Failed to get \"write\" lock" on a conflict,
 *   the node then stays inactive) and drops what it cached; then the parents
 *   (BlockBackends) take their permissions back. No-op on active nodes.
 *   Block exports and block migration's destination activate their own nodes.
 * bdrv_activate_all: every node; the first error is reported.
 * bdrv_inactivate_all: hand every node over (source switch-over): flush,
 *   write out driver metadata, drop write locks. 0 or -errno; nodes already
 *   inactivated stay so (bdrv_activate_all undoes it).
 * bdrv_is_inactive: whether bs is inactive.
 */
int bdrv_activate(BlockDriverState *bs, Error **errp);
bool bdrv_activate_all(Error **errp);
int bdrv_inactivate_all(void);
bool bdrv_is_inactive(BlockDriverState *bs);
int bdrv_get_flags(BlockDriverState *bs);
bool bdrv_is_inserted(BlockDriverState *bs);
int bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi);
/* Recompute bs->filename (json:{...} when no plain filename describes the node). */
void bdrv_refresh_filename(BlockDriverState *bs);

/* ---- chains ---- */
BlockDriverState *bdrv_backing_bs(BlockDriverState *bs);       /* bs->backing->bs or NULL */
BlockDriverState *bdrv_filter_or_cow_bs(BlockDriverState *bs); /* filtered child or backing */
/* The node below bs that is not a filter (skips blkdebug, copy-on-read...). */
BlockDriverState *bdrv_skip_filters(BlockDriverState *bs);
bool bdrv_chain_contains(BlockDriverState *top, BlockDriverState *base);
/* Find a node in the chain below bs by its recorded backing filename. */
BlockDriverState *bdrv_find_backing_image(BlockDriverState *bs, const char *backing_file);
int bdrv_get_backing_file_depth(BlockDriverState *bs);
/* Make backing_hd (may be NULL) the backing child of bs; "would create a cycle" etc. */
int bdrv_set_backing_hd(BlockDriverState *bs, BlockDriverState *backing_hd, Error **errp);
/* Rewrite the backing file name recorded in bs's image header (formats that have one). */
int bdrv_change_backing_file(BlockDriverState *bs, const char *backing_file,
                             const char *backing_fmt, bool require);
/* Make every parent of from point to to instead (job completion, snapshots). */
int bdrv_replace_node(BlockDriverState *from, BlockDriverState *to, Error **errp);
/* Insert a new node (bs_top's parents now see bs_new, whose backing is bs_top). */
int bdrv_append(BlockDriverState *bs_new, BlockDriverState *bs_top, Error **errp);

/* ---- permissions ---- */
/* Re-evaluate permissions of bs's subtree after a parent changed its needs. */
int bdrv_refresh_perms(BlockDriverState *bs, Error **errp);
void bdrv_get_cumulative_perm(BlockDriverState *bs, uint64_t *perm, uint64_t *shared);
/* "consistent read", "write", "write unchanged", "resize" joined with ", " (QEMU's words). */
char *bdrv_perm_names(uint64_t perm);
/* Reopen with different flags (read-only <-> read-write). */
int bdrv_reopen_set_read_only(BlockDriverState *bs, bool read_only, Error **errp);
/*
 * Change read-only, cache.direct, cache.no-flush, discard and detect-zeroes of an
 * open node (cache flags also reach the file children that inherited them);
 * options not given keep their values, any other key is "Cannot change the
 * option '%s'". Takes ownership of options. Main loop only; drains bs.
 */
int bdrv_reopen(BlockDriverState *bs, QDict *options, Error **errp);

/* ---- corruption reports (BLOCK_IMAGE_CORRUPTED) ---- */
/*
 * A format driver found its image corrupt: msg, and the metadata range
 * (offset/size < 0: unknown); fatal when the image is now marked corrupt and
 * refuses writes. The monitor installs the hook that sends the event.
 */
typedef void BlockCorruptionHook(BlockDriverState *bs, const char *msg, int64_t offset,
                                 int64_t size, bool fatal);
void bdrv_set_corruption_hook(BlockCorruptionHook *hook);
void bdrv_report_corruption(BlockDriverState *bs, const char *msg, int64_t offset,
                            int64_t size, bool fatal);

/* ---- op blockers ("Node 'x' is busy: ...") ---- */
void bdrv_op_block_all(BlockDriverState *bs, Error *reason);   /* reason: not consumed */
void bdrv_op_unblock_all(BlockDriverState *bs, Error *reason);
bool bdrv_op_is_blocked(BlockDriverState *bs, Error **errp);

/* ---- drain: no request in flight on bs (and its parents stop sending) ---- */
void bdrv_drained_begin(BlockDriverState *bs);
void bdrv_drained_end(BlockDriverState *bs);
void bdrv_drain_all_begin(void);
void bdrv_drain_all_end(void);
void bdrv_drain_all(void);
/* Close every node with no users left, flush all; at exit. */
void bdrv_close_all(void);
int bdrv_flush_all(void);

/* ---- the request layer (block/io.c); offsets and lengths in bytes ---- */
int coroutine_fn bdrv_co_preadv(BdrvChild *child, int64_t offset, int64_t bytes,
                                QEMUIOVector *qiov, BdrvRequestFlags flags);
int coroutine_fn bdrv_co_preadv_part(BdrvChild *child, int64_t offset, int64_t bytes,
                                     QEMUIOVector *qiov, size_t qiov_offset,
                                     BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwritev(BdrvChild *child, int64_t offset, int64_t bytes,
                                 QEMUIOVector *qiov, BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwritev_part(BdrvChild *child, int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov, size_t qiov_offset,
                                      BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwrite_zeroes(BdrvChild *child, int64_t offset, int64_t bytes,
                                       BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pdiscard(BdrvChild *child, int64_t offset, int64_t bytes);
int coroutine_fn bdrv_co_flush(BlockDriverState *bs);
int coroutine_fn bdrv_co_truncate(BdrvChild *child, int64_t offset, bool exact,
                                  PreallocMode prealloc, BdrvRequestFlags flags, Error **errp);
int64_t coroutine_fn bdrv_co_getlength(BlockDriverState *bs);
int64_t coroutine_fn bdrv_co_get_allocated_file_size(BlockDriverState *bs);
/* Convenience for format drivers: read/write a flat buffer through a child. */
int coroutine_fn bdrv_co_pread(BdrvChild *child, int64_t offset, int64_t bytes, void *buf,
                               BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwrite(BdrvChild *child, int64_t offset, int64_t bytes,
                                const void *buf, BdrvRequestFlags flags);
/* Block status of one node (see BlockDriver.co_block_status); *pnum > 0 unless at EOF. */
int coroutine_fn bdrv_co_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      int64_t *pnum, int64_t *map, BlockDriverState **file);
/*
 * Status through the chain from bs down to (not including) base: ZERO/DATA as a
 * reader of bs sees them; ALLOCATED if some node above base provides the range.
 * *depth (may be NULL) = how many nodes down the content came from (1 = bs).
 */
int coroutine_fn bdrv_co_block_status_above(BlockDriverState *bs, BlockDriverState *base,
                                            bool want_zero, int64_t offset, int64_t bytes,
                                            int64_t *pnum, int64_t *map,
                                            BlockDriverState **file, int *depth);
/* 1 if [offset, offset+*pnum) is allocated in bs itself, 0 if not; -errno. */
int coroutine_fn bdrv_co_is_allocated(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                      int64_t *pnum);
int coroutine_fn bdrv_co_is_allocated_above(BlockDriverState *top, BlockDriverState *base,
                                            bool include_base, int64_t offset, int64_t bytes,
                                            int64_t *pnum);
int coroutine_fn bdrv_co_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix);

/* Blocking wrappers (block/co-wrappers.c): same semantics, outside coroutines. */
int bdrv_pread(BdrvChild *child, int64_t offset, int64_t bytes, void *buf, BdrvRequestFlags flags);
int bdrv_pwrite(BdrvChild *child, int64_t offset, int64_t bytes, const void *buf,
                BdrvRequestFlags flags);
int bdrv_pwrite_zeroes(BdrvChild *child, int64_t offset, int64_t bytes, BdrvRequestFlags flags);
int bdrv_flush(BlockDriverState *bs);
int bdrv_truncate(BdrvChild *child, int64_t offset, bool exact, PreallocMode prealloc,
                  BdrvRequestFlags flags, Error **errp);
int64_t bdrv_getlength(BlockDriverState *bs);
int64_t bdrv_get_allocated_file_size(BlockDriverState *bs);
int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                      int64_t *map, BlockDriverState **file);
int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base, int64_t offset,
                            int64_t bytes, int64_t *pnum, int64_t *map,
                            BlockDriverState **file, int *depth);
int bdrv_is_allocated(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum);
int bdrv_is_allocated_above(BlockDriverState *top, BlockDriverState *base, bool include_base,
                            int64_t offset, int64_t bytes, int64_t *pnum);
int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix);

/* Debugging hooks for qemu-io's break/resume/wait_break (blkdebug). */
int bdrv_debug_breakpoint(BlockDriverState *bs, const char *event, const char *tag);
int bdrv_debug_remove_breakpoint(BlockDriverState *bs, const char *tag);
int bdrv_debug_resume(BlockDriverState *bs, const char *tag);
bool bdrv_debug_is_suspended(BlockDriverState *bs, const char *tag);

/* Node-level copy-on-read (counted). */
void bdrv_enable_copy_on_read(BlockDriverState *bs);
void bdrv_disable_copy_on_read(BlockDriverState *bs);

#endif /* GODWIT_BLOCK_H */
