# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Migration through the godwit binary with -machine none: unix: and exec:
channels, -incoming defer + migrate-incoming, events, run states, query-migrate,
capabilities/parameters (QMP and HMP), the HMP migrate forms, cancel, and hostile
streams (truncated, garbage, wrong lengths): the destination fails with a clear
error and QEMU's "load of migration failed" line, and exits 1."""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

BASE = ['-machine', 'none', '-nodefaults', '-display', 'none', '-accel', 'qtest']


def hmp(vm, line):
    return vm.cmd('human-monitor-command', {'command-line': line})['return']


def events(vm):
    return [(e['event'], e.get('data', {}).get('status', e.get('data', {}).get('pass')))
            for e in vm.qmp.events]


def wait_status(vm, want, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        st = vm.cmd('query-migrate')['return'].get('status')
        if st in want:
            return st
        time.sleep(0.02)
    raise AssertionError('migration status never became %r' % (want,))


def stream(records):
    out = struct.pack('>II', 0x4744574d, 1)
    for typ, payload in records:
        out += struct.pack('>BI', typ, len(payload)) + payload
    return out


def str8(s):
    return struct.pack('>B', len(s)) + s


MARKER = stream([(4, struct.pack('>I', 0) + str8(b'machine') + struct.pack('>II', 0, 1)
                  + str8(b'none')), (5, b'')])


class MigrationTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.vms = []

    def tearDown(self):
        for vm in self.vms:
            vm.kill()
        self.dir.cleanup()

    def vm(self, *args):
        vm = VM(godwit_binary(), BASE + list(args)).launch()
        self.vms.append(vm)
        return vm

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_defaults(self):
        vm = self.vm()
        self.assertEqual(vm.cmd('query-migrate'), {'return': {}})
        caps = vm.cmd('query-migrate-capabilities')['return']
        self.assertEqual(len(caps), 21)
        self.assertFalse(any(c['state'] for c in caps))
        p = vm.cmd('query-migrate-parameters')['return']
        self.assertEqual(p['max-bandwidth'], 134217728)
        self.assertEqual(p['downtime-limit'], 300)
        self.assertFalse(p['block-incremental'])
        self.assertTrue(hmp(vm, 'info migrate').startswith('globals:\r\nstore-global-state: on'))
        self.assertIn('max-bandwidth: 134217728 bytes/second\r\n',
                      hmp(vm, 'info migrate_parameters'))
        self.assertEqual(hmp(vm, 'migrate_set_parameter max-bandwidth 16'), '')
        self.assertEqual(vm.cmd('query-migrate-parameters')['return']['max-bandwidth'],
                         16 * 1024 * 1024)
        self.assertEqual(hmp(vm, 'migrate_set_parameter bogus 1'),
                         'Error: invalid parameter value: bogus\r\n')
        self.assertEqual(hmp(vm, 'migrate_set_capability events on'), '')
        self.assertIn('events: on\r\n', hmp(vm, 'info migrate_capabilities'))
        self.assertEqual(vm.cmd('migrate-set-parameters', {'downtime-limit': 3000000}),
                         {'error': {'class': 'GenericError', 'desc':
                          "Parameter 'downtime_limit' expects an integer in the range of "
                          "0 to (2000 * 1000) ms"}})
        self.assertEqual(vm.cmd('migrate-incoming', {'uri': 'tcp:127.0.0.1:0'})['error']['desc'],
                         "'-incoming' was not specified on the command line")
        self.assertEqual(vm.cmd('migrate', {'uri': 'bogus:x'})['error']['desc'],
                         "Parameter 'uri' expects a valid migration protocol")
        self.assertEqual(events(vm), [('MIGRATION', 'setup'), ('MIGRATION', 'failed')])
        vm.shutdown()

    def migrate_unix(self, src, dst_args, sock):
        dst = self.vm(*dst_args)
        self.assertEqual(src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]}), {'return': {}})
        self.assertEqual(src.cmd('migrate', {'uri': 'unix:' + sock}), {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed')
        dst.qmp.event_wait('RESUME')
        return dst

    def test_unix(self):
        sock = self.path('mig.sock')
        src = self.vm()
        dst = None
        # the destination listens first
        dst = self.vm('-incoming', 'unix:' + sock)
        self.assertEqual(src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]}), {'return': {}})
        self.assertEqual(src.cmd('migrate', {'uri': 'unix:' + sock}), {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed')
        dst.qmp.event_wait('RESUME')
        self.assertEqual(events(src), [('MIGRATION', 'setup'), ('MIGRATION_PASS', 1),
                                       ('MIGRATION', 'active'), ('STOP', None),
                                       ('MIGRATION_PASS', 2), ('MIGRATION', 'completed')])
        info = src.cmd('query-migrate')['return']
        self.assertEqual(info['status'], 'completed')
        self.assertEqual(sorted(info['ram']), sorted([
            'transferred', 'remaining', 'total', 'duplicate', 'skipped', 'normal',
            'normal-bytes', 'dirty-pages-rate', 'mbps', 'dirty-sync-count',
            'postcopy-requests', 'page-size', 'multifd-bytes', 'pages-per-second',
            'precopy-bytes', 'downtime-bytes', 'postcopy-bytes',
            'dirty-sync-missed-zero-copy']))
        for k in ('total-time', 'downtime', 'setup-time'):
            self.assertIn(k, info)
        self.assertNotIn('disk', info)
        self.assertEqual(src.cmd('query-status')['return']['status'], 'postmigrate')
        self.assertEqual(dst.cmd('query-status')['return']['status'], 'running')
        self.assertEqual(dst.cmd('query-migrate')['return'], {'status': 'completed'})
        self.assertIn('Migration status: completed\r\ntotal time: 0 ms\r\n',
                      hmp(dst, 'info migrate'))
        self.assertEqual(src.cmd('migrate', {'uri': 'unix:' + sock})['error']['desc'],
                         "Can't migrate the vm that was paused due to previous migration")
        src.shutdown()
        dst.shutdown()

    def test_tcp_port_zero(self):
        # -incoming tcp:HOST:0 picks a port; query-migrate and `info migrate` tell it
        # until the migration is over. The command-line listener stays in state
        # none (no event) until the connection comes, as QEMU 7.2's.
        dst = self.vm('-incoming', 'tcp:127.0.0.1:0')
        self.assertEqual(dst.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]}), {'return': {}})
        info = dst.cmd('query-migrate')['return']
        self.assertEqual(list(info), ['socket-address'])
        [addr] = info['socket-address']
        port = addr['port']
        self.assertEqual(addr, {'type': 'inet', 'host': '127.0.0.1', 'port': port, 'ipv4': True})
        self.assertGreater(int(port), 0)
        self.assertIn('socket address: [\r\n\ttcp:127.0.0.1:%s\r\n]\r\n' % port,
                      hmp(dst, 'info migrate'))
        src = self.vm()
        self.assertEqual(src.cmd('migrate', {'uri': 'tcp:127.0.0.1:' + port}), {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed')
        dst.qmp.event_wait('RESUME')
        self.assertEqual(events(dst)[:1], [('MIGRATION', 'active')])
        self.assertEqual(dst.cmd('query-migrate')['return'], {'status': 'completed'})
        self.assertNotIn('socket address', hmp(dst, 'info migrate'))

    def test_block_migration_blocks_jobs(self):
        # While `migrate blk` copies a drive, jobs, snapshots and resizes of it are
        # refused with QEMU's words; cancelling the migration lifts that.
        img = self.path('disk.qcow2')
        tools = os.path.join(os.path.dirname(godwit_binary()), '..', 'tools')
        subprocess.run([os.path.join(tools, 'godwit-img'), 'create', '-q', '-f', 'qcow2', img,
                        '64M'], check=True)
        subprocess.run([os.path.join(tools, 'godwit-io'), '-c', 'write -P 7 0 48M', img],
                       check=True, stdout=subprocess.DEVNULL)
        # a destination that accepts the stream but hardly reads it
        sink = socket.socket()
        sink.bind(('127.0.0.1', 0))
        sink.listen(1)
        src = self.vm('-drive', 'if=none,id=d0,file=' + img)
        self.assertEqual(src.cmd('migrate-set-parameters', {'max-bandwidth': 1000000}),
                         {'return': {}})
        self.assertEqual(src.cmd('migrate', {'uri': 'tcp:127.0.0.1:%d' % sink.getsockname()[1],
                                             'blk': True}), {'return': {}})
        conn, _ = sink.accept()
        self.assertEqual(src.cmd('query-migrate')['return']['status'], 'active')
        busy = "Node 'd0' is busy: block device is in use by migration"
        target = self.path('target.qcow2')
        for name, args, desc in [
                ('block-stream', {'device': 'd0'}, busy),
                ('block-commit', {'device': 'd0'}, busy),
                ('drive-mirror', {'device': 'd0', 'target': target, 'sync': 'full',
                                  'format': 'qcow2'}, busy),
                ('drive-backup', {'device': 'd0', 'target': target, 'sync': 'full',
                                  'format': 'qcow2'}, busy),
                ('blockdev-snapshot-sync', {'device': 'd0', 'snapshot-file': target,
                                            'format': 'qcow2'}, busy),
                ('block_resize', {'device': 'd0', 'size': 128 << 20}, "Device 'd0' is in use")]:
            self.assertEqual(src.cmd(name, args)['error']['desc'], desc, name)
        self.assertFalse(os.path.exists(target))
        # what does not change the graph still works
        self.assertEqual(src.cmd('block-dirty-bitmap-add', {'node': 'd0', 'name': 'b'}),
                         {'return': {}})
        self.assertEqual(hmp(src, 'qemu-io d0 "write -P 9 0 4k"'), '')   # prints on stdout
        self.assertEqual(src.cmd('migrate_cancel'), {'return': {}})
        conn.close()
        self.assertEqual(wait_status(src, ('cancelled', 'failed')), 'cancelled')
        self.assertEqual(src.cmd('block_resize', {'device': 'd0', 'size': 128 << 20}),
                         {'return': {}})
        src.shutdown()
        sink.close()
        check = subprocess.run([os.path.join(tools, 'godwit-img'), 'check', img],
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        for cmd in ('read -P 9 0 4k', 'read -P 7 4k 49148k', 'read -P 0 48M 80M'):
            subprocess.run([os.path.join(tools, 'godwit-io'), '-c', cmd, img], check=True,
                           stdout=subprocess.DEVNULL)

    def test_exec_and_defer(self):
        f = self.path('stream.bin')
        src = self.vm()
        self.assertEqual(src.cmd('migrate', {'uri': 'exec:cat > ' + f}), {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed')
        end = time.time() + 10      # cat writes the file on its own time
        while (not os.path.exists(f) or os.path.getsize(f) < len(MARKER)) and time.time() < end:
            time.sleep(0.02)
        with open(f, 'rb') as fp:
            self.assertEqual(fp.read(), MARKER)
        dst = self.vm('-incoming', 'defer')
        self.assertEqual(dst.cmd('query-status')['return']['status'], 'inmigrate')
        self.assertEqual(dst.cmd('migrate', {'uri': 'exec:cat > /dev/null'})['error']['desc'],
                         'Guest is waiting for an incoming migration')
        self.assertEqual(dst.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True}]}), {'return': {}})
        self.assertEqual(dst.cmd('migrate-incoming', {'uri': 'exec:cat ' + f}), {'return': {}})
        dst.qmp.event_wait('RESUME')
        self.assertEqual(events(dst)[:2], [('MIGRATION', 'setup'), ('MIGRATION', 'active')])
        self.assertEqual(dst.cmd('migrate-incoming', {'uri': 'exec:true'})['error']['desc'],
                         'The incoming migration has already been started')
        dst.shutdown()

    def test_hmp_forms(self):
        for form in ('migrate -d unix:%s', 'migrate -d blk unix:%s', 'migrate -d blk inc unix:%s',
                     'migrate -b unix:%s', 'migrate -d -i unix:%s'):
            sock = self.path('h.sock')
            dst = self.vm('-incoming', 'unix:' + sock)
            src = self.vm()
            out = hmp(src, form % sock)
            self.assertIn(out, ('', 'terminal does not allow synchronous migration, '
                                    'continuing detached\r\n'), form)
            self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed', form)
            dst.qmp.event_wait('RESUME')
            src.kill()
            dst.kill()
        src = self.vm()
        self.assertEqual(hmp(src, 'migrate -d blk unix:/x extra'),
                         'migrate: extraneous characters at the end of line\r\n'
                         'Try "help migrate" for more information\r\n')

    def test_pause_before_switchover(self):
        sock = self.path('p.sock')
        dst = self.vm('-incoming', 'unix:' + sock)
        src = self.vm()
        src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'events', 'state': True},
            {'capability': 'pause-before-switchover', 'state': True}]})
        src.cmd('migrate', {'uri': 'unix:' + sock})
        self.assertEqual(wait_status(src, ('pre-switchover',)), 'pre-switchover')
        self.assertEqual(src.cmd('migrate-continue', {'state': 'active'})['error']['desc'],
                         'Migration not in expected state: pre-switchover')
        self.assertEqual(src.cmd('migrate-continue', {'state': 'pre-switchover'}),
                         {'return': {}})
        self.assertEqual(wait_status(src, ('completed', 'failed')), 'completed')
        ev = events(src)
        self.assertLess(ev.index(('STOP', None)), ev.index(('MIGRATION', 'pre-switchover')))
        self.assertLess(ev.index(('MIGRATION', 'pre-switchover')), ev.index(('MIGRATION', 'device')))
        dst.qmp.event_wait('RESUME')

    def test_cancel_in_pre_switchover(self):
        sock = self.path('c.sock')
        dst = self.vm('-incoming', 'unix:' + sock)
        src = self.vm()
        src.cmd('migrate-set-capabilities', {'capabilities': [
            {'capability': 'pause-before-switchover', 'state': True}]})
        src.cmd('migrate', {'uri': 'unix:' + sock})
        wait_status(src, ('pre-switchover',))
        self.assertEqual(src.cmd('migrate_cancel'), {'return': {}})
        self.assertEqual(wait_status(src, ('cancelled',)), 'cancelled')
        self.assertEqual(src.cmd('query-status')['return']['status'], 'running')
        self.assertEqual(dst.wait(), 1)
        self.assertIn('load of migration failed', dst.stderr)

    def hostile(self, data):
        f = self.path('bad.bin')
        with open(f, 'wb') as fp:
            fp.write(data)
        proc = subprocess.run([godwit_binary()] + BASE + ['-incoming', 'exec:cat ' + f],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        err = proc.stderr.decode()
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn('load of migration failed: ', err)
        return err

    def test_hostile_streams(self):
        self.assertIn('Not a migration stream', self.hostile(b'QEVM' + b'\0' * 60))
        self.assertIn('Unexpected end of migration stream', self.hostile(MARKER[:20]))
        self.assertIn('Unexpected end of migration stream', self.hostile(b''))
        self.assertIn('Unsupported migration stream version', self.hostile(
            struct.pack('>II', 0x4744574d, 9)))
        # a record length that claims more than the stream holds, and one too short
        bad = bytearray(MARKER)
        bad[9:13] = struct.pack('>I', 0x7fffffff)
        self.assertIn('load of migration failed', self.hostile(bytes(bad)))
        bad[9:13] = struct.pack('>I', 10)
        self.assertIn('overrun', self.hostile(bytes(bad)))
        self.assertIn("Unknown savevm section or instance 'ram' 0", self.hostile(stream([
            (4, struct.pack('>I', 0) + str8(b'ram') + struct.pack('>II', 0, 1))])))
        self.assertIn('Unknown migration record type 77', self.hostile(stream([(77, b'')])))
        self.assertIn('Unknown section id 5', self.hostile(stream([
            (2, struct.pack('>I', 5))])))
        self.assertIn("missing from the migration stream", self.hostile(stream([(5, b'')])))
        self.assertIn('Machine type mismatch', self.hostile(stream([
            (4, struct.pack('>I', 0) + str8(b'machine') + struct.pack('>II', 0, 1)
             + str8(b'godwit')), (5, b'')])))
        self.assertIn('unsupported version 2', self.hostile(stream([
            (4, struct.pack('>I', 0) + str8(b'machine') + struct.pack('>II', 0, 2)
             + str8(b'none')), (5, b'')])))
        self.assertIn('unread bytes', self.hostile(stream([
            (4, struct.pack('>I', 0) + str8(b'machine') + struct.pack('>II', 0, 1)
             + str8(b'none') + b'junk'), (5, b'')])))
        # random garbage after a valid header
        self.hostile(struct.pack('>II', 0x4744574d, 1) + os.urandom(4096))


if __name__ == '__main__':
    unittest.main(verbosity=2)
