#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Block monitor tests of godwit alone (what the differential test cannot show
with -machine none or without qcow2): -drive naming, -blockdev forms,
blockdev-add/del ownership, block_resize effects, HMP qemu-io on a node,
BLOCK_IO_ERROR from blkdebug, transaction rollback, commit without backing."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402


class BlockTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix='godwit-block-')
        self.img = os.path.join(self.dir.name, 'a.img')
        with open(self.img, 'wb') as f:
            f.truncate(1 << 20)
        self.vm = None

    def tearDown(self):
        if self.vm:
            self.vm.kill()
        self.dir.cleanup()

    def launch(self, *args):
        self.vm = VM(godwit_binary(), ['-machine', 'none', '-accel', 'qtest', '-nodefaults',
                                       '-display', 'none'] + list(args)).launch()
        return self.vm

    def ok(self, name, args=None):
        rsp = self.vm.cmd(name, args)
        self.assertIn('return', rsp, rsp)
        return rsp['return']

    def err(self, name, args, desc):
        rsp = self.vm.cmd(name, args)
        self.assertEqual(rsp.get('error', {}).get('desc'), desc, rsp)

    def test_drive_names(self):
        self.launch('-drive', 'file=%s,format=raw,if=virtio' % self.img,
                    '-drive', 'file=%s,format=raw,if=virtio,readonly=on' % self.img,
                    '-drive', 'if=none,driver=null-co',
                    '-drive', 'if=none,id=empty')
        names = [b['device'] for b in self.ok('query-block')]
        self.assertEqual(names, ['virtio0', 'virtio1', 'none0', 'empty'])
        blocks = self.ok('query-block')
        self.assertTrue(blocks[1]['inserted']['ro'])
        self.assertNotIn('inserted', blocks[3])
        self.vm.shutdown()

    def test_blockdev_forms(self):
        self.launch('-blockdev', 'driver=file,node-name=f0,filename=%s' % self.img,
                    '-blockdev', 'driver=raw,node-name=r0,file=f0',
                    '-blockdev', '{"driver": "null-co", "node-name": "n0", "size": 8192}')
        nodes = {n['node-name']: n for n in self.ok('query-named-block-nodes')}
        self.assertEqual(nodes['r0']['drv'], 'raw')
        self.assertEqual(nodes['n0']['image']['virtual-size'], 8192)
        self.err('blockdev-del', {'node-name': 'f0'}, 'Block device f0 is in use')
        self.ok('blockdev-del', {'node-name': 'r0'})
        self.ok('blockdev-del', {'node-name': 'f0'})
        self.vm.shutdown()

    def test_child_not_owned(self):
        self.launch()
        self.ok('blockdev-add', {'driver': 'raw', 'node-name': 'r',
                                 'file': {'driver': 'file', 'node-name': 'f',
                                          'filename': self.img}})
        self.err('blockdev-del', {'node-name': 'f'}, 'Node f is not owned by the monitor')
        self.ok('blockdev-del', {'node-name': 'r'})
        self.err('blockdev-del', {'node-name': 'f'}, "Failed to find node with node-name='f'")
        self.vm.shutdown()

    def test_resize_and_qemu_io(self):
        self.launch('-drive', 'if=none,id=d0,file=%s,format=raw,node-name=top' % self.img)
        self.ok('block_resize', {'node-name': 'top', 'size': 2 << 20})
        self.assertEqual(os.path.getsize(self.img), 2 << 20)
        self.assertEqual(self.ok('human-monitor-command',
                                 {'command-line': 'qemu-io top "write -P 7 1M 4k"'}), '')
        self.assertEqual(self.ok('human-monitor-command',
                                 {'command-line': 'block_resize d0 1'}), '')
        self.assertEqual(os.path.getsize(self.img), 1 << 20)
        out = self.ok('human-monitor-command', {'command-line': 'commit d0'})
        self.assertEqual(out, "'commit' error for 'd0': Operation not supported\r\n")
        self.vm.shutdown()

    def test_qemu_io_error_no_event(self):
        # as in QEMU, BLOCK_IO_ERROR comes from device requests, not from qemu-io
        self.launch('-drive', 'if=none,id=d0,format=raw,werror=report,'
                    'file.driver=blkdebug,file.image.driver=file,file.image.filename=%s,'
                    'file.inject-error.0.event=write_aio,file.inject-error.0.errno=5'
                    % self.img)
        self.ok('human-monitor-command', {'command-line': 'qemu-io d0 "write 0 512"'})
        self.assertEqual([e['event'] for e in self.vm.qmp.events], [])
        self.vm.shutdown()

    def test_transaction_rollback(self):
        self.launch('-drive', 'if=none,id=d0,file=%s,format=raw' % self.img)
        before = self.ok('query-block')
        self.err('transaction', {'actions': [
            {'type': 'blockdev-snapshot-sync',
             'data': {'device': 'd0', 'snapshot-file': self.img + '.s', 'format': 'raw'}},
            {'type': 'abort', 'data': {}}]},
            "Backing file not supported for file format 'raw'")
        self.assertEqual(self.ok('query-block'), before)
        self.vm.shutdown()


if __name__ == '__main__':
    unittest.main(verbosity=2)
