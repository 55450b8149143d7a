#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# make-nbd-client-seeds.py: write the seed corpus of fuzz-nbd-client (see the
# input format at the top of fuzz/fuzz-nbd-client.c): valid server sessions for
# the handshake variants and the request script, plus error replies.
#
#   python3 fuzz/corpus/make-nbd-client-seeds.py [fuzz/corpus/nbd-client]
#
# regress-* seeds replay bugs that fuzzing found; they must keep failing cleanly.
import os
import struct
import sys

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x0003E889045565A9
SIMPLE_MAGIC = 0x67446698
STRUCT_MAGIC = 0x668E33EF
SEP = b"NEXT"

OPT_EXPORT_NAME, OPT_LIST, OPT_INFO, OPT_GO = 1, 3, 6, 7
OPT_STRUCTURED, OPT_LIST_META, OPT_SET_META = 8, 9, 10
REP_ACK, REP_SERVER, REP_INFO, REP_META = 1, 2, 3, 4
REP_ERR_UNSUP, REP_ERR_UNKNOWN = (1 << 31) | 1, (1 << 31) | 6
INFO_EXPORT, INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE = 0, 1, 2, 3
T_NONE, T_DATA, T_HOLE, T_STATUS, T_ERROR = 0, 1, 2, 5, (1 << 15) | 1
DONE = 1
# HAS_FLAGS SEND_FLUSH SEND_FUA SEND_TRIM SEND_WRITE_ZEROES
TFLAGS = 0x1 | 0x4 | 0x8 | 0x20 | 0x40
SIZE = 1 << 20
CTX_ID = 7

CFG_LIST, CFG_BITMAP, CFG_READONLY = 1, 2, 4


def greeting(flags=3):
    return struct.pack(">QQH", NBDMAGIC, IHAVEOPT, flags)


def opt_reply(opt, rtype, data=b""):
    return struct.pack(">QIII", REP_MAGIC, opt, rtype, len(data)) + data


def meta(ctx_name, ctx_id=CTX_ID):
    return (opt_reply(OPT_SET_META, REP_META, struct.pack(">I", ctx_id) + ctx_name) +
            opt_reply(OPT_SET_META, REP_ACK))


def go(size=SIZE, tflags=TFLAGS, block_sizes=None, opt=OPT_GO):
    out = opt_reply(opt, REP_INFO, struct.pack(">HQH", INFO_EXPORT, size, tflags))
    if block_sizes:
        out += opt_reply(opt, REP_INFO, struct.pack(">HIII", INFO_BLOCK_SIZE, *block_sizes))
    out += opt_reply(opt, REP_INFO, struct.pack(">H", INFO_DESCRIPTION) + b"fuzz seed")
    return out + opt_reply(opt, REP_ACK)


def structured_handshake(ctx=b"base:allocation", **kw):
    return greeting() + opt_reply(OPT_STRUCTURED, REP_ACK) + meta(ctx) + go(**kw)


def simple(handle, error=0, payload=b""):
    return struct.pack(">IIQ", SIMPLE_MAGIC, error, handle) + payload


def chunk(handle, ctype, payload, flags=0):
    return struct.pack(">IHHQI", STRUCT_MAGIC, flags, ctype, handle, len(payload)) + payload


def data_chunk(handle, offset, data, flags=0):
    return chunk(handle, T_DATA, struct.pack(">Q", offset) + data, flags)


def hole_chunk(handle, offset, length, flags=0):
    return chunk(handle, T_HOLE, struct.pack(">QI", offset, length), flags)


def status_chunk(handle, extents, ctx_id=CTX_ID, flags=DONE):
    body = struct.pack(">I", ctx_id) + b"".join(struct.pack(">II", l, f) for l, f in extents)
    return chunk(handle, T_STATUS, body, flags)


def error_chunk(handle, err, msg, flags=DONE):
    return chunk(handle, T_ERROR, struct.pack(">IH", err, len(msg)) + msg, flags)


def none_chunk(handle):
    return chunk(handle, T_NONE, b"", DONE)


def session(cfg, *segments):
    assert not any(SEP in seg for seg in segments)
    return bytes([cfg]) + SEP.join(segments)


MID = SIZE // 2
# The script (fuzz_script in fuzz-nbd-client.c), one segment per phase:
#   1 read 0+4096 (h0)   2 block status 0 (h0)   3 read mid+8192 (h0), read 0+512 (h1)
#   4 write 0+4096 (h0), write zeroes 4096+4096 (h1), trim 8192+4096 (h2), flush (h3)
#   5 block status mid (h0), read 0+65536 (h1)
structured_phases = [
    data_chunk(0, 0, b"\x11" * 4096, DONE),
    status_chunk(0, [(65536, 0), (65536, 3)]),
    # out of order: h1 first; h0 as a hole then data, ended by an empty chunk
    data_chunk(1, 0, b"\x22" * 512, DONE) +
    hole_chunk(0, MID, 4096) + data_chunk(0, MID + 4096, b"\x33" * 4096) + none_chunk(0),
    simple(3) + simple(1) + simple(0) + simple(2),
    status_chunk(0, [(4096, 3)]) + data_chunk(1, 0, b"\x44" * 16384, DONE),
]

plain_phases = [
    simple(0, payload=b"\x11" * 4096),
    b"",                                       # no meta context: no block status request
    simple(1, payload=b"\x22" * 512) + simple(0, payload=b"\x33" * 8192),
    simple(0) + simple(1) + simple(2) + simple(3),
    simple(0, payload=b"\x44" * 16384),
]

seeds = {
    # structured replies, base:allocation, every phase answered
    "structured-session": session(0, structured_handshake(), *structured_phases),
    # server without structured replies: simple replies carry the read data
    "plain-session": session(0, greeting() + opt_reply(OPT_STRUCTURED, REP_ERR_UNSUP) + go(),
                             *plain_phases),
    # qemu:dirty-bitmap:b0 as the context; block sizes announced
    "bitmap-session": session(CFG_BITMAP,
                              structured_handshake(b"qemu:dirty-bitmap:b0",
                                                   block_sizes=(512, 4096, 1 << 20)),
                              *structured_phases),
    # errors: an ERROR chunk for the read, a failed block status, EIO/ENOSPC writes
    "error-replies": session(0, structured_handshake(),
                             error_chunk(0, 5, b"injected read error"),
                             error_chunk(0, 22, b"no status"),
                             error_chunk(1, 5, b"") + data_chunk(0, MID, b"\x33" * 8192, DONE),
                             simple(0, 5) + simple(1, 28) + simple(2, 1) + simple(3, 5)),
    # GO refused: "Requested export not available" with the server's message
    "go-unknown-export": session(0, greeting() + opt_reply(OPT_STRUCTURED, REP_ACK) +
                                meta(b"base:allocation") +
                                opt_reply(OPT_GO, REP_ERR_UNKNOWN, b"no such export")),
    # a server without GO: EXPORT_NAME fallback, then a read-only export
    "export-name-fallback": session(CFG_READONLY,
                                    greeting() + opt_reply(OPT_STRUCTURED, REP_ERR_UNSUP) +
                                    opt_reply(OPT_GO, REP_ERR_UNSUP) +
                                    struct.pack(">QH", SIZE, 0x1 | 0x2),
                                    simple(0, payload=b"\x11" * 4096)),
    # not fixed newstyle: straight to EXPORT_NAME, with the 124 reserved zero bytes
    "newstyle-unfixed": session(0, greeting(0) + struct.pack(">QH", SIZE, 0x1) + bytes(124),
                                simple(0, payload=b"\x11" * 4096)),
    # --list: two exports with their descriptions and meta contexts
    "list": session(CFG_LIST,
                    greeting() +
                    opt_reply(OPT_LIST, REP_SERVER, struct.pack(">I", 1) + b"a") +
                    opt_reply(OPT_LIST, REP_SERVER, struct.pack(">I", 2) + b"bbdesc") +
                    opt_reply(OPT_LIST, REP_ACK) +
                    opt_reply(OPT_STRUCTURED, REP_ACK) +
                    go(opt=OPT_INFO) +
                    opt_reply(OPT_LIST_META, REP_META, struct.pack(">I", 1) + b"base:allocation") +
                    opt_reply(OPT_LIST_META, REP_ACK) +
                    go(size=4096, opt=OPT_INFO, block_sizes=(1, 4096, 65536)) +
                    opt_reply(OPT_LIST_META, REP_ACK)),
    # a structured read reply that fills only half the request, then says DONE:
    # the read must fail (EIO, "left 2048 bytes unfilled"), not return stale bytes
    "regress-read-gap": session(0, structured_handshake(),
                                data_chunk(0, 0, b"\x11" * 2048, DONE)),
    # two chunks for the same bytes: "overlapping read chunks", connection dropped
    "regress-read-overlap": session(0, structured_handshake(),
                                    data_chunk(0, 0, b"\x11" * 4096) +
                                    hole_chunk(0, 0, 4096, DONE)),
}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                                "nbd-client")
    os.makedirs(outdir, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
