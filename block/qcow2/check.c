/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * check.c: qemu-img check for qcow2. Every reference to a host cluster (header,
 * L1 tables, L2 tables, data and compressed clusters of the active image and of
 * every snapshot, the refcount table and blocks, the snapshot table) is counted
 * in memory, then compared with the stored refcounts:
 *
 *   stored > counted   "Leaked cluster N refcount=R reference=F"   (-r leaks fixes)
 *   stored < counted   "ERROR cluster N refcount=R reference=F"    (-r all fixes)
 *
 * plus the COPIED flags of the active tables ("ERROR OFLAG_COPIED ..."). Messages
 * go to stderr in QEMU's words; the summary lines are the tool's.
 */
#include "qcow2.h"

typedef struct Qcow2CheckState {
    BlockDriverState *bs;
    BdrvCheckResult *res;
    uint32_t *refs;                 /* references per host cluster */
    uint64_t nb_clusters;           /* clusters of the file */
    uint64_t highest;               /* highest referenced cluster + 1 */
    uint64_t last_data;             /* host offset of the previous data cluster */
    BdrvCheckMode fix;
} Qcow2CheckState;

static void qcow2_check_ref(Qcow2CheckState *c, uint64_t offset, uint64_t bytes)
{
    BDRVQcow2State *s = c->bs->opaque;

    if (!bytes) {
        return;
    }
    for (uint64_t k = offset >> s->cluster_bits;
         k <= (offset + bytes - 1) >> s->cluster_bits; k++) {
        if (k >= c->nb_clusters) {
            fprintf(stderr, "ERROR: invalid cluster offset=0x%" PRIx64 "\n",
                    k << s->cluster_bits);
            c->res->corruptions++;
            continue;
        }
        c->refs[k]++;
        c->highest = MAX(c->highest, k + 1);
    }
}

static int coroutine_fn qcow2_check_rc(Qcow2CheckState *c, uint64_t offset, uint64_t *rc)
{
    BDRVQcow2State *s = c->bs->opaque;
    int ret = qcow2_get_refcount(c->bs, offset >> s->cluster_bits, rc);

    if (ret < 0) {
        c->res->check_errors++;
    }
    return ret;
}

static int coroutine_fn qcow2_check_l2(Qcow2CheckState *c, uint64_t l2off, bool active)
{
    BDRVQcow2State *s = c->bs->opaque;
    g_autofree uint64_t *l2 = g_malloc(s->cluster_size);
    int ret = bdrv_co_pread(c->bs->file, l2off, s->cluster_size, l2, 0);

    if (ret < 0) {
        fprintf(stderr, "ERROR: I/O error in check_refcounts_l2\n");
        c->res->check_errors++;
        return ret;
    }
    for (uint32_t i = 0; i < s->l2_entries; i++) {
        uint64_t e = GUINT64_FROM_BE(l2[i]), host, bytes, rc;
        switch (qcow2_l2_entry_type(e, s->version)) {
        case QCOW2_CLUSTER_COMPRESSED:
            qcow2_compressed_location(e, s->cluster_bits, &host, &bytes);
            qcow2_check_ref(c, host, bytes);
            if (active) {
                c->res->bfi.allocated_clusters++;
                c->res->bfi.compressed_clusters++;
            }
            break;
        case QCOW2_CLUSTER_NORMAL:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            host = e & QCOW2_L2E_OFFSET_MASK;
            if (host & s->cluster_mask) {
                fprintf(stderr, "ERROR offset=%" PRIx64 ": Cluster is not properly "
                        "aligned; L2 entry corrupted.\n", host);
                c->res->corruptions++;
                break;
            }
            qcow2_check_ref(c, host, s->cluster_size);
            if (!active) {
                break;
            }
            c->res->bfi.allocated_clusters++;
            if (c->last_data && host != c->last_data + s->cluster_size) {
                c->res->bfi.fragmented_clusters++;
            }
            c->last_data = host;
            if (qcow2_check_rc(c, host, &rc) == 0 && (rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
                fprintf(stderr, "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64
                        " refcount=%" PRIu64 "\n", e, rc);
                c->res->corruptions++;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

static int coroutine_fn qcow2_check_l1(Qcow2CheckState *c, uint64_t l1off, uint32_t l1_size,
                                       bool active)
{
    BDRVQcow2State *s = c->bs->opaque;
    g_autofree uint64_t *l1 = g_try_new(uint64_t, MAX(l1_size, 1u));

    qcow2_check_ref(c, l1off, (uint64_t)l1_size * 8);
    if (!l1) {
        c->res->check_errors++;
        return -ENOMEM;
    }
    if (l1_size && bdrv_co_pread(c->bs->file, l1off, (uint64_t)l1_size * 8, l1, 0) < 0) {
        fprintf(stderr, "ERROR: I/O error in check_refcounts_l1\n");
        c->res->check_errors++;
        return -EIO;
    }
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t e = GUINT64_FROM_BE(l1[i]), l2 = e & QCOW2_L1E_OFFSET_MASK, rc;
        if (!l2) {
            continue;
        }
        if (l2 & s->cluster_mask) {
            fprintf(stderr, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; "
                    "L1 entry corrupted\n", l2);
            c->res->corruptions++;
            continue;
        }
        qcow2_check_ref(c, l2, s->cluster_size);
        if (active && qcow2_check_rc(c, l2, &rc) == 0 &&
            (rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
            fprintf(stderr, "ERROR OFLAG_COPIED L2 cluster: l1_index=%" PRIu32
                    " l1_entry=%" PRIx64 " refcount=%" PRIu64 "\n", i, e, rc);
            c->res->corruptions++;
        }
        if ((l2 >> s->cluster_bits) < c->nb_clusters) {
            qcow2_check_l2(c, l2, active);
        }
    }
    return 0;
}

/* Set the stored refcount of cluster k to want; false if it cannot be done. */
static bool coroutine_fn qcow2_check_fix(Qcow2CheckState *c, uint64_t k, uint64_t rc,
                                         uint64_t want)
{
    BDRVQcow2State *s = c->bs->opaque;
    uint64_t off = k << s->cluster_bits;

    if (want > s->refcount_max) {
        return false;
    }
    while (rc != want) {
        int delta = rc < want ? 1 : -1;
        if (qcow2_update_refcount(c->bs, off, s->cluster_size, delta) < 0) {
            return false;
        }
        rc += delta;
    }
    return true;
}

static int coroutine_fn qcow2_check_compare(Qcow2CheckState *c)
{
    BDRVQcow2State *s = c->bs->opaque;

    for (uint64_t k = 0; k < c->nb_clusters; k++) {
        uint64_t rc, ref = c->refs[k];
        if (qcow2_check_rc(c, k << s->cluster_bits, &rc) < 0) {
            continue;
        }
        if (rc == ref) {
            continue;
        }
        bool leak = rc > ref;
        bool fix = leak ? (c->fix & BDRV_FIX_LEAKS) : (c->fix & BDRV_FIX_ERRORS);
        fprintf(stderr, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                fix ? "Repairing" : leak ? "Leaked" : "ERROR", k, rc, ref);
        bool fixed = fix && qcow2_check_fix(c, k, rc, ref);
        if (leak) {
            c->res->leaks++;
            c->res->leaks_fixed += fixed;
        } else {
            c->res->corruptions++;
            c->res->corruptions_fixed += fixed;
        }
    }
    return 0;
}

int coroutine_fn qcow2_co_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CheckState c = { .bs = bs, .res = res, .fix = s->rw ? fix : 0 };

    qemu_co_mutex_lock(&s->lock);

    if (s->rw && !s->corrupt) {
        qcow2_flush_metadata(bs);       /* check what is on disk, cached changes included */
    }
    int64_t flen = bdrv_co_getlength(bs->file->bs);
    int ret = 0;
    if (flen < 0) {
        res->check_errors++;
        ret = flen;
        goto out;
    }
    c.nb_clusters = DIV_ROUND_UP((uint64_t)flen, s->cluster_size);
    c.refs = g_try_new0(uint32_t, MAX(c.nb_clusters, 1));
    if (!c.refs) {
        res->check_errors++;
        ret = -ENOMEM;
        goto out;
    }
    res->bfi.total_clusters = DIV_ROUND_UP(s->h.size, s->cluster_size);
    qcow2_check_ref(&c, 0, s->cluster_size);
    qcow2_check_l1(&c, s->l1_offset, s->l1_size, true);
    for (int i = 0; i < s->nb_snapshots; i++) {
        qcow2_check_l1(&c, s->snapshots[i].l1_table_offset, s->snapshots[i].l1_size, false);
    }
    if (s->nb_snapshots) {
        qcow2_check_ref(&c, s->h.snapshots_offset, s->snapshots_size);
    }
    qcow2_check_ref(&c, s->reftable_offset, s->reftable_size * 8);
    for (uint64_t i = 0; i < s->reftable_size; i++) {
        uint64_t rb = s->reftable[i] & QCOW2_REFT_OFFSET_MASK;
        if (!rb) {
            continue;
        }
        if (rb & s->cluster_mask) {
            fprintf(stderr, "ERROR refcount block %" PRIu64 " is not cluster aligned; "
                    "refcount table entry corrupted\n", i);
            res->corruptions++;
            continue;
        }
        if ((rb >> s->cluster_bits) >= c.nb_clusters) {
            fprintf(stderr, "ERROR refcount block %" PRIu64 " is outside image\n", i);
            res->corruptions++;
            continue;
        }
        qcow2_check_ref(&c, rb, s->cluster_size);
    }
    qcow2_check_compare(&c);
    if (c.fix && (res->leaks_fixed || res->corruptions_fixed)) {
        s->free_hint = 1;
        ret = qcow2_flush_metadata(bs);
    }
    res->image_end_offset = c.highest << s->cluster_bits;
out:
    g_free(c.refs);
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}
