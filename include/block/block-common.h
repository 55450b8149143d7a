/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-common.h: the vocabulary shared by every block-layer header: flags for
 * opening nodes and for requests, block-status bits, permissions, limits.
 * No functions here.
 */
#ifndef GODWIT_BLOCK_COMMON_H
#define GODWIT_BLOCK_COMMON_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/iov.h"
#include "util/coroutine.h"

typedef struct BlockDriver BlockDriver;
typedef struct BlockDriverState BlockDriverState;
typedef struct BdrvChild BdrvChild;
typedef struct BdrvChildClass BdrvChildClass;
typedef struct BlockBackend BlockBackend;
typedef struct BdrvDirtyBitmap BdrvDirtyBitmap;
typedef struct CreateOption CreateOption;   /* block-int.h */
typedef struct QDict QDict;

/* ---- open flags (bs->open_flags) ---- */
enum {
    BDRV_O_NO_SHARE      = 0x0001,  /* blk_new_open: share only read/write-unchanged (tools without -U) */
    BDRV_O_RDWR          = 0x0002,  /* opened read-write */
    BDRV_O_RESIZE        = 0x0004,  /* blk_new_open: also take the resize permission */
    BDRV_O_SNAPSHOT      = 0x0008,  /* -drive snapshot=on: writes go to a temporary overlay */
    BDRV_O_NOCACHE       = 0x0020,  /* cache=none/directsync: O_DIRECT on the file */
    BDRV_O_NATIVE_AIO    = 0x0080,  /* aio=native (libaio) */
    BDRV_O_NO_BACKING    = 0x0100,  /* do not open the backing file */
    BDRV_O_NO_FLUSH      = 0x0200,  /* cache=unsafe / cache.no-flush=on */
    BDRV_O_COPY_ON_READ  = 0x0400,
    BDRV_O_INACTIVE      = 0x0800,  /* image owned by a migration peer; no writes */
    BDRV_O_CHECK         = 0x1000,  /* opened for qemu-img check */
    BDRV_O_PROTOCOL      = 0x8000,  /* the filename names a protocol node (no probing) */
    BDRV_O_NO_IO         = 0x10000, /* metadata only (qemu-img info/amend) */
    BDRV_O_AUTO_RDONLY   = 0x20000, /* fall back to read-only if writing is not allowed */
    BDRV_O_IO_URING      = 0x40000, /* aio=io_uring */
    BDRV_O_UNMAP         = 0x4000,  /* discard=unmap: pass discards down */
};
/* Cache modes, parsed from "cache=" by bdrv_parse_cache_mode(). */
#define BDRV_O_CACHE_MASK (BDRV_O_NOCACHE | BDRV_O_NO_FLUSH)

/*
 * The enums below are also QAPI types (qapi/block-core.json names them with
 * 'c-header': this file): same values in the same order, ending in __MAX.
 */

/* ---- request flags ---- */
typedef enum BdrvRequestFlags {
    BDRV_REQ_COPY_ON_READ      = 0x1,
    BDRV_REQ_ZERO_WRITE        = 0x2,    /* write zeroes; qiov is NULL */
    BDRV_REQ_MAY_UNMAP         = 0x4,    /* zeroes may be written by deallocating */
    BDRV_REQ_FUA               = 0x10,   /* forced unit access: durable on return */
    BDRV_REQ_WRITE_COMPRESSED  = 0x20,
    BDRV_REQ_WRITE_UNCHANGED   = 0x40,   /* data is unchanged (copy-on-read, stream) */
    BDRV_REQ_SERIALISING       = 0x80,   /* wait for and block overlapping requests */
    BDRV_REQ_NO_FALLBACK       = 0x100,  /* fail with -ENOTSUP rather than write real zeroes */
    BDRV_REQ_PREFETCH          = 0x200,  /* copy-on-read only, no data returned */
    BDRV_REQ_NO_WAIT           = 0x400,
    BDRV_REQ_MASK              = 0x7ff,
} BdrvRequestFlags;

/* ---- block status (bdrv_block_status and drivers' co_block_status) ---- */
enum {
    BDRV_BLOCK_DATA         = 0x01,  /* reads come from the file at *map (or data exists) */
    BDRV_BLOCK_ZERO         = 0x02,  /* reads as zeroes */
    BDRV_BLOCK_OFFSET_VALID = 0x04,  /* *map and *file are valid */
    BDRV_BLOCK_RAW          = 0x08,  /* driver passes through: ask *file at *map */
    BDRV_BLOCK_ALLOCATED    = 0x10,  /* this layer (not a backing file) provides the content */
    BDRV_BLOCK_EOF          = 0x20,  /* the range reaches end of file */
    BDRV_BLOCK_RECURSE      = 0x40,  /* check *file for zeroes too */
};

/* ---- permissions a parent takes on / shares with a child ---- */
enum {
    BLK_PERM_CONSISTENT_READ = 0x01,
    BLK_PERM_WRITE           = 0x02,
    BLK_PERM_WRITE_UNCHANGED = 0x04,
    BLK_PERM_RESIZE          = 0x08,
    BLK_PERM_ALL             = 0x0f,
    DEFAULT_PERM_PASSTHROUGH = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE
                             | BLK_PERM_WRITE_UNCHANGED | BLK_PERM_RESIZE,
    DEFAULT_PERM_UNCHANGED   = BLK_PERM_ALL & ~DEFAULT_PERM_PASSTHROUGH,
};

/* ---- roles of a child edge ---- */
typedef enum BdrvChildRole {
    BDRV_CHILD_DATA      = 0x01,  /* holds guest-visible data */
    BDRV_CHILD_METADATA  = 0x02,  /* holds format metadata */
    BDRV_CHILD_FILTERED  = 0x04,  /* a filter's or COW child: reads fall through to it */
    BDRV_CHILD_COW       = 0x08,  /* a backing file */
    BDRV_CHILD_PRIMARY   = 0x10,  /* the "file" child of a format or filter */
    BDRV_CHILD_IMAGE     = BDRV_CHILD_DATA | BDRV_CHILD_METADATA,
} BdrvChildRole;

typedef enum BlockdevDetectZeroesOptions {
    BLOCKDEV_DETECT_ZEROES_OPTIONS_OFF,
    BLOCKDEV_DETECT_ZEROES_OPTIONS_ON,
    BLOCKDEV_DETECT_ZEROES_OPTIONS_UNMAP,
    BLOCKDEV_DETECT_ZEROES_OPTIONS__MAX,
} BlockdevDetectZeroesOptions;

typedef enum PreallocMode {
    PREALLOC_MODE_OFF,
    PREALLOC_MODE_METADATA,
    PREALLOC_MODE_FALLOC,
    PREALLOC_MODE_FULL,
    PREALLOC_MODE__MAX,
} PreallocMode;

typedef enum BlockdevOnError {
    BLOCKDEV_ON_ERROR_REPORT,
    BLOCKDEV_ON_ERROR_IGNORE,
    BLOCKDEV_ON_ERROR_ENOSPC,
    BLOCKDEV_ON_ERROR_STOP,
    BLOCKDEV_ON_ERROR_AUTO,
    BLOCKDEV_ON_ERROR__MAX,
} BlockdevOnError;

typedef enum BlockErrorAction {
    BLOCK_ERROR_ACTION_IGNORE,
    BLOCK_ERROR_ACTION_REPORT,
    BLOCK_ERROR_ACTION_STOP,
    BLOCK_ERROR_ACTION__MAX,
} BlockErrorAction;

/*
 * Limits of a node, filled by refresh_limits() of the driver, merged with the
 * children's by the core. 0 means "no limit"/"no preference".
 */
typedef struct BlockLimits {
    uint32_t request_alignment;     /* bytes; every request to the driver is aligned to it */
    int64_t max_transfer;           /* bytes per request, 0 = unlimited */
    int64_t opt_transfer;
    int64_t pdiscard_alignment;
    int64_t max_pdiscard;
    int64_t pwrite_zeroes_alignment;
    int64_t max_pwrite_zeroes;
    size_t min_mem_alignment;       /* buffer alignment needed (O_DIRECT: 512 or 4096) */
    size_t opt_mem_alignment;
    int max_iov;                    /* iovecs per request (IOV_MAX) */
} BlockLimits;

/* qemu-img check */
typedef enum BdrvCheckMode {
    BDRV_FIX_LEAKS  = 1,
    BDRV_FIX_ERRORS = 2,
} BdrvCheckMode;

typedef struct BdrvCheckResult {
    int corruptions, leaks, check_errors;
    int corruptions_fixed, leaks_fixed;
    int64_t image_end_offset;
    struct {
        uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
    } bfi;
} BdrvCheckResult;

typedef struct BlockDriverInfo {
    int cluster_size;                /* 0: not a clustered format */
    bool is_dirty;
    bool unallocated_blocks_are_zero;
} BlockDriverInfo;

/*
 * One internal snapshot, as drivers list it and as callers describe a new one
 * (qemu-img snapshot -l / info "Snapshot list:", savevm). Strings NUL-terminated.
 */
typedef struct QEMUSnapshotInfo {
    char id_str[128];                /* unique; "" asks the driver to pick the next id */
    char name[256];                  /* the tag; may repeat */
    uint64_t vm_state_size;          /* bytes of saved VM state (0 for disk-only) */
    uint32_t date_sec, date_nsec;    /* wall clock at creation; 0/0: the driver fills it */
    uint64_t vm_clock_nsec;          /* guest clock at creation */
    uint64_t icount;                 /* instruction count, UINT64_MAX when unknown */
} QEMUSnapshotInfo;

#endif /* GODWIT_BLOCK_COMMON_H */
