/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The qemu-io command language: the dispatcher, the helpers every command uses
 * (numbers, patterns, buffers, hexdumps, statistics lines) and the commands that
 * do no data I/O (map, alloc, info, truncate, reopen, blkdebug breakpoints...).
 * Data commands live in io-rw.c. Messages and their streams are QEMU 7.2's.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-int.h"
#include "io-internal.h"
#include <getopt.h>
#include <signal.h>

/* Registered commands: the library's tables plus what the program adds. */
static GPtrArray *io_cmds;

static int io_cmd_compare(gconstpointer a, gconstpointer b)
{
    const IoCmd *x = *(const IoCmd *const *)a, *y = *(const IoCmd *const *)b;
    return strcmp(x->name, y->name);
}

static void io_cmds_init(void);

void qemuio_add_command(const IoCmd *cmd)
{
    io_cmds_init();
    g_ptr_array_add(io_cmds, (gpointer)cmd);
    g_ptr_array_sort(io_cmds, io_cmd_compare);   /* help lists them sorted */
}

static const IoCmd *io_find_command(const char *name)
{
    io_cmds_init();
    for (guint i = 0; i < io_cmds->len; i++) {
        const IoCmd *ct = g_ptr_array_index(io_cmds, i);
        if (!strcmp(ct->name, name) || (ct->altname && !strcmp(ct->altname, name))) {
            return ct;
        }
    }
    return NULL;
}

void qemuio_command_usage(const IoCmd *ct)
{
    if (ct->args) {
        printf("%s %s -- %s\n", ct->name, ct->args, ct->oneline);
    } else {
        printf("%s -- %s\n", ct->name, ct->oneline);
    }
}

void io_getopt_reset(void)
{
    optind = 0;         /* glibc: 0 also resets getopt's internal state */
    opterr = 1;
}

/* "bad argument count" wording depends on the command's limits. */
static bool io_check_argc(const IoCmd *ct, int argc, char **argv)
{
    int n = argc - 1;

    if (n >= ct->argmin && (ct->argmax == -1 || n <= ct->argmax)) {
        return true;
    }
    if (ct->argmax == -1) {
        fprintf(stderr, "bad argument count %d to %s, expected at least %d arguments\n",
                n, argv[0], ct->argmin);
    } else if (ct->argmin == ct->argmax) {
        fprintf(stderr, "bad argument count %d to %s, expected %d arguments\n",
                n, argv[0], ct->argmin);
    } else {
        fprintf(stderr, "bad argument count %d to %s, expected between %d and %d arguments\n",
                n, argv[0], ct->argmin, ct->argmax);
    }
    return false;
}

/*
 * Take the permissions a command needs (write, resize) on first use, as
 * qemu-io does; a read-only image refuses them with "Block node is read-only".
 */
static bool io_check_perm(BlockBackend *blk, uint64_t need)
{
    Error *err = NULL;
    uint64_t perm, shared;

    /* an inactive image (migration peer owns it) refuses writes like a read-only one */
    if ((need & BLK_PERM_WRITE) &&
        (blk_is_read_only(blk) || (blk_bs(blk) && bdrv_is_inactive(blk_bs(blk))))) {
        error_report("Block node is read-only");
        return false;
    }
    blk_get_perm(blk, &perm, &shared);
    if ((need & ~perm) && blk_set_perm(blk, perm | need, shared, &err) < 0) {
        error_report_err(err);
        return false;
    }
    return true;
}

int qemuio_command(BlockBackend *blk, const char *cmd)
{
    g_auto(GStrv) words = g_strsplit_set(cmd, " \t\n", -1);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    const IoCmd *ct;

    for (char **w = words; *w; w++) {
        if (**w) {
            g_ptr_array_add(args, *w);
        }
    }
    if (args->len == 0) {
        return 0;
    }
    g_ptr_array_add(args, NULL);
    int argc = args->len - 1;
    char **argv = (char **)args->pdata;

    ct = io_find_command(argv[0]);
    if (!ct) {
        fprintf(stderr, "command \"%s\" not found\n", argv[0]);
        return -EINVAL;
    }
    if (!(ct->flags & IO_CMD_NOFILE_OK) && !blk) {
        fprintf(stderr, "no file open, try 'help open'\n");
        return -EINVAL;
    }
    if (!io_check_argc(ct, argc, argv)) {
        return -EINVAL;
    }
    if (ct->perm && blk && !io_check_perm(blk, ct->perm)) {
        return -EPERM;
    }
    io_getopt_reset();
    return ct->cfunc(blk, argc, argv);
}

/* ---- shared helpers ---- */

int64_t qemuio_cvtnum(const char *s)
{
    uint64_t value;
    int rc = qemu_strtosz(s, NULL, &value);

    if (rc < 0) {
        return rc;
    }
    if (value > INT64_MAX) {
        return -ERANGE;
    }
    return value;
}

void qemuio_print_cvtnum_err(int64_t rc, const char *arg)
{
    switch (rc) {
    case -EINVAL:
        printf("Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- %s\n",
               arg);
        break;
    case -ERANGE:
        printf("Parsing error: argument too large -- %s\n", arg);
        break;
    default:
        printf("Parsing error: %s\n", arg);
        break;
    }
}

int io_parse_pattern(const char *arg)
{
    char *end;
    long pattern = strtol(arg, &end, 0);

    if (pattern < 0 || pattern > UINT8_MAX || *end != '\0') {
        printf("%s is not a valid pattern byte\n", arg);
        return -1;
    }
    return pattern;
}

void *io_alloc(BlockBackend *blk, size_t len, int c)
{
    void *buf;
    size_t align = MAX(qemu_real_host_page_size(), 4096);

    if (posix_memalign(&buf, align, MAX(len, 1))) {
        abort();
    }
    memset(buf, c, MAX(len, 1));
    return buf;
}

void io_free(void *buf)
{
    free(buf);
}

void io_dump_buffer(const void *buf, int64_t off, int64_t len)
{
    const uint8_t *p = buf;

    for (int64_t i = 0; i < len; i += 16) {
        int64_t n = MIN(16, len - i);

        printf("%08" PRIx64 ":  ", off + i);
        for (int64_t j = 0; j < n; j++) {
            printf("%02x ", p[i + j]);
        }
        printf(" ");
        for (int64_t j = 0; j < n; j++) {
            uint8_t c = p[i + j];
            putchar(g_ascii_isalnum(c) ? c : '.');      /* qemu-io shows only these */
        }
        printf("\n");
    }
}

/*
 * qemu-io's byte counts and rates: the largest binary unit reached, "%.3f", or
 * "%f" for plain bytes (a rate of "929.858020 bytes/sec"); a zero fraction is
 * dropped ("512 bytes", "4 KiB").
 */
void io_cvtstr(double value, char *buf, size_t size)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = -1;

    while (i + 1 < (int)ARRAY_SIZE(units) && value >= (double)(INT64_C(1) << (10 * (i + 2)))) {
        i++;
    }
    if (i < 0) {
        snprintf(buf, size, "%f", value);
    } else {
        snprintf(buf, size, "%.3f", value / (double)(INT64_C(1) << (10 * (i + 1))));
    }
    char *dot = strchr(buf, '.');
    if (dot && strspn(dot + 1, "0") == strlen(dot + 1)) {
        *dot = '\0';
    }
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, " %s", i < 0 ? "bytes" : units[i]);
}

/* Elapsed time: "SS.ss sec" for the human line, "H:MM:SS.ss" for -C. */
static void io_timestr(int64_t ns, bool fixed, char *buf, size_t size)
{
    uint64_t cs = ns / 10000000;         /* centiseconds */
    unsigned h = cs / 360000, m = (cs / 6000) % 60, s = (cs / 100) % 60, c = cs % 100;

    if (fixed) {
        snprintf(buf, size, "%u:%02u:%02u.%02u", h, m, s, c);
    } else if (h) {
        snprintf(buf, size, "%u:%02u:%02u.%02u", h, m, s, c);
    } else if (m) {
        snprintf(buf, size, "%u:%02u.%02u", m, s, c);
    } else {
        snprintf(buf, size, "%02u.%02u sec", s, c);
    }
}

void io_print_report(const char *op, int64_t elapsed_ns, int64_t offset, int64_t count,
                     int64_t total, int ops, bool machine)
{
    double secs = MAX(elapsed_ns, 1) / 1e9;
    char ts[64], s1[64], s2[64];

    io_timestr(elapsed_ns, machine, ts, sizeof(ts));
    if (machine) {
        printf("%" PRId64 ",%d,%s,%.3f,%.3f\n", total, ops, ts, total / secs, ops / secs);
        return;
    }
    io_cvtstr(count, s1, sizeof(s1));
    io_cvtstr(total / secs, s2, sizeof(s2));
    printf("%s %" PRId64 "/%" PRId64 " bytes at offset %" PRId64 "\n", op, total, count, offset);
    printf("%s, %d ops; %s (%s/sec and %.4f ops/sec)\n", s1, ops, ts, s2, ops / secs);
}

void qemuio_drain(BlockBackend *blk)
{
    if (blk) {
        blk_drain(blk);
    } else {
        blk_drain_all();
    }
}

/* ---- commands without data I/O ---- */

static int help_f(BlockBackend *blk, int argc, char **argv)
{
    if (argc == 1) {
        for (guint i = 0; i < io_cmds->len; i++) {
            qemuio_command_usage(g_ptr_array_index(io_cmds, i));
        }
        printf("\nUse 'help commandname' for extended help.\n");
        return 0;
    }
    const IoCmd *ct = io_find_command(argv[1]);
    if (!ct) {
        printf("command %s not found\n", argv[1]);
        return -EINVAL;
    }
    qemuio_command_usage(ct);
    if (ct->help) {
        ct->help();
    }
    return 0;
}

static int flush_f(BlockBackend *blk, int argc, char **argv)
{
    return blk_flush(blk);
}

static int length_f(BlockBackend *blk, int argc, char **argv)
{
    int64_t size = blk_getlength(blk);
    char s[64];

    if (size < 0) {
        printf("getlength: %s\n", strerror(-size));
        return size;
    }
    io_cvtstr(size, s, sizeof(s));
    printf("%s\n", s);
    return 0;
}

static int info_f(BlockBackend *blk, int argc, char **argv)
{
    BlockDriverState *bs = blk_bs(blk);
    BlockDriverInfo bdi = { 0 };
    char s[64];

    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    printf("format name: %s\n", bdrv_get_format_name(bs));
    int ret = bdrv_get_info(bs, &bdi);
    if (ret < 0) {
        /*
         * qemu-io 7.2 prints the format name a second time when the driver has
         * no info to give (null-co); observed behaviour, kept for iotests.
         */
        printf("format name: %s\n", bdrv_get_format_name(bs));
        return ret;
    }
    io_cvtstr(bdi.cluster_size, s, sizeof(s));
    printf("cluster size: %s\n", s);
    io_cvtstr(0, s, sizeof(s));
    printf("vm state offset: %s\n", s);
    return 0;
}

/*
 * Allocation status of [offset, offset+bytes) merged over consecutive extents
 * of the same status: returns 1/0 and the extent's length in *pnum.
 */
static int io_map_extent(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum)
{
    int64_t num;
    int first = bdrv_is_allocated(bs, offset, bytes, &num);

    if (first < 0) {
        return first;
    }
    *pnum = num;
    while (num > 0 && *pnum < bytes) {
        int ret = bdrv_is_allocated(bs, offset + *pnum, bytes - *pnum, &num);
        if (ret < 0) {
            return ret;
        }
        if (ret != first || num == 0) {
            break;
        }
        *pnum += num;
    }
    return first;
}

static int map_f(BlockBackend *blk, int argc, char **argv)
{
    BlockDriverState *bs = blk_bs(blk);
    int64_t length = blk_getlength(blk), offset = 0;
    char s1[64], s2[64];

    if (length < 0) {
        error_report("Failed to query image length: %s", strerror(-length));
        return length;
    }
    while (offset < length) {
        int64_t num;
        int ret = io_map_extent(bs, offset, length - offset, &num);
        if (ret < 0) {
            error_report("Failed to get allocation status: %s", strerror(-ret));
            return ret;
        }
        if (num == 0) {
            error_report("Unexpected end of image");
            return -EIO;
        }
        io_cvtstr(num, s1, sizeof(s1));
        io_cvtstr(offset, s2, sizeof(s2));
        printf("%s (0x%" PRIx64 ") bytes %s at offset %s (0x%" PRIx64 ")\n",
               s1, num, ret ? "    allocated" : "not allocated", s2, offset);
        offset += num;
    }
    return 0;
}

static int alloc_f(BlockBackend *blk, int argc, char **argv)
{
    BlockDriverState *bs = blk_bs(blk);
    int64_t offset, count = BDRV_SECTOR_SIZE, remaining, sum_alloc = 0;
    char s[64];

    offset = qemuio_cvtnum(argv[1]);
    if (offset < 0) {
        qemuio_print_cvtnum_err(offset, argv[1]);
        return offset;
    }
    if (argc == 3) {
        count = qemuio_cvtnum(argv[2]);
        if (count < 0) {
            qemuio_print_cvtnum_err(count, argv[2]);
            return count;
        }
    }
    io_cvtstr(offset, s, sizeof(s));
    remaining = count;
    while (remaining > 0) {
        int64_t num;
        int ret = bdrv_is_allocated(bs, offset, remaining, &num);
        if (ret < 0) {
            printf("is_allocated failed: %s\n", strerror(-ret));
            return ret;
        }
        if (num == 0) {             /* end of the image: report what was examined */
            count -= remaining;
            break;
        }
        if (ret) {
            sum_alloc += num;
        }
        offset += num;
        remaining -= num;
    }
    printf("%" PRId64 "/%" PRId64 " bytes allocated at offset %s\n", sum_alloc, count, s);
    return 0;
}

static int truncate_f(BlockBackend *blk, int argc, char **argv)
{
    static const char *const modes[] = {
        [PREALLOC_MODE_OFF] = "off", [PREALLOC_MODE_METADATA] = "metadata",
        [PREALLOC_MODE_FALLOC] = "falloc", [PREALLOC_MODE_FULL] = "full",
    };
    PreallocMode prealloc = PREALLOC_MODE_OFF;
    Error *err = NULL;
    int c;

    while ((c = getopt(argc, argv, "m:")) != -1) {
        if (c != 'm') {
            qemuio_command_usage(io_find_command("truncate"));
            return -EINVAL;
        }
        unsigned i;
        for (i = 0; i < ARRAY_SIZE(modes) && strcmp(modes[i], optarg); i++) {
        }
        if (i == ARRAY_SIZE(modes)) {
            error_report("Invalid preallocation mode '%s'", optarg);
            return -EINVAL;
        }
        prealloc = i;
    }
    if (optind != argc - 1) {
        qemuio_command_usage(io_find_command("truncate"));
        return -EINVAL;
    }
    int64_t offset = qemuio_cvtnum(argv[optind]);
    if (offset < 0) {
        qemuio_print_cvtnum_err(offset, argv[optind]);
        return offset;
    }
    int ret = blk_truncate(blk, offset, false, prealloc, 0, &err);
    if (ret < 0) {
        error_report_err(err);
    }
    return ret;
}

/* Options of reopen -o, -r/-w and -c, applied with bdrv_reopen. */
static int reopen_f(BlockBackend *blk, int argc, char **argv)
{
    BlockDriverState *bs = blk_bs(blk);
    QDict *opts = NULL;
    int c, ro = -1, flags = bdrv_get_flags(bs);
    bool writethrough = !blk_enable_write_cache(blk), cache_set = false;
    Error *err = NULL;

    while ((c = getopt(argc, argv, "c:o:rw")) != -1) {
        switch (c) {
        case 'c':
            if (bdrv_parse_cache_mode(optarg, &flags, &writethrough) < 0) {
                error_report("Invalid cache option: %s", optarg);
                goto fail;
            }
            cache_set = true;
            break;
        case 'o':
            if (!tool_parse_opts(optarg, NULL, &opts, &err)) {
                error_report_err(err);
                goto fail;
            }
            break;
        case 'r':
        case 'w':
            if (ro != -1) {
                error_report("Only one -r/-w option may be given");
                goto fail;
            }
            ro = c == 'r';
            break;
        default:
            qemuio_command_usage(io_find_command("reopen"));
            goto fail;
        }
    }
    if (optind != argc) {
        qemuio_command_usage(io_find_command("reopen"));
        goto fail;
    }
    if (ro == 1) {
        /* Going read-only: give up our own write permission first, as qemu-io does. */
        uint64_t perm, shared;
        blk_drain(blk);
        blk_get_perm(blk, &perm, &shared);
        blk_set_perm(blk, perm & ~(BLK_PERM_WRITE | BLK_PERM_WRITE_UNCHANGED), shared, NULL);
    }
#ifdef TOOLS_HAVE_QDICT
    if (ro != -1) {
        tool_put_opt(&opts, "read-only", ro ? "on" : "off");
    }
    if (cache_set) {
        tool_put_opt(&opts, "cache.direct", (flags & BDRV_O_NOCACHE) ? "on" : "off");
        tool_put_opt(&opts, "cache.no-flush", (flags & BDRV_O_NO_FLUSH) ? "on" : "off");
    }
    if (!opts) {
        opts = qdict_new();
    }
    int ret = bdrv_reopen(bs, opts, &err);
    opts = NULL;                          /* consumed */
#else
    int ret = ro == -1 ? 0 : bdrv_reopen_set_read_only(bs, ro, &err);
#endif
    if (ret < 0) {
        error_report_err(err);
        return ret;
    }
    blk_set_enable_write_cache(blk, !writethrough);
    return 0;

fail:
    tool_free_opts(opts);
    return -EINVAL;
}

static void io_sleep_cb(void *opaque)
{
    *(bool *)opaque = true;
}

static int sleep_f(BlockBackend *blk, int argc, char **argv)
{
    char *end;
    long ms = strtol(argv[1], &end, 0);
    bool expired = false;

    if (ms < 0 || *end != '\0') {
        printf("%s is not a valid number\n", argv[1]);
        return -EINVAL;
    }
    /* Keep the event loop running so that aio_* requests make progress. */
    AioContext *ctx = qemu_get_aio_context();
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, io_sleep_cb, &expired);
    timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + ms * SCALE_MS);
    AIO_WAIT_WHILE(ctx, !expired);
    timer_free(t);
    return 0;
}

static int break_f(BlockBackend *blk, int argc, char **argv)
{
    int ret = bdrv_debug_breakpoint(blk_bs(blk), argv[1], argv[2]);

    if (ret < 0) {
        printf("Could not set breakpoint: %s\n", strerror(-ret));
    }
    return ret;
}

static int remove_break_f(BlockBackend *blk, int argc, char **argv)
{
    int ret = bdrv_debug_remove_breakpoint(blk_bs(blk), argv[1]);

    if (ret < 0) {
        printf("Could not remove breakpoint %s: %s\n", argv[1], strerror(-ret));
    }
    return ret;
}

static int resume_f(BlockBackend *blk, int argc, char **argv)
{
    int ret = bdrv_debug_resume(blk_bs(blk), argv[1]);

    if (ret < 0) {
        printf("Could not resume request: %s\n", strerror(-ret));
    }
    return ret;
}

static int wait_break_f(BlockBackend *blk, int argc, char **argv)
{
    AIO_WAIT_WHILE(qemu_get_aio_context(), !bdrv_debug_is_suspended(blk_bs(blk), argv[1]));
    return 0;
}

static int abort_f(BlockBackend *blk, int argc, char **argv)
{
    abort();
}

static int sigraise_f(BlockBackend *blk, int argc, char **argv)
{
    int64_t sig = qemuio_cvtnum(argv[1]);

    if (sig < 0) {
        qemuio_print_cvtnum_err(sig, argv[1]);
        return sig;
    }
    if (sig > NSIG) {
        printf("signal argument '%s' is too large to be a valid signal\n", argv[1]);
        return -EINVAL;
    }
    /* The signal may end the process: let what was printed so far out first. */
    fflush(stdout);
    fflush(stderr);
    raise(sig);
    return 0;
}

static const IoCmd io_ctl_cmds[] = {
    { "help", "?", help_f, 0, 1, IO_CMD_NOFILE_OK, 0, "[command]",
      "help for one or all commands" },
    { "flush", "f", flush_f, 0, 0, 0, 0, NULL, "flush all in-core file state to disk" },
    { "length", "l", length_f, 0, 0, 0, 0, NULL, "gets the length of the current file" },
    { "info", "i", info_f, 0, 0, 0, 0, NULL, "prints information about the current file" },
    { "map", NULL, map_f, 0, 0, 0, 0, "", "prints the allocated areas of a file" },
    { "alloc", NULL, alloc_f, 1, 2, 0, 0, "offset [count]",
      "checks if offset is allocated in the file" },
    { "truncate", "t", truncate_f, 1, 3, 0, BLK_PERM_WRITE | BLK_PERM_RESIZE,
      "[-m prealloc_mode] off",
      "truncates the current file at the given offset" },
    { "reopen", NULL, reopen_f, 0, -1, 0, 0, "[(-r|-w)] [-c cache] [-o options]",
      "reopens an image with new options", io_help_reopen },
    { "sleep", NULL, sleep_f, 1, 1, IO_CMD_NOFILE_OK, 0, NULL,
      "waits for the given value in milliseconds" },
    { "break", NULL, break_f, 2, 2, 0, 0, "event tag",
      "sets a breakpoint on event and tags the stopped request as tag" },
    { "remove_break", NULL, remove_break_f, 1, 1, 0, 0, "tag", "remove a breakpoint by tag" },
    { "resume", NULL, resume_f, 1, 1, 0, 0, "tag", "resumes the request tagged as tag" },
    { "wait_break", NULL, wait_break_f, 1, 1, 0, 0, "tag", "waits for the suspension of a request" },
    { "abort", NULL, abort_f, 0, 0, IO_CMD_NOFILE_OK, 0, NULL,
      "simulate a program crash using abort(3)" },
    { "sigraise", NULL, sigraise_f, 1, 1, IO_CMD_NOFILE_OK, 0, "signal", "raises a signal",
      io_help_sigraise },
    { NULL },
};

static void io_cmds_init(void)
{
    if (io_cmds) {
        return;
    }
    io_cmds = g_ptr_array_new();
    for (const IoCmd *ct = io_ctl_cmds; ct->name; ct++) {
        g_ptr_array_add(io_cmds, (gpointer)ct);
    }
    for (const IoCmd *ct = io_rw_cmds; ct->name; ct++) {
        g_ptr_array_add(io_cmds, (gpointer)ct);
    }
    g_ptr_array_sort(io_cmds, io_cmd_compare);
}
