/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * hmp.h: the human monitor's command tables.
 *
 * A command is (name, args_type, params, help, handler), in QEMU's notation:
 *   name       "stop|s": the name and its aliases
 *   args_type  comma-separated "key:T" with an optional '?' after T:
 *                s   one word (double quotes group words; \" \\ \n escapes)
 *                S   the rest of the line
 *                F   a file name, B a block device name (one word each)
 *                i   a 32-bit integer, l a 64-bit integer
 *                o   a size: k/M/G/T suffixes, MiB without a suffix, B for bytes
 *                b   on|off
 *                -X  a flag "-X" (stored as a bool under key)
 *              Flags come first on the line, in any order.
 *   params     the synopsis for help ("device [speed [base]]")
 *   help       one line of help
 *   handler    gets the parsed arguments: strings as QStrings, i/l/o as QNum ints,
 *              b and flags as QBools; absent optional arguments are absent.
 * A command with sub_table (only "info") takes the next word as a subcommand.
 *
 * Handlers parse nothing themselves: they call qmp_*() and print with
 * monitor_printf(); errors go through hmp_handle_error(), which prints
 * "Error: <message>".
 *
 * Each command group (misc here, block and migration later) defines its tables
 * in monitor/hmp-cmds-<group>.c and lists them in monitor/hmp-tables.c.
 */
#ifndef GODWIT_HMP_H
#define GODWIT_HMP_H

#include "monitor/monitor.h"
#include "qobject/qdict.h"

typedef struct HMPCommand HMPCommand;

struct HMPCommand {
    const char *name;
    const char *args_type;
    const char *params;
    const char *help;
    void (*cmd)(Monitor *mon, const QDict *qdict);
    const HMPCommand *const *sub_table;   /* NULL-terminated list of tables */
};

/* NULL-terminated lists of NULL-name-terminated tables (monitor/hmp-tables.c). */
extern const HMPCommand *const hmp_cmd_tables[];
extern const HMPCommand *const hmp_info_tables[];

/* Per-group tables. */
extern const HMPCommand hmp_cmds_misc[];
extern const HMPCommand hmp_info_cmds_misc[];
extern const HMPCommand hmp_cmds_block[];
extern const HMPCommand hmp_cmds_jobs[];
extern const HMPCommand hmp_info_cmds_jobs[];
extern const HMPCommand hmp_info_cmds_block[];
extern const HMPCommand hmp_cmds_migration[];
extern const HMPCommand hmp_info_cmds_migration[];

/* Print "Error: <msg>" if err is set, and free it. */
void hmp_handle_error(Monitor *mon, Error *err);

/* Run one command line on mon (used by the line editor and by capture). */
void hmp_handle_command(Monitor *mon, const char *cmdline);

/* The help command and "info" with no argument. */
void hmp_help(Monitor *mon, const QDict *qdict);
void hmp_info_help(Monitor *mon, const QDict *qdict);

#endif /* GODWIT_HMP_H */
