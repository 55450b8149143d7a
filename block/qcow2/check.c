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
 *
 * A stored refcount can only be corrected in place when its refcount block is
 * sound. When a referenced cluster has no refcount block, or a refcount block
 * lies outside the image or on top of other metadata, the structure itself is
 * broken: with -r all it is rebuilt from the in-memory counts (new blocks in
 * free clusters, a new table after the last used cluster, then the header is
 * switched to it), and a second pass frees what the old structure used. With
 * -r leaks that is "ERROR need to rebuild refcount structures" and -EIO.
 * With -r all the COPIED flags are checked once the refcounts are right.
 */
#include "qcow2.h"

typedef struct Qcow2CheckState {
    BlockDriverState *bs;
    BdrvCheckResult *res;
    uint32_t *refs;                 /* references per host cluster */
    uint64_t nb_clusters;           /* clusters of the file */
    uint64_t file_len;              /* bytes of the file */
    uint64_t highest;               /* highest referenced cluster + 1 */
    uint64_t last_data;             /* host offset of the previous data cluster */
    BdrvCheckMode fix;
    bool check_copied;              /* check the COPIED flags in this pass */
    bool rebuild;                   /* the refcount structure must be rebuilt */
    bool *bad_rb;                   /* per reftable entry: unusable refcount block */
    bool quiet;                     /* amend: no messages */
    GString *copied_msgs;           /* COPIED errors, printed after the refcount errors */
} Qcow2CheckState;

static void qcow2_check_ref(Qcow2CheckState *c, uint64_t offset, uint64_t bytes)
{
    BDRVQcow2State *s = c->bs->opaque;

    if (!bytes) {
        return;
    }
    if (offset + bytes > c->file_len && offset + bytes - c->file_len >= s->cluster_size) {
        fprintf(stderr, "ERROR: counting reference for region exceeding the end of the file "
                "by one cluster or more: offset 0x%" PRIx64 " size 0x%" PRIx64 "\n",
                offset, bytes);
        c->res->corruptions++;
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
            if (c->check_copied && qcow2_check_rc(c, host, &rc) == 0 && (rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
                g_string_append_printf(c->copied_msgs, "ERROR OFLAG_COPIED data cluster: "
                                       "l2_entry=%" PRIx64 " refcount=%" PRIu64 "\n", e, rc);
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
        if (active && c->check_copied && qcow2_check_rc(c, l2, &rc) == 0 &&
            (rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
            g_string_append_printf(c->copied_msgs, "ERROR OFLAG_COPIED L2 cluster: "
                                   "l1_index=%" PRIu32 " l1_entry=%" PRIx64 " refcount=%"
                                   PRIu64 "\n", i, e, rc);
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
        uint64_t rc, ref = c->refs[k], idx = k >> s->refblock_bits;
        if (idx < s->reftable_size && c->bad_rb[idx]) {
            rc = 0;                     /* do not read through a bad block */
        } else if (qcow2_check_rc(c, k << s->cluster_bits, &rc) < 0) {
            continue;
        }
        if (rc == ref) {
            continue;
        }
        bool leak = rc > ref;
        bool fix = leak ? (c->fix & BDRV_FIX_LEAKS) : (c->fix & BDRV_FIX_ERRORS);
        if (rc == 0) {
            /* a used cluster that looks free: only a rebuild is trustworthy */
            c->rebuild = true;
            fix = false;
        }
        if (idx >= s->reftable_size || !(s->reftable[idx] & QCOW2_REFT_OFFSET_MASK) ||
            c->bad_rb[idx]) {
            /* no sound refcount block to correct: only a rebuild helps */
            c->rebuild = true;
            fix = false;
        }
        if (!c->quiet) {
            fprintf(stderr, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64
                    "\n", fix ? "Repairing" : leak ? "Leaked" : "ERROR", k, rc, ref);
        }
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

static void qcow2_check_ref_cb(void *opaque, uint64_t offset, uint64_t bytes)
{
    qcow2_check_ref(opaque, offset, bytes);
}

static void qcow2_check_print_copied(Qcow2CheckState *c)
{
    if (c->copied_msgs->len && !c->quiet) {
        fputs(c->copied_msgs->str, stderr);
    }
    g_string_truncate(c->copied_msgs, 0);
}

/* One counting pass over every structure that references clusters. */
static int coroutine_fn qcow2_check_count(Qcow2CheckState *c)
{
    BlockDriverState *bs = c->bs;
    BDRVQcow2State *s = bs->opaque;
    BdrvCheckResult *res = c->res;
    int64_t flen = bdrv_co_getlength(bs->file->bs);

    if (flen < 0) {
        res->check_errors++;
        return flen;
    }
    c->file_len = flen;
    c->nb_clusters = DIV_ROUND_UP((uint64_t)flen, s->cluster_size);
    c->highest = c->last_data = 0;
    g_free(c->refs);
    g_free(c->bad_rb);
    c->refs = g_try_new0(uint32_t, MAX(c->nb_clusters, 1));
    c->bad_rb = g_new0(bool, MAX(s->reftable_size, 1));
    if (!c->refs) {
        res->check_errors++;
        return -ENOMEM;
    }
    res->bfi.total_clusters = DIV_ROUND_UP(s->h.size, s->cluster_size);
    qcow2_check_ref(c, 0, s->cluster_size);
    qcow2_check_l1(c, s->l1_offset, s->l1_size, true);
    for (int i = 0; i < s->nb_snapshots; i++) {
        qcow2_check_l1(c, s->snapshots[i].l1_table_offset, s->snapshots[i].l1_size, false);
    }
    if (s->nb_snapshots) {
        qcow2_check_ref(c, s->h.snapshots_offset, s->snapshots_size);
    }
    if (qcow2_bitmaps_for_each_cluster(bs, qcow2_check_ref_cb, c) < 0) {
        fprintf(stderr, "ERROR: I/O error reading the bitmap tables\n");
        res->check_errors++;
    }
    qcow2_check_ref(c, s->reftable_offset, s->reftable_size * 8);
    for (uint64_t i = 0; i < s->reftable_size; i++) {
        uint64_t rb = s->reftable[i] & QCOW2_REFT_OFFSET_MASK;
        if (!rb) {
            continue;
        }
        if (rb & s->cluster_mask) {
            fprintf(stderr, "ERROR refcount block %" PRIu64 " is not cluster aligned; "
                    "refcount table entry corrupted\n", i);
            res->corruptions++;
            c->bad_rb[i] = c->rebuild = true;
            continue;
        }
        if ((rb >> s->cluster_bits) >= c->nb_clusters) {
            fprintf(stderr, "ERROR refcount block %" PRIu64 " is outside image\n", i);
            res->corruptions++;
            c->bad_rb[i] = c->rebuild = true;
            continue;
        }
        qcow2_check_ref(c, rb, s->cluster_size);
        if (c->refs[rb >> s->cluster_bits] > 1) {
            /* shares its cluster with other metadata or data */
            c->bad_rb[i] = c->rebuild = true;
        }
    }
    return 0;
}

/* Index of the first run of n clusters with no reference, at or after from. */
static uint64_t qcow2_rebuild_find_free(uint32_t **refs, uint64_t *nb, uint64_t from,
                                        uint64_t n)
{
    uint64_t run = 0, k = from;

    for (; run < n; k++) {
        if (k >= *nb || !(*refs)[k]) {
            run++;
        } else {
            run = 0;
        }
    }
    uint64_t start = k - n;
    if (start + n > *nb) {
        uint64_t grow = MAX(start + n, *nb + *nb / 4 + 64);
        *refs = g_renew(uint32_t, *refs, grow);
        memset(*refs + *nb, 0, (grow - *nb) * sizeof(uint32_t));
        *nb = grow;
    }
    for (uint64_t i = start; i < start + n; i++) {
        (*refs)[i] = 1;
    }
    return start;
}

/*
 * Build a new refcount structure from c->refs: blocks in free clusters, the
 * table after the last used cluster; write them, switch the header to them.
 */
static int coroutine_fn qcow2_check_rebuild(Qcow2CheckState *c)
{
    BlockDriverState *bs = c->bs;
    BDRVQcow2State *s = bs->opaque;
    uint64_t per_block = 1ULL << s->refblock_bits, per_tc = s->cluster_size / 8;
    uint64_t nb = c->nb_clusters, nb_idx = 0, rt_start = 0, rt_clusters = 0;
    g_autofree uint64_t *rb = NULL;
    int ret;

    if (!c->quiet) {
        fprintf(stderr, "Rebuilding refcount structure\n");
    }
    uint32_t *refs = g_steal_pointer(&c->refs);
    for (;;) {
        uint64_t top = nb;
        while (top && !refs[top - 1]) {
            top--;
        }
        uint64_t need = DIV_ROUND_UP(top, per_block);
        bool changed = false;
        if (need > nb_idx) {
            rb = g_renew(uint64_t, rb, need);
            memset(rb + nb_idx, 0, (need - nb_idx) * 8);
            nb_idx = need;
        }
        for (uint64_t i = 0; i < nb_idx; i++) {
            if (rb[i]) {
                continue;
            }
            bool used = false;
            for (uint64_t k = i * per_block; k < MIN((i + 1) * per_block, nb) && !used; k++) {
                used = refs[k];
            }
            if (used) {
                rb[i] = qcow2_rebuild_find_free(&refs, &nb, 1, 1);
                changed = true;
            }
        }
        if (changed) {
            continue;
        }
        uint64_t tc = DIV_ROUND_UP(nb_idx, per_tc);
        if (rt_clusters >= tc) {
            break;
        }
        for (uint64_t i = rt_start; i < rt_start + rt_clusters; i++) {
            refs[i] = 0;
        }
        rt_clusters = tc;
        rt_start = qcow2_rebuild_find_free(&refs, &nb, top, tc);
    }

    g_autofree uint8_t *blk = g_malloc(s->cluster_size);
    g_autofree uint64_t *table = g_new0(uint64_t, rt_clusters * per_tc);
    uint64_t *host_table = g_new0(uint64_t, rt_clusters * per_tc);
    ret = 0;
    for (uint64_t i = 0; i < nb_idx && ret == 0; i++) {
        if (!rb[i]) {
            continue;
        }
        memset(blk, 0, s->cluster_size);
        for (uint64_t k = i * per_block; k < MIN((i + 1) * per_block, nb); k++) {
            qcow2_refblock_set(blk, s->refcount_order, k - i * per_block,
                               MIN((uint64_t)refs[k], s->refcount_max));
        }
        host_table[i] = rb[i] << s->cluster_bits;
        table[i] = GUINT64_TO_BE(host_table[i]);
        ret = bdrv_co_pwrite(bs->file, host_table[i], s->cluster_size, blk, 0);
    }
    ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, rt_start << s->cluster_bits,
                                         rt_clusters << s->cluster_bits, table, 0);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    g_free(refs);
    if (ret < 0) {
        g_free(host_table);
        return ret;
    }
    /* the old blocks are forgotten, dirty or not: the new ones are the truth */
    qcow2_cache_clear(s->rb_cache);
    g_free(s->reftable);
    s->reftable = host_table;
    s->reftable_size = rt_clusters * per_tc;
    s->reftable_offset = rt_start << s->cluster_bits;
    s->reftable_used = nb_idx;
    s->free_hint = 1;
    ret = qcow2_update_header(bs);
    return ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
}

int coroutine_fn qcow2_co_check(BlockDriverState *bs, BdrvCheckResult *res, BdrvCheckMode fix)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CheckState c = { .bs = bs, .res = res, .fix = s->rw ? fix : 0,
                          .copied_msgs = g_string_new(NULL) };
    int ret;

    if (s->snapshot_table_error == -EFBIG) {
        error_report("ERROR snapshot table too large");
        fprintf(stderr, "You can force-remove all %" PRIu64 " overhanging snapshots with "
                "qemu-img check -r all\n",
                (uint64_t)s->h.nb_snapshots - QCOW2_MAX_SNAPSHOTS);
        return -EFBIG;
    }
    if (s->snapshot_table_error) {
        error_report("ERROR snapshot table offset invalid");
        return s->snapshot_table_error;
    }
    qemu_co_mutex_lock(&s->lock);
    if (s->rw && !s->corrupt) {
        qcow2_flush_metadata(bs);       /* check what is on disk, cached changes included */
    }
    /* with -r all, the COPIED flags are judged against the repaired refcounts */
    c.check_copied = !(c.fix & BDRV_FIX_ERRORS);
    ret = qcow2_check_count(&c);
    if (ret < 0) {
        goto out;
    }
    qcow2_check_compare(&c);
    res->image_end_offset = c.highest << s->cluster_bits;
    if (c.rebuild && (c.fix & BDRV_FIX_ERRORS)) {
        ret = qcow2_check_rebuild(&c);
        if (ret < 0) {
            res->check_errors++;
            goto out;
        }
        res->corruptions_fixed = res->corruptions;
        res->leaks_fixed = res->leaks;
    } else if (c.rebuild && c.fix) {
        fprintf(stderr, "ERROR need to rebuild refcount structures\n");
        res->check_errors++;
        ret = -EIO;
        goto out;
    }
    qcow2_check_print_copied(&c);
    if (c.fix && (res->leaks_fixed || res->corruptions_fixed)) {
        s->free_hint = 1;
        ret = qcow2_flush_metadata(bs);
    }
    if (c.fix & BDRV_FIX_ERRORS) {
        /* second pass: what the old structure used, and the COPIED flags */
        BdrvCheckResult tmp = { 0 };
        c.res = &tmp;
        c.check_copied = true;
        c.rebuild = false;
        ret = qcow2_check_count(&c);
        if (ret == 0) {
            qcow2_check_compare(&c);
            qcow2_check_print_copied(&c);
            ret = qcow2_flush_metadata(bs);
            res->image_end_offset = c.highest << s->cluster_bits;
        }
        res->corruptions += tmp.corruptions - tmp.corruptions_fixed;
        res->check_errors += tmp.check_errors;
        c.res = res;
    }
out:
    g_string_free(c.copied_msgs, true);
    g_free(c.refs);
    g_free(c.bad_rb);
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

int coroutine_fn qcow2_change_refcount_order(BlockDriverState *bs, uint32_t order)
{
    BDRVQcow2State *s = bs->opaque;
    BdrvCheckResult res = { 0 };
    Qcow2CheckState c = { .bs = bs, .res = &res, .quiet = true,
                          .copied_msgs = g_string_new(NULL) };
    int ret = qcow2_flush_metadata(bs);

    ret = ret < 0 ? ret : qcow2_check_count(&c);
    if (ret == 0 && (res.corruptions || res.check_errors)) {
        ret = -EIO;                     /* the counts must be trustworthy */
    }
    if (ret == 0) {
        s->refcount_order = s->h.refcount_order = order;
        s->refblock_bits = s->cluster_bits + 3 - order;
        s->refcount_max = order == 6 ? UINT64_MAX : (1ULL << (1u << order)) - 1;
        ret = qcow2_check_rebuild(&c);
    }
    if (ret == 0) {
        /* free the old table and blocks: nothing references them any more */
        c.fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
        ret = qcow2_check_count(&c);
        if (ret == 0) {
            qcow2_check_compare(&c);
            ret = qcow2_flush_metadata(bs);
        }
    }
    g_string_free(c.copied_msgs, true);
    g_free(c.refs);
    g_free(c.bad_rb);
    return ret;
}
