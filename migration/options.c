/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * options.c: capabilities, parameters, query-migrate, and the QMP commands of
 * qapi/migration.json. Defaults, ranges and error texts are QEMU 7.2's.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "sysemu/sysemu.h"
#include "sysemu/runstate.h"
#include "qapi-commands.h"
#include "migration-int.h"

#define MIG_MAX_DOWNTIME_MS  2000000

void migration_params_init(MigrationParameters *p)
{
    memset(p, 0, sizeof(*p));
#define SETP(field, val) do { p->has_##field = true; p->field = (val); } while (0)
    SETP(announce_initial, 50);
    SETP(announce_max, 550);
    SETP(announce_rounds, 5);
    SETP(announce_step, 100);
    SETP(compress_level, 1);
    SETP(compress_threads, 8);
    SETP(compress_wait_thread, true);
    SETP(decompress_threads, 2);
    SETP(throttle_trigger_threshold, 50);
    SETP(cpu_throttle_initial, 20);
    SETP(cpu_throttle_increment, 10);
    SETP(cpu_throttle_tailslow, false);
    SETP(max_bandwidth, 134217728);
    SETP(downtime_limit, 300);
    SETP(x_checkpoint_delay, 20000);
    SETP(block_incremental, false);
    SETP(multifd_channels, 2);
    SETP(xbzrle_cache_size, 67108864);
    SETP(max_postcopy_bandwidth, 0);
    SETP(max_cpu_throttle, 99);
    SETP(multifd_compression, MULTI_FD_COMPRESSION_NONE);
    SETP(multifd_zlib_level, 1);
    SETP(multifd_zstd_level, 1);
#undef SETP
    p->tls_creds = g_strdup("");
    p->tls_hostname = g_strdup("");
    p->tls_authz = g_strdup("");
}

bool migration_cap(MigrationState *s, MigrationCapability cap)
{
    return s->caps[cap];
}

bool migration_set_caps(MigrationState *s, MigrationCapabilityStatusList *caps, Error **errp)
{
    if (migration_is_active(s)) {
        error_setg(errp, "There's a migration process in progress");
        return false;
    }
    for (MigrationCapabilityStatusList *l = caps; l; l = l->next) {
        s->caps[l->value->capability] = l->value->state;
    }
    return true;
}

MigrationParameters *migration_params(MigrationState *s)
{
    return &s->params;
}

static bool migration_check_params(const MigrateSetParameters *p, Error **errp)
{
    if (p->has_compress_level && p->compress_level > 9) {
        error_setg(errp, "Parameter 'compress_level' expects a value between 0 and 9");
        return false;
    }
    if (p->has_compress_threads && p->compress_threads < 1) {
        error_setg(errp, "Parameter 'compress_threads' expects a value between 1 and 255");
        return false;
    }
    if (p->has_decompress_threads && p->decompress_threads < 1) {
        error_setg(errp, "Parameter 'decompress_threads' expects a value between 1 and 255");
        return false;
    }
    if (p->has_throttle_trigger_threshold &&
        (p->throttle_trigger_threshold < 1 || p->throttle_trigger_threshold > 100)) {
        error_setg(errp, "Parameter 'throttle_trigger_threshold' expects an integer in "
                   "the range of 1 to 100");
        return false;
    }
    if (p->has_cpu_throttle_initial &&
        (p->cpu_throttle_initial < 1 || p->cpu_throttle_initial > 99)) {
        error_setg(errp, "Parameter 'cpu_throttle_initial' expects an integer in the "
                   "range of 1 to 99");
        return false;
    }
    if (p->has_cpu_throttle_increment &&
        (p->cpu_throttle_increment < 1 || p->cpu_throttle_increment > 99)) {
        error_setg(errp, "Parameter 'cpu_throttle_increment' expects an integer in the "
                   "range of 1 to 99");
        return false;
    }
    if (p->has_max_bandwidth && p->max_bandwidth > SIZE_MAX) {
        error_setg(errp, "Parameter 'max_bandwidth' expects an integer in the range of "
                   "0 to %zu bytes/second", SIZE_MAX);
        return false;
    }
    if (p->has_downtime_limit && p->downtime_limit > MIG_MAX_DOWNTIME_MS) {
        error_setg(errp, "Parameter 'downtime_limit' expects an integer in the range of "
                   "0 to (2000 * 1000) ms");
        return false;
    }
    if (p->has_multifd_channels && p->multifd_channels < 1) {
        error_setg(errp, "Parameter 'multifd_channels' expects a value between 1 and 255");
        return false;
    }
    if (p->has_max_cpu_throttle &&
        (p->max_cpu_throttle < (p->has_cpu_throttle_initial ? p->cpu_throttle_initial : 1) ||
         p->max_cpu_throttle > 99)) {
        error_setg(errp, "Parameter 'max_cpu_throttle' expects an integer in the range "
                   "of cpu_throttle_initial to 99");
        return false;
    }
    return true;
}

bool migration_set_params(MigrationState *s, const MigrateSetParameters *p, Error **errp)
{
    MigrationParameters *d = &s->params;

    if (!migration_check_params(p, errp)) {
        return false;
    }
#define COPY(field) do { if (p->has_##field) { d->field = p->field; } } while (0)
    COPY(announce_initial);
    COPY(announce_max);
    COPY(announce_rounds);
    COPY(announce_step);
    COPY(compress_level);
    COPY(compress_threads);
    COPY(compress_wait_thread);
    COPY(decompress_threads);
    COPY(throttle_trigger_threshold);
    COPY(cpu_throttle_initial);
    COPY(cpu_throttle_increment);
    COPY(cpu_throttle_tailslow);
    COPY(max_bandwidth);
    COPY(downtime_limit);
    COPY(x_checkpoint_delay);
    COPY(block_incremental);
    COPY(multifd_channels);
    COPY(xbzrle_cache_size);
    COPY(max_postcopy_bandwidth);
    COPY(max_cpu_throttle);
    COPY(multifd_compression);
    COPY(multifd_zlib_level);
    COPY(multifd_zstd_level);
#undef COPY
#define COPYS(field) do { if (p->field) { g_free(d->field); d->field = g_strdup(p->field); } \
                     } while (0)
    COPYS(tls_creds);
    COPYS(tls_hostname);
    COPYS(tls_authz);
#undef COPYS
    if (p->has_max_bandwidth && s->f) {
        mig_stream_set_bandwidth(s->f, p->max_bandwidth);
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* query-migrate */

static MigrationStats *migration_stats(MigrationState *s, const MigCounters *c,
                                       bool with_ram_details)
{
    MigrationStats *st = g_new0(MigrationStats, 1);

    st->transferred = c->transferred;
    st->remaining = c->remaining;
    st->total = c->total;
    if (with_ram_details) {
        st->duplicate = c->duplicate;
        st->normal = c->normal;
        st->normal_bytes = c->normal_bytes;
        st->mbps = s->mbps;
        st->dirty_sync_count = s->dirty_sync_count;
        st->page_size = 4096;
        st->precopy_bytes = c->transferred - c->downtime_bytes;
        st->downtime_bytes = c->downtime_bytes;
    }
    return st;
}

MigrationInfo *migration_query(MigrationState *s)
{
    MigrationInfo *info = g_new0(MigrationInfo, 1);
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

    if (s->status == MIGRATION_STATUS_NONE) {
        info->socket_address = migration_incoming_socket_address(s);
        if (s->in_status != MIGRATION_STATUS_NONE) {
            info->has_status = true;
            info->status = s->in_status;
        }
        return info;
    }
    info->has_status = true;
    info->status = s->status;
    switch (s->status) {
    case MIGRATION_STATUS_SETUP:
        info->has_setup_time = false;
        info->has_expected_downtime = true;
        info->expected_downtime = s->params.downtime_limit;
        break;
    case MIGRATION_STATUS_ACTIVE:
    case MIGRATION_STATUS_CANCELLING:
    case MIGRATION_STATUS_PRE_SWITCHOVER:
    case MIGRATION_STATUS_DEVICE:
        info->has_total_time = true;
        info->total_time = now - s->start_ms;
        info->has_expected_downtime = true;
        info->expected_downtime = s->expected_downtime_ms;
        info->has_setup_time = true;
        info->setup_time = s->setup_ms;
        info->ram = migration_stats(s, &s->info.ram, true);
        if (s->info.blk) {
            info->disk = migration_stats(s, &s->info.disk, false);
        }
        break;
    case MIGRATION_STATUS_COMPLETED:
        info->has_total_time = true;
        info->total_time = s->total_ms;
        info->has_downtime = true;
        info->downtime = s->downtime_ms;
        info->has_setup_time = true;
        info->setup_time = s->setup_ms;
        info->ram = migration_stats(s, &s->info.ram, true);
        info->ram->remaining = 0;
        break;
    case MIGRATION_STATUS_FAILED:
        if (s->error) {
            info->error_desc = g_strdup(error_get_pretty(s->error));
        }
        break;
    default:
        break;
    }
    return info;
}

/* ------------------------------------------------------------------------- */
/* QMP */

MigrationInfo *qmp_query_migrate(Error **errp)
{
    return migration_query(migrate_get_current());
}

void qmp_migrate_set_capabilities(MigrationCapabilityStatusList *capabilities, Error **errp)
{
    migration_set_caps(migrate_get_current(), capabilities, errp);
}

MigrationCapabilityStatusList *qmp_query_migrate_capabilities(Error **errp)
{
    MigrationState *s = migrate_get_current();
    MigrationCapabilityStatusList *head = NULL, **tail = &head;

    for (int i = 0; i < MIGRATION_CAPABILITY__MAX; i++) {
        MigrationCapabilityStatusList *l = g_new0(MigrationCapabilityStatusList, 1);
        l->value = g_new0(MigrationCapabilityStatus, 1);
        l->value->capability = i;
        l->value->state = s->caps[i];
        *tail = l;
        tail = &l->next;
    }
    return head;
}

MigrationParameters *qmp_query_migrate_parameters(Error **errp)
{
    MigrationParameters *p = g_memdup2(&migrate_get_current()->params,
                                       sizeof(MigrationParameters));

    p->tls_creds = g_strdup(p->tls_creds);
    p->tls_hostname = g_strdup(p->tls_hostname);
    p->tls_authz = g_strdup(p->tls_authz);
    return p;
}

void qmp_migrate_set_parameters(MigrateSetParameters *arg, Error **errp)
{
    migration_set_params(migrate_get_current(), arg, errp);
}

void qmp_migrate(const char *uri, bool has_blk, bool blk, bool has_inc, bool inc,
                 bool has_detach, bool detach, bool has_resume, bool resume, Error **errp)
{
    MigrateOpts o = {
        .blk = has_blk && blk, .inc = has_inc && inc, .resume = has_resume && resume,
    };

    migration_start(migrate_get_current(), uri, &o, errp);
}

void qmp_migrate_incoming(const char *uri, Error **errp)
{
    const SysemuConfig *cfg = sysemu_config();
    MigrationState *s = migrate_get_current();

    if (s->in_status != MIGRATION_STATUS_NONE || s->listener) {
        error_setg(errp, "The incoming migration has already been started");
        return;
    }
    if (!cfg || !cfg->incoming || strcmp(cfg->incoming, "defer")) {
        error_setg(errp, "'-incoming' was not specified on the command line");
        return;
    }
    migration_incoming_uri(s, uri, true, errp);
}

void qmp_migrate_cancel(Error **errp)
{
    migration_cancel(migrate_get_current());
}

void qmp_migrate_continue(MigrationStatus state, Error **errp)
{
    migration_continue(migrate_get_current(), state, errp);
}
