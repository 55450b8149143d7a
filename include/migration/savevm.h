/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * savevm.h: the source half of the section framing (migration/savevm.c), used by
 * the migration core and by tests that build streams by hand. Each function
 * writes whole records; errors come back as -errno with errp set (the stream's
 * message when the stream failed).
 *
 * Threads: main loop; the _iterate/_complete/_states functions call section
 * callbacks that may yield, so they run in a coroutine (or on a memory stream).
 */
#ifndef GODWIT_MIGRATION_SAVEVM_H
#define GODWIT_MIGRATION_SAVEVM_H

#include "migration/migration.h"

void mig_save_header(MigStream *f);
/* Decide the active sections (is_active), number them, write their START records. */
int mig_save_setup(MigRegistry *reg, MigStream *f, MigSaveInfo *info, Error **errp);
/* One PART record per section still busy this round; 1 once every section is idle. */
int coroutine_fn mig_save_iterate_once(MigRegistry *reg, MigStream *f, MigSaveInfo *info,
                                       Error **errp);
uint64_t mig_save_pending(MigRegistry *reg, MigSaveInfo *info);
/* Does any active section keep dirty state that a sync pass harvests? */
bool mig_save_has_sync(MigRegistry *reg);
/* A sync pass: every section's save_sync; all sections are busy again. */
void mig_save_sync(MigRegistry *reg, MigSaveInfo *info);
/* One END record per section not yet complete; 1 once all are. */
int coroutine_fn mig_save_complete_once(MigRegistry *reg, MigStream *f, MigSaveInfo *info,
                                        Error **errp);
/* FULL records of every section with save_state. */
int coroutine_fn mig_save_states(MigRegistry *reg, MigStream *f, Error **errp);
/* The EOF record: the destination loads nothing more and starts. */
int mig_save_eof(MigStream *f, Error **errp);
void mig_save_cleanup(MigRegistry *reg, MigSaveInfo *info);

#endif /* GODWIT_MIGRATION_SAVEVM_H */
