/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-posix.h: private to block/drivers/. The interface between the "file"
 * protocol driver (file-posix.c) and its I/O back ends, plus the image-locking
 * helpers that the driver and its unit test share.
 *
 * A back end moves bytes between a file descriptor and an iovec array; nothing
 * else. Flush, fallocate, truncate and lseek always go through the thread pool
 * in file-posix.c, whatever aio= says (QEMU does the same for everything but
 * flush; fdatasync is not worth a second code path).
 *
 * Threads: a back end belongs to one AioContext (the main loop's in v1). Its
 * completion handler runs there, outside coroutine context, and wakes the
 * submitting coroutine with aio_co_wake(). co_rw is coroutine_fn and yields until
 * the kernel has finished the one submission it makes.
 */
#ifndef GODWIT_BLOCK_FILE_POSIX_H
#define GODWIT_BLOCK_FILE_POSIX_H

#include "block/block-int.h"
#include "util/aio.h"

typedef enum FileAioType {
    FILE_AIO_THREADS,           /* aio=threads: preadv/pwritev on pool workers */
    FILE_AIO_NATIVE,            /* aio=native: libaio io_submit + eventfd */
    FILE_AIO_IO_URING,          /* aio=io_uring: liburing ring + eventfd */
    FILE_AIO__MAX,
} FileAioType;

typedef struct FileBackend FileBackend;   /* each back end's private state */

typedef struct FileBackendOps {
    const char *name;           /* the aio= value */
    /*
     * Set up for I/O in ctx. NULL with errp set if the kernel refuses (no
     * io_uring support, io_setup limits).
     */
    FileBackend *(*init)(AioContext *ctx, Error **errp);
    /* Tear down; no request may be in flight. */
    void (*cleanup)(FileBackend *be);
    /*
     * One read or write of iov[0..niov) at offset. Returns the bytes the kernel
     * transferred (which may be short: the caller resubmits the rest or, for a
     * read at end of file, zero-fills it) or -errno. The iovecs and the buffers
     * must stay valid until it returns.
     */
    int64_t coroutine_fn (*co_rw)(FileBackend *be, int fd, int64_t offset,
                                  struct iovec *iov, int niov, bool is_write);
} FileBackendOps;

extern const FileBackendOps file_backend_threads;
#ifdef CONFIG_LINUX_AIO
extern const FileBackendOps file_backend_linux_aio;
#endif
#ifdef CONFIG_IO_URING
extern const FileBackendOps file_backend_io_uring;
#endif

/* The back end for aio=type; NULL (errp set) if this build lacks it. */
const FileBackendOps *file_backend_get(FileAioType type, Error **errp);

/*
 * Read or write all of qiov at offset through be: resubmits short transfers,
 * zero-fills reads past end of file, turns a write that makes no progress into
 * -ENOSPC. 0 or -errno.
 */
int coroutine_fn file_backend_co_rw_full(const FileBackendOps *ops, FileBackend *be, int fd,
                                         int64_t offset, QEMUIOVector *qiov, bool is_write);

/*
 * Image locking, interoperable with QEMU: a process holding permission bit i
 * (BLK_PERM_*: bit 0 consistent read, 1 write, 2 write unchanged, 3 resize)
 * holds a shared OFD read lock on byte FILE_LOCK_PERM_BASE + i; a process that
 * does not share bit i holds one on byte FILE_LOCK_SHARED_BASE + i. Taking perm i
 * conflicts with anybody else's lock on SHARED_BASE + i, and not sharing i with
 * anybody else's lock on PERM_BASE + i. OFD locks belong to the open file
 * description, so two opens in one process exclude each other too.
 */
#define FILE_LOCK_PERM_BASE   100
#define FILE_LOCK_SHARED_BASE 200

/*
 * Make fd hold exactly the locks for (perm, shared) and check that nobody else
 * conflicts. old_perm/old_shared are what fd holds now (0 / BLK_PERM_ALL when it
 * holds nothing). On a conflict, fd is put back to the old locks and errp gets
 * QEMU's text: 'Failed to get "write" lock' or 'Failed to get shared "write" lock'
 * with the hint 'Is another process using the image [FILENAME]?'. 0 or -errno.
 */
int file_lock_update(int fd, const char *filename, uint64_t old_perm, uint64_t old_shared,
                     uint64_t perm, uint64_t shared, Error **errp);
/* Drop every lock byte fd holds (at close, or when locking is switched off). */
void file_lock_release(int fd);

/*
 * The steps file_lock_update is made of, for the driver's two-phase permission
 * callbacks: apply = change fd's bytes from (old_perm, old_shared) to (perm,
 * shared) without checking others; check = fail with QEMU's text if another open
 * file description conflicts with (perm, shared); set_all = best-effort rollback.
 */
int file_lock_apply(int fd, uint64_t old_perm, uint64_t old_shared, uint64_t perm,
                    uint64_t shared, Error **errp);
int file_lock_check(int fd, const char *filename, uint64_t perm, uint64_t shared,
                    Error **errp);
void file_lock_set_all(int fd, uint64_t perm, uint64_t shared);

#endif /* GODWIT_BLOCK_FILE_POSIX_H */
