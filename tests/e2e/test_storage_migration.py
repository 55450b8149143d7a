#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Live migration with non-shared storage the way libvirt does it
(`virsh migrate --live --copy-storage-all`, blockdev era), between two godwit
processes under KVM, while the test guest runs blk-pattern on a qcow2 disk.

Destination: `-incoming defer` on an empty qcow2 image of the same size,
migrate-set-capabilities, nbd-server-start (TCP), block-export-add writable,
migrate-incoming tcp:. Source: blockdev-add driver=nbd plus a raw format node,
blockdev-mirror sync=full (auto-dismiss off) and wait for BLOCK_JOB_READY,
migrate tcp: (RAM and devices only), then:
  - libvirt's order (pause-before-switchover): STOP and pre-switchover,
    block-job-cancel (soft) so the mirror writes out what is still dirty,
    BLOCK_JOB_COMPLETED, job-dismiss, migrate-continue, completed;
  - copy-mode=write-blocking without pause-before-switchover: every guest write
    reached the destination before it completed, so the mirror is cancelled
    after `completed`.
Then the destination stops its NBD server, the guest finishes and verifies the
whole pattern on the destination, and the destination image must equal the
source image (qemu-img compare) and the reference pattern. Also the post-copy
storage variant (image streaming): the destination's disk is a qcow2 overlay
whose backing is the source's disk over NBD; after the switch-over block-stream
pulls the rest and the backing link is dropped.
Prints total migration time and downtime. Exits 77 without a usable /dev/kvm."""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

GODWIT = godwit_binary()
BUILD = os.path.dirname(os.path.dirname(GODWIT))
GUEST = os.environ.get('GODWIT_GUEST_ELF', os.path.join(BUILD, 'guest', 'guest.elf'))
QEMU_IMG = shutil.which('qemu-img') or os.path.join(BUILD, 'tools', 'godwit-img')
MiB = 1 << 20
DISK_MIB = 64
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def kvm_usable():
    try:
        fd = os.open('/dev/kvm', os.O_RDWR)
        os.close(fd)
        return True
    except OSError as e:
        print('\n*** SKIP: storage migration e2e needs a usable /dev/kvm: %s ***\n' % e,
              file=sys.stderr)
        return False


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def qcow2(path, backing=None):
    argv = [QEMU_IMG, 'create', '-q', '-f', 'qcow2']
    if backing:
        argv += ['-b', backing, '-F', 'raw']
    subprocess.run(argv + [path, '%dM' % DISK_MIB], check=True)


def guest_args(append, drive):
    return ['-accel', 'kvm', '-m', '64M', '-kernel', GUEST, '-append', append,
            '-display', 'none', '-serial', 'stdio', '-drive', drive,
            '-device', 'virtio-blk-device,drive=drive-virtio-disk0,id=virtio-disk0']


def disk_node(path, extra=''):
    """The disk as a -drive whose top node is named disk0."""
    return 'if=none,id=drive-virtio-disk0,node-name=disk0,format=qcow2,file=%s%s' % (path, extra)


def wait_migration(vm, states, timeout=60):
    end = time.time() + timeout
    try:
        while time.time() < end:
            ev = vm.qmp.event_wait('MIGRATION', end - time.time())
            if ev['data']['status'] in states:
                return ev['data']['status']
    except (TimeoutError, socket.timeout):
        pass
    print('    no MIGRATION %s; query-migrate: %s' % (states, vm.cmd('query-migrate')))
    if os.environ.get('GODWIT_STALL_GDB'):
        subprocess.run(['gdb', '-p', str(vm.proc.pid), '-batch', '-ex', 'thread apply all bt'])
    return None


def reference(path, mib, seed):
    with open(path, 'wb') as f:
        for m in range(mib):
            f.write(b''.join(struct.pack('<Q', ((m * 2048 + s) << 32) | seed) * 64
                             for s in range(2048)))
        f.truncate(DISK_MIB * MiB)


def same_as_source(dst, src_img, dst_img):
    """Before the destination runs, its disk must equal the (stopped) source's."""
    # stop flushes every node (QEMU's vm_stop does too) so that another process sees it
    check(dst.cmd('stop') == {'return': {}}, 'destination: stop (flushes)')
    r = subprocess.run([QEMU_IMG, 'compare', '-U', src_img, dst_img], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    check(r.returncode == 0, 'qemu-img compare -U: destination image == source image at '
          'the switch-over (%s)' % r.stdout.decode().strip())


def kill(vm):
    """Kill vm; if it had died by itself, show how."""
    if vm.proc.poll() is not None and vm.proc.returncode != 0 and vm.proc.stderr:
        err = vm.proc.stderr.read().decode(errors='replace')
        print('    process exited with %s: %s' % (vm.proc.returncode, err[-2000:]))
    vm.kill()


def finish(vm, timeout=120):
    status = vm.wait(timeout)
    out = vm.proc.stdout.read().decode(errors='replace')
    vm.qmp.close()
    return status, out


def dst_prepare(dst, nbd_port, mig_port, export_name='drive-virtio-disk0'):
    r = dst.cmd('migrate-set-capabilities', {'capabilities': [
        {'capability': 'events', 'state': True},
        {'capability': 'late-block-activate', 'state': True}]})
    check(r == {'return': {}}, 'destination: migrate-set-capabilities')
    r = dst.cmd('nbd-server-start', {'addr': {'type': 'inet', 'data': {
        'host': '127.0.0.1', 'port': str(nbd_port)}}})
    check(r == {'return': {}}, 'destination: nbd-server-start')
    r = dst.cmd('block-export-add', {'type': 'nbd', 'id': 'libvirt-nbd-disk0',
                                     'node-name': 'disk0', 'name': export_name,
                                     'writable': True})
    check(r == {'return': {}}, 'destination: block-export-add writable')
    r = dst.cmd('migrate-incoming', {'uri': 'tcp:127.0.0.1:%d' % mig_port})
    check(r == {'return': {}}, 'destination: migrate-incoming')


def src_mirror(src, nbd_port, copy_mode):
    r = src.cmd('blockdev-add', {'driver': 'nbd', 'node-name': 'migration-dst-storage',
                                 'server': {'type': 'inet', 'host': '127.0.0.1',
                                            'port': str(nbd_port)},
                                 'export': 'drive-virtio-disk0'})
    check(r == {'return': {}}, 'source: blockdev-add nbd')
    r = src.cmd('blockdev-add', {'driver': 'raw', 'node-name': 'migration-dst-format',
                                 'file': 'migration-dst-storage'})
    check(r == {'return': {}}, 'source: blockdev-add raw format node')
    args = {'job-id': 'drive-virtio-disk0', 'device': 'disk0',
            'target': 'migration-dst-format', 'sync': 'full',
            'auto-finalize': True, 'auto-dismiss': False}
    if copy_mode:
        args['copy-mode'] = copy_mode
    t0 = time.time()
    r = src.cmd('blockdev-mirror', args)
    if not check(r == {'return': {}}, 'source: blockdev-mirror'):
        print('    %s' % r)

    ev = src.qmp.event_wait('BLOCK_JOB_READY', 120)
    check(ev['data']['device'] == 'drive-virtio-disk0', 'source: BLOCK_JOB_READY (%.2f s)'
          % (time.time() - t0))


def src_cancel_mirror(src):
    r = src.cmd('block-job-cancel', {'device': 'drive-virtio-disk0', 'force': False})
    check(r == {'return': {}}, 'source: block-job-cancel (soft)')
    ev = src.qmp.event_wait('BLOCK_JOB_COMPLETED', 60)
    check(ev['data']['type'] == 'mirror' and 'error' not in ev['data'] and
          ev['data']['offset'] == ev['data']['len'],
          'source: BLOCK_JOB_COMPLETED in sync (%d bytes)' % ev['data']['len'])
    check(src.cmd('job-dismiss', {'id': 'drive-virtio-disk0'}) == {'return': {}},
          'source: job-dismiss')


def run_copy_storage(tmp, name, seed, copy_mode, pause_before_switchover):
    print('--- %s' % name, flush=True)
    src_img, dst_img = os.path.join(tmp, name + '-src.qcow2'), os.path.join(tmp, name + '-dst.qcow2')
    qcow2(src_img)
    qcow2(dst_img)
    nbd_port, mig_port = free_port(), free_port()
    workload = 'blk-pattern mib=48 kib=4 qd=1 seed=%d' % seed
    src = VM(GODWIT, guest_args(workload, disk_node(src_img))).launch(stdout=subprocess.PIPE)
    # -S as libvirt starts it: the destination stays paused until `cont`
    dst = VM(GODWIT, guest_args(workload, disk_node(dst_img)) + ['-incoming', 'defer', '-S']
             ).launch(stdout=subprocess.PIPE)
    try:
        dst_prepare(dst, nbd_port, mig_port)
        time.sleep(0.3)                     # let the guest get going
        caps = [{'capability': 'events', 'state': True}]
        if pause_before_switchover:
            caps.append({'capability': 'pause-before-switchover', 'state': True})
        check(src.cmd('migrate-set-capabilities', {'capabilities': caps}) == {'return': {}},
              'source: migrate-set-capabilities')
        t_start = time.time()
        src_mirror(src, nbd_port, copy_mode)
        check(src.cmd('migrate', {'uri': 'tcp:127.0.0.1:%d' % mig_port}) == {'return': {}},
              'source: migrate tcp: (no blk)')
        if pause_before_switchover:
            check(wait_migration(src, ('pre-switchover', 'failed')) == 'pre-switchover',
                  'source: pre-switchover')
            src.qmp.event_wait('STOP', 30)
            src_cancel_mirror(src)
            r = src.cmd('migrate-continue', {'state': 'pre-switchover'})
            check(r == {'return': {}}, 'source: migrate-continue')
            check(wait_migration(src, ('completed', 'failed')) == 'completed',
                  'source: completed')
        else:
            check(wait_migration(src, ('completed', 'failed')) == 'completed',
                  'source: completed')
            src.qmp.event_wait('STOP', 30)
            src_cancel_mirror(src)
        total = time.time() - t_start
        info = src.cmd('query-migrate')['return']
        print('    total %.2f s (query-migrate total-time %s ms, downtime %s ms)'
              % (total, info.get('total-time'), info.get('downtime')), flush=True)
        check(src.cmd('query-status')['return']['status'] == 'postmigrate',
              'source: postmigrate')
        for node in ('migration-dst-format', 'migration-dst-storage'):
            check(src.cmd('blockdev-del', {'node-name': node}) == {'return': {}},
                  'source: blockdev-del ' + node)
        check(wait_migration(dst, ('completed', 'failed')) == 'completed',
              'destination: completed')
        check(dst.cmd('nbd-server-stop') == {'return': {}}, 'destination: nbd-server-stop')
        ev = dst.qmp.event_wait('BLOCK_EXPORT_DELETED', 15)
        check(ev['data'] == {'id': 'libvirt-nbd-disk0'}, 'destination: BLOCK_EXPORT_DELETED')
        check(dst.cmd('query-status')['return']['status'] == 'paused',
              'destination: paused after the migration (-S)')
        same_as_source(dst, src_img, dst_img)
        check(dst.cmd('cont') == {'return': {}}, 'destination: cont')
        check(dst.cmd('query-status')['return']['status'] == 'running', 'destination: running')
        src.cmd('quit')
        finish(src, 30)
        status, out = finish(dst, 120)
        check(status == 0 and 'blk-pattern: PASS mib=48 seed=%d' % seed in out,
              'destination: the guest verifies its whole disk (exit %d)' % status)
        if status != 0:
            print(out[-2000:])
        ref = os.path.join(tmp, name + '-ref.raw')
        reference(ref, 48, seed)
        r = subprocess.run([QEMU_IMG, 'compare', '-q', '-F', 'raw', dst_img, ref])
        check(r.returncode == 0, 'destination image == reference pattern')
        return total, info.get('downtime')
    finally:
        kill(src)
        kill(dst)


def run_postcopy_storage(tmp, seed=23):
    """Image streaming: the destination reads what it has not pulled yet over NBD."""
    print('--- post-copy storage (block-stream on the destination)', flush=True)
    src_img = os.path.join(tmp, 'pc-src.qcow2')
    dst_img = os.path.join(tmp, 'pc-dst.qcow2')
    qcow2(src_img)
    qcow2(dst_img)
    nbd_port, mig_port = free_port(), free_port()
    # the source only writes (blk-pattern writes, then verifies); the destination's
    # guest verifies the pattern after the switch, reading through to the backing
    workload = 'blk-pattern mib=48 kib=4 qd=1 seed=%d' % seed
    src = VM(GODWIT, guest_args(workload, disk_node(src_img))).launch(stdout=subprocess.PIPE)
    # the destination's disk: an empty qcow2 overlay, backing = the source over NBD
    dst_node = disk_node(dst_img, ',backing.driver=raw,backing.node-name=remote,'
                         'backing.file.driver=nbd,backing.file.node-name=remote-nbd,'
                         'backing.file.server.type=inet,backing.file.server.host=127.0.0.1,'
                         'backing.file.server.port=%d,backing.file.export=disk0' % nbd_port)
    dst = None
    try:
        check(src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]}) == {'return': {}},
            'source: migrate-set-capabilities')
        r = src.cmd('nbd-server-start', {'addr': {'type': 'inet', 'data': {
            'host': '127.0.0.1', 'port': str(nbd_port)}}})
        check(r == {'return': {}}, 'source: nbd-server-start')
        r = src.cmd('block-export-add', {'type': 'nbd', 'id': 'src-disk', 'node-name': 'disk0'})
        check(r == {'return': {}}, 'source: block-export-add (read-only)')
        time.sleep(0.3)
        dst = VM(GODWIT, guest_args(workload, dst_node) + ['-incoming', 'defer', '-S']
                 ).launch(stdout=subprocess.PIPE)
        dst.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]})
        check(dst.cmd('migrate-incoming', {'uri': 'tcp:127.0.0.1:%d' % mig_port}) ==
              {'return': {}}, 'destination: migrate-incoming')
        t0 = time.time()
        check(src.cmd('migrate', {'uri': 'tcp:127.0.0.1:%d' % mig_port}) == {'return': {}},
              'source: migrate (RAM only)')
        check(wait_migration(src, ('completed', 'failed')) == 'completed', 'source: completed')
        switch = time.time() - t0
        info = src.cmd('query-migrate')['return']
        check(wait_migration(dst, ('completed', 'failed')) == 'completed',
              'destination: completed')
        # the destination is still paused (-S): pull everything, then run
        r = dst.cmd('block-stream', {'job-id': 'pull', 'device': 'disk0'})
        check(r == {'return': {}}, 'destination: block-stream')
        ev = dst.qmp.event_wait('BLOCK_JOB_COMPLETED', 120)
        check('error' not in ev['data'], 'destination: stream completed')
        nodes = [n['node-name'] for n in dst.cmd('query-named-block-nodes')['return']]
        check('remote' not in nodes and 'remote-nbd' not in nodes,
              'destination: the NBD backing is dropped after the stream')
        pulled = time.time() - t0
        print('    switch-over after %.2f s (downtime %s ms), storage pulled after %.2f s'
              % (switch, info.get('downtime'), pulled), flush=True)
        # the destination closed its NBD connection, but the source's server may not
        # have seen the close yet: a safe block-export-del waits for that
        end = time.time() + 15
        r = src.cmd('block-export-del', {'id': 'src-disk'})
        while 'still in use' in r.get('error', {}).get('desc', '') and time.time() < end:
            time.sleep(0.05)
            r = src.cmd('block-export-del', {'id': 'src-disk'})
        check(r == {'return': {}}, 'source: block-export-del')
        same_as_source(dst, src_img, dst_img)
        check(dst.cmd('cont') == {'return': {}}, 'destination: cont')
        src.cmd('quit')
        finish(src, 30)
        status, out = finish(dst, 120)
        check(status == 0 and 'blk-pattern: PASS mib=48 seed=%d' % seed in out,
              'destination: the guest verifies its whole disk (exit %d)' % status)
        if status != 0:
            print(out[-2000:])
        info = subprocess.run([QEMU_IMG, 'info', dst_img], stdout=subprocess.PIPE).stdout
        check(b'backing file' not in info, 'destination image has no backing file')
    finally:
        kill(src)
        if dst:
            kill(dst)


def main():
    if not kvm_usable():
        return 77
    with tempfile.TemporaryDirectory(prefix='godwit-stormig-') as tmp:
        r1 = run_copy_storage(tmp, 'bg', 5, None, True)
        r2 = run_copy_storage(tmp, 'wb', 6, 'write-blocking', False)
        run_postcopy_storage(tmp)
        print('figures: background+pause-before-switchover total %.2f s downtime %s ms; '
              'write-blocking total %.2f s downtime %s ms' % (r1[0], r1[1], r2[0], r2[1]))
    print('%d failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
