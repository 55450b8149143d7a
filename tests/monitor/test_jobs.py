#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# Block jobs on the godwit binary: states and verbs, pause/resume, speed, cancel
# before READY, error policies with blkdebug-injected EIO (source intact after),
# mirror under a writer in both copy modes and with a small buf-size (target ==
# source after complete),
# incremental backup with a dirty bitmap, bitmap commands, HMP info block-jobs,
# HMP qemu-io aio_write during a mirror, standby/ready at stop, blkdebug as
# backing.file.
# Needs qemu-img (image creation and compare); exit 77 without it.
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402
from mon_util import QEMU_IMG, check, failures, hmp, img, node, wait_status   # noqa: E402


def launch():
    return VM(godwit_binary(), ['-machine', 'none', '-accel', 'qtest', '-nodefaults']).launch()


def add_src_and_tgt(vm, d, stem, size, write):
    """Nodes src (<stem>.qcow2, filled by the qemu-io write) and an empty tgt (<stem>t.qcow2)."""
    src, tgt = os.path.join(d, stem + '.qcow2'), os.path.join(d, stem + 't.qcow2')
    img('create', '-f', 'qcow2', src, size)
    img('create', '-f', 'qcow2', tgt, size)
    vm.cmd('blockdev-add', node(src, 'src'))
    hmp(vm, 'qemu-io src "%s"' % write)
    vm.cmd('blockdev-add', node(tgt, 'tgt'))


def test_verbs_pause_speed(d):
    vm = launch()
    try:
        add_src_and_tgt(vm, d, 'v', '32M', 'write -P 7 0 8M')
        r = vm.cmd('blockdev-mirror', {'job-id': 'm', 'device': 'src', 'target': 'tgt',
                                       'sync': 'full', 'speed': 1024 * 1024})
        check(r == {'return': {}}, 'mirror with speed starts')
        r = vm.cmd('block-job-complete', {'device': 'm'})
        check(r['error']['desc'] == "Job 'm' in state 'running' cannot accept command verb "
              "'complete'", 'complete in running is refused')
        check(vm.cmd('block-job-pause', {'device': 'm'}) == {'return': {}}, 'pause')
        wait_status(vm, 'm', 'paused')
        r = vm.cmd('block-job-pause', {'device': 'm'})
        check(r['error']['desc'] == 'Job is already paused', 'double pause refused')
        jobs = vm.cmd('query-block-jobs')['return']
        check(jobs[0]['paused'] and jobs[0]['status'] == 'paused', 'query shows paused')
        r = vm.cmd('block-job-cancel', {'device': 'm'})
        check(r['error']['desc'] == "The block job for device 'm' is currently paused",
              'cancel of a user-paused job needs force')
        out = hmp(vm, 'info block-jobs')
        check(out.startswith('Type mirror, device m: Completed ') and
              out.endswith(' bytes, speed limit 1048576 bytes/s\r\n'), 'HMP info block-jobs')
        check(vm.cmd('block-job-set-speed', {'device': 'm', 'speed': 0}) == {'return': {}},
              'set-speed while paused')
        check(vm.cmd('block-job-resume', {'device': 'm'}) == {'return': {}}, 'resume')
        r = vm.cmd('block-job-resume', {'device': 'm'})
        check(r['error']['desc'] == "Can't resume a job that was not paused", 'double resume')
        wait_status(vm, 'm', 'ready')
        check(vm.cmd('job-cancel', {'id': 'm'}) == {'return': {}}, 'job-cancel of READY')
        ev = vm.qmp.event_wait('BLOCK_JOB_CANCELLED')
        check(ev['data']['device'] == 'm', 'job-cancel of READY mirror is a force cancel')
        wait_status(vm, 'm', 'null')
        check(hmp(vm, 'info block-jobs') == 'No active jobs\r\n', 'No active jobs')
        vm.shutdown()
    finally:
        vm.kill()


def test_cancel_before_ready(d):
    vm = launch()
    try:
        add_src_and_tgt(vm, d, 'c', '64M', 'write -P 1 0 32M')
        vm.cmd('blockdev-mirror', {'job-id': 'm', 'device': 'src', 'target': 'tgt',
                                   'sync': 'full', 'speed': 65536})
        seen = []
        wait_status(vm, 'm', 'running', seen)
        vm.cmd('block-job-cancel', {'device': 'm'})
        wait_status(vm, 'm', 'null', seen)
        check(seen == ['created', 'running', 'aborting', 'concluded', 'null'],
              'cancel before READY: aborting, concluded, null (%r)' % seen)
        check(any(e['event'] == 'BLOCK_JOB_CANCELLED' for e in vm.qmp.events) or
              vm.qmp.event_wait('BLOCK_JOB_CANCELLED', 2), 'BLOCK_JOB_CANCELLED')
        vm.shutdown()
    finally:
        vm.kill()


def test_error_policy(d):
    base = os.path.join(d, 'eb.qcow2')
    top = os.path.join(d, 'et.qcow2')
    img('create', '-f', 'qcow2', base, '8M')
    subprocess.run(['qemu-io', '-c', 'write -P 9 0 4M', base], check=True,
                   stdout=subprocess.DEVNULL)
    img('create', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top)
    for policy in ('report', 'stop'):
        vm = launch()
        try:
            vm.cmd('blockdev-add', {'driver': 'blkdebug', 'node-name': 'dbg',
                                    'image': {'driver': 'file', 'filename': base},
                                    'inject-error': [{'event': 'read_aio', 'errno': 5,
                                                      'once': True}]})
            vm.cmd('blockdev-add', {'driver': 'qcow2', 'node-name': 'base', 'file': 'dbg'})
            vm.cmd('blockdev-add', node(top, 'top', backing='base'))
            r = vm.cmd('block-stream', {'job-id': 's', 'device': 'top', 'on-error': policy})
            check(r == {'return': {}}, 'stream on-error=%s starts' % policy)
            ev = vm.qmp.event_wait('BLOCK_JOB_ERROR')
            check(ev['data'] == {'device': 's', 'operation': 'read',
                                 'action': policy}, 'BLOCK_JOB_ERROR %s' % policy)
            if policy == 'stop':
                wait_status(vm, 's', 'paused')
                j = vm.cmd('query-block-jobs')['return'][0]
                check(j['io-status'] == 'failed', 'io-status failed while stopped')
                vm.cmd('block-job-resume', {'device': 's'})
                ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED')
                check('error' not in ev['data'], 'stream completes after resume')
            else:
                ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED')
                check(ev['data'].get('error') == 'Input/output error',
                      'report: COMPLETED with Input/output error')
                info = vm.cmd('query-named-block-nodes')['return']
                t = [n for n in info if n.get('node-name') == 'top'][0]
                check(t.get('backing_file_depth', 0) >= 1, 'chain intact after failure')
            vm.shutdown()
        finally:
            vm.kill()


def test_mirror_under_writes(d):
    # the last case cuts the copy into many small ops (buf-size 192 KiB: three
    # 64 KiB chunks per op at most) while aio writes land in and across them
    for mode, buf in (('background', 0), ('write-blocking', 0), ('background', 192 << 10)):
        name = mode + ('-buf%d' % buf if buf else '')
        src = os.path.join(d, 'w-%s.qcow2' % name)
        tgt = os.path.join(d, 'wt-%s.qcow2' % name)
        img('create', '-f', 'qcow2', src, '64M')
        img('create', '-f', 'qcow2', tgt, '64M')
        vm = launch()
        try:
            vm.cmd('blockdev-add', node(src, 'src'))
            vm.cmd('blockdev-add', node(tgt, 'tgt'))
            hmp(vm, 'qemu-io src "write -P 1 0 16M"')
            args = {'job-id': 'm', 'device': 'src', 'target': 'tgt', 'sync': 'full',
                    'copy-mode': mode}
            if buf:
                args.update({'buf-size': buf, 'granularity': 65536})
            r = vm.cmd('blockdev-mirror', args)
            check(r == {'return': {}}, 'blockdev-mirror %s (%r)' % (name, r))
            for i in range(40):
                off = (i * 1536 * 1024) % (60 << 20)
                hmp(vm, 'qemu-io src "write -P %d %d 192k"' % (i % 250 + 2, off))
                if buf:
                    # unaligned, in flight while the copy runs
                    hmp(vm, 'qemu-io src "aio_write -q -P %d %d 100k"'
                        % (i + 50, (i * 997 * 1024 + 4096) % (60 << 20)))
            wait_status(vm, 'm', 'ready')
            for i in range(20):
                hmp(vm, 'qemu-io src "write -P %d %d 64k"' % (i + 100, i * 3 << 20))
            vm.cmd('block-job-complete', {'device': 'm'})
            ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED')
            check('error' not in ev['data'], 'mirror %s completes' % name)
            vm.shutdown()
        finally:
            vm.kill()
        r = subprocess.run([QEMU_IMG, 'compare', src, tgt], capture_output=True, text=True)
        check(r.returncode == 0, 'mirror %s under writes: target == source (%s)'
              % (name, r.stdout.strip()))


def test_incremental_backup(d):
    src = os.path.join(d, 'b.qcow2')
    full = os.path.join(d, 'bfull.qcow2')
    inc = os.path.join(d, 'binc.qcow2')
    img('create', '-f', 'qcow2', src, '32M')
    vm = launch()
    try:
        vm.cmd('blockdev-add', node(src, 'src'))
        hmp(vm, 'qemu-io src "write -P 1 0 4M"')
        r = vm.cmd('block-dirty-bitmap-add', {'node': 'src', 'name': 'bm0'})
        check(r == {'return': {}}, 'bitmap add')
        r = vm.cmd('block-dirty-bitmap-add', {'node': 'src', 'name': 'bm0'})
        check(r['error']['desc'] == 'Bitmap already exists: bm0', 'bitmap exists')
        img('create', '-f', 'qcow2', full, '32M')
        vm.cmd('blockdev-add', node(full, 'full'))
        vm.cmd('blockdev-backup', {'job-id': 'b0', 'device': 'src', 'target': 'full',
                                   'sync': 'full'})
        ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED')
        check('error' not in ev['data'], 'full backup')
        hmp(vm, 'qemu-io src "write -P 2 1M 64k"')
        hmp(vm, 'qemu-io src "write -P 3 20M 128k"')
        nodes = vm.cmd('query-named-block-nodes')['return']
        bms = [n for n in nodes if n.get('node-name') == 'src'][0]['dirty-bitmaps']
        check(bms[0]['count'] == 196608, 'bitmap count 192k (%r)' % bms)
        sha = vm.cmd('x-debug-block-dirty-bitmap-sha256', {'node': 'src', 'name': 'bm0'})
        check('sha256' in sha.get('return', {}), 'sha256')
        img('create', '-f', 'qcow2', '-b', full, '-F', 'qcow2', inc)
        vm.cmd('blockdev-add', node(inc, 'inc', backing=None))
        r = vm.cmd('blockdev-backup', {'job-id': 'b1', 'device': 'src', 'target': 'inc',
                                       'sync': 'incremental', 'bitmap': 'bm0'})
        check(r == {'return': {}}, 'incremental backup starts (%r)' % r)
        ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED')
        check('error' not in ev['data'] and ev['data']['len'] == 196608,
              'incremental copies 192k (%r)' % ev['data'])
        nodes = vm.cmd('query-named-block-nodes')['return']
        bms = [n for n in nodes if n.get('node-name') == 'src'][0]['dirty-bitmaps']
        check(bms[0]['count'] == 0, 'bitmap cleared on success')
        r = vm.cmd('blockdev-backup', {'job-id': 'b2', 'device': 'src', 'target': 'inc',
                                       'sync': 'bitmap'})
        check(r['error']['desc'] == "must provide a valid bitmap name for 'bitmap' sync mode",
              'bitmap sync without bitmap')
        check(vm.cmd('block-dirty-bitmap-remove', {'node': 'src', 'name': 'bm0'}) ==
              {'return': {}}, 'bitmap remove')
        vm.shutdown()
    finally:
        vm.kill()
    r = subprocess.run([QEMU_IMG, 'compare', src, inc], capture_output=True, text=True)
    check(r.returncode == 0, 'incremental chain == source (%s)' % r.stdout.strip())


def test_hmp_aio_stop_standby(d):
    """HMP qemu-io aio_write during a mirror must not leave the source drained (the
    completion BH's nested drain waited for BHs queued behind it); a READY job goes
    standby -> ready at `stop`, nothing at `cont` (as QEMU)."""
    src, tgt = os.path.join(d, 'a.qcow2'), os.path.join(d, 'at.qcow2')
    img('create', '-f', 'qcow2', src, '64M')
    img('create', '-f', 'qcow2', tgt, '64M')
    vm = launch()
    try:
        vm.cmd('blockdev-add', node(src, 'src'))
        vm.cmd('blockdev-add', node(tgt, 'tgt'))
        hmp(vm, 'qemu-io src "write -P 3 0 32M"')
        vm.cmd('blockdev-mirror', {'job-id': 'm', 'device': 'src', 'target': 'tgt',
                                   'sync': 'full', 'copy-mode': 'write-blocking'})
        for i in range(40):
            hmp(vm, 'qemu-io src "aio_write -q -P 9 %d 64k"' % ((i * 37 % 1024) * 65536))
        vm.qmp.event_wait('BLOCK_JOB_READY', timeout=30)
        jobs = vm.cmd('query-block-jobs')['return']
        check(jobs and not jobs[0]['paused'] and jobs[0]['status'] == 'ready',
              'mirror READY after HMP aio_writes, not left paused (%r)' % jobs)
        vm.qmp.events.clear()
        vm.cmd('stop')
        vm.cmd('cont')
        vm.cmd('query-status')
        seen = [(e['event'], e['data'].get('status') if 'data' in e else None)
                for e in vm.qmp.events]
        check(seen == [('STOP', None), ('JOB_STATUS_CHANGE', 'standby'),
                       ('JOB_STATUS_CHANGE', 'ready'), ('RESUME', None)],
              'stop: standby then ready; cont: only RESUME (%r)' % seen)
        vm.cmd('block-job-complete', {'device': 'm'})
        ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED', timeout=30)
        check('error' not in ev['data'], 'mirror completes')
        vm.shutdown()
    finally:
        vm.kill()
    r = subprocess.run([QEMU_IMG, 'compare', src, tgt], capture_output=True, text=True)
    check(r.returncode == 0, 'target == source after aio writes (%s)' % r.stdout.strip())


def test_blkdebug_under_backing_file(d):
    """blkdebug as backing.file: works under an overlay without a backing name; under
    one with a name, QEMU's error (not blkdebug's filename-prefix one)."""
    base, top, top2 = (os.path.join(d, n) for n in ('bb.qcow2', 'bt.qcow2', 'bt2.qcow2'))
    img('create', '-f', 'qcow2', base, '16M')
    img('create', '-f', 'qcow2', top, '16M')
    img('create', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top2)
    vm = launch()
    try:
        dbg = {'driver': 'blkdebug', 'node-name': 'dbg',
               'inject-error': [{'event': 'read_aio', 'errno': 5, 'once': True}],
               'image': {'driver': 'file', 'filename': base}}
        r = vm.cmd('blockdev-add', node(top, 'top', backing={'driver': 'qcow2',
                                                             'node-name': 'base',
                                                             'file': dbg}))
        check(r == {'return': {}}, 'blkdebug under backing.file (%r)' % r)
        names = [n['node-name'] for n in vm.cmd('query-named-block-nodes')['return']]
        check('dbg' in names and 'base' in names, 'nested nodes are visible')
        dbg2 = dict(dbg, **{'node-name': 'dbg2'})
        r = vm.cmd('blockdev-add', node(top2, 'top2', **{'read-only': True,
                                                           'backing': {'driver': 'qcow2',
                                                                       'file': dbg2}}))
        check(r.get('error', {}).get('desc') == "Could not open backing file: Can't specify "
              "'file' and 'filename' options at the same time",
              'with a backing name in the header: QEMU\'s error (%r)' % r)
        vm.shutdown()
    finally:
        vm.kill()


def main():
    if not QEMU_IMG or not os.path.exists(godwit_binary()):
        print('SKIP: needs qemu-img and godwit')
        return 77
    with tempfile.TemporaryDirectory() as d:
        for t in (test_verbs_pause_speed, test_cancel_before_ready, test_error_policy,
                  test_mirror_under_writes, test_incremental_backup,
                  test_hmp_aio_stop_standby, test_blkdebug_under_backing_file):
            try:
                t(d)
            except Exception as e:      # noqa: BLE001
                check(False, '%s raised %r' % (t.__name__, e))
    print('%d failures' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
