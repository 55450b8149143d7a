/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * migration-int.h: MigrationState, shared by the core files of migration/
 * (migration.c: source; incoming.c: destination; options.c: capabilities,
 * parameters, query-migrate). Main loop only.
 */
#ifndef GODWIT_MIGRATION_INT_H
#define GODWIT_MIGRATION_INT_H

#include "migration/migration.h"
#include "migration/channel.h"

struct MigrationState {
    /* set at creation */
    MigRegistry *reg;
    const MigVmOps *vm_ops;
    void *vm_opaque;

    /* main loop only: configuration */
    bool caps[MIGRATION_CAPABILITY__MAX];
    MigrationParameters params;
    bool drop_dirty;                    /* tests: negative control */

    /* main loop only: the outgoing migration */
    MigrationStatus status;
    MigStream *f;
    Coroutine *co;
    MigSaveInfo info;
    Error *error;
    bool cancel_requested;
    bool continue_requested;
    bool stopped_vm;                    /* we stopped a running VM */
    bool block_inactive;                /* we handed the images over (switch-over) */
    int inactivate_ret;
    int64_t start_ms, setup_ms, total_ms, downtime_ms, expected_downtime_ms;
    uint64_t dirty_sync_count;
    double bw_bytes_per_ms;             /* measured */
    int64_t bw_ts_ms;
    uint64_t bw_bytes;
    double mbps;

    /* main loop only: the incoming migration */
    MigrationStatus in_status;
    MigListener *listener;
    MigStream *in_f;
    Coroutine *in_co;
    void (*fail_hook)(void *opaque, const Error *err);
    void *fail_opaque;
};

void migration_set_status(MigrationState *s, MigrationStatus status);
/* Is s the process's own VM (run states, block devices), not a test's? */
bool migration_owns_process(MigrationState *s);
void migration_set_in_status(MigrationState *s, MigrationStatus status);
QmpSocketAddressList *migration_incoming_socket_address(MigrationState *s);
void migration_params_init(MigrationParameters *p);

#endif /* GODWIT_MIGRATION_INT_H */
