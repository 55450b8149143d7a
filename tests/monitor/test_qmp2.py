#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Monitor tests of godwit alone for the second batch of features:
-drive snapshot=on (writes go to a temporary overlay, the image is untouched,
nothing is left in $TMPDIR), BLOCK_IMAGE_CORRUPTED from qcow2's overlap
check, HMP qemu-io -d, query-machines, -object errors, blockdev-create of a
qcow2 image that qemu-img then reads, and monitors that only answer once the
block devices exist."""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

QEMU_IMG = shutil.which('qemu-img')
MiB = 1 << 20


class Qmp2Test(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix='godwit-qmp2-')
        self.vm = None

    def tearDown(self):
        if self.vm:
            self.vm.kill()
        self.dir.cleanup()

    def launch_closing(self):
        if self.vm:                     # a second VM in one test: close the first's pipes
            for f in (self.vm.proc.stdout, self.vm.proc.stderr):
                if f:
                    f.close()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def launch(self, *args, env=None, machine='none'):
        self.launch_closing()
        old = dict(os.environ)
        if env:
            os.environ.update(env)
        try:
            self.vm = VM(godwit_binary(), ['-machine', machine, '-accel', 'qtest',
                                           '-nodefaults', '-display', 'none'] +
                         list(args)).launch(stdout=subprocess.PIPE)
        finally:
            os.environ.clear()
            os.environ.update(old)
        return self.vm

    def ok(self, name, args=None):
        rsp = self.vm.cmd(name, args)
        self.assertIn('return', rsp, rsp)
        return rsp['return']

    def hmp(self, line):
        return self.ok('human-monitor-command', {'command-line': line})

    def make_raw(self, name, pattern, size=MiB):
        with open(self.path(name), 'wb') as f:
            f.write(bytes([pattern]) * size)
        return self.path(name)

    def test_drive_snapshot(self):
        img = self.make_raw('a.raw', 0x11)
        tmp = self.path('tmp')
        os.mkdir(tmp)
        self.launch('-drive', 'if=none,id=d0,format=raw,file=%s,snapshot=on' % img,
                    env={'TMPDIR': tmp})
        self.assertEqual(os.listdir(tmp), [])          # unlinked at open
        self.assertEqual(self.hmp('qemu-io d0 "write -P 0x22 0 64k"'), '')
        info = self.hmp('info block')
        self.assertIn('(qcow2)', info)
        self.assertIn('Backing file:     %s (chain depth: 1)' % img, info)
        self.assertIn('ignore flushes', info)
        blk = self.ok('query-block')[0]['inserted']
        self.assertEqual(blk['drv'], 'qcow2')
        self.assertEqual(blk['image']['virtual-size'], MiB)
        self.vm.shutdown()
        out = self.vm.proc.stdout.read().decode()
        self.assertIn('wrote 65536/65536 bytes at offset 0', out)
        with open(img, 'rb') as f:
            self.assertEqual(f.read(), bytes([0x11]) * MiB)
        self.assertEqual(os.listdir(tmp), [])

    @unittest.skipUnless(QEMU_IMG, 'needs qemu-img')
    def test_image_corrupted_event(self):
        img = self.path('c.qcow2')
        subprocess.run([QEMU_IMG, 'create', '-f', 'qcow2', img, '64M'], check=True,
                       stdout=subprocess.DEVNULL)
        self.launch('-drive', 'if=none,id=d0,file=%s,node-name=fmt' % img)
        self.hmp('qemu-io d0 "write -P 1 0 64k"')
        self.vm.shutdown()
        # L1[0] -> the refcount table (cluster 1): the next L2 update overlaps it
        with open(img, 'r+b') as f:
            f.seek(40)
            l1 = struct.unpack('>Q', f.read(8))[0]
            f.seek(l1)
            f.write(struct.pack('>Q', (1 << 63) | 0x10000))
        self.launch('-drive', 'if=none,id=d0,file=%s,node-name=fmt' % img)
        self.hmp('qemu-io d0 "write -P 2 0 4k"')
        self.vm.cmd('quit')
        ev = self.vm.qmp.event_wait('BLOCK_IMAGE_CORRUPTED')
        self.assertEqual(ev['data'], {
            'device': 'd0', 'node-name': 'fmt', 'fatal': True, 'offset': 65536,
            'size': 65536,
            'msg': 'Preventing invalid write on metadata (overlaps with refcount table)'})
        self.vm.wait()

    def test_qemu_io_qdev(self):
        img = self.make_raw('a.raw', 0x33)
        self.launch('-drive', 'if=none,id=d0,format=raw,file=%s' % img,
                    '-device', 'virtio-blk,drive=d0,id=vd0', machine='godwit')
        self.assertEqual(self.hmp('qemu-io -d nope "read 0 512"'),
                         "Error: Device 'nope' not found\r\n")
        self.assertEqual(self.hmp('qemu-io -d d0 "read 0 512"'),
                         "Error: Device 'd0' not found\r\n")
        self.assertEqual(self.hmp('qemu-io -d vd0 "read 0 512"'),
                         'Error: Device does not have a block device backend\r\n')
        self.assertEqual(self.hmp('qemu-io -d /machine/peripheral/vd0/virtio-backend '
                                  '"read -P 0x33 0 512"'), '')
        self.vm.shutdown()
        self.assertIn('read 512/512 bytes at offset 0', self.vm.proc.stdout.read().decode())

    def test_query_machines(self):
        self.launch()
        machines = {m['name']: m for m in self.ok('query-machines')}
        self.assertEqual(machines['none'], {
            'name': 'none', 'cpu-max': 1, 'hotpluggable-cpus': False,
            'numa-mem-supported': False, 'deprecated': False, 'default-ram-id': 'ram'})
        self.assertTrue(machines['godwit']['is-default'])
        names = [c['name'] for c in self.ok('query-commands')]
        self.assertEqual(names[:3], ['closefd', 'getfd', 'human-monitor-command'])
        self.vm.shutdown()

    def test_object_cmdline(self):
        def run(*args):
            return subprocess.run([godwit_binary(), '-M', 'none', '-accel', 'qtest',
                                   '-nodefaults', '-display', 'none'] + list(args),
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=30)
        r = run('-object', 'iothread,id=x', '-object', 'iothread,id=x')
        self.assertEqual(r.returncode, 1)
        self.assertIn(": -object iothread,id=x: Duplicate ID 'x' for object", r.stderr)
        r = run('-object', 'bogus,id=x')
        self.assertIn("-object bogus,id=x: Parameter 'qom-type' does not accept value "
                      "'bogus'", r.stderr)
        r = run('-object', 'throttle-group,id=t,x-bps-total=-5')
        self.assertIn('Property values cannot be negative', r.stderr)
        self.launch('-object', 'throttle-group,id=tg0,x-bps-total=4096',
                    '-object', '{"qom-type": "iothread", "id": "io0"}')
        self.assertEqual(self.vm.cmd('object-add', {'qom-type': 'iothread', 'id': 'io0'})
                         ['error']['desc'],
                         "attempt to add duplicate property 'io0' to object (type 'container')")
        self.ok('object-del', {'id': 'tg0'})
        self.assertEqual(self.hmp('object_del tg0'), "Error: object 'tg0' not found\r\n")
        self.vm.shutdown()

    @unittest.skipUnless(QEMU_IMG, 'needs qemu-img')
    def test_blockdev_create_qcow2(self):
        img = self.path('n.qcow2')
        self.launch()
        self.ok('blockdev-create', {'job-id': 'c0', 'options': {
            'driver': 'file', 'filename': img, 'size': 0}})
        self.vm.qmp.event_wait('JOB_STATUS_CHANGE')
        while self.ok('query-jobs')[0]['status'] != 'concluded':
            self.vm.qmp.event_wait('JOB_STATUS_CHANGE')
        self.ok('job-dismiss', {'id': 'c0'})
        self.ok('blockdev-add', {'driver': 'file', 'filename': img, 'node-name': 'p'})
        self.ok('blockdev-create', {'job-id': 'c1', 'options': {
            'driver': 'qcow2', 'file': 'p', 'size': 32 * MiB, 'cluster-size': 4096,
            'version': 'v2'}})
        while self.ok('query-jobs')[0]['status'] != 'concluded':
            self.vm.qmp.event_wait('JOB_STATUS_CHANGE')
        job = self.ok('query-jobs')[0]
        self.assertEqual((job['type'], job['current-progress'], job['total-progress']),
                         ('create', 1, 1))
        self.assertNotIn('error', job)
        self.ok('job-dismiss', {'id': 'c1'})
        self.vm.shutdown()
        r = subprocess.run([QEMU_IMG, 'check', img], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run([QEMU_IMG, 'info', img], capture_output=True, text=True,
                           check=True)
        self.assertIn('virtual size: 32 MiB', r.stdout)
        self.assertIn('cluster_size: 4096', r.stdout)
        self.assertIn('compat: 0.10', r.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
