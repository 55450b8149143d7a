/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-posix.c: the "file" and "host_device" protocol drivers: an image that is
 * a regular file (or a block device) on the host.
 *
 * Reads and writes go through the back end that aio= picks (file-posix.h:
 * threads, native, io_uring). Everything else that may block (fdatasync,
 * fallocate, ftruncate, the open and create of new files) runs on the thread
 * pool, so a coroutine never blocks; only lseek(SEEK_DATA/SEEK_HOLE) and fstat
 * run inline, as they do not wait for the disk.
 *
 * cache.direct=on (BDRV_O_NOCACHE) opens with O_DIRECT. The kernel then wants
 * offsets, lengths and buffers aligned; we learn the alignments from statx()
 * (STATX_DIOALIGN) or, on older kernels, by trying reads, and publish them in
 * bs->bl so io.c pads requests. Buffers that still arrive misaligned are
 * bounced here.
 *
 * Image locking is QEMU's byte-range scheme (see file-posix.h), so Godwit and
 * QEMU processes exclude each other on the same image.
 */
#include "util/osdep.h"
#include "util/thread-pool.h"
#include "qobject/qdict.h"
#include "block/drivers/file-posix.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/falloc.h>
#include <linux/fs.h>

typedef enum FileLockMode {
    FILE_LOCK_AUTO,
    FILE_LOCK_ON,
    FILE_LOCK_OFF,
} FileLockMode;

/*
 * Private state of a file node (bs->opaque). Main loop thread only; set at open
 * except the fd and open flags (reopen) and the lock fields (permission updates).
 */
typedef struct BDRVFileState {
    int fd;
    int open_flags;                 /* O_* the fd was opened with */
    bool is_regular;                /* "file"; false for "host_device" */
    bool direct;                    /* O_DIRECT */
    uint32_t request_alignment;     /* O_DIRECT: offset and length granularity */
    size_t buf_align;               /* O_DIRECT: buffer address granularity */
    FileAioType aio;
    const FileBackendOps *ops;
    FileBackend *be;
    bool use_lock;
    uint64_t locked_perm;           /* what fd holds now */
    uint64_t locked_shared;
    char *filename;
} BDRVFileState;

static const char *const prealloc_names[PREALLOC_MODE__MAX] = {
    [PREALLOC_MODE_OFF]      = "off",
    [PREALLOC_MODE_METADATA] = "metadata",
    [PREALLOC_MODE_FALLOC]   = "falloc",
    [PREALLOC_MODE_FULL]     = "full",
};

static const char *const aio_names[FILE_AIO__MAX] = {
    [FILE_AIO_THREADS]  = "threads",
    [FILE_AIO_NATIVE]   = "native",
    [FILE_AIO_IO_URING] = "io_uring",
};

static const char *const lock_names[] = {
    [FILE_LOCK_AUTO] = "auto",
    [FILE_LOCK_ON]   = "on",
    [FILE_LOCK_OFF]  = "off",
};

/* Index of value in names[0..n), or def when value is NULL; -1 + errp if unknown. */
static int file_parse_enum(const char *value, const char *const *names, int n, int def,
                           Error **errp)
{
    if (!value) {
        return def;
    }
    for (int i = 0; i < n; i++) {
        if (names[i] && !strcmp(value, names[i])) {
            return i;
        }
    }
    error_setg(errp, "invalid parameter value: %s", value);   /* QEMU's enum text */
    return -1;
}

/* ---------------------------------------------------------------------------
 * Back ends
 */

const FileBackendOps *file_backend_get(FileAioType type, Error **errp)
{
    switch (type) {
    case FILE_AIO_THREADS:
        return &file_backend_threads;
    case FILE_AIO_NATIVE:
#ifdef CONFIG_LINUX_AIO
        return &file_backend_linux_aio;
#else
        error_setg(errp, "aio=native was specified, but is not supported in this build.");
        return NULL;
#endif
    case FILE_AIO_IO_URING:
#ifdef CONFIG_IO_URING
        return &file_backend_io_uring;
#else
        error_setg(errp, "aio=io_uring was specified, but is not supported in this build.");
        return NULL;
#endif
    default:
        g_assert_not_reached();
    }
}

int coroutine_fn file_backend_co_rw_full(const FileBackendOps *ops, FileBackend *be, int fd,
                                         int64_t offset, QEMUIOVector *qiov, bool is_write)
{
    size_t done = 0;

    while (done < qiov->size) {
        QEMUIOVector rest;
        int64_t n;

        if (done == 0) {
            n = ops->co_rw(be, fd, offset, qiov->iov, qiov->niov, is_write);
        } else {
            qemu_iovec_init_slice(&rest, qiov, done, qiov->size - done);
            n = ops->co_rw(be, fd, offset + done, rest.iov, rest.niov, is_write);
            qemu_iovec_destroy(&rest);
        }
        if (n > 0) {
            done += n;
            continue;
        }
        if (is_write) {
            return n < 0 ? (int)n : -ENOSPC;
        }
        /*
         * End of file: the rest reads as zeroes (images need not end on a
         * request_alignment boundary). With O_DIRECT, the retry after a short
         * read starts unaligned and fails with EINVAL: that is end of file too.
         */
        if (n == 0 || (n == -EINVAL && done > 0)) {
            qemu_iovec_memset(qiov, done, 0, qiov->size - done);
            return 0;
        }
        return (int)n;
    }
    return 0;
}


/*
 * The driver's side of the permission system (block-int.h): check_perm holds the
 * union of the old and new locks and checks the new ones; set_perm commits to
 * the new; abort_perm_update goes back to the old. force-share and locking=off
 * nodes never lock. An inactive node (migration peer owns the image) keeps what
 * it holds, as QEMU's: nothing when opened inactive, the read lock on a source
 * that handed over.
 */
static bool file_locking(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;

    return s->use_lock && !bs->force_share && !(bs->open_flags & BDRV_O_INACTIVE);
}

static int file_check_perm(BlockDriverState *bs, uint64_t perm, uint64_t shared, Error **errp)
{
    BDRVFileState *s = bs->opaque;

    if (!file_locking(bs)) {
        return 0;
    }
    uint64_t held_perm = s->locked_perm | perm;
    uint64_t held_shared = s->locked_shared & shared;
    int ret = file_lock_apply(s->fd, s->locked_perm, s->locked_shared, held_perm, held_shared,
                              errp);
    if (ret == 0) {
        ret = file_lock_check(s->fd, s->filename, perm, shared, errp);
    }
    if (ret < 0) {
        file_lock_set_all(s->fd, s->locked_perm, s->locked_shared);
    }
    return ret;
}

static void file_set_perm(BlockDriverState *bs, uint64_t perm, uint64_t shared)
{
    BDRVFileState *s = bs->opaque;

    if (!file_locking(bs)) {
        return;
    }
    file_lock_set_all(s->fd, perm, shared);
    s->locked_perm = bs->locked_perm = perm;
    s->locked_shared = bs->locked_shared_perm = shared;
}

static void file_abort_perm_update(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;

    if (file_locking(bs)) {
        file_lock_set_all(s->fd, s->locked_perm, s->locked_shared);
    }
}

/* ---------------------------------------------------------------------------
 * Work for the thread pool: every call here may block on the disk.
 */

typedef struct FilePoolOp {
    int fd;
    int64_t offset;
    int64_t bytes;
    BdrvRequestFlags flags;
    bool is_regular;
} FilePoolOp;

static int file_do_fallocate(int fd, int mode, int64_t offset, int64_t bytes)
{
    int ret;

    do {
        ret = fallocate(fd, mode, offset, bytes);
    } while (ret < 0 && errno == EINTR);
    if (ret == 0) {
        return 0;
    }
    return (errno == EOPNOTSUPP || errno == ENOSYS) ? -ENOTSUP : -errno;
}

static int file_pool_flush(void *opaque)
{
    FilePoolOp *op = opaque;

    return fdatasync(op->fd) < 0 ? -errno : 0;
}

static int file_pool_discard(void *opaque)
{
    FilePoolOp *op = opaque;

    if (!op->is_regular) {
        uint64_t range[2] = { op->offset, op->bytes };
        return ioctl(op->fd, BLKDISCARD, range) < 0 ? -ENOTSUP : 0;
    }
    return file_do_fallocate(op->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                             op->offset, op->bytes);
}

static int file_pool_write_zeroes(void *opaque)
{
    FilePoolOp *op = opaque;
    int ret;

    if (!op->is_regular) {
        uint64_t range[2] = { op->offset, op->bytes };
        if (op->flags & BDRV_REQ_MAY_UNMAP) {
            return -ENOTSUP;
        }
        return ioctl(op->fd, BLKZEROOUT, range) < 0 ? -ENOTSUP : 0;
    }
    if (op->flags & BDRV_REQ_MAY_UNMAP) {
        struct stat st;
        /* A hole reads as zeroes; punching never extends the file, so grow it. */
        ret = file_do_fallocate(op->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                op->offset, op->bytes);
        if (ret == 0 && fstat(op->fd, &st) == 0 && st.st_size < op->offset + op->bytes) {
            ret = ftruncate(op->fd, op->offset + op->bytes) < 0 ? -errno : 0;
        }
        if (ret != -ENOTSUP) {
            return ret;
        }
    }
    ret = file_do_fallocate(op->fd, FALLOC_FL_ZERO_RANGE, op->offset, op->bytes);
    if (ret != -ENOTSUP) {
        return ret;
    }
    /* No ZERO_RANGE (e.g. tmpfs): punch, then allocate the range again. */
    ret = file_do_fallocate(op->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                            op->offset, op->bytes);
    if (ret == 0) {
        ret = file_do_fallocate(op->fd, 0, op->offset, op->bytes);
    }
    return ret;
}

/* Truncate, as a pool job; stage tells the caller which step failed. */
typedef struct FileTruncateOp {
    int fd;
    int64_t offset;
    PreallocMode prealloc;
    const char *stage;              /* error text of the failing step */
} FileTruncateOp;

static int file_write_zeroes_full(int fd, int64_t from, int64_t to)
{
    const size_t chunk = 1 * MiB;
    g_autofree void *buf = g_malloc0(chunk);

    while (from < to) {
        ssize_t n = pwrite(fd, buf, MIN((int64_t)chunk, to - from), from);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -ENOSPC;
        }
        from += n;
    }
    return fsync(fd) < 0 ? -errno : 0;
}

/*
 * Growing an empty file also writes zeroes over its first block, as QEMU does:
 * alignment probing of a later O_DIRECT open then reads allocated blocks, and
 * `map` of a fresh image shows that block as data. Failures are ignored.
 */
static void file_allocate_first_block(int fd, int64_t new_size)
{
    size_t len = new_size < 4096 ? BDRV_SECTOR_SIZE : 4096;
    void *buf;
    ssize_t n;

    /* aligned for an O_DIRECT fd */
    if (posix_memalign(&buf, MAX(4096, qemu_real_host_page_size()), len)) {
        return;
    }
    memset(buf, 0, len);
    do {
        n = pwrite(fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    free(buf);
}

static int file_pool_truncate(void *opaque)
{
    FileTruncateOp *op = opaque;
    struct stat st;
    int ret;

    if (fstat(op->fd, &st) < 0) {
        op->stage = "Could not stat file";
        return -errno;
    }
    if (op->offset < st.st_size && op->prealloc != PREALLOC_MODE_OFF) {
        op->stage = "Cannot use preallocation for shrinking files";
        return -ENOTSUP;
    }
    switch (op->prealloc) {
    case PREALLOC_MODE_OFF:
        op->stage = "Could not resize file";
        if (ftruncate(op->fd, op->offset) < 0) {
            return -errno;
        }
        if (st.st_size == 0 && op->offset > 0) {
            file_allocate_first_block(op->fd, op->offset);
        }
        return 0;
    case PREALLOC_MODE_FALLOC:
        op->stage = "Could not preallocate new data";
        if (op->offset == st.st_size) {
            return 0;
        }
        ret = posix_fallocate(op->fd, st.st_size, op->offset - st.st_size);
        if (ret == 0 && st.st_size == 0) {
            file_allocate_first_block(op->fd, op->offset);
        }
        return -ret;
    case PREALLOC_MODE_FULL:
        op->stage = "Could not resize file";
        if (ftruncate(op->fd, op->offset) < 0) {
            return -errno;
        }
        op->stage = "Could not write zeros for preallocation";
        ret = file_write_zeroes_full(op->fd, st.st_size, op->offset);
        if (ret < 0 && ftruncate(op->fd, st.st_size) < 0) {
            /* keep the first error; the file is now longer than intended */
        }
        return ret;
    default:
        op->stage = NULL;
        return -ENOTSUP;
    }
}

/* ---------------------------------------------------------------------------
 * Open and close
 */

/* The alignments O_DIRECT needs: statx first, then trial reads. */
static bool file_probe_alignment(BDRVFileState *s, Error **errp)
{
    static const unsigned sizes[] = { 512, 1024, 2048, 4096 };
    struct statx stx;
    unsigned sector = 0;

    s->request_alignment = 1;
    s->buf_align = 1;
    if (!s->direct) {
        return true;
    }
#ifdef STATX_DIOALIGN
    if (statx(s->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
        s->request_alignment = stx.stx_dio_offset_align;
        s->buf_align = MAX(stx.stx_dio_mem_align, 1);
        return true;
    }
#endif
    if (!s->is_regular && ioctl(s->fd, BLKSSZGET, &sector) == 0 && sector) {
        s->request_alignment = sector;
    }
    g_autofree void *buf = NULL;
    if (posix_memalign(&buf, 4096, 2 * 4096)) {
        error_setg(errp, "Could not allocate an O_DIRECT probe buffer");
        return false;
    }
    if (s->request_alignment == 1) {
        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
            if (pread(s->fd, buf, sizes[i], 0) >= 0) {
                s->request_alignment = sizes[i];
                break;
            }
        }
    }
    s->buf_align = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(sizes) && s->request_alignment > 1; i++) {
        if (pread(s->fd, (char *)buf + sizes[i], s->request_alignment, 0) >= 0) {
            s->buf_align = sizes[i];
            break;
        }
    }
    if (s->request_alignment == 1 || s->buf_align == 0) {
        error_setg(errp, "Could not find working O_DIRECT alignment");
        error_append_hint(errp, "Try cache.direct=off\n");
        return false;
    }
    return true;
}

static int file_open_fd(const char *filename, int open_flags, Error **errp)
{
    int fd;

    do {
        fd = open(filename, open_flags | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not open '%s'", filename);
        return -err;
    }
    return fd;
}

static int file_bdrv_flags_to_open_flags(int bdrv_flags)
{
    int flags = (bdrv_flags & BDRV_O_RDWR) ? O_RDWR : O_RDONLY;

    if (bdrv_flags & BDRV_O_NOCACHE) {
        flags |= O_DIRECT;
    }
    return flags;
}

/* Parse aio= and locking=; the defaults come from the open flags. */
static bool file_parse_modes(BDRVFileState *s, QDict *options, int flags, Error **errp)
{
    g_autofree char *aio = bdrv_opt_take_str(options, "aio");
    g_autofree char *locking = bdrv_opt_take_str(options, "locking");
    FileAioType def = (flags & BDRV_O_NATIVE_AIO) ? FILE_AIO_NATIVE
                    : (flags & BDRV_O_IO_URING) ? FILE_AIO_IO_URING : FILE_AIO_THREADS;
    int aio_type = file_parse_enum(aio, aio_names, FILE_AIO__MAX, def, errp);
    if (aio_type < 0) {
        return false;
    }
    int lock = file_parse_enum(locking, lock_names, ARRAY_SIZE(lock_names), FILE_LOCK_AUTO,
                               errp);
    if (lock < 0) {
        return false;
    }
    if (aio_type == FILE_AIO_NATIVE && !(flags & BDRV_O_NOCACHE)) {
        error_setg(errp, "aio=native was specified, but it requires cache.direct=on, "
                   "which was not specified.");
        return false;
    }
    s->aio = aio_type;
    s->use_lock = lock != FILE_LOCK_OFF;   /* OFD locks always exist on Linux */
    return true;
}

static bool file_take_filename(BlockDriverState *bs, BDRVFileState *s, QDict *options,
                               const char *prefix, Error **errp)
{
    g_autofree char *filename = bdrv_opt_take_str(options, "filename");
    const char *name = filename ? filename : bs->filename;

    if (!name || !*name) {
        error_setg(errp, "The '%s' block driver requires a file name", bs->drv->format_name);
        return false;
    }
    if (g_str_has_prefix(name, prefix)) {
        name += strlen(prefix);
    }
    s->filename = g_strdup(name);
    return true;
}

static bool file_check_type(BlockDriverState *bs, BDRVFileState *s, Error **errp)
{
    struct stat st;

    if (fstat(s->fd, &st) < 0) {
        error_setg_errno(errp, errno, "Could not stat file");
        return false;
    }
    if (s->is_regular && !S_ISREG(st.st_mode)) {
        error_setg(errp, "'%s' driver requires '%s' to be a regular file",
                   bs->drv->format_name, s->filename);
        return false;
    }
    if (!s->is_regular && !S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
        error_setg(errp, "'%s' driver requires '%s' to be either a character or block device",
                   bs->drv->format_name, s->filename);
        return false;
    }
    return true;
}

static int file_open_common(BlockDriverState *bs, QDict *options, int flags, bool regular,
                            Error **errp)
{
    BDRVFileState *s = bs->opaque;
    ERRP_GUARD();
    int ret;

    s->fd = -1;
    s->is_regular = regular;
    s->locked_shared = BLK_PERM_ALL;
    /* Accepted for compatibility; the page cache is never checked or dropped. */
    g_free(bdrv_opt_take_str(options, "x-check-cache-dropped"));
    g_free(bdrv_opt_take_str(options, "drop-cache"));
    g_free(bdrv_opt_take_str(options, "aio-max-batch"));
    if (!file_take_filename(bs, s, options, regular ? "file:" : "host_device:", errp) ||
        !file_parse_modes(s, options, flags, errp)) {
        ret = -EINVAL;
        goto fail;
    }
    s->open_flags = file_bdrv_flags_to_open_flags(flags);
    s->direct = flags & BDRV_O_NOCACHE;
    ret = file_open_fd(s->filename, s->open_flags, errp);
    if (ret < 0 && (flags & BDRV_O_RDWR) && (flags & BDRV_O_AUTO_RDONLY) &&
        (ret == -EACCES || ret == -EROFS || ret == -EPERM)) {
        error_free(*errp);
        *errp = NULL;
        s->open_flags = (s->open_flags & ~O_ACCMODE) | O_RDONLY;
        bs->read_only = true;
        ret = file_open_fd(s->filename, s->open_flags, errp);
    }
    if (ret < 0) {
        goto fail;
    }
    s->fd = ret;
    if (!file_check_type(bs, s, errp) || !file_probe_alignment(s, errp)) {
        ret = -EINVAL;
        goto fail;
    }
    s->ops = file_backend_get(s->aio, errp);
    s->be = s->ops ? s->ops->init(qemu_get_current_aio_context(), errp) : NULL;
    if (!s->be) {
        error_prepend(errp, s->aio == FILE_AIO_NATIVE ? "Unable to use native AIO: "
                            : s->aio == FILE_AIO_IO_URING ? "Unable to use io_uring: " : "");
        ret = -EINVAL;
        goto fail;
    }
    bs->supported_zero_flags = BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK;
    bs->supported_truncate_flags = 0;
    return 0;

fail:
    /* the core does not call close() after a failed open */
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    g_free(s->filename);
    s->filename = NULL;
    return ret;
}

static int file_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    return file_open_common(bs, options, flags, true, errp);
}

static int hdev_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    return file_open_common(bs, options, flags, false, errp);
}

static void file_close(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;

    if (s->be) {
        s->ops->cleanup(s->be);
        s->be = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);            /* also drops every OFD lock of this description */
        s->fd = -1;
    }
    g_free(s->filename);
    s->filename = NULL;
}

/* "file:PATH" (or "host_device:PATH") is PATH. */
static void file_parse_filename_prefix(const char *filename, QDict *options, const char *prefix)
{
    if (g_str_has_prefix(filename, prefix)) {
        filename += strlen(prefix);
    }
    qdict_put_str(options, "filename", filename);
}

static void file_parse_filename(const char *filename, QDict *options, Error **errp)
{
    file_parse_filename_prefix(filename, options, "file:");
}

static void hdev_parse_filename(const char *filename, QDict *options, Error **errp)
{
    file_parse_filename_prefix(filename, options, "host_device:");
}

static void file_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVFileState *s = bs->opaque;

    bs->bl.request_alignment = s->request_alignment;
    bs->bl.min_mem_alignment = s->buf_align;
    bs->bl.opt_mem_alignment = MAX(s->buf_align, qemu_real_host_page_size());
    bs->bl.max_transfer = MAX(1 * GiB, (int64_t)s->request_alignment);
    bs->bl.max_iov = IOV_MAX;
}

/* Switch between read-only and read-write, or O_DIRECT on and off: a new fd. */
static int file_reopen(BlockDriverState *bs, QDict *options, int new_flags, Error **errp)
{
    BDRVFileState *s = bs->opaque;
    int open_flags = file_bdrv_flags_to_open_flags(new_flags);

    if (open_flags == s->open_flags) {
        return 0;
    }
    int fd = file_open_fd(s->filename, open_flags, errp);
    if (fd < 0) {
        return fd;
    }
    if (s->use_lock && !bs->force_share) {
        /* Move the locks (held even while inactive): the old description would conflict. */
        file_lock_release(s->fd);
        int ret = file_lock_update(fd, s->filename, 0, BLK_PERM_ALL, s->locked_perm,
                                   s->locked_shared, errp);
        if (ret < 0) {
            file_lock_set_all(s->fd, s->locked_perm, s->locked_shared);
            close(fd);
            return ret;
        }
    }
    close(s->fd);
    s->fd = fd;
    s->open_flags = open_flags;
    s->direct = new_flags & BDRV_O_NOCACHE;
    if (!file_probe_alignment(s, errp)) {
        return -EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Data path
 */

static int coroutine_fn file_co_rw(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                   QEMUIOVector *qiov, size_t qiov_offset, bool is_write)
{
    BDRVFileState *s = bs->opaque;
    QEMUIOVector slice, *v = qiov;
    int ret;

    /* the usual request is the caller's whole vector: no slice to allocate */
    if (qiov_offset != 0 || bytes != qiov->size) {
        qemu_iovec_init_slice(&slice, qiov, qiov_offset, bytes);
        v = &slice;
    }
    if (s->direct && !qemu_iovec_is_aligned(v, s->buf_align)) {
        /* O_DIRECT wants aligned buffers: bounce through one of ours. */
        void *buf = NULL;
        QEMUIOVector bounce;
        if (posix_memalign(&buf, MAX(s->buf_align, qemu_real_host_page_size()),
                           MAX(bytes, 1))) {
            ret = -ENOMEM;
            goto out;
        }
        qemu_iovec_init_buf(&bounce, buf, bytes);
        if (is_write) {
            qemu_iovec_to_buf(v, 0, buf, bytes);
        }
        ret = file_backend_co_rw_full(s->ops, s->be, s->fd, offset, &bounce, is_write);
        if (!is_write && ret == 0) {
            qemu_iovec_from_buf(v, 0, buf, bytes);
        }
        free(buf);
    } else {
        ret = file_backend_co_rw_full(s->ops, s->be, s->fd, offset, v, is_write);
    }
out:
    if (v == &slice) {
        qemu_iovec_destroy(&slice);
    }
    return ret;
}

static int coroutine_fn file_co_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                       QEMUIOVector *qiov, size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    return file_co_rw(bs, offset, bytes, qiov, qiov_offset, false);
}

static int coroutine_fn file_co_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                        QEMUIOVector *qiov, size_t qiov_offset,
                                        BdrvRequestFlags flags)
{
    return file_co_rw(bs, offset, bytes, qiov, qiov_offset, true);
}

static int coroutine_fn file_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                              int64_t bytes, BdrvRequestFlags flags)
{
    BDRVFileState *s = bs->opaque;
    FilePoolOp op = {
        .fd = s->fd, .offset = offset, .bytes = bytes, .flags = flags,
        .is_regular = s->is_regular,
    };

    return thread_pool_submit_co(file_pool_write_zeroes, &op);
}

static int coroutine_fn file_co_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    BDRVFileState *s = bs->opaque;
    FilePoolOp op = {
        .fd = s->fd, .offset = offset, .bytes = bytes, .is_regular = s->is_regular,
    };

    return thread_pool_submit_co(file_pool_discard, &op);
}

static int coroutine_fn file_co_flush_to_disk(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    FilePoolOp op = { .fd = s->fd };

    return thread_pool_submit_co(file_pool_flush, &op);
}

static int64_t coroutine_fn file_co_getlength(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    struct stat st;

    if (s->is_regular) {
        return fstat(s->fd, &st) < 0 ? -errno : st.st_size;
    }
    off_t end = lseek(s->fd, 0, SEEK_END);
    return end < 0 ? -errno : end;
}

static int64_t coroutine_fn file_co_get_allocated_file_size(BlockDriverState *bs)
{
    BDRVFileState *s = bs->opaque;
    struct stat st;

    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

/*
 * Data or hole at offset, from SEEK_DATA/SEEK_HOLE. Holes are reported as
 * ZERO; file systems without the seeks (EINVAL) report everything as DATA.
 * Extents are rounded to request_alignment: data grows to cover a partial
 * block, holes shrink, and a hole smaller than one block counts as data.
 */
static int coroutine_fn file_co_block_status(BlockDriverState *bs, bool want_zero,
                                             int64_t offset, int64_t bytes, int64_t *pnum,
                                             int64_t *map, BlockDriverState **file)
{
    BDRVFileState *s = bs->opaque;
    int64_t align = s->request_alignment;
    int ret = BDRV_BLOCK_DATA;

    *map = offset;
    *file = bs;
    *pnum = bytes;
    if (!want_zero || !s->is_regular) {
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    }
    off_t data = lseek(s->fd, offset, SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
        ret = BDRV_BLOCK_ZERO;                 /* a hole up to end of file */
    } else if (data > offset) {
        ret = BDRV_BLOCK_ZERO;
        *pnum = MIN(bytes, data - offset);
    } else if (data == offset) {
        off_t hole = lseek(s->fd, offset, SEEK_HOLE);
        if (hole > offset) {
            *pnum = MIN(bytes, hole - offset);
        }
    }
    if (align > 1 && *pnum < bytes) {
        int64_t end = offset + *pnum;
        if (ret == BDRV_BLOCK_DATA) {
            *pnum = MIN(bytes, QEMU_ALIGN_UP(end, align) - offset);
        } else if (QEMU_ALIGN_DOWN(end, align) > offset) {
            *pnum = QEMU_ALIGN_DOWN(end, align) - offset;
        } else {
            ret = BDRV_BLOCK_DATA;
            *pnum = MIN(bytes, align);
        }
    }
    return ret | BDRV_BLOCK_OFFSET_VALID;
}

static int coroutine_fn file_co_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                                         PreallocMode prealloc, BdrvRequestFlags flags,
                                         Error **errp)
{
    BDRVFileState *s = bs->opaque;

    if (!s->is_regular) {
        int64_t len = file_co_getlength(bs);
        if (len < 0) {
            error_setg_errno(errp, -len, "Failed to get file length");
            return len;
        }
        if (prealloc != PREALLOC_MODE_OFF) {
            error_setg(errp, "Preallocation mode '%s' unsupported for this non-regular file",
                       prealloc_names[prealloc]);
            return -ENOTSUP;
        }
        if (offset > len || (exact && offset != len)) {
            error_setg(errp, "Cannot grow device files");
            return -EINVAL;
        }
        return 0;
    }
    FileTruncateOp op = { .fd = s->fd, .offset = offset, .prealloc = prealloc };
    int ret = thread_pool_submit_co(file_pool_truncate, &op);
    if (ret < 0) {
        if (!op.stage) {
            error_setg(errp, "Unsupported preallocation mode: %s", prealloc_names[prealloc]);
        } else if (ret == -ENOTSUP && !strncmp(op.stage, "Cannot", 6)) {
            error_setg(errp, "%s", op.stage);
        } else {
            error_setg_errno(errp, -ret, "%s", op.stage);
        }
    }
    return ret;
}

/* ---------------------------------------------------------------------------
 * Create
 */

typedef struct FileCreateOp {
    const char *filename;
    int64_t size;
    PreallocMode prealloc;
    bool nocow;
    const char *stage;              /* what failed */
    Error *err;                     /* lock conflicts: full message */
} FileCreateOp;

static int file_pool_create(void *opaque)
{
    FileCreateOp *op = opaque;
    /* Truncating needs write and resize, and nobody may resize behind our back. */
    const uint64_t perm = BLK_PERM_WRITE | BLK_PERM_RESIZE;
    const uint64_t shared = BLK_PERM_ALL & ~BLK_PERM_RESIZE;
    int ret;

    int fd = open(op->filename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        op->stage = "Could not create";
        return -errno;
    }
    ret = file_lock_update(fd, NULL, 0, BLK_PERM_ALL, perm, shared, &op->err);
    if (ret < 0) {
        goto out;
    }
    if (op->nocow) {
        int attr;
        /* Best effort: only btrfs knows the flag. */
        if (ioctl(fd, FS_IOC_GETFLAGS, &attr) == 0) {
            attr |= FS_NOCOW_FL;
            ioctl(fd, FS_IOC_SETFLAGS, &attr);
        }
    }
    FileTruncateOp trunc = { .fd = fd, .offset = 0, .prealloc = PREALLOC_MODE_OFF };
    ret = file_pool_truncate(&trunc);
    if (ret == 0) {
        trunc.offset = op->size;
        trunc.prealloc = op->prealloc;
        ret = file_pool_truncate(&trunc);
    }
    op->stage = trunc.stage;
out:
    close(fd);
    return ret;
}

static int coroutine_fn file_co_create_opts(BlockDriver *drv, const char *filename,
                                            QDict *opts, Error **errp)
{
    uint64_t size = 0;
    bool nocow = false;
    g_autofree char *prealloc = NULL;

    if (!bdrv_opt_take_size(opts, "size", 0, &size, errp) ||
        !bdrv_opt_take_bool(opts, "nocow", false, &nocow, errp)) {
        return -EINVAL;
    }
    g_free(bdrv_opt_take_str(opts, "extent_size_hint"));   /* XFS only; ignored */
    prealloc = bdrv_opt_take_str(opts, "preallocation");
    int mode = file_parse_enum(prealloc, prealloc_names, PREALLOC_MODE__MAX,
                               PREALLOC_MODE_OFF, errp);
    if (mode < 0) {
        return -EINVAL;
    }
    if (mode == PREALLOC_MODE_METADATA) {
        error_setg(errp, "Unsupported preallocation mode: %s", prealloc_names[mode]);
        return -ENOTSUP;
    }
    if (g_str_has_prefix(filename, "file:")) {
        filename += strlen("file:");
    }
    size = QEMU_ALIGN_UP(size, BDRV_SECTOR_SIZE);
    FileCreateOp op = {
        .filename = filename, .size = size, .prealloc = mode, .nocow = nocow,
    };
    int ret = thread_pool_submit_co(file_pool_create, &op);
    if (op.err) {
        error_propagate(errp, op.err);
    } else if (ret < 0 && !strcmp(op.stage, "Could not create")) {
        error_setg_errno(errp, -ret, "Could not create '%s'", filename);
    } else if (ret == -ENOTSUP && !strncmp(op.stage, "Cannot", 6)) {
        error_setg(errp, "%s", op.stage);
    } else if (ret < 0) {
        error_setg_errno(errp, -ret, "%s", op.stage);
    }
    return ret;
}

static const CreateOption file_create_opts[] = {
    { "extent_size_hint", CREATE_OPT_SIZE, "Extent size hint for the image file, 0 to disable" },
    { "nocow", CREATE_OPT_BOOL, "Turn off copy-on-write (valid only on btrfs)" },
    { "preallocation", CREATE_OPT_STRING,
      "Preallocation mode (allowed values: off, falloc, full)" },
    { "size", CREATE_OPT_SIZE, "Virtual disk size" },
    { NULL }
};

/* Nothing to report, but success: query-block shows "dirty-flag": false as QEMU. */
static int file_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    return 0;
}

static const char *const file_open_options[] = {
    "filename", "aio", "aio-max-batch", "locking", "x-check-cache-dropped", "drop-cache",
    NULL
};

/* Regular files and host devices share all I/O, limits and permission callbacks. */
#define FILE_DRIVER_COMMON                                          \
    .instance_size              = sizeof(BDRVFileState),            \
    .open_options               = file_open_options,                \
    .close                      = file_close,                       \
    .refresh_limits             = file_refresh_limits,              \
    .reopen                     = file_reopen,                      \
    .co_preadv                  = file_co_preadv,                   \
    .co_pwritev                 = file_co_pwritev,                  \
    .co_pwrite_zeroes           = file_co_pwrite_zeroes,            \
    .co_pdiscard                = file_co_pdiscard,                 \
    .co_flush_to_disk           = file_co_flush_to_disk,            \
    .co_truncate                = file_co_truncate,                 \
    .co_getlength               = file_co_getlength,                \
    .co_get_allocated_file_size = file_co_get_allocated_file_size,  \
    .get_info                   = file_get_info,                    \
    .co_block_status            = file_co_block_status,             \
    .check_perm                 = file_check_perm,                  \
    .set_perm                   = file_set_perm,                    \
    .abort_perm_update          = file_abort_perm_update

const BlockDriver bdrv_file = {
    .format_name                = "file",
    .protocol_name              = "file",
    .flags                      = BDRV_F_PROTOCOL | BDRV_F_ZERO_INIT | BDRV_F_ZERO_INIT_TRUNCATE,
    .parse_filename             = file_parse_filename,
    .open                       = file_open,
    .create_opts                = file_create_opts,
    .co_create_opts             = file_co_create_opts,
    FILE_DRIVER_COMMON,
};

const BlockDriver bdrv_host_device = {
    .format_name                = "host_device",
    .protocol_name              = "host_device",
    .flags                      = BDRV_F_PROTOCOL,         /* a device keeps its old data */
    .parse_filename             = hdev_parse_filename,
    .open                       = hdev_open,
    FILE_DRIVER_COMMON,
};
