/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * run-guest: boot a program on the Godwit machine and exit with its status, for
 * manual runs until the `godwit` command line exists.
 *   run-guest [-m MIB] PROGRAM [PARAMETERS...]
 * Exit status: the guest's, or 125 if the VM could not run, 77 without KVM.
 */
#include "util/osdep.h"
#include "hw/machine.h"

int main(int argc, char **argv)
{
    MachineConfig cfg = { .ram_size = 64 * MiB };
    Error *err = NULL;
    int i = 1;

    error_set_progname(argv[0]);
    if (argc > 2 && !strcmp(argv[1], "-m")) {
        cfg.ram_size = (uint64_t)atoll(argv[2]) * MiB;
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [-m MIB] PROGRAM [PARAMETERS...]\n", argv[0]);
        return 125;
    }
    g_autofree char *append = g_strjoinv(" ", argv + i + 1);
    cfg.append = append;
    if (!kvm_available(&err)) {
        error_reportf_err(err, "SKIP: KVM is not usable here: ");
        return 77;
    }
    Machine *m = machine_create(&cfg, &err);
    if (!m || !machine_load_program(m, argv[i], &err) || !machine_start(m, false, &err)) {
        error_report_err(err);
        machine_destroy(m);
        return 125;
    }
    MachineExit e;
    machine_wait(m, -1, &e);
    int ret = e.status;
    if (e.reason != KVM_GODWIT_STOP_REQUESTED) {
        error_report("guest stopped (%s): %s", kvm_stop_reason_name(e.reason), e.message);
        ret = 125;
    }
    machine_destroy(m);
    return ret;
}
