/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blockdev.c: the block part of the command line. Every -drive becomes a named
 * BlockBackend (opened with QEMU's -drive semantics and error texts) recorded
 * as a DriveInfo for the machine (sysemu/blockdev.h); every -blockdev becomes a
 * monitor-owned node, as blockdev-add makes. Also "-drive format=help".
 *
 * -drive keys handled here: id, if, index, bus, unit, media, file, format,
 * snapshot, readonly, cache, aio, discard, detect-zeroes, rerror, werror,
 * copy-on-read, serial. Everything else (node-name, driver, file.*, backing.*,
 * driver options) goes to bdrv_open, which rejects what no driver takes.
 */
#include "util/osdep.h"
#include "util/cutils.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "block/block-int.h"
#include "block/block-backend.h"
#include "block/monitor/block-monitor.h"
#include "sysemu/sysemu.h"
#include "sysemu/runstate.h"
#include "sysemu/blockdev.h"
#include "qapi-commands.h"

static const char *const if_names[IF_COUNT] = {
    [IF_NONE] = "none", [IF_IDE] = "ide", [IF_SCSI] = "scsi", [IF_FLOPPY] = "floppy",
    [IF_PFLASH] = "pflash", [IF_MTD] = "mtd", [IF_SD] = "sd", [IF_VIRTIO] = "virtio",
    [IF_XEN] = "xen",
};

static GList *drives;       /* DriveInfo *, command-line order */

const char *drive_if_name(BlockInterfaceType type)
{
    return type < IF_COUNT ? if_names[type] : "?";
}

DriveInfo *drive_next(DriveInfo *prev)
{
    GList *l = prev ? g_list_find(drives, prev) : NULL;

    if (!prev) {
        return drives ? drives->data : NULL;
    }
    return l && l->next ? l->next->data : NULL;
}

DriveInfo *drive_get_by_blk(BlockBackend *blk)
{
    for (GList *l = drives; l; l = l->next) {
        DriveInfo *d = l->data;
        if (d->blk == blk) {
            return d;
        }
    }
    return NULL;
}

/* ---- -drive format=help ---- */

static void append_name(void *opaque, const char *name)
{
    GString *s = opaque;

    g_string_append_printf(s, "%s%s", s->len ? " " : "", name);
}

void bdrv_format_lists(GString *rw, GString *ro)
{
    bdrv_iterate_format(append_name, rw, false);
    bdrv_iterate_format(append_name, ro, true);
}

/* ---- -drive ---- */

/* Take a string option out of opts; NULL if absent. */
static char *take(QDict *opts, const char *key)
{
    char *v = g_strdup(qdict_get_try_str(opts, key));

    qdict_del(opts, key);
    return v;
}

static bool parse_on_off(const char *key, const char *v, bool *out, Error **errp)
{
    if (!strcmp(v, "on")) {
        *out = true;
    } else if (!strcmp(v, "off")) {
        *out = false;
    } else {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    return true;
}

static bool parse_error_action(const char *v, bool is_read, BlockdevOnError *out,
                               Error **errp)
{
    /* -drive takes fewer actions than QMP: no "auto", and "enospc" only for writes */
    if (!strcmp(v, "ignore")) {
        *out = BLOCKDEV_ON_ERROR_IGNORE;
    } else if (!strcmp(v, "report")) {
        *out = BLOCKDEV_ON_ERROR_REPORT;
    } else if (!strcmp(v, "stop")) {
        *out = BLOCKDEV_ON_ERROR_STOP;
    } else if (!is_read && !strcmp(v, "enospc")) {
        *out = BLOCKDEV_ON_ERROR_ENOSPC;
    } else {
        error_setg(errp, "'%s' invalid %s error action", v, is_read ? "read" : "write");
        return false;
    }
    return true;
}

static bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool parse_int_opt(QDict *opts, const char *key, int *out, Error **errp)
{
    g_autofree char *v = take(opts, key);
    char *end;
    long n;

    if (!v) {
        return true;
    }
    n = strtol(v, &end, 10);
    if (!*v || *end || n < 0 || n > INT_MAX) {
        error_setg(errp, "Parameter '%s' expects a number", key);
        return false;
    }
    *out = n;
    return true;
}

/* Bus and unit from index=, bus=, unit= (QEMU's arithmetic for ide: 2 per bus). */
static bool drive_place(QDict *opts, DriveInfo *d, Error **errp)
{
    int index = -1, bus = 0, unit = -1;
    int per_bus = d->type == IF_IDE ? 2 : d->type == IF_SCSI ? 7 : 0;

    if (!parse_int_opt(opts, "index", &index, errp) ||
        !parse_int_opt(opts, "bus", &bus, errp) ||
        !parse_int_opt(opts, "unit", &unit, errp)) {
        return false;
    }
    if (index >= 0 && per_bus) {
        bus = index / per_bus;
        unit = index % per_bus;
    } else if (index >= 0) {
        unit = index;
    }
    if (unit < 0) {
        /* the first free unit on this interface and bus */
        unit = 0;
        for (GList *l = drives; l; l = l->next) {
            DriveInfo *o = l->data;
            if (o->type == d->type && o->bus == bus && o->unit >= unit) {
                unit = o->unit + 1;
            }
        }
    }
    if (per_bus && unit >= per_bus) {
        error_setg(errp, "unit %d too big (max is %d)", unit, per_bus - 1);
        return false;
    }
    d->bus = bus;
    d->unit = unit;
    return true;
}

static char *drive_default_id(DriveInfo *d)
{
    const char *media = d->type == IF_IDE || d->type == IF_SCSI
                        ? (d->is_cdrom ? "-cd" : "-hd") : "";

    if (d->type == IF_IDE || d->type == IF_SCSI) {
        return g_strdup_printf("%s%d%s%d", if_names[d->type], d->bus, media, d->unit);
    }
    return g_strdup_printf("%s%s%d", if_names[d->type], media, d->unit);
}

/* Turn -drive's cache/aio/discard/detect-zeroes/readonly into bdrv_open options. */
static bool drive_block_options(QDict *opts, int *flags, bool *writethrough, Error **errp)
{
    g_autofree char *cache = take(opts, "cache");
    g_autofree char *aio = take(opts, "aio");
    g_autofree char *discard = take(opts, "discard");
    g_autofree char *dz = take(opts, "detect-zeroes");
    g_autofree char *ro = take(opts, "readonly");
    g_autofree char *cor = take(opts, "copy-on-read");
    bool b;

    if (ro) {
        if (!parse_on_off("read-only", ro, &b, errp)) {
            return false;
        }
        qdict_put_str(opts, "read-only", b ? "on" : "off");
        if (b) {
            *flags &= ~BDRV_O_RDWR;
        }
    }
    if (cache) {
        int cflags = 0;
        if (bdrv_parse_cache_mode(cache, &cflags, writethrough) < 0) {
            error_setg(errp, "invalid cache option");
            return false;
        }
        qdict_set_default_str(opts, "cache.direct", cflags & BDRV_O_NOCACHE ? "on" : "off");
        qdict_set_default_str(opts, "cache.no-flush",
                              cflags & BDRV_O_NO_FLUSH ? "on" : "off");
    }
    if (aio && bdrv_parse_aio(aio, flags) < 0) {
        error_setg(errp, "invalid aio option");
        return false;
    }
    if (discard) {
        if (bdrv_parse_discard_flags(discard, flags) < 0) {
            error_setg(errp, "Invalid discard option");
            return false;
        }
        qdict_put_str(opts, "discard", discard);
    }
    if (dz) {
        if (strcmp(dz, "off") && strcmp(dz, "on") && strcmp(dz, "unmap")) {
            error_setg(errp, "invalid parameter value: %s", dz);
            return false;
        }
        qdict_put_str(opts, "detect-zeroes", dz);
    }
    if (cor) {
        if (!parse_on_off("copy-on-read", cor, &b, errp)) {
            return false;
        }
        if (b) {
            *flags |= BDRV_O_COPY_ON_READ;
        }
    }
    return true;
}

/*
 * snapshot=on: open the image read-only, then put a temporary qcow2 overlay of
 * its size on top (backed by the image, which its header does not name) and
 * return a backend on the overlay. The overlay file lives in $TMPDIR
 * (/var/tmp if unset, as QEMU) and is unlinked as soon as it is open, so
 * nothing is left behind and the image itself is never written.
 */
static BlockBackend *drive_open_snapshot(const char *file, QDict *bs_opts, int flags,
                                         Error **errp)
{
    const char *tmpdir = getenv("TMPDIR");
    g_autofree char *tmp = g_build_filename(tmpdir ? tmpdir : "/var/tmp", "vl.XXXXXX", NULL);
    g_autoptr(QDict) create = qdict_new();
    BlockDriverState *base, *overlay;
    BlockBackend *blk = NULL;
    QDict *o;
    int64_t size;
    int fd;

    base = bdrv_open(file, NULL, bs_opts, (flags & ~(BDRV_O_SNAPSHOT | BDRV_O_RDWR)), errp);
    if (!base) {
        return NULL;
    }
    size = bdrv_getlength(base);
    if (size < 0) {
        error_setg_errno(errp, -size, "Could not get image size");
        goto out;
    }
    fd = g_mkstemp(tmp);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not get temporary filename");
        goto out;
    }
    close(fd);
    qdict_put_int(create, "size", size);
    if (bdrv_create(bdrv_find_format("qcow2"), tmp, create, errp) < 0) {
        goto out_unlink;
    }
    o = qdict_new();
    qdict_put_str(o, "driver", "qcow2");
    qdict_put_str(o, "file.driver", "file");
    qdict_put_str(o, "file.filename", tmp);
    qdict_put_str(o, "cache.no-flush", "on");      /* a throw-away overlay: QEMU's too */
    overlay = bdrv_open(NULL, NULL, o, (flags & ~BDRV_O_SNAPSHOT) | BDRV_O_RDWR |
                        BDRV_O_NO_BACKING, errp);
    if (!overlay) {
        goto out_unlink;
    }
    if (bdrv_set_backing_hd(overlay, base, errp) == 0) {
        /* shown as the overlay's backing file (info block), though not in its header */
        g_strlcpy(overlay->backing_file, base->filename, sizeof(overlay->backing_file));
        g_strlcpy(overlay->backing_format, bdrv_get_format_name(base),
                  sizeof(overlay->backing_format));
        blk = blk_new(BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE | BLK_PERM_RESIZE,
                      BLK_PERM_ALL);
        if (blk_insert_bs(blk, overlay, errp) < 0) {
            blk_unref(blk);
            blk = NULL;
        }
    }
    bdrv_unref(overlay);
out_unlink:
    unlink(tmp);
out:
    bdrv_unref(base);
    return blk;
}

static bool drive_new(QDict *opts, Error **errp)
{
    g_autofree char *id = take(opts, "id");
    g_autofree char *ifname = take(opts, "if");
    g_autofree char *media = take(opts, "media");
    g_autofree char *file = take(opts, "file");
    g_autofree char *format = take(opts, "format");
    g_autofree char *snapshot = take(opts, "snapshot");
    g_autofree char *rerror = take(opts, "rerror");
    g_autofree char *werror = take(opts, "werror");
    DriveInfo *d = g_new0(DriveInfo, 1);
    BlockdevOnError on_read = BLOCKDEV_ON_ERROR_REPORT, on_write = BLOCKDEV_ON_ERROR_ENOSPC;
    bool writethrough = false, snap = false;
    int flags = BDRV_O_RDWR;
    BlockBackend *blk;

    d->serial = take(opts, "serial");
    d->type = IF_NONE;
    if (ifname) {
        int i;
        for (i = 0; i < IF_COUNT && strcmp(ifname, if_names[i]); i++) {
        }
        if (i == IF_COUNT) {
            error_setg(errp, "unsupported bus type '%s'", ifname);
            goto fail;
        }
        d->type = i;
    }
    if (media) {
        if (!strcmp(media, "cdrom")) {
            d->is_cdrom = true;
        } else if (strcmp(media, "disk")) {
            error_setg(errp, "'%s' invalid media", media);
            goto fail;
        }
    }
    if (!drive_place(opts, d, errp)) {
        goto fail;
    }
    if (id && !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, "
                          "'-', '.', '_', starting with a letter.\n");
        goto fail;
    }
    if (!id) {
        id = drive_default_id(d);
    }
    if (snapshot && !parse_on_off("snapshot", snapshot, &snap, errp)) {
        goto fail;
    }
    if (!drive_block_options(opts, &flags, &writethrough, errp)) {
        goto fail;
    }
    if (format) {
        if (qdict_haskey(opts, "driver")) {
            error_setg(errp, "Cannot specify both 'driver' and 'format'");
            goto fail;
        }
        if (!bdrv_find_format(format)) {
            error_setg(errp, "Unknown driver '%s'", format);
            goto fail;
        }
        qdict_put_str(opts, "driver", format);
    }
    if ((rerror && !parse_error_action(rerror, true, &on_read, errp)) ||
        (werror && !parse_error_action(werror, false, &on_write, errp))) {
        goto fail;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        flags |= BDRV_O_INACTIVE;       /* the migration source owns the image until then */
    }
    if (snap) {
        if (!bdrv_find_format("qcow2")) {
            error_setg(errp, "snapshot=on needs the qcow2 driver, which this build "
                       "does not have yet");
            goto fail;
        }
        flags |= BDRV_O_SNAPSHOT;
    }

    if (!file && !qdict_size(opts)) {
        blk = blk_new(0, BLK_PERM_ALL);           /* an empty drive */
    } else {
        QDict *bs_opts = qdict_clone_shallow(opts);
        blk = snap ? drive_open_snapshot(file, bs_opts, flags, errp)
                   : blk_new_open(file, NULL, bs_opts, flags, errp);
        if (!blk) {
            goto fail;
        }
    }
    if (!blk_set_name(blk, id, errp)) {
        blk_unref(blk);
        goto fail;
    }
    blk_set_enable_write_cache(blk, !writethrough);
    blk_set_on_error(blk, on_read, on_write);
    d->blk = blk;
    drives = g_list_append(drives, d);
    return true;

fail:
    g_free(d->serial);
    g_free(d);
    return false;
}

/* ---- -blockdev ---- */

static bool blockdev_cmdline(const CmdlineBlockOpt *o, Error **errp)
{
    BlockdevOptions *opts = NULL;
    Error *err = NULL;
    bool ok;

    /* checked against the schema like blockdev-add; key=value leaves are strings */
    qapi_keyval_input = o->optarg[0] != '{';
    ok = qapi_in_BlockdevOptions(QOBJECT(o->opts), NULL, &opts, errp);
    qapi_keyval_input = false;
    if (!ok) {
        return false;
    }
    qmp_blockdev_add(opts, &err);
    qapi_free_BlockdevOptions(opts);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

bool blockdev_init_cmdline(const SysemuConfig *cfg, Error **errp)
{
    block_monitor_init();
    for (guint i = 0; i < cfg->block_opts->len; i++) {
        CmdlineBlockOpt *o = g_ptr_array_index(cfg->block_opts, i);
        Error *err = NULL;
        bool ok;

        if (o->is_blockdev) {
            ok = blockdev_cmdline(o, &err);
        } else {
            QDict *opts = qdict_clone_shallow(o->opts);
            ok = drive_new(opts, &err);
            qobject_unref(opts);
        }
        if (!ok) {
            error_prepend(&err, "%s %s: ", o->is_blockdev ? "-blockdev" : "-drive", o->optarg);
            error_propagate(errp, err);
            return false;
        }
    }
    return true;
}
