/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * open.c: turning a filename and/or flat dotted options into an open node.
 *
 *   bdrv_open_inherit
 *     reference?            an existing node by name ("file=node0")
 *     json:{...}            merged under the explicit options (which win)
 *     common options        node-name, read-only, cache.*, discard, detect-zeroes...
 *     protocol or format?   protocols parse their filename; formats first open
 *                           their "file" child (as a protocol) and probe it when
 *                           no driver was given
 *     drv->open             the driver opens its own children via bdrv_open_child
 *     backing               opened here for drivers with BDRV_F_SUPPORTS_BACKING
 *     leftovers             any option nobody took is an error, in QEMU's words
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "block/block-core.h"
#include "block/block-backend.h"

#define PROBE_BUF_SIZE 2048

/* Options every node understands, and which ones children inherit. */
static const char *const inherited_options[] = {
    "read-only", "auto-read-only", "cache.direct", "cache.no-flush", "discard", "force-share",
    NULL,
};

int bdrv_parse_cache_mode(const char *mode, int *flags, bool *writethrough)
{
    *flags &= ~BDRV_O_CACHE_MASK;
    if (!strcmp(mode, "off") || !strcmp(mode, "none")) {
        *writethrough = false;
        *flags |= BDRV_O_NOCACHE;
    } else if (!strcmp(mode, "directsync")) {
        *writethrough = true;
        *flags |= BDRV_O_NOCACHE;
    } else if (!strcmp(mode, "writeback")) {
        *writethrough = false;
    } else if (!strcmp(mode, "unsafe")) {
        *writethrough = false;
        *flags |= BDRV_O_NO_FLUSH;
    } else if (!strcmp(mode, "writethrough")) {
        *writethrough = true;
    } else {
        return -1;
    }
    return 0;
}

int bdrv_parse_discard_flags(const char *mode, int *flags)
{
    *flags &= ~BDRV_O_UNMAP;
    if (!strcmp(mode, "off") || !strcmp(mode, "ignore")) {
        /* nothing */
    } else if (!strcmp(mode, "on") || !strcmp(mode, "unmap")) {
        *flags |= BDRV_O_UNMAP;
    } else {
        return -1;
    }
    return 0;
}

int bdrv_parse_aio(const char *mode, int *flags)
{
    *flags &= ~(BDRV_O_NATIVE_AIO | BDRV_O_IO_URING);
    if (!strcmp(mode, "native")) {
        *flags |= BDRV_O_NATIVE_AIO;
    } else if (!strcmp(mode, "io_uring")) {
        *flags |= BDRV_O_IO_URING;
    } else if (strcmp(mode, "threads")) {
        return -EINVAL;
    }
    return 0;
}

void bdrv_release_options(BlockDriverState *bs)
{
    qobject_unref(bs->options);
    qobject_unref(bs->explicit_options);
    bs->options = bs->explicit_options = NULL;
}

static bool drv_is_protocol(const BlockDriver *drv)
{
    return drv->protocol_name || (drv->flags & BDRV_F_PROTOCOL);
}

/* ---- common options ---- */

/* detect-zeroes=off|on|unmap; unmap needs discard=unmap in flags. */
static bool parse_detect_zeroes(const char *dz, int flags, BlockdevDetectZeroesOptions *out,
                                Error **errp)
{
    if (!strcmp(dz, "off")) {
        *out = BLOCKDEV_DETECT_ZEROES_OPTIONS_OFF;
    } else if (!strcmp(dz, "on")) {
        *out = BLOCKDEV_DETECT_ZEROES_OPTIONS_ON;
    } else if (!strcmp(dz, "unmap")) {
        if (!(flags & BDRV_O_UNMAP)) {
            error_setg(errp, "setting detect-zeroes to unmap is not allowed "
                       "without setting discard operation to unmap");
            return false;
        }
        *out = BLOCKDEV_DETECT_ZEROES_OPTIONS_UNMAP;
    } else {
        error_setg(errp, "Parameter 'detect-zeroes' does not accept value '%s'", dz);
        return false;
    }
    return true;
}

static bool take_common_options(BlockDriverState *bs, QDict *options, int *flags,
                                char **node_name, Error **errp)
{
    bool ro, auto_ro, direct, no_flush, force_share;
    g_autofree char *discard = NULL, *dz = NULL;

    if (!bdrv_opt_take_bool(options, "read-only", !(*flags & BDRV_O_RDWR), &ro, errp) ||
        !bdrv_opt_take_bool(options, "auto-read-only", *flags & BDRV_O_AUTO_RDONLY, &auto_ro,
                            errp) ||
        !bdrv_opt_take_bool(options, "cache.direct", *flags & BDRV_O_NOCACHE, &direct, errp) ||
        !bdrv_opt_take_bool(options, "cache.no-flush", *flags & BDRV_O_NO_FLUSH, &no_flush,
                            errp) ||
        !bdrv_opt_take_bool(options, "force-share", false, &force_share, errp)) {
        return false;
    }
    *flags = ro ? *flags & ~BDRV_O_RDWR : *flags | BDRV_O_RDWR;
    *flags = auto_ro ? *flags | BDRV_O_AUTO_RDONLY : *flags & ~BDRV_O_AUTO_RDONLY;
    *flags = direct ? *flags | BDRV_O_NOCACHE : *flags & ~BDRV_O_NOCACHE;
    *flags = no_flush ? *flags | BDRV_O_NO_FLUSH : *flags & ~BDRV_O_NO_FLUSH;
    if (force_share && !ro) {
        error_setg(errp, "force-share=on can only be used with read-only images");
        return false;
    }
    bs->force_share = force_share;

    discard = bdrv_opt_take_str(options, "discard");
    if (discard && bdrv_parse_discard_flags(discard, flags) < 0) {
        error_setg(errp, "Invalid discard option");
        return false;
    }
    dz = bdrv_opt_take_str(options, "detect-zeroes");
    if (dz && !parse_detect_zeroes(dz, *flags, &bs->detect_zeroes, errp)) {
        return false;
    }
    *node_name = bdrv_opt_take_str(options, "node-name");
    return true;
}

/* ---- json: pseudo-filenames ---- */

static bool merge_json_filename(const char **filename, QDict *options, Error **errp)
{
    QObject *obj;
    QDict *json;

    if (!*filename || !g_str_has_prefix(*filename, "json:")) {
        return true;
    }
    Error *local_err = NULL;
    obj = qobject_from_json(*filename + 5, &local_err);
    if (!obj) {
        /* nothing but white space parses to no value and no error */
        if (!local_err) {
            error_setg(&local_err, "Expecting a JSON value");
        }
        error_prepend(&local_err, "Could not parse the JSON options: ");
        error_propagate(errp, local_err);
        return false;
    }
    json = qobject_to(QDict, obj);
    if (!json) {
        qobject_unref(obj);
        error_setg(errp, "Invalid JSON object given");
        return false;
    }
    qdict_flatten(json);
    /* explicit options win over the ones in the filename */
    qdict_join(options, json, false);
    qobject_unref(json);
    *filename = NULL;
    return true;
}

/* ---- children ---- */

/* Flags and inherited options for a child opened under parent in role. */
static int child_flags(BlockDriverState *parent, BdrvChildRole role, QDict *child_opts)
{
    int flags = parent->open_flags & (BDRV_O_CACHE_MASK | BDRV_O_UNMAP | BDRV_O_NATIVE_AIO
                                      | BDRV_O_IO_URING | BDRV_O_INACTIVE | BDRV_O_AUTO_RDONLY
                                      | BDRV_O_NO_IO | BDRV_O_CHECK);

    if (role & BDRV_CHILD_COW) {
        /* backing files are read-only; they are probed */
        return flags & ~BDRV_O_UNMAP;
    }
    flags |= parent->open_flags & BDRV_O_RDWR;
    if (!(parent->drv->flags & BDRV_F_FILTER) || (role & BDRV_CHILD_PRIMARY)) {
        /* what a format reads through is a protocol unless the options say otherwise */
        if (!qdict_haskey(child_opts, "driver")) {
            flags |= BDRV_O_PROTOCOL;
        }
    }
    for (int i = 0; inherited_options[i]; i++) {
        qdict_copy_default(child_opts, parent->options, inherited_options[i]);
    }
    return flags;
}

static BlockDriverState *open_child_bs(const char *filename, QDict *options,
                                       const char *bdref_key, BlockDriverState *parent,
                                       BdrvChildRole role, bool allow_none, Error **errp)
{
    g_autofree char *prefix = g_strdup_printf("%s.", bdref_key);
    g_autofree char *reference = NULL;
    QDict *sub = NULL;
    QObject *v = qdict_get(options, bdref_key);
    BlockDriverState *bs;

    qdict_extract_subqdict(options, &sub, prefix);
    if (v && qobject_type(v) == QTYPE_QNULL) {
        qdict_del(options, bdref_key);
        qobject_unref(sub);
        if (!allow_none) {
            error_setg(errp, "A block device must be specified for \"%s\"", bdref_key);
        }
        return NULL;
    }
    reference = bdrv_opt_take_str(options, bdref_key);
    if (!filename && !reference && !qdict_size(sub)) {
        qobject_unref(sub);
        if (!allow_none) {
            error_setg(errp, "A block device must be specified for \"%s\"", bdref_key);
        }
        return NULL;
    }
    /* a child that must exist looks "" up, and fails as QEMU does */
    if (allow_none && reference && !*reference && !filename && !qdict_size(sub)) {
        qobject_unref(sub);
        return NULL;            /* "backing=" : explicitly none */
    }
    int flags = reference ? 0 : child_flags(parent, role, sub);
    bs = bdrv_open_inherit(filename, reference, sub, flags, parent, role, errp);
    return bs;
}

BdrvChild *bdrv_open_child(const char *filename, QDict *options, const char *bdref_key,
                           BlockDriverState *parent, BdrvChildRole role, bool allow_none,
                           Error **errp)
{
    BlockDriverState *bs;
    BdrvChild *c;

    bs = open_child_bs(filename, options, bdref_key, parent, role, allow_none, errp);
    if (!bs) {
        return NULL;
    }
    c = bdrv_attach_child(parent, bs, bdref_key, role, errp);
    bdrv_unref(bs);
    if (c && !strcmp(bdref_key, "file") && !parent->file) {
        parent->file = c;
    }
    return c;
}

/* The backing file name recorded in bs, resolved against bs's own directory. */
static char *full_backing_filename(BlockDriverState *bs)
{
    const char *b = bs->backing_file;
    const char *base = bs->exact_filename[0] ? bs->exact_filename : bs->filename;
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(b) || strstr(b, "://") || !base[0] ||
        g_str_has_prefix(base, "json:")) {
        return g_strdup(b);
    }
    dir = g_path_get_dirname(base);
    return g_build_filename(dir, b, NULL);
}

static int open_backing(BlockDriverState *bs, QDict *options, Error **errp)
{
    QObject *v = qdict_get(options, "backing");
    g_autofree char *reference = NULL, *filename = NULL;
    QDict *sub = NULL;
    BlockDriverState *backing;
    int ret;

    if (v && (qobject_type(v) == QTYPE_QNULL ||
              (qobject_type(v) == QTYPE_QSTRING && !*qstring_get_str(qobject_to(QString, v))))) {
        qdict_del(options, "backing");
        bs->open_flags |= BDRV_O_NO_BACKING;
        return 0;
    }
    reference = bdrv_opt_take_str(options, "backing");
    qdict_extract_subqdict(options, &sub, "backing.");
    if (!reference && !qdict_size(sub) && !bs->backing_file[0]) {
        qobject_unref(sub);
        return 0;
    }
    if (!reference) {
        if (bs->backing_file[0] && !qdict_haskey(sub, "file") &&
            !qdict_haskey(sub, "file.filename") && !qdict_haskey(sub, "filename")) {
            filename = full_backing_filename(bs);
        }
        if (bs->backing_format[0] && !qdict_haskey(sub, "driver")) {
            qdict_put_str(sub, "driver", bs->backing_format);
        }
    } else if (qdict_size(sub)) {
        qobject_unref(sub);
        error_setg(errp, "Cannot reference an existing block device with additional "
                   "options or a new filename");
        return -EINVAL;
    }
    backing = bdrv_open_inherit(filename, reference, reference ? NULL : sub,
                                reference ? 0 : child_flags(bs, BDRV_CHILD_COW, sub),
                                bs, BDRV_CHILD_COW, errp);
    if (reference) {
        qobject_unref(sub);
    }
    if (!backing) {
        error_prepend(errp, "Could not open backing file: ");
        return -EINVAL;
    }
    ret = bdrv_set_backing_hd(bs, backing, errp);
    bdrv_unref(backing);
    return ret;
}

/* ---- probing ---- */

static const BlockDriver *probe_format(BlockDriverState *file, const char *filename,
                                       Error **errp)
{
    uint8_t buf[PROBE_BUF_SIZE] = { 0 };
    BlockBackend *blk = blk_new(BLK_PERM_CONSISTENT_READ, BLK_PERM_ALL);
    int64_t len;
    int ret = 0;

    if (blk_insert_bs(blk, file, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    len = blk_getlength(blk);
    if (len > 0) {
        ret = blk_pread(blk, 0, MIN(len, PROBE_BUF_SIZE), buf, 0);
    }
    blk_unref(blk);
    if (len < 0 || ret < 0) {
        error_setg_errno(errp, -(len < 0 ? len : ret), "Could not read image for determining "
                         "its format");
        return NULL;
    }
    return bdrv_probe_format(buf, MIN(len, PROBE_BUF_SIZE), filename);
}

/* ---- the open itself ---- */

static void report_leftover(QDict *options, int flags, const BlockDriver *drv, Error **errp)
{
    const char *key = qdict_entry_key(qdict_first(options));

    for (const QDictEntry *e = qdict_first(options); e; e = qdict_next(options, e)) {
        const char *k = qdict_entry_key(e);
        if (!(drv->flags & BDRV_F_SUPPORTS_BACKING) &&
            (!strcmp(k, "backing") || g_str_has_prefix(k, "backing."))) {
            error_setg(errp, "Driver doesn't support backing files");
            return;
        }
    }
    if (flags & BDRV_O_PROTOCOL) {
        error_setg(errp, "Block protocol '%s' doesn't support the option '%s'",
                   drv->format_name, key);
    } else {
        error_setg(errp, "Block format '%s' does not support the option '%s'",
                   drv->format_name, key);
    }
}

/* Everything after the node exists and is named: driver, backing, leftovers. */
static int open_driver(BlockDriverState *bs, const BlockDriver *drv, QDict *options,
                       BlockDriverState *file, Error **errp)
{
    int ret;

    bs->drv = drv;
    bdrv_debug_hooks_seen |= drv->debug_event != NULL;
    bs->opaque = g_malloc0(MAX(drv->instance_size, 1));
    if (file) {
        qdict_put_str(options, "file", bdrv_get_node_name(file));
    }
    ret = drv->open ? drv->open(bs, options, bs->open_flags, errp) : 0;
    if (ret < 0) {
        return ret;
    }
    if (file && qdict_haskey(options, "file")) {
        qdict_del(options, "file");     /* a driver without a file child ignored it */
    }
    bdrv_refresh_limits(bs, NULL);
    if ((drv->flags & BDRV_F_SUPPORTS_BACKING) && !(bs->open_flags & BDRV_O_NO_BACKING)) {
        ret = open_backing(bs, options, errp);
        if (ret < 0) {
            goto close;
        }
    }
    if (qdict_size(options)) {
        report_leftover(options, bs->open_flags, drv, errp);
        ret = -EINVAL;
        goto close;
    }
    return 0;

close:
    /* the driver opened fine: it must release what it holds (and undo marks it made) */
    if (drv->close) {
        drv->close(bs);
    }
    return ret;
}

static void open_failed(BlockDriverState *bs)
{
    /* a driver whose open() failed has cleaned up after itself; children remain */
    while (bs->children) {
        bdrv_unref_child(bs, bs->children->data);
    }
    bs->drv = NULL;
    bdrv_unref(bs);
}

BlockDriverState *bdrv_open_inherit(const char *filename, const char *reference,
                                    QDict *options, int flags, BlockDriverState *parent,
                                    BdrvChildRole role, Error **errp)
{
    g_autofree char *driver = NULL, *node_name = NULL;
    const BlockDriver *drv = NULL;
    BlockDriverState *bs = NULL, *file = NULL;

    if (!options) {
        options = qdict_new();
    }
    if (reference) {
        if (filename || qdict_size(options)) {
            error_setg(errp, "Cannot reference an existing block device with additional "
                       "options or a new filename");
            goto fail_opts;
        }
        bs = bdrv_lookup_bs(reference, reference, errp);
        if (bs) {
            bdrv_ref(bs);
        }
        qobject_unref(options);
        return bs;
    }
    if (!merge_json_filename(&filename, options, errp)) {
        goto fail_opts;
    }
    driver = bdrv_opt_take_str(options, "driver");
    if (driver) {
        drv = bdrv_find_format(driver);
        if (!drv) {
            error_setg(errp, "Unknown driver '%s'", driver);
            goto fail_opts;
        }
        if (drv_is_protocol(drv)) {
            flags |= BDRV_O_PROTOCOL;
        } else {
            flags &= ~BDRV_O_PROTOCOL;
        }
    }
    if (flags & BDRV_O_PROTOCOL) {
        if (!drv && filename) {
            drv = bdrv_find_protocol(filename, true, errp);
            if (!drv) {
                goto fail_opts;
            }
        } else if (!drv && qdict_get_try_str(options, "filename")) {
            /* an explicit filename option is never parsed for a "proto:" prefix */
            drv = bdrv_find_protocol(qdict_get_try_str(options, "filename"), false, errp);
            if (!drv) {
                goto fail_opts;
            }
        }
        if (!drv) {
            error_setg(errp, "Must specify either driver or file");
            goto fail_opts;
        }
        if (filename) {
            if (qdict_haskey(options, "filename")) {
                error_setg(errp, "Can't specify 'file' and 'filename' options at the "
                           "same time");
                goto fail_opts;
            }
            if (drv->parse_filename) {
                Error *local_err = NULL;
                drv->parse_filename(filename, options, &local_err);
                if (local_err) {
                    error_propagate(errp, local_err);
                    goto fail_opts;
                }
            } else {
                qdict_put_str(options, "filename", filename);
            }
        }
    }

    bs = bdrv_new();
    bs->options = qdict_clone_shallow(options);
    bs->explicit_options = qdict_clone_shallow(options);
    if (driver) {
        qdict_put_str(bs->options, "driver", driver);
        qdict_put_str(bs->explicit_options, "driver", driver);
    }
    if (!take_common_options(bs, options, &flags, &node_name, errp)) {
        goto fail;
    }
    bs->open_flags = flags;
    bs->read_only = !(flags & BDRV_O_RDWR);

    if (!(flags & BDRV_O_PROTOCOL)) {
        bool has_file = filename || qdict_haskey(options, "file");
        for (const QDictEntry *e = qdict_first(options); e && !has_file; e = qdict_next(options, e)) {
            has_file = g_str_has_prefix(qdict_entry_key(e), "file.");
        }
        if (!drv && !has_file) {
            error_setg(errp, "Must specify either driver or file");
            goto fail;
        }
        if (has_file) {
            /* the node is not fully set up, but child_flags needs drv: assume a format */
            static const BlockDriver format_placeholder = { .flags = BDRV_F_FORMAT };
            bs->drv = drv ? drv : &format_placeholder;
            file = open_child_bs(filename, options, "file", bs, BDRV_CHILD_IMAGE, false, errp);
            bs->drv = NULL;
            if (!file) {
                goto fail;
            }
        }
        if (!drv) {
            drv = probe_format(file, filename ? filename : file->filename, errp);
            if (!drv) {
                goto fail;
            }
            bs->probed = true;
            qdict_put_str(bs->options, "driver", drv->format_name);
        }
    }
    (void)parent;
    (void)role;
    /*
     * Named (and listed) after the file child, as QEMU does: query-named-block-nodes
     * lists nodes newest first, so a format node comes before its file node.
     */
    if (!bdrv_assign_node_name(bs, node_name, errp)) {
        goto fail;
    }
    if (open_driver(bs, drv, options, file, errp) < 0) {
        goto fail;
    }
    bdrv_unref(file);
    qobject_unref(options);
    if (!(bs->open_flags & BDRV_O_PROTOCOL) || !bs->exact_filename[0]) {
        bdrv_refresh_filename(bs);
    }
    return bs;

fail:
    bdrv_unref(file);
    if (bs) {
        open_failed(bs);
    }
fail_opts:
    qobject_unref(options);
    return NULL;
}

BlockDriverState *bdrv_open(const char *filename, const char *reference, QDict *options,
                            int flags, Error **errp)
{
    return bdrv_open_inherit(filename, reference, options, flags, NULL, 0, errp);
}

/* ---- filenames ---- */

/* Options that do not change what data a node shows (left out of json:{}). */
static bool is_weak_option(const char *key)
{
    static const char *const weak[] = {
        "node-name", "read-only", "auto-read-only", "cache.direct", "cache.no-flush",
        "discard", "detect-zeroes", "force-share", "aio", "locking", NULL,
    };
    for (int i = 0; weak[i]; i++) {
        size_t kl = strlen(key), wl = strlen(weak[i]);
        if (kl >= wl && !strcmp(key + kl - wl, weak[i]) && (kl == wl || key[kl - wl - 1] == '.')) {
            return true;
        }
    }
    return false;
}

static QDict *strong_options(BlockDriverState *bs)
{
    QDict *d = qdict_new();

    if (!bs->options) {
        return d;
    }
    for (const QDictEntry *e = qdict_first(bs->options); e; e = qdict_next(bs->options, e)) {
        if (!is_weak_option(qdict_entry_key(e))) {
            qdict_put_obj(d, qdict_entry_key(e), qobject_ref(qdict_entry_value(e)));
        }
    }
    return d;
}

/*
 * The strong options of bs as nested dicts, with children that were given by
 * node name ("file": "node0") replaced by their own options, as json:{} shows them.
 */
static QDict *full_options(BlockDriverState *bs)
{
    QDict *strong = strong_options(bs);
    QObject *nested = qdict_crumple(strong, NULL);
    QDict *d = qobject_to(QDict, nested);

    qobject_unref(strong);
    if (!d) {
        qobject_unref(nested);
        return qdict_new();
    }
    for (GSList *l = bs->children; l; l = l->next) {
        BdrvChild *c = l->data;
        QObject *v = qdict_get(d, c->name);

        if (c == bs->backing && (!v || bs->backing_file[0])) {
            /* the backing node the image header names is no option of ours */
            qdict_del(d, c->name);
        } else if (!v || qobject_type(v) == QTYPE_QSTRING) {
            qdict_put(d, c->name, full_options(c->bs));
        }
    }
    if (!qdict_haskey(d, "driver") && bs->drv) {
        qdict_put_str(d, "driver", bs->drv->format_name);
    }
    return d;
}

void bdrv_refresh_filename(BlockDriverState *bs)
{
    BdrvChild *file = bs->file;

    if (!bs->drv) {
        return;
    }
    for (GSList *l = bs->children; l; l = l->next) {
        bdrv_refresh_filename(((BdrvChild *)l->data)->bs);
    }
    if (bs->drv->refresh_filename) {
        bs->drv->refresh_filename(bs);
    } else if (bs->open_flags & BDRV_O_PROTOCOL) {
        const char *fn = bs->options ? qdict_get_try_str(bs->options, "filename") : NULL;
        if (fn) {
            g_strlcpy(bs->exact_filename, fn, sizeof(bs->exact_filename));
        }
    } else if (file && file->bs->exact_filename[0]) {
        /* a format over a plain file with nothing but defaults is named by the file */
        QDict *strong = strong_options(bs);
        bool plain = true;
        for (const QDictEntry *e = qdict_first(strong); e; e = qdict_next(strong, e)) {
            const char *k = qdict_entry_key(e);
            if (strcmp(k, "driver") && strcmp(k, "file") && !g_str_has_prefix(k, "file.") &&
                strcmp(k, "backing") && !g_str_has_prefix(k, "backing.")) {
                plain = false;
            }
        }
        qobject_unref(strong);
        if (plain) {
            g_strlcpy(bs->exact_filename, file->bs->exact_filename,
                      sizeof(bs->exact_filename));
        }
    }
    if (bs->exact_filename[0]) {
        g_strlcpy(bs->filename, bs->exact_filename, sizeof(bs->filename));
    } else {
        QDict *full = full_options(bs);
        GString *json = qobject_to_json(QOBJECT(full));
        g_autofree char *s = g_strdup_printf("json:%s", json->str);

        g_strlcpy(bs->filename, s, sizeof(bs->filename));
        g_string_free(json, true);
        qobject_unref(full);
    }
}

/* ---- reopen ---- */

#define REOPEN_CACHE_FLAGS (BDRV_O_NOCACHE | BDRV_O_NO_FLUSH)

/*
 * Give bs new cache flags, and the same to the file children below it that had
 * inherited bs's old ones (same bits), bottom-up so that a child that cannot
 * switch (O_DIRECT on tmpfs) fails before anything above it changed. On failure
 * the nodes already switched are switched back.
 */
static int reopen_cache(BlockDriverState *bs, int cache, Error **errp)
{
    int old = bs->open_flags;
    int new_flags = (old & ~REOPEN_CACHE_FLAGS) | cache;
    BdrvChild *file = bs->file;
    int file_old = file ? file->bs->open_flags : 0;
    int ret;

    if (new_flags == old) {
        return 0;
    }
    if (file && !((file_old ^ old) & REOPEN_CACHE_FLAGS)) {
        ret = reopen_cache(file->bs, cache, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (bs->drv->reopen) {
        ret = bs->drv->reopen(bs, NULL, new_flags, errp);
        if (ret < 0) {
            if (file && file->bs->open_flags != file_old) {
                reopen_cache(file->bs, file_old & REOPEN_CACHE_FLAGS, NULL);
            }
            return ret;
        }
    }
    bs->open_flags = new_flags;
    /* O_DIRECT changes the alignment the file needs */
    if (file) {
        bdrv_refresh_limits(file->bs, NULL);
    }
    bdrv_refresh_limits(bs, NULL);
    return 0;
}

/*
 * Change options of an open node: read-only, cache.direct, cache.no-flush,
 * discard, detect-zeroes. Unnamed options keep their current values. Takes
 * ownership of options.
 */
int bdrv_reopen(BlockDriverState *bs, QDict *options, Error **errp)
{
    bool ro, direct, no_flush, was_ro = bs->read_only;
    int flags = bs->open_flags, ret;
    BlockdevDetectZeroesOptions dz_mode = bs->detect_zeroes;
    g_autofree char *discard = NULL, *dz = NULL;

    if (!bdrv_opt_take_bool(options, "read-only", bs->read_only, &ro, errp) ||
        !bdrv_opt_take_bool(options, "cache.direct", flags & BDRV_O_NOCACHE, &direct, errp) ||
        !bdrv_opt_take_bool(options, "cache.no-flush", flags & BDRV_O_NO_FLUSH, &no_flush,
                            errp)) {
        qobject_unref(options);
        return -EINVAL;
    }
    discard = bdrv_opt_take_str(options, "discard");
    dz = bdrv_opt_take_str(options, "detect-zeroes");
    if (qdict_size(options)) {
        error_setg(errp, "Cannot change the option '%s'", qdict_entry_key(qdict_first(options)));
        qobject_unref(options);
        return -ENOTSUP;
    }
    qobject_unref(options);
    if (discard && bdrv_parse_discard_flags(discard, &flags) < 0) {
        error_setg(errp, "Invalid discard option");
        return -EINVAL;
    }
    if (dz && !parse_detect_zeroes(dz, flags, &dz_mode, errp)) {
        return -EINVAL;
    }
    if (dz_mode == BLOCKDEV_DETECT_ZEROES_OPTIONS_UNMAP && !(flags & BDRV_O_UNMAP)) {
        error_setg(errp, "setting detect-zeroes to unmap is not allowed "
                   "without setting discard operation to unmap");
        return -EINVAL;
    }
    ret = bdrv_reopen_set_read_only(bs, ro, errp);
    if (ret < 0) {
        return ret;
    }
    bdrv_drained_begin(bs);
    ret = reopen_cache(bs, (direct ? BDRV_O_NOCACHE : 0) | (no_flush ? BDRV_O_NO_FLUSH : 0),
                       errp);
    if (ret == 0) {
        bs->open_flags = (bs->open_flags & ~BDRV_O_UNMAP) | (flags & BDRV_O_UNMAP);
        bs->detect_zeroes = dz_mode;
    }
    bdrv_drained_end(bs);
    if (ret < 0 && ro != was_ro) {
        bdrv_reopen_set_read_only(bs, was_ro, NULL);
    }
    return ret;
}
