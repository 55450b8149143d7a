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

static int read_f(BlockBackend *blk, int argc, char **argv)
{
    bool Cflag = false, qflag = false, vflag = false, Pflag = false, sflag = false, lflag = false;
    bool bflag = false;
    int c, pattern = 0;
    int64_t pattern_off = 0, pattern_len = 0;

    while ((c = getopt(argc, argv, "bCl:pP:qs:v")) != -1) {
        switch (c) {
        case 'b': bflag = true; break;
        case 'C': Cflag = true; break;
        case 'p': break;                    /* accepted for compatibility */
        case 'q': qflag = true; break;
        case 'v': vflag = true; break;
        case 'P':
            Pflag = true;
            pattern = io_parse_pattern(optarg);
            if (pattern < 0) {
                return -EINVAL;
            }
            break;
        case 'l':
            lflag = true;
            pattern_len = io_num_arg(&optarg, 0);
            if (pattern_len < 0) {
                return -EINVAL;
            }
            break;
        case 's':
            sflag = true;
            pattern_off = io_num_arg(&optarg, 0);
            if (pattern_off < 0) {
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
    int64_t offset = io_num_arg(argv, optind);
    if (offset < 0) {
        return offset;
    }
    int64_t count = io_num_arg(argv, optind + 1);
    if (count < 0) {
        return count;
    }
    if (count > IO_REQUEST_MAX_BYTES) {
        printf("length cannot exceed %" PRId64 ", given %s\n", IO_REQUEST_MAX_BYTES,
               argv[optind + 1]);
        return -EINVAL;
    }
    if (!Pflag && (lflag || sflag)) {
        return io_usage("read");
    }
    if (!lflag) {
        pattern_len = count - pattern_off;
    }
    if (pattern_len < 0 || pattern_off + pattern_len > count) {
        printf("pattern verification range exceeds end of read data\n");
        return -EINVAL;
    }

    uint8_t *buf = io_alloc(blk, count, 0xab);
    int64_t t0 = tool_now_ns();
    int ret = bflag ? -ENOTSUP : blk_pread(blk, offset, count, buf, 0);
    int64_t elapsed = tool_now_ns() - t0;
    if (ret < 0) {
        printf("read failed: %s\n", strerror(-ret));
        goto out;
    }
    ret = 0;
    if (Pflag && !io_verify(buf + pattern_off, pattern_len, pattern, offset + pattern_off)) {
        ret = -EINVAL;
    }
    if (!qflag) {
        if (vflag) {
            io_dump_buffer(buf, offset, count);
        }
        io_print_report("read", elapsed, offset, count, count, 1, Cflag);
    }
out:
    io_free(buf);
    return ret;
}

static int write_f(BlockBackend *blk, int argc, char **argv)
{
    bool Cflag = false, qflag = false, bflag = false, zflag = false, Pflag = false;
    bool nflag = false, uflag = false;
    BdrvRequestFlags flags = 0;
    const char *src_file = NULL;
    int c, pattern = 0xcd;

    while ((c = getopt(argc, argv, "bcCfnpP:qs:uz")) != -1) {
        switch (c) {
        case 'b': bflag = true; break;
        case 'c': flags |= BDRV_REQ_WRITE_COMPRESSED; break;
        case 'C': Cflag = true; break;
        case 'f': flags |= BDRV_REQ_FUA; break;
        case 'n': flags |= BDRV_REQ_NO_FALLBACK; nflag = true; break;
        case 'p': break;                    /* accepted for compatibility */
        case 'q': qflag = true; break;
        case 's': src_file = optarg; break;
        case 'u': flags |= BDRV_REQ_MAY_UNMAP; uflag = true; break;
        case 'z': zflag = true; break;
        case 'P':
            Pflag = true;
            pattern = io_parse_pattern(optarg);
            if (pattern < 0) {
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
    if (bflag && zflag) {
        printf("-b and -z cannot be specified at the same time\n");
        return -EINVAL;
    }
    if ((flags & BDRV_REQ_FUA) && bflag) {
        printf("-f and -b cannot be specified at the same time\n");
        return -EINVAL;
    }
    if (zflag + Pflag + !!src_file > 1) {
        printf("Only one of -z, -P, and -s can be specified at the same time\n");
        return -EINVAL;
    }
    if (nflag && !zflag) {
        printf("-n requires -z to be specified\n");
        return -EINVAL;
    }
    if (uflag && !zflag) {
        printf("-u requires -z to be specified\n");
        return -EINVAL;
    }
    int64_t offset = io_num_arg(argv, optind);
    if (offset < 0) {
        return offset;
    }
    int64_t count = io_num_arg(argv, optind + 1);
    if (count < 0) {
        return count;
    }
    if (count > IO_REQUEST_MAX_BYTES && !(flags & BDRV_REQ_NO_FALLBACK)) {
        printf("length cannot exceed %" PRId64 " without -n, given %s\n",
               IO_REQUEST_MAX_BYTES, argv[optind + 1]);
        return -EINVAL;
    }
    if ((flags & BDRV_REQ_WRITE_COMPRESSED) || bflag) {
        if (!QEMU_IS_ALIGNED(offset, BDRV_SECTOR_SIZE)) {
            printf("%" PRId64 " is not a sector-aligned value for 'offset'\n", offset);
            return -EINVAL;
        }
        if (!QEMU_IS_ALIGNED(count, BDRV_SECTOR_SIZE)) {
            printf("%" PRId64 " is not a sector-aligned value for 'count'\n", count);
            return -EINVAL;
        }
    }

    uint8_t *buf = NULL;
    int ret;
    if (!zflag) {
        buf = io_alloc(blk, count, pattern);
        if (src_file && !io_fill_from_file(buf, count, src_file)) {
            io_free(buf);
            return -EINVAL;
        }
    }
    int64_t t0 = tool_now_ns();
    if (bflag) {
        ret = -ENOTSUP;                     /* no format here keeps a VM state area */
    } else if (zflag) {
        ret = blk_pwrite_zeroes(blk, offset, count, flags);
    } else {
        ret = blk_pwrite(blk, offset, count, buf, flags);
    }
    int64_t elapsed = tool_now_ns() - t0;
    if (ret < 0) {
        printf("write failed: %s\n", strerror(-ret));
        goto out;
    }
    ret = 0;
    if (!qflag) {
        io_print_report("wrote", elapsed, offset, count, count, 1, Cflag);
    }
out:
    io_free(buf);
    return ret;
}

static int readv_f(BlockBackend *blk, int argc, char **argv)
{
    bool Cflag = false, qflag = false, vflag = false, Pflag = false;
    int c, pattern = 0;
    QEMUIOVector qiov;

    while ((c = getopt(argc, argv, "CP:qv")) != -1) {
        switch (c) {
        case 'C': Cflag = true; break;
        case 'q': qflag = true; break;
        case 'v': vflag = true; break;
        case 'P':
            Pflag = true;
            pattern = io_parse_pattern(optarg);
            if (pattern < 0) {
                return -EINVAL;
            }
            break;
        default:
            return io_usage("readv");
        }
    }
    if (optind > argc - 2) {
        return io_usage("readv");
    }
    int64_t offset = io_num_arg(argv, optind);
    if (offset < 0) {
        return offset;
    }
    uint8_t *buf = io_create_iovec(blk, &qiov, argv + optind + 1, argc - optind - 1, 0xab);
    if (!buf) {
        return -EINVAL;
    }
    int64_t t0 = tool_now_ns();
    int ret = blk_preadv(blk, offset, qiov.size, &qiov, 0);
    int64_t elapsed = tool_now_ns() - t0;
    if (ret < 0) {
        printf("readv failed: %s\n", strerror(-ret));
        goto out;
    }
    ret = 0;
    if (Pflag && !io_verify(buf, qiov.size, pattern, offset)) {
        ret = -EINVAL;
    }
    if (!qflag) {
        if (vflag) {
            io_dump_buffer(buf, offset, qiov.size);
        }
        io_print_report("read", elapsed, offset, qiov.size, qiov.size, 1, Cflag);
    }
out:
    qemu_iovec_destroy(&qiov);
    io_free(buf);
    return ret;
}

static int writev_f(BlockBackend *blk, int argc, char **argv)
{
    bool Cflag = false, qflag = false;
    BdrvRequestFlags flags = 0;
    int c, pattern = 0xcd;
    QEMUIOVector qiov;

    while ((c = getopt(argc, argv, "CfqP:")) != -1) {
        switch (c) {
        case 'C': Cflag = true; break;
        case 'f': flags |= BDRV_REQ_FUA; break;
        case 'q': qflag = true; break;
        case 'P':
            pattern = io_parse_pattern(optarg);
            if (pattern < 0) {
                return -EINVAL;
            }
            break;
        default:
            return io_usage("writev");
        }
    }
    if (optind > argc - 2) {
        return io_usage("writev");
    }
    int64_t offset = io_num_arg(argv, optind);
    if (offset < 0) {
        return offset;
    }
    uint8_t *buf = io_create_iovec(blk, &qiov, argv + optind + 1, argc - optind - 1, pattern);
    if (!buf) {
        return -EINVAL;
    }
    int64_t t0 = tool_now_ns();
    int ret = blk_pwritev(blk, offset, qiov.size, &qiov, flags);
    int64_t elapsed = tool_now_ns() - t0;
    if (ret < 0) {
        printf("writev failed: %s\n", strerror(-ret));
        goto out;
    }
    ret = 0;
    if (!qflag) {
        io_print_report("wrote", elapsed, offset, qiov.size, qiov.size, 1, Cflag);
    }
out:
    qemu_iovec_destroy(&qiov);
    io_free(buf);
    return ret;
}

static int discard_f(BlockBackend *blk, int argc, char **argv)
{
    bool Cflag = false, qflag = false;
    int c;

    while ((c = getopt(argc, argv, "Cq")) != -1) {
        switch (c) {
        case 'C': Cflag = true; break;
        case 'q': qflag = true; break;
        default:
            return io_usage("discard");
        }
    }
    if (optind != argc - 2) {
        return io_usage("discard");
    }
    int64_t offset = io_num_arg(argv, optind);
    if (offset < 0) {
        return offset;
    }
    int64_t bytes = io_num_arg(argv, optind + 1);
    if (bytes < 0) {
        return bytes;
    }
    if (bytes > IO_REQUEST_MAX_BYTES) {
        printf("length cannot exceed %" PRId64 ", given %s\n", IO_REQUEST_MAX_BYTES,
               argv[optind + 1]);
        return -EINVAL;
    }
    int64_t t0 = tool_now_ns();
    int ret = blk_pdiscard(blk, offset, bytes);
    int64_t elapsed = tool_now_ns() - t0;
    if (ret < 0) {
        printf("discard failed: %s\n", strerror(-ret));
        return ret;
    }
    if (!qflag) {
        io_print_report("discard", elapsed, offset, bytes, bytes, 1, Cflag);
    }
    return 0;
}

/* ---- asynchronous requests: reported from their completion callback ---- */

typedef struct IoAiocb {
    BlockBackend *blk;
    QEMUIOVector qiov;
    uint8_t *buf;
    int64_t offset, bytes;
    int64_t start_ns;
    bool write, Cflag, qflag, vflag, Pflag, zflag;
    int pattern;
} IoAiocb;

static void io_aio_free(IoAiocb *a)
{
    qemu_iovec_destroy(&a->qiov);
    io_free(a->buf);
    g_free(a);
}

static void io_aio_write_done(void *opaque, int ret)
{
    IoAiocb *a = opaque;
    int64_t elapsed = tool_now_ns() - a->start_ns;

    if (ret < 0) {
        printf("aio_write failed: %s\n", strerror(-ret));
    } else if (!a->qflag) {
        io_print_report("wrote", elapsed, a->offset, a->bytes, a->bytes, 1, a->Cflag);
    }
    io_aio_free(a);
}

static void io_aio_read_done(void *opaque, int ret)
{
    IoAiocb *a = opaque;
    int64_t elapsed = tool_now_ns() - a->start_ns;

    if (ret < 0) {
        printf("readv failed: %s\n", strerror(-ret));
    } else {
        if (a->Pflag) {
            io_verify(a->buf, a->bytes, a->pattern, a->offset);
        }
        if (!a->qflag) {
            if (a->vflag) {
                io_dump_buffer(a->buf, a->offset, a->bytes);
            }
            io_print_report("read", elapsed, a->offset, a->bytes, a->bytes, 1, a->Cflag);
        }
    }
    io_aio_free(a);
}

static int aio_read_f(BlockBackend *blk, int argc, char **argv)
{
    IoAiocb *a = g_new0(IoAiocb, 1);
    int c;

    a->blk = blk;
    while ((c = getopt(argc, argv, "CP:iqv")) != -1) {
        switch (c) {
        case 'C': a->Cflag = true; break;
        case 'q': a->qflag = true; break;
        case 'v': a->vflag = true; break;
        case 'i':
            printf("injecting invalid read request\n");
            g_free(a);
            return 0;
        case 'P':
            a->Pflag = true;
            a->pattern = io_parse_pattern(optarg);
            if (a->pattern < 0) {
                g_free(a);
                return -EINVAL;
            }
            break;
        default:
            g_free(a);
            return io_usage("aio_read");
        }
    }
    if (optind > argc - 2) {
        g_free(a);
        return io_usage("aio_read");
    }
    a->offset = io_num_arg(argv, optind);
    if (a->offset < 0) {
        int ret = a->offset;
        g_free(a);
        return ret;
    }
    a->buf = io_create_iovec(blk, &a->qiov, argv + optind + 1, argc - optind - 1, 0xab);
    if (!a->buf) {
        g_free(a);
        return -EINVAL;
    }
    a->bytes = a->qiov.size;
    a->start_ns = tool_now_ns();
    blk_aio_preadv(blk, a->offset, &a->qiov, 0, io_aio_read_done, a);
    return 0;
}

static int aio_write_f(BlockBackend *blk, int argc, char **argv)
{
    IoAiocb *a = g_new0(IoAiocb, 1);
    BdrvRequestFlags flags = 0;
    int c, pattern = 0xcd;
    bool uflag = false;

    a->blk = blk;
    a->write = true;
    while ((c = getopt(argc, argv, "CfiqP:uz")) != -1) {
        switch (c) {
        case 'C': a->Cflag = true; break;
        case 'f': flags |= BDRV_REQ_FUA; break;
        case 'q': a->qflag = true; break;
        case 'u': flags |= BDRV_REQ_MAY_UNMAP; uflag = true; break;
        case 'z': a->zflag = true; break;
        case 'i':
            printf("injecting invalid write request\n");
            g_free(a);
            return 0;
        case 'P':
            a->Pflag = true;
            pattern = io_parse_pattern(optarg);
            if (pattern < 0) {
                g_free(a);
                return -EINVAL;
            }
            break;
        default:
            g_free(a);
            return io_usage("aio_write");
        }
    }
    if (optind > argc - 2) {
        g_free(a);
        return io_usage("aio_write");
    }
    if (a->zflag && a->Pflag) {
        printf("-z and -P cannot be specified at the same time\n");
        g_free(a);
        return -EINVAL;
    }
    if (uflag && !a->zflag) {
        printf("-u requires -z to be specified\n");
        g_free(a);
        return -EINVAL;
    }
    a->offset = io_num_arg(argv, optind);
    if (a->offset < 0) {
        int ret = a->offset;
        g_free(a);
        return ret;
    }
    if (a->zflag) {
        if (optind != argc - 2) {
            g_free(a);
            return io_usage("aio_write");
        }
        a->bytes = io_num_arg(argv, optind + 1);
        if (a->bytes < 0) {
            int ret = a->bytes;
            g_free(a);
            return ret;
        }
        qemu_iovec_init(&a->qiov, 1);
        a->start_ns = tool_now_ns();
        blk_aio_pwrite_zeroes(blk, a->offset, a->bytes, flags, io_aio_write_done, a);
        return 0;
    }
    a->buf = io_create_iovec(blk, &a->qiov, argv + optind + 1, argc - optind - 1, pattern);
    if (!a->buf) {
        g_free(a);
        return -EINVAL;
    }
    a->bytes = a->qiov.size;
    a->start_ns = tool_now_ns();
    blk_aio_pwritev(blk, a->offset, &a->qiov, flags, io_aio_write_done, a);
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
