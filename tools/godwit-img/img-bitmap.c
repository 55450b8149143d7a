/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img bitmap: edit the persistent dirty bitmaps of an image offline. The
 * image is opened read-write, so its driver loads the stored bitmaps; the
 * actions run in command-line order on the in-memory bitmaps, and the driver
 * stores them again when the image is closed.
 */
#include "util/osdep.h"
#include "img.h"
#include "block/dirty-bitmap.h"
#include <getopt.h>

typedef enum ImgBitmapAct {
    IMG_BITMAP_ADD,
    IMG_BITMAP_REMOVE,
    IMG_BITMAP_CLEAR,
    IMG_BITMAP_ENABLE,
    IMG_BITMAP_DISABLE,
    IMG_BITMAP_MERGE,
} ImgBitmapAct;

static const char *const img_bitmap_act_names[] = {
    "add", "remove", "clear", "enable", "disable", "merge",
};

enum {
    OPTION_ADD = 512, OPTION_REMOVE, OPTION_CLEAR, OPTION_ENABLE, OPTION_DISABLE,
    OPTION_MERGE,
};

typedef struct ImgBitmapAction {
    ImgBitmapAct act;
    const char *src;                    /* --merge SOURCE */
} ImgBitmapAction;

static BdrvDirtyBitmap *img_bitmap_find(BlockDriverState *bs, const char *name, Error **errp)
{
    BdrvDirtyBitmap *bm = bdrv_find_dirty_bitmap(bs, name);

    if (!bm) {
        error_setg(errp, "Dirty bitmap '%s' not found", name);
    }
    return bm;
}

static bool img_bitmap_add(BlockDriverState *bs, const char *name, uint32_t granularity,
                           Error **errp)
{
    if (bdrv_find_dirty_bitmap(bs, name)) {
        error_setg(errp, "Bitmap already exists: %s", name);
        return false;
    }
    if (!granularity) {
        BlockDriverInfo bdi = { 0 };
        granularity = bdrv_get_info(bs, &bdi) >= 0 && bdi.cluster_size ?
                      MIN(MAX((uint32_t)bdi.cluster_size, 4096u), 65536u) : 65536;
    }
    if (!bdrv_can_store_new_dirty_bitmap(bs, name, granularity, errp)) {
        return false;
    }
    BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, granularity, name, errp);
    if (!bm) {
        return false;
    }
    bdrv_dirty_bitmap_set_persistence(bm, true);
    return true;
}

static bool img_bitmap_run(BlockDriverState *bs, const ImgBitmapAction *a, const char *name,
                           uint32_t granularity, BlockDriverState *src_bs, Error **errp)
{
    BdrvDirtyBitmap *bm;

    if (a->act == IMG_BITMAP_ADD) {
        return img_bitmap_add(bs, name, granularity, errp);
    }
    bm = img_bitmap_find(bs, name, errp);
    if (!bm) {
        return false;
    }
    switch (a->act) {
    case IMG_BITMAP_REMOVE:
        if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_BUSY | BDRV_BITMAP_RO, errp) ||
            (bdrv_dirty_bitmap_get_persistence(bm) &&
             !bdrv_remove_persistent_dirty_bitmap(bs, name, errp))) {
            return false;
        }
        bdrv_release_dirty_bitmap(bm);
        return true;
    case IMG_BITMAP_CLEAR:
        if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_DEFAULT, errp)) {
            return false;
        }
        bdrv_clear_dirty_bitmap(bm, NULL);
        return true;
    case IMG_BITMAP_ENABLE:
    case IMG_BITMAP_DISABLE:
        if (!bdrv_dirty_bitmap_check(bm, BDRV_BITMAP_ALLOW_RO, errp)) {
            return false;
        }
        if (a->act == IMG_BITMAP_ENABLE) {
            bdrv_enable_dirty_bitmap(bm);
        } else {
            bdrv_disable_dirty_bitmap(bm);
        }
        return true;
    case IMG_BITMAP_MERGE: {
        BdrvDirtyBitmap *src = img_bitmap_find(src_bs ? src_bs : bs, a->src, errp);
        return src && bdrv_merge_dirty_bitmap(bm, src, NULL, errp);
    }
    default:
        g_assert_not_reached();
    }
}

int img_bitmap(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "add", no_argument, NULL, OPTION_ADD },
        { "remove", no_argument, NULL, OPTION_REMOVE },
        { "clear", no_argument, NULL, OPTION_CLEAR },
        { "enable", no_argument, NULL, OPTION_ENABLE },
        { "disable", no_argument, NULL, OPTION_DISABLE },
        { "merge", required_argument, NULL, OPTION_MERGE },
        { "granularity", required_argument, NULL, 'g' },
        { "source-file", required_argument, NULL, 'b' },
        { "source-format", required_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *src_file = NULL, *src_fmt = NULL;
    bool image_opts = false, add = false, merge = false;
    int64_t granularity = 0;
    g_autoptr(GArray) acts = g_array_new(false, false, sizeof(ImgBitmapAction));
    int c;

    while ((c = getopt_long(argc, argv, ":b:f:F:g:h", long_options, NULL)) != -1) {
        ImgBitmapAction a = { 0 };
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("bitmap (--merge SOURCE | --add | --remove | --clear | --enable | "
                   "--disable)... [-b source_file [-F source_fmt]] [-g granularity] "
                   "[--object objectdef] [--image-opts | -f fmt] filename bitmap\n");
            return 0;
        case 'b': src_file = optarg; break;
        case 'f': fmt = optarg; break;
        case 'F': src_fmt = optarg; break;
        case 'g':
            granularity = img_parse_size(optarg);
            if (granularity < 0) {
                return 1;
            }
            break;
        case OPTION_ADD:
        case OPTION_REMOVE:
        case OPTION_CLEAR:
        case OPTION_ENABLE:
        case OPTION_DISABLE:
        case OPTION_MERGE:
            a.act = c - OPTION_ADD;
            a.src = c == OPTION_MERGE ? optarg : NULL;
            add |= c == OPTION_ADD;
            merge |= c == OPTION_MERGE;
            g_array_append_val(acts, a);
            break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (!acts->len) {
        error_report("Need at least one of --add, --remove, --clear, --enable, --disable, "
                     "or --merge");
        return 1;
    }
    if (granularity && !add) {
        error_report("granularity only supported with --add");
        return 1;
    }
    if (src_fmt && !src_file) {
        error_report("-F only supported with -b");
        return 1;
    }
    if (src_file && !merge) {
        error_report("Merge bitmap source file only supported with --merge");
        return 1;
    }
    if (optind != argc - 2) {
        error_report("Expecting filename and bitmap name");
        return 1;
    }
    const char *filename = argv[optind], *name = argv[optind + 1];
    BlockBackend *blk = img_open(image_opts, filename, fmt, BDRV_O_RDWR, false, false, false);
    BlockBackend *src_blk = NULL;
    int ret = 1;
    if (!blk) {
        return 1;
    }
    if (src_file) {
        src_blk = img_open(false, src_file, src_fmt, 0, false, false, false);
        if (!src_blk) {
            goto out;
        }
    }
    for (guint i = 0; i < acts->len; i++) {
        const ImgBitmapAction *a = &g_array_index(acts, ImgBitmapAction, i);
        Error *err = NULL;
        if (!img_bitmap_run(blk_bs(blk), a, name, granularity,
                            src_blk ? blk_bs(src_blk) : NULL, &err)) {
            error_reportf_err(err, "Operation %s on bitmap %s failed: ",
                              img_bitmap_act_names[a->act], name);
            goto out;
        }
    }
    ret = 0;
out:
    if (src_blk) {
        blk_unref(src_blk);
    }
    blk_unref(blk);
    return ret;
}
