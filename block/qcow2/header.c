/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * header.c: the qcow2 header cluster, parsed, validated and written back, plus the
 * pure entry arithmetic (refcount block entries, L2 descriptors). No I/O here, so
 * unit tests and the fuzzer call these directly.
 *
 * Header (big-endian; v2 ends at 72, v3 at header_length >= 104):
 *
 *    0 magic "QFI\xfb"       4 version (2|3)          8 backing_file_offset
 *   16 backing_file_size    20 cluster_bits          24 size (guest bytes)
 *   32 crypt_method         36 l1_size (entries)     40 l1_table_offset
 *   48 refcount_table_offset                         56 refcount_table_clusters
 *   60 nb_snapshots         64 snapshots_offset
 *   72 incompatible_features  80 compatible_features  88 autoclear_features
 *   96 refcount_order      100 header_length        104 compression_type (1 byte)
 *
 * Then extensions until an END (type 0): be32 type, be32 length, data padded to
 * 8 bytes. We write: backing format, feature name table (v3), preserved ones
 * (bitmaps, unknown), END, then the backing file name (not NUL-terminated).
 *
 * Compressed L2 descriptor, x = 62 - (cluster_bits - 8):
 *   bits 0..x-1 host byte offset, bits x..61 extra 512-byte sectors, bit 62 set.
 */
#include "qcow2.h"

static inline uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t be64_at(const uint8_t *p)
{
    return ((uint64_t)be32_at(p) << 32) | be32_at(p + 4);
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, v >> 32);
    put_be32(p + 4, v);
}

bool qcow2_header_parse(const uint8_t *buf, size_t len, Qcow2Header *h, Error **errp)
{
    memset(h, 0, sizeof(*h));
    if (len < QCOW2_V2_HEADER_LEN) {
        error_setg(errp, "Image is not in qcow2 format");
        return false;
    }
    h->magic = be32_at(buf);
    h->version = be32_at(buf + 4);
    h->backing_file_offset = be64_at(buf + 8);
    h->backing_file_size = be32_at(buf + 16);
    h->cluster_bits = be32_at(buf + 20);
    h->size = be64_at(buf + 24);
    h->crypt_method = be32_at(buf + 32);
    h->l1_size = be32_at(buf + 36);
    h->l1_table_offset = be64_at(buf + 40);
    h->refcount_table_offset = be64_at(buf + 48);
    h->refcount_table_clusters = be32_at(buf + 56);
    h->nb_snapshots = be32_at(buf + 60);
    h->snapshots_offset = be64_at(buf + 64);
    if (h->magic != QCOW2_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return false;
    }
    if (h->version < 2 || h->version > 3) {
        error_setg(errp, "Unsupported qcow2 version %" PRIu32, h->version);
        return false;
    }
    if (h->version == 2) {
        h->refcount_order = 4;
        h->header_length = QCOW2_V2_HEADER_LEN;
        return true;
    }
    if (len < QCOW2_V3_MIN_HEADER_LEN) {
        error_setg(errp, "qcow2 header too short");
        return false;
    }
    h->incompatible_features = be64_at(buf + 72);
    h->compatible_features = be64_at(buf + 80);
    h->autoclear_features = be64_at(buf + 88);
    h->refcount_order = be32_at(buf + 96);
    h->header_length = be32_at(buf + 100);
    if (h->header_length > QCOW2_V3_MIN_HEADER_LEN && len > QCOW2_V3_MIN_HEADER_LEN) {
        h->compression_type = buf[104];
    }
    return true;
}

bool qcow2_header_validate(const Qcow2Header *h, Error **errp)
{
    if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        error_setg(errp, "Unsupported cluster size: 2^%" PRIu32, h->cluster_bits);
        return false;
    }
    uint64_t cluster_size = 1ULL << h->cluster_bits;
    if (h->version == 3) {
        if (h->header_length < QCOW2_V3_MIN_HEADER_LEN) {
            error_setg(errp, "qcow2 header too short");
            return false;
        }
        if (h->header_length > cluster_size) {
            error_setg(errp, "qcow2 header exceeds cluster size");
            return false;
        }
    }
    if (h->backing_file_offset > cluster_size) {
        error_setg(errp, "Invalid backing file offset");
        return false;
    }
    if (h->refcount_order > 6) {
        error_setg(errp, "Reference count entry width too large; may not exceed 64 bits");
        return false;
    }
    if (h->backing_file_offset &&
        (h->backing_file_size > QCOW2_MAX_BACKING_NAME ||
         h->backing_file_size > cluster_size - h->backing_file_offset)) {
        error_setg(errp, "Backing file name too long");
        return false;
    }
    return true;
}

bool qcow2_validate_table(uint64_t offset, uint64_t entries, size_t entry_len,
                          uint64_t max_bytes, uint32_t cluster_bits, const char *what,
                          Error **errp)
{
    if (entries > max_bytes / entry_len) {
        error_setg(errp, "%s too large", what);
        return false;
    }
    uint64_t bytes = entries * entry_len;
    if ((offset & ((1ULL << cluster_bits) - 1)) || offset > INT64_MAX - bytes) {
        error_setg(errp, "%s offset invalid", what);
        return false;
    }
    return true;
}

static bool qcow2_read_feature_table(const uint8_t *d, uint32_t len, Qcow2HeaderExts *exts,
                                     Error **errp)
{
    if (len % 48) {
        error_setg(errp, "ERROR: ext_feature_table: Invalid extension length");
        return false;
    }
    g_free(exts->features);
    exts->nb_features = len / 48;
    exts->features = g_new0(Qcow2Feature, exts->nb_features);
    for (int i = 0; i < exts->nb_features; i++) {
        const uint8_t *e = d + i * 48;
        exts->features[i].type = e[0];
        exts->features[i].bit = e[1];
        memcpy(exts->features[i].name, e + 2, 46);
    }
    return true;
}

bool qcow2_header_read_exts(const uint8_t *buf, size_t start, size_t end,
                            Qcow2HeaderExts *exts, Error **errp)
{
    size_t off = start;

    memset(exts, 0, sizeof(*exts));
    while (off < end) {
        if (end - off < 8) {
            error_setg(errp, "Header extension too large");
            return false;
        }
        uint32_t magic = be32_at(buf + off), len = be32_at(buf + off + 4);
        off += 8;
        if (len > end - off) {
            error_setg(errp, "Header extension too large");
            return false;
        }
        const uint8_t *d = buf + off;
        switch (magic) {
        case QCOW2_EXT_END:
            return true;
        case QCOW2_EXT_BACKING_FORMAT:
            if (len >= sizeof(exts->backing_format)) {
                error_setg(errp, "ERROR: ext_backing_format: len=%" PRIu32 " too large (>=%zu)",
                           len, sizeof(exts->backing_format));
                return false;
            }
            memcpy(exts->backing_format, d, len);
            exts->backing_format[len] = 0;
            exts->has_backing_format = true;
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            if (!qcow2_read_feature_table(d, len, exts, errp)) {
                return false;
            }
            break;
        case QCOW2_EXT_CRYPTO:
            exts->has_crypto = true;
            break;
        case QCOW2_EXT_DATA_FILE:
            exts->has_data_file = true;
            break;
        default: {      /* bitmaps and unknown extensions are kept as they are */
            exts->others = g_renew(Qcow2Ext, exts->others, exts->nb_others + 1);
            Qcow2Ext *x = &exts->others[exts->nb_others++];
            x->magic = magic;
            x->len = len;
            x->data = g_memdup2(d, len);
            break;
        }
        }
        off += ROUND_UP((uint64_t)len, 8);
    }
    return true;
}

void qcow2_header_exts_clear(Qcow2HeaderExts *exts)
{
    for (int i = 0; i < exts->nb_others; i++) {
        g_free(exts->others[i].data);
    }
    g_free(exts->others);
    g_free(exts->features);
    memset(exts, 0, sizeof(*exts));
}

char *qcow2_unsupported_features(const Qcow2HeaderExts *exts, uint64_t mask)
{
    GString *str = g_string_new("");

    for (int i = 0; i < exts->nb_features && mask; i++) {
        const Qcow2Feature *f = &exts->features[i];
        if (f->type == 0 && f->bit < 64 && (mask & (1ULL << f->bit))) {
            g_string_append_printf(str, "%s%s", str->len ? ", " : "", f->name);
            mask &= ~(1ULL << f->bit);
        }
    }
    if (mask) {
        g_string_append_printf(str, "%sUnknown incompatible feature: %" PRIx64,
                               str->len ? ", " : "", mask);
    }
    return g_string_free(str, false);
}

/* The feature name table QEMU 7.2 writes (8 entries, in this order). */
static const struct { uint8_t type, bit; const char *name; } qcow2_feature_names[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

/* Append one extension at *off; false if it would not fit. */
static bool put_ext(uint8_t *buf, size_t buf_len, size_t *off, uint32_t magic,
                    const void *data, uint32_t len)
{
    size_t need = 8 + ROUND_UP((size_t)len, 8);
    if (*off + need > buf_len) {
        return false;
    }
    put_be32(buf + *off, magic);
    put_be32(buf + *off + 4, len);
    if (len) {
        memcpy(buf + *off + 8, data, len);
    }
    *off += need;
    return true;
}

int qcow2_header_serialize(Qcow2Header *h, const Qcow2HeaderExts *exts,
                           const char *backing_file, uint8_t *buf, size_t buf_len)
{
    size_t off = h->version >= 3 ? QCOW2_V3_HEADER_LEN : QCOW2_V2_HEADER_LEN;

    if (buf_len < off) {
        return -EFBIG;
    }
    memset(buf, 0, buf_len);
    if (h->version >= 3) {
        h->header_length = QCOW2_V3_HEADER_LEN;
    }
    if (exts && exts->has_backing_format && backing_file && *backing_file &&
        !put_ext(buf, buf_len, &off, QCOW2_EXT_BACKING_FORMAT, exts->backing_format,
                 strlen(exts->backing_format))) {
        return -EFBIG;
    }
    /* like qemu-img, only when it leaves room to spare in the header cluster */
    if (h->version >= 3 && off + 8 + ARRAY_SIZE(qcow2_feature_names) * 48 + 8 < buf_len) {
        uint8_t table[ARRAY_SIZE(qcow2_feature_names) * 48] = { 0 };
        for (size_t i = 0; i < ARRAY_SIZE(qcow2_feature_names); i++) {
            table[i * 48] = qcow2_feature_names[i].type;
            table[i * 48 + 1] = qcow2_feature_names[i].bit;
            memcpy(table + i * 48 + 2, qcow2_feature_names[i].name,
                   strlen(qcow2_feature_names[i].name));
        }
        if (!put_ext(buf, buf_len, &off, QCOW2_EXT_FEATURE_TABLE, table, sizeof(table))) {
            return -EFBIG;
        }
    }
    for (int i = 0; exts && i < exts->nb_others; i++) {
        if (!put_ext(buf, buf_len, &off, exts->others[i].magic, exts->others[i].data,
                     exts->others[i].len)) {
            return -EFBIG;
        }
    }
    if (!put_ext(buf, buf_len, &off, QCOW2_EXT_END, NULL, 0)) {
        return -EFBIG;
    }
    h->backing_file_offset = 0;
    h->backing_file_size = 0;
    if (backing_file && *backing_file) {
        size_t n = strlen(backing_file);
        if (n > QCOW2_MAX_BACKING_NAME || off + n > buf_len) {
            return -EFBIG;
        }
        memcpy(buf + off, backing_file, n);
        h->backing_file_offset = off;
        h->backing_file_size = n;
        off += n;
    }

    put_be32(buf, QCOW2_MAGIC);
    put_be32(buf + 4, h->version);
    put_be64(buf + 8, h->backing_file_offset);
    put_be32(buf + 16, h->backing_file_size);
    put_be32(buf + 20, h->cluster_bits);
    put_be64(buf + 24, h->size);
    put_be32(buf + 32, h->crypt_method);
    put_be32(buf + 36, h->l1_size);
    put_be64(buf + 40, h->l1_table_offset);
    put_be64(buf + 48, h->refcount_table_offset);
    put_be32(buf + 56, h->refcount_table_clusters);
    put_be32(buf + 60, h->nb_snapshots);
    put_be64(buf + 64, h->snapshots_offset);
    if (h->version >= 3) {
        put_be64(buf + 72, h->incompatible_features);
        put_be64(buf + 80, h->compatible_features);
        put_be64(buf + 88, h->autoclear_features);
        put_be32(buf + 96, h->refcount_order);
        put_be32(buf + 100, h->header_length);
        buf[104] = h->compression_type;
    }
    return off;
}

uint64_t qcow2_refblock_get(const void *block, uint32_t order, uint64_t index)
{
    const uint8_t *b = block;

    switch (order) {
    case 0: case 1: case 2: {
        uint32_t bits = 1u << order, per_byte = 8 / bits;
        return (b[index / per_byte] >> ((index % per_byte) * bits)) & ((1u << bits) - 1);
    }
    case 3:
        return b[index];
    case 4:
        return ((uint64_t)b[index * 2] << 8) | b[index * 2 + 1];
    case 5:
        return be32_at(b + index * 4);
    default:
        return be64_at(b + index * 8);
    }
}

void qcow2_refblock_set(void *block, uint32_t order, uint64_t index, uint64_t value)
{
    uint8_t *b = block;

    switch (order) {
    case 0: case 1: case 2: {
        uint32_t bits = 1u << order, per_byte = 8 / bits, shift = (index % per_byte) * bits;
        uint8_t mask = ((1u << bits) - 1) << shift;
        b[index / per_byte] = (b[index / per_byte] & ~mask) | ((value << shift) & mask);
        break;
    }
    case 3:
        b[index] = value;
        break;
    case 4:
        b[index * 2] = value >> 8;
        b[index * 2 + 1] = value;
        break;
    case 5:
        put_be32(b + index * 4, value);
        break;
    default:
        put_be64(b + index * 8, value);
        break;
    }
}

Qcow2ClusterType qcow2_l2_entry_type(uint64_t entry, int version)
{
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        return QCOW2_CLUSTER_COMPRESSED;
    }
    bool has_offset = entry & QCOW2_L2E_OFFSET_MASK;
    if (version >= 3 && (entry & QCOW2_OFLAG_ZERO)) {
        return has_offset ? QCOW2_CLUSTER_ZERO_ALLOC : QCOW2_CLUSTER_ZERO_PLAIN;
    }
    return has_offset ? QCOW2_CLUSTER_NORMAL : QCOW2_CLUSTER_UNALLOCATED;
}

void qcow2_compressed_location(uint64_t entry, uint32_t cluster_bits, uint64_t *host,
                               uint64_t *bytes)
{
    uint32_t x = 62 - (cluster_bits - 8);
    uint64_t sectors = ((entry >> x) & ((1ULL << (cluster_bits - 8)) - 1)) + 1;

    *host = entry & ((1ULL << x) - 1);
    *bytes = sectors * QCOW2_COMPRESSED_SECTOR - (*host & (QCOW2_COMPRESSED_SECTOR - 1));
}

uint64_t qcow2_compressed_entry(uint64_t host, uint64_t bytes, uint32_t cluster_bits)
{
    uint32_t x = 62 - (cluster_bits - 8);
    uint64_t extra = ((host + bytes - 1) / QCOW2_COMPRESSED_SECTOR) -
                     (host / QCOW2_COMPRESSED_SECTOR);

    return QCOW2_OFLAG_COMPRESSED | (extra << x) | host;
}
