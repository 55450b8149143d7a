/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * qcow2-test-image.h: a fresh qcow2 image for the qcow2 unit tests, made by the
 * driver's own create from "key=value,..." options (size=..., cluster_size=...).
 */
#ifndef TEST_QCOW2_TEST_IMAGE_H
#define TEST_QCOW2_TEST_IMAGE_H

#include "util/osdep.h"
#include "block/block.h"
#include "qobject/qdict.h"

/* A new temporary file named after prefix, formatted as qcow2; g_free() the path. */
static inline char *qcow2_test_make_image(const char *prefix, const char *opts)
{
    char *path = g_strdup_printf("%s/%s-XXXXXX", g_get_tmp_dir(), prefix);
    int fd = g_mkstemp(path);
    g_assert(fd >= 0);
    close(fd);
    QDict *o = qdict_new();
    g_auto(GStrv) kv = g_strsplit(opts, ",", -1);
    for (int i = 0; kv[i]; i++) {
        char *eq = strchr(kv[i], '=');
        *eq = 0;
        qdict_put_str(o, kv[i], eq + 1);
    }
    g_assert_cmpint(bdrv_create(bdrv_find_format("qcow2"), path, o, &error_abort), ==, 0);
    qobject_unref(o);
    return path;
}

#endif /* TEST_QCOW2_TEST_IMAGE_H */
