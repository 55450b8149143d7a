/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * thread-pool.h: run blocking work (pread/pwrite/fsync/fallocate/open) on worker
 * threads and deliver the result back to an AioContext.
 *
 * Each AioContext has its own pool, created on first use, with up to 64 workers
 * started on demand and retired after 10 s idle. func runs on a worker thread and
 * must not touch the block graph or any main-loop state; its int result comes back
 * through a bottom half in the submitting context, so completions never run on a
 * worker.
 */
#ifndef GODWIT_THREAD_POOL_H
#define GODWIT_THREAD_POOL_H

#include "util/osdep.h"
#include "util/aio.h"

typedef int ThreadPoolFunc(void *opaque);
typedef void ThreadPoolCompletion(void *opaque, int ret);

/*
 * Run func(arg) on a worker; call cb(opaque, ret) in ctx's thread when it is done.
 * Cannot fail.
 */
void thread_pool_submit_aio(AioContext *ctx, ThreadPoolFunc *func, void *arg,
                            ThreadPoolCompletion *cb, void *opaque);

/* From a coroutine: run func(arg) on a worker of the current context, yield until done. */
int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg);

/* Workers currently alive in ctx's pool (tests and benchmarks). */
int thread_pool_worker_count(AioContext *ctx);

/*
 * How long an idle worker waits for work before it exits (default 10 s). Tests
 * shorten it to see workers retire; idle workers pick up the new value at once.
 */
void thread_pool_set_idle_timeout(AioContext *ctx, int64_t ns);

/* Stop and join ctx's workers; called before aio_context_free. No work may be pending. */
void thread_pool_free_for_context(AioContext *ctx);

#endif /* GODWIT_THREAD_POOL_H */
