/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qemu-img info: one image, or its whole backing chain with --backing-chain.
 * The JSON form is a QDict printed by the JSON writer in pretty mode, so the
 * members come out in QEMU's QDict order (spec §2.3), not in insertion order.
 */
#include "util/osdep.h"
#include "block/block-int.h"
#include "img.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qbool.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include <getopt.h>

/* The ImageInfo fields of one node, as QEMU's query would report them. */
static QDict *img_collect_info(BlockDriverState *bs)
{
    QDict *info = qdict_new();
    BlockDriverInfo bdi = { 0 };
    int64_t size = bdrv_getlength(bs);
    int64_t actual = bdrv_get_allocated_file_size(bs);

    qdict_put_int(info, "virtual-size", MAX(size, 0));
    qdict_put_str(info, "filename", bs->filename);
    qdict_put_str(info, "format", bdrv_get_format_name(bs));
    if (actual >= 0) {
        qdict_put_int(info, "actual-size", actual);
    }
    if (bdrv_get_info(bs, &bdi) >= 0) {
        if (bdi.cluster_size) {
            qdict_put_int(info, "cluster-size", bdi.cluster_size);
        }
        qdict_put_bool(info, "dirty-flag", bdi.is_dirty);
    }
    QEMUSnapshotInfo *sns = NULL;
    int nsn = bs->drv && bs->drv->snapshot_list ? bs->drv->snapshot_list(bs, &sns) : 0;
    if (nsn > 0) {
        /* ImageInfo.snapshots (SnapshotInfo members in QEMU's order) */
        QList *l = qlist_new();
        for (int i = 0; i < nsn; i++) {
            QDict *d = qdict_new();
            if (sns[i].icount != UINT64_MAX) {
                qdict_put_int(d, "icount", sns[i].icount);
            }
            qdict_put_int(d, "vm-clock-nsec", sns[i].vm_clock_nsec % 1000000000);
            qdict_put_str(d, "name", sns[i].name);
            qdict_put_int(d, "date-sec", sns[i].date_sec);
            qdict_put_int(d, "date-nsec", sns[i].date_nsec);
            qdict_put_int(d, "vm-clock-sec", sns[i].vm_clock_nsec / 1000000000);
            qdict_put_str(d, "id", sns[i].id_str);
            qdict_put_int(d, "vm-state-size", sns[i].vm_state_size);
            qlist_append(l, d);
        }
        qdict_put_obj(info, "snapshots", QOBJECT(l));
    }
    g_free(sns);
    if (bs->drv && bs->drv->get_specific_info) {
        QDict *spec = bs->drv->get_specific_info(bs, NULL);
        if (spec) {
            /* ImageInfoSpecific: a union {type, data} */
            QDict *u = qdict_new();
            qdict_put_str(u, "type", bdrv_get_format_name(bs));
            qdict_put_obj(u, "data", QOBJECT(spec));
            qdict_put_obj(info, "format-specific", QOBJECT(u));
        }
    }
    if (bs->backing_file[0]) {
        qdict_put_str(info, "backing-filename", bs->backing_file);
        g_autofree char *full = path_combine(bs->filename, bs->backing_file);
        qdict_put_str(info, "full-backing-filename", full);
        if (bs->backing_format[0]) {
            qdict_put_str(info, "backing-filename-format", bs->backing_format);
        }
    }
    return info;
}

/* "Format specific information:" members: dashes become spaces, nested indented. */
static void img_dump_human(QObject *obj, int indent)
{
    if (qobject_type(obj) == QTYPE_QDICT) {
        QDict *d = qobject_to(QDict, obj);
        for (const QDictEntry *e = qdict_first(d); e; e = qdict_next(d, e)) {
            g_autofree char *key = g_strdup(qdict_entry_key(e));
            QObject *v = qdict_entry_value(e);
            g_strdelimit(key, "-", ' ');
            if (qobject_type(v) == QTYPE_QDICT || qobject_type(v) == QTYPE_QLIST) {
                printf("%*s%s:\n", indent, "", key);
                img_dump_human(v, indent + 4);
            } else {
                g_autoptr(GString) s = qobject_to_json(v);
                const char *text = s->str;
                if (qobject_type(v) == QTYPE_QSTRING) {
                    text = qstring_get_str(qobject_to(QString, v));
                }
                printf("%*s%s: %s\n", indent, "", key, text);
            }
        }
    } else if (qobject_type(obj) == QTYPE_QLIST) {
        QList *l = qobject_to(QList, obj);
        int i = 0;
        for (const QListEntry *e = qlist_first(l); e; e = qlist_next(e), i++) {
            QObject *v = qlist_entry_obj(e);
            if (qobject_type(v) == QTYPE_QSTRING) {         /* "[0]: auto" */
                printf("%*s[%d]: %s\n", indent, "", i, qstring_get_str(qobject_to(QString, v)));
                continue;
            }
            printf("%*s[%d]:\n", indent, "", i);
            img_dump_human(v, indent + 4);
        }
    }
}

static void img_print_human(QDict *info)
{
    int64_t vsize = qdict_get_int(info, "virtual-size");
    g_autofree char *vs = size_to_str(vsize);

    printf("image: %s\n", qdict_get_str(info, "filename"));
    printf("file format: %s\n", qdict_get_str(info, "format"));
    printf("virtual size: %s (%" PRId64 " bytes)\n", vs, vsize);
    if (qdict_haskey(info, "actual-size")) {
        g_autofree char *as = size_to_str(qdict_get_int(info, "actual-size"));
        printf("disk size: %s\n", as);
    } else {
        printf("disk size: unavailable\n");
    }
    if (qdict_haskey(info, "cluster-size")) {
        printf("cluster_size: %" PRId64 "\n", qdict_get_int(info, "cluster-size"));
    }
    if (qdict_get_try_bool(info, "dirty-flag", false)) {
        printf("cleanly shut down: no\n");
    }
    const char *bf = qdict_get_try_str(info, "backing-filename");
    if (bf) {
        const char *full = qdict_get_try_str(info, "full-backing-filename");
        printf("backing file: %s", bf);
        if (full && strcmp(full, bf)) {
            printf(" (actual path: %s)", full);
        }
        printf("\n");
        const char *bfmt = qdict_get_try_str(info, "backing-filename-format");
        if (bfmt) {
            printf("backing file format: %s\n", bfmt);
        }
    }
    QList *sns = qdict_get_qlist(info, "snapshots");
    if (sns) {
        printf("Snapshot list:\n");
        img_snapshot_dump(NULL);
        for (const QListEntry *e = qlist_first(sns); e; e = qlist_next(e)) {
            QDict *d = qobject_to(QDict, qlist_entry_obj(e));
            QEMUSnapshotInfo sn = {
                .vm_state_size = qdict_get_int(d, "vm-state-size"),
                .date_sec = qdict_get_int(d, "date-sec"),
                .date_nsec = qdict_get_int(d, "date-nsec"),
                .vm_clock_nsec = qdict_get_int(d, "vm-clock-sec") * 1000000000ULL +
                                 qdict_get_int(d, "vm-clock-nsec"),
                .icount = qdict_haskey(d, "icount") ? qdict_get_int(d, "icount") : UINT64_MAX,
            };
            g_strlcpy(sn.id_str, qdict_get_str(d, "id"), sizeof(sn.id_str));
            g_strlcpy(sn.name, qdict_get_str(d, "name"), sizeof(sn.name));
            img_snapshot_dump(&sn);
        }
    }
    QDict *u = qdict_get_qdict(info, "format-specific");
    QObject *spec = u ? qdict_get(u, "data") : NULL;
    if (spec) {
        printf("Format specific information:\n");
        img_dump_human(spec, 4);
    }
}

int img_info(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "backing-chain", no_argument, NULL, OPTION_BACKING_CHAIN },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    ImgOutputFormat output = IMG_OUTPUT_HUMAN;
    bool chain = false, image_opts = false, force_share = false;
    const char *fmt = NULL;
    int c;

    while ((c = getopt_long(argc, argv, ":f:hU", long_options, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            img_bad_option(c, argv);
        case 'h':
            printf("info [--object objectdef] [--image-opts] [-f fmt] [--output=ofmt] "
                   "[--backing-chain] [-U] filename\n");
            return 0;
        case 'f': fmt = optarg; break;
        case 'U': force_share = true; break;
        case OPTION_OUTPUT:
            if (!img_parse_output(optarg, &output)) {
                return 1;
            }
            break;
        case OPTION_BACKING_CHAIN: chain = true; break;
        case OPTION_IMAGE_OPTS: image_opts = true; break;
        case OPTION_OBJECT: break;
        }
    }
    if (optind != argc - 1) {
        img_error_exit("Expecting one image file name");
    }
    int flags = BDRV_O_NO_IO | (chain ? 0 : BDRV_O_NO_BACKING);
    BlockBackend *blk = img_open(image_opts, argv[optind], fmt, flags, false, false, force_share);
    if (!blk) {
        return 1;
    }

    g_autoptr(QList) list = qlist_new();
    for (BlockDriverState *bs = blk_bs(blk); bs; bs = chain ? bdrv_backing_bs(bs) : NULL) {
        qlist_append(list, img_collect_info(bs));
    }
    int i = 0;
    for (const QListEntry *e = qlist_first(list); e; e = qlist_next(e), i++) {
        QDict *info = qobject_to(QDict, qlist_entry_obj(e));
        if (output == IMG_OUTPUT_HUMAN) {
            if (i) {
                printf("\n");
            }
            img_print_human(info);
        } else if (!chain) {
            g_autoptr(GString) s = qobject_to_json_pretty(QOBJECT(info), true);
            printf("%s\n", s->str);
        }
    }
    if (output == IMG_OUTPUT_JSON && chain) {
        g_autoptr(GString) s = qobject_to_json_pretty(QOBJECT(list), true);
        printf("%s\n", s->str);
    }
    blk_unref(blk);
    return 0;
}
