/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The qemu-io data commands: read, write, readv, writev, discard and their
 * asynchronous forms aio_read, aio_write, aio_flush. Option letters, checks
 * and messages follow QEMU 7.2's qemu-io; the reads fill their buffer with 0xab
 * first and writes default to the pattern 0xcd, as there.
 */
#include "util/osdep.h"
#include "io-internal.h"
#include <getopt.h>

static int io_usage(const char *name)
{
    for (const IoCmd *ct = io_rw_cmds; ct->name; ct++) {
        if (!strcmp(ct->name, name)) {
            qemuio_command_usage(ct);
        }
    }
    return -EINVAL;
}

/* Parse argv[i] as an offset or length; prints the error and returns < 0. */
static int64_t io_num_arg(char **argv, int i)
{
    int64_t v = qemuio_cvtnum(argv[i]);

    if (v < 0) {
        qemuio_print_cvtnum_err(v, argv[i]);
    }
    return v;
}

/* Compare len bytes of buf with pattern; print QEMU's message on a mismatch. */
static bool io_verify(const uint8_t *buf, int64_t len, int pattern, int64_t report_off)
{
    for (int64_t i = 0; i < len; i++) {
        if (buf[i] != pattern) {
            printf("Pattern verification failed at offset %" PRId64 ", %" PRId64 " bytes\n",
                   report_off, len);
            return false;
        }
    }
    return true;
}

void *io_create_iovec(BlockBackend *blk, QEMUIOVector *qiov, char **argv, int nr,
                      int pattern)
{
    g_autofree int64_t *lens = g_new(int64_t, nr);
    int64_t total = 0;

    for (int i = 0; i < nr; i++) {
        lens[i] = qemuio_cvtnum(argv[i]);
        if (lens[i] < 0) {
            qemuio_print_cvtnum_err(lens[i], argv[i]);
            return NULL;
        }
        if (lens[i] > IO_REQUEST_MAX_BYTES) {
            printf("Argument '%s' exceeds maximum size %" PRId64 "\n", argv[i],
                   IO_REQUEST_MAX_BYTES);
            return NULL;
        }
        if (total + lens[i] > IO_REQUEST_MAX_BYTES) {
            printf("The total number of bytes exceed the maximum size %" PRId64 "\n",
                   IO_REQUEST_MAX_BYTES);
            return NULL;
        }
        total += lens[i];
    }
    uint8_t *buf = io_alloc(blk, total, pattern), *p = buf;
    qemu_iovec_init(qiov, nr);
    for (int i = 0; i < nr; i++) {
        qemu_iovec_add(qiov, p, lens[i]);
        p += lens[i];
    }
    return buf;
}

/* Fill buf with the contents of file, repeated as needed (write -s). */
static bool io_fill_from_file(uint8_t *buf, int64_t len, const char *file)
{
    FILE *f = fopen(file, "r");
    int64_t got = 0;

    if (!f) {
        perror(file);
        return false;
    }
    while (got < len) {
        size_t n = fread(buf + got, 1, len - got, f);
        if (n == 0) {
            if (ferror(f)) {
                perror(file);
                fclose(f);
                return false;
            }
            if (got == 0) {
                printf("'%s' is empty\n", file);   /* nothing to repeat */
                fclose(f);
                return false;
            }
            break;
        }
        got += n;
    }
    fclose(f);
    for (int64_t i = got; i < len; i++) {
        buf[i] = buf[i % got];
    }
    return true;
}

/*
 * One request, synchronous or asynchronous: the options its command shares with
 * the others, its buffer and its range. The aio commands keep it until their
 * completion callback reports it.
 */
typedef struct IoReq {
    QEMUIOVector qiov;                /* the vectored commands' buffers */
    uint8_t *buf;                     /* NULL for write -z */
    int64_t offset, bytes;
    int64_t start_ns;
    BdrvRequestFlags flags;
    bool Cflag, qflag, vflag, Pflag, zflag;
    int pattern;
    int64_t pattern_off, pattern_len; /* the part of buf that -P checks */
} IoReq;

static void io_req_clear(IoReq *r)
{
    qemu_iovec_destroy(&r->qiov);
    io_free(r->buf);
}

/* -P pattern; false (the error printed) if it does not parse. */
static bool io_req_pattern_opt(IoReq *r, const char *arg)
{
    r->Pflag = true;
    r->pattern = io_parse_pattern(arg);
    return r->pattern >= 0;
}

/* "off len" at argv[i]; prints the error and returns < 0 if either does not parse. */
static int io_off_len_args(char **argv, int i, int64_t *offset, int64_t *len)
{
    *offset = io_num_arg(argv, i);
    if (*offset < 0) {
        return *offset;
    }
    *len = io_num_arg(argv, i + 1);
    if (*len < 0) {
        return *len;
    }
    return 0;
}

/* read and discard take at most IO_REQUEST_MAX_BYTES at once; arg is the length as given. */
static bool io_check_len(int64_t len, const char *arg)
{
    if (len > IO_REQUEST_MAX_BYTES) {
        printf("length cannot exceed %" PRId64 ", given %s\n", IO_REQUEST_MAX_BYTES, arg);
        return false;
    }
    return true;
}

/* The vectored commands' "off len [len..]": the offset and one buffer filled with fill. */
static int io_vec_args(IoReq *r, BlockBackend *blk, int argc, char **argv, int fill)
{
    r->offset = io_num_arg(argv, optind);
    if (r->offset < 0) {
        return r->offset;
    }
    r->buf = io_create_iovec(blk, &r->qiov, argv + optind + 1, argc - optind - 1, fill);
    if (!r->buf) {
        return -EINVAL;
    }
    r->bytes = r->qiov.size;
    r->pattern_len = r->bytes;
    return 0;
}

/*
 * A read has ended with ret: "<cmd> failed: ...", or else the -P check, the -v
 * dump and, unless -q, the timing line. Returns ret, -EINVAL on a pattern
 * mismatch, or 0.
 */
static int io_read_report(const IoReq *r, const char *cmd, int ret)
{
    int64_t elapsed = tool_now_ns() - r->start_ns;

    if (ret < 0) {
        printf("%s failed: %s\n", cmd, strerror(-ret));
        return ret;
    }
    ret = 0;
    if (r->Pflag && !io_verify(r->buf + r->pattern_off, r->pattern_len, r->pattern,
                               r->offset + r->pattern_off)) {
        ret = -EINVAL;
    }
    if (!r->qflag) {
        if (r->vflag) {
            io_dump_buffer(r->buf, r->offset, r->bytes);
        }
        io_print_report("read", elapsed, r->offset, r->bytes, r->bytes, 1, r->Cflag);
    }
    return ret;
}

/* A write or discard has ended with ret: "<cmd> failed: ...", or the timing line unless -q. */
static int io_write_report(const IoReq *r, const char *cmd, const char *verb, int ret)
{
    int64_t elapsed = tool_now_ns() - r->start_ns;

    if (ret < 0) {
        printf("%s failed: %s\n", cmd, strerror(-ret));
        return ret;
    }
    if (!r->qflag) {
        io_print_report(verb, elapsed, r->offset, r->bytes, r->bytes, 1, r->Cflag);
    }
    return 0;
}

static int read_f(BlockBackend *blk, int argc, char **argv)
{
    IoReq r = { 0 };
    bool sflag = false, lflag = false, bflag = false;
    int c, ret;

    while ((c = getopt(argc, argv, "bCl:pP:qs:v")) != -1) {
        switch (c) {
        case 'b': bflag = true; break;
        case 'C': r.Cflag = true; break;
        case 'p': break;                    /* accepted for compatibility */
        case 'q': r.qflag = true; break;
        case 'v': r.vflag = true; break;
        case 'P':
            if (!io_req_pattern_opt(&r, optarg)) {
                return -EINVAL;
            }
            break;
        case 'l':
            lflag = true;
            r.pattern_len = io_num_arg(&optarg, 0);
            if (r.pattern_len < 0) {
                return -EINVAL;
            }
            break;
        case 's':
            sflag = true;
            r.pattern_off = io_num_arg(&optarg, 0);
            if (r.pattern_off < 0) {
                return -EINVAL;
            }
            break;
        default:
            return io_usage("read");
        }
    }
    if (optind != argc - 2) {
        return io_usage("read");
    }
    ret = io_off_len_args(argv, optind, &r.offset, &r.bytes);
    if (ret < 0) {
        return ret;
    }
    if (!io_check_len(r.bytes, argv[optind + 1])) {
        return -EINVAL;
    }
    if (!r.Pflag && (lflag || sflag)) {
        return io_usage("read");
    }
    if (!lflag) {
        r.pattern_len = r.bytes - r.pattern_off;
    }
    if (r.pattern_len < 0 || r.pattern_off + r.pattern_len > r.bytes) {
        printf("pattern verification range exceeds end of read data\n");
        return -EINVAL;
    }

    r.buf = io_alloc(blk, r.bytes, 0xab);
    r.start_ns = tool_now_ns();
    ret = bflag ? -ENOTSUP : blk_pread(blk, r.offset, r.bytes, r.buf, 0);
    ret = io_read_report(&r, "read", ret);
    io_req_clear(&r);
    return ret;
}

/* write's rules for its flags, in QEMU's order and words. */
static bool write_check_flags(bool bflag, bool zflag, bool Pflag, bool sflag,
                              BdrvRequestFlags flags)
{
    if (bflag && zflag) {
        printf("-b and -z cannot be specified at the same time\n");
        return false;
    }
    if ((flags & BDRV_REQ_FUA) && bflag) {
        printf("-f and -b cannot be specified at the same time\n");
        return false;
    }
    if (zflag + Pflag + sflag > 1) {
        printf("Only one of -z, -P, and -s can be specified at the same time\n");
        return false;
    }
    if ((flags & BDRV_REQ_NO_FALLBACK) && !zflag) {
        printf("-n requires -z to be specified\n");
        return false;
    }
    if ((flags & BDRV_REQ_MAY_UNMAP) && !zflag) {
        printf("-u requires -z to be specified\n");
        return false;
    }
    return true;
}

static int write_f(BlockBackend *blk, int argc, char **argv)
{
    IoReq r = { .pattern = 0xcd };
    bool bflag = false;
    const char *src_file = NULL;
    int c, ret;

    while ((c = getopt(argc, argv, "bcCfnpP:qs:uz")) != -1) {
        switch (c) {
        case 'b': bflag = true; break;
        case 'c': r.flags |= BDRV_REQ_WRITE_COMPRESSED; break;
        case 'C': r.Cflag = true; break;
        case 'f': r.flags |= BDRV_REQ_FUA; break;
        case 'n': r.flags |= BDRV_REQ_NO_FALLBACK; break;
        case 'p': break;                    /* accepted for compatibility */
        case 'q': r.qflag = true; break;
        case 's': src_file = optarg; break;
        case 'u': r.flags |= BDRV_REQ_MAY_UNMAP; break;
        case 'z': r.zflag = true; break;
        case 'P':
            if (!io_req_pattern_opt(&r, optarg)) {
                return -EINVAL;
            }
            break;
        default:
            return io_usage("write");
        }
    }
    if (optind != argc - 2) {
        return io_usage("write");
    }
    if (!write_check_flags(bflag, r.zflag, r.Pflag, src_file != NULL, r.flags)) {
        return -EINVAL;
    }
    ret = io_off_len_args(argv, optind, &r.offset, &r.bytes);
    if (ret < 0) {
        return ret;
    }
    if (r.bytes > IO_REQUEST_MAX_BYTES && !(r.flags & BDRV_REQ_NO_FALLBACK)) {
        printf("length cannot exceed %" PRId64 " without -n, given %s\n",
               IO_REQUEST_MAX_BYTES, argv[optind + 1]);
        return -EINVAL;
    }
    if ((r.flags & BDRV_REQ_WRITE_COMPRESSED) || bflag) {
        if (!QEMU_IS_ALIGNED(r.offset, BDRV_SECTOR_SIZE)) {
            printf("%" PRId64 " is not a sector-aligned value for 'offset'\n", r.offset);
            return -EINVAL;
        }
        if (!QEMU_IS_ALIGNED(r.bytes, BDRV_SECTOR_SIZE)) {
            printf("%" PRId64 " is not a sector-aligned value for 'count'\n", r.bytes);
            return -EINVAL;
        }
    }

    if (!r.zflag) {
        r.buf = io_alloc(blk, r.bytes, r.pattern);
        if (src_file && !io_fill_from_file(r.buf, r.bytes, src_file)) {
            io_req_clear(&r);
            return -EINVAL;
        }
    }
    r.start_ns = tool_now_ns();
    if (bflag) {
        ret = -ENOTSUP;                     /* no format here keeps a VM state area */
    } else if (r.zflag) {
        ret = blk_pwrite_zeroes(blk, r.offset, r.bytes, r.flags);
    } else {
        ret = blk_pwrite(blk, r.offset, r.bytes, r.buf, r.flags);
    }
    ret = io_write_report(&r, "write", "wrote", ret);
    io_req_clear(&r);
    return ret;
}

enum { IO_INJECTED = 1 };

/*
 * The options of readv, writev, aio_read and aio_write. Each passes its own
 * optstr, so getopt still refuses the letters only the others take. Returns 0,
 * IO_INJECTED for the aio commands' -i, or < 0 once the error is printed.
 */
static int io_vec_opts(IoReq *r, int argc, char **argv, const char *cmd, const char *optstr)
{
    int c;

    while ((c = getopt(argc, argv, optstr)) != -1) {
        switch (c) {
        case 'C': r->Cflag = true; break;
        case 'f': r->flags |= BDRV_REQ_FUA; break;
        case 'q': r->qflag = true; break;
        case 'u': r->flags |= BDRV_REQ_MAY_UNMAP; break;
        case 'v': r->vflag = true; break;
        case 'z': r->zflag = true; break;
        case 'i':                           /* "aio_read" -> "read" */
            printf("injecting invalid %s request\n", cmd + strlen("aio_"));
            return IO_INJECTED;
        case 'P':
            if (!io_req_pattern_opt(r, optarg)) {
                return -EINVAL;
            }
            break;
        default:
            return io_usage(cmd);
        }
    }
    if (optind > argc - 2) {
        return io_usage(cmd);
    }
    return 0;
}

static int readv_f(BlockBackend *blk, int argc, char **argv)
{
    IoReq r = { 0 };
    int ret = io_vec_opts(&r, argc, argv, "readv", "CP:qv");

    if (ret < 0) {
        return ret;
    }
    ret = io_vec_args(&r, blk, argc, argv, 0xab);
    if (ret < 0) {
        return ret;
    }
    r.start_ns = tool_now_ns();
    ret = blk_preadv(blk, r.offset, r.bytes, &r.qiov, 0);
    ret = io_read_report(&r, "readv", ret);
    io_req_clear(&r);
    return ret;
}

static int writev_f(BlockBackend *blk, int argc, char **argv)
{
    IoReq r = { .pattern = 0xcd };
    int ret = io_vec_opts(&r, argc, argv, "writev", "CfqP:");

    if (ret < 0) {
        return ret;
    }
    ret = io_vec_args(&r, blk, argc, argv, r.pattern);
    if (ret < 0) {
        return ret;
    }
    r.start_ns = tool_now_ns();
    ret = blk_pwritev(blk, r.offset, r.bytes, &r.qiov, r.flags);
    ret = io_write_report(&r, "writev", "wrote", ret);
    io_req_clear(&r);
    return ret;
}

static int discard_f(BlockBackend *blk, int argc, char **argv)
{
    IoReq r = { 0 };
    int c, ret;

    while ((c = getopt(argc, argv, "Cq")) != -1) {
        switch (c) {
        case 'C': r.Cflag = true; break;
        case 'q': r.qflag = true; break;
        default:
            return io_usage("discard");
        }
    }
    if (optind != argc - 2) {
        return io_usage("discard");
    }
    ret = io_off_len_args(argv, optind, &r.offset, &r.bytes);
    if (ret < 0) {
        return ret;
    }
    if (!io_check_len(r.bytes, argv[optind + 1])) {
        return -EINVAL;
    }
    r.start_ns = tool_now_ns();
    ret = blk_pdiscard(blk, r.offset, r.bytes);
    return io_write_report(&r, "discard", "discard", ret);
}

/* ---- asynchronous requests: reported from their completion callback ---- */

static void io_aio_free(IoReq *a)
{
    io_req_clear(a);
    g_free(a);
}

static void io_aio_write_done(void *opaque, int ret)
{
    io_write_report(opaque, "aio_write", "wrote", ret);
    io_aio_free(opaque);
}

static void io_aio_read_done(void *opaque, int ret)
{
    io_read_report(opaque, "readv", ret);
    io_aio_free(opaque);
}

static int aio_read_f(BlockBackend *blk, int argc, char **argv)
{
    g_autofree IoReq *a = g_new0(IoReq, 1);
    int ret = io_vec_opts(a, argc, argv, "aio_read", "CP:iqv");

    if (ret) {
        return ret == IO_INJECTED ? 0 : ret;
    }
    ret = io_vec_args(a, blk, argc, argv, 0xab);
    if (ret < 0) {
        return ret;
    }
    a->start_ns = tool_now_ns();
    blk_aio_preadv(blk, a->offset, &a->qiov, 0, io_aio_read_done, a);
    g_steal_pointer(&a);                /* the callback frees it */
    return 0;
}

/* aio_write -z: "off len", a single length and no buffer. */
static int aio_write_zeroes(IoReq *a, BlockBackend *blk, int argc, char **argv)
{
    a->offset = io_num_arg(argv, optind);
    if (a->offset < 0) {
        return a->offset;
    }
    if (optind != argc - 2) {
        return io_usage("aio_write");
    }
    a->bytes = io_num_arg(argv, optind + 1);
    if (a->bytes < 0) {
        return a->bytes;
    }
    return 0;
}

static int aio_write_f(BlockBackend *blk, int argc, char **argv)
{
    g_autofree IoReq *a = g_new0(IoReq, 1);
    int ret;

    a->pattern = 0xcd;
    ret = io_vec_opts(a, argc, argv, "aio_write", "CfiqP:uz");
    if (ret) {
        return ret == IO_INJECTED ? 0 : ret;
    }
    if (a->zflag && a->Pflag) {
        printf("-z and -P cannot be specified at the same time\n");
        return -EINVAL;
    }
    if ((a->flags & BDRV_REQ_MAY_UNMAP) && !a->zflag) {
        printf("-u requires -z to be specified\n");
        return -EINVAL;
    }
    if (a->zflag) {
        ret = aio_write_zeroes(a, blk, argc, argv);
    } else {
        ret = io_vec_args(a, blk, argc, argv, a->pattern);
    }
    if (ret < 0) {
        return ret;
    }
    a->start_ns = tool_now_ns();
    if (a->zflag) {
        blk_aio_pwrite_zeroes(blk, a->offset, a->bytes, a->flags, io_aio_write_done, a);
    } else {
        blk_aio_pwritev(blk, a->offset, &a->qiov, a->flags, io_aio_write_done, a);
    }
    g_steal_pointer(&a);                /* the callback frees it */
    return 0;
}

static int aio_flush_f(BlockBackend *blk, int argc, char **argv)
{
    qemuio_drain(blk);
    return 0;
}

const IoCmd io_rw_cmds[] = {
    { "read", "r", read_f, 2, -1, 0, 0,
      "[-abCqv] [-P pattern [-s off] [-l len]] off len",
      "reads a number of bytes at a specified offset", io_help_read },
    { "readv", NULL, readv_f, 2, -1, 0, 0, "[-Cqv] [-P pattern] off len [len..]",
      "reads a number of bytes at a specified offset", io_help_readv },
    { "write", "w", write_f, 2, -1, 0, BLK_PERM_WRITE,
      "[-bcCfnquz] [-P pattern | -s source_file] off len",
      "writes a number of bytes at a specified offset", io_help_write },
    { "writev", NULL, writev_f, 2, -1, 0, BLK_PERM_WRITE, "[-Cfq] [-P pattern] off len [len..]",
      "writes a number of bytes at a specified offset", io_help_writev },
    { "aio_read", NULL, aio_read_f, 2, -1, 0, 0, "[-Ciqv] [-P pattern] off len [len..]",
      "asynchronously reads a number of bytes", io_help_aio_read },
    { "aio_write", NULL, aio_write_f, 2, -1, 0, BLK_PERM_WRITE,
      "[-Cfiquz] [-P pattern] off len [len..]",
      "asynchronously writes a number of bytes", io_help_aio_write },
    { "aio_flush", NULL, aio_flush_f, 0, 0, 0, 0, NULL,
      "completes all outstanding aio requests" },
    { "discard", "d", discard_f, 2, -1, 0, BLK_PERM_WRITE, "[-Cq] off len",
      "discards a number of bytes at a specified offset", io_help_discard },
    { NULL },
};
