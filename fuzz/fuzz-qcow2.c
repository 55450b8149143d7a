/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for the qcow2 driver: the input is an image file. It is written to
 * a memfd and opened read-write with the qcow2 driver on the file protocol
 * (backing files are not opened); then a little is read, written, zeroed,
 * discarded and flushed, the image is checked, and everything is closed. Any
 * outcome is fine except a crash, a hang or a sanitizer report.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-backend.h"
#include "qobject/qdict.h"
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_io(BlockBackend *blk)
{
    int64_t len = blk_getlength(blk);
    uint8_t buf[8192];

    if (len <= 0) {
        return;
    }
    int64_t offs[] = { 0, len / 2, len > 8192 ? len - 8192 : 0 };
    for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
        int64_t n = MIN((int64_t)sizeof(buf), len - offs[i]);
        blk_pread(blk, offs[i], n, buf, 0);
    }
    memset(buf, 0xa5, sizeof(buf));
    for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
        int64_t n = MIN((int64_t)3000, len - offs[i]);
        blk_pwrite(blk, offs[i] + (i ? 0 : 100) % MAX(len - n, 1), n, buf, 0);
    }
    blk_pwrite_zeroes(blk, 0, MIN(len, 65536), BDRV_REQ_MAY_UNMAP);
    blk_pdiscard(blk, len / 2, MIN(len / 2, 65536));
    blk_pread(blk, 0, MIN(len, (int64_t)sizeof(buf)), buf, 0);
    blk_flush(blk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-qcow2", 0);

    if (fd < 0) {
        return 0;
    }
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    QDict *o = qdict_new();
    qdict_put_str(o, "driver", "qcow2");
    qdict_put_str(o, "file.driver", "file");
    qdict_put_str(o, "file.locking", "off");
    Error *err = NULL;
    BlockBackend *blk = blk_new_open(path, NULL, o, BDRV_O_RDWR | BDRV_O_NO_BACKING |
                                     BDRV_O_UNMAP, &err);
    if (blk) {
        BdrvCheckResult res = { 0 };
        bdrv_check(blk_bs(blk), &res, 0);
        fuzz_io(blk);
        blk_unref(blk);
    } else {
        error_free(err);
    }
    close(fd);
    return 0;
}
