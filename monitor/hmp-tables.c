/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The HMP command tables of every group (see include/monitor/hmp.h). A new group
 * (block, migration) adds its tables here.
 */
#include "util/osdep.h"
#include "monitor/hmp.h"

const HMPCommand *const hmp_cmd_tables[] = {
    hmp_cmds_misc,
    hmp_cmds_block,
    hmp_cmds_jobs,
    hmp_cmds_migration,
    NULL,
};

const HMPCommand *const hmp_info_tables[] = {
    hmp_info_cmds_misc,
    hmp_info_cmds_block,
    hmp_info_cmds_jobs,
    hmp_info_cmds_migration,
    NULL,
};
