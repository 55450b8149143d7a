/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * HMP: migration commands and their info subcommands, with QEMU 7.2's syntax and
 * output. `migrate` also takes the founding documents' forms `migrate -d blk URI`
 * and `migrate -d blk inc URI` (docs/compat.md).
 */
#include "util/osdep.h"
#include "util/cutils.h"
#include "monitor/hmp.h"
#include "qapi-commands.h"
#include "qapi-visit.h"

static void hmp_migrate(Monitor *mon, const QDict *qdict)
{
    bool detach = qdict_get_try_bool(qdict, "detach", false);
    bool blk = qdict_get_try_bool(qdict, "blk", false);
    bool inc = qdict_get_try_bool(qdict, "inc", false);
    bool resume = qdict_get_try_bool(qdict, "resume", false);
    g_auto(GStrv) words = g_strsplit_set(qdict_get_str(qdict, "uri"), " \t", -1);
    const char *uri = NULL;
    Error *err = NULL;

    /* legacy words before the URI: "blk" (full copy), "inc" (incremental) */
    for (char **w = words; *w; w++) {
        if (!**w) {
            continue;
        }
        if (uri) {
            monitor_printf(mon, "migrate: extraneous characters at the end of line\n"
                           "Try \"help migrate\" for more information\n");
            return;
        }
        if (!strcmp(*w, "blk")) {
            blk = true;
        } else if (!strcmp(*w, "inc")) {
            inc = true;
        } else {
            uri = *w;
        }
    }
    if (!uri) {
        monitor_printf(mon, "migrate: URI missing\n");
        return;
    }
    qmp_migrate(uri, true, blk, true, inc, false, false, true, resume, &err);
    if (err) {
        hmp_handle_error(mon, err);
        return;
    }
    if (!detach) {
        /* our monitors cannot be suspended: behave as QEMU does over QMP */
        monitor_printf(mon, "terminal does not allow synchronous migration, "
                       "continuing detached\n");
    }
}

static void hmp_migrate_cancel(Monitor *mon, const QDict *qdict)
{
    qmp_migrate_cancel(NULL);
}

static void hmp_migrate_incoming(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_migrate_incoming(qdict_get_str(qdict, "uri"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_migrate_continue(Monitor *mon, const QDict *qdict)
{
    const char *state = qdict_get_str(qdict, "state");
    Error *err = NULL;
    int val = qapi_enum_parse(MigrationStatus_lookup, state);

    if (val < 0) {
        error_setg(&err, "invalid parameter value: %s", state);
    } else {
        qmp_migrate_continue(val, &err);
    }
    hmp_handle_error(mon, err);
}

static void hmp_migrate_set_capability(Monitor *mon, const QDict *qdict)
{
    const char *cap = qdict_get_str(qdict, "capability");
    Error *err = NULL;
    int val = qapi_enum_parse(MigrationCapability_lookup, cap);

    if (val < 0) {
        error_setg(&err, "invalid parameter value: %s", cap);
    } else {
        MigrationCapabilityStatus st = { .capability = val,
                                         .state = qdict_get_bool(qdict, "state") };
        MigrationCapabilityStatusList l = { .value = &st };
        qmp_migrate_set_capabilities(&l, &err);
    }
    hmp_handle_error(mon, err);
}

/* Parse value as parameter's type into p (HMP: sizes default to MiB for bandwidths). */
static bool hmp_parse_param(MigrateSetParameters *p, const char *param, const char *value,
                            Error **errp)
{
    static const char *const u64_params[] = {
        "announce-initial", "announce-max", "announce-rounds", "announce-step",
        "compress-level", "compress-threads", "decompress-threads",
        "throttle-trigger-threshold", "cpu-throttle-initial", "cpu-throttle-increment",
        "downtime-limit", "x-checkpoint-delay", "multifd-channels", "max-cpu-throttle",
        "multifd-zlib-level", "multifd-zstd-level", NULL,
    };
    uint64_t v = 0;

    if (!strcmp(param, "max-bandwidth") || !strcmp(param, "xbzrle-cache-size") ||
        !strcmp(param, "max-postcopy-bandwidth")) {
        if (qemu_strtosz_MiB(value, NULL, &v) < 0) {
            error_setg(errp, "Parameter '%s' expects a size", param);
            return false;
        }
        p->has_max_bandwidth = !strcmp(param, "max-bandwidth");
        p->max_bandwidth = v;
        p->has_xbzrle_cache_size = !strcmp(param, "xbzrle-cache-size");
        p->xbzrle_cache_size = v;
        p->has_max_postcopy_bandwidth = !strcmp(param, "max-postcopy-bandwidth");
        p->max_postcopy_bandwidth = v;
        return true;
    }
    if (!strcmp(param, "block-incremental") || !strcmp(param, "compress-wait-thread") ||
        !strcmp(param, "cpu-throttle-tailslow")) {
        bool b = !strcmp(value, "on");
        if (!b && strcmp(value, "off")) {
            error_setg(errp, "Parameter '%s' expects 'on' or 'off'", param);
            return false;
        }
        p->has_block_incremental = !strcmp(param, "block-incremental");
        p->block_incremental = b;
        p->has_compress_wait_thread = !strcmp(param, "compress-wait-thread");
        p->compress_wait_thread = b;
        p->has_cpu_throttle_tailslow = !strcmp(param, "cpu-throttle-tailslow");
        p->cpu_throttle_tailslow = b;
        return true;
    }
    if (!strcmp(param, "tls-creds") || !strcmp(param, "tls-hostname") ||
        !strcmp(param, "tls-authz")) {
        char **dst = !strcmp(param, "tls-creds") ? &p->tls_creds :
                     !strcmp(param, "tls-hostname") ? &p->tls_hostname : &p->tls_authz;
        *dst = g_strdup(value);
        return true;
    }
    if (!strcmp(param, "multifd-compression")) {
        int c = qapi_enum_parse(MultiFDCompression_lookup, value);
        if (c < 0) {
            error_setg(errp, "invalid parameter value: %s", value);
        }
        p->has_multifd_compression = c >= 0;
        p->multifd_compression = c;
        return c >= 0;
    }
    for (int i = 0; u64_params[i]; i++) {
        if (strcmp(param, u64_params[i])) {
            continue;
        }
        if (qemu_strtosz(value, NULL, &v) < 0) {
            error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64\n"
                       "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
                       "peta-\nand exabytes, respectively.", param);
            return false;
        }
        g_autoptr(QDict) d = qdict_new();
        qdict_put_int(d, param, v);
        return qapi_in_members_MigrateSetParameters(d, "", p, errp);
    }
    error_setg(errp, "invalid parameter value: %s", param);
    return false;
}

static void hmp_migrate_set_parameter(Monitor *mon, const QDict *qdict)
{
    MigrateSetParameters p = { 0 };
    Error *err = NULL;

    if (hmp_parse_param(&p, qdict_get_str(qdict, "parameter"), qdict_get_str(qdict, "value"),
                        &err)) {
        qmp_migrate_set_parameters(&p, &err);
    }
    qapi_free_members_MigrateSetParameters(&p);
    hmp_handle_error(mon, err);
}

/* ---- info ---- */

static void hmp_info_migrate(Monitor *mon, const QDict *qdict)
{
    g_autoptr(MigrationInfo) info = qmp_query_migrate(NULL);

    monitor_printf(mon, "globals:\nstore-global-state: on\nonly-migratable: off\n"
                   "send-configuration: on\nsend-section-footer: on\n"
                   "decompress-error-check: on\nclear-bitmap-shift: 18\n");
    if (info->has_status) {
        monitor_printf(mon, "Migration status: %s", MigrationStatus_str(info->status));
        if (info->status == MIGRATION_STATUS_FAILED && info->error_desc) {
            monitor_printf(mon, " (%s)\n", info->error_desc);
        } else {
            monitor_printf(mon, "\n");
        }
        monitor_printf(mon, "total time: %" PRIu64 " ms\n", info->total_time);
        if (info->has_expected_downtime) {
            monitor_printf(mon, "expected downtime: %" PRIu64 " ms\n", info->expected_downtime);
        }
        if (info->has_downtime) {
            monitor_printf(mon, "downtime: %" PRIu64 " ms\n", info->downtime);
        }
        if (info->has_setup_time) {
            monitor_printf(mon, "setup: %" PRIu64 " ms\n", info->setup_time);
        }
    }
    if (info->ram) {
        MigrationStats *r = info->ram;
        monitor_printf(mon, "transferred ram: %" PRIu64 " kbytes\n", r->transferred >> 10);
        monitor_printf(mon, "throughput: %0.2f mbps\n", r->mbps);
        monitor_printf(mon, "remaining ram: %" PRIu64 " kbytes\n", r->remaining >> 10);
        monitor_printf(mon, "total ram: %" PRIu64 " kbytes\n", r->total >> 10);
        monitor_printf(mon, "duplicate: %" PRIu64 " pages\n", r->duplicate);
        monitor_printf(mon, "skipped: %" PRIu64 " pages\n", r->skipped);
        monitor_printf(mon, "normal: %" PRIu64 " pages\n", r->normal);
        monitor_printf(mon, "normal bytes: %" PRIu64 " kbytes\n", r->normal_bytes >> 10);
        monitor_printf(mon, "dirty sync count: %" PRIu64 "\n", r->dirty_sync_count);
        monitor_printf(mon, "page size: %" PRIu64 " kbytes\n", r->page_size >> 10);
        monitor_printf(mon, "multifd bytes: %" PRIu64 " kbytes\n", r->multifd_bytes >> 10);
        monitor_printf(mon, "pages-per-second: %" PRIu64 "\n", r->pages_per_second);
        if (r->dirty_pages_rate) {
            monitor_printf(mon, "dirty pages rate: %" PRIu64 " pages\n", r->dirty_pages_rate);
        }
        if (r->precopy_bytes) {
            monitor_printf(mon, "precopy ram: %" PRIu64 " kbytes\n", r->precopy_bytes >> 10);
        }
        if (r->downtime_bytes) {
            monitor_printf(mon, "downtime ram: %" PRIu64 " kbytes\n", r->downtime_bytes >> 10);
        }
    }
    if (info->disk) {
        monitor_printf(mon, "transferred disk: %" PRIu64 " kbytes\n",
                       info->disk->transferred >> 10);
        monitor_printf(mon, "remaining disk: %" PRIu64 " kbytes\n", info->disk->remaining >> 10);
        monitor_printf(mon, "total disk: %" PRIu64 " kbytes\n", info->disk->total >> 10);
    }
    if (info->socket_address) {
        monitor_printf(mon, "socket address: [\n");
        for (QmpSocketAddressList *l = info->socket_address; l; l = l->next) {
            const QmpSocketAddress *a = l->value;
            if (a->q_type == QMP_SOCKET_ADDRESS_TYPE_UNIX) {
                monitor_printf(mon, "\tunix:%s\n", a->u.q_unix.path);
            } else {
                monitor_printf(mon, "\ttcp:%s:%s\n", a->u.inet.host, a->u.inet.port);
            }
        }
        monitor_printf(mon, "]\n");
    }
}

static void hmp_info_migrate_capabilities(Monitor *mon, const QDict *qdict)
{
    g_autoptr(MigrationCapabilityStatusList) caps = qmp_query_migrate_capabilities(NULL);

    for (MigrationCapabilityStatusList *l = caps; l; l = l->next) {
        monitor_printf(mon, "%s: %s\n", MigrationCapability_str(l->value->capability),
                       l->value->state ? "on" : "off");
    }
}

static void hmp_info_migrate_parameters(Monitor *mon, const QDict *qdict)
{
    g_autoptr(MigrationParameters) p = qmp_query_migrate_parameters(NULL);

    monitor_printf(mon, "announce-initial: %" PRIu64 " ms\n", p->announce_initial);
    monitor_printf(mon, "announce-max: %" PRIu64 " ms\n", p->announce_max);
    monitor_printf(mon, "announce-rounds: %" PRIu64 "\n", p->announce_rounds);
    monitor_printf(mon, "announce-step: %" PRIu64 " ms\n", p->announce_step);
    monitor_printf(mon, "compress-level: %u\n", p->compress_level);
    monitor_printf(mon, "compress-threads: %u\n", p->compress_threads);
    monitor_printf(mon, "compress-wait-thread: %s\n", p->compress_wait_thread ? "on" : "off");
    monitor_printf(mon, "decompress-threads: %u\n", p->decompress_threads);
    monitor_printf(mon, "throttle-trigger-threshold: %u\n", p->throttle_trigger_threshold);
    monitor_printf(mon, "cpu-throttle-initial: %u\n", p->cpu_throttle_initial);
    monitor_printf(mon, "cpu-throttle-increment: %u\n", p->cpu_throttle_increment);
    monitor_printf(mon, "cpu-throttle-tailslow: %s\n", p->cpu_throttle_tailslow ? "on" : "off");
    monitor_printf(mon, "max-cpu-throttle: %u\n", p->max_cpu_throttle);
    monitor_printf(mon, "tls-creds: '%s'\n", p->tls_creds);
    monitor_printf(mon, "tls-hostname: '%s'\n", p->tls_hostname);
    monitor_printf(mon, "max-bandwidth: %" PRIu64 " bytes/second\n", p->max_bandwidth);
    monitor_printf(mon, "downtime-limit: %" PRIu64 " ms\n", p->downtime_limit);
    monitor_printf(mon, "x-checkpoint-delay: %u ms\n", p->x_checkpoint_delay);
    monitor_printf(mon, "block-incremental: %s\n", p->block_incremental ? "on" : "off");
    monitor_printf(mon, "multifd-channels: %u\n", p->multifd_channels);
    monitor_printf(mon, "multifd-compression: %s\n",
                   MultiFDCompression_str(p->multifd_compression));
    monitor_printf(mon, "xbzrle-cache-size: %" PRIu64 " bytes\n", p->xbzrle_cache_size);
    monitor_printf(mon, "max-postcopy-bandwidth: %" PRIu64 "\n", p->max_postcopy_bandwidth);
    monitor_printf(mon, "tls-authz: '%s'\n", p->tls_authz);
}

const HMPCommand hmp_info_cmds_migration[] = {
    { "migrate", "", "", "show migration status", hmp_info_migrate },
    { "migrate_capabilities", "", "", "show current migration capabilities",
      hmp_info_migrate_capabilities },
    { "migrate_parameters", "", "", "show current migration parameters",
      hmp_info_migrate_parameters },
    { NULL },
};

const HMPCommand hmp_cmds_migration[] = {
    { "migrate", "detach:-d,blk:-b,inc:-i,resume:-r,uri:S", "[-d] [-b] [-i] [-r] uri",
      "migrate to URI (using -d to not wait for completion)\n"
      "\t\t\t -b for migration without shared storage with full copy of disk\n"
      "\t\t\t -i for migration without shared storage with incremental copy of disk "
      "(base image shared between src and destination)\n"
      "\t\t\t -r to resume a paused migration", hmp_migrate },
    { "migrate_cancel", "", "", "cancel the current VM migration", hmp_migrate_cancel },
    { "migrate_continue", "state:s", "state",
      "Continue migration from the given paused state", hmp_migrate_continue },
    { "migrate_incoming", "uri:s", "uri",
      "Continue an incoming migration from an -incoming defer", hmp_migrate_incoming },
    { "migrate_set_capability", "capability:s,state:b", "capability state",
      "Enable/Disable the usage of a capability for migration",
      hmp_migrate_set_capability },
    { "migrate_set_parameter", "parameter:s,value:s", "parameter value",
      "Set the parameter for migration", hmp_migrate_set_parameter },
    { NULL },
};
