/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * snapshot.c: the internal snapshot table, read at open so that snapshots are
 * listed, checked and preserved (their clusters have refcounts > 1, which makes
 * the write path copy instead of overwriting). Creating, applying and deleting
 * snapshots is not implemented.
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

    if (!s->h.nb_snapshots) {
        return 0;
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
