# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Shared-storage migration through the godwit binary (-machine none -accel qtest):
source and destination open the SAME qcow2, as QEMU 7.2 lets them.

  - the destination starts while the source holds the image: its images are
    inactive (no lock bytes held, writes refused with "Block node is read-only")
  - the source allocates new clusters (new L2 tables, refcount changes) after the
    destination opened the image: the destination sees them after the
    switch-over, so it re-read the metadata ("invalidate cache")
  - lock bytes on each side match QEMU 7.2's (observed: source keeps only byte
    100 after the hand-over; the destination holds the full set after it)
  - source `cont` after completion fails with QEMU's lock error while the
    destination runs, and succeeds once it quit
  - late-block-activate with -S: the destination stays inactive until `cont`
  - a migration that fails after the hand-over began gives the images back
  - `qemu-img check` is clean and the data is where it was written
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

BASE = ['-machine', 'none', '-nodefaults', '-display', 'none', '-accel', 'qtest']
QEMU_IMG = shutil.which('qemu-img')
QEMU_IO = shutil.which('qemu-io')
FULL_LOCKS = ['100-101', '103', '201', '203']     # CR + write + resize, unshared write/resize
LOCK_ERR = 'Failed to get "write" lock'


def hmp(vm, line):
    return vm.cmd('human-monitor-command', {'command-line': line})['return']


def wait_status(vm, want, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        st = vm.cmd('query-migrate')['return'].get('status')
        if st in want:
            return st
        time.sleep(0.02)
    raise AssertionError('migration status never became %r' % (want,))


def run_status(vm):
    return vm.cmd('query-status')['return']['status']


@unittest.skipUnless(QEMU_IMG and QEMU_IO, 'needs Debian qemu-img and qemu-io')
class SharedStorageTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.vms = []
        self.img = self.path('shared.qcow2')
        # 1 GiB: more than one L2 table (512 MiB each with 64 KiB clusters)
        subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', self.img, '1G'], check=True)

    def tearDown(self):
        for vm in self.vms:
            vm.kill()
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def vm(self, name, *args):
        out = open(self.path(name + '.out'), 'w')
        vm = VM(godwit_binary(), BASE + ['-drive', 'file=%s,format=qcow2,if=none,id=d0' % self.img]
                + list(args)).launch(stdout=out)
        out.close()                     # the child has its own descriptor
        vm.out_path = out.name
        self.vms.append(vm)
        return vm

    def io(self, vm, cmd):
        """qemu-io on d0; its output goes to the process's stdout (as QEMU's)."""
        before = os.path.getsize(vm.out_path)
        self.assertEqual(hmp(vm, 'qemu-io d0 "%s"' % cmd), '')
        with open(vm.out_path) as f:
            f.seek(before)
            return f.read()

    def locks(self, vm):
        """The lock bytes vm's descriptors of the image hold (from /proc fdinfo)."""
        held = []
        for fd in glob.glob('/proc/%d/fd/*' % vm.proc.pid):
            try:
                if os.readlink(fd) != self.img:
                    continue
                with open(fd.replace('/fd/', '/fdinfo/')) as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines:
                if line.startswith('lock:'):
                    a, b = line.split()[-2:]
                    held.append(a if a == b else a + '-' + b)
        return sorted(held)

    def incoming(self, name, *args):
        sock = self.path(name + '.sock')
        return self.vm(name, '-incoming', 'unix:' + sock, *args), sock

    def migrate(self, src, sock):
        self.assertEqual(src.cmd('migrate', {'uri': 'unix:' + sock}), {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed')

    def check_image(self, *patterns):
        p = subprocess.run([QEMU_IMG, 'check', self.img], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('No errors were found on the image.', p.stdout)
        cmds = []
        for pat, off in patterns:
            cmds += ['-c', 'read -P %s %s 64k' % (pat, off)]
        p = subprocess.run([QEMU_IO, '-f', 'qcow2'] + cmds + [self.img],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn('Pattern verification failed', p.stdout)

    def test_handover(self):
        src = self.vm('src')
        self.io(src, 'write -P 0x11 0 64k')
        self.assertEqual(self.locks(src), FULL_LOCKS)

        # the destination opens the image the source is using: inactive
        dst, sock = self.incoming('dst')
        self.assertEqual(self.locks(dst), [])
        self.assertEqual(run_status(dst), 'inmigrate')
        self.assertEqual(self.io(dst, 'write -P 0x99 0 4k'), '')
        # reading is fine, and fills the destination's L2 cache with today's table
        self.assertIn('read 65536/65536 bytes', self.io(dst, 'read -P 0x11 0 64k'))
        self.assertIn('read 65536/65536 bytes', self.io(dst, 'read -P 0 1M 64k'))

        # new clusters in that L2 table, a new L2 table (L1 entry) and refcount updates
        self.io(src, 'write -P 0x22 1M 64k')
        self.io(src, 'write -P 0x33 600M 64k')

        t0 = time.time()
        self.migrate(src, sock)
        dst.qmp.event_wait('RESUME')
        print('shared-storage migration (qtest, 1 GiB image): %.0f ms' %
              ((time.time() - t0) * 1000), file=sys.stderr)
        self.assertEqual(run_status(dst), 'running')
        self.assertEqual(run_status(src), 'postmigrate')
        self.assertEqual(self.locks(src), ['100'])          # QEMU 7.2 keeps this one
        self.assertEqual(self.locks(dst), FULL_LOCKS)

        out = self.io(dst, 'read -P 0x11 0 64k')
        out += self.io(dst, 'read -P 0x22 1M 64k')
        out += self.io(dst, 'read -P 0x33 600M 64k')
        self.assertNotIn('Pattern verification failed', out)
        self.assertEqual(out.count('read 65536/65536 bytes'), 3, out)
        # the destination allocates too: stale refcounts would overlap the source's clusters
        self.io(dst, 'write -P 0x44 2M 64k')
        self.io(dst, 'write -P 0x55 48M 64k')

        # the source can neither write nor take the image back while dst runs
        self.assertEqual(self.io(src, 'write -P 0x66 0 4k'), '')
        self.assertEqual(src.cmd('cont'), {'error': {'class': 'GenericError', 'desc': LOCK_ERR}})
        self.assertEqual(hmp(src, 'cont'), 'Error: %s\r\nIs another process using the image '
                         '[%s]?\r\n' % (LOCK_ERR, self.img))
        self.assertEqual(run_status(src), 'postmigrate')
        self.assertEqual(self.locks(src), ['100'])

        dst.shutdown()
        self.assertIn('Block node is read-only', dst.stderr)
        self.check_image(('0x11', '0'), ('0x22', '1M'), ('0x33', '600M'), ('0x44', '2M'),
                         ('0x55', '48M'))

        # the destination is gone: cont takes the image back
        self.assertEqual(src.cmd('cont'), {'return': {}})
        self.assertEqual(run_status(src), 'running')
        self.assertEqual(self.locks(src), FULL_LOCKS)
        self.assertIn('read 65536/65536 bytes', self.io(src, 'read -P 0x44 2M 64k'))
        self.io(src, 'write -P 0x77 4M 64k')
        src.shutdown()
        self.assertIn('Block node is read-only', src.stderr)
        self.check_image(('0x11', '0'), ('0x22', '1M'), ('0x44', '2M'), ('0x77', '4M'))

    def test_late_block_activate(self):
        src = self.vm('src')
        dst, sock = self.incoming('dst', '-S')
        self.assertEqual(dst.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'late-block-activate', 'state': True}]}), {'return': {}})
        self.io(src, 'write -P 0x11 8M 64k')
        self.migrate(src, sock)
        end = time.time() + 10
        while dst.cmd('query-migrate')['return'].get('status') != 'completed':
            self.assertLess(time.time(), end)
            time.sleep(0.02)
        self.assertEqual(run_status(dst), 'paused')
        self.assertEqual(self.locks(dst), [])               # cont activates
        self.assertEqual(dst.cmd('cont'), {'return': {}})
        self.assertEqual(run_status(dst), 'running')
        self.assertEqual(self.locks(dst), FULL_LOCKS)
        self.assertIn('read 65536/65536 bytes', self.io(dst, 'read -P 0x11 8M 64k'))
        self.io(dst, 'write -P 0x22 9M 64k')
        dst.shutdown()
        src.kill()
        self.check_image(('0x11', '8M'), ('0x22', '9M'))

    def test_paused_destination_activates(self):
        # without late-block-activate a -S destination takes the image at completion
        src = self.vm('src')
        dst, sock = self.incoming('dst', '-S')
        self.migrate(src, sock)
        end = time.time() + 10
        while self.locks(dst) != FULL_LOCKS:
            self.assertLess(time.time(), end)
            time.sleep(0.02)
        self.assertEqual(run_status(dst), 'paused')
        # QEMU 7.2: cont while inmigrate activates too (here the source has let go)
        self.assertEqual(src.cmd('cont'), {'error': {'class': 'GenericError', 'desc': LOCK_ERR}})

    def test_cont_while_inmigrate(self):
        # QEMU 7.2 activates at cont even before the migration: the source holds the lock
        src = self.vm('src')
        dst, sock = self.incoming('dst', '-S')
        self.assertEqual(dst.cmd('cont'), {'error': {'class': 'GenericError', 'desc': LOCK_ERR}})
        self.assertEqual(run_status(dst), 'inmigrate')
        self.assertEqual(self.locks(dst), ['100'])          # the file node got active, as QEMU's
        self.assertEqual(self.locks(src), FULL_LOCKS)
        self.io(src, 'write -P 0x11 0 64k')
        src.kill()

    def test_failed_handover_reactivates(self):
        # the second image cannot be flushed: the hand-over fails half way, after
        # d0 was already inactive; the source must get d0 back, writable and locked
        other = self.path('other.qcow2')
        subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', other, '1M'], check=True)
        conf = self.path('blkdebug.conf')
        with open(conf, 'w') as f:
            f.write('[inject-error]\nevent = "flush_to_disk"\nerrno = "5"\n')
        src = self.vm('src', '-drive', 'file=blkdebug:%s:%s,format=qcow2,if=none,id=d1'
                      % (conf, other))
        self.assertEqual(hmp(src, 'qemu-io d1 "write 0 4k"'), '')    # something to flush
        dst, sock = self.incoming('dst')
        self.assertEqual(src.cmd('migrate', {'uri': 'unix:' + sock}), {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'failed')
        self.assertIn('inactivate', src.cmd('query-migrate')['return'].get('error-desc', ''))
        self.assertEqual(run_status(src), 'running')
        self.assertEqual(self.locks(src), FULL_LOCKS)
        self.assertIn('wrote 65536/65536 bytes', self.io(src, 'write -P 0x11 0 64k'))
        src.shutdown()
        dst.kill()
        self.check_image(('0x11', '0'))

    def test_cancelled_migration_keeps_source(self):
        src = self.vm('src')
        dst, sock = self.incoming('dst')
        self.assertEqual(src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'pause-before-switchover', 'state': True}]}), {'return': {}})
        self.assertEqual(src.cmd('migrate', {'uri': 'unix:' + sock}), {'return': {}})
        wait_status(src, ('pre-switchover',))
        self.assertEqual(src.cmd('migrate_cancel'), {'return': {}})
        self.assertEqual(wait_status(src, ('cancelled',)), 'cancelled')
        self.assertEqual(self.locks(src), FULL_LOCKS)
        self.assertIn('wrote 65536/65536 bytes', self.io(src, 'write -P 0x11 0 64k'))
        src.shutdown()
        dst.kill()
        self.check_image(('0x11', '0'))


if __name__ == '__main__':
    unittest.main(verbosity=2)
