#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""The storage part of `virsh migrate --copy-storage-all`, guest-less, godwit
against Debian's qemu-system-x86_64 7.2: two processes of the same program with
`-machine none` (godwit -accel qtest, QEMU tcg), the source with a qcow2 disk full of data, the
destination (-incoming defer) with an empty qcow2 of the same size exported over
NBD (nbd-server-start on a unix socket, block-export-add writable). The source
does blockdev-add nbd + raw, blockdev-mirror sync=full, waits for
BLOCK_JOB_READY, migrates (unix:), and soft-cancels the mirror once the
migration has completed. Rounds alternate the two programs; prints the median
time to READY, the total, and QEMU's/our reported downtime, and the ratio
ours/QEMU (below 1.00: Godwit is faster).

Usage: bench/nbd-mirror-migration.py [-b BUILD_DIR] [-n ROUNDS] [-z SIZE_MIB]"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, 'tests'))
from qmp import VM   # noqa: E402

BASE = ['-machine', 'none', '-nodefaults', '-display', 'none']
ACCEL = {'godwit': ['-accel', 'qtest'], 'qemu': ['-accel', 'tcg']}   # Debian's QEMU has no qtest


def node(path):
    return ('{"driver": "qcow2", "node-name": "disk0", "file": {"driver": "file", '
            '"filename": "%s"}}' % path)


def ok(r, what):
    if r != {'return': {}}:
        raise RuntimeError('%s: %r' % (what, r))


def one_run(who, binary, tmp, src_img, size_mib):
    dst_img = os.path.join(tmp, 'dst.qcow2')
    sock, mig = os.path.join(tmp, 'nbd.sock'), os.path.join(tmp, 'mig.sock')
    for p in (dst_img, sock, mig):
        if os.path.exists(p):
            os.unlink(p)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', dst_img, '%dM' % size_mib],
                   check=True)
    base = BASE + ACCEL[who]
    dst = VM(binary, base + ['-blockdev', node(dst_img), '-incoming', 'defer']).launch()
    src = VM(binary, base + ['-blockdev', node(src_img)]).launch()
    try:
        ok(dst.cmd('nbd-server-start', {'addr': {'type': 'unix', 'data': {'path': sock}}}),
           'nbd-server-start')
        ok(dst.cmd('block-export-add', {'type': 'nbd', 'id': 'e', 'node-name': 'disk0',
                                        'name': 'disk0', 'writable': True}), 'export')
        ok(dst.cmd('migrate-incoming', {'uri': 'unix:' + mig}), 'migrate-incoming')
        ok(src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]}), 'caps')
        t0 = time.perf_counter()
        ok(src.cmd('blockdev-add', {'driver': 'nbd', 'node-name': 'tgt-nbd', 'export': 'disk0',
                                    'server': {'type': 'unix', 'path': sock}}), 'nbd node')
        ok(src.cmd('blockdev-add', {'driver': 'raw', 'node-name': 'tgt', 'file': 'tgt-nbd'}),
           'raw node')
        ok(src.cmd('blockdev-mirror', {'job-id': 'm', 'device': 'disk0', 'target': 'tgt',
                                       'sync': 'full', 'auto-dismiss': False}), 'mirror')
        src.qmp.event_wait('BLOCK_JOB_READY', 600)
        t_ready = time.perf_counter() - t0
        ok(src.cmd('migrate', {'uri': 'unix:' + mig}), 'migrate')
        while src.qmp.event_wait('MIGRATION', 600)['data']['status'] not in ('completed',
                                                                           'failed'):
            pass
        info = src.cmd('query-migrate')['return']
        if info.get('status') != 'completed':
            raise RuntimeError('migration %r' % info)
        ok(src.cmd('block-job-cancel', {'device': 'm'}), 'cancel')
        src.qmp.event_wait('BLOCK_JOB_COMPLETED', 600)
        total = time.perf_counter() - t0
        ok(src.cmd('job-dismiss', {'id': 'm'}), 'dismiss')
        ok(dst.cmd('nbd-server-stop'), 'nbd-server-stop')
        src.shutdown()
        dst.shutdown()
    finally:
        src.kill()
        dst.kill()
    r = subprocess.run(['qemu-img', 'compare', '-q', src_img, dst_img])
    if r.returncode != 0:
        raise RuntimeError('destination differs from the source')
    return t_ready, total, info.get('downtime', 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-b', default=os.path.join(SRC, 'build'))
    ap.add_argument('-n', type=int, default=3)
    ap.add_argument('-z', type=int, default=1024)
    a = ap.parse_args()
    qemu = shutil.which('qemu-system-x86_64')
    godwit = os.path.join(a.b, 'system', 'godwit')
    if not qemu:
        print('nbd-mirror-migration: qemu-system-x86_64 is not installed', file=sys.stderr)
        return 1
    res = {'godwit': [], 'qemu': []}
    with tempfile.TemporaryDirectory(prefix='godwit-nbdmig-') as tmp:
        src_img = os.path.join(tmp, 'src.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', src_img, '%dM' % a.z],
                       check=True)
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 %dM' % a.z, src_img],
                       check=True, stdout=subprocess.DEVNULL)
        for _ in range(a.n):
            for who, binary in (('godwit', godwit), ('qemu', qemu)):
                res[who].append(one_run(who, binary, tmp, src_img, a.z))
    print('%d MiB qcow2 disk, %d rounds (medians)' % (a.z, a.n))
    print('%-8s %12s %12s %14s' % ('', 'ready s', 'total s', 'downtime ms'))
    med = {}
    for who in ('godwit', 'qemu'):
        med[who] = [statistics.median(r[i] for r in res[who]) for i in range(3)]
        print('%-8s %12.3f %12.3f %14.0f' % (who, *med[who]))
    print('ratio godwit/qemu: ready %.2f, total %.2f' % (med['godwit'][0] / med['qemu'][0],
                                                          med['godwit'][1] / med['qemu'][1]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
