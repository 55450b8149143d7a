/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * job-top.c: mirror_top and commit_top, the filters that the mirror job (and
 * active commit) and the intermediate commit job put above the node they copy
 * from while they run. They only pass requests through: the jobs watch writes
 * with their dirty bitmaps. They exist so that the graph shows the job, as QEMU's
 * does, and so that a filter-node-name names something. Not openable by users
 * (not in the driver registry, as in QEMU).
 */
#include "util/osdep.h"
#include "block/filter.h"

#define JOB_TOP_CALLBACKS                                               \
    .flags = BDRV_F_FILTER | BDRV_F_SUPPORTS_BACKING,                   \
    .co_preadv = bdrv_filter_co_preadv,                                 \
    .co_pwritev = bdrv_filter_co_pwritev,                               \
    .co_pwrite_zeroes = bdrv_filter_co_pwrite_zeroes,                   \
    .co_pdiscard = bdrv_filter_co_pdiscard,                             \
    .co_truncate = bdrv_filter_co_truncate,                             \
    .co_get_allocated_file_size = bdrv_filter_co_get_allocated_file_size, \
    .child_perm = bdrv_filter_child_perm,                               \
    .refresh_filename = bdrv_filter_refresh_filename

const BlockDriver bdrv_mirror_top = {
    .format_name = "mirror_top",
    JOB_TOP_CALLBACKS,
};

const BlockDriver bdrv_commit_top = {
    .format_name = "commit_top",
    JOB_TOP_CALLBACKS,
};
