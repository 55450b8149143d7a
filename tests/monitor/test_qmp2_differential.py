#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# Differential test of the second batch of monitor features, run against
# Debian's qemu-system-x86_64 (-machine none -accel tcg) and godwit (qtest):
#   - blockdev-create jobs (file, then qcow2 on the file node, with options),
#     their JOB_STATUS_CHANGE sequences, query-jobs (progress, errors) and
#     QEMU's error texts, including the permission conflict with a qcow2 node;
#   - object-add / object-del of iothread and throttle-group, and their errors;
#   - the relative order of query-commands.
# Replies and events are compared with the session directory replaced by DIR
# and timestamps dropped; the created images are compared with qemu-img
# (compare, and info --output=json without actual-size).
# Skips (exit 77) without qemu-system-x86_64 or qemu-img.
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

QEMU = shutil.which('qemu-system-x86_64')
QEMU_IMG = shutil.which('qemu-img')
MiB = 1 << 20


def session(binary, d, accel):
    vm = VM(binary, ['-machine', 'none', '-accel', accel, '-nodefaults',
                     '-display', 'none']).launch()
    log = []

    def norm(obj):
        return json.loads(json.dumps(obj).replace(d, 'DIR'))

    def drain():
        for ev in vm.qmp.events:
            log.append(norm({'event': ev['event'], 'data': ev.get('data')}))
        vm.qmp.events.clear()

    def cmd(name, args=None):
        r = vm.cmd(name, args)
        r.pop('id', None)
        drain()                     # events sent before the reply
        log.append(norm({'cmd': name, 'reply': r}))
        return r

    def wait_job(job, status):
        want = {'event': 'JOB_STATUS_CHANGE', 'data': {'id': job, 'status': status}}
        if want in log[-6:]:
            return                  # it came before the reply
        while True:
            ev = vm.qmp.event_wait('JOB_STATUS_CHANGE')
            log.append(norm({'event': ev['event'], 'data': ev.get('data')}))
            if ev['data'] == {'id': job, 'status': status}:
                return

    def create(job, options):
        r = cmd('blockdev-create', {'job-id': job, 'options': options})
        if 'return' in r:
            wait_job(job, 'concluded')
            cmd('query-jobs')
            cmd('job-dismiss', {'id': job})

    try:
        img = os.path.join(d, 'a.qcow2')
        create('c0', {'driver': 'file', 'filename': img, 'size': 0})
        create('c1', {'driver': 'file', 'filename': os.path.join(d, 'nodir', 'x'),
                      'size': 0})
        create('c2', {'driver': 'file', 'filename': os.path.join(d, 'p.raw'),
                      'size': 1 * MiB, 'preallocation': 'metadata'})
        create('c3', {'driver': 'file', 'filename': os.path.join(d, 'p.raw'),
                      'size': 1 * MiB, 'preallocation': 'full'})
        cmd('blockdev-add', {'driver': 'file', 'filename': img, 'node-name': 'proto'})
        q = {'driver': 'qcow2', 'file': 'proto', 'size': 64 * MiB}
        for bad in ({'size': 1000}, {'cluster-size': 1000}, {'refcount-bits': 3},
                    {'version': 'v2', 'refcount-bits': 8},
                    {'version': 'v2', 'lazy-refcounts': True},
                    {'backing-fmt': 'qcow2'},
                    {'backing-file': '/x', 'preallocation': 'metadata'},
                    {'extended-l2': True, 'cluster-size': 4096},
                    {'data-file': 'nonode'}, {'data-file-raw': True},
                    {'file': 'nonode'}):
            create('bad', dict(q, **bad))
        cmd('blockdev-create', {'job-id': '1x', 'options': q})
        cmd('blockdev-create', {'options': q})
        cmd('blockdev-create', {'job-id': 'x', 'options': {'driver': 'null-co'}})
        cmd('blockdev-create', {'job-id': 'x', 'options': {'driver': 'qcow2', 'size': 1}})
        cmd('blockdev-create', {'job-id': 'x', 'options': dict(q, bogus=1)})
        create('c4', dict(q, **{'cluster-size': 32768, 'lazy-refcounts': True,
                                'refcount-bits': 64, 'backing-file': 'base.qcow2',
                                'backing-fmt': 'qcow2'}))
        create('c5', dict(q, **{'version': 'v2', 'preallocation': 'metadata'}))
        create('c6', dict(q))
        cmd('blockdev-add', {'driver': 'qcow2', 'file': 'proto', 'node-name': 'fmt'})
        cmd('query-named-block-nodes')
        # the qcow2 node does not share write/resize on proto
        create('c7', dict(q))
        cmd('blockdev-del', {'node-name': 'fmt'})
        cmd('blockdev-del', {'node-name': 'proto'})

        # objects
        cmd('object-add', {'qom-type': 'iothread', 'id': 'io0'})
        cmd('object-add', {'qom-type': 'iothread', 'id': 'io0'})
        cmd('object-add', {'qom-type': 'iothread', 'id': '1bad'})
        cmd('object-add', {'qom-type': 'nosuchtype', 'id': 'o1'})
        cmd('object-add', {'qom-type': 'iothread'})
        cmd('object-add', {'qom-type': 'throttle-group', 'id': 'tg0',
                           'limits': {'bps-total': 1000}})
        cmd('object-add', {'qom-type': 'throttle-group', 'id': 'tg1',
                           'x-bps-total': 4096})
        cmd('object-add', {'qom-type': 'throttle-group', 'id': 'tg2',
                           'limits': {'bps-total': -1}})
        cmd('object-add', {'qom-type': 'throttle-group', 'id': 'tg3', 'bogus': 1})
        cmd('object-del', {'id': 'io0'})
        cmd('object-del', {'id': 'io0'})
        cmd('object-del', {'id': 'tg0'})
        cmd('object-del', {'id': 'tg1'})
        cmd('object-del', {'id': 'nope'})
        vm.shutdown()
    finally:
        vm.kill()
    return log


def command_order(binary, accel):
    vm = VM(binary, ['-machine', 'none', '-accel', accel, '-nodefaults',
                     '-display', 'none']).launch()
    try:
        names = [c['name'] for c in vm.cmd('query-commands')['return']]
        vm.shutdown()
    finally:
        vm.kill()
    return names


def image_info(path):
    r = subprocess.run([QEMU_IMG, 'info', '--output=json', path], capture_output=True,
                       text=True, check=True)
    info = json.loads(r.stdout)
    info.pop('actual-size', None)
    info.pop('filename', None)
    return info


def main():
    if not (QEMU and QEMU_IMG) or not os.path.exists(godwit_binary()):
        print('SKIP: needs qemu-system-x86_64, qemu-img and godwit')
        return 77
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        dq, dg = os.path.join(tmp, 'qemu'), os.path.join(tmp, 'godwit')
        os.mkdir(dq)
        os.mkdir(dg)
        want = session(QEMU, dq, 'tcg')
        got = session(godwit_binary(), dg, 'qtest')
        for i in range(max(len(want), len(got))):
            a = want[i] if i < len(want) else None
            b = got[i] if i < len(got) else None
            if a != b:
                print('MISMATCH %d\n  qemu:   %r\n  godwit: %r' % (i, a, b))
                bad += 1
        print('%d lines compared' % len(want))
        for f in ('a.qcow2', 'p.raw'):
            a, b = os.path.join(dq, f), os.path.join(dg, f)
            if image_info(a) != image_info(b):
                print('MISMATCH info %s\n  qemu:   %r\n  godwit: %r' %
                      (f, image_info(a), image_info(b)))
                bad += 1
            r = subprocess.run([QEMU_IMG, 'compare', '-f', 'raw', '-F', 'raw', a, b],
                               capture_output=True, text=True)
            print('compare %s (raw bytes): %s' % (f, r.stdout.strip()))
            bad += r.returncode != 0
    # query-commands: the commands both know come in the same relative order
    qemu_cmds = command_order(QEMU, 'tcg')
    ours = command_order(godwit_binary(), 'qtest')
    common = set(qemu_cmds) & set(ours)
    a = [c for c in qemu_cmds if c in common]
    b = [c for c in ours if c in common]
    if a != b:
        print('MISMATCH query-commands order\n  qemu:   %r\n  godwit: %r' % (a, b))
        bad += 1
    print('query-commands: %d common commands' % len(common))
    print('%d differences' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
