/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-backend.h: BlockBackend, the device-facing handle on a block graph. Every
 * user of block I/O goes through one: virtio-blk, block jobs, NBD exports, the
 * tools (godwit-io, godwit-img) and the monitor's named drives (-drive id=X).
 *
 * A BlockBackend holds one root edge (BdrvChild "root") to a node with the
 * permissions it asked for, counts its requests in flight (drain waits for them),
 * checks ranges (I/O beyond the end fails with -EIO unless allowed), applies the
 * rerror/werror policy and keeps the io-status. A named BlockBackend is what QMP
 * calls a "device".
 *
 * Threads: main loop only. `co` functions are coroutine_fn; the others block
 * (poll the main loop) and must not be called from a coroutine.
 */
#ifndef GODWIT_BLOCK_BACKEND_H
#define GODWIT_BLOCK_BACKEND_H

#include "block/block.h"

typedef struct BlockAIOCB BlockAIOCB;
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef enum BlockDeviceIoStatus {
    BLOCK_DEVICE_IO_STATUS_OK,
    BLOCK_DEVICE_IO_STATUS_FAILED,
    BLOCK_DEVICE_IO_STATUS_NOSPACE,
    BLOCK_DEVICE_IO_STATUS__MAX,      /* QAPI's BlockDeviceIoStatus (block-core.json) */
} BlockDeviceIoStatus;

/* A backend with no node yet that will ask for perm and share shared_perm. */
BlockBackend *blk_new(uint64_t perm, uint64_t shared_perm);
/*
 * Open a graph (bdrv_open) and a backend on it in one go: the tools' way.
 * Takes the permissions that flags imply: consistent read always, write if
 * BDRV_O_RDWR, resize if BDRV_O_RESIZE; shares everything unless BDRV_O_NO_SHARE
 * (then only consistent read and write-unchanged; tools pass it unless -U, so a
 * second user that writes conflicts) or the options say force-share=on.
 * NULL with errp set on failure.
 */
BlockBackend *blk_new_open(const char *filename, const char *reference, QDict *options,
                           int flags, Error **errp);
void blk_ref(BlockBackend *blk);
void blk_unref(BlockBackend *blk);      /* drains, detaches the root, frees at zero */

/* Attach bs as the root (takes a reference); permission conflicts fail here. */
int blk_insert_bs(BlockBackend *blk, BlockDriverState *bs, Error **errp);
void blk_remove_bs(BlockBackend *blk);
BlockDriverState *blk_bs(BlockBackend *blk);
BdrvChild *blk_root(BlockBackend *blk);
int blk_set_perm(BlockBackend *blk, uint64_t perm, uint64_t shared_perm, Error **errp);
void blk_get_perm(BlockBackend *blk, uint64_t *perm, uint64_t *shared_perm);

/* ---- names: a named backend is a monitor "device" ---- */
bool blk_set_name(BlockBackend *blk, const char *name, Error **errp);  /* "Duplicate ID" */
const char *blk_name(const BlockBackend *blk);      /* "" if unnamed */
BlockBackend *blk_by_name(const char *name);
BlockBackend *blk_next(BlockBackend *blk);          /* all backends, NULL starts */
BlockBackend *blk_by_public(BlockDriverState *bs);  /* backend whose root is bs, or NULL */
/* QEMU's bdrv_is_root_node(): every parent of bs is a BlockBackend. */
bool bdrv_is_root_node(BlockDriverState *bs);

/* ---- behaviour ---- */
void blk_set_allow_write_beyond_eof(BlockBackend *blk, bool allow);
void blk_set_enable_write_cache(BlockBackend *blk, bool wce);   /* false: every write FUA */
bool blk_enable_write_cache(BlockBackend *blk);
bool blk_is_read_only(BlockBackend *blk);
bool blk_is_inserted(BlockBackend *blk);
void blk_set_on_error(BlockBackend *blk, BlockdevOnError on_read_error,
                      BlockdevOnError on_write_error);
BlockdevOnError blk_get_on_error(BlockBackend *blk, bool is_read);
/* Which action the policy asks for after error (positive errno) on a read/write. */
BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read, int error);
/* Record the action: io-status update, BLOCK_IO_ERROR via the hook below. */
void blk_error_action(BlockBackend *blk, BlockErrorAction action, bool is_read, int error);
BlockDeviceIoStatus blk_iostatus(BlockBackend *blk);
void blk_iostatus_reset(BlockBackend *blk);
/* Who is told about I/O errors (the monitor sets this to emit BLOCK_IO_ERROR). */
typedef void BlockIoErrorHook(BlockBackend *blk, bool is_read, BlockErrorAction action,
                              int error);
void blk_set_io_error_hook(BlockIoErrorHook *hook);

/* ---- device attachment (query-block's qdev / "Attached to:") ---- */
void blk_set_dev_path(BlockBackend *blk, const char *qdev_path);  /* NULL detaches */
const char *blk_get_dev_path(BlockBackend *blk);

/* ---- I/O ---- */
int coroutine_fn blk_co_preadv(BlockBackend *blk, int64_t offset, int64_t bytes,
                               QEMUIOVector *qiov, BdrvRequestFlags flags);
int coroutine_fn blk_co_pwritev(BlockBackend *blk, int64_t offset, int64_t bytes,
                                QEMUIOVector *qiov, BdrvRequestFlags flags);
int coroutine_fn blk_co_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf,
                              BdrvRequestFlags flags);
int coroutine_fn blk_co_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes,
                               const void *buf, BdrvRequestFlags flags);
int coroutine_fn blk_co_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                                      BdrvRequestFlags flags);
int coroutine_fn blk_co_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes);
int coroutine_fn blk_co_flush(BlockBackend *blk);
int coroutine_fn blk_co_truncate(BlockBackend *blk, int64_t offset, bool exact,
                                 PreallocMode prealloc, BdrvRequestFlags flags, Error **errp);
int64_t coroutine_fn blk_co_getlength(BlockBackend *blk);

/* Blocking forms (tools, tests, QMP handlers): return bytes >= 0 / 0 or -errno. */
int blk_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf,
              BdrvRequestFlags flags);
int blk_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes, const void *buf,
               BdrvRequestFlags flags);
int blk_preadv(BlockBackend *blk, int64_t offset, int64_t bytes, QEMUIOVector *qiov,
               BdrvRequestFlags flags);
int blk_pwritev(BlockBackend *blk, int64_t offset, int64_t bytes, QEMUIOVector *qiov,
                BdrvRequestFlags flags);
int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, BdrvRequestFlags flags);
int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes);
int blk_flush(BlockBackend *blk);
int blk_truncate(BlockBackend *blk, int64_t offset, bool exact, PreallocMode prealloc,
                 BdrvRequestFlags flags, Error **errp);
int64_t blk_getlength(BlockBackend *blk);

/*
 * Asynchronous forms: start a coroutine for the request and call cb(opaque, ret)
 * in the main loop thread when it completes (never before returning). qemu-io's
 * aio_* commands, the benchmark and devices use them. The qiov must stay valid
 * until cb. cb may run inside the request's coroutine (as QEMU's does), so it may
 * start further requests but must not poll (no blocking blk_ or bdrv_ calls).
 */
BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset, QEMUIOVector *qiov,
                           BdrvRequestFlags flags, BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset, QEMUIOVector *qiov,
                            BdrvRequestFlags flags, BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                                  BdrvRequestFlags flags, BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                             BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);

/* ---- drain ---- */
void blk_drain(BlockBackend *blk);      /* wait until this backend has nothing in flight */
void blk_drain_all(void);
unsigned blk_in_flight(BlockBackend *blk);

#endif /* GODWIT_BLOCK_BACKEND_H */
