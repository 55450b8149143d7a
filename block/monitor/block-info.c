/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-info.c: what the monitor reports about the block graph:
 * query-block (one BlockInfo per named BlockBackend), query-named-block-nodes
 * (one BlockDeviceInfo per node, newest first as QEMU lists them) and the
 * ImageInfo of a node, which HMP "info block -v" also prints.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "block/block-int.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"
#include "block/monitor/block-monitor.h"
#include "qapi-commands.h"

/* The format-specific QDict a driver reports, as QAPI's ImageInfoSpecific. */
static ImageInfoSpecific *image_info_specific(BlockDriverState *bs)
{
    ImageInfoSpecific *spec = NULL;
    QDict *d;

    if (!bs->drv->get_specific_info) {
        return NULL;
    }
    d = bs->drv->get_specific_info(bs, NULL);
    if (!d) {
        return NULL;
    }
    if (!qdict_haskey(d, "type")) {
        /* the driver gave only the data part: wrap it under its format name */
        QDict *w = qdict_new();
        qdict_put_str(w, "type", bs->drv->format_name);
        qdict_put_obj(w, "data", QOBJECT(d));
        d = w;
    }
    if (!qapi_in_ImageInfoSpecific(QOBJECT(d), NULL, &spec, NULL)) {
        spec = NULL;
    }
    qobject_unref(d);
    return spec;
}

/* The backing file name resolved against the directory of bs's own file. */
static char *full_backing_filename(BlockDriverState *bs)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(bs->backing_file) || strstr(bs->backing_file, ":") ||
        !bs->exact_filename[0]) {
        return g_strdup(bs->backing_file);
    }
    dir = g_path_get_dirname(bs->exact_filename);
    return g_build_filename(dir, bs->backing_file, NULL);
}

ImageInfo *block_image_info(BlockDriverState *bs, Error **errp)
{
    ImageInfo *info;
    BlockDriverInfo bdi;
    int64_t size = bdrv_getlength(bs);
    int64_t actual;

    if (size < 0) {
        error_setg_errno(errp, -size, "Can't get image size '%s'", bs->exact_filename);
        return NULL;
    }
    bdrv_refresh_filename(bs);
    info = g_new0(ImageInfo, 1);
    info->filename = g_strdup(bs->filename);
    info->format = g_strdup(bdrv_get_format_name(bs));
    info->virtual_size = size;
    actual = bdrv_get_allocated_file_size(bs);
    if (actual >= 0) {
        info->has_actual_size = true;
        info->actual_size = actual;
    }
    if (bdrv_get_info(bs, &bdi) == 0) {
        if (bdi.cluster_size) {
            info->has_cluster_size = true;
            info->cluster_size = bdi.cluster_size;
        }
        info->has_dirty_flag = true;
        info->dirty_flag = bdi.is_dirty;
    }
    if (bs->encrypted) {
        info->has_encrypted = true;
        info->encrypted = true;
    }
    info->format_specific = image_info_specific(bs);
    if (bs->backing_file[0]) {
        info->backing_filename = g_strdup(bs->backing_file);
        info->full_backing_filename = full_backing_filename(bs);
        if (bs->backing_format[0]) {
            info->backing_filename_format = g_strdup(bs->backing_format);
        }
    }
    return info;
}

static BlockDirtyInfoList *dirty_bitmap_info(BlockDriverState *bs)
{
    BlockDirtyInfoList *head = NULL, **tail = &head;
    g_autoptr(GPtrArray) list = bdrv_query_dirty_bitmaps(bs);

    /* QEMU lists the newest bitmap first */
    for (guint i = list->len; i-- > 0;) {
        BdrvDirtyBitmapInfo *bi = g_ptr_array_index(list, i);
        BlockDirtyInfo *d = g_new0(BlockDirtyInfo, 1);

        d->name = g_strdup(bi->name);
        d->count = bi->count;
        d->granularity = bi->granularity;
        d->recording = bi->recording;
        d->busy = bi->busy;
        d->persistent = bi->persistent;
        d->has_inconsistent = bi->inconsistent;
        d->inconsistent = bi->inconsistent;
        *tail = g_new0(BlockDirtyInfoList, 1);
        (*tail)->value = d;
        tail = &(*tail)->next;
    }
    return head;
}

/* A job's unnamed filter node is not the user's business: look through it. */
static BlockDriverState *skip_implicit_filters(BlockDriverState *bs)
{
    while (bs && bs->implicit && bdrv_filter_or_cow_bs(bs)) {
        bs = bdrv_filter_or_cow_bs(bs);
    }
    return bs;
}

BlockDeviceInfo *block_device_info(BlockBackend *blk, BlockDriverState *bs, bool flat,
                                   Error **errp)
{
    BlockDeviceInfo *info;
    ImageInfo **image;
    BlockDriverState *bs0 = bs;

    bdrv_refresh_filename(bs);
    info = g_new0(BlockDeviceInfo, 1);
    info->file = g_strdup(bs->filename);
    info->node_name = g_strdup(bs->node_name);
    info->ro = bdrv_is_read_only(bs);
    info->drv = g_strdup(bs->drv->format_name);
    info->encrypted = bs->encrypted;
    info->detect_zeroes = bs->detect_zeroes;
    info->cache = g_new0(BlockdevCacheInfo, 1);
    info->cache->writeback = blk ? blk_enable_write_cache(blk) : true;
    info->cache->direct = !!(bs->open_flags & BDRV_O_NOCACHE);
    info->cache->no_flush = !!(bs->open_flags & BDRV_O_NO_FLUSH);
    if (bs->backing_file[0]) {
        info->backing_file = g_strdup(bs->backing_file);
    }
    info->dirty_bitmaps = dirty_bitmap_info(bs);

    /* the image, and unless flat, the images of the chain below it */
    image = &info->image;
    for (;;) {
        *image = block_image_info(bs0, errp);
        if (!*image) {
            qapi_free_BlockDeviceInfo(info);
            return NULL;
        }
        if (flat || !bdrv_filter_or_cow_bs(bs0)) {
            break;
        }
        info->backing_file_depth++;     /* QEMU counts filtered children too */
        bs0 = skip_implicit_filters(bdrv_filter_or_cow_bs(bs0));
        image = &(*image)->backing_image;
    }
    return info;
}

static BlockInfo *block_info(BlockBackend *blk, Error **errp)
{
    BlockInfo *info = g_new0(BlockInfo, 1);
    BlockDriverState *bs = skip_implicit_filters(blk_bs(blk));
    const char *dev = blk_get_dev_path(blk);

    info->device = g_strdup(blk_name(blk));
    info->q_type = g_strdup("unknown");
    /* a device model that is not removable (virtio-blk) owns a BlockBackend
     * with a dev path; without a device the medium counts as removable */
    info->removable = !dev;
    info->locked = false;
    if (dev) {
        info->qdev = g_strdup(dev);
        info->has_io_status = true;
        info->io_status = blk_iostatus(blk);
    }
    if (bs && bs->drv) {
        info->inserted = block_device_info(blk, bs, false, errp);
        if (!info->inserted) {
            qapi_free_BlockInfo(info);
            return NULL;
        }
    }
    return info;
}

BlockInfoList *qmp_query_block(Error **errp)
{
    BlockInfoList *head = NULL, **tail = &head;

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        BlockInfo *info;

        if (!*blk_name(blk)) {
            continue;       /* jobs', exports' and tools' backends are not devices */
        }
        info = block_info(blk, errp);
        if (!info) {
            qapi_free_BlockInfoList(head);
            return NULL;
        }
        *tail = g_new0(BlockInfoList, 1);
        (*tail)->value = info;
        tail = &(*tail)->next;
    }
    return head;
}

BlockDeviceInfoList *qmp_query_named_block_nodes(bool has_flat, bool flat, Error **errp)
{
    BlockDeviceInfoList *head = NULL;

    /* QEMU prepends while walking its node list: newest node first */
    for (BlockDriverState *bs = bdrv_next_node(NULL); bs; bs = bdrv_next_node(bs)) {
        BlockDeviceInfo *info = block_device_info(NULL, bs, has_flat && flat, errp);
        BlockDeviceInfoList *e;

        if (!info) {
            qapi_free_BlockDeviceInfoList(head);
            return NULL;
        }
        e = g_new0(BlockDeviceInfoList, 1);
        e->value = info;
        e->next = head;
        head = e;
    }
    return head;
}
