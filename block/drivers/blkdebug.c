/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blkdebug.c: the "blkdebug" filter, a rule-based error injector for tests.
 *
 * Rules are attached to events (BlkdebugEvent: "read_aio", "l2_update"...) that
 * drivers announce with BLKDBG_EVENT() on their way to the disk. When an event
 * reaches this node (debug_event), each of its rules whose `state` matches the
 * current state (0 = any) acts:
 *   inject-error  becomes active: later requests on this node that match its
 *                 iotype and sector fail with -errno (the request never reaches
 *                 the image). The first inject rule an event activates replaces
 *                 whatever was active before. once=on retires the rule after
 *                 one failure; immediately=off returns the error only after one
 *                 trip through the event loop, like a real failed AIO.
 *   set-state     moves the state machine to new_state once all rules ran
 *                 (the state starts at 1).
 *   suspend       (breakpoints, from qemu-io's `break EVENT TAG`) parks the
 *                 coroutine that raised the event until `resume TAG`; one-shot.
 *
 * Rules come from a config file (INI: [inject-error] and [set-state] sections,
 * `key = "value"` lines) and from the inject-error.N.* / set-state.N.* options.
 * Legacy filenames: blkdebug:CONFIG:IMAGE and blkdebug::IMAGE.
 *
 * Threads: main loop only; debug_event runs in the coroutine of the request
 * that raised it (or outside any coroutine during open, where nobody can be
 * suspended).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block.h"
#include "block/block-int.h"

#include "qobject/qdict.h"

typedef enum BlkdebugIOType {
    BLKDEBUG_IO_READ,
    BLKDEBUG_IO_WRITE,
    BLKDEBUG_IO_WRITE_ZEROES,
    BLKDEBUG_IO_DISCARD,
    BLKDEBUG_IO_FLUSH,
    BLKDEBUG_IO_BLOCK_STATUS,
    BLKDEBUG_IO__MAX,
} BlkdebugIOType;

static const char *const blkdebug_iotype_names[BLKDEBUG_IO__MAX] = {
    "read", "write", "write-zeroes", "discard", "flush", "block-status",
};

/* Without iotype=, errors hit every kind of request except block status. */
#define BLKDEBUG_IO_DEFAULT_MASK ((1u << BLKDEBUG_IO_BLOCK_STATUS) - 1)

typedef enum BlkdebugAction {
    ACTION_INJECT_ERROR,
    ACTION_SET_STATE,
    ACTION_SUSPEND,
} BlkdebugAction;

typedef struct BlkdebugRule {
    BlkdebugEvent event;
    BlkdebugAction action;
    int state;                      /* fires only in this state; 0 = any */
    /* inject-error */
    int error;                      /* positive errno; 0 = none */
    bool immediately;
    bool once;
    int64_t offset;                 /* byte that must be in the request; -1 = any */
    unsigned iotype_mask;
    /* set-state */
    int new_state;
    /* suspend */
    char *tag;
} BlkdebugRule;

typedef struct BlkdebugSuspended {
    Coroutine *co;
    char *tag;
    bool suspended;                 /* cleared by resume */
} BlkdebugSuspended;

/* bs->opaque. Rules and state: main loop only. */
typedef struct BDRVBlkdebugState {
    int state;
    uint64_t align;
    uint64_t max_transfer;
    char *config_file;
    bool option_rules;              /* rules came from options, not only the file */
    GList *rules[BLKDBG__MAX];      /* BlkdebugRule *, newest first */
    GList *active_rules;            /* inject-error rules armed by the last event */
    GList *suspended;               /* BlkdebugSuspended * */
    uint64_t take_child_perms;      /* BLK_PERM_*: always taken on the image */
    uint64_t unshare_child_perms;   /* BLK_PERM_*: never shared on the image */
} BDRVBlkdebugState;

static void blkdebug_free_rule(BlkdebugRule *rule)
{
    g_free(rule->tag);
    g_free(rule);
}

static void blkdebug_remove_rule(BDRVBlkdebugState *s, BlkdebugRule *rule)
{
    s->rules[rule->event] = g_list_remove(s->rules[rule->event], rule);
    s->active_rules = g_list_remove(s->active_rules, rule);
    blkdebug_free_rule(rule);
}

/* ---------------------------------------------------------------------------
 * Rule parsing: one field setter shared by the config file and the options.
 */

static bool blkdebug_parse_int(const char *key, const char *value, int64_t *out,
                               Error **errp)
{
    char *end;

    errno = 0;
    long long v = strtoll(value, &end, 0);
    if (errno || end == value || *end) {
        error_setg(errp, "Parameter '%s' expects a number", key);
        return false;
    }
    *out = v;
    return true;
}

static bool blkdebug_parse_bool(const char *key, const char *value, bool *out, Error **errp)
{
    if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true")) {
        *out = true;
    } else if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false")) {
        *out = false;
    } else {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    return true;
}

static bool blkdebug_parse_iotype(const char *value, unsigned *mask, Error **errp)
{
    for (int i = 0; i < BLKDEBUG_IO__MAX; i++) {
        if (!strcmp(value, blkdebug_iotype_names[i])) {
            *mask |= 1u << i;
            return true;
        }
    }
    error_setg(errp, "invalid parameter value: %s", value);
    return false;
}

static BlkdebugRule *blkdebug_new_rule(BlkdebugAction action)
{
    BlkdebugRule *rule = g_new0(BlkdebugRule, 1);

    rule->action = action;
    rule->event = BLKDBG__MAX;      /* unset */
    rule->error = EIO;
    rule->offset = -1;
    return rule;
}

/* Apply key=value to rule; false + errp for unknown keys and bad values. */
static bool blkdebug_rule_set(BlkdebugRule *rule, const char *key, const char *value,
                              bool *explicit_iotype, Error **errp)
{
    bool inject = rule->action == ACTION_INJECT_ERROR;
    int64_t n;
    bool b;

    if (!strcmp(key, "event")) {
        int ev = blkdebug_event_from_name(value);
        if (ev < 0) {
            error_setg(errp, "invalid parameter value: %s", value);
            return false;
        }
        rule->event = ev;
    } else if (!strcmp(key, "state")) {
        if (!blkdebug_parse_int(key, value, &n, errp)) {
            return false;
        }
        rule->state = n;
    } else if (!inject && !strcmp(key, "new_state")) {
        if (!blkdebug_parse_int(key, value, &n, errp)) {
            return false;
        }
        rule->new_state = n;
    } else if (inject && !strcmp(key, "errno")) {
        if (!blkdebug_parse_int(key, value, &n, errp)) {
            return false;
        }
        rule->error = n;
    } else if (inject && !strcmp(key, "sector")) {
        if (!blkdebug_parse_int(key, value, &n, errp)) {
            return false;
        }
        rule->offset = n < 0 ? -1 : n * BDRV_SECTOR_SIZE;
    } else if (inject && (!strcmp(key, "once") || !strcmp(key, "immediately"))) {
        if (!blkdebug_parse_bool(key, value, &b, errp)) {
            return false;
        }
        *(key[0] == 'o' ? &rule->once : &rule->immediately) = b;
    } else if (inject && !strcmp(key, "iotype")) {
        if (!*explicit_iotype) {
            rule->iotype_mask = 0;
            *explicit_iotype = true;
        }
        return blkdebug_parse_iotype(value, &rule->iotype_mask, errp);
    } else {
        error_setg(errp, "Invalid parameter '%s'", key);
        return false;
    }
    return true;
}

/* Register a fully parsed rule (takes ownership). */
static bool blkdebug_add_rule(BDRVBlkdebugState *s, BlkdebugRule *rule, bool explicit_iotype,
                              Error **errp)
{
    if (rule->event == BLKDBG__MAX) {
        error_setg(errp, "Missing event name for rule");
        blkdebug_free_rule(rule);
        return false;
    }
    if (rule->action == ACTION_INJECT_ERROR && !explicit_iotype) {
        rule->iotype_mask = BLKDEBUG_IO_DEFAULT_MASK;
    }
    s->rules[rule->event] = g_list_prepend(s->rules[rule->event], rule);
    return true;
}

/* ---- the config file ---- */

static char *blkdebug_unquote(char *v)
{
    size_t len = strlen(v);

    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        v[len - 1] = '\0';
        return v + 1;
    }
    return v;
}

static bool blkdebug_read_config(BDRVBlkdebugState *s, const char *path, Error **errp)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    BlkdebugRule *rule = NULL;
    bool explicit_iotype = false;
    bool ok = true;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        int err = gerr->code == G_FILE_ERROR_NOENT ? ENOENT
                : gerr->code == G_FILE_ERROR_ACCES ? EACCES : EIO;
        error_setg_errno(errp, err, "Could not read blkdebug config file");
        return false;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; ok && lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        if (!*line || *line == '#') {
            continue;
        }
        if (*line == '[') {
            if (rule) {
                ok = blkdebug_add_rule(s, rule, explicit_iotype, errp);
                rule = NULL;
            }
            explicit_iotype = false;
            if (ok && !strcmp(line, "[inject-error]")) {
                rule = blkdebug_new_rule(ACTION_INJECT_ERROR);
            } else if (ok && !strcmp(line, "[set-state]")) {
                rule = blkdebug_new_rule(ACTION_SET_STATE);
            } else if (ok) {
                error_setg(errp, "%s:%d: There is no option group '%.*s'", path, i + 1,
                           (int)strcspn(line + 1, "]"), line + 1);
                ok = false;
            }
            continue;
        }
        char *eq = strchr(line, '=');
        if (!rule || !eq) {
            error_setg(errp, "%s:%d: Parse error", path, i + 1);
            ok = false;
            break;
        }
        *eq = '\0';
        char *key = g_strstrip(line);
        char *value = blkdebug_unquote(g_strstrip(eq + 1));
        ok = blkdebug_rule_set(rule, key, value, &explicit_iotype, errp);
    }
    if (rule) {
        if (ok) {
            ok = blkdebug_add_rule(s, rule, explicit_iotype, errp);
        } else {
            blkdebug_free_rule(rule);
        }
    }
    return ok;
}

/* ---- inject-error.N.KEY / set-state.N.KEY options ---- */

static bool blkdebug_options_rules(BDRVBlkdebugState *s, QDict *options, const char *prefix,
                                   BlkdebugAction action, Error **errp)
{
    static const char *const keys[] = {
        "event", "state", "new_state", "errno", "sector", "once", "immediately", NULL
    };

    for (int n = 0;; n++) {
        BlkdebugRule *rule = blkdebug_new_rule(action);
        bool explicit_iotype = false, found = false, ok = true;

        for (int k = 0; ok && keys[k]; k++) {
            g_autofree char *key = g_strdup_printf("%s.%d.%s", prefix, n, keys[k]);
            g_autofree char *value = bdrv_opt_take_str(options, key);
            if (value) {
                found = true;
                ok = blkdebug_rule_set(rule, keys[k], value, &explicit_iotype, errp);
            }
        }
        for (int m = 0; ok; m++) {
            g_autofree char *key = g_strdup_printf("%s.%d.iotype.%d", prefix, n, m);
            g_autofree char *value = bdrv_opt_take_str(options, key);
            if (!value && m == 0) {
                g_free(key);
                key = g_strdup_printf("%s.%d.iotype", prefix, n);
                value = bdrv_opt_take_str(options, key);
                m = INT_MAX - 1;            /* a single value: no list follows */
            }
            if (!value) {
                break;
            }
            found = true;
            ok = blkdebug_rule_set(rule, "iotype", value, &explicit_iotype, errp);
        }
        if (!ok || !found) {
            blkdebug_free_rule(rule);
            return ok;
        }
        if (!blkdebug_add_rule(s, rule, explicit_iotype, errp)) {
            return false;
        }
        s->option_rules = true;
    }
}

/* ---------------------------------------------------------------------------
 * Open and close
 */

/* "blkdebug:CONFIG:IMAGE" or "blkdebug::IMAGE" into config and image filename. */
static bool blkdebug_split_filename(const char *filename, char **config, char **image,
                                    Error **errp)
{
    const char *rest = filename + strlen("blkdebug:");
    const char *colon = strchr(rest, ':');

    if (!colon) {
        error_setg(errp, "blkdebug requires both config file and image path");
        return false;
    }
    *config = colon > rest ? g_strndup(rest, colon - rest) : NULL;
    *image = colon[1] ? g_strdup(colon + 1) : NULL;
    return true;
}

static void blkdebug_parse_filename(const char *filename, QDict *options, Error **errp)
{
    if (!g_str_has_prefix(filename, "blkdebug:")) {
        /*
         * A plain name (a backing file name from an overlay's header, when the
         * user gave backing.file as blkdebug options): as QEMU, it names the
         * image, and everything else must be in the options already.
         */
        qdict_put_str(options, "x-image", filename);
        qdict_del(options, "filename");
        return;
    }
    g_autofree char *config = NULL;
    g_autofree char *image = NULL;
    if (!blkdebug_split_filename(filename, &config, &image, errp)) {
        return;
    }
    if (config) {
        qdict_put_str(options, "config", config);
    }
    if (image) {
        qdict_put_str(options, "x-image", image);
    }
    qdict_del(options, "filename");
}

/* QEMU's BlockPermission names, in BLK_PERM_* bit order. */
static const char *const blkdebug_perm_names[] = {
    "consistent-read", "write", "write-unchanged", "resize",
};

/* KEY.0, KEY.1, ... (or a single KEY) of BlockPermission names into *perms. */
static bool blkdebug_take_perm_list(QDict *options, const char *key, uint64_t *perms,
                                    Error **errp)
{
    *perms = 0;
    for (int i = 0;; i++) {
        g_autofree char *k = g_strdup_printf("%s.%d", key, i);
        g_autofree char *v = bdrv_opt_take_str(options, k);
        unsigned bit;

        if (!v && i == 0) {
            v = bdrv_opt_take_str(options, key);
        }
        if (!v) {
            return true;
        }
        for (bit = 0; bit < ARRAY_SIZE(blkdebug_perm_names); bit++) {
            if (!strcmp(v, blkdebug_perm_names[bit])) {
                break;
            }
        }
        if (bit == ARRAY_SIZE(blkdebug_perm_names)) {
            error_setg(errp, "Parameter '%s[%d]' does not accept value '%s'", key, i, v);
            return false;
        }
        *perms |= UINT64_C(1) << bit;
    }
}

static void blkdebug_child_perm(BlockDriverState *bs, BdrvChild *c, BdrvChildRole role,
                                uint64_t perm, uint64_t shared, uint64_t *nperm,
                                uint64_t *nshared)
{
    BDRVBlkdebugState *s = bs->opaque;

    bdrv_default_perms(bs, c, role, perm, shared, nperm, nshared);
    *nperm |= s->take_child_perms;
    *nshared &= ~s->unshare_child_perms;
}

static bool blkdebug_check_limits(BDRVBlkdebugState *s, Error **errp)
{
    if (s->align && (s->align >= INT_MAX || (s->align & (s->align - 1)))) {
        error_setg(errp, "Cannot meet constraints with align %" PRIu64, s->align);
        return false;
    }
    if (s->max_transfer &&
        (s->max_transfer >= INT_MAX || !QEMU_IS_ALIGNED(s->max_transfer, MAX(s->align, 1)))) {
        error_setg(errp, "Cannot meet constraints with max-transfer %" PRIu64, s->max_transfer);
        return false;
    }
    return true;
}

static void blkdebug_close(BlockDriverState *bs);

static int blkdebug_open_inner(BlockDriverState *bs, QDict *options, Error **errp);

/* The core does not call close() after a failed open: free what was parsed. */
static int blkdebug_open(BlockDriverState *bs, QDict *options, int flags, Error **errp)
{
    int ret = blkdebug_open_inner(bs, options, errp);

    if (ret < 0) {
        blkdebug_close(bs);
    }
    return ret;
}

static int blkdebug_open_inner(BlockDriverState *bs, QDict *options, Error **errp)
{
    BDRVBlkdebugState *s = bs->opaque;
    g_autofree char *image = bdrv_opt_take_str(options, "x-image");
    g_autofree char *filename = bdrv_opt_take_str(options, "filename");

    s->config_file = bdrv_opt_take_str(options, "config");
    /* A legacy filename the core did not run through parse_filename. */
    if (!image && !s->config_file && filename && g_str_has_prefix(filename, "blkdebug:") &&
        !blkdebug_split_filename(filename, &s->config_file, &image, errp)) {
        return -EINVAL;
    }
    if (!blkdebug_take_perm_list(options, "take-child-perms", &s->take_child_perms, errp) ||
        !blkdebug_take_perm_list(options, "unshare-child-perms", &s->unshare_child_perms,
                                 errp)) {
        return -EINVAL;
    }
    if (!bdrv_opt_take_size(options, "align", 0, &s->align, errp) ||
        !bdrv_opt_take_size(options, "max-transfer", 0, &s->max_transfer, errp) ||
        !blkdebug_check_limits(s, errp)) {
        return -EINVAL;
    }
    if (s->config_file && !blkdebug_read_config(s, s->config_file, errp)) {
        return -EINVAL;
    }
    if (!blkdebug_options_rules(s, options, "inject-error", ACTION_INJECT_ERROR, errp) ||
        !blkdebug_options_rules(s, options, "set-state", ACTION_SET_STATE, errp)) {
        return -EINVAL;
    }
    s->state = 1;

    BdrvChild *child = bdrv_open_child(image, options, "image", bs,
                                       BDRV_CHILD_FILTERED | BDRV_CHILD_PRIMARY, false, errp);
    if (!child) {
        return -EINVAL;
    }
    if (!bs->file) {
        bs->file = child;
    }
    bs->supported_write_flags = BDRV_REQ_WRITE_UNCHANGED |
                                (BDRV_REQ_FUA & child->bs->supported_write_flags);
    bs->supported_zero_flags = BDRV_REQ_WRITE_UNCHANGED |
        ((BDRV_REQ_FUA | BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK) &
         child->bs->supported_zero_flags);
    bdrv_debug_event(bs, BLKDBG_NONE);
    return 0;
}

static void blkdebug_close(BlockDriverState *bs)
{
    BDRVBlkdebugState *s = bs->opaque;

    for (int i = 0; i < BLKDBG__MAX; i++) {
        g_list_free_full(s->rules[i], (GDestroyNotify)blkdebug_free_rule);
        s->rules[i] = NULL;
    }
    g_list_free(s->active_rules);
    s->active_rules = NULL;
    g_free(s->config_file);
    s->config_file = NULL;
}

static void blkdebug_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVBlkdebugState *s = bs->opaque;

    if (s->align) {
        bs->bl.request_alignment = s->align;
    }
    if (s->max_transfer) {
        bs->bl.max_transfer = s->max_transfer;
    }
}

/* ---------------------------------------------------------------------------
 * Data path: check the active rules, then pass the request to the image.
 */

static int coroutine_fn blkdebug_rule_check(BlockDriverState *bs, int64_t offset,
                                            int64_t bytes, BlkdebugIOType iotype)
{
    BDRVBlkdebugState *s = bs->opaque;
    BlkdebugRule *rule = NULL;

    for (GList *l = s->active_rules; l; l = l->next) {
        BlkdebugRule *r = l->data;
        bool hit = r->offset == -1 ||
                   (bytes && r->offset >= offset && r->offset < offset + bytes);
        if (hit && (r->iotype_mask & (1u << iotype))) {
            rule = r;
            break;
        }
    }
    if (!rule || !rule->error) {
        return 0;
    }
    int error = rule->error;
    bool immediately = rule->immediately;
    if (rule->once) {
        blkdebug_remove_rule(s, rule);
    }
    if (!immediately) {
        /* Fail like a real AIO request: after a round trip through the event loop. */
        aio_co_schedule(qemu_get_current_aio_context(), qemu_coroutine_self());
        qemu_coroutine_yield();
    }
    return -error;
}

static int coroutine_fn blkdebug_co_preadv(BlockDriverState *bs, int64_t offset,
                                           int64_t bytes, QEMUIOVector *qiov,
                                           size_t qiov_offset, BdrvRequestFlags flags)
{
    int err = blkdebug_rule_check(bs, offset, bytes, BLKDEBUG_IO_READ);

    return err ? err : bdrv_co_preadv_part(bs->file, offset, bytes, qiov, qiov_offset, flags);
}

static int coroutine_fn blkdebug_co_pwritev(BlockDriverState *bs, int64_t offset,
                                            int64_t bytes, QEMUIOVector *qiov,
                                            size_t qiov_offset, BdrvRequestFlags flags)
{
    int err = blkdebug_rule_check(bs, offset, bytes, BLKDEBUG_IO_WRITE);

    return err ? err : bdrv_co_pwritev_part(bs->file, offset, bytes, qiov, qiov_offset, flags);
}

static int coroutine_fn blkdebug_co_pwrite_zeroes(BlockDriverState *bs, int64_t offset,
                                                  int64_t bytes, BdrvRequestFlags flags)
{
    int err = blkdebug_rule_check(bs, offset, bytes, BLKDEBUG_IO_WRITE_ZEROES);

    return err ? err : bdrv_co_pwrite_zeroes(bs->file, offset, bytes, flags);
}

static int coroutine_fn blkdebug_co_pdiscard(BlockDriverState *bs, int64_t offset,
                                             int64_t bytes)
{
    int err = blkdebug_rule_check(bs, offset, bytes, BLKDEBUG_IO_DISCARD);

    return err ? err : bdrv_co_pdiscard(bs->file, offset, bytes);
}

static int coroutine_fn blkdebug_co_flush(BlockDriverState *bs)
{
    int err = blkdebug_rule_check(bs, 0, 0, BLKDEBUG_IO_FLUSH);

    return err ? err : bdrv_co_flush(bs->file->bs);
}

static int coroutine_fn blkdebug_co_block_status(BlockDriverState *bs, bool want_zero,
                                                 int64_t offset, int64_t bytes, int64_t *pnum,
                                                 int64_t *map, BlockDriverState **file)
{
    int err = blkdebug_rule_check(bs, offset, bytes, BLKDEBUG_IO_BLOCK_STATUS);

    if (err) {
        return err;
    }
    *pnum = bytes;
    *map = offset;
    *file = bs->file->bs;
    return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID;
}

static int64_t coroutine_fn blkdebug_co_getlength(BlockDriverState *bs)
{
    return bdrv_co_getlength(bs->file->bs);
}

static int coroutine_fn blkdebug_co_truncate(BlockDriverState *bs, int64_t offset, bool exact,
                                             PreallocMode prealloc, BdrvRequestFlags flags,
                                             Error **errp)
{
    return bdrv_co_truncate(bs->file, offset, exact, prealloc, flags, errp);
}

/* ---------------------------------------------------------------------------
 * Events and breakpoints
 */

static void blkdebug_debug_event(BlockDriverState *bs, BlkdebugEvent event)
{
    BDRVBlkdebugState *s = bs->opaque;
    int new_state = s->state;
    bool injected = false;
    GList *suspend = NULL;

    assert(event >= 0 && event < BLKDBG__MAX);
    for (GList *l = s->rules[event], *next; l; l = next) {
        BlkdebugRule *rule = l->data;
        next = l->next;
        if (rule->state && rule->state != s->state) {
            continue;
        }
        switch (rule->action) {
        case ACTION_INJECT_ERROR:
            if (!injected) {
                g_list_free(s->active_rules);     /* this event's rules replace them */
                s->active_rules = NULL;
                injected = true;
            }
            s->active_rules = g_list_prepend(s->active_rules, rule);
            break;
        case ACTION_SET_STATE:
            new_state = rule->new_state;
            break;
        case ACTION_SUSPEND:
            if (qemu_in_coroutine()) {
                suspend = g_list_append(suspend, g_strdup(rule->tag));
                blkdebug_remove_rule(s, rule);    /* breakpoints are one-shot */
            }
            break;
        }
    }
    s->state = new_state;

    for (GList *l = suspend; l; l = l->next) {
        BlkdebugSuspended req = { .co = qemu_coroutine_self(), .tag = l->data, .suspended = true };
        s->suspended = g_list_append(s->suspended, &req);
        printf("blkdebug: Suspended request '%s'\n", req.tag);
        while (req.suspended) {
            qemu_coroutine_yield();
        }
    }
    g_list_free_full(suspend, g_free);
}

static int blkdebug_debug_breakpoint(BlockDriverState *bs, const char *event, const char *tag)
{
    BDRVBlkdebugState *s = bs->opaque;
    int ev = blkdebug_event_from_name(event);

    if (ev < 0) {
        return -ENOENT;
    }
    BlkdebugRule *rule = blkdebug_new_rule(ACTION_SUSPEND);
    rule->event = ev;
    rule->tag = g_strdup(tag);
    s->rules[ev] = g_list_prepend(s->rules[ev], rule);
    return 0;
}

/* Wake the requests suspended at tag: the first one, or all. 0 or -ENOENT. */
static int blkdebug_resume_by_tag(BDRVBlkdebugState *s, const char *tag, bool all)
{
    int ret = -ENOENT;

    for (GList *l = s->suspended, *next; l; l = next) {
        BlkdebugSuspended *req = l->data;
        next = l->next;
        if (strcmp(req->tag, tag)) {
            continue;
        }
        s->suspended = g_list_delete_link(s->suspended, l);
        printf("blkdebug: Resuming request '%s'\n", tag);
        req->suspended = false;
        ret = 0;
        /* Run it now, as QEMU does, so its output comes before the next command's. */
        if (qemu_in_coroutine()) {
            aio_co_wake(req->co);
        } else {
            qemu_coroutine_enter(req->co);
        }
        if (!all) {
            break;
        }
        next = s->suspended;            /* the woken request may have changed the list */
    }
    return ret;
}

static int blkdebug_debug_resume(BlockDriverState *bs, const char *tag)
{
    return blkdebug_resume_by_tag(bs->opaque, tag, false);
}

static int blkdebug_debug_remove_breakpoint(BlockDriverState *bs, const char *tag)
{
    BDRVBlkdebugState *s = bs->opaque;
    int ret = -ENOENT;

    for (int i = 0; i < BLKDBG__MAX; i++) {
        for (GList *l = s->rules[i], *next; l; l = next) {
            BlkdebugRule *rule = l->data;
            next = l->next;
            if (rule->action == ACTION_SUSPEND && !strcmp(rule->tag, tag)) {
                blkdebug_remove_rule(s, rule);
                ret = 0;
            }
        }
    }
    if (blkdebug_resume_by_tag(s, tag, true) == 0) {
        ret = 0;
    }
    return ret;
}

static bool blkdebug_debug_is_suspended(BlockDriverState *bs, const char *tag)
{
    BDRVBlkdebugState *s = bs->opaque;

    for (GList *l = s->suspended; l; l = l->next) {
        if (!strcmp(((BlkdebugSuspended *)l->data)->tag, tag)) {
            return true;
        }
    }
    return false;
}

/*
 * "blkdebug:CONFIG:IMAGE" describes the node when everything else is default
 * and the image has a plain filename; otherwise the core builds json:{...}.
 */
static void blkdebug_refresh_filename(BlockDriverState *bs)
{
    BDRVBlkdebugState *s = bs->opaque;
    const char *image = bs->file ? bs->file->bs->exact_filename : "";

    bs->exact_filename[0] = '\0';
    if (!*image || s->option_rules || s->align || s->max_transfer) {
        return;
    }
    int n = snprintf(bs->exact_filename, sizeof(bs->exact_filename), "blkdebug:%s:%s",
                     s->config_file ? s->config_file : "", image);
    if (n >= (int)sizeof(bs->exact_filename)) {
        bs->exact_filename[0] = '\0';   /* truncated: useless */
    }
}

static const char *const blkdebug_open_options[] = {
    "filename", "config", "x-image", "align", "max-transfer", "take-child-perms",
    "unshare-child-perms", NULL
};

const BlockDriver bdrv_blkdebug = {
    .format_name             = "blkdebug",
    .protocol_name           = "blkdebug",
    .instance_size           = sizeof(BDRVBlkdebugState),
    .flags                   = BDRV_F_FILTER,
    .open_options            = blkdebug_open_options,
    .parse_filename          = blkdebug_parse_filename,
    .open                    = blkdebug_open,
    .close                   = blkdebug_close,
    .refresh_limits          = blkdebug_refresh_limits,
    .child_perm              = blkdebug_child_perm,
    .co_preadv               = blkdebug_co_preadv,
    .co_pwritev              = blkdebug_co_pwritev,
    .co_pwrite_zeroes        = blkdebug_co_pwrite_zeroes,
    .co_pdiscard             = blkdebug_co_pdiscard,
    .co_flush_to_disk        = blkdebug_co_flush,
    .co_block_status         = blkdebug_co_block_status,
    .co_getlength            = blkdebug_co_getlength,
    .co_truncate             = blkdebug_co_truncate,
    .refresh_filename        = blkdebug_refresh_filename,
    .debug_event             = blkdebug_debug_event,
    .debug_breakpoint        = blkdebug_debug_breakpoint,
    .debug_remove_breakpoint = blkdebug_debug_remove_breakpoint,
    .debug_resume            = blkdebug_debug_resume,
    .debug_is_suspended      = blkdebug_debug_is_suspended,
};
