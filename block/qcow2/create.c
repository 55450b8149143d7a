/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * create.c: qemu-img create -f qcow2. The image starts as three clusters, laid
 * out as qemu-img lays them out:
 *
 *   cluster 0  header (+ backing format and feature table extensions, backing name)
 *   cluster 1  refcount table, one entry -> cluster 2
 *   cluster 2  refcount block: clusters 0..2 have refcount 1
 *
 * then the image is opened with this driver and grown to its size, which puts
 * the L1 table at cluster 3, and the backing file and preallocation are applied
 * through the normal paths. blockdev-create does the same on an open protocol
 * node (qcow2_co_create_node) instead of a new file.
 */
#include "qcow2.h"
#include "block/block-backend.h"
#include "qobject/qdict.h"
#include "util/cutils.h"

/* In the order qemu-img prints them on the "Formatting" line. */
const CreateOption qcow2_create_opts[] = {
    { "encryption", CREATE_OPT_BOOL,
      "Encrypt the image with format 'aes'. (Deprecated in favor of encrypt.format=aes)" },
    { "encrypt.format", CREATE_OPT_STRING,
      "Encrypt the image, format choices: 'aes', 'luks'" },
    { "encrypt.key-secret", CREATE_OPT_STRING,
      "ID of secret providing qcow AES key or LUKS passphrase" },
    { "encrypt.cipher-alg", CREATE_OPT_STRING, "Name of encryption cipher algorithm" },
    { "encrypt.cipher-mode", CREATE_OPT_STRING, "Name of encryption cipher mode" },
    { "encrypt.ivgen-alg", CREATE_OPT_STRING, "Name of IV generator algorithm" },
    { "encrypt.ivgen-hash-alg", CREATE_OPT_STRING, "Name of IV generator hash algorithm" },
    { "encrypt.hash-alg", CREATE_OPT_STRING, "Name of encryption hash algorithm" },
    { "encrypt.iter-time", CREATE_OPT_NUMBER, "Time to spend in PBKDF in milliseconds" },
    { "cluster_size", CREATE_OPT_SIZE, "qcow2 cluster size", "65536" },
    { "extended_l2", CREATE_OPT_BOOL, "Extended L2 tables", "off" },
    { "preallocation", CREATE_OPT_STRING,
      "Preallocation mode (allowed values: off, metadata, falloc, full)" },
    { "compression_type", CREATE_OPT_STRING,
      "Compression method used for image cluster compression", "zlib" },
    { "size", CREATE_OPT_SIZE, "Virtual disk size" },
    { "compat", CREATE_OPT_STRING, "Compatibility level (v2 [0.10] or v3 [1.1])" },
    { "backing_file", CREATE_OPT_STRING, "File name of a base image" },
    { "backing_fmt", CREATE_OPT_STRING, "Image format of the base image" },
    { "data_file", CREATE_OPT_STRING, "File name of an external data file" },
    { "data_file_raw", CREATE_OPT_BOOL,
      "The external data file must stay valid as a raw image" },
    { "lazy_refcounts", CREATE_OPT_BOOL, "Postpone refcount updates", "off" },
    { "refcount_bits", CREATE_OPT_NUMBER, "Width of a reference count entry in bits", "16" },
    { NULL }
};

typedef struct Qcow2CreateArgs {
    uint64_t size, cluster_size, refcount_bits;
    int version;
    bool lazy_refcounts, extended_l2, data_file_raw;
    int compression_type;
    PreallocMode prealloc;
    char *backing_file, *backing_fmt, *data_file;
    char *encrypt_format;           /* "aes" or "luks" once checked; NULL: not encrypted */
    char *key_secret;
} Qcow2CreateArgs;

static void qcow2_create_args_free(Qcow2CreateArgs *a)
{
    g_free(a->backing_file);
    g_free(a->backing_fmt);
    g_free(a->data_file);
    g_free(a->encrypt_format);
    g_free(a->key_secret);
}

static bool qcow2_parse_enum_opt(QDict *opts, const char *key, const char *param,
                                 const char *const *names, int def, int *out, Error **errp)
{
    g_autofree char *v = bdrv_opt_take_str(opts, key);

    *out = def;
    if (!v) {
        return true;
    }
    for (int i = 0; names[i]; i++) {
        if (!strcmp(v, names[i])) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", param, v);
    return false;
}

/* The LUKS-only encrypt.* options in QEMU's schema order, with the values its enums take. */
static const char *const qcow2_cipher_algs[] = {
    "aes-128", "aes-192", "aes-256", "des", "3des", "cast5-128", "serpent-128", "serpent-192",
    "serpent-256", "twofish-128", "twofish-192", "twofish-256", NULL,
};
static const char *const qcow2_cipher_modes[] = { "ecb", "cbc", "xts", "ctr", NULL };
static const char *const qcow2_ivgen_algs[] = { "plain", "plain64", "essiv", NULL };
static const char *const qcow2_hash_algs[] = {
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "ripemd160", NULL,
};
static const struct {
    const char *name;
    const char *const *values;      /* NULL: a number, checked when the option string is parsed */
} qcow2_luks_opts[] = {
    { "cipher-alg", qcow2_cipher_algs },
    { "cipher-mode", qcow2_cipher_modes },
    { "ivgen-alg", qcow2_ivgen_algs },
    { "ivgen-hash-alg", qcow2_hash_algs },
    { "hash-alg", qcow2_hash_algs },
    { "iter-time", NULL },
};

static bool qcow2_str_in(const char *v, const char *const *list)
{
    for (; *list; list++) {
        if (!strcmp(v, *list)) {
            return true;
        }
    }
    return false;
}

/*
 * Which of several options the aes format does not take QEMU names: the first
 * its visitor's GHashTable yields once format and key-secret are taken out. It
 * filled that table from the encrypt dictionary, whose order ours shares, so the
 * same glib table fed the same way gives the same answer. The caller frees it.
 */
static char *qcow2_first_leftover(QDict *luks, bool has_secret)
{
    g_autoptr(QDict) all = qdict_new();
    g_autoptr(GHashTable) h = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter it;
    const char *key = NULL;

    qdict_put_str(all, "format", "aes");
    if (has_secret) {
        qdict_put_str(all, "key-secret", "");
    }
    for (const QDictEntry *e = qdict_first(luks); e; e = qdict_next(luks, e)) {
        qdict_put_str(all, e->key, "");
    }
    for (const QDictEntry *e = qdict_first(all); e; e = qdict_next(all, e)) {
        g_hash_table_add(h, (gpointer)e->key);
    }
    g_hash_table_remove(h, "format");
    g_hash_table_remove(h, "key-secret");
    g_hash_table_iter_init(&it, h);
    g_hash_table_iter_next(&it, (gpointer *)&key, NULL);
    return g_strdup(key);
}

/*
 * The encrypt.* options, with QEMU's errors in the order its QAPI visit finds
 * them. We never create an encrypted image (qcow2_create_validate refuses it
 * where QEMU would look up the secret), but an option mistake gets QEMU's words.
 * The legacy encryption=on means encrypt.format=aes; any other true spelling
 * (yes, true...) reaches QEMU's format enum unchanged and fails there.
 */
static bool qcow2_create_parse_encrypt(QDict *opts, Qcow2CreateArgs *a, Error **errp)
{
    g_autofree char *legacy = bdrv_opt_take_str(opts, "encryption");
    g_autoptr(QDict) luks = qdict_new();    /* the LUKS-only options given, short names */

    if (legacy) {
        /* a bool all the same: the value is kept for the format name, so check a copy */
        g_autoptr(QDict) check = qdict_new();
        bool unused;
        qdict_put_str(check, "encryption", legacy);
        if (!bdrv_opt_take_bool(check, "encryption", false, &unused, errp)) {
            return false;
        }
    }
    a->encrypt_format = bdrv_opt_take_str(opts, "encrypt.format");
    a->key_secret = bdrv_opt_take_str(opts, "encrypt.key-secret");
    for (size_t i = 0; i < G_N_ELEMENTS(qcow2_luks_opts); i++) {
        g_autofree char *key = g_strconcat("encrypt.", qcow2_luks_opts[i].name, NULL);
        char *v = bdrv_opt_take_str(opts, key);
        if (v) {
            qdict_put_str(luks, qcow2_luks_opts[i].name, v);
            g_free(v);
        }
    }
    if (legacy && strcmp(legacy, "off")) {
        if (a->encrypt_format) {
            error_setg(errp, "'encrypt.format' and its alias 'encryption' can't be used at "
                       "the same time");
            return false;
        }
        a->encrypt_format = g_strdup(strcmp(legacy, "on") ? legacy : "aes");
    }
    if (!a->encrypt_format) {
        if (a->key_secret || qdict_size(luks)) {
            error_setg(errp, "Parameter 'encrypt.format' is missing");
            return false;
        }
        return true;
    }
    if (!strcmp(a->encrypt_format, "aes")) {
        if (qdict_size(luks)) {
            g_autofree char *key = qcow2_first_leftover(luks, a->key_secret != NULL);
            error_setg(errp, "Parameter 'encrypt.%s' is unexpected", key);
            return false;
        }
        return true;
    }
    if (strcmp(a->encrypt_format, "luks")) {
        error_setg(errp, "Parameter 'format' does not accept value '%s'", a->encrypt_format);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(qcow2_luks_opts); i++) {
        const char *v = qdict_get_try_str(luks, qcow2_luks_opts[i].name);
        if (v && qcow2_luks_opts[i].values && !qcow2_str_in(v, qcow2_luks_opts[i].values)) {
            error_setg(errp, "Parameter '%s' does not accept value '%s'",
                       qcow2_luks_opts[i].name, v);
            return false;
        }
    }
    return true;
}

static bool qcow2_create_parse(QDict *opts, Qcow2CreateArgs *a, Error **errp)
{
    static const char *const compat_names[] = { "v2", "v3", "0.10", "1.1", NULL };
    static const char *const prealloc_names[] = { "off", "metadata", "falloc", "full", NULL };
    static const char *const compression_names[] = { "zlib", "zstd", NULL };
    int compat, prealloc;

    if (!qdict_haskey(opts, "size") && !qdict_haskey(opts, "backing_file")) {
        error_setg(errp, "Image creation needs a size parameter");
        return false;
    }
    if (!bdrv_opt_take_size(opts, "size", 0, &a->size, errp) ||
        !bdrv_opt_take_size(opts, "cluster_size", 65536, &a->cluster_size, errp) ||
        !bdrv_opt_take_uint(opts, "refcount_bits", 16, &a->refcount_bits, errp) ||
        !bdrv_opt_take_bool(opts, "lazy_refcounts", false, &a->lazy_refcounts, errp) ||
        !bdrv_opt_take_bool(opts, "extended_l2", false, &a->extended_l2, errp) ||
        !bdrv_opt_take_bool(opts, "data_file_raw", false, &a->data_file_raw, errp) ||
        !qcow2_parse_enum_opt(opts, "compat", "version", compat_names, 1, &compat, errp) ||
        !qcow2_create_parse_encrypt(opts, a, errp) ||
        !qcow2_parse_enum_opt(opts, "preallocation", "preallocation", prealloc_names, 0,
                              &prealloc, errp) ||
        !qcow2_parse_enum_opt(opts, "compression_type", "compression-type",
                              compression_names, 0, &a->compression_type, errp)) {
        return false;
    }
    a->version = (compat == 0 || compat == 2) ? 2 : 3;
    a->prealloc = prealloc;
    a->backing_file = bdrv_opt_take_str(opts, "backing_file");
    a->backing_fmt = bdrv_opt_take_str(opts, "backing_fmt");
    a->data_file = bdrv_opt_take_str(opts, "data_file");
    return true;
}

static bool qcow2_create_validate(Qcow2CreateArgs *a, Error **errp)
{
    uint64_t cs = a->cluster_size;

    if (cs < 512 || cs > 2 * MiB || (cs & (cs - 1))) {
        error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
        return false;
    }
    if (!a->refcount_bits || a->refcount_bits > 64 ||
        (a->refcount_bits & (a->refcount_bits - 1))) {
        error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
        return false;
    }
    if (a->version < 3 && a->lazy_refcounts) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use version=v3 or greater)");
        return false;
    }
    if (a->version < 3 && a->refcount_bits != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require compatibility "
                   "level 1.1 or above (use version=v3 or greater)");
        return false;
    }
    if (a->version < 3 && a->compression_type != QCOW2_COMPRESSION_ZLIB) {
        error_setg(errp, "Non-zlib compression type is only supported with compatibility "
                   "level 1.1 and above (use version=v3 or greater)");
        return false;
    }
#ifndef CONFIG_ZSTD
    if (a->compression_type == QCOW2_COMPRESSION_ZSTD) {
        error_setg(errp, "Parameter 'compression-type' does not accept value 'zstd'");
        return false;
    }
#endif
    if (a->backing_fmt && !a->backing_file) {
        error_setg(errp, "Backing format cannot be used without backing file");
        return false;
    }
    if (a->backing_file && a->prealloc != PREALLOC_MODE_OFF) {
        error_setg(errp, "Backing file and preallocation can only be used at the same time "
                   "if extended_l2 is on");
        return false;
    }
    if (a->encrypt_format) {
        /* where QEMU sets up the cipher: after every other check */
        error_setg(errp, a->key_secret ? "encrypted qcow2 images are not supported"
                                       : "Parameter 'encrypt.key-secret' is required for cipher");
        return false;
    }
    if (a->extended_l2) {
        error_setg(errp, "qcow2: extended L2 entries (subclusters) are not supported");
        return false;
    }
    if (a->data_file || a->data_file_raw) {
        error_setg(errp, "qcow2: external data files are not supported");
        return false;
    }
    a->size = ROUND_UP(a->size, 512);
    return true;
}

/* The three clusters every new image starts with. */
static int coroutine_fn qcow2_create_skeleton(BlockBackend *blk, Qcow2CreateArgs *a)
{
    uint32_t cluster_bits = __builtin_ctzll(a->cluster_size), cs = a->cluster_size;
    uint32_t order = __builtin_ctzll(a->refcount_bits);
    Qcow2Header h = {
        .version = a->version, .cluster_bits = cluster_bits,
        .refcount_table_offset = cs, .refcount_table_clusters = 1,
        .refcount_order = a->version >= 3 ? order : 4,
        .compression_type = a->compression_type,
    };
    if (a->lazy_refcounts) {
        h.compatible_features |= QCOW2_COMPAT_LAZY_REFCOUNTS;
    }
    if (a->compression_type != QCOW2_COMPRESSION_ZLIB) {
        h.incompatible_features |= QCOW2_INCOMPAT_COMPRESSION;
    }
    g_autofree uint8_t *buf = g_malloc0(3 * (size_t)cs);
    int len = qcow2_header_serialize(&h, NULL, NULL, buf, cs);
    if (len < 0) {
        return len;
    }
    uint64_t rb = GUINT64_TO_BE(2 * (uint64_t)cs);
    memcpy(buf + cs, &rb, 8);
    for (int i = 0; i < 3; i++) {
        qcow2_refblock_set(buf + 2 * (size_t)cs, h.refcount_order, i, 1);
    }
    return blk_pwrite(blk, 0, 3 * (int64_t)cs, buf, 0);
}

/* Allocate L2 tables and data clusters for the whole disk (preallocation). */
static int coroutine_fn qcow2_co_preallocate(BlockDriverState *bs, PreallocMode mode,
                                             Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t size = s->h.size, offset = 0, end = 0;
    int ret = 0;

    qemu_co_mutex_lock(&s->lock);
    while (offset < size && ret == 0) {
        Qcow2CacheEntry *l2;
        uint32_t i;
        ret = qcow2_get_l2_for_write(bs, offset, &l2, &i);
        if (ret < 0) {
            break;
        }
        uint64_t n = MIN((uint64_t)(s->l2_entries - i),
                         DIV_ROUND_UP(size - offset, s->cluster_size));
        int64_t host = qcow2_alloc_clusters(bs, n);
        if (host < 0) {
            qcow2_cache_put(&l2);
            ret = host;
            break;
        }
        for (uint64_t j = 0; j < n; j++) {
            uint64_t e = (host + (j << s->cluster_bits)) | QCOW2_OFLAG_COPIED;
            qcow2_l2_set(l2, i + j, e);
        }
        qcow2_cache_mark_dirty(l2);
        qcow2_cache_put(&l2);
        end = MAX(end, (uint64_t)host + (n << s->cluster_bits));
        offset += n << s->cluster_bits;
    }
    if (ret == 0) {
        ret = qcow2_flush_metadata(bs);
    }
    qemu_co_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not preallocate metadata");
        return ret;
    }
    /* the file reaches past the last data cluster (with real blocks for falloc/full) */
    ret = bdrv_co_truncate(bs->file, end, false,
                           mode == PREALLOC_MODE_METADATA ? PREALLOC_MODE_OFF : mode, 0, errp);
    return ret < 0 ? ret : 0;
}

/* Open the new image (by filename, or on the node named file_node) and finish it. */
static int coroutine_fn qcow2_create_finish(const char *filename, const char *file_node,
                                            Qcow2CreateArgs *a, Error **errp)
{
    QDict *o = qdict_new();
    qdict_put_str(o, "driver", "qcow2");
    if (file_node) {
        qdict_put_str(o, "file", file_node);
    }
    BlockBackend *blk = blk_new_open(filename, NULL, o,
                                     BDRV_O_RDWR | BDRV_O_RESIZE | BDRV_O_NO_BACKING, errp);
    if (!blk) {
        return -EIO;
    }
    int ret = blk_truncate(blk, a->size, false, PREALLOC_MODE_OFF, 0, errp);
    if (ret == 0 && a->backing_file) {
        ret = bdrv_change_backing_file(blk_bs(blk), a->backing_file, a->backing_fmt, false);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not assign backing file '%s'", a->backing_file);
        }
    }
    if (ret == 0 && a->prealloc != PREALLOC_MODE_OFF) {
        ret = qcow2_co_preallocate(blk_bs(blk), a->prealloc, errp);
    }
    blk_unref(blk);
    return ret;
}

int coroutine_fn qcow2_co_create_opts(BlockDriver *drv, const char *filename, QDict *opts,
                                      Error **errp)
{
    Qcow2CreateArgs a = { 0 };
    int ret = -EINVAL;

    if (!qcow2_create_parse(opts, &a, errp) || !qcow2_create_validate(&a, errp)) {
        goto out;
    }
    if (a.backing_file && !a.size) {
        /* size from the backing file: the tool resolves it before calling us */
        error_setg(errp, "Image creation needs a size parameter");
        goto out;
    }
    QDict *file_opts = qdict_clone_shallow(opts);
    qdict_put_str(file_opts, "size", "0");
    ret = bdrv_create_file(filename, file_opts, errp);
    qobject_unref(file_opts);
    if (ret < 0) {
        goto out;
    }
    QDict *fo = qdict_new();
    qdict_put_str(fo, "driver", "file");
    BlockBackend *blk = blk_new_open(filename, NULL, fo, BDRV_O_RDWR | BDRV_O_RESIZE |
                                     BDRV_O_PROTOCOL, errp);
    if (!blk) {
        ret = -EIO;
        goto out;
    }
    blk_set_allow_write_beyond_eof(blk, true);
    ret = blk_truncate(blk, 0, false, PREALLOC_MODE_OFF, 0, errp);
    if (ret == 0) {
        ret = qcow2_create_skeleton(blk, &a);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not write qcow2 header");
        }
    }
    blk_unref(blk);
    if (ret < 0) {
        goto out;
    }
    ret = qcow2_create_finish(filename, NULL, &a, errp);
out:
    qcow2_create_args_free(&a);
    return ret;
}

int coroutine_fn qcow2_co_create_node(BlockDriverState *file, QDict *opts, Error **errp)
{
    Qcow2CreateArgs a = { 0 };
    BlockBackend *blk;
    int ret = -EINVAL;

    if (!qcow2_create_parse(opts, &a, errp) || !qcow2_create_validate(&a, errp)) {
        goto out;
    }
    /* a parent that does not share write and resize (a qcow2 node on file) refuses */
    blk = blk_new(BLK_PERM_WRITE | BLK_PERM_RESIZE, BLK_PERM_ALL);
    ret = blk_insert_bs(blk, file, errp);
    if (ret == 0) {
        /* as QEMU: not truncated first, so a longer old file keeps its tail */
        blk_set_allow_write_beyond_eof(blk, true);
        ret = qcow2_create_skeleton(blk, &a);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not write qcow2 header");
        }
    }
    blk_unref(blk);
    if (ret == 0) {
        ret = qcow2_create_finish(NULL, bdrv_get_node_name(file), &a, errp);
    }
out:
    qcow2_create_args_free(&a);
    return ret;
}
