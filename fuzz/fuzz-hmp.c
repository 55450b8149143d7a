/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Fuzz target for the human monitor: every line of the input (split at '\n'
 * and NUL) goes through hmp_run_line_captured, i.e. the HMP word splitter,
 * command lookup (with "info" subcommands), args_type parsing (words, quoted
 * strings with escapes, sizes, numbers, -flags, optional arguments) and the
 * handler, with its output captured. No machine is set up; one block device
 * "d0" (null-co, through raw) and a node "n0" exist, and only the null and raw
 * drivers can be opened. Lines naming a command that starts a block job or
 * creates an image, or qemu-io (abort, sleep, sigraise), are skipped: the
 * parser still sees every other line.
 */
#include "util/osdep.h"
#include "block/block-backend.h"
#include "block/block-int.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "qobject/qdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_drivers[] = { "null-co", "null-aio", "raw", NULL };

static void fuzz_setup(void)
{
    static bool done;
    Error *err = NULL;

    if (done) {
        return;
    }
    done = true;
    bdrv_restrict_drivers(fuzz_drivers);
    QDict *o = qdict_new();
    qdict_put_str(o, "driver", "raw");
    qdict_put_str(o, "node-name", "n0");
    qdict_put_str(o, "file.driver", "null-co");
    qdict_put_str(o, "file.size", "1M");
    BlockBackend *blk = blk_new_open(NULL, NULL, o, BDRV_O_RDWR, &err);
    if (!blk || !blk_set_name(blk, "d0", &err)) {
        fprintf(stderr, "fuzz-hmp: %s\n", error_get_pretty(err));
        abort();
    }
}

/* Would the line (escapes and quotes aside) start a job, create a file or run qemu-io? */
static bool fuzz_line_safe(const char *line)
{
    static const char *const deny[] = {
        "qemu-io", "drive_", "snapshot", "stream", "commit", NULL
    };
    g_autofree char *plain = g_strdup(line);
    char *w = plain;

    for (const char *r = line; *r; r++) {
        if (*r != '\\' && *r != '"') {
            *w++ = *r;
        }
    }
    *w = 0;
    for (const char *const *d = deny; *d; d++) {
        if (strstr(plain, *d)) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *end = data + size;
    unsigned lines = 0;

    fuzz_setup();
    for (const uint8_t *p = data; p < end && lines < 64; lines++) {
        const uint8_t *nl = p;
        while (nl < end && *nl != '\n' && *nl != 0) {
            nl++;
        }
        g_autofree char *line = g_strndup((const char *)p, nl - p);
        p = nl + 1;
        if (!fuzz_line_safe(line)) {
            continue;
        }
        char *out = hmp_run_line_captured(line);
        assert(out);
        g_free(out);
    }
    return 0;
}
