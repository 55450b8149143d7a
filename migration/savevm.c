/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * savevm.c: the section registry, the framing of section records on the source
 * and the loader that dispatches records on the destination (format: stream.c).
 * The loader trusts nothing: record types, lengths, section ids, names,
 * instances and versions are checked before a section sees its payload, and the
 * payload is fenced so a section cannot read past its own record.
 */
#include "util/osdep.h"
#include "migration/migration.h"
#include "migration/savevm.h"

typedef struct MigSection {
    char *name;
    uint32_t instance;
    uint32_t version;
    const MigSectionOps *ops;
    void *opaque;
    /* source run */
    uint32_t id;
    bool active;
    bool round_done;             /* iterate returned 1 since the last sync */
    bool complete_done;
    /* destination run */
    bool loaded;
} MigSection;

struct MigRegistry {
    GPtrArray *sections;         /* MigSection *, registration order */
};

static void mig_section_free(gpointer p)
{
    MigSection *sec = p;

    if (sec->ops->free) {
        sec->ops->free(sec->opaque);
    }
    g_free(sec->name);
    g_free(sec);
}

MigRegistry *mig_registry_new(void)
{
    MigRegistry *reg = g_new0(MigRegistry, 1);

    reg->sections = g_ptr_array_new_with_free_func(mig_section_free);
    return reg;
}

void mig_registry_free(MigRegistry *reg)
{
    if (reg) {
        g_ptr_array_free(reg->sections, true);
        g_free(reg);
    }
}

void mig_register(MigRegistry *reg, const char *name, uint32_t instance, uint32_t version,
                  const MigSectionOps *ops, void *opaque)
{
    MigSection *sec = g_new0(MigSection, 1);

    assert(strlen(name) < 256 && version > 0);
    sec->name = g_strdup(name);
    sec->instance = instance;
    sec->version = version;
    sec->ops = ops;
    sec->opaque = opaque;
    g_ptr_array_add(reg->sections, sec);
}

void mig_unregister(MigRegistry *reg, const char *name, uint32_t instance)
{
    for (guint i = 0; i < reg->sections->len; i++) {
        MigSection *sec = g_ptr_array_index(reg->sections, i);
        if (!strcmp(sec->name, name) && sec->instance == instance) {
            g_ptr_array_remove_index(reg->sections, i);
            return;
        }
    }
}

#define FOR_EACH_SECTION(reg, sec) \
    for (guint i_ = 0; i_ < (reg)->sections->len && \
         ((sec) = g_ptr_array_index((reg)->sections, i_), true); i_++)

/* ------------------------------------------------------------------------- */
/* source */

static size_t mig_record_begin(MigStream *f, uint8_t type, MigSection *sec)
{
    size_t tok;

    mig_put_be8(f, type);
    tok = mig_put_len_begin(f);
    mig_put_be32(f, sec->id);
    if (type == MIG_REC_START || type == MIG_REC_FULL) {
        mig_put_str8(f, sec->name);
        mig_put_be32(f, sec->instance);
        mig_put_be32(f, sec->version);
    }
    return tok;
}

/* A section's error, else the stream's, else a generic one. */
static int mig_save_fail(MigStream *f, MigSection *sec, int ret, Error **errp)
{
    if (errp && !*errp && !mig_stream_error(f, errp)) {
        error_setg(errp, "Section '%s' failed: %s", sec->name, strerror(-ret));
    }
    return ret;
}

void mig_save_header(MigStream *f)
{
    mig_put_be32(f, MIG_MAGIC);
    mig_put_be32(f, MIG_VERSION);
}

int mig_save_setup(MigRegistry *reg, MigStream *f, MigSaveInfo *info, Error **errp)
{
    MigSection *sec;
    uint32_t id = 0;

    FOR_EACH_SECTION(reg, sec) {
        const MigSectionOps *ops = sec->ops;

        sec->id = id++;
        sec->active = ops->is_active ? ops->is_active(sec->opaque, info) : true;
        sec->round_done = sec->complete_done = false;
        if (!sec->active || !ops->save_setup) {
            continue;
        }
        size_t tok = mig_record_begin(f, MIG_REC_START, sec);
        int ret = ops->save_setup(f, sec->opaque, info, errp);
        mig_put_len_end(f, tok);
        if (ret < 0) {
            return mig_save_fail(f, sec, ret, errp);
        }
    }
    return mig_stream_error(f, errp) ? -EIO : 0;
}

int coroutine_fn mig_save_iterate_once(MigRegistry *reg, MigStream *f, MigSaveInfo *info,
                                       Error **errp)
{
    MigSection *sec;
    bool all_done = true;

    FOR_EACH_SECTION(reg, sec) {
        if (!sec->active || !sec->ops->save_iterate || sec->round_done) {
            continue;
        }
        size_t tok = mig_record_begin(f, MIG_REC_PART, sec);
        int ret = sec->ops->save_iterate(f, sec->opaque, info);
        mig_put_len_end(f, tok);
        if (ret < 0) {
            return mig_save_fail(f, sec, ret, errp);
        }
        sec->round_done = ret > 0;
        all_done &= sec->round_done;
    }
    return all_done ? 1 : 0;
}

uint64_t mig_save_pending(MigRegistry *reg, MigSaveInfo *info)
{
    MigSection *sec;
    uint64_t sum = 0;

    FOR_EACH_SECTION(reg, sec) {
        if (sec->active && sec->ops->save_pending) {
            sum += sec->ops->save_pending(sec->opaque, info);
        }
    }
    return sum;
}

bool mig_save_has_sync(MigRegistry *reg)
{
    MigSection *sec;

    FOR_EACH_SECTION(reg, sec) {
        if (sec->active && sec->ops->save_sync) {
            return true;
        }
    }
    return false;
}

void mig_save_sync(MigRegistry *reg, MigSaveInfo *info)
{
    MigSection *sec;

    FOR_EACH_SECTION(reg, sec) {
        if (sec->active && sec->ops->save_sync) {
            sec->ops->save_sync(sec->opaque, info);
        }
        sec->round_done = false;
    }
}

int coroutine_fn mig_save_complete_once(MigRegistry *reg, MigStream *f, MigSaveInfo *info,
                                        Error **errp)
{
    MigSection *sec;
    bool all_done = true;

    FOR_EACH_SECTION(reg, sec) {
        if (!sec->active || !sec->ops->save_complete || sec->complete_done) {
            continue;
        }
        size_t tok = mig_record_begin(f, MIG_REC_END, sec);
        int ret = sec->ops->save_complete(f, sec->opaque, info);
        mig_put_len_end(f, tok);
        if (ret < 0) {
            return mig_save_fail(f, sec, ret, errp);
        }
        sec->complete_done = ret > 0;
        all_done &= sec->complete_done;
    }
    return all_done ? 1 : 0;
}

int coroutine_fn mig_save_states(MigRegistry *reg, MigStream *f, Error **errp)
{
    MigSection *sec;

    FOR_EACH_SECTION(reg, sec) {
        if (!sec->active || !sec->ops->save_state) {
            continue;
        }
        size_t tok = mig_record_begin(f, MIG_REC_FULL, sec);
        int ret = sec->ops->save_state(f, sec->opaque, errp);
        mig_put_len_end(f, tok);
        if (ret < 0) {
            return mig_save_fail(f, sec, ret, errp);
        }
    }
    return mig_stream_error(f, errp) ? -EIO : 0;
}

int mig_save_eof(MigStream *f, Error **errp)
{
    mig_put_be8(f, MIG_REC_EOF);
    mig_put_len_end(f, mig_put_len_begin(f));
    return mig_stream_error(f, errp) ? -EIO : 0;
}

void mig_save_cleanup(MigRegistry *reg, MigSaveInfo *info)
{
    MigSection *sec;

    FOR_EACH_SECTION(reg, sec) {
        if (sec->active && sec->ops->save_cleanup) {
            sec->ops->save_cleanup(sec->opaque, info);
        }
        sec->active = false;
    }
}

/* ------------------------------------------------------------------------- */
/* destination */

static MigSection *mig_find(MigRegistry *reg, const char *name, uint32_t instance)
{
    MigSection *sec;

    FOR_EACH_SECTION(reg, sec) {
        if (!strcmp(sec->name, name) && sec->instance == instance) {
            return sec;
        }
    }
    return NULL;
}

/* Set errp from the stream (or a default) and return -errno. */
static int mig_load_fail(MigStream *f, int ret, Error **errp)
{
    if (errp && !*errp && !mig_stream_error(f, errp)) {
        error_setg(errp, "Invalid migration stream");
    }
    int serr = mig_stream_get_error(f);
    return ret < 0 ? ret : (serr ? serr : -EINVAL);
}

/* START/FULL header: bind id to a registered section. */
static MigSection *mig_load_section_header(MigRegistry *reg, MigStream *f, GHashTable *ids,
                                           uint32_t id, uint32_t *version, Error **errp)
{
    g_autofree char *name = mig_get_str8(f);
    uint32_t instance = mig_get_be32(f);
    MigSection *sec;

    *version = mig_get_be32(f);
    if (mig_stream_error(f, errp)) {
        return NULL;
    }
    sec = mig_find(reg, name, instance);
    if (!sec || !sec->ops->load) {
        error_setg(errp, "Unknown savevm section or instance '%s' %" PRIu32 ". Make sure "
                   "that your current VM setup matches your saved VM setup, including "
                   "any hotplugged devices", name, instance);
        return NULL;
    }
    if (*version < 1 || *version > sec->version) {
        error_setg(errp, "savevm: unsupported version %" PRIu32 " for '%s' v%" PRIu32,
                   *version, name, sec->version);
        return NULL;
    }
    if (g_hash_table_contains(ids, GUINT_TO_POINTER(id + 1)) || sec->loaded) {
        error_setg(errp, "Section '%s' (id %" PRIu32 ") appears twice in the migration "
                   "stream", name, id);
        return NULL;
    }
    g_hash_table_insert(ids, GUINT_TO_POINTER(id + 1), sec);
    sec->loaded = true;
    return sec;
}

static int coroutine_fn mig_load_record(MigRegistry *reg, MigStream *f, GHashTable *ids,
                                        uint8_t type, GHashTable *versions, Error **errp)
{
    uint32_t id = mig_get_be32(f), version = 0;
    MigSection *sec = NULL;

    if (mig_stream_error(f, errp)) {
        return mig_load_fail(f, 0, errp);
    }
    if (type == MIG_REC_START || type == MIG_REC_FULL) {
        sec = mig_load_section_header(reg, f, ids, id, &version, errp);
        if (!sec) {
            return mig_load_fail(f, -EINVAL, errp);
        }
        g_hash_table_insert(versions, sec, GUINT_TO_POINTER(version));
    } else {
        sec = g_hash_table_lookup(ids, GUINT_TO_POINTER(id + 1));
        if (!sec) {
            error_setg(errp, "Unknown section id %" PRIu32 " in migration stream", id);
            return -EINVAL;
        }
        version = GPOINTER_TO_UINT(g_hash_table_lookup(versions, sec));
    }
    int ret = sec->ops->load(f, sec->opaque, type, version, errp);
    if (ret < 0 || mig_stream_get_error(f)) {
        if (errp && *errp) {
            error_prepend(errp, "Section '%s': ", sec->name);
        }
        return mig_load_fail(f, ret, errp);
    }
    return 0;
}

int coroutine_fn mig_load_stream(MigRegistry *reg, MigStream *f, Error **errp)
{
    g_autoptr(GHashTable) ids = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) versions = g_hash_table_new(NULL, NULL);
    uint32_t magic = mig_get_be32(f), version = mig_get_be32(f);
    MigSection *sec;
    int ret = 0;

    FOR_EACH_SECTION(reg, sec) {
        sec->loaded = false;
    }
    if (mig_stream_error(f, errp)) {
        ret = mig_load_fail(f, 0, errp);
        goto out;
    }
    if (magic != MIG_MAGIC) {
        error_setg(errp, "Not a migration stream (magic 0x%08" PRIx32 ")", magic);
        ret = -EINVAL;
        goto out;
    }
    if (version != MIG_VERSION) {
        error_setg(errp, "Unsupported migration stream version %" PRIu32, version);
        ret = -ENOTSUP;
        goto out;
    }
    for (;;) {
        uint8_t type = mig_get_be8(f);
        uint32_t len;
        MigFence fence = mig_get_len_begin(f, &len);

        if (mig_stream_error(f, errp)) {
            ret = mig_load_fail(f, 0, errp);
            goto out;
        }
        if (type == MIG_REC_EOF) {
            if (!mig_get_len_end(f, fence)) {
                ret = mig_load_fail(f, 0, errp);
                goto out;
            }
            break;
        }
        if (type < MIG_REC_START || type > MIG_REC_FULL) {
            error_setg(errp, "Unknown migration record type %u", type);
            ret = -EINVAL;
            goto out;
        }
        ret = mig_load_record(reg, f, ids, type, versions, errp);
        if (ret < 0 || !mig_get_len_end(f, fence)) {
            ret = mig_load_fail(f, ret, errp);
            goto out;
        }
    }
    FOR_EACH_SECTION(reg, sec) {
        if (!sec->loaded && sec->ops->load && !sec->ops->optional) {
            error_setg(errp, "Section '%s' is missing from the migration stream", sec->name);
            ret = -EINVAL;
            goto out;
        }
    }
    FOR_EACH_SECTION(reg, sec) {
        if (sec->ops->load_finish && (sec->loaded || !sec->ops->optional)) {
            ret = sec->ops->load_finish(sec->opaque, errp);
            if (ret < 0) {
                error_prepend(errp, "Section '%s': ", sec->name);
                goto out;
            }
        }
    }
out:
    FOR_EACH_SECTION(reg, sec) {
        if (sec->ops->load_cleanup) {
            sec->ops->load_cleanup(sec->opaque);
        }
    }
    return ret;
}
