/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * bitmap.c: persistent dirty bitmaps in the qcow2 bitmaps extension
 * (docs/interop/qcow2.txt, "Bitmaps extension"), all big-endian:
 *
 *   header extension 0x23852875, 24 bytes:
 *      0 nb_bitmaps (1..65535)   4 reserved (0)
 *      8 bitmap_directory_size   16 bitmap_directory_offset (cluster aligned)
 *
 *   directory entry (padded to a multiple of 8):
 *      0 bitmap_table_offset     8 bitmap_table_size (entries)
 *     12 flags: bit 0 in_use, bit 1 auto, bit 2 extra_data_compatible
 *     16 type (1 = dirty tracking)  17 granularity_bits  18 name_size (be16)
 *     20 extra_data_size         24 extra data, then the name (no NUL)
 *
 *   bitmap table entry: bits 9..55 host offset of a data cluster; offset 0 means
 *   "not allocated" and bit 0 then says all zeroes (0) or all ones (1).
 *
 *   data cluster i holds bits [i * cluster_size * 8, (i + 1) * cluster_size * 8)
 *   of the bitmap, bit j at bit (j % 8) of byte (j / 8); tail bits are zero.
 *
 * Autoclear bit 0 says the extension is consistent; a writer without bitmap
 * support clears it, and we then treat the bitmaps as gone.
 *
 * Life cycle: open reads the directory (load_tables, so that a repair of a dirty
 * image counts the bitmap clusters), then loads every bitmap into a
 * BdrvDirtyBitmap; a read-write open sets in_use on disk at once. Close writes
 * every persistent bitmap to new clusters, a new directory with in_use clear,
 * points the header at it, then frees the old clusters. A bitmap found in_use
 * was not saved: it comes back inconsistent and its entry is kept as it is until
 * it is removed. s->bitmaps always mirrors the directory on disk.
 *
 * Every coroutine_fn here expects BDRVQcow2State.lock held.
 */
#include "qcow2.h"
#include "block/dirty-bitmap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#define BME_EXT_LEN             24
#define BME_ENTRY_HDR           24
#define BME_FLAG_IN_USE         (1u << 0)
#define BME_FLAG_AUTO           (1u << 1)
#define BME_FLAG_EXTRA_COMPAT   (1u << 2)
#define BME_FLAGS_KNOWN         0x7u
#define BME_TYPE_DIRTY          1
#define BME_MIN_GRAN_BITS       9
#define BME_MAX_GRAN_BITS       31
#define BME_MAX_NAME            1023
#define BME_MAX_BITMAPS         65535
#define BME_MAX_DIR_SIZE        (64 * MiB)
#define BME_MAX_TABLE_SIZE      0x8000000u
#define BME_TABLE_RESERVED      UINT64_C(0xff000000000001fe)

static inline uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t rd64(const uint8_t *p)
{
    return ((uint64_t)rd32(p) << 32) | rd32(p + 4);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static inline void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, v >> 32);
    wr32(p + 4, v);
}

static size_t qcow2_bitmap_entry_len(const Qcow2Bitmap *b)
{
    return ROUND_UP(BME_ENTRY_HDR + (size_t)b->extra_data_size + strlen(b->name), 8);
}

void qcow2_bitmap_list_free(Qcow2Bitmap *list, int nb)
{
    for (int i = 0; i < nb; i++) {
        g_free(list[i].name);
        g_free(list[i].extra_data);
    }
    g_free(list);
}

/* ---- pure: extension and directory ---- */

bool qcow2_bitmap_ext_parse(const uint8_t *data, size_t len, Qcow2BitmapExt *ext,
                            Error **errp)
{
    if (len != BME_EXT_LEN) {
        error_setg(errp, "bitmaps_ext: Invalid extension length");
        return false;
    }
    ext->nb_bitmaps = rd32(data);
    ext->dir_size = rd64(data + 8);
    ext->dir_offset = rd64(data + 16);
    if (rd32(data + 4)) {
        error_setg(errp, "bitmaps_ext: Reserved field is not zero");
        return false;
    }
    if (ext->nb_bitmaps == 0) {
        error_setg(errp, "found bitmaps extension with zero bitmaps");
        return false;
    }
    if (ext->nb_bitmaps > BME_MAX_BITMAPS) {
        error_setg(errp, "bitmaps_ext: Image has %" PRIu32 " bitmaps, exceeding the "
                   "QEMU supported maximum of %d", ext->nb_bitmaps, BME_MAX_BITMAPS);
        return false;
    }
    if (ext->dir_size > BME_MAX_DIR_SIZE ||
        ext->dir_size < (uint64_t)ext->nb_bitmaps * BME_ENTRY_HDR) {
        error_setg(errp, "bitmaps_ext: Invalid bitmap directory size %" PRIu64, ext->dir_size);
        return false;
    }
    return true;
}

int qcow2_bitmap_dir_parse(const uint8_t *buf, size_t len, uint32_t nb, Qcow2Bitmap **out,
                           Error **errp)
{
    Qcow2Bitmap *list = g_new0(Qcow2Bitmap, MAX(nb, 1u));
    size_t off = 0;
    uint32_t i;

    for (i = 0; i < nb; i++) {
        Qcow2Bitmap *b = &list[i];
        if (len - off < BME_ENTRY_HDR) {
            error_setg(errp, "Bitmap directory is truncated");
            goto fail;
        }
        const uint8_t *e = buf + off;
        uint32_t name_size = ((uint32_t)e[18] << 8) | e[19];
        b->table_offset = rd64(e);
        b->table_size = rd32(e + 8);
        b->flags = rd32(e + 12);
        b->type = e[16];
        b->granularity_bits = e[17];
        b->extra_data_size = rd32(e + 20);
        if (name_size == 0 || name_size > BME_MAX_NAME) {
            error_setg(errp, "Bitmap directory entry %" PRIu32 " has an invalid name size",
                       i);
            goto fail;
        }
        if ((uint64_t)b->extra_data_size + name_size > len - off - BME_ENTRY_HDR) {
            error_setg(errp, "Bitmap directory entry %" PRIu32 " is truncated", i);
            goto fail;
        }
        if (b->flags & ~BME_FLAGS_KNOWN) {
            error_setg(errp, "Bitmap directory entry %" PRIu32 " has reserved flags set", i);
            goto fail;
        }
        if (b->table_offset & 511) {
            error_setg(errp, "Bitmap directory entry %" PRIu32 " has an unaligned table", i);
            goto fail;
        }
        b->extra_data = b->extra_data_size ?
                        g_memdup2(e + BME_ENTRY_HDR, b->extra_data_size) : NULL;
        b->name = g_strndup((const char *)e + BME_ENTRY_HDR + b->extra_data_size, name_size);
        if (strlen(b->name) != name_size) {
            error_setg(errp, "Bitmap directory entry %" PRIu32 " has a NUL in its name", i);
            i++;
            goto fail;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (!strcmp(list[j].name, b->name)) {
                error_setg(errp, "Bitmap '%s' is stored twice", b->name);
                i++;
                goto fail;
            }
        }
        off += qcow2_bitmap_entry_len(b);
        if (off > len) {
            off = len;
        }
    }
    *out = list;
    return nb;

fail:
    qcow2_bitmap_list_free(list, i + 1 > nb ? nb : i + 1);
    return -EINVAL;
}

uint8_t *qcow2_bitmap_dir_serialize(const Qcow2Bitmap *list, int nb, uint64_t *len)
{
    uint64_t total = 0;

    for (int i = 0; i < nb; i++) {
        total += qcow2_bitmap_entry_len(&list[i]);
    }
    uint8_t *buf = g_malloc0(MAX(total, 1));
    uint64_t off = 0;
    for (int i = 0; i < nb; i++) {
        const Qcow2Bitmap *b = &list[i];
        uint8_t *e = buf + off;
        size_t name_size = strlen(b->name);
        wr64(e, b->table_offset);
        wr32(e + 8, b->table_size);
        wr32(e + 12, b->flags);
        e[16] = b->type;
        e[17] = b->granularity_bits;
        e[18] = name_size >> 8;
        e[19] = name_size;
        wr32(e + 20, b->extra_data_size);
        if (b->extra_data_size) {
            memcpy(e + BME_ENTRY_HDR, b->extra_data, b->extra_data_size);
        }
        memcpy(e + BME_ENTRY_HDR + b->extra_data_size, b->name, name_size);
        off += qcow2_bitmap_entry_len(b);
    }
    *len = total;
    return buf;
}

uint64_t qcow2_bitmap_table_entries(uint64_t disk_size, uint32_t granularity_bits,
                                    uint32_t cluster_bits)
{
    uint64_t bits = DIV_ROUND_UP(disk_size, 1ULL << granularity_bits);
    return DIV_ROUND_UP(bits, (uint64_t)8 << cluster_bits);
}

/* Can we load (and rewrite) this entry, or must it stay as it is? */
static bool qcow2_bitmap_supported(const Qcow2Bitmap *b)
{
    return b->type == BME_TYPE_DIRTY &&
           b->granularity_bits >= BME_MIN_GRAN_BITS && b->granularity_bits <= BME_MAX_GRAN_BITS &&
           (!b->extra_data_size || (b->flags & BME_FLAG_EXTRA_COMPAT));
}

/* ---- header extension in s->exts.others ---- */

/* Make the header's bitmaps extension and autoclear bit describe s->bitmaps. */
static void qcow2_bitmaps_update_ext(BDRVQcow2State *s)
{
    Qcow2HeaderExts *x = &s->exts;
    int i;

    for (i = 0; i < x->nb_others && x->others[i].magic != QCOW2_EXT_BITMAPS; i++) {
    }
    if (!s->nb_bitmaps) {
        if (i < x->nb_others) {
            g_free(x->others[i].data);
            memmove(&x->others[i], &x->others[i + 1],
                    (x->nb_others - i - 1) * sizeof(Qcow2Ext));
            x->nb_others--;
        }
        s->h.autoclear_features &= ~(uint64_t)QCOW2_AUTOCLEAR_BITMAPS;
        return;
    }
    if (i == x->nb_others) {
        x->others = g_renew(Qcow2Ext, x->others, x->nb_others + 1);
        x->others[i] = (Qcow2Ext){ .magic = QCOW2_EXT_BITMAPS, .len = BME_EXT_LEN,
                                   .data = g_malloc0(BME_EXT_LEN) };
        x->nb_others++;
    }
    Qcow2Ext *e = &x->others[i];
    if (e->len != BME_EXT_LEN) {
        g_free(e->data);
        e->data = g_malloc0(BME_EXT_LEN);
        e->len = BME_EXT_LEN;
    }
    wr32(e->data, s->nb_bitmaps);
    wr32(e->data + 4, 0);
    wr64(e->data + 8, s->bitmap_dir_size);
    wr64(e->data + 16, s->bitmap_dir_offset);
    s->h.autoclear_features |= QCOW2_AUTOCLEAR_BITMAPS;
}

/* Queue the freeing of a bitmap's table and data clusters. */
static int coroutine_fn qcow2_bitmap_free_clusters(BlockDriverState *bs, const Qcow2Bitmap *b)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t bytes = (uint64_t)b->table_size * 8;

    if (!b->table_offset || !bytes) {
        return 0;
    }
    g_autofree uint64_t *t = g_try_malloc(bytes);
    if (!t) {
        return -ENOMEM;
    }
    int ret = bdrv_co_pread(bs->file, b->table_offset, bytes, t, 0);
    if (ret < 0) {
        return ret;
    }
    for (uint32_t i = 0; i < b->table_size; i++) {
        uint64_t off = GUINT64_FROM_BE(t[i]) & QCOW2_L1E_OFFSET_MASK;
        if (off && !(off & s->cluster_mask)) {
            qcow2_free_deferred(bs, off, s->cluster_size, false);
        }
    }
    qcow2_free_deferred(bs, b->table_offset, ROUND_UP(bytes, s->cluster_size), false);
    return 0;
}

/*
 * Replace the directory on disk by list (taken over): new clusters, then the
 * header, then the old directory is freed. The caller frees what the dropped
 * entries used.
 */
static int coroutine_fn qcow2_bitmaps_write_dir(BlockDriverState *bs, Qcow2Bitmap *list,
                                                int nb)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t old_off = s->bitmap_dir_offset, old_size = s->bitmap_dir_size, len = 0;
    int64_t off = 0;
    int ret;

    g_autofree uint8_t *buf = qcow2_bitmap_dir_serialize(list, nb, &len);
    if (nb) {
        off = qcow2_alloc_clusters(bs, DIV_ROUND_UP(len, s->cluster_size));
        if (off < 0) {
            qcow2_bitmap_list_free(list, nb);
            return off;
        }
        g_autofree uint8_t *pad = g_malloc0(ROUND_UP(len, s->cluster_size));
        memcpy(pad, buf, len);
        ret = qcow2_pre_write_check(bs, 0, off, ROUND_UP(len, s->cluster_size));
        ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, off, ROUND_UP(len, s->cluster_size),
                                             pad, 0);
        /* the directory and everything it points to must be on disk first */
        ret = ret < 0 ? ret : qcow2_refcount_sync(bs);
        ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
        if (ret < 0) {
            qcow2_bitmap_list_free(list, nb);
            return ret;
        }
    }
    qcow2_bitmap_list_free(s->bitmaps, s->nb_bitmaps);
    s->bitmaps = list;
    s->nb_bitmaps = nb;
    s->bitmap_dir_offset = off;
    s->bitmap_dir_size = len;
    qcow2_bitmaps_update_ext(s);
    ret = qcow2_update_header(bs);
    ret = ret < 0 ? ret : bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        return ret;
    }
    if (old_off && old_size) {
        qcow2_free_deferred(bs, old_off, ROUND_UP(old_size, s->cluster_size), false);
    }
    return 0;
}

static Qcow2Bitmap *qcow2_bitmap_list_copy(const Qcow2Bitmap *list, int nb, int extra)
{
    Qcow2Bitmap *c = g_new0(Qcow2Bitmap, nb + extra + 1);

    for (int i = 0; i < nb; i++) {
        c[i] = list[i];
        c[i].name = g_strdup(list[i].name);
        c[i].extra_data = list[i].extra_data_size ?
                          g_memdup2(list[i].extra_data, list[i].extra_data_size) : NULL;
    }
    return c;
}

/* ---- open ---- */

int coroutine_fn qcow2_bitmaps_read_dir(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    const Qcow2Ext *ext = NULL;
    Qcow2BitmapExt be;

    for (int i = 0; i < s->exts.nb_others; i++) {
        if (s->exts.others[i].magic == QCOW2_EXT_BITMAPS) {
            ext = &s->exts.others[i];
        }
    }
    if (!ext) {
        return 0;
    }
    if (s->version < 3 || !(s->h.autoclear_features & QCOW2_AUTOCLEAR_BITMAPS)) {
        if (s->version >= 3) {
            warn_report("a program lacking bitmap support modified this file, so all "
                        "bitmaps are now considered inconsistent");
        }
        /* not ours to trust: forget it (the next header update drops it) */
        s->nb_bitmaps = 0;
        s->bitmap_dir_offset = s->bitmap_dir_size = 0;
        qcow2_bitmaps_update_ext(s);
        return 0;
    }
    if (!qcow2_bitmap_ext_parse(ext->data, ext->len, &be, errp)) {
        return -EINVAL;
    }
    if (be.dir_offset & s->cluster_mask) {
        error_setg(errp, "bitmaps_ext: invalid bitmap directory offset");
        return -EINVAL;
    }
    g_autofree uint8_t *buf = g_try_malloc(be.dir_size);
    if (!buf) {
        error_setg(errp, "Could not allocate the bitmap directory");
        return -ENOMEM;
    }
    int ret = bdrv_co_pread(bs->file, be.dir_offset, be.dir_size, buf, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the bitmap directory");
        return ret;
    }
    ret = qcow2_bitmap_dir_parse(buf, be.dir_size, be.nb_bitmaps, &s->bitmaps, errp);
    if (ret < 0) {
        return ret;
    }
    s->nb_bitmaps = ret;
    s->bitmap_dir_offset = be.dir_offset;
    s->bitmap_dir_size = be.dir_size;
    return 0;
}

/* Fill bm from the bitmap table and data clusters of b. */
static int coroutine_fn qcow2_bitmap_load_data(BlockDriverState *bs, const Qcow2Bitmap *b,
                                               BdrvDirtyBitmap *bm)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t size = bdrv_dirty_bitmap_size(bm);
    uint64_t per = ((uint64_t)s->cluster_size * 8) << b->granularity_bits;
    g_autofree uint64_t *t = g_try_new(uint64_t, MAX(b->table_size, 1u));
    g_autofree uint8_t *buf = g_malloc(s->cluster_size);

    if (!t) {
        return -ENOMEM;
    }
    int ret = bdrv_co_pread(bs->file, b->table_offset, (uint64_t)b->table_size * 8, t, 0);
    if (ret < 0) {
        return ret;
    }
    for (uint32_t i = 0; i < b->table_size; i++) {
        uint64_t e = GUINT64_FROM_BE(t[i]), off = e & QCOW2_L1E_OFFSET_MASK;
        uint64_t start = i * per, bytes = MIN(per, size - start);
        if ((e & BME_TABLE_RESERVED) || (off && (e & 1)) || (off & s->cluster_mask)) {
            return -EINVAL;
        }
        if (!off) {
            if (e & 1) {
                bdrv_dirty_bitmap_deserialize_ones(bm, start, bytes, false);
            } else {
                bdrv_dirty_bitmap_deserialize_zeroes(bm, start, bytes, false);
            }
            continue;
        }
        ret = bdrv_co_pread(bs->file, off, s->cluster_size, buf, 0);
        if (ret < 0) {
            return ret;
        }
        bdrv_dirty_bitmap_deserialize_part(bm, buf, start, bytes, false);
    }
    bdrv_dirty_bitmap_deserialize_finish(bm);
    return 0;
}

int coroutine_fn qcow2_bitmaps_load(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    bool mark = false;

    s->bitmaps_loaded = true;
    for (int i = 0; i < s->nb_bitmaps; i++) {
        Qcow2Bitmap *b = &s->bitmaps[i];
        if (!qcow2_bitmap_supported(b)) {
            warn_report("Bitmap '%s' has an unsupported type, granularity or extra data; "
                        "it is kept but not used", b->name);
            continue;
        }
        BdrvDirtyBitmap *bm = bdrv_create_dirty_bitmap(bs, 1u << b->granularity_bits,
                                                       b->name, errp);
        if (!bm) {
            return -EINVAL;
        }
        bdrv_dirty_bitmap_set_persistence(bm, true);
        if (!(b->flags & BME_FLAG_AUTO)) {
            bdrv_disable_dirty_bitmap(bm);
        }
        bool sane = b->table_size == qcow2_bitmap_table_entries(s->h.size, b->granularity_bits,
                                                                s->cluster_bits) &&
                    b->table_offset && !(b->table_offset & s->cluster_mask);
        if ((b->flags & BME_FLAG_IN_USE) || !sane) {
            bdrv_dirty_bitmap_set_inconsistent(bm);
        } else {
            int ret = qcow2_bitmap_load_data(bs, b, bm);
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Could not read bitmap '%s' from image",
                                 b->name);
                return ret;
            }
            if (s->rw) {
                b->flags |= BME_FLAG_IN_USE;
                mark = true;
            }
        }
        if (!s->rw) {
            bdrv_dirty_bitmap_set_readonly(bm, true);
        }
    }
    if (!mark) {
        return 0;
    }
    /* from now on the copies on disk are stale until we store them */
    int ret = qcow2_bitmaps_write_dir(bs, qcow2_bitmap_list_copy(s->bitmaps, s->nb_bitmaps, 0),
                                      s->nb_bitmaps);
    ret = ret < 0 ? ret : qcow2_flush_metadata(bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not mark bitmaps in use");
    }
    return ret;
}

/* ---- store ---- */

/* Write bm's data and table to new clusters; fills b (name etc. set by the caller). */
static int coroutine_fn qcow2_bitmap_write_data(BlockDriverState *bs, BdrvDirtyBitmap *bm,
                                                Qcow2Bitmap *b)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t size = bdrv_dirty_bitmap_size(bm);
    uint32_t gbits = __builtin_ctz(bdrv_dirty_bitmap_granularity(bm));
    uint64_t per = ((uint64_t)s->cluster_size * 8) << gbits;
    uint64_t n = qcow2_bitmap_table_entries(size, gbits, s->cluster_bits);
    g_autofree uint64_t *t = g_new0(uint64_t, MAX(n, 1));
    g_autofree uint8_t *buf = g_malloc(s->cluster_size);
    g_autofree uint8_t *tbuf = NULL;
    int ret = 0;

    for (uint64_t i = 0; i < n; i++) {
        uint64_t start = i * per, bytes = MIN(per, size - start);
        if (bdrv_dirty_bitmap_next_dirty(bm, start, bytes) < 0) {
            continue;                                       /* all zeroes */
        }
        if (bytes == per && bdrv_dirty_bitmap_next_zero(bm, start, bytes) < 0) {
            t[i] = GUINT64_TO_BE(1);                        /* all ones */
            continue;
        }
        memset(buf, 0, s->cluster_size);
        bdrv_dirty_bitmap_serialize_part(bm, buf, start, bytes);
        int64_t off = qcow2_alloc_clusters(bs, 1);
        if (off < 0) {
            ret = off;
            goto fail;
        }
        t[i] = GUINT64_TO_BE(off);
        ret = qcow2_pre_write_check(bs, 0, off, s->cluster_size);
        ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, off, s->cluster_size, buf, 0);
        if (ret < 0) {
            goto fail;
        }
    }
    uint64_t tbytes = ROUND_UP(n * 8, s->cluster_size);
    int64_t toff = qcow2_alloc_clusters(bs, tbytes >> s->cluster_bits);
    if (toff < 0) {
        ret = toff;
        goto fail;
    }
    tbuf = g_malloc0(tbytes);
    memcpy(tbuf, t, n * 8);
    ret = qcow2_pre_write_check(bs, 0, toff, tbytes);
    ret = ret < 0 ? ret : bdrv_co_pwrite(bs->file, toff, tbytes, tbuf, 0);
    if (ret < 0) {
        qcow2_free_deferred(bs, toff, tbytes, false);
        goto fail;
    }
    b->table_offset = toff;
    b->table_size = n;
    b->type = BME_TYPE_DIRTY;
    b->granularity_bits = gbits;
    b->flags = (b->flags & BME_FLAG_EXTRA_COMPAT) |
               (bdrv_dirty_bitmap_enabled(bm) ? BME_FLAG_AUTO : 0);
    return 0;

fail:
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = GUINT64_FROM_BE(t[i]) & QCOW2_L1E_OFFSET_MASK;
        if (off) {
            qcow2_free_deferred(bs, off, s->cluster_size, false);
        }
    }
    return ret;
}

static bool qcow2_bitmap_storable(BdrvDirtyBitmap *bm)
{
    return bdrv_dirty_bitmap_name(bm) && bdrv_dirty_bitmap_get_persistence(bm) &&
           !bdrv_dirty_bitmap_inconsistent(bm);
}

int coroutine_fn qcow2_bitmaps_store(BlockDriverState *bs, bool in_use)
{
    BDRVQcow2State *s = bs->opaque;
    int nb_new = 0, nb_old = s->nb_bitmaps, ret = 0;

    for (BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(bs); bm; bm = bdrv_dirty_bitmap_next(bm)) {
        nb_new += qcow2_bitmap_storable(bm);
    }
    if ((!nb_new && !nb_old) || !s->bitmaps_loaded) {
        return 0;                       /* e.g. opened for check: the file is the truth */
    }
    if (s->version < 3 || !s->rw) {
        return nb_new ? -ENOTSUP : 0;
    }
    Qcow2Bitmap *list = g_new0(Qcow2Bitmap, nb_old + nb_new + 1);
    bool *drop = g_new0(bool, nb_old + 1);
    int nb = 0;

    /* entries we keep as they are: unsupported ones and inconsistent bitmaps */
    for (int i = 0; i < nb_old; i++) {
        Qcow2Bitmap *b = &s->bitmaps[i];
        BdrvDirtyBitmap *bm = bdrv_find_dirty_bitmap(bs, b->name);
        bool keep = !qcow2_bitmap_supported(b) ||
                    (bm && bdrv_dirty_bitmap_get_persistence(bm) &&
                     bdrv_dirty_bitmap_inconsistent(bm));
        if (keep) {
            list[nb] = *b;
            list[nb].name = g_strdup(b->name);
            list[nb].extra_data = b->extra_data_size ?
                                  g_memdup2(b->extra_data, b->extra_data_size) : NULL;
            nb++;
        } else {
            drop[i] = true;
        }
    }
    for (BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(bs); bm && ret == 0;
         bm = bdrv_dirty_bitmap_next(bm)) {
        if (!qcow2_bitmap_storable(bm)) {
            continue;
        }
        Qcow2Bitmap *b = &list[nb];
        b->name = g_strdup(bdrv_dirty_bitmap_name(bm));
        for (int i = 0; i < nb_old; i++) {
            if (!strcmp(s->bitmaps[i].name, b->name) && s->bitmaps[i].extra_data_size) {
                b->flags = BME_FLAG_EXTRA_COMPAT;
                b->extra_data_size = s->bitmaps[i].extra_data_size;
                b->extra_data = g_memdup2(s->bitmaps[i].extra_data, b->extra_data_size);
            }
        }
        nb++;
        ret = qcow2_bitmap_write_data(bs, bm, b);
        if (in_use) {
            b->flags |= BME_FLAG_IN_USE;
        }
    }
    if (ret < 0) {
        qcow2_bitmap_list_free(list, nb);
        g_free(drop);
        return ret;
    }
    /* the old copies, freed once the new directory is on disk */
    g_autofree Qcow2Bitmap *old = qcow2_bitmap_list_copy(s->bitmaps, nb_old, 0);
    ret = qcow2_bitmaps_write_dir(bs, list, nb);
    for (int i = 0; i < nb_old; i++) {
        if (ret == 0 && drop[i]) {
            qcow2_bitmap_free_clusters(bs, &old[i]);
        }
        g_free(old[i].name);
        g_free(old[i].extra_data);
    }
    g_free(drop);
    return ret < 0 ? ret : qcow2_flush_metadata(bs);
}

/* ---- driver callbacks (contracts in block-int.h) ---- */

bool qcow2_bitmap_can_store(BlockDriverState *bs, const char *name, uint32_t granularity,
                            Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int count = 0;

    if (s->version < 3) {
        error_setg(errp, "Cannot store dirty bitmaps in qcow2 v2 files");
        return false;
    }
    /* a read-only image is refused at close ("Lost persistent bitmaps ..."), as QEMU */
    if (granularity < (1u << BME_MIN_GRAN_BITS) || (granularity & (granularity - 1))) {
        error_setg(errp, "Granularity is under minimum (%u bytes)", 1u << BME_MIN_GRAN_BITS);
        return false;
    }
    if (strlen(name) > BME_MAX_NAME) {
        error_setg(errp, "Name length exceeds maximum (%u characters)", BME_MAX_NAME);
        return false;
    }
    for (int i = 0; i < s->nb_bitmaps; i++) {
        if (!strcmp(s->bitmaps[i].name, name)) {
            error_setg(errp, "Bitmap with the same name is already stored");
            return false;
        }
    }
    for (BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(bs); bm; bm = bdrv_dirty_bitmap_next(bm)) {
        count += bdrv_dirty_bitmap_name(bm) && bdrv_dirty_bitmap_get_persistence(bm);
    }
    if (MAX(count, s->nb_bitmaps) >= BME_MAX_BITMAPS) {
        error_setg(errp, "Maximum number of persistent bitmaps is already reached");
        return false;
    }
    uint64_t n = qcow2_bitmap_table_entries(s->h.size, __builtin_ctz(granularity), s->cluster_bits);
    if (n > BME_MAX_TABLE_SIZE) {
        error_setg(errp, "Too large bitmap for granularity %" PRIu32 " bytes", granularity);
        return false;
    }
    return true;
}

typedef struct Qcow2BitmapRemove {
    const char *name;
} Qcow2BitmapRemove;

static int coroutine_fn qcow2_co_bitmap_remove(BlockDriverState *bs, void *opaque,
                                               Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2BitmapRemove *r = opaque;
    int idx = -1, ret;

    qemu_co_mutex_lock(&s->lock);
    for (int i = 0; i < s->nb_bitmaps; i++) {
        if (!strcmp(s->bitmaps[i].name, r->name)) {
            idx = i;
        }
    }
    if (idx < 0) {
        qemu_co_mutex_unlock(&s->lock);
        return 0;                       /* never stored: nothing to do on disk */
    }
    Qcow2Bitmap gone = s->bitmaps[idx];
    gone.name = g_strdup(gone.name);
    gone.extra_data = NULL;
    Qcow2Bitmap *list = qcow2_bitmap_list_copy(s->bitmaps, s->nb_bitmaps, 0);
    g_free(list[idx].name);
    g_free(list[idx].extra_data);
    memmove(&list[idx], &list[idx + 1], (s->nb_bitmaps - idx - 1) * sizeof(*list));
    ret = qcow2_bitmaps_write_dir(bs, list, s->nb_bitmaps - 1);
    ret = ret < 0 ? ret : qcow2_bitmap_free_clusters(bs, &gone);
    ret = ret < 0 ? ret : qcow2_flush_metadata(bs);
    g_free(gone.name);
    qemu_co_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to remove bitmap '%s' from image", r->name);
    }
    return ret;
}

bool qcow2_bitmap_remove_persistent(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2BitmapRemove r = { .name = name };

    if (!s->rw) {
        bool stored = false;
        for (int i = 0; i < s->nb_bitmaps; i++) {
            stored |= !strcmp(s->bitmaps[i].name, name);
        }
        if (stored) {
            error_setg(errp, "Cannot remove bitmap '%s' from a read-only image", name);
        }
        return !stored;
    }
    return qcow2_run_co(qcow2_co_bitmap_remove, bs, &r, errp) >= 0;
}

/* A read-only node: persistent bitmaps that are not (as such) in the file? */
bool qcow2_has_new_persistent_bitmaps(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;

    for (BdrvDirtyBitmap *bm = bdrv_dirty_bitmap_first(bs); bm; bm = bdrv_dirty_bitmap_next(bm)) {
        if (!bdrv_dirty_bitmap_name(bm) || !bdrv_dirty_bitmap_get_persistence(bm) ||
            bdrv_dirty_bitmap_readonly(bm)) {
            continue;
        }
        bool stored = false;
        for (int i = 0; i < s->nb_bitmaps; i++) {
            stored |= !strcmp(s->bitmaps[i].name, bdrv_dirty_bitmap_name(bm));
        }
        if (!stored) {
            return true;
        }
    }
    return false;
}

/* ---- users of the directory ---- */

int coroutine_fn qcow2_bitmaps_for_each_cluster(BlockDriverState *bs,
                                                void (*fn)(void *opaque, uint64_t offset,
                                                           uint64_t bytes),
                                                void *opaque)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    if (!s->nb_bitmaps) {
        return 0;
    }
    fn(opaque, s->bitmap_dir_offset, s->bitmap_dir_size);
    for (int i = 0; i < s->nb_bitmaps; i++) {
        const Qcow2Bitmap *b = &s->bitmaps[i];
        uint64_t bytes = (uint64_t)b->table_size * 8;
        if (!b->table_offset || !bytes || (b->table_offset & s->cluster_mask)) {
            continue;
        }
        fn(opaque, b->table_offset, bytes);
        g_autofree uint64_t *t = g_try_malloc(bytes);
        if (!t || bdrv_co_pread(bs->file, b->table_offset, bytes, t, 0) < 0) {
            ret = -EIO;
            continue;
        }
        for (uint32_t j = 0; j < b->table_size; j++) {
            uint64_t off = GUINT64_FROM_BE(t[j]) & QCOW2_L1E_OFFSET_MASK;
            if (off) {
                fn(opaque, off, s->cluster_size);
            }
        }
    }
    return ret;
}

QList *qcow2_bitmaps_info(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    QList *l = qlist_new();

    for (int i = 0; i < s->nb_bitmaps; i++) {
        const Qcow2Bitmap *b = &s->bitmaps[i];
        QDict *d = qdict_new();
        QList *flags = qlist_new();
        if (b->flags & BME_FLAG_IN_USE) {
            qlist_append_str(flags, "in-use");
        }
        if (b->flags & BME_FLAG_AUTO) {
            qlist_append_str(flags, "auto");
        }
        qdict_put_obj(d, "flags", QOBJECT(flags));
        qdict_put_str(d, "name", b->name);
        qdict_put_int(d, "granularity", (int64_t)1 << b->granularity_bits);
        qlist_append(l, d);
    }
    return l;
}

uint64_t qcow2_bitmap_measure(uint64_t disk_size, uint32_t granularity, uint32_t cluster_bits)
{
    uint64_t entries = qcow2_bitmap_table_entries(disk_size, __builtin_ctz(granularity), cluster_bits);

    /* every data cluster allocated, plus the table */
    return (entries << cluster_bits) + ROUND_UP(entries * 8, 1ULL << cluster_bits);
}
