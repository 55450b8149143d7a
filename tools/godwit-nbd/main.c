/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-nbd: a drop-in for qemu-nbd 7.2 without the kernel client (-c/-d).
 * Serves one image (any format, any chain) as one export over a unix socket
 * (-k) or TCP (-b/-p), with nbd/server.c; or, with -L, lists the exports of
 * another server. Without -t the server exits after its last client leaves;
 * --fork returns in the parent only once the child listens (or failed).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "util/sockets.h"
#include "block/block.h"
#include "block/block-backend.h"
#include "tools/tool-util.h"
#include "nbd/proto.h"
#include "nbd/nbd.h"
#include <getopt.h>
#include <signal.h>
#include <sys/signalfd.h>

enum {
    OPT_OBJECT = 256, OPT_TLSCREDS, OPT_TLSAUTHZ, OPT_IMAGE_OPTS, OPT_FORK, OPT_PID_FILE,
    OPT_CACHE, OPT_AIO, OPT_DISCARD, OPT_DETECT_ZEROES, OPT_SELINUX,
};

typedef struct NbdToolArgs {
    const char *sockpath, *bindto, *port, *export_name, *description, *format;
    const char *pid_file;
    GPtrArray *bitmaps;
    int shared;
    bool persistent, readonly, list, fork_process, image_opts, alloc_depth, verbose;
    bool writethrough;
    int flags;
    QDict *opts;
} NbdToolArgs;

static bool nbd_tool_quit;
static bool nbd_tool_seen_client;
static bool nbd_tool_persistent;

static void nbd_usage(FILE *f)
{
    const char *name = error_get_progname();

    fprintf(f,
"Usage: %s [OPTIONS] FILE\n"
"  or:  %s -L [OPTIONS]\n"
"QEMU Disk Network Block Device Utility\n"
"\n"
"  -h, --help                display this help and exit\n"
"  -V, --version             output version information and exit\n"
"\n"
"Connection properties:\n"
"  -p, --port=PORT           port to listen on (default `10809')\n"
"  -b, --bind=IFACE          interface to bind to (default `0.0.0.0')\n"
"  -k, --socket=PATH         path to the unix socket\n"
"  -e, --shared=NUM          device can be shared by NUM clients (default '1')\n"
"  -t, --persistent          don't exit on the last connection\n"
"  -v, --verbose             display extra debugging information\n"
"  -x, --export-name=NAME    expose export by name (default is empty string)\n"
"  -D, --description=TEXT    export a human-readable description\n"
"\n"
"Exposing part of the image:\n"
"  -A, --allocation-depth    expose the allocation depth\n"
"  -B, --bitmap=NAME         expose a persistent dirty bitmap\n"
"\n"
"General purpose options:\n"
"  -L, --list                list exports available from another NBD server\n"
"  --fork                    fork off the server process and exit the parent\n"
"                            once the server is running\n"
"  --pid-file=PATH           store the server's process ID in the given file\n"
"\n"
"Block device options:\n"
"  -f, --format=FORMAT       set image format (raw, qcow2, ...)\n"
"  -r, --read-only           export read-only\n"
"  -s, --snapshot            use FILE as an external snapshot\n"
"  -n, --nocache             disable host cache\n"
"      --cache=MODE          set cache mode used to access the disk image\n"
"      --aio=MODE            set AIO mode (native, io_uring or threads)\n"
"      --discard=MODE        set discard mode (ignore, unmap)\n"
"      --detect-zeroes=MODE  set detect-zeroes mode (off, on, unmap)\n"
"      --image-opts          treat FILE as a full set of image options\n",
            name, name);
}

/* ---- -L ---- */

static void nbd_print_flags(uint16_t flags)
{
    static const char *const names[] = {
        "readonly", "flush", "fua", "rotational", "trim", "zeroes", "df", "multi", "resize",
        "cache", "fast-zero",
    };

    printf("  flags: 0x%x (", flags);
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
        if (flags & (2u << i)) {
            printf(" %s", names[i]);
        }
    }
    printf(" )\n");
}

static SocketAddress *nbd_tool_address(const NbdToolArgs *a, const char *default_host)
{
    SocketAddress *addr = g_new0(SocketAddress, 1);

    if (a->sockpath) {
        addr->type = SOCKET_ADDRESS_TYPE_UNIX;
        addr->u.q_unix.path = g_strdup(a->sockpath);
    } else {
        addr->type = SOCKET_ADDRESS_TYPE_INET;
        addr->u.inet.host = g_strdup(a->bindto ? a->bindto : default_host);
        addr->u.inet.port = g_strdup(a->port ? a->port : "10809");
    }
    return addr;
}

static int nbd_tool_list(const NbdToolArgs *a)
{
    g_autoptr(SocketAddress) addr = nbd_tool_address(a, "localhost");
    Error *err = NULL;
    NBDExportInfo *list;
    NBDSock sock;

    int fd = socket_connect(addr, &err);
    if (fd < 0) {
        error_report_err(err);
        return EXIT_FAILURE;
    }
    nbd_sock_init(&sock, fd);
    int n = nbd_receive_export_list(&sock, &list, &err);
    nbd_sock_close(&sock);
    if (n < 0) {
        error_report_err(err);
        return EXIT_FAILURE;
    }
    printf("exports available: %d\n", n);
    for (int i = 0; i < n; i++) {
        NBDExportInfo *e = &list[i];
        printf(" export: '%s'\n", e->name);
        if (e->description && *e->description) {
            printf("  description: %s\n", e->description);
        }
        printf("  size:  %" PRIu64 "\n", e->size);
        nbd_print_flags(e->flags);
        if (e->min_block) {
            printf("  min block: %" PRIu32 "\n", e->min_block);
            printf("  opt block: %" PRIu32 "\n", e->opt_block);
            printf("  max block: %" PRIu32 "\n", e->max_block);
        }
        unsigned nctx = e->contexts ? g_strv_length(e->contexts) : 0;
        printf("  available meta contexts: %u\n", nctx);
        for (unsigned j = 0; j < nctx; j++) {
            printf("   %s\n", e->contexts[j]);
        }
        nbd_export_info_clear(e);
    }
    g_free(list);
    return EXIT_SUCCESS;
}

/* ---- serving ---- */

static void nbd_tool_client_closed(void *opaque)
{
    nbd_tool_seen_client = true;
    if (!nbd_tool_persistent && nbd_server_client_count() == 0) {
        nbd_tool_quit = true;
    }
}

static void nbd_tool_signal(void *opaque)
{
    int *sfd = opaque;
    struct signalfd_siginfo si;

    while (read(*sfd, &si, sizeof(si)) == sizeof(si)) {
        nbd_tool_quit = true;
    }
}

static BlockBackend *nbd_tool_open(NbdToolArgs *a, const char *file)
{
    Error *err = NULL;
    const char *name = file;
    QDict *opts = a->opts;

    a->opts = NULL;
    if (a->image_opts) {
        if (!tool_parse_opts(file, NULL, &opts, &err)) {
            error_report_err(err);
            return NULL;
        }
        name = NULL;
    } else if (a->format) {
        tool_put_opt(&opts, "driver", a->format);
    }
    BlockBackend *blk = blk_new_open(name, NULL, opts, a->flags, &err);
    if (!blk) {
        error_reportf_err(err, "Failed to blk_new_open '%s': ", file);
        return NULL;
    }
    blk_set_enable_write_cache(blk, !a->writethrough);
    return blk;
}

/* Returns the write end of the readiness pipe in the child, -1 without --fork. */
static int nbd_tool_fork(void)
{
    int p[2];

    if (pipe(p) < 0) {
        error_report("Failed to create pipe: %s", strerror(errno));
        exit(EXIT_FAILURE);
    }
    pid_t pid = fork();
    if (pid < 0) {
        error_report("Failed to fork: %s", strerror(errno));
        exit(EXIT_FAILURE);
    }
    if (pid > 0) {
        char c;
        close(p[1]);
        /* the child writes one byte once it listens; EOF means it failed */
        ssize_t n;
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR) {
        }
        exit(n == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
    }
    close(p[0]);
    setsid();
    return p[1];
}

static int nbd_tool_serve(NbdToolArgs *a, const char *file)
{
    Error *err = NULL;
    int ready_fd = a->fork_process ? nbd_tool_fork() : -1;

    BlockBackend *blk = nbd_tool_open(a, file);
    if (!blk) {
        return EXIT_FAILURE;
    }
    g_ptr_array_add(a->bitmaps, NULL);
    NBDExportOptions o = {
        .name = a->export_name ? a->export_name : "",
        .description = a->description,
        .writable = !a->readonly,
        .allocation_depth = a->alloc_depth,
        .bitmaps = (const char *const *)a->bitmaps->pdata,
        .multi_conn = a->shared != 1,
    };
    if (!nbd_export_add(blk, &o, &err)) {
        error_report_err(err);
        blk_unref(blk);
        return EXIT_FAILURE;
    }
    blk_unref(blk);

    g_autoptr(SocketAddress) addr = nbd_tool_address(a, "0.0.0.0");
    if (!nbd_server_start(addr, a->shared, &err)) {
        error_report_err(err);
        return EXIT_FAILURE;
    }
    if (a->pid_file) {
        g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
        if (!g_file_set_contents(a->pid_file, pid, -1, NULL)) {
            error_report("Failed to write pid file '%s'", a->pid_file);
            return EXIT_FAILURE;
        }
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    aio_set_fd_handler(qemu_get_aio_context(), sfd, nbd_tool_signal, NULL, &sfd);
    signal(SIGPIPE, SIG_IGN);

    nbd_tool_persistent = a->persistent;
    nbd_server_set_client_closed_hook(nbd_tool_client_closed, NULL);
    if (ready_fd >= 0) {
        if (write(ready_fd, "", 1) != 1) {
            /* the parent is gone: keep serving anyway */
        }
        close(ready_fd);
    }
    while (!nbd_tool_quit) {
        aio_poll(qemu_get_aio_context(), true);
    }
    aio_set_fd_handler(qemu_get_aio_context(), sfd, NULL, NULL, NULL);
    close(sfd);
    nbd_server_stop(NULL);
    if (a->sockpath) {
        unlink(a->sockpath);
    }
    /* the pid file stays: scripts poll it with kill -0 after killing us, as with qemu-nbd */
    bdrv_close_all();
    return EXIT_SUCCESS;
}

static bool nbd_tool_opt(NbdToolArgs *a, int c, const char *arg)
{
    switch (c) {
    case 'p': a->port = arg; break;
    case 'b': a->bindto = arg; break;
    case 'k': a->sockpath = arg; break;
    case 't': a->persistent = true; break;
    case 'v': a->verbose = true; break;
    case 'x': a->export_name = arg; break;
    case 'D': a->description = arg; break;
    case 'A': a->alloc_depth = true; break;
    case 'B': g_ptr_array_add(a->bitmaps, (char *)arg); break;
    case 'L': a->list = true; break;
    case 'f': a->format = arg; break;
    case 'r': a->readonly = true; break;
    case 's': a->flags |= BDRV_O_SNAPSHOT; break;
    case 'n': a->flags |= BDRV_O_NOCACHE; break;
    case OPT_FORK: a->fork_process = true; break;
    case OPT_PID_FILE: a->pid_file = arg; break;
    case OPT_IMAGE_OPTS: a->image_opts = true; break;
    case 'e': {
        char *end;
        long v = strtol(arg, &end, 0);
        if (*end || v < 0 || v > INT_MAX) {
            error_report("Invalid shared device number '%s'", arg);
            return false;
        }
        a->shared = v;
        break;
    }
    case OPT_CACHE:
        if (bdrv_parse_cache_mode(arg, &a->flags, &a->writethrough) < 0) {
            error_report("Invalid cache mode `%s'", arg);
            return false;
        }
        break;
    case OPT_AIO:
        if (bdrv_parse_aio(arg, &a->flags) < 0) {
            error_report("Invalid aio mode '%s'", arg);
            return false;
        }
        break;
    case OPT_DISCARD:
        if (bdrv_parse_discard_flags(arg, &a->flags) < 0) {
            error_report("Invalid discard mode `%s'", arg);
            return false;
        }
        break;
    case OPT_DETECT_ZEROES:
        tool_put_opt(&a->opts, "detect-zeroes", arg);
        break;
    case 'T': case OPT_OBJECT: case OPT_SELINUX:
        break;                      /* accepted, nothing to do */
    case OPT_TLSCREDS: case OPT_TLSAUTHZ:
        error_report("TLS is not supported");
        return false;
    default:
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
        { "bind", required_argument, NULL, 'b' }, { "port", required_argument, NULL, 'p' },
        { "socket", required_argument, NULL, 'k' }, { "offset", required_argument, NULL, 'o' },
        { "read-only", no_argument, NULL, 'r' }, { "allocation-depth", no_argument, NULL, 'A' },
        { "bitmap", required_argument, NULL, 'B' }, { "connect", required_argument, NULL, 'c' },
        { "disconnect", no_argument, NULL, 'd' }, { "list", no_argument, NULL, 'L' },
        { "snapshot", no_argument, NULL, 's' }, { "load-snapshot", required_argument, NULL, 'l' },
        { "nocache", no_argument, NULL, 'n' }, { "cache", required_argument, NULL, OPT_CACHE },
        { "aio", required_argument, NULL, OPT_AIO },
        { "discard", required_argument, NULL, OPT_DISCARD },
        { "detect-zeroes", required_argument, NULL, OPT_DETECT_ZEROES },
        { "shared", required_argument, NULL, 'e' }, { "format", required_argument, NULL, 'f' },
        { "persistent", no_argument, NULL, 't' }, { "verbose", no_argument, NULL, 'v' },
        { "object", required_argument, NULL, OPT_OBJECT },
        { "export-name", required_argument, NULL, 'x' },
        { "description", required_argument, NULL, 'D' },
        { "tls-creds", required_argument, NULL, OPT_TLSCREDS },
        { "tls-authz", required_argument, NULL, OPT_TLSAUTHZ },
        { "image-opts", no_argument, NULL, OPT_IMAGE_OPTS },
        { "trace", required_argument, NULL, 'T' }, { "fork", no_argument, NULL, OPT_FORK },
        { "pid-file", required_argument, NULL, OPT_PID_FILE },
        { "selinux-label", required_argument, NULL, OPT_SELINUX },
        { NULL, 0, NULL, 0 }
    };
    NbdToolArgs a = { .shared = 1, .bitmaps = g_ptr_array_new() };
    int c, ret;

    error_set_progname(argv[0]);
    while ((c = getopt_long(argc, argv, "hVb:o:p:rsnc:dvk:e:f:tl:x:T:D:AB:L",
                            long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            nbd_usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf("%s %s\n", error_get_progname(), GODWIT_VERSION);
            return EXIT_SUCCESS;
        case 'o': case 'c': case 'd': case 'l':
            error_report("option -%c is not supported", c);
            return EXIT_FAILURE;
        case '?':
            error_report("Try `%s --help' for more information.", error_get_progname());
            return EXIT_FAILURE;
        default:
            if (!nbd_tool_opt(&a, c, optarg)) {
                return EXIT_FAILURE;
            }
        }
    }
    if (a.list) {
        if (argc != optind) {
            error_report("List mode is incompatible with a file name");
            return EXIT_FAILURE;
        }
        ret = nbd_tool_list(&a);
    } else {
        if (argc - optind != 1) {
            error_report("Invalid number of arguments");
            fprintf(stderr, "Try `%s --help' for more information.\n", error_get_progname());
            return EXIT_FAILURE;
        }
        if (a.sockpath && (a.port || a.bindto)) {
            error_report("-k is incompatible with -b or -p");
            return EXIT_FAILURE;
        }
        if (!a.readonly) {
            a.flags |= BDRV_O_RDWR;
        }
        ret = nbd_tool_serve(&a, argv[optind]);
    }
    g_ptr_array_free(a.bitmaps, true);
    return ret;
}
