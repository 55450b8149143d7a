/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block.c: the "block" section, old-style block migration (`migrate -b`/`blk`,
 * `-i`/`inc`). A thin layer over the primitives mirror uses: for each writable
 * named block device an enabled dirty bitmap (1 MiB chunks), a bulk pass (for
 * inc only chunks the top image allocates), dirty passes while the VM runs and a
 * final pass once it is stopped.
 *
 *   START     be32 count | { str8 device | be64 size }*
 *   PART/END  { be64 offset|flags | str8 device | be32 length | length bytes }*
 *             flags (low 9 bits): 1 ZERO (no bytes follow), 2 PROGRESS (offset
 *             holds the percentage, device "" and length 0), 4 EOS
 *
 * The destination prints "Receiving block device images" and then "Completed N %"
 * on stdout ('\r' between updates, '\n' after 100), as QEMU 7.2 does.
 */
#include "util/osdep.h"
#include "block/block.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"
#include "migration/migration.h"

#define BLK_MIG_CHUNK        (1 * MiB)
#define BLK_MIG_F_ZERO       1
#define BLK_MIG_F_PROGRESS   2
#define BLK_MIG_F_EOS        4
#define BLK_MIG_F_MASK       0x1ffULL
#define BLK_MIG_MAX_DEVS     1024

typedef struct BlkMigDev {
    BlockBackend *blk;
    char *name;
    int64_t size;
    BdrvDirtyBitmap *bitmap;     /* source */
    int64_t cursor;              /* source: next bulk offset */
    BlockDriverState *blocked;   /* source: the root node jobs may not touch meanwhile */
    Error *blocker;              /* "block device is in use by migration" */
} BlkMigDev;

typedef struct BlkMig {
    GHashTable *fixed;           /* name -> BlockBackend: explicit devices, or NULL: all named */
    GPtrArray *devs;             /* BlkMigDev * (source or destination) */
    uint8_t *buf;
    int last_pct;
    bool banner;                 /* destination printed its banner */
} BlkMig;

static void blk_mig_dev_free(gpointer p)
{
    BlkMigDev *d = p;

    if (d->bitmap) {
        bdrv_release_dirty_bitmap(d->bitmap);
    }
    if (d->blocked) {
        bdrv_op_unblock_all(d->blocked, d->blocker);
        bdrv_unref(d->blocked);
        error_free(d->blocker);
    }
    blk_unref(d->blk);
    g_free(d->name);
    g_free(d);
}

static void blk_mig_reset(BlkMig *bm)
{
    g_clear_pointer(&bm->devs, g_ptr_array_unref);
    bm->devs = g_ptr_array_new_with_free_func(blk_mig_dev_free);
    bm->last_pct = -1;
    bm->banner = false;
    if (!bm->buf) {
        bm->buf = g_malloc(BLK_MIG_CHUNK);
    }
}

/* ------------------------------------------------------------------------- */
/* source */

static bool blk_mig_is_active(void *opaque, const MigSaveInfo *info)
{
    return info->blk;
}

static int blk_mig_save_setup(MigStream *f, void *opaque, MigSaveInfo *info, Error **errp)
{
    BlkMig *bm = opaque;

    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GPtrArray) blks = g_ptr_array_new();

    blk_mig_reset(bm);
    if (bm->fixed) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, bm->fixed);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            g_ptr_array_add(names, k);
            g_ptr_array_add(blks, v);
        }
    } else {
        for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
            g_ptr_array_add(names, (gpointer)blk_name(blk));
            g_ptr_array_add(blks, blk);
        }
    }
    for (guint i = 0; i < blks->len; i++) {
        BlockBackend *blk = g_ptr_array_index(blks, i);
        const char *name = g_ptr_array_index(names, i);
        if (!*name || !blk_is_inserted(blk) || blk_is_read_only(blk)) {
            continue;
        }
        BlkMigDev *d = g_new0(BlkMigDev, 1);
        d->blk = blk;
        blk_ref(blk);
        d->name = g_strdup(name);
        g_ptr_array_add(bm->devs, d);
        d->size = blk_co_getlength(blk);
        if (d->size < 0) {
            error_setg_errno(errp, -d->size, "Could not get the size of '%s'", d->name);
            return d->size;
        }
        d->bitmap = bdrv_create_dirty_bitmap(blk_bs(blk), BLK_MIG_CHUNK, NULL, errp);
        if (!d->bitmap) {
            return -EIO;
        }
        /* Jobs, snapshots and resizes would change what we are copying (QEMU's words). */
        d->blocked = blk_bs(blk);
        bdrv_ref(d->blocked);
        error_setg(&d->blocker, "block device is in use by migration");
        bdrv_op_block_all(d->blocked, d->blocker);
        info->disk.total += d->size;
    }
    info->disk.remaining = info->disk.total;
    mig_put_be32(f, bm->devs->len);
    for (guint i = 0; i < bm->devs->len; i++) {
        BlkMigDev *d = g_ptr_array_index(bm->devs, i);
        mig_put_str8(f, d->name);
        mig_put_be64(f, d->size);
    }
    return 0;
}

static void blk_mig_put_progress(MigStream *f, BlkMig *bm, MigSaveInfo *info, bool final)
{
    uint64_t total = info->disk.total, done = 0;

    for (guint i = 0; i < bm->devs->len; i++) {
        done += ((BlkMigDev *)g_ptr_array_index(bm->devs, i))->cursor;
    }
    /* the bulk pass's progress, as QEMU reports it: it never goes backwards */
    int pct = final || !total ? 100 : (int)(done * 100 / total);

    if (pct == bm->last_pct || (pct == 100 && !final)) {
        return;
    }
    bm->last_pct = pct;
    mig_put_be64(f, (uint64_t)pct << 9 | BLK_MIG_F_PROGRESS);
    mig_put_str8(f, "");
    mig_put_be32(f, 0);
}

/* Read and send one chunk of d at off. */
static int coroutine_fn blk_mig_send_chunk(MigStream *f, BlkMig *bm, BlkMigDev *d, int64_t off,
                                           MigSaveInfo *info)
{
    int64_t len = MIN((int64_t)BLK_MIG_CHUNK, d->size - off);
    uint64_t flags = 0;

    /* clear first: a guest write racing with the read dirties the chunk again */
    bdrv_reset_dirty_bitmap(d->bitmap, off, len);
    int ret = blk_co_pread(d->blk, off, len, bm->buf, 0);
    if (ret < 0) {
        mig_stream_set_error(f, ret, "Error reading sector %" PRId64 " of '%s': %s",
                             off >> 9, d->name, strerror(-ret));
        return ret;
    }
    if (info->zero_blocks && buffer_is_zero(bm->buf, len)) {
        flags |= BLK_MIG_F_ZERO;
    }
    mig_put_be64(f, off | flags);
    mig_put_str8(f, d->name);
    mig_put_be32(f, len);
    if (!(flags & BLK_MIG_F_ZERO)) {
        mig_put_buffer(f, bm->buf, len);
    }
    info->disk.transferred += len;
    if (info->vm_stopped) {
        info->disk.downtime_bytes += len;
    }
    return 0;
}

static uint64_t blk_mig_pending(void *opaque, MigSaveInfo *info)
{
    BlkMig *bm = opaque;
    uint64_t n = 0;

    for (guint i = 0; i < bm->devs->len; i++) {
        BlkMigDev *d = g_ptr_array_index(bm->devs, i);
        n += (d->size - d->cursor) + bdrv_get_dirty_count(d->bitmap);
    }
    info->disk.remaining = n;
    return n;
}

/* One step: a bulk chunk, else a dirty chunk. 1 when nothing is left right now. */
static int coroutine_fn blk_mig_step(MigStream *f, BlkMig *bm, MigSaveInfo *info)
{
    for (guint i = 0; i < bm->devs->len; i++) {
        BlkMigDev *d = g_ptr_array_index(bm->devs, i);

        while (d->cursor < d->size) {
            int64_t off = d->cursor;
            int64_t pnum = BLK_MIG_CHUNK;

            d->cursor = MIN(off + (int64_t)BLK_MIG_CHUNK, d->size);
            if (info->inc) {
                int ret = bdrv_co_is_allocated(blk_bs(d->blk), off, d->cursor - off, &pnum);
                if (ret < 0) {
                    mig_stream_set_error(f, ret, "Could not get the allocation status of "
                                         "'%s': %s", d->name, strerror(-ret));
                    return ret;
                }
                if (!ret && pnum >= d->cursor - off) {
                    /* not in the top image: the destination has it from the backing file */
                    bdrv_reset_dirty_bitmap(d->bitmap, off, d->cursor - off);
                    continue;
                }
            }
            return blk_mig_send_chunk(f, bm, d, off, info);
        }
    }
    for (guint i = 0; i < bm->devs->len; i++) {
        BlkMigDev *d = g_ptr_array_index(bm->devs, i);
        int64_t off = bdrv_dirty_bitmap_next_dirty(d->bitmap, 0, d->size);

        if (off >= 0) {
            off -= off % BLK_MIG_CHUNK;
            return blk_mig_send_chunk(f, bm, d, off, info);
        }
    }
    return 1;
}

static int coroutine_fn blk_mig_save_iterate(MigStream *f, void *opaque, MigSaveInfo *info)
{
    BlkMig *bm = opaque;
    int ret = blk_mig_step(f, bm, info);

    blk_mig_pending(bm, info);
    blk_mig_put_progress(f, bm, info, false);
    return ret;
}

static int coroutine_fn blk_mig_save_complete(MigStream *f, void *opaque, MigSaveInfo *info)
{
    BlkMig *bm = opaque;
    int ret = blk_mig_step(f, bm, info);

    blk_mig_pending(bm, info);
    if (ret > 0) {
        blk_mig_put_progress(f, bm, info, true);
        mig_put_be64(f, BLK_MIG_F_EOS);
        mig_put_str8(f, "");
        mig_put_be32(f, 0);
    }
    return ret;
}

static void blk_mig_save_cleanup(void *opaque, MigSaveInfo *info)
{
    BlkMig *bm = opaque;

    g_clear_pointer(&bm->devs, g_ptr_array_unref);
}

/* ------------------------------------------------------------------------- */
/* destination */

static int blk_mig_load_start(MigStream *f, BlkMig *bm, Error **errp)
{
    uint32_t count = mig_get_be32(f);

    blk_mig_reset(bm);
    if (count > BLK_MIG_MAX_DEVS) {
        error_setg(errp, "Too many block devices (%" PRIu32 ")", count);
        return -EINVAL;
    }
    for (uint32_t i = 0; i < count; i++) {
        g_autofree char *name = mig_get_str8(f);
        uint64_t size = mig_get_be64(f);
        BlockBackend *blk = !name || !*name ? NULL :
                            bm->fixed ? g_hash_table_lookup(bm->fixed, name) : blk_by_name(name);

        if (mig_stream_error(f, errp)) {
            return -EIO;
        }
        if (!blk || !blk_is_inserted(blk) || blk_is_read_only(blk)) {
            error_setg(errp, "Unknown or read-only block device '%s'", name);
            return -EINVAL;
        }
        /* the disk is copied, not shared: this image is ours from now on */
        if (bdrv_activate(blk_bs(blk), errp) < 0) {
            return -EPERM;
        }
        int64_t len = blk_co_getlength(blk);
        if (len < 0 || (uint64_t)len != size) {
            error_setg(errp, "Block device '%s' has size %" PRId64 ", the source's has %"
                       PRIu64, name, len, size);
            return -EINVAL;
        }
        BlkMigDev *d = g_new0(BlkMigDev, 1);
        d->blk = blk;
        blk_ref(blk);
        d->name = g_steal_pointer(&name);
        d->size = size;
        g_ptr_array_add(bm->devs, d);
    }
    return 0;
}

static BlkMigDev *blk_mig_in_lookup(BlkMig *bm, const char *name)
{
    for (guint i = 0; bm->devs && i < bm->devs->len; i++) {
        BlkMigDev *d = g_ptr_array_index(bm->devs, i);
        if (!strcmp(d->name, name)) {
            return d;
        }
    }
    return NULL;
}

static void blk_mig_print_progress(BlkMig *bm, int pct)
{
    if (!bm->banner) {
        bm->banner = true;
        printf("Receiving block device images\n");
    }
    printf("Completed %d %%%c", pct, pct == 100 ? '\n' : '\r');
    fflush(stdout);
}

/* One record (see the drawing above); hostile input is normal. */
static int coroutine_fn blk_mig_load_record(MigStream *f, BlkMig *bm, Error **errp)
{
    uint64_t hdr = mig_get_be64(f), off = hdr & ~BLK_MIG_F_MASK, flags = hdr & BLK_MIG_F_MASK;
    g_autofree char *name = mig_get_str8(f);
    uint32_t len = mig_get_be32(f);

    if (mig_stream_error(f, errp)) {
        return -EIO;
    }
    if (flags & (BLK_MIG_F_PROGRESS | BLK_MIG_F_EOS)) {
        if (len || *name || (flags & BLK_MIG_F_PROGRESS && (off >> 9) > 100)) {
            error_setg(errp, "Invalid block migration progress record");
            return -EINVAL;
        }
        if (flags & BLK_MIG_F_PROGRESS) {
            blk_mig_print_progress(bm, off >> 9);
        }
        return 0;
    }
    BlkMigDev *d = blk_mig_in_lookup(bm, name);
    if (!d || flags & ~BLK_MIG_F_ZERO || off % BLK_MIG_CHUNK || off >= d->size || !len ||
        len > MIN((uint64_t)BLK_MIG_CHUNK, d->size - off)) {
        error_setg(errp, "Invalid block migration record for '%s' at offset %" PRIu64, name,
                   off);
        return -EINVAL;
    }
    int ret;
    if (flags & BLK_MIG_F_ZERO) {
        ret = blk_co_pwrite_zeroes(d->blk, off, len, 0);
    } else {
        if (!mig_get_buffer(f, bm->buf, len)) {
            mig_stream_error(f, errp);
            return -EIO;
        }
        ret = blk_co_pwrite(d->blk, off, len, bm->buf, 0);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Error writing block device '%s'", name);
        return ret;
    }
    return 0;
}

static int coroutine_fn blk_mig_load(MigStream *f, void *opaque, uint8_t type,
                                     uint32_t version, Error **errp)
{
    BlkMig *bm = opaque;

    if (type == MIG_REC_START) {
        return blk_mig_load_start(f, bm, errp);
    }
    if (type != MIG_REC_PART && type != MIG_REC_END) {
        error_setg(errp, "Unexpected record type %u", type);
        return -EINVAL;
    }
    while (mig_stream_left(f) > 0) {
        int ret = blk_mig_load_record(f, bm, errp);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

static int blk_mig_load_finish(void *opaque, Error **errp)
{
    BlkMig *bm = opaque;

    for (guint i = 0; bm->devs && i < bm->devs->len; i++) {
        BlkMigDev *d = g_ptr_array_index(bm->devs, i);
        int ret = blk_co_flush(d->blk);   /* load_finish runs in the incoming coroutine */
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not flush '%s'", d->name);
            return ret;
        }
    }
    return 0;
}

static void blk_mig_load_cleanup(void *opaque)
{
    BlkMig *bm = opaque;

    g_clear_pointer(&bm->devs, g_ptr_array_unref);
}

static void blk_mig_free(void *opaque)
{
    BlkMig *bm = opaque;

    g_clear_pointer(&bm->devs, g_ptr_array_unref);
    g_clear_pointer(&bm->fixed, g_hash_table_unref);
    g_free(bm->buf);
    g_free(bm);
}

static const MigSectionOps blk_mig_ops = {
    .is_active = blk_mig_is_active,
    .save_setup = blk_mig_save_setup,
    .save_iterate = blk_mig_save_iterate,
    .save_pending = blk_mig_pending,
    .save_complete = blk_mig_save_complete,
    .save_cleanup = blk_mig_save_cleanup,
    .load = blk_mig_load,
    .load_finish = blk_mig_load_finish,
    .load_cleanup = blk_mig_load_cleanup,
    .free = blk_mig_free,
    .optional = true,
};

void block_migration_register(MigRegistry *reg)
{
    BlkMig *bm = g_new0(BlkMig, 1);

    bm->last_pct = -1;
    mig_register(reg, "block", 0, 1, &blk_mig_ops, bm);
}

void block_migration_register_list(MigRegistry *reg, unsigned n, const char *const *names,
                                   BlockBackend *const *blks)
{
    BlkMig *bm = g_new0(BlkMig, 1);

    bm->last_pct = -1;
    bm->fixed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (unsigned i = 0; i < n; i++) {
        g_hash_table_insert(bm->fixed, g_strdup(names[i]), blks[i]);
    }
    mig_register(reg, "block", 0, 1, &blk_mig_ops, bm);
}
