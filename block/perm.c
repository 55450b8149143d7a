/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * perm.c: permissions on the block graph.
 *
 * Each edge (BdrvChild) carries what its parent uses (perm) and what it lets
 * others use at the same time (shared_perm). A node's cumulative permissions are
 * the union of its parents' perms and the intersection of their shared perms; a
 * node parent derives what it needs from its own children through the driver's
 * child_perm (or bdrv_default_perms).
 *
 * An update is a small transaction: every node reachable from the changed nodes is
 * visited once in topological order (parents before children), checked (parents
 * compatible with each other, writable if written, the driver's check_perm for
 * image locks), and the new child edges are computed. On any failure every edge is
 * restored and the drivers' abort_perm_update() runs; on success set_perm() commits.
 */
#include "util/osdep.h"
#include "block/block-core.h"

static const char *const perm_names[] = {
    "consistent read", "write", "write unchanged", "resize",
};

char *bdrv_perm_names(uint64_t perm)
{
    GString *s = g_string_new("");

    for (unsigned i = 0; i < ARRAY_SIZE(perm_names); i++) {
        if (perm & (1ULL << i)) {
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", perm_names[i]);
        }
    }
    return g_string_free(s, false);
}

void bdrv_get_cumulative_perm(BlockDriverState *bs, uint64_t *perm, uint64_t *shared)
{
    uint64_t p = 0, sh = BLK_PERM_ALL;

    for (GSList *l = bs->parents; l; l = l->next) {
        BdrvChild *c = l->data;
        p |= c->perm;
        sh &= c->shared_perm;
    }
    *perm = p;
    *shared = sh;
}

char *bdrv_child_user_desc(BdrvChild *c)
{
    return c->klass->get_parent_desc ? c->klass->get_parent_desc(c) : g_strdup("another user");
}

void bdrv_default_perms(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                        uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    if (role & BDRV_CHILD_COW) {
        /* a backing file is only read; others may change it if our parents accept it */
        *nperm = perm & BLK_PERM_CONSISTENT_READ;
        *nshared = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED;
        if (shared & BLK_PERM_WRITE) {
            *nshared |= BLK_PERM_WRITE | BLK_PERM_RESIZE;
        }
        return;
    }
    /* filters and storage children start from passing the parents' needs through */
    *nperm = perm & DEFAULT_PERM_PASSTHROUGH;
    *nshared = (shared & DEFAULT_PERM_PASSTHROUGH) | DEFAULT_PERM_UNCHANGED;
    if (role & BDRV_CHILD_METADATA) {
        /* metadata is read at open and may be updated at any time while writable */
        *nperm |= BLK_PERM_CONSISTENT_READ;
        if (bdrv_is_writable(bs)) {
            *nperm |= BLK_PERM_WRITE | BLK_PERM_RESIZE;
        }
        *nshared &= ~(BLK_PERM_WRITE | BLK_PERM_RESIZE);
        if (bs->open_flags & BDRV_O_INACTIVE) {
            /* the migration peer owns the image now: let it write (QEMU does too) */
            *nshared |= BLK_PERM_WRITE | BLK_PERM_RESIZE;
        }
    }
    if ((role & BDRV_CHILD_DATA) && !(role & BDRV_CHILD_FILTERED)) {
        /* guest data written "unchanged" above is a real write at this level */
        if (perm & BLK_PERM_WRITE_UNCHANGED) {
            *nperm |= BLK_PERM_WRITE;
        }
    }
}

void bdrv_child_perm(BlockDriverState *bs, BdrvChild *c, uint64_t perm, uint64_t shared,
                     uint64_t *nperm, uint64_t *nshared)
{
    if (bs->drv && bs->drv->child_perm) {
        bs->drv->child_perm(bs, c, c->role, perm, shared, nperm, nshared);
    } else {
        bdrv_default_perms(bs, c, c->role, perm, shared, nperm, nshared);
    }
}

/* ---- the transaction ---- */

typedef struct PermUndo {
    BdrvChild *c;
    uint64_t perm, shared;
} PermUndo;

typedef struct PermTran {
    GSList *undo;               /* PermUndo *, newest first */
    GSList *checked;            /* nodes whose driver's check_perm succeeded */
} PermTran;

static void perm_tran_set(PermTran *t, BdrvChild *c, uint64_t perm, uint64_t shared)
{
    PermUndo *u = g_new(PermUndo, 1);

    *u = (PermUndo) { .c = c, .perm = c->perm, .shared = c->shared_perm };
    t->undo = g_slist_prepend(t->undo, u);
    c->perm = perm;
    c->shared_perm = shared;
}

static void perm_topo_visit(BlockDriverState *bs, GHashTable *seen, GSList **order)
{
    if (!g_hash_table_add(seen, bs)) {
        return;
    }
    for (GSList *l = bs->children; l; l = l->next) {
        perm_topo_visit(((BdrvChild *)l->data)->bs, seen, order);
    }
    *order = g_slist_prepend(*order, bs);
}

/* Does parent edge a let parent edge b use what b uses? */
static bool perm_a_allows_b(BdrvChild *a, BdrvChild *b, Error **errp)
{
    g_autofree char *a_user = NULL, *b_user = NULL, *perms = NULL;
    const char *node;

    if ((b->perm & a->shared_perm) == b->perm) {
        return true;
    }
    node = bdrv_get_node_name(b->bs);
    a_user = bdrv_child_user_desc(a);
    b_user = bdrv_child_user_desc(b);
    perms = bdrv_perm_names(b->perm & ~a->shared_perm);
    /* QEMU 7.2's wording (observed) */
    error_setg(errp, "Permission conflict on node '%s': permissions '%s' are both required "
               "by %s (uses node '%s' as '%s' child) and unshared by %s (uses node '%s' "
               "as '%s' child).", node, perms, b_user, node, b->name, a_user, node, a->name);
    return false;
}

static int perm_check_node(BlockDriverState *bs, PermTran *t, Error **errp)
{
    uint64_t perm, shared;

    for (GSList *a = bs->parents; a; a = a->next) {
        for (GSList *b = bs->parents; b; b = b->next) {
            if (a != b && !perm_a_allows_b(a->data, b->data, errp)) {
                return -EPERM;
            }
        }
    }
    bdrv_get_cumulative_perm(bs, &perm, &shared);
    if ((perm & (BLK_PERM_WRITE | BLK_PERM_WRITE_UNCHANGED)) && !bdrv_is_writable(bs)) {
        error_setg(errp, "Block node is read-only");
        return -EPERM;
    }
    if (!bs->drv) {
        return 0;
    }
    if (bs->drv->check_perm) {
        int ret = bs->drv->check_perm(bs, perm, shared, errp);
        if (ret < 0) {
            return ret;
        }
        t->checked = g_slist_prepend(t->checked, bs);
    }
    for (GSList *l = bs->children; l; l = l->next) {
        BdrvChild *c = l->data;
        uint64_t nperm, nshared;
        bdrv_child_perm(bs, c, perm, shared, &nperm, &nshared);
        perm_tran_set(t, c, nperm, nshared);
    }
    return 0;
}

static void perm_tran_finish(PermTran *t, bool ok)
{
    for (GSList *l = t->checked; l; l = l->next) {
        BlockDriverState *bs = l->data;
        if (ok && bs->drv->set_perm) {
            uint64_t perm, shared;
            bdrv_get_cumulative_perm(bs, &perm, &shared);
            bs->drv->set_perm(bs, perm, shared);
        } else if (!ok && bs->drv->abort_perm_update) {
            bs->drv->abort_perm_update(bs);
        }
    }
    for (GSList *l = t->undo; l; l = l->next) {
        PermUndo *u = l->data;
        if (!ok) {
            u->c->perm = u->perm;
            u->c->shared_perm = u->shared;
        }
        g_free(u);
    }
    g_slist_free(t->undo);
    g_slist_free(t->checked);
}

static int perm_update(GSList *roots, PermTran *t, Error **errp)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    GSList *order = NULL;
    int ret = 0;

    for (GSList *l = roots; l; l = l->next) {
        perm_topo_visit(l->data, seen, &order);
    }
    for (GSList *l = order; l; l = l->next) {
        ret = perm_check_node(l->data, t, errp);
        if (ret < 0) {
            break;
        }
    }
    g_slist_free(order);
    perm_tran_finish(t, ret == 0);
    return ret;
}

int bdrv_refresh_perms_list(GSList *list, Error **errp)
{
    PermTran t = { 0 };

    return perm_update(list, &t, errp);
}

int bdrv_refresh_perms(BlockDriverState *bs, Error **errp)
{
    GSList roots = { .data = bs, .next = NULL };

    return bdrv_refresh_perms_list(&roots, errp);
}

int bdrv_child_try_set_perm(BdrvChild *c, uint64_t perm, uint64_t shared, Error **errp)
{
    PermTran t = { 0 };
    GSList roots = { .data = c->bs, .next = NULL };

    perm_tran_set(&t, c, perm, shared);
    return perm_update(&roots, &t, errp);
}

/* ---- read-only <-> read-write ---- */

static int reopen_one(BlockDriverState *bs, bool read_only, Error **errp)
{
    int new_flags = read_only ? bs->open_flags & ~BDRV_O_RDWR : bs->open_flags | BDRV_O_RDWR;

    if (bs->read_only == read_only) {
        return 0;
    }
    if (bs->drv->reopen) {
        int ret = bs->drv->reopen(bs, NULL, new_flags, errp);
        if (ret < 0) {
            return ret;
        }
    }
    bs->read_only = read_only;
    bs->open_flags = new_flags;
    return 0;
}

int bdrv_reopen_set_read_only(BlockDriverState *bs, bool read_only, Error **errp)
{
    BdrvChild *file = bs->file;
    bool file_was_ro = file ? file->bs->read_only : true;
    int ret;

    if (!bs->drv) {
        error_setg(errp, "Node '%s' is not open", bdrv_get_node_name(bs));
        return -ENOMEDIUM;
    }
    if (read_only) {
        uint64_t perm, shared;
        bdrv_get_cumulative_perm(bs, &perm, &shared);
        if (perm & BLK_PERM_WRITE) {
            error_setg(errp, "Read-only block node '%s' cannot support read-write users",
                       bdrv_get_node_name(bs));
            return -EPERM;
        }
    }
    bdrv_drained_begin(bs);
    /* the image file follows its format node: writable before it, read-only after */
    if (!read_only && file && file->bs->read_only) {
        ret = reopen_one(file->bs, false, errp);
        if (ret < 0) {
            goto out;
        }
    }
    ret = reopen_one(bs, read_only, errp);
    if (ret < 0) {
        goto out;
    }
    ret = bdrv_refresh_perms(bs, errp);
    if (ret < 0) {
        reopen_one(bs, !read_only, NULL);
        bdrv_refresh_perms(bs, NULL);
        goto out;
    }
    if (read_only && file && file->bs->parents && !file->bs->parents->next) {
        reopen_one(file->bs, true, NULL);
    }
out:
    if (ret < 0 && file && file->bs->read_only != file_was_ro) {
        reopen_one(file->bs, file_was_ro, NULL);
    }
    bdrv_drained_end(bs);
    return ret;
}
