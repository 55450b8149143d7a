/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * accel.h: accelerators and the qtest protocol server.
 *
 * -accel qtest: no guest code runs; QEMU_CLOCK_VIRTUAL is manual and moves only
 * when the qtest client says so. The qtest protocol (one command per line, one
 * reply line each):
 *   clock_step [NS]     advance the virtual clock by NS, or without NS to the next
 *                       virtual timer deadline; run the timers that became due;
 *                       reply "OK <new clock value in ns>"
 *   clock_set NS        advance the clock to NS (if later); reply "OK <ns>"
 *   anything else       "FAIL Unknown command '<cmd>'"
 * The connection stays open until the client closes it.
 *
 * -accel kvm: provided by accel/kvm (a weak stub reports it missing).
 *
 * Threads: main loop only.
 */
#ifndef GODWIT_ACCEL_H
#define GODWIT_ACCEL_H

#include "util/osdep.h"
#include "util/error.h"
#include "qobject/qdict.h"

/* -accel qtest: make the virtual clock manual, reported from 0. */
void qtest_accel_init(void);

/*
 * Start the qtest server on a chardev described by chr_opts (as from
 * qemu_chr_parse_compat for "-qtest unix:path=P", which connects as a client).
 */
bool qtest_server_init(QDict *chr_opts, Error **errp);

/* Process one qtest command line; the reply (without newline) goes to *reply. */
void qtest_process_line(const char *line, GString *reply);

bool kvm_accel_init(Error **errp);

/* Start listening for an incoming migration on uri (migration/ provides it). */
bool migration_incoming_start(const char *uri, Error **errp);

#endif /* GODWIT_ACCEL_H */
