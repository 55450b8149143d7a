/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * registry.c: the one table of every block driver, and the lookups over it:
 * by format name, by protocol prefix of a filename, by probing an image's first
 * bytes; plus the blkdebug event names (an interface: QEMU's spelling).
 *
 * Adding a driver means adding one line to block_drivers[]; `-drive format=help`
 * lists exactly this table.
 */
#include "util/osdep.h"
#include "block/block-int.h"

extern const BlockDriver bdrv_file;
extern const BlockDriver bdrv_host_device;
extern const BlockDriver bdrv_raw;
extern const BlockDriver bdrv_null_co;
extern const BlockDriver bdrv_null_aio;
extern const BlockDriver bdrv_blkdebug;
extern const BlockDriver bdrv_qcow2;
extern const BlockDriver bdrv_nbd;
extern const BlockDriver bdrv_copy_on_read;
extern const BlockDriver bdrv_copy_before_write;

static const BlockDriver *const block_drivers[] = {
    &bdrv_raw,
    &bdrv_file,
    &bdrv_host_device,
    &bdrv_null_co,
    &bdrv_null_aio,
    &bdrv_blkdebug,
    &bdrv_qcow2,
    &bdrv_nbd,
    &bdrv_copy_on_read,
    &bdrv_copy_before_write,
};

/* NULL: every driver; else the only format names that can be found (fuzzers). */
static const char *const *allowed_drivers;

void bdrv_restrict_drivers(const char *const *allowed)
{
    allowed_drivers = allowed;
}

static bool bdrv_driver_allowed(const BlockDriver *drv)
{
    if (!allowed_drivers) {
        return true;
    }
    for (const char *const *a = allowed_drivers; *a; a++) {
        if (!strcmp(*a, drv->format_name)) {
            return true;
        }
    }
    return false;
}

const BlockDriver *bdrv_find_format(const char *format_name)
{
    for (size_t i = 0; i < ARRAY_SIZE(block_drivers); i++) {
        if (bdrv_driver_allowed(block_drivers[i]) &&
            !strcmp(block_drivers[i]->format_name, format_name)) {
            return block_drivers[i];
        }
    }
    return NULL;
}

/*
 * "proto:rest" names a protocol when the colon comes before any slash, so
 * "/images/a:b" and "./x:y" are plain files (QEMU's rule).
 */
static size_t bdrv_protocol_prefix_len(const char *filename)
{
    size_t n = strcspn(filename, ":/");

    return filename[n] == ':' ? n : 0;
}

const BlockDriver *bdrv_find_protocol(const char *filename, bool allow_protocol_prefix,
                                      Error **errp)
{
    size_t len = bdrv_protocol_prefix_len(filename);

    if (!allow_protocol_prefix || len == 0) {
        if (!bdrv_driver_allowed(&bdrv_file)) {
            error_setg(errp, "Driver 'file' is not allowed here");
            return NULL;
        }
        return &bdrv_file;
    }
    for (size_t i = 0; i < ARRAY_SIZE(block_drivers); i++) {
        const char *proto = block_drivers[i]->protocol_name;
        if (proto && bdrv_driver_allowed(block_drivers[i]) && strlen(proto) == len &&
            !strncmp(proto, filename, len)) {
            return block_drivers[i];
        }
    }
    /* nbd+unix:// and nbd+tcp:// belong to the nbd driver. */
    if (len > 4 && !strncmp(filename, "nbd+", 4)) {
        const BlockDriver *nbd = bdrv_find_format("nbd");
        if (nbd) {
            return nbd;
        }
    }
    error_setg(errp, "Unknown protocol '%.*s'", (int)len, filename);
    return NULL;
}

static gint bdrv_compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void bdrv_iterate_format(void (*it)(void *opaque, const char *name), void *opaque,
                         bool read_only_only)
{
    const char *names[ARRAY_SIZE(block_drivers)];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(block_drivers); i++) {
        if ((block_drivers[i]->flags & BDRV_F_READ_ONLY_ONLY) && !read_only_only) {
            continue;
        }
        names[n++] = block_drivers[i]->format_name;
    }
    qsort(names, n, sizeof(names[0]), bdrv_compare_names);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(names[i], names[i - 1])) {
            it(opaque, names[i]);
        }
    }
}

const BlockDriver *bdrv_probe_format(const uint8_t *buf, int buf_size, const char *filename)
{
    const BlockDriver *best = NULL;
    int best_score = 0;

    for (size_t i = 0; i < ARRAY_SIZE(block_drivers); i++) {
        const BlockDriver *drv = block_drivers[i];
        if (!drv->probe || !bdrv_driver_allowed(drv)) {
            continue;
        }
        int score = drv->probe(buf, buf_size, filename);
        if (score > best_score) {
            best = drv;
            best_score = score;
        }
    }
    return best;
}

/* blkdebug event names, indexed by BlkdebugEvent: QEMU 7.2's list. */
static const char *const blkdebug_event_names[BLKDBG__MAX] = {
    [BLKDBG_L1_UPDATE]                   = "l1_update",
    [BLKDBG_L1_GROW_ALLOC_TABLE]         = "l1_grow_alloc_table",
    [BLKDBG_L1_GROW_WRITE_TABLE]         = "l1_grow_write_table",
    [BLKDBG_L1_GROW_ACTIVATE_TABLE]      = "l1_grow_activate_table",
    [BLKDBG_L1_SHRINK_WRITE_TABLE]       = "l1_shrink_write_table",
    [BLKDBG_L1_SHRINK_FREE_L2_CLUSTERS]  = "l1_shrink_free_l2_clusters",
    [BLKDBG_L2_LOAD]                     = "l2_load",
    [BLKDBG_L2_UPDATE]                   = "l2_update",
    [BLKDBG_L2_UPDATE_COMPRESSED]        = "l2_update_compressed",
    [BLKDBG_L2_ALLOC_COW_READ]           = "l2_alloc_cow_read",
    [BLKDBG_L2_ALLOC_WRITE]              = "l2_alloc_write",
    [BLKDBG_READ_AIO]                    = "read_aio",
    [BLKDBG_READ_BACKING_AIO]            = "read_backing_aio",
    [BLKDBG_READ_COMPRESSED]             = "read_compressed",
    [BLKDBG_WRITE_AIO]                   = "write_aio",
    [BLKDBG_WRITE_COMPRESSED]            = "write_compressed",
    [BLKDBG_VMSTATE_LOAD]                = "vmstate_load",
    [BLKDBG_VMSTATE_SAVE]                = "vmstate_save",
    [BLKDBG_COW_READ]                    = "cow_read",
    [BLKDBG_COW_WRITE]                   = "cow_write",
    [BLKDBG_REFTABLE_LOAD]               = "reftable_load",
    [BLKDBG_REFTABLE_GROW]               = "reftable_grow",
    [BLKDBG_REFTABLE_UPDATE]             = "reftable_update",
    [BLKDBG_REFBLOCK_LOAD]               = "refblock_load",
    [BLKDBG_REFBLOCK_UPDATE]             = "refblock_update",
    [BLKDBG_REFBLOCK_UPDATE_PART]        = "refblock_update_part",
    [BLKDBG_REFBLOCK_ALLOC]              = "refblock_alloc",
    [BLKDBG_REFBLOCK_ALLOC_HOOKUP]       = "refblock_alloc_hookup",
    [BLKDBG_REFBLOCK_ALLOC_WRITE]        = "refblock_alloc_write",
    [BLKDBG_REFBLOCK_ALLOC_WRITE_BLOCKS] = "refblock_alloc_write_blocks",
    [BLKDBG_REFBLOCK_ALLOC_WRITE_TABLE]  = "refblock_alloc_write_table",
    [BLKDBG_REFBLOCK_ALLOC_SWITCH_TABLE] = "refblock_alloc_switch_table",
    [BLKDBG_CLUSTER_ALLOC]               = "cluster_alloc",
    [BLKDBG_CLUSTER_ALLOC_BYTES]         = "cluster_alloc_bytes",
    [BLKDBG_CLUSTER_FREE]                = "cluster_free",
    [BLKDBG_FLUSH_TO_OS]                 = "flush_to_os",
    [BLKDBG_FLUSH_TO_DISK]               = "flush_to_disk",
    [BLKDBG_PWRITEV_RMW_HEAD]            = "pwritev_rmw_head",
    [BLKDBG_PWRITEV_RMW_AFTER_HEAD]      = "pwritev_rmw_after_head",
    [BLKDBG_PWRITEV_RMW_TAIL]            = "pwritev_rmw_tail",
    [BLKDBG_PWRITEV_RMW_AFTER_TAIL]      = "pwritev_rmw_after_tail",
    [BLKDBG_PWRITEV]                     = "pwritev",
    [BLKDBG_PWRITEV_ZERO]                = "pwritev_zero",
    [BLKDBG_PWRITEV_DONE]                = "pwritev_done",
    [BLKDBG_EMPTY_IMAGE_PREPARE]         = "empty_image_prepare",
    [BLKDBG_COR_WRITE]                   = "cor_write",
    [BLKDBG_CLUSTER_ALLOC_SPACE]         = "cluster_alloc_space",
    [BLKDBG_NONE]                        = "none",
};

const char *blkdebug_event_name(BlkdebugEvent ev)
{
    assert(ev >= 0 && ev < BLKDBG__MAX && blkdebug_event_names[ev]);
    return blkdebug_event_names[ev];
}

int blkdebug_event_from_name(const char *name)
{
    for (int i = 0; i < BLKDBG__MAX; i++) {
        if (blkdebug_event_names[i] && !strcmp(blkdebug_event_names[i], name)) {
            return i;
        }
    }
    return -1;
}
