/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for block node options as a user or management tool passes them
 * (-drive/-blockdev, godwit-img's json:{...} filenames). Byte 0 picks the form
 * and the flags; the rest is the option string:
 *
 *   bit 0 clear   "json:" + rest as the filename of blk_new_open
 *   bit 0 set     rest as a keyval string (bit 2: implied key "driver"),
 *                 flattened into the options of blk_new_open
 *   bit 1         open read-write
 *
 * Only null-co, null-aio, raw and blkdebug can be found (bdrv_restrict_drivers),
 * so no file, device or socket is ever opened, whatever the options say; inputs
 * that name a blkdebug config file (read by blkdebug itself) or a null latency
 * (a real sleep per request) are skipped. An opened node gets a little I/O, then
 * its json:{} filename is opened again; every failure must come as an Error.
 */
#include "util/osdep.h"
#include "block/block-backend.h"
#include "block/block-int.h"
#include "qobject/keyval.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_drivers[] = { "null-co", "null-aio", "raw", "blkdebug", NULL };

/* Would these (flattened) options read a host file or sleep? */
static bool fuzz_opts_safe(const QDict *opts)
{
    for (const QDictEntry *e = qdict_first(opts); e; e = qdict_next(opts, e)) {
        const char *key = qdict_entry_key(e);
        const char *dot = strrchr(key, '.');
        const char *last = dot ? dot + 1 : key;
        QString *str = qobject_to(QString, qdict_entry_value(e));

        if (!strcmp(last, "config") || !strcmp(last, "latency-ns")) {
            return false;
        }
        if (str) {
            const char *v = qstring_get_str(str);
            const char *bd = strstr(v, "blkdebug:");
            if (strstr(v, "json:") || (bd && bd[9] != ':')) {
                return false;                  /* nested options or a config file */
            }
        }
    }
    return true;
}

static bool fuzz_json_safe(const char *json)
{
    QObject *obj = qobject_from_json(json, NULL);
    QDict *d = qobject_to(QDict, obj);
    bool safe = true;

    if (d) {
        qdict_flatten(d);
        safe = fuzz_opts_safe(d);
    }
    qobject_unref(obj);
    return safe;                               /* what does not parse opens nothing */
}

static void fuzz_io(BlockBackend *blk, bool rw)
{
    int64_t len = blk_getlength(blk);
    uint8_t buf[4096];

    if (len <= 0) {
        return;
    }
    int64_t n = MIN(len, (int64_t)sizeof(buf));
    blk_pread(blk, 0, n, buf, 0);
    blk_pread(blk, len - n, n, buf, 0);
    blk_pread(blk, len / 3, MIN(n, len - len / 3), buf, 0);
    if (rw) {
        memset(buf, 0x5a, sizeof(buf));
        blk_pwrite(blk, len - n, n, buf, 0);
        blk_pwrite_zeroes(blk, 0, MIN(len, 65536), BDRV_REQ_MAY_UNMAP);
        blk_pdiscard(blk, len / 2, MIN(len - len / 2, 65536));
        blk_flush(blk);
    }
}

static BlockBackend *fuzz_open(const char *filename, QDict *opts, int flags)
{
    Error *err = NULL;
    BlockBackend *blk = blk_new_open(filename, NULL, opts, flags, &err);

    if (!blk) {
        assert(err && error_get_pretty(err)[0]);
        error_free(err);
    }
    return blk;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384) {
        return 0;
    }
    uint8_t mode = data[0];
    int flags = (mode & 2 ? BDRV_O_RDWR : 0) | BDRV_O_NO_BACKING;
    g_autofree char *str = g_strndup((const char *)data + 1, size - 1);
    g_autofree char *filename = NULL;
    QDict *opts = NULL;

    bdrv_restrict_drivers(fuzz_drivers);
    if (mode & 1) {
        bool help = false;
        Error *err = NULL;
        opts = keyval_parse(str, mode & 4 ? "driver" : NULL, &help, &err);
        if (!opts) {
            error_free(err);
            return 0;
        }
        qdict_flatten(opts);
        if (!fuzz_opts_safe(opts)) {
            qobject_unref(opts);
            return 0;
        }
    } else {
        if (!fuzz_json_safe(str)) {
            return 0;
        }
        filename = g_strdup_printf("json:%s", str);
    }

    BlockBackend *blk = fuzz_open(filename, opts, flags);
    if (!blk) {
        return 0;
    }
    fuzz_io(blk, flags & BDRV_O_RDWR);

    /* the node's own description must open the same kind of node again */
    BlockDriverState *bs = blk_bs(blk);
    bdrv_refresh_filename(bs);
    g_autofree char *again = g_strdup(bs->filename);
    if (g_str_has_prefix(again, "json:") && fuzz_json_safe(again + 5)) {
        BlockBackend *blk2 = fuzz_open(again, NULL, flags & ~BDRV_O_RDWR);
        if (blk2) {
            fuzz_io(blk2, false);
            blk_unref(blk2);
        }
    }
    blk_unref(blk);
    return 0;
}
