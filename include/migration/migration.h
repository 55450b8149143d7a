/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * migration.h: live migration. A MigRegistry lists the sections of one VM (RAM,
 * vCPU and device state, block devices, the machine marker); a MigrationState
 * moves them out (pre-copy, as QEMU 7.2's `migrate`) or in (`-incoming`). The wire
 * format is drawn in migration/stream.c.
 *
 * Source, in a coroutine of the main loop (migration/migration.c):
 *   setup      START record of every active section (save_setup); sync pass 1
 *   iterate    PART records (save_iterate) while the expected downtime
 *              (pending bytes / measured bandwidth) is above downtime-limit;
 *              when it drops below, sync (save_sync, MIGRATION_PASS) and check again
 *   stop       vm_ops.stop (STOP event), [pre-switchover until migrate-continue],
 *              device, last sync
 *   complete   END records (save_complete) until every section is done, then
 *              FULL records (save_state: vCPU/device state), EOF; wait until the
 *              sender thread wrote everything; completed, source postmigrate
 * The stream is written by its sender thread; the coroutine yields whenever more
 * than a few buffers are queued, so the monitor stays live. Cancel shuts the
 * channel down, the coroutine unwinds through save_cleanup, the VM keeps (or goes
 * back to) running and every block device stays writable.
 *
 * Destination (migration/incoming.c): the channel is accepted or opened in the
 * main loop, then a coroutine loads records into the registered sections (load),
 * then load_finish runs in registration order (vCPU state after RAM), then the VM
 * starts (RESUME) unless -S. Any failure: the error, "load of migration failed:
 * <strerror>", exit(1), as QEMU does.
 *
 * Threads: everything here is main loop only; section callbacks run in the
 * migration coroutine (save_iterate, save_complete, load may yield).
 */
#ifndef GODWIT_MIGRATION_H
#define GODWIT_MIGRATION_H

#include "util/osdep.h"
#include "util/error.h"
#include "migration/stream.h"
#include "qapi-types.h"

/* Record types (stream.c) */
enum {
    MIG_REC_START = 1,
    MIG_REC_PART = 2,
    MIG_REC_END = 3,
    MIG_REC_FULL = 4,
    MIG_REC_EOF = 5,
};

#define MIG_MAGIC    0x4744574dU         /* "GDWM" */
#define MIG_VERSION  1

/* Counters a section keeps for query-migrate (ram or disk). Main loop only. */
typedef struct MigCounters {
    uint64_t transferred;        /* payload bytes put on the stream */
    uint64_t remaining;
    uint64_t total;
    uint64_t duplicate;          /* zero pages/chunks sent as a flag */
    uint64_t normal;             /* pages/chunks sent with data */
    uint64_t normal_bytes;
    uint64_t downtime_bytes;     /* sent after the VM stopped */
} MigCounters;

/* What the core tells sections about this migration (source). */
typedef struct MigSaveInfo {
    bool blk;                    /* copy block devices (blk, or the block capability) */
    bool inc;                    /* ... only what the top image allocates */
    bool zero_blocks;            /* capability zero-blocks */
    bool vm_stopped;             /* set by the core at switch-over */
    MigCounters ram;             /* filled by the RAM section */
    MigCounters disk;            /* filled by the block section */
} MigSaveInfo;

/*
 * A section's callbacks. Source callbacks may be NULL for a load-only section
 * (and vice versa). Every _iterate/_complete call writes one bounded payload
 * (about a megabyte at most): the core wraps it in a record and yields between
 * records. Returns: < 0 error (-errno, with the stream's error or errp set),
 * 0 more to do, 1 done (for iterate: until the next sync).
 */
typedef struct MigSectionOps {
    /* Source */
    bool (*is_active)(void *opaque, const MigSaveInfo *info);          /* NULL: always */
    int (*save_setup)(MigStream *f, void *opaque, MigSaveInfo *info, Error **errp);
    int coroutine_fn (*save_iterate)(MigStream *f, void *opaque, MigSaveInfo *info);
    uint64_t (*save_pending)(void *opaque, MigSaveInfo *info);
    /* Dirty-state sync pass (RAM: harvest the dirty log). May be NULL. */
    void (*save_sync)(void *opaque, MigSaveInfo *info);
    int coroutine_fn (*save_complete)(MigStream *f, void *opaque, MigSaveInfo *info);
    /* A FULL record with the VM stopped and devices drained. */
    int coroutine_fn (*save_state)(MigStream *f, void *opaque, Error **errp);
    void (*save_cleanup)(void *opaque, MigSaveInfo *info);
    /* Destination: one record's payload (type MIG_REC_*), fenced at its length. */
    int coroutine_fn (*load)(MigStream *f, void *opaque, uint8_t type, uint32_t version,
                             Error **errp);
    /* After the EOF record, in registration order. */
    int (*load_finish)(void *opaque, Error **errp);
    /* After success or failure. */
    void (*load_cleanup)(void *opaque);
    /* mig_registry_free() gives the section's opaque back (may be NULL). */
    void (*free)(void *opaque);
    /* The destination accepts a stream without this section (block, ...). */
    bool optional;
} MigSectionOps;

typedef struct MigRegistry MigRegistry;

MigRegistry *mig_registry_new(void);
void mig_registry_free(MigRegistry *reg);
/*
 * Add a section (name < 256 bytes, unique with instance). version: what the
 * source writes; a loader accepts 1..version.
 */
void mig_register(MigRegistry *reg, const char *name, uint32_t instance, uint32_t version,
                  const MigSectionOps *ops, void *opaque);
void mig_unregister(MigRegistry *reg, const char *name, uint32_t instance);

/* How the VM is stopped and started around a migration. */
typedef struct MigVmOps {
    void (*stop)(void *opaque);         /* source switch-over (STOP) */
    void (*resume)(void *opaque);       /* source after failure/cancel while stopped */
    void (*start)(void *opaque);        /* destination after a successful load */
    bool (*is_running)(void *opaque);
} MigVmOps;

typedef struct MigrationState MigrationState;

/*
 * A migration endpoint: capabilities, parameters, one outgoing and one incoming
 * migration. vm_ops NULL: the process run state (vm_stop/vm_start, events).
 * The registry stays owned by the caller.
 */
MigrationState *migration_new(MigRegistry *reg, const MigVmOps *vm_ops, void *vm_opaque);
void migration_free(MigrationState *s);
/* The godwit binary's endpoint, with the default registry (created on first use). */
MigrationState *migrate_get_current(void);
MigRegistry *migration_default_registry(void);

/* Capabilities and parameters (QMP semantics, errors as QEMU's). */
bool migration_cap(MigrationState *s, MigrationCapability cap);
bool migration_set_caps(MigrationState *s, MigrationCapabilityStatusList *caps, Error **errp);
MigrationParameters *migration_params(MigrationState *s);      /* owned by s */
bool migration_set_params(MigrationState *s, const MigrateSetParameters *p, Error **errp);

/* ---- source ---- */

typedef struct MigrateOpts {
    bool blk, inc;
    bool resume;
} MigrateOpts;

/* QMP migrate: checks, opens uri's channel, starts the coroutine. */
bool migration_start(MigrationState *s, const char *uri, const MigrateOpts *o, Error **errp);
/* Start on an already connected fd (tests; fd: URIs end here too). Takes fd. */
bool migration_start_fd(MigrationState *s, int fd, const MigrateOpts *o, Error **errp);
void migration_cancel(MigrationState *s);
bool migration_continue(MigrationState *s, MigrationStatus state, Error **errp);
MigrationStatus migration_status(MigrationState *s);
bool migration_is_active(MigrationState *s);    /* setup .. device, cancelling */
MigrationInfo *migration_query(MigrationState *s);
/* Negative control for tests: never re-send pages dirtied after the bulk pass. */
void migration_test_drop_dirty(MigrationState *s, bool drop);
bool migration_test_drop_dirty_get(MigrationState *s);

/* ---- destination ---- */

/* -incoming URI / migrate-incoming: listen or open, then load. */
bool migration_incoming_start(const char *uri, Error **errp);     /* the binary's */
bool migration_incoming_uri(MigrationState *s, const char *uri, bool setup, Error **errp);
/* Load from a connected fd (tests). Takes fd. */
bool migration_incoming_fd(MigrationState *s, int fd, Error **errp);
/*
 * What a failed incoming migration does: NULL (default) = report and exit(1) as
 * QEMU does; tests install a hook to look at the error instead.
 */
void migration_incoming_set_fail_hook(MigrationState *s, void (*fn)(void *, const Error *),
                                      void *opaque);
MigrationStatus migration_incoming_status(MigrationState *s);

/*
 * Load a whole stream into reg's sections (header, records, EOF, load_finish).
 * The incoming coroutine and the fuzz target use it. Returns 0 or -errno.
 */
int coroutine_fn mig_load_stream(MigRegistry *reg, MigStream *f, Error **errp);

/* The block section (migration/block.c): every writable named block device. */
void block_migration_register(MigRegistry *reg);
/* ... or exactly these devices under these stream names (tests: two VMs, one process). */
typedef struct BlockBackend BlockBackend;
void block_migration_register_list(MigRegistry *reg, unsigned n, const char *const *names,
                                   BlockBackend *const *blks);
/* The machine marker (machine "none"/qtest): nothing but the type name. */
void machine_marker_register(MigRegistry *reg, const char *machine_type);

#endif /* GODWIT_MIGRATION_H */
