#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""HMP over stdio, the qtest protocol, and the command-line probes."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

BASE = ['-machine', 'none', '-nodefaults', '-display', 'none', '-accel', 'qtest']


def run(args, stdin=b'', timeout=30):
    return subprocess.run([godwit_binary()] + args, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


class HMPTest(unittest.TestCase):
    def hmp(self, lines, extra=()):
        p = run(BASE + list(extra) + ['-monitor', 'stdio'], ('\n'.join(lines) + '\n').encode())
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode()

    def test_session(self):
        out = self.hmp(['info status', 'stop', 'info status', 'c', 'info status', 'q'])
        self.assertTrue(out.startswith("QEMU 7.2.22 monitor - type 'help' for more "
                                       "information\r\n(qemu) "))
        # readline echo on a non-terminal: back up, reprint, clear to end of line
        self.assertIn('(qemu) i\x1b[K\x1b[Din\x1b[K\x1b[D\x1b[Dinf\x1b[K', out)
        plain = re.sub(r'\x1b\[[KD]', '', out)
        self.assertIn('info status\r\nVM status: running\r\n', plain)
        self.assertIn('info status\r\nVM status: paused\r\n', plain)
        self.assertEqual(plain.count('VM status: running'), 2)
        self.assertTrue(plain.endswith('(qemu) q\r\n'))

    def test_errors_and_help(self):
        plain = re.sub(r'\x1b\[[KD]', '', self.hmp(
            ['bogus', 'stop 5', 'info bogus', 'help stop', 'info version', 'quit']))
        self.assertIn("unknown command: 'bogus'\r\n", plain)
        self.assertIn('stop|s: extraneous characters at the end of line\r\n'
                      'Try "help stop" for more information\r\n', plain)
        self.assertIn("unknown command: 'info bogus'\r\n", plain)
        self.assertIn('stop|s  -- stop emulation\r\n', plain)
        self.assertIn('7.2.22godwit-', plain)

    def test_prelaunch_and_inmigrate(self):
        plain = re.sub(r'\x1b\[[KD]', '', self.hmp(['info status', 'c', 'info status', 'q'],
                                                  ['-S']))
        self.assertIn('VM status: paused (prelaunch)\r\n', plain)
        self.assertIn('VM status: running\r\n', plain)
        plain = re.sub(r'\x1b\[[KD]', '', self.hmp(['c', 'info status', 'q'],
                                                  ['-incoming', 'defer']))
        self.assertIn('VM status: paused (inmigrate)\r\n', plain)


class QTestTest(unittest.TestCase):
    def test_clock_step(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'qtest.sock')
            srv = socket.socket(socket.AF_UNIX)
            srv.bind(path)
            srv.listen(1)
            vm = VM(godwit_binary(), ['-qtest', 'unix:path=%s' % path] + BASE)
            try:
                vm.launch()
                conn, _ = srv.accept()
                f = conn.makefile('rwb', buffering=0)

                def qtest(line):
                    f.write(line.encode() + b'\n')
                    return f.readline().decode().rstrip('\n')

                self.assertEqual(qtest('clock_step 1000'), 'OK 1000')
                self.assertEqual(qtest('clock_step 500'), 'OK 1500')
                self.assertEqual(qtest('clock_step'), 'OK 1500')     # no timers: stays
                self.assertTrue(qtest('bogus').startswith('FAIL'))
                self.assertEqual(qtest('clock_set 5000'), 'OK 5000')
                self.assertEqual(vm.cmd('query-status')['return']['status'], 'running')
                vm.shutdown()
                conn.close()
            finally:
                vm.kill()
                srv.close()


class CmdlineTest(unittest.TestCase):
    def test_machine_help(self):
        p = run(['-machine', 'help'])
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0], 'Supported machines are:')
        self.assertEqual(sum(1 for l in lines if l.endswith(' (default)')), 1)
        self.assertTrue(any(l.startswith('none ') for l in lines))

    def test_device_help(self):
        p = run(BASE + ['-device', 'help'])
        self.assertEqual(p.returncode, 0)
        self.assertIn('virtio-blk', p.stdout.decode())

    def test_drive_format_help(self):
        p = run(BASE + ['-drive', 'format=help'])
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith('Supported formats:'))
        self.assertTrue(lines[1].startswith('Supported formats (read-only):'))

    def test_errors(self):
        cases = [
            (['-M', 'bogus'], 'godwit: unsupported machine type\n'
                              'Use -machine help to list supported machines\n'),
            (['-bogus'], 'godwit: -bogus: invalid option\n'),
            (BASE + ['-accel', 'tcg'], 'godwit: -accel tcg: invalid accelerator tcg\n'),
            (BASE + ['-mon', 'chardev=nope'], 'godwit: -mon chardev=nope: chardev "nope" '
                                              'not found\n'),
            (BASE + ['-mon', 'chardev=x,mode=bogus'],
             "godwit: -mon chardev=x,mode=bogus: Parameter 'mode' does not accept value "
             "'bogus'\n"),
            (BASE + ['-chardev', 'bogus,id=x'],
             "godwit: -chardev bogus,id=x: 'bogus' is not a valid char driver name\n"),
            (BASE + ['-chardev', 'null,id=a', '-chardev', 'null,id=a'],
             "godwit: -chardev null,id=a: Duplicate ID 'a' for chardev\n"),
            (BASE + ['-qmp', 'unix:/nonexistent/q.sock,server=on,wait=off'],
             "godwit: -qmp unix:/nonexistent/q.sock,server=on,wait=off: Failed to bind socket "
             "to /nonexistent/q.sock: No such file or directory\n"),
        ]
        for args, expected in cases:
            p = run(args)
            self.assertEqual(p.returncode, 1, args)
            self.assertEqual(p.stderr.decode(), expected, args)

    def test_repeated_options_and_pidfile(self):
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, 'pid')
            p = run(BASE + BASE + ['-pidfile', pidfile, '-name', 'vm0', '-serial', 'none',
                                   '-nographic', '-trace', 'x', '-qmp', 'stdio'],
                    b'{"execute": "qmp_capabilities"}\n{"execute": "query-name"}\n'
                    b'{"execute": "quit"}\n')
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b'{"return": {"name": "vm0"}}\r\n', p.stdout)
            self.assertFalse(os.path.exists(pidfile))

    def test_daemonize(self):
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, 'pid')
            path = os.path.join(d, 'qmp.sock')
            p = run(BASE + ['-daemonize', '-pidfile', pidfile,
                            '-qmp', 'unix:%s,server=on,wait=off' % path])
            self.assertEqual(p.returncode, 0, p.stderr)
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            f = s.makefile('rwb', buffering=0)
            self.assertIn(b'"QMP"', f.readline())
            f.write(b'{"execute": "qmp_capabilities"}{"execute": "quit"}\n')
            self.assertEqual(f.readline(), b'{"return": {}}\r\n')
            self.assertIn(b'SHUTDOWN', f.readline())
            self.assertEqual(f.readline(), b'{"return": {}}\r\n')
            s.close()


if __name__ == '__main__':
    unittest.main()
