# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# What the monitor test scripts share: the ok/FAIL checklist, qemu-img image
# creation, a qcow2-over-file node, HMP through QMP and waiting for a job
# status. Stdlib only; the scripts import it from their own directory.
import shutil
import subprocess

QEMU_IMG = shutil.which('qemu-img')
failures = []           # what failed, in order; main() turns it into the exit status


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures.append(what)


def img(*a):
    subprocess.run([QEMU_IMG] + list(a), check=True, stdout=subprocess.DEVNULL)


def node(path, name, **extra):
    n = {'driver': 'qcow2', 'node-name': name, 'file': {'driver': 'file', 'filename': path}}
    n.update(extra)
    return n


def hmp(vm, line):
    return vm.cmd('human-monitor-command', {'command-line': line})['return']


def wait_status(vm, job, status, seen=None):
    """Wait for JOB_STATUS_CHANGE of job to status; append every status seen to seen."""
    while True:
        ev = vm.qmp.event_wait('JOB_STATUS_CHANGE')
        if seen is not None:
            seen.append(ev['data']['status'])
        if ev['data'] == {'id': job, 'status': status}:
            return
