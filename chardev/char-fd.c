/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Chardevs on plain file descriptors: stdio, file (output only), pipe, null.
 */
#include "util/osdep.h"
#include "chardev/char-internal.h"
#include "sysemu/opts.h"

#include <fcntl.h>

static bool stdio_in_use;

static bool stdio_open(Chardev *chr, QDict *opts, Error **errp)
{
    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_in_use = true;
    /* stdin/stdout are not ours to close; a hangup only stops using them */
    chr_connected(chr, STDIN_FILENO, STDOUT_FILENO, false, false);
    return true;
}

static bool file_open(Chardev *chr, QDict *opts, Error **errp)
{
    const char *path = qdict_get_try_str(opts, "path");
    Error *err = NULL;
    bool append = qemu_opt_get_bool(opts, "append", false, &err);
    int fd;

    if (err) {
        error_propagate(errp, err);
        return false;
    }
    if (!path) {
        error_setg(errp, "chardev: file: no filename given");
        return false;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    chr_connected(chr, -1, fd, false, true);
    return true;
}

static bool pipe_open(Chardev *chr, QDict *opts, Error **errp)
{
    const char *path = qdict_get_try_str(opts, "path");
    g_autofree char *in = NULL;
    g_autofree char *out = NULL;
    int in_fd, out_fd;

    if (!path) {
        error_setg(errp, "chardev: pipe: no filename given");
        return false;
    }
    in = g_strdup_printf("%s.in", path);
    out = g_strdup_printf("%s.out", path);
    in_fd = open(in, O_RDWR | O_CLOEXEC);
    out_fd = open(out, O_RDWR | O_CLOEXEC);
    if (in_fd < 0 || out_fd < 0) {
        if (in_fd >= 0) {
            close(in_fd);
        }
        if (out_fd >= 0) {
            close(out_fd);
        }
        in_fd = out_fd = open(path, O_RDWR | O_CLOEXEC);
        if (in_fd < 0) {
            error_setg_errno(errp, errno, "Could not open '%s'", path);
            return false;
        }
    }
    chr_connected(chr, in_fd, out_fd, false, true);
    return true;
}

static bool null_open(Chardev *chr, QDict *opts, Error **errp)
{
    chr_connected(chr, -1, -1, false, false);
    return true;
}

static void stdio_close(Chardev *chr)
{
    stdio_in_use = false;
}

const ChardevClass chardev_stdio_class = {
    .name = "stdio", .open = stdio_open, .close = stdio_close,
};
const ChardevClass chardev_file_class = { .name = "file", .open = file_open };
const ChardevClass chardev_pipe_class = { .name = "pipe", .open = pipe_open };
const ChardevClass chardev_null_class = { .name = "null", .open = null_open };
