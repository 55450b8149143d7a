/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * incoming.c: the destination. `-incoming URI` or `-incoming defer` plus
 * migrate-incoming open the channel (migration/channel.c); the first connection
 * starts a coroutine that loads the stream (mig_load_stream) into the registered
 * sections, then starts the VM. A failed load ends the process as QEMU 7.2 does
 * ("load of migration failed: <strerror>", exit status 1), after printing what
 * exactly was wrong; tests install a hook instead.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "sysemu/sysemu.h"
#include "sysemu/runstate.h"
#include "qapi-events.h"
#include "block/block.h"
#include "migration-int.h"

void migration_set_in_status(MigrationState *s, MigrationStatus status)
{
    s->in_status = status;
    if (s->caps[MIGRATION_CAPABILITY_EVENTS]) {
        qapi_event_send_migration(status);
    }
}

MigrationStatus migration_incoming_status(MigrationState *s)
{
    return s->in_status;
}

void migration_incoming_set_fail_hook(MigrationState *s, void (*fn)(void *, const Error *),
                                      void *opaque)
{
    s->fail_hook = fn;
    s->fail_opaque = opaque;
}

/*
 * query-migrate's socket-address: where the destination listens (the real port
 * for tcp:HOST:0), until the incoming migration is over.
 */
QmpSocketAddressList *migration_incoming_socket_address(MigrationState *s)
{
    g_autoptr(SocketAddress) addr = NULL;
    QmpSocketAddress *qa;

    if (!s->listener || s->in_status == MIGRATION_STATUS_COMPLETED ||
        s->in_status == MIGRATION_STATUS_FAILED) {
        return NULL;
    }
    addr = mig_listener_address(s->listener);
    if (!addr) {
        return NULL;
    }
    qa = g_new0(QmpSocketAddress, 1);
    if (addr->type == SOCKET_ADDRESS_TYPE_UNIX) {
        qa->q_type = QMP_SOCKET_ADDRESS_TYPE_UNIX;
        qa->u.q_unix.path = g_strdup(addr->u.q_unix.path);
    } else {
        qa->q_type = QMP_SOCKET_ADDRESS_TYPE_INET;
        qa->u.inet.host = g_strdup(addr->u.inet.host);
        qa->u.inet.port = g_strdup(addr->u.inet.port);
        qa->u.inet.has_ipv4 = addr->u.inet.ipv4;
        qa->u.inet.ipv4 = addr->u.inet.ipv4;
        qa->u.inet.has_ipv6 = addr->u.inet.ipv6;
        qa->u.inet.ipv6 = addr->u.inet.ipv6;
    }
    QmpSocketAddressList *list = g_new0(QmpSocketAddressList, 1);
    list->value = qa;
    return list;
}

/*
 * The source has handed the images over: take them (locks, fresh metadata)
 * before the VM starts. With late-block-activate a VM that is not going to
 * start waits for `cont` to do it. A failure leaves the VM paused, as QEMU's.
 */
static void migration_incoming_activate(MigrationState *s)
{
    Error *err = NULL;

    if (!migration_owns_process(s)) {
        return;
    }
    if (s->caps[MIGRATION_CAPABILITY_LATE_BLOCK_ACTIVATE] && !runstate_get_autostart()) {
        return;
    }
    if (!bdrv_activate_all(&err)) {
        error_report_err(err);
        runstate_set_autostart(false);
    }
}

static void coroutine_fn migration_incoming_co(void *opaque)
{
    MigrationState *s = opaque;
    Error *err = NULL;
    int ret = mig_load_stream(s->reg, s->in_f, &err);

    mig_stream_free(s->in_f);
    s->in_f = NULL;
    s->in_co = NULL;
    if (ret < 0) {
        migration_set_in_status(s, MIGRATION_STATUS_FAILED);
        if (s->fail_hook) {
            s->fail_hook(s->fail_opaque, err);
            error_free(err);
            return;
        }
        error_report_err(err);
        error_report("load of migration failed: %s", strerror(-ret));
        fflush(stdout);
        exit(EXIT_FAILURE);
    }
    migration_incoming_activate(s);
    s->vm_ops->start(s->vm_opaque);
    migration_set_in_status(s, MIGRATION_STATUS_COMPLETED);
}

static void migration_incoming_accept(void *opaque, int fd)
{
    MigrationState *s = opaque;

    migration_set_in_status(s, MIGRATION_STATUS_ACTIVE);
    s->in_f = mig_stream_new_input(fd);
    s->in_co = qemu_coroutine_create(migration_incoming_co, s);
    aio_co_enter(qemu_get_aio_context(), s->in_co);
}

bool migration_incoming_fd(MigrationState *s, int fd, Error **errp)
{
    if (s->in_status != MIGRATION_STATUS_NONE) {
        error_setg(errp, "The incoming migration has already been started");
        close(fd);
        return false;
    }
    migration_incoming_accept(s, fd);
    return true;
}

/*
 * Listen on URI. migrate-incoming passes @setup: QEMU 7.2 then reports (and
 * sends an event for) the setup state until the connection comes; `-incoming
 * URI` on the command line stays in state none until then.
 */
bool migration_incoming_uri(MigrationState *s, const char *uri, bool setup, Error **errp)
{
    if (s->in_status != MIGRATION_STATUS_NONE || s->listener) {
        error_setg(errp, "The incoming migration has already been started");
        return false;
    }
    if (setup) {
        migration_set_in_status(s, MIGRATION_STATUS_SETUP);
    }
    s->listener = mig_channel_listen(uri, migration_incoming_accept, s, errp);
    if (!s->listener) {
        s->in_status = MIGRATION_STATUS_NONE;
        return false;
    }
    return true;
}

/* The hook system/main.c calls for -incoming URI (not "defer"). */
bool migration_incoming_start(const char *uri, Error **errp)
{
    return migration_incoming_uri(migrate_get_current(), uri, false, errp);
}
