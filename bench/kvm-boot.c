/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * bench-kvm-boot: (1) time from process start to the guest's first instruction,
 * (2) cost of one port-I/O and one MMIO exit round trip, (3) a whole boot-to-exit
 * run of the test guest.
 *
 * (1) The parent takes CLOCK_MONOTONIC, then posix_spawn()s itself as a child that
 * creates a machine and runs a 3-instruction program whose second instruction
 * writes GODWIT_PORT_PROGRESS; the child stamps the time in that handler. So the
 * figure includes exec, dynamic linking, opening KVM, creating the VM, RAM, vCPU
 * and thread, and one exit (~tens of µs): an upper bound on "first instruction".
 * Exit 77 without KVM.
 */
#include "util/osdep.h"
#include "hw/machine.h"

#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

typedef struct Stamps {
    uint64_t first_exit;
} Stamps;

static void stamp_progress(void *opaque, uint32_t v)
{
    Stamps *s = opaque;
    if (!s->first_exit) {
        s->first_exit = now_ns();
    }
}

/* mov $PROGRESS,%dx; out %eax,%dx; xor %eax,%eax; mov $EXIT,%dx; out %eax,%dx */
static const uint8_t first_insn_prog[] = {
    0x66, 0xba, GODWIT_PORT_PROGRESS & 0xff, GODWIT_PORT_PROGRESS >> 8, 0xef,
    0x31, 0xc0,
    0x66, 0xba, GODWIT_PORT_EXIT & 0xff, GODWIT_PORT_EXIT >> 8, 0xef,
    0xeb, 0xfe,
};

static int child_main(uint64_t t0)
{
    Stamps s = { 0 };
    MachineConfig cfg = { .ram_size = 16 * MiB, .progress = stamp_progress, .opaque = &s };
    uint64_t t_main = now_ns();
    Machine *m = machine_create(&cfg, &error_fatal);
    uint64_t t_created = now_ns();
    machine_load_program_data(m, first_insn_prog, sizeof(first_insn_prog), &error_fatal);
    machine_start(m, false, &error_fatal);
    MachineExit e;
    machine_wait(m, 10000, &e);
    uint64_t t_exit = now_ns();
    machine_destroy(m);
    printf("%.3f %.3f %.3f %.3f %d\n", (t_main - t0) / 1e6, (t_created - t0) / 1e6,
           (s.first_exit - t0) / 1e6, (t_exit - t0) / 1e6, e.status);
    return 0;
}

static void bench_first_insn(const char *self, int runs)
{
    double best[4] = { 1e9, 1e9, 1e9, 1e9 }, sum[4] = { 0 };

    for (int i = 0; i < runs; i++) {
        char arg[32], buf[256];
        int pfd[2];
        posix_spawn_file_actions_t fa;
        pid_t pid;

        g_assert(pipe(pfd) == 0);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        uint64_t t0 = now_ns();
        snprintf(arg, sizeof(arg), "%" PRIu64, t0);
        char *argv[] = { (char *)self, (char *)"--child", arg, NULL };
        if (posix_spawn(&pid, self, &fa, NULL, argv, environ)) {
            perror("posix_spawn");
            exit(1);
        }
        close(pfd[1]);
        ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
        close(pfd[0]);
        waitpid(pid, NULL, 0);
        posix_spawn_file_actions_destroy(&fa);
        double v[4];
        int status;
        buf[n > 0 ? n : 0] = 0;
        if (sscanf(buf, "%lf %lf %lf %lf %d", &v[0], &v[1], &v[2], &v[3], &status) != 5 || status) {
            fprintf(stderr, "child failed: '%s'\n", buf);
            exit(1);
        }
        for (int k = 0; k < 4; k++) {
            best[k] = MIN(best[k], v[k]);
            sum[k] += v[k];
        }
    }
    printf("process start -> (ms, best / mean of %d)\n", runs);
    static const char *const what[] = {
        "main() entered", "VM + RAM + vCPU created", "guest's first instruction (first exit)",
        "guest exited, VM stopped",
    };
    for (int k = 0; k < 4; k++) {
        printf("  %-40s %8.3f %8.3f\n", what[k], best[k], sum[k] / runs);
    }
}

static double run_guest_ms(const char *append)
{
    MachineConfig cfg = { .ram_size = 64 * MiB, .append = append };
    uint64_t t0 = now_ns();
    Machine *m = machine_create(&cfg, &error_fatal);
    machine_load_program(m, GODWIT_GUEST_ELF, &error_fatal);
    machine_start(m, false, &error_fatal);
    MachineExit e;
    machine_wait(m, 60000, &e);
    uint64_t t1 = now_ns();
    if (e.reason != KVM_GODWIT_STOP_REQUESTED || e.status) {
        fprintf(stderr, "guest '%s' failed: %s\n", append, e.message);
        exit(1);
    }
    machine_destroy(m);
    return (t1 - t0) / 1e6;
}

static void bench_exit_cost(int n)
{
    g_autofree char *io = g_strdup_printf("io-loop n=%d", n);
    g_autofree char *mmio = g_strdup_printf("mmio-loop n=%d", n);
    double base = run_guest_ms("io-loop n=0");
    double t_io = run_guest_ms(io), t_mmio = run_guest_ms(mmio);

    printf("exit round trip (guest CPL3 -> vCPU thread handler -> guest), %d each:\n", n);
    printf("  %-40s %8.2f us\n", "port I/O (outl)", (t_io - base) * 1000 / n);
    printf("  %-40s %8.2f us\n", "MMIO (32-bit store, unbacked GPA)", (t_mmio - base) * 1000 / n);
    printf("in-process boot of the test guest to its exit port ('exit code=0'): %.3f ms\n",
           run_guest_ms("exit code=0"));
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    if (argc == 3 && !strcmp(argv[1], "--child")) {
        return child_main(strtoull(argv[2], NULL, 10));
    }
    error_set_progname(argv[0]);
    if (!kvm_available(&err)) {
        error_reportf_err(err, "SKIP: KVM is not usable here: ");
        return 77;
    }
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    bench_first_insn("/proc/self/exe", runs);
    bench_exit_cost(argc > 2 ? atoi(argv[2]) : 20000);
    return 0;
}
