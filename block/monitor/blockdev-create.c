/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blockdev-create: image creation as a job of type 'create', as QEMU 7.2 runs
 * it. The job is created with auto-dismiss off, so it goes created, running,
 * waiting, pending, concluded (or aborting, concluded) and stays in query-jobs
 * until job-dismiss; it sends JOB_STATUS_CHANGE only (no BLOCK_JOB_* events).
 * Its progress is 0/1 until the driver returns, then 1/1, failed or not.
 *
 * The QMP options are turned into the driver's "-o" create options (the
 * qemu-img create path), so both share one implementation per driver:
 *   file   a new file (bdrv_create of the file driver);
 *   qcow2  a qcow2 image written onto the node `file` (bdrv_create_node).
 * Lookups and the checks that only QMP has ("Image size must be a multiple of
 * 512 bytes", ...) happen when the job runs: their errors end the job, as in
 * QEMU, rather than failing the command.
 */
#include "util/osdep.h"
#include "qobject/qdict.h"
#include "util/aio.h"
#include <fcntl.h>
#include "job/job.h"
#include "block/block-int.h"
#include "block/monitor/block-monitor.h"
#include "qapi-commands.h"

typedef struct CreateJob {
    Job common;
    BlockdevCreateOptions *opts;
} CreateJob;

static void put_u64(QDict *o, const char *key, uint64_t v)
{
    g_autofree char *s = g_strdup_printf("%" PRIu64, v);

    qdict_put_str(o, key, s);
}

static int coroutine_fn create_file(Job *job, BlockdevCreateOptionsFile *f, Error **errp)
{
    g_autoptr(QDict) o = qdict_new();
    const BlockDriver *drv = bdrv_find_format("file");
    int fd;

    /*
     * QEMU opens the new file in the job's coroutine before anything yields, so
     * when that fails the job ends before the command replies; do the same.
     */
    fd = open(f->filename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not create '%s'", f->filename);
        return -err;
    }
    if (f->has_preallocation && f->preallocation == PREALLOC_MODE_METADATA) {
        /* QEMU finds this out in its thread pool, i.e. after yielding */
        int ret = ftruncate(fd, 0) < 0 ? -errno : 0;
        close(fd);
        job_co_sleep_ns(job, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not resize file");
            return ret;
        }
        error_setg(errp, "Unsupported preallocation mode: metadata");
        return -ENOTSUP;
    }
    close(fd);
    put_u64(o, "size", f->size);
    if (f->has_preallocation) {
        qdict_put_str(o, "preallocation", PreallocMode_str(f->preallocation));
    }
    if (f->has_nocow) {
        qdict_put_bool(o, "nocow", f->nocow);
    }
    return bdrv_create(drv, f->filename, o, errp);
}

/*
 * A BlockdevRef as a node: a reference is looked up, a definition opened.
 * Returns a new reference (bdrv_unref it), or NULL.
 */
static BlockDriverState *create_open_ref(BlockdevRef *ref, Error **errp)
{
    BlockDriverState *bs;
    QDict *flat;

    if (ref->type == QTYPE_QSTRING) {
        bs = bdrv_lookup_bs(ref->u.reference, ref->u.reference, errp);
        if (bs) {
            bdrv_ref(bs);
        }
        return bs;
    }
    flat = qobject_to(QDict, qapi_out_BlockdevOptions(&ref->u.definition));
    qdict_flatten(flat);
    return bdrv_open(NULL, NULL, flat, BDRV_O_RDWR | BDRV_O_RESIZE, errp);
}

static int coroutine_fn create_qcow2(BlockdevCreateOptionsQcow2 *q, Error **errp)
{
    g_autoptr(QDict) o = qdict_new();
    BlockDriverState *file, *data_file;
    int ret;

    if (q->size % 512) {
        error_setg(errp, "Image size must be a multiple of 512 bytes");
        return -EINVAL;
    }
    if (q->has_extended_l2 && q->extended_l2 && q->has_cluster_size &&
        q->cluster_size < 16384 && !(q->cluster_size & (q->cluster_size - 1)) &&
        q->cluster_size >= 512) {
        error_setg(errp, "Extended L2 entries are only supported with cluster sizes of at "
                   "least 16384 bytes");
        return -EINVAL;
    }
    if (q->has_data_file_raw && q->data_file_raw && !q->data_file) {
        error_setg(errp, "data-file-raw requires data-file");
        return -EINVAL;
    }
    if (q->data_file) {
        data_file = create_open_ref(q->data_file, errp);
        if (!data_file) {
            return -EINVAL;
        }
        bdrv_unref(data_file);
        qdict_put_str(o, "data_file", "data-file");     /* refused by qcow2 below */
    }
    if (q->encrypt) {
        const char *secret = q->encrypt->format == Q_CRYPTO_BLOCK_FORMAT_QCOW
                             ? q->encrypt->u.qcow.key_secret : q->encrypt->u.luks.key_secret;
        if (secret) {
            /* there are no secret objects: every id is unknown */
            error_setg(errp, "No secret with id '%s'", secret);
        } else {
            error_setg(errp, "Parameter 'key-secret' is required for cipher");
        }
        return -EINVAL;
    }
    put_u64(o, "size", q->size);
    if (q->has_version) {
        qdict_put_str(o, "compat", BlockdevQcow2Version_str(q->version));
    }
    if (q->has_cluster_size) {
        put_u64(o, "cluster_size", q->cluster_size);
    }
    if (q->has_refcount_bits) {
        if (q->refcount_bits <= 0) {
            error_setg(errp, "Refcount width must be a power of two and may not exceed "
                       "64 bits");
            return -EINVAL;
        }
        put_u64(o, "refcount_bits", q->refcount_bits);
    }
    if (q->has_lazy_refcounts) {
        qdict_put_bool(o, "lazy_refcounts", q->lazy_refcounts);
    }
    if (q->has_extended_l2) {
        qdict_put_bool(o, "extended_l2", q->extended_l2);
    }
    if (q->has_preallocation) {
        qdict_put_str(o, "preallocation", PreallocMode_str(q->preallocation));
    }
    if (q->has_compression_type) {
        qdict_put_str(o, "compression_type", Qcow2CompressionType_str(q->compression_type));
    }
    if (q->backing_file) {
        qdict_put_str(o, "backing_file", q->backing_file);
    }
    if (q->has_backing_fmt) {
        qdict_put_str(o, "backing_fmt", BlockdevDriver_str(q->backing_fmt));
    }
    file = create_open_ref(q->file, errp);
    if (!file) {
        return -EINVAL;
    }
    ret = bdrv_create_node(bdrv_find_format("qcow2"), file, o, errp);
    bdrv_unref(file);
    return ret;
}

static int coroutine_fn create_job_run(Job *job, Error **errp)
{
    CreateJob *s = container_of(job, CreateJob, common);
    int ret = -ENOTSUP;

    job_progress_set_remaining(job, 1);
    switch (s->opts->driver) {
    case BLOCKDEV_DRIVER_FILE:
        ret = create_file(job, &s->opts->u.file, errp);
        break;
    case BLOCKDEV_DRIVER_QCOW2:
        ret = create_qcow2(&s->opts->u.qcow2, errp);
        break;
    default:
        g_assert_not_reached();         /* refused by qmp_blockdev_create */
    }
    job_progress_update(job, 1);
    return ret;
}

static void create_job_free(Job *job)
{
    CreateJob *s = container_of(job, CreateJob, common);

    qapi_free_BlockdevCreateOptions(s->opts);
}

static const JobDriver create_job_driver = {
    .instance_size = sizeof(CreateJob),
    .job_type = JOB_TYPE_CREATE,
    .run = create_job_run,
    .free = create_job_free,
};

void qmp_blockdev_create(const char *job_id, BlockdevCreateOptions *options, Error **errp)
{
    CreateJob *s;
    QObject *copy;

    if (options->driver != BLOCKDEV_DRIVER_FILE && options->driver != BLOCKDEV_DRIVER_QCOW2) {
        error_setg(errp, "Driver does not support blockdev-create");
        return;
    }
    s = job_create(job_id, &create_job_driver, NULL, JOB_DEFAULT | JOB_MANUAL_DISMISS,
                   NULL, NULL, errp);
    if (!s) {
        return;
    }
    /* the job outlives the command's arguments: keep a deep copy */
    copy = qapi_out_BlockdevCreateOptions(options);
    qapi_in_BlockdevCreateOptions(copy, NULL, &s->opts, &error_abort);
    qobject_unref(copy);
    job_start(&s->common);
    /*
     * A run() that finished without yielding (an early error) completes in a
     * bottom half that QEMU runs before the command's reply: so its aborting
     * and concluded come before the reply there, and here too.
     */
    if (s->common.deferred_to_main_loop) {
        Job *job = &s->common;

        job_ref(job);
        AIO_WAIT_WHILE(qemu_get_aio_context(),
                       job->status != JOB_STATUS_CONCLUDED && job->status != JOB_STATUS_NULL);
        job_unref(job);
    }
}
