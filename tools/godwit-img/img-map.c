/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img map: the block status of every byte of the image, merged into
 * extents. Human output lists only the extents with data at a known host
 * offset; JSON lists every extent, one object per line (spec §4.2).
 */
#include "util/osdep.h"
#include "img.h"
#include <getopt.h>

typedef struct MapEntry {
    int64_t start, length;
    int depth;
    bool present, zero, data, has_offset;
    int64_t offset;
    const char *filename;
} MapEntry;

static bool map_entry_mergeable(const MapEntry *cur, const MapEntry *next)
{
    if (cur->length == 0 || cur->present != next->present || cur->zero != next->zero ||
        cur->data != next->data || cur->depth != next->depth ||
        cur->has_offset != next->has_offset) {
        return false;
    }
    if (cur->has_offset && (cur->offset + cur->length != next->offset ||
                            g_strcmp0(cur->filename, next->filename))) {
        return false;
    }
    return true;
}

/* Print one extent; -1 when the human format cannot express it. */
static int map_print(const MapEntry *e, ImgOutputFormat output, bool first, bool last)
{
    if (output == IMG_OUTPUT_HUMAN) {
        if (e->data && !e->has_offset) {
            /* the human format has no way to say "data, but not at a file offset" */
            error_report("File contains external, encrypted or compressed clusters.");
            return -1;
        }
        /* data that reads as zeroes (a hole under a preallocated cluster) is left out */
        if (e->data && !e->zero) {
            printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n",
                   e->start, e->length, e->offset, e->filename ? e->filename : "");
        }
        return 0;
    }
    printf("%s{ \"start\": %" PRId64 ", \"length\": %" PRId64 ", \"depth\": %d, "
           "\"present\": %s, \"zero\": %s, \"data\": %s",
           first ? "[" : "", e->start, e->length, e->depth, e->present ? "true" : "false",
           e->zero ? "true" : "false", e->data ? "true" : "false");
    if (e->has_offset) {
        printf(", \"offset\": %" PRId64, e->offset);
    }
    printf("}%s\n", last ? "]" : ",");
    return 0;
}

static int map_get_status(BlockDriverState *bs, int64_t offset, int64_t bytes, MapEntry *e)
{
    int64_t pnum, map = 0;
    BlockDriverState *file = NULL;
    int depth = 1;
    int ret = bdrv_block_status_above(bs, NULL, offset, bytes, &pnum, &map, &file, &depth);

    if (ret < 0) {
        return ret;
    }
    *e = (MapEntry) {
        .start = offset, .length = pnum, .depth = MAX(depth - 1, 0),
        .present = ret & BDRV_BLOCK_ALLOCATED, .zero = ret & BDRV_BLOCK_ZERO,
        .data = ret & BDRV_BLOCK_DATA, .has_offset = ret & BDRV_BLOCK_OFFSET_VALID,
        .offset = map, .filename = file ? file->filename : NULL,
    };
    return 0;
}

int img_map(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { "start-offset", required_argument, NULL, OPTION_START_OFFSET },
        { "max-length", required_argument, NULL, OPTION_MAX_LENGTH },
        { NULL, 0, NULL, 0 },
    };
    ImgOutputFormat output = IMG_OUTPUT_HUMAN;
    bool image_opts = false, force_share = false;
    const char *fmt = NULL;
    int64_t start = 0, max_len = -1;
    uint64_t v;
    int c, ret = 0;

    while ((c = getopt_long(argc, argv, ":f:hU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("map [--object objectdef] [--image-opts] [-f fmt] [--start-offset=offset] "
                   "[--max-length=len] [--output=ofmt] [-U] filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'U': force_share = true; break;
        case OPTION_OUTPUT:
            if (!img_parse_output(optarg, &output)) {
                return 1;
            }
            break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        case OPTION_START_OFFSET:
            if (qemu_strtosz(optarg, NULL, &v) < 0 || v > INT64_MAX) {
                error_report("Invalid start offset specified. You may use k, M, G, T, P or "
                             "E suffixes for");
                error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                             "exabytes.");
                return 1;
            }
            start = v;
            break;
        case OPTION_MAX_LENGTH:
            if (qemu_strtosz(optarg, NULL, &v) < 0 || v > INT64_MAX) {
                error_report("Invalid max length specified. You may use k, M, G, T, P or "
                             "E suffixes for");
                error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                             "exabytes.");
                return 1;
            }
            max_len = v;
            break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    BlockBackend *blk = img_open(image_opts, argv[optind], fmt, 0, false, false, force_share);
    if (!blk) {
        return 1;
    }
    BlockDriverState *bs = blk_bs(blk);
    int64_t length = blk_getlength(blk);
    if (length < 0) {
        error_report("Failed to get size for '%s'", argv[optind]);
        blk_unref(blk);
        return 1;
    }
    if (max_len >= 0) {
        length = MIN(length, start + max_len);
    }
    if (output == IMG_OUTPUT_HUMAN) {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }

    MapEntry cur = { 0 }, next;
    bool first = true;
    for (int64_t off = start; off < length; off += next.length) {
        ret = map_get_status(bs, off, MIN(INT64_C(1) << 30, length - off), &next);
        if (ret < 0) {
            error_report("Could not read file metadata: %s", strerror(-ret));
            goto out;
        }
        if (next.length == 0) {
            break;
        }
        if (map_entry_mergeable(&cur, &next)) {
            cur.length += next.length;
            continue;
        }
        if (cur.length > 0) {
            ret = map_print(&cur, output, first, false);
            if (ret < 0) {
                goto out;
            }
            first = false;
        }
        cur = next;
    }
    if (cur.length > 0) {
        ret = map_print(&cur, output, first, true);
    } else if (output == IMG_OUTPUT_JSON) {
        /* An empty image is one empty, absent extent. */
        printf("[{ \"start\": %" PRId64 ", \"length\": 0, \"depth\": 0, \"present\": false, "
               "\"zero\": false, \"data\": false}]\n", start);
    }
out:
    blk_unref(blk);
    return ret < 0 ? 1 : 0;
}
