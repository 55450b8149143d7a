/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * server-handshake.c: the server side of the fixed-newstyle handshake (see the
 * drawing in nbd/proto.h). Every option's payload is read whole (at most
 * NBD_MAX_OPTION_SIZE bytes, else the client is dropped) and then parsed with
 * bounds checks against that length; a malformed payload gets
 * NBD_REP_ERR_INVALID and the haggling goes on.
 */
#include "util/osdep.h"
#include "nbd/server-int.h"

/* A parsing cursor over one option's payload. */
typedef struct OptBuf {
    const uint8_t *p;
    uint32_t left;
} OptBuf;

static bool opt_get32(OptBuf *b, uint32_t *v)
{
    if (b->left < 4) {
        return false;
    }
    *v = nbd_ld32(b->p);
    b->p += 4;
    b->left -= 4;
    return true;
}

static bool opt_get16(OptBuf *b, uint16_t *v)
{
    if (b->left < 2) {
        return false;
    }
    *v = nbd_ld16(b->p);
    b->p += 2;
    b->left -= 2;
    return true;
}

/* A u32-length-prefixed string, at most NBD_MAX_STRING_SIZE bytes, NUL-free. */
static char *opt_get_str(OptBuf *b)
{
    uint32_t len;

    if (!opt_get32(b, &len) || len > b->left || len > NBD_MAX_STRING_SIZE ||
        memchr(b->p, 0, len)) {
        return NULL;
    }
    char *s = g_strndup((const char *)b->p, len);
    b->p += len;
    b->left -= len;
    return s;
}

static int coroutine_fn nbd_opt_reply(NBDClient *client, uint32_t opt, uint32_t type,
                                      const void *data, uint32_t len)
{
    uint8_t hdr[NBD_OPT_REPLY_HDR_SIZE];
    struct iovec iov[2] = {
        { .iov_base = hdr, .iov_len = sizeof(hdr) },
        { .iov_base = (void *)data, .iov_len = len },
    };

    nbd_encode_opt_reply_hdr(hdr, opt, type, len);
    return nbd_sock_writev(&client->sock, iov, len ? 2 : 1);
}

static int coroutine_fn GODWIT_PRINTF(4, 5)
nbd_opt_error(NBDClient *client, uint32_t opt, uint32_t type, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return nbd_opt_reply(client, opt, type, msg, MIN(strlen(msg), NBD_MAX_STRING_SIZE));
}

/* u32 len + name [+ description]: one NBD_REP_SERVER per export. */
static int coroutine_fn nbd_handle_list(NBDClient *client)
{
    for (NBDExport *exp = nbd_export_next(NULL); exp; exp = nbd_export_next(exp)) {
        size_t nl = strlen(exp->name), dl = exp->description ? strlen(exp->description) : 0;
        g_autofree uint8_t *buf = g_malloc(4 + nl + dl);
        nbd_st32(buf, nl);
        memcpy(buf + 4, exp->name, nl);
        if (dl) {
            memcpy(buf + 4 + nl, exp->description, dl);
        }
        int ret = nbd_opt_reply(client, NBD_OPT_LIST, NBD_REP_SERVER, buf, 4 + nl + dl);
        if (ret < 0) {
            return ret;
        }
    }
    return nbd_opt_reply(client, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
}

static int coroutine_fn nbd_send_info(NBDClient *client, uint32_t opt, uint16_t type,
                                      const void *data, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(2 + len);

    nbd_st16(buf, type);
    memcpy(buf + 2, data, len);
    return nbd_opt_reply(client, opt, NBD_REP_INFO, buf, 2 + len);
}

static void nbd_client_clear_contexts(NBDClient *client)
{
    g_free(client->ctx_bitmaps);
    client->ctx_bitmaps = NULL;
    client->ctx_exp = NULL;
    client->ctx_base = client->ctx_depth = false;
    client->ctx_count = 0;
}

/* INFO and GO: 0 = keep haggling, 1 = GO succeeded, -errno = drop. */
static int coroutine_fn nbd_handle_info(NBDClient *client, uint32_t opt, OptBuf *b)
{
    g_autofree char *name = opt_get_str(b);
    uint16_t nreq = 0;
    bool want_name = false, want_desc = false;

    if (!name || !opt_get16(b, &nreq) || b->left != 2u * nreq) {
        return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID, "malformed %s request",
                             nbd_opt_name(opt));
    }
    for (unsigned i = 0; i < nreq; i++) {
        uint16_t t = 0;
        opt_get16(b, &t);
        want_name |= t == NBD_INFO_NAME;
        want_desc |= t == NBD_INFO_DESCRIPTION;
    }
    NBDExport *exp = nbd_export_lookup(name);
    if (!exp) {
        return nbd_opt_error(client, opt, NBD_REP_ERR_UNKNOWN, "export '%s' not present", name);
    }
    int ret = 0;
    if (want_name) {
        ret = nbd_send_info(client, opt, NBD_INFO_NAME, exp->name, strlen(exp->name));
    }
    if (ret == 0 && want_desc && exp->description) {
        ret = nbd_send_info(client, opt, NBD_INFO_DESCRIPTION, exp->description,
                            strlen(exp->description));
    }
    if (ret == 0) {
        uint8_t bs[12];
        nbd_st32(bs, NBD_MIN_BLOCK);
        nbd_st32(bs + 4, NBD_PREF_BLOCK);
        nbd_st32(bs + 8, NBD_MAX_BUFFER_SIZE);
        ret = nbd_send_info(client, opt, NBD_INFO_BLOCK_SIZE, bs, sizeof(bs));
    }
    if (ret == 0) {
        uint8_t ex[10];
        nbd_st64(ex, exp->size);
        nbd_st16(ex + 8, exp->eflags);
        ret = nbd_send_info(client, opt, NBD_INFO_EXPORT, ex, sizeof(ex));
    }
    if (ret == 0) {
        ret = nbd_opt_reply(client, opt, NBD_REP_ACK, NULL, 0);
    }
    if (ret < 0 || opt == NBD_OPT_INFO) {
        return ret;
    }
    if (client->ctx_exp != exp) {
        nbd_client_clear_contexts(client);
    }
    nbd_export_ref(exp);
    client->exp = exp;
    return 1;
}

/* EXPORT_NAME: no error reply exists, an unknown name drops the client. */
static int coroutine_fn nbd_handle_export_name(NBDClient *client, OptBuf *b)
{
    if (b->left > NBD_MAX_STRING_SIZE || memchr(b->p, 0, b->left)) {
        return -EINVAL;
    }
    g_autofree char *name = g_strndup((const char *)b->p, b->left);
    NBDExport *exp = nbd_export_lookup(name);
    if (!exp) {
        return -ENOENT;
    }
    uint8_t buf[8 + 2 + 124] = { 0 };
    nbd_st64(buf, exp->size);
    nbd_st16(buf + 8, exp->eflags);
    int ret = nbd_sock_write(&client->sock, buf, client->no_zeroes ? 10 : sizeof(buf));
    if (ret < 0) {
        return ret;
    }
    if (client->ctx_exp != exp) {
        nbd_client_clear_contexts(client);
    }
    nbd_export_ref(exp);
    client->exp = exp;
    return 1;
}

static int coroutine_fn nbd_send_context(NBDClient *client, uint32_t opt, uint32_t id,
                                         const char *name)
{
    size_t len = strlen(name);
    g_autofree uint8_t *buf = g_malloc(4 + len);

    nbd_st32(buf, id);
    memcpy(buf + 4, name, len);
    return nbd_opt_reply(client, opt, NBD_REP_META_CONTEXT, buf, 4 + len);
}

/*
 * Which contexts of exp a query names. LIST accepts the namespace-wide forms
 * ("base:", "qemu:", "qemu:dirty-bitmap:") and an empty query list (all).
 */
static void nbd_match_query(NBDExport *exp, const char *q, bool list, bool *base,
                            bool *depth, bool *bitmaps)
{
    bool all = q == NULL;

    if (all || !strcmp(q, "base:allocation") || (list && !strcmp(q, "base:"))) {
        *base = true;
    }
    if (exp->allocation_depth &&
        (all || !strcmp(q, "qemu:allocation-depth") || (list && !strcmp(q, "qemu:")))) {
        *depth = true;
    }
    for (unsigned i = 0; i < exp->nr_bitmaps; i++) {
        if (all || !strcmp(q, exp->bitmap_names[i]) ||
            (list && (!strcmp(q, "qemu:") || !strcmp(q, "qemu:dirty-bitmap:")))) {
            bitmaps[i] = true;
        }
    }
}

static int coroutine_fn nbd_handle_meta_context(NBDClient *client, uint32_t opt, OptBuf *b)
{
    bool list = opt == NBD_OPT_LIST_META_CONTEXT;
    g_autofree char *name = opt_get_str(b);
    uint32_t nq;

    if (!client->structured) {
        return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID,
                             "request requires structured reply");
    }
    if (!list) {
        nbd_client_clear_contexts(client);
    }
    if (!name || !opt_get32(b, &nq)) {
        return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID, "malformed meta context request");
    }
    NBDExport *exp = nbd_export_lookup(name);
    if (!exp) {
        return nbd_opt_error(client, opt, NBD_REP_ERR_UNKNOWN, "export '%s' not present", name);
    }
    bool base = false, depth = false;
    g_autofree bool *bitmaps = g_new0(bool, exp->nr_bitmaps + 1);
    if (nq == 0 && list) {
        nbd_match_query(exp, NULL, true, &base, &depth, bitmaps);
    }
    for (uint32_t i = 0; i < nq; i++) {
        g_autofree char *q = opt_get_str(b);
        if (!q) {
            return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID, "malformed meta context query");
        }
        nbd_match_query(exp, q, list, &base, &depth, bitmaps);
    }
    if (b->left) {
        return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID, "trailing bytes in request");
    }
    int ret = 0;
    unsigned count = 0;
    if (base) {
        ret = nbd_send_context(client, opt, NBD_CTX_BASE_ALLOCATION, "base:allocation");
        count++;
    }
    if (ret == 0 && depth) {
        ret = nbd_send_context(client, opt, NBD_CTX_ALLOCATION_DEPTH, "qemu:allocation-depth");
        count++;
    }
    for (unsigned i = 0; ret == 0 && i < exp->nr_bitmaps; i++) {
        if (bitmaps[i]) {
            ret = nbd_send_context(client, opt, NBD_CTX_BITMAP0 + i, exp->bitmap_names[i]);
            count++;
        }
    }
    if (ret < 0) {
        return ret;
    }
    if (!list) {
        client->ctx_exp = exp;
        client->ctx_base = base;
        client->ctx_depth = depth;
        client->ctx_bitmaps = g_steal_pointer(&bitmaps);
        client->ctx_count = count;
    }
    return nbd_opt_reply(client, opt, NBD_REP_ACK, NULL, 0);
}

/* One option: 0 = next option, 1 = transmission, -errno = drop. */
static int coroutine_fn nbd_handle_option(NBDClient *client, uint32_t opt, OptBuf *b)
{
    switch (opt) {
    case NBD_OPT_EXPORT_NAME:
        return nbd_handle_export_name(client, b);
    case NBD_OPT_ABORT:
        nbd_opt_reply(client, opt, NBD_REP_ACK, NULL, 0);
        return -ESHUTDOWN;
    case NBD_OPT_LIST:
        if (b->left) {
            return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID, "list request has data");
        }
        return nbd_handle_list(client);
    case NBD_OPT_STARTTLS:
        return nbd_opt_error(client, opt, NBD_REP_ERR_POLICY, "TLS not configured");
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
        return nbd_handle_info(client, opt, b);
    case NBD_OPT_STRUCTURED_REPLY:
        if (b->left) {
            return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID,
                                 "structured reply request has data");
        }
        if (client->structured) {
            return nbd_opt_error(client, opt, NBD_REP_ERR_INVALID,
                                 "structured reply already negotiated");
        }
        client->structured = true;
        return nbd_opt_reply(client, opt, NBD_REP_ACK, NULL, 0);
    case NBD_OPT_LIST_META_CONTEXT:
    case NBD_OPT_SET_META_CONTEXT:
        return nbd_handle_meta_context(client, opt, b);
    default:
        return nbd_opt_error(client, opt, NBD_REP_ERR_UNSUP, "unsupported option %" PRIu32, opt);
    }
}

int coroutine_fn nbd_server_negotiate(NBDClient *client)
{
    uint8_t buf[NBD_OPT_HDR_SIZE + 2];
    uint32_t cflags;
    int ret;

    nbd_st64(buf, NBD_MAGIC);
    nbd_st64(buf + 8, NBD_OPTS_MAGIC);
    nbd_st16(buf + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    ret = nbd_sock_write(&client->sock, buf, 18);
    if (ret == 0) {
        ret = nbd_sock_read(&client->sock, buf, 4);
    }
    if (ret < 0) {
        return ret;
    }
    cflags = nbd_ld32(buf);
    if (cflags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
        return -EINVAL;
    }
    client->no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;

    for (;;) {
        ret = nbd_sock_read(&client->sock, buf, NBD_OPT_HDR_SIZE);
        if (ret < 0) {
            return ret;
        }
        uint32_t opt = nbd_ld32(buf + 8), len = nbd_ld32(buf + 12);
        if (nbd_ld64(buf) != NBD_OPTS_MAGIC || len > NBD_MAX_OPTION_SIZE) {
            return -EINVAL;
        }
        g_autofree uint8_t *data = g_malloc(len ? len : 1);
        ret = nbd_sock_read(&client->sock, data, len);
        if (ret < 0) {
            return ret;
        }
        OptBuf b = { .p = data, .left = len };
        ret = nbd_handle_option(client, opt, &b);
        if (ret != 0) {
            return ret < 0 ? ret : 0;
        }
    }
}
