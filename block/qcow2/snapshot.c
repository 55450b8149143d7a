/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * snapshot.c: the internal snapshot table, read at open so that snapshots are
 * listed, checked and preserved (their clusters have refcounts > 1, which makes
 * the write path copy instead of overwriting), and created, applied (goto) and
 * deleted for the snapshot_* BlockDriver callbacks.
 *
 * A snapshot is a copy of the active L1 table; every L2 table and data cluster
 * it reaches gains one reference (qcow2_tree_update). The COPIED flags of the
 * active tree are then recomputed (refcount == 1). Crash safety: refcounts go
 * up and reach the disk before the new snapshot table is linked from the
 * header, and they go down only after the header no longer links what they
 * count, so a crash leaks clusters and never corrupts.
 *
 * Entry (big-endian, each padded to a multiple of 8 bytes):
 *    0 l1_table_offset   8 l1_size   12 id_str_size (16)   14 name_size (16)
 *   16 date_sec         20 date_nsec 24 vm_clock_nsec      32 vm_state_size (32)
 *   36 extra_data_size  40 extra data: vm_state_size_large, disk_size[, icount]
 *   then the id string and the name, not NUL-terminated.
 */
#include "qcow2.h"

#define QCOW2_SNAPSHOT_FIXED 40
#define QCOW2_MAX_SNAPSHOT_TABLE (64 * MiB)

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void qcow2_snapshot_clear(Qcow2Snapshot *sn)
{
    g_free(sn->id_str);
    g_free(sn->name);
    g_free(sn->extra_data);
}

/* Bytes of the variable part that follows the fixed 40 bytes of an entry. */
static uint64_t qcow2_snapshot_var_len(const uint8_t *p)
{
    return get_be(p + 36, 4) + get_be(p + 12, 2) + get_be(p + 14, 2);
}

static void qcow2_snapshot_fill(Qcow2Snapshot *sn, const uint8_t *p, int version)
{
    uint32_t extra = get_be(p + 36, 4), id_len = get_be(p + 12, 2);
    uint32_t name_len = get_be(p + 14, 2);
    const uint8_t *v = p + QCOW2_SNAPSHOT_FIXED;

    sn->l1_table_offset = get_be(p, 8);
    sn->l1_size = get_be(p + 8, 4);
    sn->date_sec = get_be(p + 16, 4);
    sn->date_nsec = get_be(p + 20, 4);
    sn->vm_clock_nsec = get_be(p + 24, 8);
    sn->vm_state_size = get_be(p + 32, 4);
    sn->extra_data_size = extra;
    sn->extra_data = g_memdup2(v, extra);
    if (extra >= 8) {
        sn->vm_state_size = get_be(v, 8);
    }
    sn->disk_size = extra >= 16 ? get_be(v + 8, 8) : 0;
    sn->id_str = g_strndup((const char *)v + extra, id_len);
    sn->name = g_strndup((const char *)v + extra + id_len, name_len);
    (void)version;
}

int qcow2_parse_snapshots(const uint8_t *buf, size_t len, int nb, int version,
                          Qcow2Snapshot **out, Error **errp)
{
    Qcow2Snapshot *sns = g_new0(Qcow2Snapshot, MAX(nb, 1));
    size_t off = 0;

    for (int i = 0; i < nb; i++) {
        if (len - off < QCOW2_SNAPSHOT_FIXED ||
            qcow2_snapshot_var_len(buf + off) > len - off - QCOW2_SNAPSHOT_FIXED) {
            for (int j = 0; j < i; j++) {
                qcow2_snapshot_clear(&sns[j]);
            }
            g_free(sns);
            error_setg(errp, "Snapshot table is truncated");
            return -EINVAL;
        }
        qcow2_snapshot_fill(&sns[i], buf + off, version);
        off += ROUND_UP(QCOW2_SNAPSHOT_FIXED + qcow2_snapshot_var_len(buf + off), 8);
        off = MIN(off, len);
    }
    *out = sns;
    return 0;
}

int coroutine_fn qcow2_read_snapshots(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->h.snapshots_offset, total = 0;
    g_autoptr(GByteArray) table = g_byte_array_new();

    if (!s->h.nb_snapshots || s->snapshot_table_error) {
        return 0;                       /* a bad table: qemu-img check reports it */
    }
    for (uint32_t i = 0; i < s->h.nb_snapshots; i++) {
        uint8_t fixed[QCOW2_SNAPSHOT_FIXED];
        int ret = bdrv_co_pread(bs->file, off + total, sizeof(fixed), fixed, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to read snapshot table");
            return ret;
        }
        uint64_t entry = ROUND_UP(QCOW2_SNAPSHOT_FIXED + qcow2_snapshot_var_len(fixed), 8);
        if (total + entry > QCOW2_MAX_SNAPSHOT_TABLE) {
            error_setg(errp, "Snapshot table too large");
            return -EFBIG;
        }
        g_byte_array_set_size(table, total + entry);
        memcpy(table->data + total, fixed, sizeof(fixed));
        ret = bdrv_co_pread(bs->file, off + total + sizeof(fixed), entry - sizeof(fixed),
                            table->data + total + sizeof(fixed), 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to read snapshot table");
            return ret;
        }
        total += entry;
    }
    int ret = qcow2_parse_snapshots(table->data, table->len, s->h.nb_snapshots, s->version,
                                    &s->snapshots, errp);
    if (ret < 0) {
        return ret;
    }
    s->nb_snapshots = s->h.nb_snapshots;
    s->snapshots_size = total;
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        if (!qcow2_validate_table(sn->l1_table_offset, sn->l1_size, 8, QCOW2_MAX_L1_BYTES,
                                  s->cluster_bits, "Snapshot L1 table", errp)) {
            error_prepend(errp, "Snapshot %s: ", sn->id_str);
            return -EINVAL;
        }
    }
    return 0;
}

void qcow2_free_snapshots(BDRVQcow2State *s)
{
    for (int i = 0; i < s->nb_snapshots; i++) {
        qcow2_snapshot_clear(&s->snapshots[i]);
    }
    g_free(s->snapshots);
    s->snapshots = NULL;
    s->nb_snapshots = 0;
}

/* ---- writing the table ---- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) {
        p[i] = v;
    }
}

/* Serialise every snapshot; v3 entries carry at least 24 bytes of extra data. */
static GByteArray *qcow2_snapshot_table(BDRVQcow2State *s)
{
    GByteArray *t = g_byte_array_new();

    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        uint32_t extra = MAX(sn->extra_data_size, s->version >= 3 ? 24u : 0u);
        size_t id_len = strlen(sn->id_str), name_len = strlen(sn->name);
        size_t len = ROUND_UP(QCOW2_SNAPSHOT_FIXED + extra + id_len + name_len, 8);
        size_t at = t->len;

        g_byte_array_set_size(t, at + len);
        uint8_t *p = t->data + at;
        memset(p, 0, len);
        put_be(p, sn->l1_table_offset, 8);
        put_be(p + 8, sn->l1_size, 4);
        put_be(p + 12, id_len, 2);
        put_be(p + 14, name_len, 2);
        put_be(p + 16, sn->date_sec, 4);
        put_be(p + 20, sn->date_nsec, 4);
        put_be(p + 24, sn->vm_clock_nsec, 8);
        put_be(p + 32, sn->vm_state_size > UINT32_MAX ? 0 : sn->vm_state_size, 4);
        put_be(p + 36, extra, 4);
        uint8_t *v = p + QCOW2_SNAPSHOT_FIXED;
        if (sn->extra_data_size) {
            memcpy(v, sn->extra_data, sn->extra_data_size);   /* unknown fields kept */
        }
        if (extra >= 8) {
            put_be(v, sn->vm_state_size, 8);
        }
        if (extra >= 16) {
            put_be(v + 8, sn->disk_size, 8);
        }
        memcpy(v + extra, sn->id_str, id_len);
        memcpy(v + extra + id_len, sn->name, name_len);
    }
    return t;
}

/* Write s->snapshots as a new table, point the header to it, free the old one. */
static int coroutine_fn qcow2_write_snapshot_table(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    g_autoptr(GByteArray) t = qcow2_snapshot_table(s);
    uint64_t old_off = s->h.snapshots_offset, old_size = s->snapshots_size;
    uint32_t old_nb = s->h.nb_snapshots;
    int64_t off = 0;
    int ret;

    if (t->len) {
        off = qcow2_alloc_clusters(bs, DIV_ROUND_UP(t->len, s->cluster_size));
        if (off < 0) {
            return off;
        }
        ret = qcow2_pre_write_check(bs, 0, off, t->len);
        ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, off, t->len, t->data, 0);
        /* refcounts (the table's and the trees') durable before the header links them */
        ret = ret < 0 ? ret : qcow2_flush_metadata(bs);
        ret = ret < 0 ? ret : qcow2_refcount_sync(bs);
        if (ret < 0) {
            qcow2_update_refcount(bs, off, t->len, -1);
            return ret;
        }
    }
    s->h.snapshots_offset = off;
    s->h.nb_snapshots = s->nb_snapshots;
    ret = qcow2_update_header(bs);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        s->h.snapshots_offset = old_off;
        s->h.nb_snapshots = old_nb;
        return ret;
    }
    s->snapshots_size = t->len;
    if (old_nb && old_size) {
        qcow2_free_deferred(bs, old_off, old_size, false);
    }
    return 0;
}

/* ---- reference counts of a whole tree ---- */

/* Set or clear COPIED in *entry from the refcount of the cluster at host. */
static int coroutine_fn qcow2_fix_copied(BlockDriverState *bs, uint64_t host, uint64_t *entry)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t rc;
    int ret = qcow2_get_refcount(bs, host >> s->cluster_bits, &rc);

    if (ret == 0) {
        *entry = rc == 1 ? *entry | QCOW2_OFLAG_COPIED : *entry & ~QCOW2_OFLAG_COPIED;
    }
    return ret;
}

/* Add delta (-1, 0, +1) to every data cluster of the L2 table at l2off; fix COPIED. */
static int coroutine_fn qcow2_l2_update(BlockDriverState *bs, uint64_t l2off, int delta)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CacheEntry *l2;
    int ret = qcow2_cache_get(bs, s->l2_cache, l2off, &l2);

    for (uint32_t i = 0; ret == 0 && i < s->l2_entries; i++) {
        uint64_t e = qcow2_l2_get(l2, i), ne = e, host, bytes;
        switch (qcow2_l2_entry_type(e, s->version)) {
        case QCOW2_CLUSTER_COMPRESSED:
            qcow2_compressed_location(e, s->cluster_bits, &host, &bytes);
            ret = delta ? qcow2_update_refcount(bs, host, bytes, delta) : 0;
            break;
        case QCOW2_CLUSTER_NORMAL:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            host = e & QCOW2_L2E_OFFSET_MASK;
            ret = delta ? qcow2_update_refcount(bs, host, s->cluster_size, delta) : 0;
            ret = ret < 0 ? ret : qcow2_fix_copied(bs, host, &ne);
            break;
        default:
            break;
        }
        if (ret == 0 && ne != e) {
            qcow2_l2_set(l2, i, ne);
            qcow2_cache_mark_dirty(l2);
        }
    }
    qcow2_cache_put(&l2);
    return ret;
}

/*
 * Add delta to the L2 tables and data clusters that l1 (host byte order, l1_size
 * entries) reaches, and recompute COPIED in them and in l1. Only the active tree
 * needs correct flags, but a shared L2 table is shared by both views.
 */
static int coroutine_fn qcow2_tree_update(BlockDriverState *bs, uint64_t *l1,
                                          uint32_t l1_size, int delta)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    for (uint32_t i = 0; ret == 0 && i < l1_size; i++) {
        uint64_t l2off = l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        if (l2off & s->cluster_mask) {
            qcow2_signal_corruption(bs, "L2 table offset %#" PRIx64 " unaligned (L1 index: %#"
                                    PRIx32 ")", l2off, i);
            return -EIO;
        }
        uint64_t rc;
        ret = qcow2_get_refcount(bs, l2off >> s->cluster_bits, &rc);
        /* a table about to be freed keeps its entries: only the counts go down */
        (void)rc;
        ret = ret < 0 ? ret : qcow2_l2_update(bs, l2off, delta);
        /* a table whose count drops to 0 leaves the cache, dirty flags and all */
        ret = ret < 0 || !delta ? ret : qcow2_update_refcount(bs, l2off, s->cluster_size, delta);
        ret = ret < 0 ? ret : qcow2_fix_copied(bs, l2off, &l1[i]);
    }
    return ret;
}

/* ---- the callbacks ---- */

static int qcow2_find_snapshot(BDRVQcow2State *s, const char *id, const char *name)
{
    for (int i = 0; i < s->nb_snapshots; i++) {
        if ((!id || !strcmp(s->snapshots[i].id_str, id)) &&
            (!name || !strcmp(s->snapshots[i].name, name))) {
            return i;
        }
    }
    return -1;
}

static int coroutine_fn qcow2_read_l1(BlockDriverState *bs, uint64_t off, uint32_t size,
                                      uint64_t **l1)
{
    *l1 = g_new0(uint64_t, MAX(size, 1u));
    int ret = size ? bdrv_co_pread(bs->file, off, (uint64_t)size * 8, *l1, 0) : 0;

    for (uint32_t i = 0; ret == 0 && i < size; i++) {
        (*l1)[i] = GUINT64_FROM_BE((*l1)[i]);
    }
    return ret;
}

/* Write the whole active L1 table (s->l1) to s->l1_offset. */
static int coroutine_fn qcow2_write_active_l1(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    for (uint32_t i = 0; ret == 0 && i < s->l1_size; i += 64) {
        ret = qcow2_write_l1_entry(bs, i);
    }
    return ret;
}

typedef enum { QCOW2_SN_CREATE, QCOW2_SN_GOTO, QCOW2_SN_DELETE } Qcow2SnapshotKind;

typedef struct Qcow2SnapshotOp {
    Qcow2SnapshotKind kind;
    QEMUSnapshotInfo *sn;           /* create */
    const char *id, *name;          /* goto: id = id or name; delete: NULL = any */
} Qcow2SnapshotOp;

static int coroutine_fn qcow2_co_snapshot_create(BlockDriverState *bs, void *opaque,
                                                 Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    QEMUSnapshotInfo *info = ((Qcow2SnapshotOp *)opaque)->sn;
    uint64_t l1_bytes = ROUND_UP((uint64_t)s->l1_size * 8, s->cluster_size);
    int ret;

    if (!info->id_str[0]) {
        unsigned long max = 0;
        for (int i = 0; i < s->nb_snapshots; i++) {
            max = MAX(max, strtoul(s->snapshots[i].id_str, NULL, 10));
        }
        snprintf(info->id_str, sizeof(info->id_str), "%lu", max + 1);
    }
    if (qcow2_find_snapshot(s, info->id_str, NULL) >= 0) {
        error_setg(errp, "Snapshot with ID '%s' already exists", info->id_str);
        return -EEXIST;
    }
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots");
        return -EFBIG;
    }
    if (!info->date_sec && !info->date_nsec) {
        int64_t now = g_get_real_time();
        info->date_sec = now / G_USEC_PER_SEC;
        info->date_nsec = (now % G_USEC_PER_SEC) * 1000;
    }
    ret = qcow2_flush_metadata(bs);
    int64_t l1off = ret < 0 ? ret : !l1_bytes ? 0 :
                    qcow2_alloc_clusters(bs, l1_bytes >> s->cluster_bits);
    if (l1off < 0) {
        error_setg_errno(errp, -l1off, "Could not allocate the snapshot's L1 table");
        return l1off;
    }
    /* the copy points to the same tables; the active tree becomes shared */
    ret = qcow2_tree_update(bs, s->l1, s->l1_size, 1);
    ret = ret < 0 ? ret : qcow2_refcount_sync(bs);      /* counts before cleared flags */
    ret = ret < 0 ? ret : qcow2_write_active_l1(bs);
    if (ret == 0 && s->l1_size) {
        g_autofree uint64_t *be = g_new(uint64_t, s->l1_size);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            be[i] = GUINT64_TO_BE(s->l1[i]);
        }
        ret = qcow2_pre_write_check(bs, 0, l1off, (uint64_t)s->l1_size * 8);
        ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, l1off, (uint64_t)s->l1_size * 8, be, 0);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not write the snapshot's L1 table");
        return ret;
    }
    s->snapshots = g_renew(Qcow2Snapshot, s->snapshots, s->nb_snapshots + 1);
    Qcow2Snapshot *sn = &s->snapshots[s->nb_snapshots++];
    *sn = (Qcow2Snapshot) {
        .l1_table_offset = l1off, .l1_size = s->l1_size,
        .id_str = g_strdup(info->id_str), .name = g_strdup(info->name),
        .date_sec = info->date_sec, .date_nsec = info->date_nsec,
        .vm_clock_nsec = info->vm_clock_nsec, .vm_state_size = info->vm_state_size,
        .disk_size = s->h.size,
        .extra_data_size = s->version >= 3 ? 24 : 0,
        .extra_data = s->version >= 3 ? g_malloc0(24) : NULL,
    };
    if (s->version >= 3) {
        put_be(sn->extra_data + 16, info->icount == UINT64_MAX ? 0 : info->icount, 8);
    }
    ret = qcow2_write_snapshot_table(bs);
    if (ret < 0) {
        /* not linked: what we counted stays leaked, which is safe */
        qcow2_snapshot_clear(&s->snapshots[--s->nb_snapshots]);
        error_setg_errno(errp, -ret, "Could not write the snapshot table");
        return ret;
    }
    return qcow2_flush_metadata(bs);
}

static int coroutine_fn qcow2_co_snapshot_goto(BlockDriverState *bs, void *opaque,
                                               Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2SnapshotOp *op = opaque;
    int idx = qcow2_find_snapshot(s, op->id, NULL);
    g_autofree uint64_t *l1 = NULL, *old = NULL;

    idx = idx >= 0 ? idx : qcow2_find_snapshot(s, NULL, op->id);
    if (idx < 0) {
        return -ENOENT;
    }
    Qcow2Snapshot *sn = &s->snapshots[idx];
    if (sn->disk_size && sn->disk_size != s->h.size) {
        return -ENOTSUP;            /* would need a resize */
    }
    int ret = qcow2_flush_metadata(bs);
    ret = ret < 0 ? ret : qcow2_read_l1(bs, sn->l1_table_offset, sn->l1_size, &l1);
    ret = ret < 0 ? ret : qcow2_grow_l1(bs, sn->l1_size, true);
    /* the snapshot's tree gains the active image as a user... */
    ret = ret < 0 ? ret : qcow2_tree_update(bs, l1, sn->l1_size, 1);
    if (ret < 0) {
        return ret;
    }
    old = g_memdup2(s->l1, (size_t)s->l1_size * 8);
    uint32_t old_size = s->l1_size;
    memset(s->l1, 0, (size_t)s->l1_alloc * 8);
    memcpy(s->l1, l1, (size_t)sn->l1_size * 8);
    ret = qcow2_flush_metadata(bs);
    ret = ret < 0 ? ret : qcow2_refcount_sync(bs);
    ret = ret < 0 ? ret : qcow2_write_active_l1(bs);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        return ret;
    }
    /* ...and the old active tree loses it (now that nothing on disk links it) */
    ret = qcow2_tree_update(bs, old, old_size, -1);
    ret = ret < 0 ? ret : qcow2_tree_update(bs, s->l1, s->l1_size, 0);
    ret = ret < 0 ? ret : qcow2_write_active_l1(bs);
    return ret < 0 ? ret : qcow2_flush_metadata(bs);
}

static int coroutine_fn qcow2_co_snapshot_delete(BlockDriverState *bs, void *opaque,
                                                 Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2SnapshotOp *op = opaque;
    int idx = qcow2_find_snapshot(s, op->id, op->name);
    g_autofree uint64_t *l1 = NULL;

    if (idx < 0) {
        error_setg(errp, "Can't find the snapshot");
        return -ENOENT;
    }
    Qcow2Snapshot sn = s->snapshots[idx];
    int ret = qcow2_flush_metadata(bs);
    ret = ret < 0 ? ret : qcow2_read_l1(bs, sn.l1_table_offset, sn.l1_size, &l1);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the snapshot's L1 table");
        return ret;
    }
    memmove(&s->snapshots[idx], &s->snapshots[idx + 1],
            (s->nb_snapshots - idx - 1) * sizeof(Qcow2Snapshot));
    s->nb_snapshots--;
    ret = qcow2_write_snapshot_table(bs);
    if (ret < 0) {
        s->snapshots = g_renew(Qcow2Snapshot, s->snapshots, s->nb_snapshots + 1);
        memmove(&s->snapshots[idx + 1], &s->snapshots[idx],
                (s->nb_snapshots - idx) * sizeof(Qcow2Snapshot));
        s->snapshots[idx] = sn;
        s->nb_snapshots++;
        error_setg_errno(errp, -ret, "Failed to remove snapshot from snapshot list");
        return ret;
    }
    /* unlinked on disk: drop its references, then the active flags follow */
    ret = qcow2_tree_update(bs, l1, sn.l1_size, -1);
    ret = ret < 0 ? ret : qcow2_update_refcount(bs, sn.l1_table_offset,
                                                ROUND_UP((uint64_t)sn.l1_size * 8,
                                                         s->cluster_size), -1);
    ret = ret < 0 ? ret : qcow2_tree_update(bs, s->l1, s->l1_size, 0);
    ret = ret < 0 ? ret : qcow2_write_active_l1(bs);
    ret = ret < 0 ? ret : qcow2_flush_metadata(bs);
    qcow2_snapshot_clear(&sn);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to free the snapshot's clusters");
    }
    return ret;
}

/* Run op under the lock, as a coroutine. */
static int coroutine_fn qcow2_co_snapshot_locked(BlockDriverState *bs, void *opaque,
                                                 Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2SnapshotOp *op = opaque;
    int ret;

    qemu_co_mutex_lock(&s->lock);
    if (s->corrupt || !s->rw) {
        ret = s->corrupt ? -EIO : -EACCES;
        error_setg_errno(errp, -ret, "Image is %s", s->corrupt ? "corrupt" : "read-only");
    } else if (op->kind == QCOW2_SN_CREATE) {
        ret = qcow2_co_snapshot_create(bs, op, errp);
    } else if (op->kind == QCOW2_SN_DELETE) {
        ret = qcow2_co_snapshot_delete(bs, op, errp);
    } else {
        ret = qcow2_co_snapshot_goto(bs, op, errp);
    }
    qemu_co_mutex_unlock(&s->lock);
    return ret;
}

int qcow2_snapshot_create(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp)
{
    Qcow2SnapshotOp op = { .kind = QCOW2_SN_CREATE, .sn = sn };

    return qcow2_run_co(qcow2_co_snapshot_locked, bs, &op, errp);
}

int qcow2_snapshot_goto(BlockDriverState *bs, const char *id_or_name)
{
    Qcow2SnapshotOp op = { .kind = QCOW2_SN_GOTO, .id = id_or_name };
    Error *err = NULL;
    int ret = qcow2_run_co(qcow2_co_snapshot_locked, bs, &op, &err);

    error_free(err);
    return ret;
}

int qcow2_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                          Error **errp)
{
    Qcow2SnapshotOp op = { .kind = QCOW2_SN_DELETE, .id = id, .name = name };

    return qcow2_run_co(qcow2_co_snapshot_locked, bs, &op, errp);
}

int qcow2_snapshot_list(BlockDriverState *bs, QEMUSnapshotInfo **list)
{
    BDRVQcow2State *s = bs->opaque;
    QEMUSnapshotInfo *l = g_new0(QEMUSnapshotInfo, MAX(s->nb_snapshots, 1));

    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        g_strlcpy(l[i].id_str, sn->id_str, sizeof(l[i].id_str));
        g_strlcpy(l[i].name, sn->name, sizeof(l[i].name));
        l[i].vm_state_size = sn->vm_state_size;
        l[i].date_sec = sn->date_sec;
        l[i].date_nsec = sn->date_nsec;
        l[i].vm_clock_nsec = sn->vm_clock_nsec;
        l[i].icount = sn->extra_data_size >= 24 ? get_be(sn->extra_data + 16, 8) : UINT64_MAX;
    }
    *list = l;
    return s->nb_snapshots;
}
