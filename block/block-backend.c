/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * block-backend.c: BlockBackend, the device-facing handle (block-backend.h).
 *
 * A backend's requests: range check, wait while drained (queued_requests), count in
 * in_flight, pass to the root edge's request layer. Asynchronous forms run the same
 * coroutine and complete through a bottom half, so callbacks never run before the
 * submitting function has returned.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-core.h"
#include "block/block-backend.h"

struct BlockBackend {
    /* ---- set at creation ---- */
    int refcnt;
    char *name;                         /* monitor "device" name, NULL if none */
    /* ---- main loop only ---- */
    BdrvChild *root;
    uint64_t perm, shared_perm;         /* what the user asked for */
    bool disable_perm;                  /* root inactive: the edge holds (0, ALL) */
    char *dev_path;
    bool allow_write_beyond_eof;
    bool enable_write_cache;
    BlockdevOnError on_read_error, on_write_error;
    BlockDeviceIoStatus iostatus;
    unsigned in_flight;
    int quiesce_counter;
    CoQueue queued_requests;            /* requests waiting for the end of a drain */
    BlockAIOCB *aio_free;               /* finished BlockAIOCBs kept for reuse */
    unsigned aio_free_count;
};

static void blk_aio_free_all(BlockBackend *blk);

static GList *all_backends;             /* BlockBackend *, creation order */
static BlockIoErrorHook *io_error_hook;

/* ---- the root edge ---- */

static char *blk_root_get_parent_desc(BdrvChild *c)
{
    BlockBackend *blk = c->opaque;

    if (blk->name) {
        return g_strdup_printf("block device '%s'", blk->name);
    }
    if (blk->dev_path) {
        return g_strdup_printf("block device '%s'", blk->dev_path);
    }
    return g_strdup("an unnamed block device");
}

static void blk_root_drained_begin(BdrvChild *c)
{
    BlockBackend *blk = c->opaque;

    blk->quiesce_counter++;
}

static void blk_root_drained_end(BdrvChild *c)
{
    BlockBackend *blk = c->opaque;

    assert(blk->quiesce_counter > 0);
    if (--blk->quiesce_counter == 0) {
        qemu_co_queue_restart_all(&blk->queued_requests);
    }
}

static bool blk_root_drained_poll(BdrvChild *c)
{
    BlockBackend *blk = c->opaque;

    return blk->in_flight > 0;
}

/*
 * Migration hand-over (block/inactive.c): while the root is inactive the edge
 * holds nothing, so the peer may lock the image; blk->perm is kept and taken
 * back on activation.
 */
static int blk_root_inactivate(BdrvChild *c)
{
    BlockBackend *blk = c->opaque;

    if (!blk->disable_perm) {
        blk->disable_perm = true;
        bdrv_child_try_set_perm(c, 0, BLK_PERM_ALL, NULL);   /* only loosens */
    }
    return 0;
}

static void blk_root_activate(BdrvChild *c, Error **errp)
{
    BlockBackend *blk = c->opaque;

    if (!blk->disable_perm) {
        return;
    }
    if (bdrv_child_try_set_perm(c, blk->perm, blk->shared_perm, errp) == 0) {
        blk->disable_perm = false;
    }
}

static const BdrvChildClass child_root = {
    .parent_is_bds = false,
    .get_parent_desc = blk_root_get_parent_desc,
    .drained_begin = blk_root_drained_begin,
    .drained_end = blk_root_drained_end,
    .drained_poll = blk_root_drained_poll,
    .inactivate = blk_root_inactivate,
    .activate = blk_root_activate,
};

bool bdrv_is_root_node(BlockDriverState *bs)
{
    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->klass != &child_root) {
            return false;
        }
    }
    return true;
}

/* ---- lifetime ---- */

BlockBackend *blk_new(uint64_t perm, uint64_t shared_perm)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);

    blk->refcnt = 1;
    blk->perm = perm;
    blk->shared_perm = shared_perm;
    blk->enable_write_cache = true;
    qemu_co_queue_init(&blk->queued_requests);
    all_backends = g_list_append(all_backends, blk);
    return blk;
}

BlockBackend *blk_new_open(const char *filename, const char *reference, QDict *options,
                           int flags, Error **errp)
{
    uint64_t perm = BLK_PERM_CONSISTENT_READ, shared = BLK_PERM_ALL;
    BlockDriverState *bs;
    BlockBackend *blk;

    if (flags & BDRV_O_RDWR) {
        perm |= BLK_PERM_WRITE;
    }
    if (flags & BDRV_O_RESIZE) {
        perm |= BLK_PERM_RESIZE;
    }
    bs = bdrv_open(filename, reference, options, flags & ~(BDRV_O_NO_SHARE | BDRV_O_RESIZE),
                   errp);
    if (!bs) {
        return NULL;
    }
    if ((flags & BDRV_O_NO_SHARE) && !bs->force_share) {
        shared = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED;
    }
    blk = blk_new(perm, shared);
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        bdrv_unref(bs);
        return NULL;
    }
    bdrv_unref(bs);             /* the root edge holds it now */
    return blk;
}

void blk_ref(BlockBackend *blk)
{
    blk->refcnt++;
}

void blk_unref(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    assert(blk->refcnt > 0);
    if (--blk->refcnt > 0) {
        return;
    }
    blk_drain(blk);
    blk_remove_bs(blk);
    all_backends = g_list_remove(all_backends, blk);
    blk_aio_free_all(blk);
    g_free(blk->name);
    g_free(blk->dev_path);
    g_free(blk);
}

int blk_insert_bs(BlockBackend *blk, BlockDriverState *bs, Error **errp)
{
    bool inactive = bdrv_is_inactive(bs);

    assert(!blk->root);
    blk->root = bdrv_root_attach_child(bs, "root", &child_root,
                                       BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY,
                                       inactive ? 0 : blk->perm,
                                       inactive ? BLK_PERM_ALL : blk->shared_perm, blk, errp);
    blk->disable_perm = blk->root && inactive;
    return blk->root ? 0 : -EPERM;
}

void blk_remove_bs(BlockBackend *blk)
{
    BdrvChild *root = blk->root;

    if (!root) {
        return;
    }
    blk_drain(blk);
    blk->root = NULL;
    blk->disable_perm = false;
    bdrv_root_unref_child(root);
}

void blk_remove_all_bs(void)
{
    for (GList *l = all_backends; l; l = l->next) {
        blk_remove_bs(l->data);
    }
}

BlockDriverState *blk_bs(BlockBackend *blk)
{
    return blk->root ? blk->root->bs : NULL;
}

BdrvChild *blk_root(BlockBackend *blk)
{
    return blk->root;
}

int blk_set_perm(BlockBackend *blk, uint64_t perm, uint64_t shared_perm, Error **errp)
{
    if (blk->root && !blk->disable_perm) {
        int ret = bdrv_child_try_set_perm(blk->root, perm, shared_perm, errp);
        if (ret < 0) {
            return ret;
        }
    }
    blk->perm = perm;
    blk->shared_perm = shared_perm;
    return 0;
}

void blk_get_perm(BlockBackend *blk, uint64_t *perm, uint64_t *shared_perm)
{
    *perm = blk->perm;
    *shared_perm = blk->shared_perm;
}

/* ---- names ---- */

bool blk_set_name(BlockBackend *blk, const char *name, Error **errp)
{
    if (blk_by_name(name)) {
        error_setg(errp, "Device with id '%s' already exists", name);
        return false;
    }
    if (bdrv_find_node(name)) {
        error_setg(errp, "Device name '%s' conflicts with an existing node name", name);
        return false;
    }
    g_free(blk->name);
    blk->name = g_strdup(name);
    return true;
}

const char *blk_name(const BlockBackend *blk)
{
    return blk->name ? blk->name : "";
}

BlockBackend *blk_by_name(const char *name)
{
    for (GList *l = all_backends; l; l = l->next) {
        BlockBackend *blk = l->data;
        if (blk->name && !strcmp(blk->name, name)) {
            return blk;
        }
    }
    return NULL;
}

bool blk_name_taken(const char *name)
{
    return blk_by_name(name) != NULL;
}

BlockBackend *blk_next(BlockBackend *blk)
{
    GList *l;

    if (!blk) {
        return all_backends ? all_backends->data : NULL;
    }
    l = g_list_find(all_backends, blk);
    return l && l->next ? l->next->data : NULL;
}

BlockBackend *blk_by_public(BlockDriverState *bs)
{
    for (GList *l = all_backends; l; l = l->next) {
        BlockBackend *blk = l->data;
        if (blk_bs(blk) == bs) {
            return blk;
        }
    }
    return NULL;
}

const char *blk_name_of_bs(const BlockDriverState *bs)
{
    for (GList *l = all_backends; l; l = l->next) {
        BlockBackend *blk = l->data;
        if (blk->name && blk_bs(blk) == bs) {
            return blk->name;
        }
    }
    return NULL;
}

/* ---- behaviour ---- */

void blk_set_allow_write_beyond_eof(BlockBackend *blk, bool allow)
{
    blk->allow_write_beyond_eof = allow;
}

void blk_set_enable_write_cache(BlockBackend *blk, bool wce)
{
    blk->enable_write_cache = wce;
}

bool blk_enable_write_cache(BlockBackend *blk)
{
    return blk->enable_write_cache;
}

bool blk_is_read_only(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    return bs ? bdrv_is_read_only(bs) : false;
}

bool blk_is_inserted(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    return bs && bdrv_is_inserted(bs);
}

void blk_set_on_error(BlockBackend *blk, BlockdevOnError on_read_error,
                      BlockdevOnError on_write_error)
{
    blk->on_read_error = on_read_error;
    blk->on_write_error = on_write_error;
}

BlockdevOnError blk_get_on_error(BlockBackend *blk, bool is_read)
{
    return is_read ? blk->on_read_error : blk->on_write_error;
}

BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read, int error)
{
    switch (blk_get_on_error(blk, is_read)) {
    case BLOCKDEV_ON_ERROR_ENOSPC:
        return error == ENOSPC ? BLOCK_ERROR_ACTION_STOP : BLOCK_ERROR_ACTION_REPORT;
    case BLOCKDEV_ON_ERROR_STOP:
        return BLOCK_ERROR_ACTION_STOP;
    case BLOCKDEV_ON_ERROR_IGNORE:
        return BLOCK_ERROR_ACTION_IGNORE;
    case BLOCKDEV_ON_ERROR_REPORT:
    case BLOCKDEV_ON_ERROR_AUTO:
    default:
        return BLOCK_ERROR_ACTION_REPORT;
    }
}

void blk_error_action(BlockBackend *blk, BlockErrorAction action, bool is_read, int error)
{
    assert(error >= 0);
    if (action == BLOCK_ERROR_ACTION_STOP && blk->iostatus == BLOCK_DEVICE_IO_STATUS_OK) {
        blk->iostatus = error == ENOSPC ? BLOCK_DEVICE_IO_STATUS_NOSPACE
                                        : BLOCK_DEVICE_IO_STATUS_FAILED;
    }
    if (io_error_hook) {
        io_error_hook(blk, is_read, action, error);
    }
}

BlockDeviceIoStatus blk_iostatus(BlockBackend *blk)
{
    return blk->iostatus;
}

void blk_iostatus_reset(BlockBackend *blk)
{
    blk->iostatus = BLOCK_DEVICE_IO_STATUS_OK;
}

void blk_set_io_error_hook(BlockIoErrorHook *hook)
{
    io_error_hook = hook;
}

void blk_set_dev_path(BlockBackend *blk, const char *qdev_path)
{
    g_free(blk->dev_path);
    blk->dev_path = g_strdup(qdev_path);
}

const char *blk_get_dev_path(BlockBackend *blk)
{
    return blk->dev_path;
}

/* ---- I/O ---- */

static void blk_inc_in_flight(BlockBackend *blk)
{
    blk->in_flight++;
}

static void blk_dec_in_flight(BlockBackend *blk)
{
    assert(blk->in_flight > 0);
    blk->in_flight--;
    aio_kick(qemu_get_aio_context());
}

static void coroutine_fn blk_wait_while_drained(BlockBackend *blk)
{
    while (blk->quiesce_counter > 0) {
        qemu_co_queue_wait(&blk->queued_requests, NULL);
    }
}

static int coroutine_fn blk_check_byte_request(BlockBackend *blk, int64_t offset,
                                               int64_t bytes, bool is_write)
{
    int64_t len;

    if (!blk_is_inserted(blk)) {
        return -ENOMEDIUM;
    }
    if (offset < 0 || bytes < 0 || bytes > INT64_MAX - offset) {
        return -EIO;
    }
    if (is_write && blk->allow_write_beyond_eof) {
        return 0;
    }
    len = bdrv_co_getlength(blk_bs(blk));       /* cached: no wrapper, no poll */
    if (len < 0) {
        return len;
    }
    if (offset > len || len - offset < bytes) {
        return -EIO;
    }
    return 0;
}

/* Common prologue and epilogue of a request: wait out drains, count it. */
#define BLK_REQUEST(blk, is_write, offset, bytes, call)                 \
    ({                                                                  \
        int ret_;                                                       \
        blk_wait_while_drained(blk);                                    \
        blk_inc_in_flight(blk);                                         \
        ret_ = blk_check_byte_request((blk), (offset), (bytes), (is_write)); \
        if (ret_ >= 0) {                                                \
            ret_ = (call);                                              \
        }                                                               \
        blk_dec_in_flight(blk);                                         \
        ret_;                                                           \
    })

int coroutine_fn blk_co_preadv(BlockBackend *blk, int64_t offset, int64_t bytes,
                               QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    return BLK_REQUEST(blk, false, offset, bytes,
                       bdrv_co_preadv(blk->root, offset, bytes, qiov, flags));
}

int coroutine_fn blk_co_pwritev(BlockBackend *blk, int64_t offset, int64_t bytes,
                                QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    if (!blk->enable_write_cache) {
        flags |= BDRV_REQ_FUA;
    }
    return BLK_REQUEST(blk, true, offset, bytes,
                       bdrv_co_pwritev(blk->root, offset, bytes, qiov, flags));
}

int coroutine_fn blk_co_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf,
                              BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, bytes);
    return blk_co_preadv(blk, offset, bytes, &qiov, flags);
}

int coroutine_fn blk_co_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes,
                               const void *buf, BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, (void *)buf, bytes);
    return blk_co_pwritev(blk, offset, bytes, &qiov, flags);
}

int coroutine_fn blk_co_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                                      BdrvRequestFlags flags)
{
    if (!blk->enable_write_cache) {
        flags |= BDRV_REQ_FUA;
    }
    return BLK_REQUEST(blk, true, offset, bytes,
                       bdrv_co_pwrite_zeroes(blk->root, offset, bytes, flags));
}

int coroutine_fn blk_co_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    return BLK_REQUEST(blk, true, offset, bytes, bdrv_co_pdiscard(blk->root, offset, bytes));
}

int coroutine_fn blk_co_flush(BlockBackend *blk)
{
    int ret;

    blk_wait_while_drained(blk);
    blk_inc_in_flight(blk);
    ret = blk_is_inserted(blk) ? bdrv_co_flush(blk_bs(blk)) : -ENOMEDIUM;
    blk_dec_in_flight(blk);
    return ret;
}

int coroutine_fn blk_co_truncate(BlockBackend *blk, int64_t offset, bool exact,
                                 PreallocMode prealloc, BdrvRequestFlags flags, Error **errp)
{
    if (!blk_is_inserted(blk)) {
        error_setg(errp, "No medium inserted");
        return -ENOMEDIUM;
    }
    return bdrv_co_truncate(blk->root, offset, exact, prealloc, flags, errp);
}

int64_t coroutine_fn blk_co_getlength(BlockBackend *blk)
{
    return blk_is_inserted(blk) ? bdrv_co_getlength(blk_bs(blk)) : -ENOMEDIUM;
}

/* ---- asynchronous requests ---- */

typedef enum BlkAioOp { AIO_READ, AIO_WRITE, AIO_ZEROES, AIO_DISCARD, AIO_FLUSH } BlkAioOp;

struct BlockAIOCB {
    BlockBackend *blk;
    BlkAioOp op;
    int64_t offset, bytes;
    QEMUIOVector *qiov;
    BdrvRequestFlags flags;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
    bool has_returned;          /* blk_aio_start returned: cb may run at once */
    BlockAIOCB *next_free;      /* in blk_aio_free_list */
};

/*
 * Finished BlockAIOCBs stay on their BlockBackend for the next request: at queue
 * depth 32 a benchmark would otherwise malloc and free one per request.
 */
#define BLK_AIO_FREE_MAX 256

static BlockAIOCB *blk_aio_alloc(BlockBackend *blk)
{
    BlockAIOCB *acb = blk->aio_free;

    if (!acb) {
        return g_new(BlockAIOCB, 1);
    }
    blk->aio_free = acb->next_free;
    blk->aio_free_count--;
    return acb;
}

static void blk_aio_complete(BlockAIOCB *acb)
{
    BlockBackend *blk = acb->blk;

    acb->cb(acb->opaque, acb->ret);
    blk_dec_in_flight(blk);
    if (blk->refcnt > 1 && blk->aio_free_count < BLK_AIO_FREE_MAX) {
        acb->next_free = blk->aio_free;
        blk->aio_free = acb;
        blk->aio_free_count++;
    } else {
        g_free(acb);
    }
    blk_unref(blk);
}

static void blk_aio_free_all(BlockBackend *blk)
{
    while (blk->aio_free) {
        BlockAIOCB *acb = blk->aio_free;
        blk->aio_free = acb->next_free;
        g_free(acb);
    }
    blk->aio_free_count = 0;
}

static void blk_aio_complete_bh(void *opaque)
{
    blk_aio_complete(opaque);
}

static void coroutine_fn blk_aio_entry(void *opaque)
{
    BlockAIOCB *acb = opaque;
    BlockBackend *blk = acb->blk;

    /* like blk_wait_while_drained, but this request already counts as in flight */
    while (blk->quiesce_counter > 0) {
        blk_dec_in_flight(blk);
        qemu_co_queue_wait(&blk->queued_requests, NULL);
        blk_inc_in_flight(blk);
    }
    switch (acb->op) {
    case AIO_READ:
        acb->ret = blk_co_preadv(blk, acb->offset, acb->bytes, acb->qiov, acb->flags);
        break;
    case AIO_WRITE:
        acb->ret = blk_co_pwritev(blk, acb->offset, acb->bytes, acb->qiov, acb->flags);
        break;
    case AIO_ZEROES:
        acb->ret = blk_co_pwrite_zeroes(blk, acb->offset, acb->bytes, acb->flags);
        break;
    case AIO_DISCARD:
        acb->ret = blk_co_pdiscard(blk, acb->offset, acb->bytes);
        break;
    case AIO_FLUSH:
        acb->ret = blk_co_flush(blk);
        break;
    }
    /*
     * Straight from the coroutine when the request went asynchronous: no BH
     * and no extra loop iteration before a callback can issue the next request.
     * A request that completed before blk_aio_start returned, or whose
     * completion could drop the last reference (close, drain: not in a
     * coroutine), goes through a BH.
     */
    if (acb->has_returned && blk->refcnt > 1) {
        blk_aio_complete(acb);
    } else {
        aio_bh_schedule_oneshot(qemu_get_aio_context(), blk_aio_complete_bh, acb);
    }
}

static BlockAIOCB *blk_aio_start(BlockBackend *blk, BlkAioOp op, int64_t offset,
                                 int64_t bytes, QEMUIOVector *qiov, BdrvRequestFlags flags,
                                 BlockCompletionFunc *cb, void *opaque)
{
    BlockAIOCB *acb = blk_aio_alloc(blk);

    *acb = (BlockAIOCB) {
        .blk = blk, .op = op, .offset = offset, .bytes = bytes, .qiov = qiov,
        .flags = flags, .cb = cb, .opaque = opaque,
    };
    blk_ref(blk);
    /* held until the callback ran, so a drain also waits for pending callbacks */
    blk_inc_in_flight(blk);
    qemu_coroutine_enter(qemu_coroutine_create(blk_aio_entry, acb));
    /* still valid: completion before this point goes through a BH */
    acb->has_returned = true;
    return acb;
}

BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset, QEMUIOVector *qiov,
                           BdrvRequestFlags flags, BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_start(blk, AIO_READ, offset, qiov->size, qiov, flags, cb, opaque);
}

BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset, QEMUIOVector *qiov,
                            BdrvRequestFlags flags, BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_start(blk, AIO_WRITE, offset, qiov->size, qiov, flags, cb, opaque);
}

BlockAIOCB *blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                                  BdrvRequestFlags flags, BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_start(blk, AIO_ZEROES, offset, bytes, NULL, flags, cb, opaque);
}

BlockAIOCB *blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                             BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_start(blk, AIO_DISCARD, offset, bytes, NULL, 0, cb, opaque);
}

BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_start(blk, AIO_FLUSH, 0, 0, NULL, 0, cb, opaque);
}

/* ---- drain ---- */

void blk_drain(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    if (bs) {
        bdrv_drained_begin(bs);
    }
    AIO_WAIT_WHILE(qemu_get_aio_context(), blk->in_flight > 0);
    if (bs) {
        bdrv_drained_end(bs);
    }
}

void blk_drain_all(void)
{
    bdrv_drain_all_begin();
    for (GList *l = all_backends; l; l = l->next) {
        BlockBackend *blk = l->data;
        AIO_WAIT_WHILE(qemu_get_aio_context(), blk->in_flight > 0);
    }
    bdrv_drain_all_end();
}

unsigned blk_in_flight(BlockBackend *blk)
{
    return blk->in_flight;
}
