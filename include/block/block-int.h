/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-int.h: what drivers and the block core share. A node of the block graph is
 * a BlockDriverState (bs); its driver is a const BlockDriver table of callbacks;
 * edges are BdrvChild (parent -> child bs, with a role and permissions).
 *
 * Threads: the graph and every field below belong to the main loop thread
 * (v1 runs all block I/O there too). Graph changes happen only with the affected
 * nodes drained (bdrv_drained_begin/end).
 *
 * Callback conventions (STYLE.md §4, §7):
 *  - control path (open, create, reopen, truncate, refresh_limits): Error **errp,
 *    return 0 / -errno;
 *  - data path (co_* callbacks): coroutine_fn, return >= 0 or -errno, no Error;
 *  - byte offsets and byte counts everywhere; never sectors;
 *  - io.c has already checked range, alignment (to bl.request_alignment) and
 *    permissions before calling a driver's data callback, and the request is
 *    tracked; a driver never sees an unaligned request.
 */
#ifndef GODWIT_BLOCK_INT_H
#define GODWIT_BLOCK_INT_H

#include "block/block-common.h"

/* Capabilities of a driver (BlockDriver.flags). */
enum {
    BDRV_F_PROTOCOL          = 0x01, /* opens a filename itself (file, null-co, nbd) */
    BDRV_F_FORMAT            = 0x02, /* interprets a child's bytes (raw, qcow2) */
    BDRV_F_FILTER            = 0x04, /* passes I/O to one filtered child (blkdebug, copy-on-read) */
    BDRV_F_SUPPORTS_BACKING  = 0x08, /* has a backing child (qcow2) */
    BDRV_F_ZERO_INIT         = 0x10, /* a new image reads as zeroes */
    BDRV_F_ZERO_INIT_TRUNCATE = 0x20, /* growing by truncate reads as zeroes */
    BDRV_F_READ_ONLY_ONLY    = 0x40, /* whitelisted as read-only driver only */
};

/* qemu-img measure's result (QAPI BlockMeasureInfo), all in bytes. */
typedef struct BlockMeasureInfo {
    uint64_t required;              /* for the allocated data (with --size: as if full) */
    uint64_t fully_allocated;       /* with every cluster allocated */
    bool has_bitmaps;               /* print "bitmaps size:" / JSON "bitmaps" */
    uint64_t bitmaps;
} BlockMeasureInfo;

/* One create option of a driver, for `-o key=value` and `-o help`. */
typedef enum CreateOptionType {
    CREATE_OPT_STRING,
    CREATE_OPT_BOOL,
    CREATE_OPT_NUMBER,
    CREATE_OPT_SIZE,
} CreateOptionType;

struct CreateOption {
    const char *name;
    CreateOptionType type;
    const char *help;
    const char *def_value_str;       /* default, printed in the Formatting line when set */
};


/*
 * blkdebug events: the request path and format drivers announce points of
 * interest with bdrv_debug_event(bs->file, EVENT); blkdebug injects errors or
 * suspends the request there. Names are the interface ("read_aio", "l2_update"...):
 * exactly QEMU 7.2's BlkdebugEvent list, no more, no less.
 */
typedef enum BlkdebugEvent {
    BLKDBG_L1_UPDATE, BLKDBG_L1_GROW_ALLOC_TABLE, BLKDBG_L1_GROW_WRITE_TABLE,
    BLKDBG_L1_GROW_ACTIVATE_TABLE, BLKDBG_L1_SHRINK_WRITE_TABLE, BLKDBG_L1_SHRINK_FREE_L2_CLUSTERS,
    BLKDBG_L2_LOAD, BLKDBG_L2_UPDATE, BLKDBG_L2_UPDATE_COMPRESSED, BLKDBG_L2_ALLOC_COW_READ,
    BLKDBG_L2_ALLOC_WRITE,
    BLKDBG_READ_AIO, BLKDBG_READ_BACKING_AIO, BLKDBG_READ_COMPRESSED,
    BLKDBG_WRITE_AIO, BLKDBG_WRITE_COMPRESSED,
    BLKDBG_VMSTATE_LOAD, BLKDBG_VMSTATE_SAVE,
    BLKDBG_COW_READ, BLKDBG_COW_WRITE,
    BLKDBG_REFTABLE_LOAD, BLKDBG_REFTABLE_GROW, BLKDBG_REFTABLE_UPDATE,
    BLKDBG_REFBLOCK_LOAD, BLKDBG_REFBLOCK_UPDATE, BLKDBG_REFBLOCK_UPDATE_PART,
    BLKDBG_REFBLOCK_ALLOC, BLKDBG_REFBLOCK_ALLOC_HOOKUP, BLKDBG_REFBLOCK_ALLOC_WRITE,
    BLKDBG_REFBLOCK_ALLOC_WRITE_BLOCKS, BLKDBG_REFBLOCK_ALLOC_WRITE_TABLE,
    BLKDBG_REFBLOCK_ALLOC_SWITCH_TABLE,
    BLKDBG_CLUSTER_ALLOC, BLKDBG_CLUSTER_ALLOC_BYTES, BLKDBG_CLUSTER_FREE,
    BLKDBG_FLUSH_TO_OS, BLKDBG_FLUSH_TO_DISK,
    BLKDBG_PWRITEV_RMW_HEAD, BLKDBG_PWRITEV_RMW_AFTER_HEAD, BLKDBG_PWRITEV_RMW_TAIL,
    BLKDBG_PWRITEV_RMW_AFTER_TAIL, BLKDBG_PWRITEV, BLKDBG_PWRITEV_ZERO, BLKDBG_PWRITEV_DONE,
    BLKDBG_EMPTY_IMAGE_PREPARE,
    BLKDBG_COR_WRITE, BLKDBG_CLUSTER_ALLOC_SPACE, BLKDBG_NONE,
    BLKDBG__MAX,
} BlkdebugEvent;

const char *blkdebug_event_name(BlkdebugEvent ev);       /* "read_aio" */
int blkdebug_event_from_name(const char *name);           /* -1 if unknown */

struct BlockDriver {
    const char *format_name;         /* "raw", "qcow2", "file", "null-co", "blkdebug" */
    const char *protocol_name;       /* protocols: URL-ish prefix ("file", "nbd"), else NULL */
    int instance_size;               /* size of bs->opaque */
    unsigned flags;                  /* BDRV_F_* */

    /*
     * Option keys this driver accepts in open(), NULL-terminated. Keys given to a
     * node that neither the core nor the driver accepts are an error:
     * "Block protocol 'file' doesn't support the option 'x'" (protocols) or
     * "Block format 'raw' does not support the option 'x'" (formats).
     * Keys of children ("file.", "backing.", "image.") are handled by the core.
     */
    const char *const *open_options;

    /* Format probing: a score 0..100 for the first bytes of the file. */
    int (*probe)(const uint8_t *buf, int buf_size, const char *filename);
    /* Protocols: turn a filename ("blkdebug:conf:img", "nbd://...") into options. */
    void (*parse_filename)(const char *filename, QDict *options, Error **errp);

    /*
     * Open: the core (block/open.c) has already taken the common options
     * (node-name, driver, read-only, cache.*, discard, detect-zeroes, force-share...)
     * out of options and, for formats (drivers without protocol_name and
     * BDRV_F_PROTOCOL), has opened the "file" child: bdrv_open_child(NULL, options,
     * "file", bs, role, false, errp) returns it (options["file"] names it).
     * After open() returns, the core opens the "backing" child itself for drivers
     * with BDRV_F_SUPPORTS_BACKING (from "backing" / "backing.*" options, else from
     * bs->backing_file and bs->backing_format, which open() should fill from the
     * image header), so drivers never open their backing file.
     * Open: read the driver's options from the flat QDict (values are strings or
     * JSON-typed scalars; use the bdrv_opt_* helpers), open children with
     * bdrv_open_child(), fill bs->total_size if cheap. Return 0 or -errno + errp.
     */
    int (*open)(BlockDriverState *bs, QDict *options, int flags, Error **errp);
    void (*close)(BlockDriverState *bs);

    /*
     * Fill bs->bl; the core has already merged the file child's limits into bs->bl
     * (and set request_alignment to 1 for protocols, or to the file's value).
     */
    void (*refresh_limits)(BlockDriverState *bs, Error **errp);

    /* Change flags (read-only <-> read-write, cache mode) of an open node. */
    int (*reopen)(BlockDriverState *bs, QDict *options, int new_flags, Error **errp);

    /* ---- data path: coroutine_fn, -errno ---- */
    int coroutine_fn (*co_preadv)(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                  QEMUIOVector *qiov, size_t qiov_offset, BdrvRequestFlags flags);
    int coroutine_fn (*co_pwritev)(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                   QEMUIOVector *qiov, size_t qiov_offset, BdrvRequestFlags flags);
    /* flags: BDRV_REQ_MAY_UNMAP, BDRV_REQ_NO_FALLBACK, BDRV_REQ_FUA. -ENOTSUP = fall back. */
    int coroutine_fn (*co_pwrite_zeroes)(BlockDriverState *bs, int64_t offset, int64_t bytes,
                                         BdrvRequestFlags flags);
    int coroutine_fn (*co_pdiscard)(BlockDriverState *bs, int64_t offset, int64_t bytes);
    int coroutine_fn (*co_flush_to_os)(BlockDriverState *bs);
    int coroutine_fn (*co_flush_to_disk)(BlockDriverState *bs);
    int coroutine_fn (*co_truncate)(BlockDriverState *bs, int64_t offset, bool exact,
                                    PreallocMode prealloc, BdrvRequestFlags flags, Error **errp);
    int64_t coroutine_fn (*co_getlength)(BlockDriverState *bs);
    /* Bytes the image occupies on the host (qemu-img "disk size"); -ENOTSUP if unknown. */
    int64_t coroutine_fn (*co_get_allocated_file_size)(BlockDriverState *bs);
    /*
     * Status of [offset, offset+bytes): BDRV_BLOCK_* bits, *pnum = length of the
     * extent that has that status (> 0, <= bytes), *map and *file say where the data lives.
     * want_zero=false: the caller only needs allocation, be cheap.
     */
    int coroutine_fn (*co_block_status)(BlockDriverState *bs, bool want_zero, int64_t offset,
                                        int64_t bytes, int64_t *pnum, int64_t *map,
                                        BlockDriverState **file);

    /* ---- control path, optional ---- */
    const CreateOption *create_opts;     /* NULL-name-terminated; NULL = cannot create */
    int coroutine_fn (*co_create_opts)(BlockDriver *drv, const char *filename,
                                       QDict *opts, Error **errp);
    /*
     * blockdev-create: format the already open node file (a protocol node) with
     * the same "-o" options; NULL = the driver formats no nodes.
     */
    int coroutine_fn (*co_create_node)(BlockDriverState *file, QDict *opts, Error **errp);
    int coroutine_fn (*co_check)(BlockDriverState *bs, BdrvCheckResult *result, BdrvCheckMode fix);
    int (*get_info)(BlockDriverState *bs, BlockDriverInfo *bdi);
    /* "Format specific information" for qemu-img info / query-block: a QDict or NULL. */
    QDict *(*get_specific_info)(BlockDriverState *bs, Error **errp);
    /*
     * Permission locking (file-posix: OFD locks on the image's permission bytes).
     * Called by block/perm.c, in two phases, whenever the cumulative permissions
     * of this node's parents change:
     *   check_perm(bs, perm, shared): take whatever is needed so that both the old
     *     and the new (perm, shared) are held, and fail (-errno + errp) if another
     *     process conflicts ("Failed to get \"write\" lock" + hint
     *     "Is another process using the image [%s]?"). Must not drop anything yet.
     *   then exactly one of:
     *   set_perm(bs, perm, shared): commit: drop what only the old state needed.
     *   abort_perm_update(bs): roll back to what was held before check_perm.
     * All three are optional; bs->force_share nodes should skip locking. The core
     * keeps bs->locked_perm/locked_shared_perm untouched: they belong to the driver.
     * On close the core calls nothing: the driver releases its locks in close().
     */
    int (*check_perm)(BlockDriverState *bs, uint64_t perm, uint64_t shared, Error **errp);
    void (*set_perm)(BlockDriverState *bs, uint64_t perm, uint64_t shared);
    void (*abort_perm_update)(BlockDriverState *bs);

    /* Permissions this node needs on / shares with each child (default: bdrv_default_perms). */
    void (*child_perm)(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                       uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared);
    /* Filename/options that would reopen this node (json:{} pseudo-filenames). */
    void (*refresh_filename)(BlockDriverState *bs);
    /*
     * Rewrite the backing file name (and format, may be NULL) recorded in the
     * image header; for bdrv_change_backing_file(). NULL: -ENOTSUP.
     */
    int (*change_backing_file)(BlockDriverState *bs, const char *backing_file,
                               const char *backing_fmt);
    /*
     * qemu-img commit without -d: drop all data of the image so that every
     * range reads from the backing file again. Main loop, blocking. 0 / -errno.
     */
    int (*make_empty)(BlockDriverState *bs);

    /*
     * Internal snapshots (qcow2). Main loop, blocking (the driver runs its own
     * coroutine), node drained by the caller, image opened read-write except for
     * snapshot_list. All return >= 0 or -errno; error texts are QEMU's:
     *   snapshot_create: sn->id_str "" means "the next free id" and is filled in;
     *     date 0/0 means "now". Sets errp ("Could not create snapshot..." is the
     *     caller's prefix). -EEXIST if sn->id_str is taken.
     *   snapshot_goto: revert the image to the snapshot whose id, else name, is
     *     id_or_name. -ENOENT if none (qemu-img prints "Failed to load snapshot: "
     *     + strerror). The current state is lost unless another snapshot keeps it.
     *   snapshot_delete: the snapshot matching id (if non-NULL) and name (if
     *     non-NULL); -ENOENT + errp "Can't find the snapshot" if none.
     *   snapshot_list: *list = g_new array (caller frees), returns the count.
     */
    int (*snapshot_create)(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp);
    int (*snapshot_goto)(BlockDriverState *bs, const char *id_or_name);
    int (*snapshot_delete)(BlockDriverState *bs, const char *id, const char *name,
                           Error **errp);
    int (*snapshot_list)(BlockDriverState *bs, QEMUSnapshotInfo **list);

    /*
     * Image ownership hand-over for shared-storage migration (block/inactive.c).
     * Main loop, blocking (drivers run their own coroutine); both optional.
     *   inactivate(bs): the peer takes the image over: write out everything
     *     cached (metadata, persistent bitmaps, clean header) so that the file
     *     alone is the truth, then never write again until invalidate_cache.
     *     Called before BDRV_O_INACTIVE is set, parents already inactive.
     *   invalidate_cache(bs, errp): the image is ours again (BDRV_O_INACTIVE
     *     already cleared, children active and locked): the peer may have
     *     changed the file, so drop and re-read whatever was cached.
     * A node opened with BDRV_O_INACTIVE must not write at open either.
     */
    int (*inactivate)(BlockDriverState *bs);
    int (*invalidate_cache)(BlockDriverState *bs, Error **errp);

    /*
     * Persistent dirty bitmaps (qcow2 bitmaps extension). Main loop, blocking,
     * no coroutine needed. A bitmap is persistent when its BdrvDirtyBitmap has
     * the persistence flag (bdrv_dirty_bitmap_set_persistence): the driver loads
     * every stored bitmap at open (creating them as persistent, disabled unless
     * stored as "auto", inconsistent if found in use, readonly on a read-only
     * node) and writes every persistent one at close (bdrv_close calls close()
     * before releasing the bitmaps). Adding, clearing, enabling, disabling and
     * merging are in-memory operations that reach the file at close.
     *
     *   bitmap_can_store(bs, name, granularity, errp): may a new bitmap of this
     *     name and granularity become persistent here? Call before creating it
     *     (QMP block-dirty-bitmap-add persistent=true, godwit-img bitmap --add).
     *     false + errp with QEMU's inner text ("Cannot store dirty bitmaps in
     *     qcow2 v2 files", "Name length exceeds maximum (1023 characters)",
     *     "Granularity is under minimum (512 bytes)", ...); the caller prefixes
     *     "Can't make bitmap '%s' persistent in '%s': " (bitmap, node name).
     *   bitmap_remove_persistent(bs, name, errp): remove the stored copy of the
     *     named bitmap from the file now (directory rewritten, clusters freed);
     *     true if it is gone (or was never stored). Call it before releasing a
     *     persistent bitmap (QMP block-dirty-bitmap-remove, godwit-img bitmap
     *     --remove); the in-memory bitmap is the caller's to release.
     * Drivers without these callbacks cannot store bitmaps
     * ("Cannot store dirty bitmaps in %s format").
     */
    bool (*bitmap_can_store)(BlockDriverState *bs, const char *name, uint32_t granularity,
                             Error **errp);
    bool (*bitmap_remove_persistent)(BlockDriverState *bs, const char *name, Error **errp);

    /*
     * qemu-img amend -o ...: change creation options of an open image. The node
     * is opened read-write (BDRV_O_RDWR) by the caller and has no other users.
     * opts holds the "-o" options as strings (bdrv_create_opts_parse with
     * create_opts); the driver takes the keys it handles and fails on the rest
     * with QEMU's texts (e.g. "Changing the cluster size is not supported",
     * "Invalid parameter 'x'" is the parser's). status_cb (may be NULL) reports
     * progress (offset, total) for qemu-img's -p. force = --force. 0 / -errno.
     */
    int (*amend_options)(BlockDriverState *bs, QDict *opts,
                         void (*status_cb)(BlockDriverState *bs, int64_t offset,
                                           int64_t total, void *opaque),
                         void *cb_opaque, bool force, Error **errp);

    /*
     * qemu-img measure: how much room an image of this format would need.
     * opts: the "-o" options as strings (may be empty; "size" when --size is
     * used). in_bs: the source image (its whole backing chain counts), or NULL
     * with --size. Fills info (required, fully_allocated; has_bitmaps/bitmaps
     * when the format stores bitmaps and in_bs is given: the room its
     * persistent bitmaps would need). false + errp on bad options.
     */
    bool (*measure)(QDict *opts, BlockDriverState *in_bs, BlockMeasureInfo *info,
                    Error **errp);

    /* blkdebug hooks (only blkdebug implements them) */
    void (*debug_event)(BlockDriverState *bs, BlkdebugEvent event);
    int (*debug_breakpoint)(BlockDriverState *bs, const char *event, const char *tag);
    int (*debug_remove_breakpoint)(BlockDriverState *bs, const char *tag);
    int (*debug_resume)(BlockDriverState *bs, const char *tag);
    bool (*debug_is_suspended)(BlockDriverState *bs, const char *tag);
};

/* A parent's side of an edge: how the child reaches back to its parent. */
struct BdrvChildClass {
    bool parent_is_bds;             /* parent is a node (else a BlockBackend, job, export) */
    /* Name of the parent for error messages ("Node 'x'", "device 'y'"). */
    char *(*get_parent_desc)(BdrvChild *c);
    /*
     * Drain: the child node is being drained, so the parent must stop sending new
     * requests (begin) until told it may again (end); begin/end calls nest.
     * drained_poll: true while the parent still has requests in flight that the
     * drain must wait for (a BlockBackend's own counter).
     */
    void (*drained_begin)(BdrvChild *c);
    void (*drained_end)(BdrvChild *c);
    bool (*drained_poll)(BdrvChild *c);
    /* The child's length changed (resize); e.g. BlockBackend updates its device. */
    void (*resize)(BdrvChild *c);
    /*
     * The child goes inactive (migration hand-over: drop what the parent holds,
     * -EPERM if it cannot let go) or active again (take it back; errp).
     */
    int (*inactivate)(BdrvChild *c);
    void (*activate)(BdrvChild *c, Error **errp);
};

struct BdrvChild {
    BlockDriverState *bs;           /* the child node */
    char *name;                     /* "file", "backing", "image", "root" */
    const BdrvChildClass *klass;
    BdrvChildRole role;
    void *opaque;                   /* the parent (bs, BlockBackend, job...) */
    uint64_t perm;                  /* permissions the parent holds */
    uint64_t shared_perm;           /* permissions the parent lets others hold */
    int parent_quiesce_counter;     /* drained_begin calls made on this edge (graph.c) */
};

struct BlockDriverState {
    /* ---- set at open ---- */
    const BlockDriver *drv;
    void *opaque;                   /* drv->instance_size bytes */
    char node_name[32];             /* user's node-name or "#blockNNN" */
    char filename[PATH_MAX];        /* what the user would pass to reopen this node */
    char exact_filename[PATH_MAX];  /* plain filename if one exists, else "" */
    QDict *options;                 /* all options this node was opened with (flat) */
    QDict *explicit_options;        /* the ones the user gave */
    int open_flags;                 /* BDRV_O_* */
    bool read_only;
    bool encrypted;
    bool force_share;               /* force-share=on: never take or block locks */
    bool probed;                    /* the format was probed, not given (raw warns) */
    bool implicit;                  /* a job's unnamed filter: query-block looks through it */
    BlockdevDetectZeroesOptions detect_zeroes;

    /* ---- graph: main loop only ---- */
    BdrvChild *file;                /* primary child, or NULL */
    BdrvChild *backing;             /* COW child, or NULL */
    GSList *children;               /* BdrvChild *, all of them */
    GSList *parents;                /* BdrvChild * whose ->bs is this node */
    int refcnt;
    char backing_file[PATH_MAX];    /* as recorded in the image header */
    char backing_format[16];
    char auto_backing_file[PATH_MAX];

    /* ---- limits and capabilities: refreshed with the graph ---- */
    BlockLimits bl;
    unsigned supported_write_flags;     /* BDRV_REQ_FUA... the driver honours natively */
    unsigned supported_zero_flags;
    unsigned supported_truncate_flags;
    int64_t total_size;                 /* cached length in bytes, -1 = ask the driver */

    /* ---- request bookkeeping: main loop only (io.c) ---- */
    unsigned in_flight;             /* requests in progress (drain waits for 0) */
    int quiesce_counter;            /* > 0 while drained: new requests wait */
    struct BdrvTrackedRequest *tracked_requests;  /* io.c: newest first, intrusive */
    CoQueue drain_queue;            /* requests waiting for the end of a drain */
    unsigned serialising_in_flight;
    int copy_on_read;               /* > 0: copy-on-read is on */
    uint64_t write_gen;             /* bumped per write; flush skips when unchanged */
    uint64_t flushed_gen;           /* write_gen as of the start of the last good flush */
    bool active_flush_req;          /* a flush is running; others queue on flush_queue */
    CoQueue flush_queue;
    GSList *dirty_bitmaps;          /* BdrvDirtyBitmap *, marked after every write */
    GSList *write_notifiers;        /* BdrvWriteNotifier *: before-write hooks (backup) */
    GSList *op_blockers;            /* Error *: why the node is busy (jobs, exports) */
    uint64_t locked_perm;           /* permissions currently locked in the image file */
    uint64_t locked_shared_perm;
};

/*
 * Write hooks on a node (either callback may be NULL):
 *  - notify: called by io.c before a write/zero/discard reaches the driver.
 *    Returning -errno fails the write. The backup job's copy-before-write uses it.
 *  - after_write: called once a write or zero-write of a parent through
 *    bdrv_co_pwritev_part succeeded (dirty bitmaps already marked), still inside
 *    the tracked request, with the caller's range and data (qiov NULL and
 *    BDRV_REQ_ZERO_WRITE in flags for zeroes). Mirror's write-blocking copy mode
 *    copies the data to its target here, before the guest's write completes.
 */
typedef struct BdrvWriteNotifier {
    int coroutine_fn (*notify)(struct BdrvWriteNotifier *n, BlockDriverState *bs,
                               int64_t offset, int64_t bytes);
    void coroutine_fn (*after_write)(struct BdrvWriteNotifier *n, BlockDriverState *bs,
                                     int64_t offset, int64_t bytes, QEMUIOVector *qiov,
                                     size_t qiov_offset, BdrvRequestFlags flags);
    void *opaque;
} BdrvWriteNotifier;
void bdrv_add_before_write_notifier(BlockDriverState *bs, BdrvWriteNotifier *n);
void bdrv_remove_before_write_notifier(BlockDriverState *bs, BdrvWriteNotifier *n);

/* ---- driver registry (block/drivers/registry.c) ---- */
const BlockDriver *bdrv_find_format(const char *format_name);
/* The protocol driver for a filename ("nbd://..", "blkdebug:..", else "file"). */
const BlockDriver *bdrv_find_protocol(const char *filename, bool allow_protocol_prefix,
                                      Error **errp);
/*
 * Fuzzers and tests that open options from outside: only the drivers whose format
 * names are in allowed (NULL-terminated, static) can be found, by name, by
 * protocol prefix, as the implied "file" protocol, or by probing. NULL lifts it.
 */
void bdrv_restrict_drivers(const char *const *allowed);
/* Iterate all drivers in a stable, sorted order (for "-drive format=help"). */
void bdrv_iterate_format(void (*it)(void *opaque, const char *name), void *opaque,
                         bool read_only_only);
/* Probe the format of the first bytes of a file. */
const BlockDriver *bdrv_probe_format(const uint8_t *buf, int buf_size, const char *filename);

/* ---- option helpers for drivers' open() (values may be strings or typed) ---- */
/* Take key out of options (so it counts as recognised). NULL if absent. */
char *bdrv_opt_take_str(QDict *options, const char *key);
/* Typed variants; a malformed value sets "Parameter 'key' expects ..." and returns false. */
bool bdrv_opt_take_bool(QDict *options, const char *key, bool def, bool *out, Error **errp);
bool bdrv_opt_take_uint(QDict *options, const char *key, uint64_t def, uint64_t *out, Error **errp);
bool bdrv_opt_take_size(QDict *options, const char *key, uint64_t def, uint64_t *out, Error **errp);

/* ---- children ---- */
/*
 * Open (or look up, if options[bdref_key] is a string naming a node) a child of
 * parent named bdref_key, from filename and/or options "<bdref_key>.*" (extracted
 * from options). allow_none: a missing child is not an error (returns NULL, errp unset).
 */
BdrvChild *bdrv_open_child(const char *filename, QDict *options, const char *bdref_key,
                           BlockDriverState *parent, BdrvChildRole role, bool allow_none,
                           Error **errp);
/* Attach an existing node as child of parent (takes a reference on child_bs). */
BdrvChild *bdrv_attach_child(BlockDriverState *parent, BlockDriverState *child_bs,
                             const char *child_name, BdrvChildRole role, Error **errp);
void bdrv_unref_child(BlockDriverState *parent, BdrvChild *child);
/* The permission policy for format/filter children (drivers call it from child_perm). */
void bdrv_default_perms(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                        uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared);

/* ---- blkdebug plumbing: forwarded down the graph to the first driver with hooks ---- */
/*
 * Set (for good) by open once a node whose driver has debug hooks exists; until
 * then bdrv_debug_event, which every request calls several times, returns at
 * once instead of walking down the graph.
 */
extern bool bdrv_debug_hooks_seen;
void bdrv_debug_event(BlockDriverState *bs, BlkdebugEvent event);
#define BLKDBG_EVENT(child, evt) \
    do { if (child) { bdrv_debug_event((child)->bs, (evt)); } } while (0)

#endif /* GODWIT_BLOCK_INT_H */
