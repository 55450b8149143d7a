#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# Differential test of block jobs: one stream + mirror + active-commit session,
# run against Debian's qemu-system-x86_64 (-machine none -accel tcg: no qtest there) and
# against godwit on identical copies of the same images. The command replies and
# the sequences of JOB_STATUS_CHANGE / BLOCK_JOB_* events (timestamps dropped,
# including stop/cont with a READY mirror)
# must be equal, and so must the resulting images (qemu-img compare).
# Skips (exit 77) without qemu-system-x86_64 or qemu-img.
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

QEMU = shutil.which('qemu-system-x86_64')
QEMU_IMG = shutil.which('qemu-img')
QEMU_IO = shutil.which('qemu-io')
MiB = 1 << 20


def make_images(d):
    def img(*a):
        subprocess.run([QEMU_IMG] + list(a), check=True, stdout=subprocess.DEVNULL)

    def io(f, *cmds):
        argv = [QEMU_IO]
        for c in cmds:
            argv += ['-c', c]
        subprocess.run(argv + [f], check=True, stdout=subprocess.DEVNULL)
    img('create', '-f', 'qcow2', os.path.join(d, 'base.qcow2'), '64M')
    io(os.path.join(d, 'base.qcow2'), 'write -P 1 0 1M', 'write -P 2 8M 2M')
    img('create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', os.path.join(d, 'mid.qcow2'))
    io(os.path.join(d, 'mid.qcow2'), 'write -P 3 1M 1M', 'write -z 8M 64k')
    img('create', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', os.path.join(d, 'top.qcow2'))
    io(os.path.join(d, 'top.qcow2'), 'write -P 4 4M 64k', 'write -P 5 20M 3M')
    img('create', '-f', 'qcow2', os.path.join(d, 'tgt.qcow2'), '64M')


def node(d, name, backing=None):
    n = {'driver': 'qcow2', 'node-name': name,
         'file': {'driver': 'file', 'filename': os.path.join(d, name + '.qcow2')}}
    if backing is not None:
        n['backing'] = backing
    return n


def strip(ev):
    return {'event': ev['event'], 'data': ev.get('data')}


def wait_status(vm, log, job, status):
    while True:
        ev = vm.qmp.event_wait('JOB_STATUS_CHANGE')
        log.append(strip(ev))
        if ev['data'] == {'id': job, 'status': status}:
            return


def drain_events(vm, log):
    for ev in vm.qmp.events:
        log.append(strip(ev))
    vm.qmp.events.clear()


def session(binary, d, accel):
    # Debian's qemu-system-x86_64 lacks the qtest accelerator: it runs with tcg
    vm = VM(binary, ['-machine', 'none', '-accel', accel, '-nodefaults',
                     '-display', 'none']).launch()
    log = []

    def cmd(name, args=None):
        r = vm.cmd(name, args)
        r.pop('id', None)
        log.append({'cmd': name, 'reply': r})
        return r
    try:
        cmd('blockdev-add', node(d, 'top', node(d, 'mid', node(d, 'base'))))
        # errors first
        cmd('block-job-pause', {'device': 'nope'})
        cmd('job-pause', {'id': 'nope'})
        cmd('block-commit', {'device': 'nope'})
        cmd('block-stream', {'device': 'nope'})
        cmd('block-stream', {'device': 'top', 'base': 'x', 'base-node': 'y'})
        cmd('block-stream', {'device': 'top', 'job-id': 'j1', 'base-node': 'nope'})
        # stream mid into top
        cmd('block-stream', {'device': 'top', 'job-id': 'j1', 'base-node': 'base'})
        wait_status(vm, log, 'j1', 'null')
        drain_events(vm, log)
        cmd('query-block-jobs')
        # mirror top to tgt, cancel after READY: a point-in-time copy
        cmd('blockdev-add', node(d, 'tgt'))
        cmd('blockdev-mirror', {'job-id': 'j2', 'device': 'top', 'target': 'tgt',
                                'sync': 'full'})
        wait_status(vm, log, 'j2', 'ready')
        cmd('block-job-complete', {'device': 'nope'})
        cmd('job-finalize', {'id': 'j2'})
        cmd('block-job-set-speed', {'device': 'j2', 'speed': -1})
        # a VM stop takes a READY job to standby and back; cont does nothing to it
        drain_events(vm, log)
        cmd('stop')
        cmd('query-status')
        drain_events(vm, log)
        cmd('cont')
        cmd('query-status')
        drain_events(vm, log)
        cmd('block-job-cancel', {'device': 'j2'})
        wait_status(vm, log, 'j2', 'null')
        drain_events(vm, log)
        cmd('blockdev-del', {'node-name': 'tgt'})
        # active commit of top into base, manual dismiss
        cmd('block-commit', {'job-id': 'j3', 'device': 'top', 'auto-dismiss': False})
        wait_status(vm, log, 'j3', 'ready')
        cmd('query-jobs')
        cmd('job-complete', {'id': 'j3'})
        wait_status(vm, log, 'j3', 'concluded')
        drain_events(vm, log)
        cmd('query-jobs')
        cmd('job-dismiss', {'id': 'j3'})
        wait_status(vm, log, 'j3', 'null')
        cmd('query-jobs')
        # blkdebug options as backing.file under an overlay that names its backing file
        cmd('blockdev-add', {'driver': 'qcow2', 'node-name': 'ov', 'read-only': True,
                             'file': {'driver': 'file',
                                      'filename': os.path.join(d, 'mid.qcow2')},
                             'backing': {'driver': 'qcow2', 'file': {
                                 'driver': 'blkdebug',
                                 'image': {'driver': 'file',
                                           'filename': os.path.join(d, 'base.qcow2')}}}})
        vm.shutdown()
    finally:
        vm.kill()
    return log


def main():
    if not (QEMU and QEMU_IMG and QEMU_IO) or not os.path.exists(godwit_binary()):
        print('SKIP: needs qemu-system-x86_64, qemu-img, qemu-io and godwit')
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        dq, dg = os.path.join(tmp, 'qemu'), os.path.join(tmp, 'godwit')
        os.mkdir(dq)
        make_images(dq)
        shutil.copytree(dq, dg)
        want = session(QEMU, dq, 'tcg')
        got = session(godwit_binary(), dg, 'qtest')
        bad = 0
        for i in range(max(len(want), len(got))):
            a = want[i] if i < len(want) else None
            b = got[i] if i < len(got) else None
            if a != b:
                print('MISMATCH %d\n  qemu:   %r\n  godwit: %r' % (i, a, b))
                bad += 1
        for f in ('base.qcow2', 'tgt.qcow2'):
            r = subprocess.run([QEMU_IMG, 'compare', os.path.join(dq, f), os.path.join(dg, f)],
                               capture_output=True, text=True)
            print('compare %s: %s' % (f, r.stdout.strip()))
            bad += r.returncode != 0
        print('%d lines compared, %d differences' % (len(want), bad))
        return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
