/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * proto.h: the NBD wire protocol (fixed newstyle handshake, simple and
 * structured replies, meta contexts), as the NetworkBlockDevice project's
 * proto.md specifies it. All integers are big-endian on the wire.
 *
 * Handshake (server S, client C):
 *
 *   S: u64 NBDMAGIC  u64 IHAVEOPT  u16 handshake flags (FIXED_NEWSTYLE|NO_ZEROES)
 *   C: u32 client flags (the same bits, echoed)
 *   repeat:
 *     C: u64 IHAVEOPT  u32 option  u32 length  [length bytes of data]
 *     S: u64 REPLY_MAGIC  u32 option  u32 reply type  u32 length  [data]   (n times)
 *   until GO/EXPORT_NAME succeeds (transmission) or ABORT (disconnect).
 *
 *   INFO/GO data:      u32 namelen, name, u16 n, n * u16 info type
 *   INFO replies:      u16 type then EXPORT: u64 size, u16 tflags
 *                                    NAME: name   DESCRIPTION: text
 *                                    BLOCK_SIZE: u32 min, u32 preferred, u32 max
 *   LIST reply SERVER: u32 namelen, name, [description]
 *   {LIST,SET}_META_CONTEXT data: u32 namelen, export name, u32 n, n * (u32 len, query)
 *   META_CONTEXT reply: u32 context id, context name
 *   EXPORT_NAME data:  the name; reply (no header!): u64 size, u16 tflags,
 *                      124 zero bytes unless NO_ZEROES was agreed
 *
 * Transmission:
 *
 *   request (28):   u32 REQUEST_MAGIC u16 cmd flags u16 type u64 handle u64 offset u32 length
 *                   [WRITE: length bytes of data]
 *   simple (16):    u32 SIMPLE_REPLY_MAGIC u32 error u64 handle  [READ ok: length bytes]
 *   structured (20):u32 STRUCTURED_REPLY_MAGIC u16 flags(DONE) u16 type u64 handle u32 length
 *     OFFSET_DATA:   u64 offset, data              OFFSET_HOLE: u64 offset, u32 hole size
 *     BLOCK_STATUS:  u32 context id, n * (u32 extent length, u32 status flags)
 *     ERROR:         u32 error, u16 msglen, msg    ERROR_OFFSET: ... then u64 offset
 *     NONE:          (empty; only with DONE)
 *
 * Everything here is plain data plus inline encoders/decoders; the socket
 * helpers live in nbd/common.c (include/nbd/nbd.h).
 */
#ifndef GODWIT_NBD_PROTO_H
#define GODWIT_NBD_PROTO_H

#include "util/osdep.h"

/* ---- handshake ---- */
#define NBD_MAGIC                 0x4e42444d41474943ULL   /* "NBDMAGIC" */
#define NBD_OPTS_MAGIC            0x49484156454F5054ULL   /* "IHAVEOPT" */
#define NBD_REP_MAGIC             0x0003e889045565a9ULL
#define NBD_OLDSTYLE_MAGIC        0x0000420281861253ULL

#define NBD_FLAG_FIXED_NEWSTYLE   (1 << 0)
#define NBD_FLAG_NO_ZEROES        (1 << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE NBD_FLAG_FIXED_NEWSTYLE
#define NBD_FLAG_C_NO_ZEROES      NBD_FLAG_NO_ZEROES

enum {
    NBD_OPT_EXPORT_NAME       = 1,
    NBD_OPT_ABORT             = 2,
    NBD_OPT_LIST              = 3,
    NBD_OPT_STARTTLS          = 5,
    NBD_OPT_INFO              = 6,
    NBD_OPT_GO                = 7,
    NBD_OPT_STRUCTURED_REPLY  = 8,
    NBD_OPT_LIST_META_CONTEXT = 9,
    NBD_OPT_SET_META_CONTEXT  = 10,
};

#define NBD_REP_ERR(x)            ((1U << 31) | (x))
enum {
    NBD_REP_ACK               = 1,
    NBD_REP_SERVER            = 2,
    NBD_REP_INFO              = 3,
    NBD_REP_META_CONTEXT      = 4,
    NBD_REP_ERR_UNSUP         = NBD_REP_ERR(1),
    NBD_REP_ERR_POLICY        = NBD_REP_ERR(2),
    NBD_REP_ERR_INVALID       = NBD_REP_ERR(3),
    NBD_REP_ERR_PLATFORM      = NBD_REP_ERR(4),
    NBD_REP_ERR_TLS_REQD      = NBD_REP_ERR(5),
    NBD_REP_ERR_UNKNOWN       = NBD_REP_ERR(6),
    NBD_REP_ERR_SHUTDOWN      = NBD_REP_ERR(7),
    NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_ERR(8),
    NBD_REP_ERR_TOO_BIG       = NBD_REP_ERR(9),
};

enum {
    NBD_INFO_EXPORT           = 0,
    NBD_INFO_NAME             = 1,
    NBD_INFO_DESCRIPTION      = 2,
    NBD_INFO_BLOCK_SIZE       = 3,
};

/* ---- transmission flags (u16, sent with the export size) ---- */
enum {
    NBD_FLAG_HAS_FLAGS        = 1 << 0,
    NBD_FLAG_READ_ONLY        = 1 << 1,
    NBD_FLAG_SEND_FLUSH       = 1 << 2,
    NBD_FLAG_SEND_FUA         = 1 << 3,
    NBD_FLAG_ROTATIONAL       = 1 << 4,
    NBD_FLAG_SEND_TRIM        = 1 << 5,
    NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6,
    NBD_FLAG_SEND_DF          = 1 << 7,
    NBD_FLAG_CAN_MULTI_CONN   = 1 << 8,
    NBD_FLAG_SEND_RESIZE      = 1 << 9,
    NBD_FLAG_SEND_CACHE       = 1 << 10,
    NBD_FLAG_SEND_FAST_ZERO   = 1 << 11,
};

/* ---- requests ---- */
#define NBD_REQUEST_MAGIC         0x25609513U
#define NBD_SIMPLE_REPLY_MAGIC    0x67446698U
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efU

enum {
    NBD_CMD_FLAG_FUA          = 1 << 0,
    NBD_CMD_FLAG_NO_HOLE      = 1 << 1,
    NBD_CMD_FLAG_DF           = 1 << 2,
    NBD_CMD_FLAG_REQ_ONE      = 1 << 3,
    NBD_CMD_FLAG_FAST_ZERO    = 1 << 4,
};

enum {
    NBD_CMD_READ              = 0,
    NBD_CMD_WRITE             = 1,
    NBD_CMD_DISC              = 2,
    NBD_CMD_FLUSH             = 3,
    NBD_CMD_TRIM              = 4,
    NBD_CMD_CACHE             = 5,
    NBD_CMD_WRITE_ZEROES      = 6,
    NBD_CMD_BLOCK_STATUS      = 7,
};

/* ---- structured replies ---- */
#define NBD_REPLY_FLAG_DONE       (1 << 0)
#define NBD_REPLY_TYPE_ERROR_BIT  (1 << 15)
enum {
    NBD_REPLY_TYPE_NONE         = 0,
    NBD_REPLY_TYPE_OFFSET_DATA  = 1,
    NBD_REPLY_TYPE_OFFSET_HOLE  = 2,
    NBD_REPLY_TYPE_BLOCK_STATUS = 5,
    NBD_REPLY_TYPE_ERROR        = NBD_REPLY_TYPE_ERROR_BIT | 1,
    NBD_REPLY_TYPE_ERROR_OFFSET = NBD_REPLY_TYPE_ERROR_BIT | 2,
};

/* base:allocation status bits; qemu:dirty-bitmap uses bit 0 for "dirty". */
#define NBD_STATE_HOLE            (1 << 0)
#define NBD_STATE_ZERO            (1 << 1)
#define NBD_STATE_DIRTY           (1 << 0)

/* ---- errors on the wire (the values are fixed by the protocol) ---- */
#define NBD_SUCCESS    0
#define NBD_EPERM      1
#define NBD_EIO        5
#define NBD_ENOMEM     12
#define NBD_EINVAL     22
#define NBD_ENOSPC     28
#define NBD_EOVERFLOW  75
#define NBD_ENOTSUP    95
#define NBD_ESHUTDOWN  108

/* ---- limits ---- */
#define NBD_MAX_BUFFER_SIZE       (32 * 1024 * 1024)   /* largest READ/WRITE payload */
#define NBD_MAX_STRING_SIZE       4096                 /* names, descriptions, contexts */
#define NBD_MAX_OPTION_SIZE       (NBD_MAX_STRING_SIZE * 2 + 64 * 1024)
#define NBD_MIN_BLOCK             1
#define NBD_PREF_BLOCK            4096

/* ---- fixed-size headers ---- */
#define NBD_REQUEST_SIZE          28
#define NBD_SIMPLE_REPLY_SIZE     16
#define NBD_STRUCTURED_HDR_SIZE   20
#define NBD_OPT_HDR_SIZE          16
#define NBD_OPT_REPLY_HDR_SIZE    20

typedef struct NBDRequest {
    uint16_t flags;             /* NBD_CMD_FLAG_* */
    uint16_t type;              /* NBD_CMD_* */
    uint64_t handle;            /* opaque to the server, echoed in every reply */
    uint64_t offset;
    uint32_t len;
} NBDRequest;

typedef struct NBDStructuredHdr {
    uint16_t flags;
    uint16_t type;
    uint64_t handle;
    uint32_t length;            /* payload bytes that follow */
} NBDStructuredHdr;

/* ---- big-endian load/store ---- */
static inline void nbd_st16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void nbd_st32(uint8_t *p, uint32_t v)
{
    nbd_st16(p, v >> 16);
    nbd_st16(p + 2, v);
}
static inline void nbd_st64(uint8_t *p, uint64_t v)
{
    nbd_st32(p, v >> 32);
    nbd_st32(p + 4, v);
}
static inline uint16_t nbd_ld16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t nbd_ld32(const uint8_t *p)
{
    return (uint32_t)nbd_ld16(p) << 16 | nbd_ld16(p + 2);
}
static inline uint64_t nbd_ld64(const uint8_t *p)
{
    return (uint64_t)nbd_ld32(p) << 32 | nbd_ld32(p + 4);
}

/* Serialise/parse fixed headers (common.c). Parsers return false on a bad magic. */
void nbd_encode_request(uint8_t buf[NBD_REQUEST_SIZE], const NBDRequest *req);
bool nbd_decode_request(const uint8_t buf[NBD_REQUEST_SIZE], NBDRequest *req);
void nbd_encode_simple_reply(uint8_t buf[NBD_SIMPLE_REPLY_SIZE], uint32_t nbd_err,
                             uint64_t handle);
void nbd_encode_structured_hdr(uint8_t buf[NBD_STRUCTURED_HDR_SIZE], const NBDStructuredHdr *h);
void nbd_encode_opt_reply_hdr(uint8_t buf[NBD_OPT_REPLY_HDR_SIZE], uint32_t opt,
                              uint32_t type, uint32_t len);

/* errno <-> wire error. Unknown errno values become NBD_EINVAL (EIO for -EIO...). */
uint32_t nbd_errno_to_wire(int err);        /* err: positive errno */
int nbd_wire_to_errno(uint32_t nbd_err);    /* positive errno; unknown -> EINVAL */

/* Names for logs and -L ("flush", "fua", ...). */
const char *nbd_cmd_name(uint16_t type);
const char *nbd_opt_name(uint32_t opt);

#endif /* GODWIT_NBD_PROTO_H */
