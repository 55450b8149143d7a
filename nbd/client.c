/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * client.c: the client side of the fixed-newstyle handshake (drawn in
 * nbd/proto.h): structured replies, one meta context, NBD_OPT_GO with the
 * EXPORT_NAME fallback, and --list. The transmission phase lives in the block
 * driver (block/drivers/nbd.c). Every reply from the server is length-checked
 * before it is parsed; a server that breaks the protocol ends the handshake with
 * an error, never a crash.
 */
#include "util/osdep.h"
#include "nbd/proto.h"
#include "nbd/nbd.h"

#define NBD_MAX_REPLY_SIZE (64 * 1024)

static int nbd_send_option(NBDSock *sock, uint32_t opt, const void *data, uint32_t len,
                           Error **errp)
{
    uint8_t hdr[NBD_OPT_HDR_SIZE];
    struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)data, len } };

    nbd_st64(hdr, NBD_OPTS_MAGIC);
    nbd_st32(hdr + 8, opt);
    nbd_st32(hdr + 12, len);
    int ret = nbd_sock_writev(sock, iov, len ? 2 : 1);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to send option request %" PRIu32 " (%s)",
                         opt, nbd_opt_name(opt));
    }
    return ret;
}

/* One option reply; *data is a new buffer of *len bytes (NUL-terminated for convenience). */
static int nbd_read_opt_reply(NBDSock *sock, uint32_t opt, uint32_t *type, uint8_t **data,
                              uint32_t *len, Error **errp)
{
    uint8_t hdr[NBD_OPT_REPLY_HDR_SIZE];
    int ret = nbd_sock_read(sock, hdr, sizeof(hdr));

    *data = NULL;
    if (ret < 0) {
        error_setg(errp, "failed to read option reply");
        return -EIO;
    }
    if (nbd_ld64(hdr) != NBD_REP_MAGIC) {
        error_setg(errp, "Unexpected option reply magic");
        return -EINVAL;
    }
    if (nbd_ld32(hdr + 8) != opt) {
        error_setg(errp, "Unexpected option type %" PRIu32 " (%s), expected %" PRIu32 " (%s)",
                   nbd_ld32(hdr + 8), nbd_opt_name(nbd_ld32(hdr + 8)), opt, nbd_opt_name(opt));
        return -EINVAL;
    }
    *type = nbd_ld32(hdr + 12);
    *len = nbd_ld32(hdr + 16);
    if (*len > NBD_MAX_REPLY_SIZE) {
        error_setg(errp, "server's reply to option %s is too long", nbd_opt_name(opt));
        return -EINVAL;
    }
    *data = g_malloc(*len + 1);
    (*data)[*len] = 0;
    if (nbd_sock_read(sock, *data, *len) < 0) {
        g_free(*data);
        *data = NULL;
        error_setg(errp, "failed to read option reply payload");
        return -EIO;
    }
    return 0;
}

/* An error reply: set errp in QEMU's words plus the server's message as a hint. */
static void nbd_opt_reply_error(uint32_t opt, uint32_t type, const uint8_t *data,
                                uint32_t len, Error **errp)
{
    switch (type) {
    case NBD_REP_ERR_UNSUP:
        error_setg(errp, "Unsupported option %s", nbd_opt_name(opt));
        break;
    case NBD_REP_ERR_POLICY:
        error_setg(errp, "Denied by server for option %" PRIu32 " (%s)", opt, nbd_opt_name(opt));
        break;
    case NBD_REP_ERR_INVALID:
        error_setg(errp, "Invalid parameters for option %" PRIu32 " (%s)", opt,
                   nbd_opt_name(opt));
        break;
    case NBD_REP_ERR_UNKNOWN:
        error_setg(errp, "Requested export not available");
        break;
    case NBD_REP_ERR_SHUTDOWN:
        error_setg(errp, "Server shutting down before option %" PRIu32 " (%s)", opt,
                   nbd_opt_name(opt));
        break;
    default:
        error_setg(errp, "Unknown error code when asking for option %" PRIu32 " (%s)",
                   opt, nbd_opt_name(opt));
        break;
    }
    if (len && errp && *errp) {
        error_append_hint(errp, "server reported: %.*s\n", (int)len, (const char *)data);
    }
}

/* An option that answers ACK or an error: 1 = ACK, 0 = error (errp set), -errno. */
static int nbd_simple_option(NBDSock *sock, uint32_t opt, Error **errp)
{
    g_autofree uint8_t *data = NULL;
    uint32_t type, len;

    if (nbd_send_option(sock, opt, NULL, 0, errp) < 0 ||
        nbd_read_opt_reply(sock, opt, &type, &data, &len, errp) < 0) {
        return -EIO;
    }
    if (type == NBD_REP_ACK) {
        return len ? (error_setg(errp, "ACK with data"), -EINVAL) : 1;
    }
    if (!(type & NBD_REP_ERR(0))) {
        error_setg(errp, "Unexpected reply type %" PRIx32 " to option %s", type,
                   nbd_opt_name(opt));
        return -EINVAL;
    }
    nbd_opt_reply_error(opt, type, data, len, errp);
    return 0;
}

/* u32 len + name, u32/u16 count... built into a GByteArray. */
static void put32(GByteArray *a, uint32_t v)
{
    uint8_t b[4];
    nbd_st32(b, v);
    g_byte_array_append(a, b, 4);
}

static void put_str(GByteArray *a, const char *s)
{
    put32(a, strlen(s));
    g_byte_array_append(a, (const uint8_t *)s, strlen(s));
}

/*
 * LIST or SET_META_CONTEXT with one query (NULL: none, i.e. all for LIST).
 * For SET, the context whose name equals query gets selected; for LIST, every
 * name is appended to *names.
 */
static int nbd_meta_context(NBDSock *sock, uint32_t opt, const char *export,
                            const char *query, NBDExportInfo *info, GPtrArray *names,
                            Error **errp)
{
    g_autoptr(GByteArray) a = g_byte_array_new();

    put_str(a, export);
    put32(a, query ? 1 : 0);
    if (query) {
        put_str(a, query);
    }
    if (nbd_send_option(sock, opt, a->data, a->len, errp) < 0) {
        return -EIO;
    }
    for (;;) {
        g_autofree uint8_t *data = NULL;
        uint32_t type, len;
        if (nbd_read_opt_reply(sock, opt, &type, &data, &len, errp) < 0) {
            return -EIO;
        }
        if (type == NBD_REP_ACK) {
            return 0;
        }
        if (type & NBD_REP_ERR(0)) {
            /* not fatal: the export works without contexts */
            return 0;
        }
        if (type != NBD_REP_META_CONTEXT || len < 4 || len - 4 > NBD_MAX_STRING_SIZE) {
            error_setg(errp, "Unexpected reply type %" PRIx32 " to option %s", type,
                       nbd_opt_name(opt));
            return -EINVAL;
        }
        const char *name = (const char *)data + 4;
        if (names) {
            g_ptr_array_add(names, g_strndup(name, len - 4));
        } else if (query && len - 4 == strlen(query) && !memcmp(name, query, len - 4)) {
            if (info->meta_ok) {
                error_setg(errp, "Server replied with more than one context");
                return -EINVAL;
            }
            info->meta_ok = true;
            info->context_id = nbd_ld32(data);
        }
    }
}

/* Parse one NBD_REP_INFO payload into info. */
static int nbd_parse_info(const uint8_t *d, uint32_t len, NBDExportInfo *info, bool *have_export,
                          Error **errp)
{
    if (len < 2) {
        goto bad;
    }
    switch (nbd_ld16(d)) {
    case NBD_INFO_EXPORT:
        if (len != 12) {
            goto bad;
        }
        info->size = nbd_ld64(d + 2);
        info->flags = nbd_ld16(d + 10);
        *have_export = true;
        break;
    case NBD_INFO_BLOCK_SIZE:
        if (len != 14) {
            goto bad;
        }
        info->min_block = nbd_ld32(d + 2);
        info->opt_block = nbd_ld32(d + 6);
        info->max_block = nbd_ld32(d + 10);
        if (!info->min_block || (info->min_block & (info->min_block - 1)) ||
            info->opt_block < info->min_block || info->max_block < info->min_block) {
            error_setg(errp, "server sent invalid block sizes");
            return -EINVAL;
        }
        break;
    case NBD_INFO_DESCRIPTION:
        if (len - 2 > NBD_MAX_STRING_SIZE) {
            goto bad;
        }
        g_free(info->description);
        info->description = g_strndup((const char *)d + 2, len - 2);
        break;
    default:
        break;      /* NAME and future types: ignored */
    }
    return 0;
bad:
    error_setg(errp, "server sent a malformed information reply");
    return -EINVAL;
}

/* INFO or GO: 1 = done, 0 = server lacks the option (fall back), -errno with errp. */
static int nbd_opt_info_go(NBDSock *sock, uint32_t opt, NBDExportInfo *info, Error **errp)
{
    g_autoptr(GByteArray) a = g_byte_array_new();
    uint8_t req[6];
    bool have_export = false;

    put_str(a, info->name);
    nbd_st16(req, 2);
    nbd_st16(req + 2, NBD_INFO_BLOCK_SIZE);
    nbd_st16(req + 4, NBD_INFO_DESCRIPTION);
    g_byte_array_append(a, req, sizeof(req));
    if (nbd_send_option(sock, opt, a->data, a->len, errp) < 0) {
        return -EIO;
    }
    for (;;) {
        g_autofree uint8_t *data = NULL;
        uint32_t type, len;
        if (nbd_read_opt_reply(sock, opt, &type, &data, &len, errp) < 0) {
            return -EIO;
        }
        if (type == NBD_REP_INFO) {
            if (nbd_parse_info(data, len, info, &have_export, errp) < 0) {
                return -EINVAL;
            }
            continue;
        }
        if (type == NBD_REP_ACK) {
            if (!have_export) {
                error_setg(errp, "server did not send export information");
                return -EINVAL;
            }
            return 1;
        }
        if (type == NBD_REP_ERR_UNSUP && opt == NBD_OPT_GO) {
            return 0;
        }
        if (type & NBD_REP_ERR(0)) {
            nbd_opt_reply_error(opt, type, data, len, errp);
            return -EINVAL;
        }
        error_setg(errp, "unexpected reply type %" PRIu32 " to option %s", type,
                   nbd_opt_name(opt));
        return -EINVAL;
    }
}

/* Greeting and client flags: returns the server's handshake flags or -errno. */
static int nbd_start_negotiate(NBDSock *sock, Error **errp)
{
    uint8_t buf[18];

    if (nbd_sock_read(sock, buf, 8) < 0) {
        error_setg(errp, "Failed to read initial magic");
        return -EIO;
    }
    if (nbd_ld64(buf) != NBD_MAGIC) {
        error_setg(errp, "Bad initial magic received: 0x%" PRIx64, nbd_ld64(buf));
        return -EINVAL;
    }
    if (nbd_sock_read(sock, buf, 8) < 0) {
        error_setg(errp, "Failed to read server magic");
        return -EIO;
    }
    if (nbd_ld64(buf) != NBD_OPTS_MAGIC) {
        error_setg(errp, nbd_ld64(buf) == NBD_OLDSTYLE_MAGIC ?
                   "Server is using the oldstyle protocol, which is not supported" :
                   "Bad server magic received: 0x%" PRIx64, nbd_ld64(buf));
        return -EINVAL;
    }
    if (nbd_sock_read(sock, buf, 2) < 0) {
        error_setg(errp, "Failed to read server flags");
        return -EIO;
    }
    uint16_t gflags = nbd_ld16(buf);
    uint32_t cflags = gflags & (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    nbd_st32(buf, cflags);
    if (nbd_sock_write(sock, buf, 4) < 0) {
        error_setg(errp, "Failed to send clientflags field");
        return -EIO;
    }
    return gflags;
}

static int nbd_export_name_fallback(NBDSock *sock, uint16_t gflags, NBDExportInfo *info,
                                    Error **errp)
{
    uint8_t buf[10];

    if (nbd_send_option(sock, NBD_OPT_EXPORT_NAME, info->name, strlen(info->name), errp) < 0) {
        return -EIO;
    }
    if (nbd_sock_read(sock, buf, 10) < 0) {
        error_setg(errp, "Failed to read export length");
        return -EIO;
    }
    info->size = nbd_ld64(buf);
    info->flags = nbd_ld16(buf + 8);
    if (!(gflags & NBD_FLAG_NO_ZEROES) && nbd_sock_skip(sock, 124) < 0) {
        error_setg(errp, "Failed to read reserved block");
        return -EIO;
    }
    return 0;
}

int nbd_receive_negotiate(NBDSock *sock, NBDExportInfo *info, Error **errp)
{
    int gflags = nbd_start_negotiate(sock, errp);
    int ret;

    if (gflags < 0) {
        return gflags;
    }
    info->structured = info->meta_ok = false;
    if (!(gflags & NBD_FLAG_FIXED_NEWSTYLE)) {
        return nbd_export_name_fallback(sock, gflags, info, errp);
    }
    if (info->want_structured) {
        Error *local_err = NULL;
        ret = nbd_simple_option(sock, NBD_OPT_STRUCTURED_REPLY, &local_err);
        error_free(local_err);
        if (ret < 0) {
            error_setg(errp, "Failed to negotiate structured replies");
            return ret;
        }
        info->structured = ret == 1;
    }
    if (info->structured && info->meta_context) {
        ret = nbd_meta_context(sock, NBD_OPT_SET_META_CONTEXT, info->name, info->meta_context,
                               info, NULL, errp);
        if (ret < 0) {
            return ret;
        }
    }
    ret = nbd_opt_info_go(sock, NBD_OPT_GO, info, errp);
    if (ret < 0) {
        return ret;
    }
    if (ret == 0) {
        return nbd_export_name_fallback(sock, gflags, info, errp);
    }
    return 0;
}

/* NBD_OPT_LIST: the export names (descriptions come with INFO). */
static int nbd_list_names(NBDSock *sock, GPtrArray *names, Error **errp)
{
    if (nbd_send_option(sock, NBD_OPT_LIST, NULL, 0, errp) < 0) {
        return -EIO;
    }
    for (;;) {
        g_autofree uint8_t *data = NULL;
        uint32_t type, len;
        if (nbd_read_opt_reply(sock, NBD_OPT_LIST, &type, &data, &len, errp) < 0) {
            return -EIO;
        }
        if (type == NBD_REP_ACK) {
            return 0;
        }
        if (type & NBD_REP_ERR(0)) {
            nbd_opt_reply_error(NBD_OPT_LIST, type, data, len, errp);
            return -EINVAL;
        }
        if (type != NBD_REP_SERVER || len < 4 || nbd_ld32(data) > len - 4) {
            error_setg(errp, "server sent a malformed list reply");
            return -EINVAL;
        }
        g_ptr_array_add(names, g_strndup((const char *)data + 4, nbd_ld32(data)));
    }
}

int nbd_receive_export_list(NBDSock *sock, NBDExportInfo **infos, Error **errp)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    int gflags = nbd_start_negotiate(sock, errp);

    *infos = NULL;
    if (gflags < 0) {
        return gflags;
    }
    if (!(gflags & NBD_FLAG_FIXED_NEWSTYLE)) {
        error_setg(errp, "Server does not support export lists");
        return -EINVAL;
    }
    if (nbd_list_names(sock, names, errp) < 0) {
        return -EIO;
    }
    Error *local_err = NULL;
    int ret = nbd_simple_option(sock, NBD_OPT_STRUCTURED_REPLY, &local_err);
    error_free(local_err);
    if (ret < 0) {
        error_setg(errp, "Failed to negotiate structured replies");
        return ret;
    }
    bool structured = ret == 1;
    NBDExportInfo *arr = g_new0(NBDExportInfo, names->len + 1);
    for (unsigned i = 0; i < names->len; i++) {
        NBDExportInfo *info = &arr[i];
        info->name = g_strdup(names->pdata[i]);
        g_autoptr(GPtrArray) ctx = g_ptr_array_new_with_free_func(g_free);
        if (nbd_opt_info_go(sock, NBD_OPT_INFO, info, errp) < 0 ||
            (structured && nbd_meta_context(sock, NBD_OPT_LIST_META_CONTEXT, info->name, NULL,
                                            info, ctx, errp) < 0)) {
            for (unsigned j = 0; j <= i; j++) {
                nbd_export_info_clear(&arr[j]);
            }
            g_free(arr);
            return -EIO;
        }
        info->contexts = g_new0(char *, ctx->len + 1);
        for (unsigned j = 0; j < ctx->len; j++) {
            info->contexts[j] = g_strdup(ctx->pdata[j]);
        }
    }
    nbd_send_option(sock, NBD_OPT_ABORT, NULL, 0, NULL);   /* the server may close without an ACK */
    *infos = arr;
    return names->len;
}
