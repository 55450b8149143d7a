/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qcow2.h: private contract between the files of the qcow2 driver.
 *
 *   header.c    header + extensions: parse, validate, serialise (pure, no I/O)
 *   cache.c     the L2 and refcount-block caches (write-back, LRU)
 *   refcount.c  refcount lookups, cluster allocation and deferred freeing
 *   cluster.c   guest -> host mapping through L1/L2, L2 allocation and COW, zero/discard
 *   compress.c  zlib (raw deflate) and zstd cluster (de)compression
 *   snapshot.c  the internal snapshot table (read, validated, preserved)
 *   check.c     qemu-img check: in-memory refcount count, repair, full rebuild
 *   bitmap.c    persistent dirty bitmaps (bitmaps extension): load, store, remove
 *   amend.c     qemu-img amend (compat, lazy_refcounts) and measure
 *   create.c    image creation (qemu-img create -f qcow2)
 *   qcow2.c     open/close, request callbacks, the BlockDriver table
 *
 * Threads and locks: everything runs in the main loop. BDRVQcow2State.lock (a
 * CoMutex) protects every piece of metadata: the L1 table, both caches, the
 * refcount table, the in-flight allocation list and the pending-free list. It is
 * held across metadata I/O (cache misses, write-back) but never across guest
 * data I/O: a write allocates clusters under the lock, drops it, writes data
 * (with copy-on-write padding), then retakes it to link the clusters into L2.
 * Functions named *_locked expect the lock held; every coroutine_fn may yield.
 *
 * Crash safety (leaks allowed, corruption never):
 *  - refcount increments reach the disk (write + flush) before any L2/L1 entry
 *    that uses them (the L2 cache flushes the refcount cache first);
 *  - a freshly allocated cluster is written before the L2 entry linking it is
 *    written (data I/O completes before the entry is set in the cache);
 *  - refcount decrements are deferred (pending_frees) until the L2/L1 entries
 *    that stopped referencing the clusters are on disk, so the on-disk refcount
 *    of a cluster is never lower than the number of on-disk references to it.
 * With lazy refcounts (compat bit 0) the first two rules are dropped for speed:
 * the header's dirty bit is set while the image is open read-write, and an
 * image found dirty is repaired (refcounts recounted) when opened read-write.
 */
#ifndef GODWIT_QCOW2_H
#define GODWIT_QCOW2_H

#include "util/osdep.h"
#include "block/block.h"
#include "block/block-int.h"
#include "qobject/qlist.h"

/* ---- on-disk constants (docs/interop/qcow2.txt) ---- */
#define QCOW2_MAGIC                 0x514649fbu   /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN         72
#define QCOW2_V3_MIN_HEADER_LEN     104
#define QCOW2_V3_HEADER_LEN         112           /* what we write: with compression_type */
#define QCOW2_MIN_CLUSTER_BITS      9
#define QCOW2_MAX_CLUSTER_BITS      21
#define QCOW2_DEFAULT_CLUSTER_BITS  16
#define QCOW2_MAX_REFTABLE_BYTES    (8 * MiB)     /* QEMU's limits, so we open what it opens */
#define QCOW2_MAX_L1_BYTES          (32 * MiB)
#define QCOW2_MAX_SNAPSHOTS         65536
#define QCOW2_MAX_BACKING_NAME      1023
#define QCOW2_COMPRESSED_SECTOR     512

#define QCOW2_EXT_END               0x00000000u
#define QCOW2_EXT_BACKING_FORMAT    0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE     0x6803f857u
#define QCOW2_EXT_BITMAPS           0x23852875u
#define QCOW2_EXT_CRYPTO            0x0537be77u
#define QCOW2_EXT_DATA_FILE         0x44415441u

enum {
    QCOW2_INCOMPAT_DIRTY       = 1 << 0,
    QCOW2_INCOMPAT_CORRUPT     = 1 << 1,
    QCOW2_INCOMPAT_DATA_FILE   = 1 << 2,
    QCOW2_INCOMPAT_COMPRESSION = 1 << 3,
    QCOW2_INCOMPAT_EXTL2       = 1 << 4,
    QCOW2_INCOMPAT_KNOWN       = 0x1f,
    QCOW2_COMPAT_LAZY_REFCOUNTS = 1 << 0,
    QCOW2_AUTOCLEAR_BITMAPS    = 1 << 0,
    QCOW2_AUTOCLEAR_DATA_RAW   = 1 << 1,
};

enum { QCOW2_COMPRESSION_ZLIB = 0, QCOW2_COMPRESSION_ZSTD = 1 };

/* L1/L2/reftable entry bits */
#define QCOW2_OFLAG_COPIED      (UINT64_C(1) << 63)
#define QCOW2_OFLAG_COMPRESSED  (UINT64_C(1) << 62)
#define QCOW2_OFLAG_ZERO        UINT64_C(1)
#define QCOW2_L1E_OFFSET_MASK   UINT64_C(0x00fffffffffffe00)
#define QCOW2_L2E_OFFSET_MASK   UINT64_C(0x00fffffffffffe00)
#define QCOW2_REFT_OFFSET_MASK  UINT64_C(0xfffffffffffffe00)

/* ---- header (host byte order) ---- */
typedef struct Qcow2Header {
    uint32_t magic, version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size, cluster_bits;
    uint64_t size;
    uint32_t crypt_method, l1_size;
    uint64_t l1_table_offset, refcount_table_offset;
    uint32_t refcount_table_clusters, nb_snapshots;
    uint64_t snapshots_offset;
    /* v3 (v2 reads as 0, refcount_order 4, header_length 72) */
    uint64_t incompatible_features, compatible_features, autoclear_features;
    uint32_t refcount_order, header_length;
    uint8_t compression_type;
} Qcow2Header;

/* One entry of the feature name table extension. */
typedef struct Qcow2Feature {
    uint8_t type;                   /* 0 incompatible, 1 compatible, 2 autoclear */
    uint8_t bit;
    char name[47];                  /* 46 bytes on disk, NUL added */
} Qcow2Feature;

/* A header extension we keep verbatim (unknown ones, bitmaps). */
typedef struct Qcow2Ext {
    uint32_t magic;
    uint32_t len;
    uint8_t *data;
} Qcow2Ext;

/* Everything the header cluster holds besides the fixed fields. */
typedef struct Qcow2HeaderExts {
    char backing_format[16];        /* "" when absent */
    bool has_backing_format;
    Qcow2Feature *features;         /* from the image's table (for messages) */
    int nb_features;
    Qcow2Ext *others;               /* preserved in order: bitmaps, unknown */
    int nb_others;
    bool has_crypto, has_data_file;
} Qcow2HeaderExts;

/* header.c: pure functions */
bool qcow2_header_parse(const uint8_t *buf, size_t len, Qcow2Header *h, Error **errp);
/* Checks that need nothing but the header (QEMU's messages, in QEMU's order). */
bool qcow2_header_validate(const Qcow2Header *h, Error **errp);
/* Extensions live in [start, end) of the first cluster; fills exts (free with _clear). */
bool qcow2_header_read_exts(const uint8_t *buf, size_t start, size_t end,
                            Qcow2HeaderExts *exts, Error **errp);
void qcow2_header_exts_clear(Qcow2HeaderExts *exts);
/* "Unsupported qcow2 feature(s): ..." text for the unknown bits in mask. */
char *qcow2_unsupported_features(const Qcow2HeaderExts *exts, uint64_t mask);
/*
 * Serialise header + extensions + backing name into buf (buf_len bytes, zeroed
 * here). v3 gets the standard feature table. Sets h->backing_file_offset/size.
 * Returns the bytes used or -EFBIG if they do not fit.
 */
int qcow2_header_serialize(Qcow2Header *h, const Qcow2HeaderExts *exts,
                           const char *backing_file, uint8_t *buf, size_t buf_len);

/* Validate a table's offset and entry count against QEMU's limits. */
bool qcow2_validate_table(uint64_t offset, uint64_t entries, size_t entry_len,
                          uint64_t max_bytes, uint32_t cluster_bits, const char *what,
                          Error **errp);

/* ---- refcount block entry arithmetic (pure; refcount_order 0..6, LSB first) ---- */
uint64_t qcow2_refblock_get(const void *block, uint32_t order, uint64_t index);
void qcow2_refblock_set(void *block, uint32_t order, uint64_t index, uint64_t value);

/* ---- L2 entry decoding (pure) ---- */
typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,
    QCOW2_CLUSTER_ZERO_PLAIN,       /* zero flag, no host cluster */
    QCOW2_CLUSTER_ZERO_ALLOC,       /* zero flag with a preallocated host cluster */
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterType;

/* Type of an L2 entry; v2 images have no zero flag (bit 0 is then ignored). */
Qcow2ClusterType qcow2_l2_entry_type(uint64_t entry, int version);
/* Host byte offset and byte length of a compressed cluster's data. */
void qcow2_compressed_location(uint64_t entry, uint32_t cluster_bits, uint64_t *host,
                               uint64_t *bytes);
uint64_t qcow2_compressed_entry(uint64_t host, uint64_t bytes, uint32_t cluster_bits);

/* ---- cache.c ---- */
typedef struct Qcow2CacheEntry {
    uint64_t offset;                /* host offset of the table, 0 = empty slot */
    void *table;                    /* cluster_size bytes, big-endian as on disk */
    bool dirty;
    int ref;                        /* pinned while > 0 */
    uint64_t lru;
} Qcow2CacheEntry;

typedef struct Qcow2Cache {
    Qcow2CacheEntry *entries;
    int size;
    GHashTable *index;              /* offset -> entry */
    uint64_t lru_clock;
    bool is_l2;                     /* writing back needs the refcounts on disk first */
} Qcow2Cache;

typedef struct BDRVQcow2State BDRVQcow2State;

Qcow2Cache *qcow2_cache_new(int entries, bool is_l2);
void qcow2_cache_free(Qcow2Cache *c);
bool qcow2_cache_has_dirty(Qcow2Cache *c);
/* Pin the table at offset, reading it if needed. -errno. */
int coroutine_fn qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset,
                                 Qcow2CacheEntry **out);
/* Pin a fresh zeroed table for offset without reading (newly allocated). */
int coroutine_fn qcow2_cache_get_empty(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset,
                                       Qcow2CacheEntry **out);
void qcow2_cache_put(Qcow2CacheEntry **e);
void qcow2_cache_mark_dirty(Qcow2CacheEntry *e);
/* Write every dirty table (no flush of the file). */
int coroutine_fn qcow2_cache_write(BlockDriverState *bs, Qcow2Cache *c);
/* Forget the table at offset (it was freed); dirty contents are dropped. */
void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset);
void qcow2_cache_clear(Qcow2Cache *c);

/* ---- driver state (bs->opaque) ---- */

/* A guest range whose clusters are being allocated; overlapping writers wait. */
typedef struct Qcow2InFlight {
    uint64_t start, end;            /* guest bytes, cluster aligned */
    CoQueue waiters;
    struct Qcow2InFlight *next;
} Qcow2InFlight;

/* A host range whose refcount drops once the unlinking metadata is on disk. */
typedef struct Qcow2PendingFree {
    uint64_t offset, bytes;
    bool discard;                   /* also discard on the file (guest discard) */
} Qcow2PendingFree;

typedef struct Qcow2Snapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    char *id_str, *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec, vm_state_size, disk_size;
    uint32_t extra_data_size;
    uint8_t *extra_data;            /* preserved verbatim */
} Qcow2Snapshot;

/* One bitmap directory entry (bitmap.c draws the layout). */
typedef struct Qcow2Bitmap {
    uint64_t table_offset;
    uint32_t table_size;            /* entries */
    uint32_t flags;                 /* in_use, auto, extra_data_compatible */
    uint8_t type, granularity_bits;
    char *name;
    uint32_t extra_data_size;
    uint8_t *extra_data;            /* preserved verbatim */
} Qcow2Bitmap;

/* The bitmaps header extension, parsed. */
typedef struct Qcow2BitmapExt {
    uint32_t nb_bitmaps;
    uint64_t dir_size, dir_offset;
} Qcow2BitmapExt;

struct BDRVQcow2State {
    /* ---- set at open ---- */
    Qcow2Header h;
    Qcow2HeaderExts exts;
    uint32_t cluster_bits, cluster_size, l2_bits, l2_entries;
    uint32_t refcount_order, refblock_bits;   /* refblock_bits: log2(entries per block) */
    uint64_t refcount_max;
    uint64_t cluster_mask;          /* cluster_size - 1 */
    bool rw;
    bool discard_passthrough;       /* pass-discard-request */
    bool lazy_refcounts;            /* rw + compat bit: dirty bit set, no refcount-first ordering */
    int version;
    Qcow2Snapshot *snapshots;
    int nb_snapshots;
    uint64_t snapshots_size;        /* bytes of the snapshot table */

    /* ---- protected by lock ---- */
    CoMutex lock;
    uint64_t *l1;                   /* host byte order, l1_alloc entries */
    uint32_t l1_size, l1_alloc;
    uint64_t l1_offset;
    uint64_t *reftable;             /* host byte order */
    uint64_t reftable_size;         /* entries */
    uint64_t reftable_offset;
    uint64_t reftable_used;         /* entries past this one are all 0 (overlap check) */
    Qcow2Cache *l2_cache, *rb_cache;
    bool rb_unsynced;               /* refblocks written but the file not flushed */
    uint64_t free_hint;             /* lowest cluster index that may be free */
    uint64_t free_byte_offset;      /* next byte for compressed data, 0 = none */
    Qcow2InFlight *in_flight;
    GArray *pending_frees;          /* Qcow2PendingFree */
    Qcow2Bitmap *bitmaps;           /* the bitmap directory as it is on disk */
    int nb_bitmaps;
    uint64_t bitmap_dir_offset, bitmap_dir_size;
    bool bitmaps_loaded;            /* BdrvDirtyBitmaps exist: close stores them */
    bool corrupt;                   /* marked corrupt: every request fails */
    bool signalled_corrupt;
    bool dead;                      /* fatal corruption seen: requests get -ENOMEDIUM */
    int snapshot_table_error;       /* check mode: -errno of a bad snapshot table */
    int8_t metadata_prealloc;       /* -1 not checked yet, else the answer (block status) */
};

/* ---- refcount.c (lock held) ---- */
int coroutine_fn qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster, uint64_t *rc);
/* Add delta (+1/-1) to the refcount of every cluster touching [offset, offset+bytes). */
int coroutine_fn qcow2_update_refcount(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                       int delta);
/* Allocate n contiguous clusters (refcount 1); returns the host offset or -errno. */
int64_t coroutine_fn qcow2_alloc_clusters(BlockDriverState *bs, uint64_t n);
/*
 * Allocate size (<= cluster_size) bytes for compressed data: packed after the
 * previous compressed cluster when it fits, else at the start of a new cluster.
 * Every host cluster the bytes touch gains one reference. Host offset or -errno.
 */
int64_t coroutine_fn qcow2_alloc_bytes(BlockDriverState *bs, uint64_t size);
/* Queue a refcount decrement for after the next metadata flush. */
void qcow2_free_deferred(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool discard);
/* Write the refcount cache and flush the file. */
int coroutine_fn qcow2_refcount_sync(BlockDriverState *bs);
/* Full metadata flush: refcounts, L2 tables, then pending frees. */
int coroutine_fn qcow2_flush_metadata(BlockDriverState *bs);
int coroutine_fn qcow2_load_reftable(BlockDriverState *bs, Error **errp);
/*
 * Whether the image looks created with preallocation=metadata: clearly more
 * clusters carry a refcount than the file has allocated. 1 yes, 0 no, -errno.
 */
int coroutine_fn qcow2_detect_metadata_prealloc(BlockDriverState *bs);
/* Metadata kinds for the overlap check (QEMU's overlap-check names in comments). */
enum {
    QCOW2_OL_HEADER    = 1 << 0,   /* main-header */
    QCOW2_OL_L1        = 1 << 1,   /* active-l1 */
    QCOW2_OL_L2        = 1 << 2,   /* active-l2 */
    QCOW2_OL_REFT      = 1 << 3,   /* refcount-table */
    QCOW2_OL_REFBLOCK  = 1 << 4,   /* refcount-block */
    QCOW2_OL_SNAPSHOTS = 1 << 5,   /* snapshot-table, inactive-l1 */
    QCOW2_OL_ALL       = 0x3f,
};
/* Which metadata (not in ign) [offset, offset+bytes) overlaps: 0 or one QCOW2_OL_*. */
int qcow2_check_overlap(BlockDriverState *bs, int ign, uint64_t offset, uint64_t bytes);
/* Check, and mark corrupt (QEMU's message) when a write would hit metadata: -EIO. */
int qcow2_pre_write_check(BlockDriverState *bs, int ign, uint64_t offset, uint64_t bytes);
/* "qcow2: Marking image as corrupt: <msg>; further corruption events will be suppressed" */
void qcow2_signal_corruption(BlockDriverState *bs, const char *fmt, ...) GODWIT_PRINTF(2, 3);
/* With the metadata range concerned (BLOCK_IMAGE_CORRUPTED's offset and size). */
void qcow2_signal_corruption_at(BlockDriverState *bs, int64_t offset, int64_t size,
                                const char *fmt, ...) GODWIT_PRINTF(4, 5);

/* ---- cluster.c (lock held unless stated) ---- */
/*
 * Map guest offset: returns the type of the cluster at offset and in *bytes
 * (<= max) how far that mapping continues; *host is the host byte offset for
 * NORMAL/ZERO_ALLOC, *l2_entry the raw entry.
 */
int coroutine_fn qcow2_get_mapping(BlockDriverState *bs, uint64_t offset, uint64_t max,
                                   uint64_t *bytes, uint64_t *host, uint64_t *l2_entry);
/* Pin the L2 table covering offset for writing (allocates / COWs it). */
int coroutine_fn qcow2_get_l2_for_write(BlockDriverState *bs, uint64_t offset,
                                        Qcow2CacheEntry **l2, uint32_t *index);
int coroutine_fn qcow2_write_l1_entry(BlockDriverState *bs, uint32_t index);
int coroutine_fn qcow2_grow_l1(BlockDriverState *bs, uint64_t min_size, bool exact);
/* Guest data paths (take the lock themselves) */
int coroutine_fn qcow2_co_write_clusters(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                         QEMUIOVector *qiov, size_t qiov_offset);
typedef enum Qcow2ZeroMode {
    QCOW2_ZERO_KEEP,        /* write zeroes, keep preallocated clusters */
    QCOW2_ZERO_UNMAP,       /* write zeroes, free clusters */
    QCOW2_DISCARD,          /* guest discard: reads as zero (v3) or from backing (v2) */
    QCOW2_DISCARD_FULL,     /* shrink: entries become unallocated */
} Qcow2ZeroMode;
/* [offset, offset+bytes) must be cluster aligned (the end may be the image end). */
int coroutine_fn qcow2_co_zero_clusters(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                        Qcow2ZeroMode mode);
int coroutine_fn qcow2_co_read_cluster_data(BlockDriverState *bs, uint64_t offset,
                                            uint64_t bytes, uint64_t l2_entry,
                                            QEMUIOVector *qiov, size_t qiov_offset);
/* Queue the freeing of the host clusters an L2 entry holds (it is being replaced). */
void qcow2_free_l2_entry(BlockDriverState *bs, uint64_t entry, bool discard);
void qcow2_in_flight_add(BDRVQcow2State *s, Qcow2InFlight *r, uint64_t start, uint64_t end);
void qcow2_in_flight_remove(BDRVQcow2State *s, Qcow2InFlight *r);
void coroutine_fn qcow2_in_flight_wait(BDRVQcow2State *s, uint64_t start, uint64_t end);

/* ---- compress.c ---- */
/* Decompress src into a full cluster dst; -EIO on malformed data. */
int qcow2_decompress(int type, const void *src, size_t src_len, void *dst, size_t dst_len);
/* Compress; returns compressed bytes, or -ENOSPC if not smaller than dst_len. */
ssize_t qcow2_compress(int type, const void *src, size_t src_len, void *dst, size_t dst_len);
/*
 * BDRV_REQ_WRITE_COMPRESSED: offset cluster aligned, bytes whole clusters (the
 * last may end at the image end; it is padded with zeroes), else -EINVAL. A
 * cluster that does not shrink is written uncompressed. Takes the lock itself.
 */
int coroutine_fn qcow2_co_write_compressed(BlockDriverState *bs, uint64_t offset,
                                           uint64_t bytes, QEMUIOVector *qiov,
                                           size_t qiov_offset);

/* ---- snapshot.c ---- */
int coroutine_fn qcow2_read_snapshots(BlockDriverState *bs, Error **errp);
void qcow2_free_snapshots(BDRVQcow2State *s);
/* Parse a snapshot table image (pure, for tests and the fuzzer). */
int qcow2_parse_snapshots(const uint8_t *buf, size_t len, int nb, int version,
                          Qcow2Snapshot **out, Error **errp);

/* The BlockDriver snapshot_* callbacks (contracts in block-int.h). */
int qcow2_snapshot_create(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp);
int qcow2_snapshot_goto(BlockDriverState *bs, const char *id_or_name);
int qcow2_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                          Error **errp);
int qcow2_snapshot_list(BlockDriverState *bs, QEMUSnapshotInfo **list);

/* ---- check.c ---- */
/*
 * Count every reference, compare with the refcounts and, with fix, repair them.
 * When the refcount structures themselves are broken (a referenced cluster
 * without a refcount block, a refcount block outside the image or overlapping
 * other metadata) and BDRV_FIX_ERRORS is given, the refcount table and blocks
 * are rebuilt from the in-memory counts ("Rebuilding refcount structure").
 */
int coroutine_fn qcow2_co_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix);
/* amend refcount_bits: rebuild the refcount structure with 1 << order bits (lock held). */
int coroutine_fn qcow2_change_refcount_order(BlockDriverState *bs, uint32_t order);

/* ---- bitmap.c ---- */
/* Pure helpers (unit tests, fuzzer): the 24-byte extension and the directory. */
bool qcow2_bitmap_ext_parse(const uint8_t *data, size_t len, Qcow2BitmapExt *ext,
                            Error **errp);
/* Parse nb entries of a directory of len bytes; *out (g_new) on success; nb or -EINVAL. */
int qcow2_bitmap_dir_parse(const uint8_t *buf, size_t len, uint32_t nb, Qcow2Bitmap **out,
                           Error **errp);
/* Serialise entries; *len = bytes (g_malloc'd result). */
uint8_t *qcow2_bitmap_dir_serialize(const Qcow2Bitmap *list, int nb, uint64_t *len);
void qcow2_bitmap_list_free(Qcow2Bitmap *list, int nb);
/* Bitmap table entries for a disk of disk_size bytes. */
uint64_t qcow2_bitmap_table_entries(uint64_t disk_size, uint32_t granularity_bits,
                                    uint32_t cluster_bits);
/* Bytes a fully stored bitmap takes (data clusters + table), for measure. */
uint64_t qcow2_bitmap_measure(uint64_t disk_size, uint32_t granularity, uint32_t cluster_bits);
/* Open, step 1 (load_tables): read and validate the directory into s->bitmaps. */
int coroutine_fn qcow2_bitmaps_read_dir(BlockDriverState *bs, Error **errp);
/*
 * Open, step 2 (after a dirty-image repair): one BdrvDirtyBitmap per supported
 * entry (persistent; disabled without "auto"; inconsistent if in_use; readonly
 * on a read-only open); a read-write open sets in_use on disk. Lock not needed
 * (open is single-threaded) but taken by nobody else.
 */
int coroutine_fn qcow2_bitmaps_load(BlockDriverState *bs, Error **errp);
/*
 * Write every persistent, consistent bitmap of bs to new clusters and a new
 * directory (in_use as given), keep unsupported and inconsistent entries,
 * drop entries whose bitmap is gone or no longer persistent, free the old
 * clusters. -ENOTSUP for a v2 or read-only image with bitmaps to store.
 */
int coroutine_fn qcow2_bitmaps_store(BlockDriverState *bs, bool in_use);
/* Report every cluster the bitmaps extension uses (directory, tables, data). */
int coroutine_fn qcow2_bitmaps_for_each_cluster(BlockDriverState *bs,
                                                void (*fn)(void *opaque, uint64_t offset,
                                                           uint64_t bytes),
                                                void *opaque);
/* ImageInfoSpecificQCow2.bitmaps: [{flags, name, granularity}] from the directory. */
QList *qcow2_bitmaps_info(BlockDriverState *bs);
/* BlockDriver.bitmap_can_store / bitmap_remove_persistent (contracts in block-int.h). */
bool qcow2_bitmap_can_store(BlockDriverState *bs, const char *name, uint32_t granularity,
                            Error **errp);
bool qcow2_bitmap_remove_persistent(BlockDriverState *bs, const char *name, Error **errp);
/* Read-only node: are there persistent bitmaps close cannot store? */
bool qcow2_has_new_persistent_bitmaps(BlockDriverState *bs);

/* ---- amend.c ---- */
/* BlockDriver.amend_options and .measure (contracts in block-int.h). */
int qcow2_amend_options(BlockDriverState *bs, QDict *opts,
                        void (*status_cb)(BlockDriverState *bs, int64_t offset,
                                          int64_t total, void *opaque),
                        void *cb_opaque, bool force, Error **errp);
bool qcow2_measure(QDict *opts, BlockDriverState *in_bs, BlockMeasureInfo *info, Error **errp);

/* ---- create.c ---- */
extern const CreateOption qcow2_create_opts[];
int coroutine_fn qcow2_co_create_node(BlockDriverState *file, QDict *opts, Error **errp);
int coroutine_fn qcow2_co_create_opts(BlockDriver *drv, const char *filename, QDict *opts,
                                      Error **errp);

/* ---- qcow2.c ---- */
/* Run fn as a coroutine (directly when already in one) and wait for it. */
int qcow2_run_co(int (*fn)(BlockDriverState *, void *, Error **), BlockDriverState *bs,
                 void *opaque, Error **errp);
/* Rewrite the header cluster from s (extensions preserved). */
int coroutine_fn qcow2_update_header(BlockDriverState *bs);

static inline uint64_t qcow2_offset_to_l1_index(BDRVQcow2State *s, uint64_t offset)
{
    return offset >> (s->l2_bits + s->cluster_bits);
}

static inline uint32_t qcow2_offset_to_l2_index(BDRVQcow2State *s, uint64_t offset)
{
    return (offset >> s->cluster_bits) & (s->l2_entries - 1);
}

static inline uint64_t qcow2_l2_get(Qcow2CacheEntry *e, uint32_t i)
{
    return GUINT64_FROM_BE(((uint64_t *)e->table)[i]);
}

static inline void qcow2_l2_set(Qcow2CacheEntry *e, uint32_t i, uint64_t v)
{
    ((uint64_t *)e->table)[i] = GUINT64_TO_BE(v);
}

#endif /* GODWIT_QCOW2_H */
