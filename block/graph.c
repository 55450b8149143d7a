/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * graph.c: the block graph: node lifetime and names, child edges, backing chains,
 * replacing nodes, lookups, op blockers and drain.
 *
 * Every node is on all_nodes from the moment it is named until it is freed.
 * Edges are BdrvChild: the child keeps its parents on bs->parents, the parent keeps
 * its children on bs->children (node parents only). Main loop only.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-core.h"
#include "block/block-backend.h"
#include "block/dirty-bitmap.h"

static GList *all_nodes;                /* BlockDriverState *, in creation order */
static uint64_t next_auto_name;

/* ---- lifetime ---- */

BlockDriverState *bdrv_new(void)
{
    BlockDriverState *bs = g_new0(BlockDriverState, 1);

    bs->refcnt = 1;
    bs->total_size = -1;
    bs->bl.request_alignment = 1;
    qemu_co_queue_init(&bs->drain_queue);
    qemu_co_queue_init(&bs->flush_queue);
    return bs;
}

/* QEMU's id_wellformed(): a letter first, then letters, digits, '-', '.', '_'. */
static bool node_name_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

bool bdrv_assign_node_name(BlockDriverState *bs, const char *node_name, Error **errp)
{
    g_autofree char *gen = NULL;

    if (!node_name) {
        /* '#' cannot start a user's name, so generated names never collide with one */
        node_name = gen = g_strdup_printf("#block%03" PRIu64, next_auto_name++);
    } else if (!node_name_wellformed(node_name)) {
        error_setg(errp, "Invalid node-name: '%s'", node_name);
        return false;
    }
    if (blk_name_taken(node_name)) {
        error_setg(errp, "node-name=%s is conflicting with a device id", node_name);
        return false;
    }
    if (bdrv_find_node(node_name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", node_name);
        return false;
    }
    if (strlen(node_name) >= sizeof(bs->node_name)) {
        error_setg(errp, "Node name too long");
        return false;
    }
    g_strlcpy(bs->node_name, node_name, sizeof(bs->node_name));
    all_nodes = g_list_append(all_nodes, bs);
    return true;
}

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

static void bdrv_close(BlockDriverState *bs)
{
    assert(!bs->parents);
    if (bs->drv) {
        bdrv_drained_begin(bs);
        bdrv_flush(bs);
        if (bs->drv->close) {
            bs->drv->close(bs);
        }
        /* children go after the driver, which may still use them in close() */
        while (bs->children) {
            bdrv_unref_child(bs, bs->children->data);
        }
        bdrv_drained_end(bs);
    }
    bdrv_release_all_dirty_bitmaps(bs);
    bdrv_release_options(bs);
    g_free(bs->opaque);
    bs->opaque = NULL;
    bs->drv = NULL;
}

void bdrv_unref(BlockDriverState *bs)
{
    if (!bs) {
        return;
    }
    assert(bs->refcnt > 0);
    if (--bs->refcnt > 0) {
        return;
    }
    bdrv_close(bs);
    all_nodes = g_list_remove(all_nodes, bs);
    g_free(bs);
}

/* ---- edges ---- */

static char *bds_get_parent_desc(BdrvChild *c)
{
    BlockDriverState *parent = c->opaque;

    return g_strdup_printf("node '%s'", bdrv_get_node_name(parent));
}

static void bds_drained_begin(BdrvChild *c)
{
    BlockDriverState *parent = c->opaque;

    parent->quiesce_counter++;
    for (GSList *l = parent->parents; l; l = l->next) {
        bdrv_parent_drained_begin_single(l->data);
    }
}

static void bds_drained_end(BdrvChild *c)
{
    BlockDriverState *parent = c->opaque;

    for (GSList *l = parent->parents; l; l = l->next) {
        bdrv_parent_drained_end_single(l->data);
    }
    if (--parent->quiesce_counter == 0) {
        qemu_co_queue_restart_all(&parent->drain_queue);
    }
}

static bool bds_drained_poll(BdrvChild *c)
{
    return bdrv_drain_poll(c->opaque);
}

static void bds_resize(BdrvChild *c)
{
    BlockDriverState *parent = c->opaque;

    /* a filter's size is its child's size */
    if (parent->drv && (parent->drv->flags & BDRV_F_FILTER)) {
        bdrv_refresh_total_size(parent);
        for (GSList *l = parent->parents; l; l = l->next) {
            BdrvChild *pc = l->data;
            if (pc->klass->resize) {
                pc->klass->resize(pc);
            }
        }
    }
}

const BdrvChildClass child_of_bds = {
    .parent_is_bds = true,
    .get_parent_desc = bds_get_parent_desc,
    .drained_begin = bds_drained_begin,
    .drained_end = bds_drained_end,
    .drained_poll = bds_drained_poll,
    .resize = bds_resize,
};

void bdrv_parent_drained_begin_single(BdrvChild *c)
{
    c->parent_quiesce_counter++;
    if (c->klass->drained_begin) {
        c->klass->drained_begin(c);
    }
}

void bdrv_parent_drained_end_single(BdrvChild *c)
{
    assert(c->parent_quiesce_counter > 0);
    c->parent_quiesce_counter--;
    if (c->klass->drained_end) {
        c->klass->drained_end(c);
    }
}

/* Point edge c at new_bs (NULL: detach), carrying drain state over. */
static void bdrv_child_set_bs(BdrvChild *c, BlockDriverState *new_bs)
{
    BlockDriverState *old_bs = c->bs;

    if (old_bs) {
        while (c->parent_quiesce_counter > 0) {
            bdrv_parent_drained_end_single(c);
        }
        old_bs->parents = g_slist_remove(old_bs->parents, c);
    }
    c->bs = new_bs;
    if (new_bs) {
        /* newest first: conflict reports then name the pair QEMU names */
        new_bs->parents = g_slist_prepend(new_bs->parents, c);
        for (int i = 0; i < new_bs->quiesce_counter; i++) {
            bdrv_parent_drained_begin_single(c);
        }
    }
}

/* Is needle bs itself or reachable from bs through children? */
static bool bdrv_subtree_contains(BlockDriverState *bs, BlockDriverState *needle)
{
    if (bs == needle) {
        return true;
    }
    for (GSList *l = bs->children; l; l = l->next) {
        if (bdrv_subtree_contains(((BdrvChild *)l->data)->bs, needle)) {
            return true;
        }
    }
    return false;
}

BdrvChild *bdrv_root_attach_child(BlockDriverState *child_bs, const char *child_name,
                                  const BdrvChildClass *klass, BdrvChildRole role,
                                  uint64_t perm, uint64_t shared, void *opaque,
                                  Error **errp)
{
    BdrvChild *c = g_new0(BdrvChild, 1);

    c->name = g_strdup(child_name);
    c->klass = klass;
    c->role = role;
    c->opaque = opaque;
    bdrv_ref(child_bs);
    bdrv_child_set_bs(c, child_bs);
    if (bdrv_child_try_set_perm(c, perm, shared, errp) < 0) {
        bdrv_child_set_bs(c, NULL);
        bdrv_unref(child_bs);
        g_free(c->name);
        g_free(c);
        return NULL;
    }
    return c;
}

void bdrv_root_unref_child(BdrvChild *c)
{
    BlockDriverState *bs = c->bs;

    bdrv_child_set_bs(c, NULL);
    /* losing a user only relaxes the constraints: this cannot fail */
    bdrv_refresh_perms(bs, NULL);
    bdrv_unref(bs);
    g_free(c->name);
    g_free(c);
}

BdrvChild *bdrv_attach_child(BlockDriverState *parent, BlockDriverState *child_bs,
                             const char *child_name, BdrvChildRole role, Error **errp)
{
    BdrvChild *c;

    if (bdrv_subtree_contains(child_bs, parent)) {
        error_setg(errp, "Making '%s' a %s child of '%s' would create a cycle",
                   bdrv_get_node_name(child_bs), child_name, bdrv_get_node_name(parent));
        return NULL;
    }
    c = g_new0(BdrvChild, 1);
    c->name = g_strdup(child_name);
    c->klass = &child_of_bds;
    c->role = role;
    c->opaque = parent;
    bdrv_ref(child_bs);
    bdrv_child_set_bs(c, child_bs);
    parent->children = g_slist_append(parent->children, c);

    uint64_t perm, shared;
    bdrv_get_cumulative_perm(parent, &perm, &shared);
    bdrv_child_perm(parent, c, perm, shared, &perm, &shared);
    if (bdrv_child_try_set_perm(c, perm, shared, errp) < 0) {
        parent->children = g_slist_remove(parent->children, c);
        bdrv_child_set_bs(c, NULL);
        bdrv_unref(child_bs);
        g_free(c->name);
        g_free(c);
        return NULL;
    }
    return c;
}

void bdrv_unref_child(BlockDriverState *parent, BdrvChild *child)
{
    if (!child) {
        return;
    }
    if (parent->file == child) {
        parent->file = NULL;
    }
    if (parent->backing == child) {
        parent->backing = NULL;
    }
    parent->children = g_slist_remove(parent->children, child);
    bdrv_root_unref_child(child);
}

/* ---- lookup and names ---- */

BlockDriverState *bdrv_find_node(const char *node_name)
{
    for (GList *l = all_nodes; l; l = l->next) {
        BlockDriverState *bs = l->data;
        if (!strcmp(bs->node_name, node_name)) {
            return bs;
        }
    }
    return NULL;
}

BlockDriverState *bdrv_lookup_bs(const char *device, const char *node_name, Error **errp)
{
    if (device) {
        BlockBackend *blk = blk_by_name(device);
        if (blk) {
            BlockDriverState *bs = blk_bs(blk);
            if (!bs) {
                error_setg(errp, "Device '%s' has no medium", device);
            }
            return bs;
        }
    }
    if (node_name) {
        BlockDriverState *bs = bdrv_find_node(node_name);
        if (bs) {
            return bs;
        }
    }
    error_setg(errp, "Cannot find device='%s' nor node-name='%s'",
               device ? device : "", node_name ? node_name : "");
    return NULL;
}

BlockDriverState *bdrv_next_node(BlockDriverState *bs)
{
    GList *l = bs ? g_list_find(all_nodes, bs) : NULL;

    if (!bs) {
        return all_nodes ? all_nodes->data : NULL;
    }
    return l && l->next ? l->next->data : NULL;
}

const char *bdrv_get_node_name(const BlockDriverState *bs)
{
    return bs->node_name;
}

const char *bdrv_get_format_name(const BlockDriverState *bs)
{
    return bs->drv ? bs->drv->format_name : NULL;
}

const char *bdrv_get_device_name(const BlockDriverState *bs)
{
    const char *name = blk_name_of_bs(bs);

    return name ? name : "";
}

const char *bdrv_get_device_or_node_name(const BlockDriverState *bs)
{
    const char *name = blk_name_of_bs(bs);

    return name && *name ? name : bs->node_name;
}

bool bdrv_is_read_only(BlockDriverState *bs)
{
    return bs->read_only;
}

bool bdrv_is_writable(BlockDriverState *bs)
{
    return !bs->read_only && !(bs->open_flags & BDRV_O_INACTIVE);
}

int bdrv_get_flags(BlockDriverState *bs)
{
    return bs->open_flags;
}

bool bdrv_is_inserted(BlockDriverState *bs)
{
    return bs->drv != NULL;
}

int bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    if (!bs->drv) {
        return -ENOMEDIUM;
    }
    if (!bs->drv->get_info) {
        BlockDriverState *f = bdrv_filter_or_cow_bs(bs);
        if (f && (bs->drv->flags & BDRV_F_FILTER)) {
            return bdrv_get_info(f, bdi);
        }
        return -ENOTSUP;
    }
    return bs->drv->get_info(bs, bdi);
}

/* ---- chains ---- */

BlockDriverState *bdrv_backing_bs(BlockDriverState *bs)
{
    return bs && bs->backing ? bs->backing->bs : NULL;
}

static BdrvChild *bdrv_filtered_child(BlockDriverState *bs)
{
    if (!bs->drv || !(bs->drv->flags & BDRV_F_FILTER)) {
        return NULL;
    }
    if (bs->file) {
        return bs->file;
    }
    for (GSList *l = bs->children; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->role & BDRV_CHILD_FILTERED) {
            return c;
        }
    }
    return NULL;
}

BlockDriverState *bdrv_filter_or_cow_bs(BlockDriverState *bs)
{
    BdrvChild *c;

    if (!bs) {
        return NULL;
    }
    c = bdrv_filtered_child(bs);
    if (c) {
        return c->bs;
    }
    return bdrv_backing_bs(bs);
}

BlockDriverState *bdrv_skip_filters(BlockDriverState *bs)
{
    BdrvChild *c;

    while (bs && (c = bdrv_filtered_child(bs))) {
        bs = c->bs;
    }
    return bs;
}

bool bdrv_chain_contains(BlockDriverState *top, BlockDriverState *base)
{
    for (; top; top = bdrv_filter_or_cow_bs(top)) {
        if (top == base) {
            return true;
        }
    }
    return base == NULL;
}

BlockDriverState *bdrv_find_backing_image(BlockDriverState *bs, const char *backing_file)
{
    for (BlockDriverState *p = bs; p && bdrv_backing_bs(p); p = bdrv_backing_bs(p)) {
        BlockDriverState *b = bdrv_backing_bs(p);
        if (!strcmp(p->backing_file, backing_file) || !strcmp(b->filename, backing_file)) {
            return b;
        }
    }
    return NULL;
}

int bdrv_get_backing_file_depth(BlockDriverState *bs)
{
    int depth = 0;

    for (BlockDriverState *p = bdrv_backing_bs(bs); p; p = bdrv_backing_bs(p)) {
        depth++;
    }
    return depth;
}

int bdrv_set_backing_hd(BlockDriverState *bs, BlockDriverState *backing_hd, Error **errp)
{
    BdrvChild *old = bs->backing, *c = NULL;

    if (backing_hd && !(bs->drv->flags & BDRV_F_SUPPORTS_BACKING)) {
        error_setg(errp, "Driver '%s' of node '%s' does not support backing files",
                   bs->drv->format_name, bdrv_get_node_name(bs));
        return -EINVAL;
    }
    if (backing_hd && old && old->bs == backing_hd) {
        return 0;
    }
    bdrv_drained_begin(bs);
    if (backing_hd) {
        c = bdrv_attach_child(bs, backing_hd, "backing", BDRV_CHILD_COW, errp);
        if (!c) {
            bdrv_drained_end(bs);
            return -EPERM;
        }
    }
    if (old) {
        bdrv_unref_child(bs, old);
    }
    bs->backing = c;
    bdrv_refresh_limits(bs, NULL);
    bdrv_drained_end(bs);
    return 0;
}

int bdrv_change_backing_file(BlockDriverState *bs, const char *backing_file,
                             const char *backing_fmt, bool require)
{
    int ret;

    if (require && backing_file && !backing_fmt) {
        return -EINVAL;
    }
    if (!bs->drv || !bs->drv->change_backing_file) {
        return -ENOTSUP;
    }
    ret = bs->drv->change_backing_file(bs, backing_file, backing_fmt);
    if (ret == 0) {
        g_strlcpy(bs->backing_file, backing_file ? backing_file : "",
                  sizeof(bs->backing_file));
        g_strlcpy(bs->backing_format, backing_fmt ? backing_fmt : "",
                  sizeof(bs->backing_format));
        g_strlcpy(bs->auto_backing_file, bs->backing_file, sizeof(bs->auto_backing_file));
    }
    return ret;
}

/* Move edge c from its node to `to`, keeping references balanced. */
static void bdrv_move_edge(BdrvChild *c, BlockDriverState *to)
{
    BlockDriverState *from = c->bs;

    bdrv_ref(to);
    bdrv_child_set_bs(c, to);
    bdrv_unref(from);
}

int bdrv_replace_node(BlockDriverState *from, BlockDriverState *to, Error **errp)
{
    GSList *moved = NULL;
    int ret = 0;

    if (from == to) {
        return 0;
    }
    bdrv_ref(from);
    bdrv_drained_begin(from);
    bdrv_drained_begin(to);
    for (GSList *l = from->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        /* the edge that makes `to` sit on top of `from` stays (bdrv_append) */
        if (c->klass->parent_is_bds && bdrv_subtree_contains(to, c->opaque)) {
            continue;
        }
        moved = g_slist_prepend(moved, c);
    }
    for (GSList *l = moved; l; l = l->next) {
        bdrv_move_edge(l->data, to);
    }
    GSList *nodes = g_slist_append(g_slist_append(NULL, to), from);
    ret = bdrv_refresh_perms_list(nodes, errp);
    if (ret < 0) {
        for (GSList *l = moved; l; l = l->next) {
            bdrv_move_edge(l->data, from);
        }
        bdrv_refresh_perms_list(nodes, NULL);
    }
    g_slist_free(nodes);
    g_slist_free(moved);
    bdrv_drained_end(to);
    bdrv_drained_end(from);
    bdrv_unref(from);
    return ret;
}

int bdrv_append(BlockDriverState *bs_new, BlockDriverState *bs_top, Error **errp)
{
    int ret;

    assert(!bs_new->backing);
    ret = bdrv_set_backing_hd(bs_new, bs_top, errp);
    if (ret < 0) {
        return ret;
    }
    ret = bdrv_replace_node(bs_top, bs_new, errp);
    if (ret < 0) {
        bdrv_set_backing_hd(bs_new, NULL, NULL);
    }
    return ret;
}

/* ---- op blockers ---- */

void bdrv_op_block_all(BlockDriverState *bs, Error *reason)
{
    bs->op_blockers = g_slist_prepend(bs->op_blockers, reason);
}

void bdrv_op_unblock_all(BlockDriverState *bs, Error *reason)
{
    bs->op_blockers = g_slist_remove(bs->op_blockers, reason);
}

bool bdrv_op_is_blocked(BlockDriverState *bs, Error **errp)
{
    if (!bs->op_blockers) {
        return false;
    }
    error_setg(errp, "Node '%s' is busy: %s", bdrv_get_device_or_node_name(bs),
               error_get_pretty(bs->op_blockers->data));
    return true;
}

/* ---- drain ---- */

bool bdrv_drain_poll(BlockDriverState *bs)
{
    if (bs->in_flight) {
        return true;
    }
    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        if (c->klass->drained_poll && c->klass->drained_poll(c)) {
            return true;
        }
    }
    return false;
}

typedef struct DrainCo {
    BlockDriverState *bs;
    bool begin;
    bool done;
    Coroutine *co;
} DrainCo;

static void bdrv_drain_bh(void *opaque)
{
    DrainCo *d = opaque;

    if (d->begin) {
        bdrv_drained_begin(d->bs);
    } else {
        bdrv_drained_end(d->bs);
    }
    d->done = true;
    aio_co_wake(d->co);
}

/* Coroutines cannot run a nested event loop: drain from a BH and wait for it. */
static void coroutine_fn bdrv_co_drain_bh_wait(BlockDriverState *bs, bool begin)
{
    DrainCo d = { .bs = bs, .begin = begin, .co = qemu_coroutine_self() };

    aio_bh_schedule_oneshot(qemu_get_aio_context(), bdrv_drain_bh, &d);
    while (!d.done) {
        qemu_coroutine_yield();
    }
}

void bdrv_drained_begin(BlockDriverState *bs)
{
    if (qemu_in_coroutine()) {
        bdrv_co_drain_bh_wait(bs, true);
        return;
    }
    bs->quiesce_counter++;
    for (GSList *l = bs->parents; l; l = l->next) {
        bdrv_parent_drained_begin_single(l->data);
    }
    AIO_WAIT_WHILE(qemu_get_aio_context(), bdrv_drain_poll(bs));
}

void bdrv_drained_end(BlockDriverState *bs)
{
    if (qemu_in_coroutine()) {
        bdrv_co_drain_bh_wait(bs, false);
        return;
    }
    assert(bs->quiesce_counter > 0);
    for (GSList *l = bs->parents; l; l = l->next) {
        bdrv_parent_drained_end_single(l->data);
    }
    if (--bs->quiesce_counter == 0) {
        qemu_co_queue_restart_all(&bs->drain_queue);
    }
}

static GSList *drained_all;     /* nodes bdrv_drain_all_begin() drained, with a ref */

void bdrv_drain_all_begin(void)
{
    for (GList *l = all_nodes; l; l = l->next) {
        BlockDriverState *bs = l->data;
        bdrv_ref(bs);
        drained_all = g_slist_prepend(drained_all, bs);
        bdrv_drained_begin(bs);
    }
}

void bdrv_drain_all_end(void)
{
    GSList *list = drained_all;

    drained_all = NULL;
    for (GSList *l = list; l; l = l->next) {
        bdrv_drained_end(l->data);
        bdrv_unref(l->data);
    }
    g_slist_free(list);
}

void bdrv_drain_all(void)
{
    bdrv_drain_all_begin();
    bdrv_drain_all_end();
}

int bdrv_flush_all(void)
{
    int result = 0;

    for (GList *l = all_nodes; l; l = l->next) {
        int ret = bdrv_flush(l->data);
        if (ret < 0 && !result) {
            result = ret;
        }
    }
    return result;
}

void bdrv_close_all(void)
{
    bdrv_drain_all();
    bdrv_flush_all();
    blk_remove_all_bs();
    /* what is left is owned by the monitor (blockdev-add); drop those references */
    while (all_nodes) {
        BlockDriverState *bs = NULL;
        for (GList *l = all_nodes; l; l = l->next) {
            BlockDriverState *n = l->data;
            if (!n->parents) {
                bs = n;
                break;
            }
        }
        if (!bs) {
            break;
        }
        bdrv_unref(bs);
    }
}

/* ---- blkdebug plumbing: the first node downwards whose driver has the hook ---- */

bool bdrv_debug_hooks_seen;

static BlockDriverState *bdrv_debug_target(BlockDriverState *bs, bool want_event)
{
    while (bs && bs->drv) {
        if (want_event ? bs->drv->debug_event != NULL : bs->drv->debug_breakpoint != NULL) {
            return bs;
        }
        bs = bs->file ? bs->file->bs : bdrv_filter_or_cow_bs(bs);
    }
    return NULL;
}

void bdrv_debug_event(BlockDriverState *bs, BlkdebugEvent event)
{
    if (!bdrv_debug_hooks_seen) {
        return;
    }
    bs = bdrv_debug_target(bs, true);
    if (bs) {
        bs->drv->debug_event(bs, event);
    }
}

int bdrv_debug_breakpoint(BlockDriverState *bs, const char *event, const char *tag)
{
    bs = bdrv_debug_target(bs, false);
    return bs ? bs->drv->debug_breakpoint(bs, event, tag) : -ENOTSUP;
}

int bdrv_debug_remove_breakpoint(BlockDriverState *bs, const char *tag)
{
    bs = bdrv_debug_target(bs, false);
    return bs && bs->drv->debug_remove_breakpoint
           ? bs->drv->debug_remove_breakpoint(bs, tag) : -ENOTSUP;
}

int bdrv_debug_resume(BlockDriverState *bs, const char *tag)
{
    bs = bdrv_debug_target(bs, false);
    return bs && bs->drv->debug_resume ? bs->drv->debug_resume(bs, tag) : -ENOTSUP;
}

bool bdrv_debug_is_suspended(BlockDriverState *bs, const char *tag)
{
    bs = bdrv_debug_target(bs, false);
    return bs && bs->drv->debug_is_suspended && bs->drv->debug_is_suspended(bs, tag);
}

void bdrv_enable_copy_on_read(BlockDriverState *bs)
{
    bs->copy_on_read++;
}

void bdrv_disable_copy_on_read(BlockDriverState *bs)
{
    assert(bs->copy_on_read > 0);
    bs->copy_on_read--;
}

/* ---- corruption reports ---- */

static BlockCorruptionHook *corruption_hook;

void bdrv_set_corruption_hook(BlockCorruptionHook *hook)
{
    corruption_hook = hook;
}

void bdrv_report_corruption(BlockDriverState *bs, const char *msg, int64_t offset,
                            int64_t size, bool fatal)
{
    if (corruption_hook) {
        corruption_hook(bs, msg, offset, size, fatal);
    }
}
