#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""QMP sessions against the godwit binary: basics, errors, hostile input,
events, quit order, several monitors, getfd, pretty output."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import QMP, VM, godwit_binary   # noqa: E402

BASE = ['-machine', 'none', '-nodefaults', '-display', 'none', '-accel', 'qtest']


def err(desc, cls='GenericError'):
    return {'error': {'class': cls, 'desc': desc}}


class QMPTest(unittest.TestCase):
    def setUp(self):
        self.vm = VM(godwit_binary(), BASE).launch()

    def tearDown(self):
        self.vm.kill()

    def test_greeting_and_version(self):
        g = self.vm.greeting['QMP']
        self.assertEqual(g['capabilities'], ['oob'])
        self.assertEqual(g['version']['qemu'], {'major': 7, 'minor': 2, 'micro': 22})
        rsp = self.vm.cmd('query-version', id='v1')
        self.assertEqual(rsp['return'], g['version'])
        self.assertEqual(rsp['id'], 'v1')
        self.assertEqual(self.vm.qmp.lines[0].split('"version"')[0], '{"QMP": {')

    def test_status_stop_cont(self):
        self.assertEqual(self.vm.cmd('query-status')['return'],
                         {'status': 'running', 'singlestep': False, 'running': True})
        self.assertEqual(self.vm.qmp.lines[-1],
                         '{"return": {"status": "running", "singlestep": false, "running": true}}')
        self.assertEqual(self.vm.cmd('stop'), {'return': {}})
        self.assertEqual(self.vm.qmp.events.pop(0)['event'], 'STOP')
        self.assertEqual(self.vm.cmd('query-status')['return']['status'], 'paused')
        self.assertEqual(self.vm.cmd('stop'), {'return': {}})        # no second STOP
        self.assertEqual(self.vm.qmp.events, [])
        self.assertEqual(self.vm.cmd('cont'), {'return': {}})
        ev = self.vm.qmp.events.pop(0)
        self.assertEqual(ev['event'], 'RESUME')
        self.assertEqual(sorted(ev['timestamp']), ['microseconds', 'seconds'])
        self.assertNotIn('data', ev)
        self.vm.shutdown()

    def test_system_reset(self):
        self.assertEqual(self.vm.cmd('stop'), {'return': {}})
        self.assertEqual(self.vm.cmd('system_reset'), {'return': {}})
        self.assertEqual(self.vm.qmp.events[-1]['data'],
                         {'guest': False, 'reason': 'host-qmp-system-reset'})
        self.assertEqual(self.vm.cmd('query-status')['return']['status'], 'prelaunch')

    def test_quit_order_and_exit(self):
        self.vm.qmp.send({'execute': 'quit', 'id': 7})
        first = self.vm.qmp.read_message()
        self.assertEqual(first['event'], 'SHUTDOWN')
        self.assertEqual(self.vm.qmp.lines[-1].split('"data": ')[1],
                         '{"guest": false, "reason": "host-qmp-quit"}}')
        self.assertEqual(self.vm.qmp.read_message(), {'return': {}, 'id': 7})
        self.assertEqual(self.vm.wait(), 0)

    def test_argument_errors(self):
        vm = self.vm
        self.assertEqual(vm.cmd('bogus'),
                         err('The command bogus has not been found', 'CommandNotFound'))
        self.assertEqual(vm.cmd('stop', {'x': 1}), err("Parameter 'x' is unexpected"))
        self.assertEqual(vm.cmd('human-monitor-command', {}),
                         err("Parameter 'command-line' is missing"))
        self.assertEqual(vm.cmd('human-monitor-command', {'command-line': 5}),
                         err("Invalid parameter type for 'command-line', expected: string"))
        self.assertEqual(vm.cmd('qmp_capabilities'),
                         err('Capabilities negotiation is already complete, command ignored',
                             'CommandNotFound'))
        vm.qmp.send({'execute': 'stop', 'arguments': []})
        self.assertEqual(vm.qmp.reply(), err("QMP input member 'arguments' must be an object"))
        vm.qmp.send({'execute': 1})
        self.assertEqual(vm.qmp.reply(), err("QMP input member 'execute' must be a string"))
        vm.qmp.send({'foo': 1})
        self.assertEqual(vm.qmp.reply(), err("QMP input member 'foo' is unexpected"))
        vm.qmp.send([1, 2])
        self.assertEqual(vm.qmp.reply(), err('QMP input must be a JSON object'))
        self.assertEqual(vm.cmd('query-status', id={'a': [1, None]})['id'], {'a': [1, None]})

    def test_malformed_json_resync(self):
        vm = self.vm
        vm.qmp.send_raw(b'}\n')
        self.assertEqual(vm.qmp.reply(), err('JSON parse error, expecting value'))
        vm.qmp.send_raw(b"{ 'execute':\n 'query-status' }\n")       # QEMU's dialect
        self.assertIn('return', vm.qmp.reply())
        vm.qmp.send_raw(b'\xff\n')
        self.assertEqual(vm.qmp.reply(), err("JSON parse error, stray '\ufffd'"))
        vm.qmp.send_raw(b'{"execute": "query-status", "id": 3}')
        self.assertEqual(vm.qmp.reply()['id'], 3)

    def test_garbage_keeps_serving(self):
        vm = self.vm
        vm.qmp.send_raw(bytes(range(1, 256)) * 4 + b'\n')
        vm.qmp.sock.settimeout(0.5)
        try:                                   # drain whatever errors came back
            while True:
                vm.qmp.read_message(0.5)
        except (socket.timeout, TimeoutError):
            pass
        vm.qmp.send_raw(b'\n{"execute": "query-status", "id": "after"}\n')
        while True:
            rsp = vm.qmp.reply()
            if rsp.get('id') == 'after':
                break
        self.assertEqual(rsp['return']['status'], 'running')

    def test_deep_nesting(self):
        vm = self.vm
        vm.qmp.send_raw(b'[' * 2000 + b']' * 2000 + b'\n')
        rsp = vm.qmp.reply()
        self.assertEqual(rsp['error']['class'], 'GenericError')
        self.assertIn('JSON', rsp['error']['desc'])
        vm.qmp.send({'execute': 'query-status', 'id': 1})
        while 'error' in rsp:                  # errors for the rest of the brackets
            rsp = vm.qmp.reply()
        self.assertEqual(rsp['id'], 1)

    def test_huge_message_closes(self):
        vm = self.vm
        chunk = b'"' + b'a' * (1 << 20)
        try:
            vm.qmp.send_raw(b'{"execute": "query-status", "arguments": {"x": ')
            for _ in range(70):
                vm.qmp.send_raw(chunk[1:] if _ else chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        with self.assertRaises((EOFError, ConnectionResetError)):
            while True:
                msg = vm.qmp.read_message(30)
                self.assertIn('limit exceeded', msg['error']['desc'])
        # the process lives on: it still answers signals cleanly
        vm.proc.terminate()
        self.assertEqual(vm.wait(), 0)

    def test_human_monitor_command(self):
        self.assertEqual(self.vm.cmd('human-monitor-command', {'command-line': 'info status'}),
                         {'return': 'VM status: running\r\n'})
        self.assertEqual(self.vm.cmd('human-monitor-command', {'command-line': 'stop'}),
                         {'return': ''})
        self.assertEqual(self.vm.qmp.events[-1]['event'], 'STOP')
        self.assertEqual(self.vm.cmd('human-monitor-command', {'command-line': 'info status'}),
                         {'return': 'VM status: paused\r\n'})
        self.assertEqual(self.vm.cmd('human-monitor-command', {'command-line': 'nope'}),
                         {'return': "unknown command: 'nope'\r\n"})

    def test_introspection(self):
        schema = self.vm.cmd('query-qmp-schema')['return']
        names = {e['name'] for e in schema}
        for n in ('query-status', 'qmp_capabilities', 'SHUTDOWN', 'quit'):
            self.assertIn(n, names)
        cmds = {c['name'] for c in self.vm.cmd('query-commands')['return']}
        self.assertTrue({'query-status', 'stop', 'cont', 'quit', 'getfd'} <= cmds)
        self.assertEqual(self.vm.cmd('query-target')['return'], {'arch': 'x86_64'})

    def test_getfd(self):
        r, w = os.pipe()
        try:
            self.assertEqual(self.vm.cmd('getfd', {'fdname': 'fd0'}, fds=[r]), {'return': {}})
            self.assertEqual(self.vm.cmd('closefd', {'fdname': 'fd0'}), {'return': {}})
            self.assertEqual(self.vm.cmd('closefd', {'fdname': 'fd0'}),
                             err("File descriptor named 'fd0' not found"))
            self.assertEqual(self.vm.cmd('getfd', {'fdname': 'x'}),
                             err('No file descriptor supplied via SCM_RIGHTS'))
        finally:
            os.close(r)
            os.close(w)


class NegotiationTest(unittest.TestCase):
    def test_negotiation_mode(self):
        vm = VM(godwit_binary(), BASE).launch(negotiate=False)
        try:
            self.assertEqual(vm.cmd('query-status'), err(
                "Expecting capabilities negotiation with 'qmp_capabilities'",
                'CommandNotFound'))
            vm.cmd('stop')                     # runs nothing: no STOP event either
            self.assertEqual(vm.cmd('qmp_capabilities', {'enable': ['oob']}), {'return': {}})
            self.assertEqual(vm.cmd('query-status')['return']['status'], 'running')
            self.assertEqual(vm.qmp.events, [])
            vm.shutdown()
        finally:
            vm.kill()


class MultiMonitorTest(unittest.TestCase):
    def test_events_broadcast_and_reconnect(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'qmp.sock')
            vm = VM(godwit_binary(), BASE + ['-qmp', 'unix:%s,server=on,wait=off' % path])
            vm.launch()
            try:
                for _ in range(100):
                    if os.path.exists(path):
                        break
                    time.sleep(0.05)

                def connect():
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(path)
                    q = QMP(s)
                    self.assertIn('QMP', q.read_message())
                    self.assertEqual(q.cmd('qmp_capabilities'), {'return': {}})
                    return q

                second = connect()
                self.assertEqual(vm.cmd('stop'), {'return': {}})
                self.assertEqual(second.event_wait('STOP')['event'], 'STOP')
                # a client that leaves mid-command does not disturb the others
                second.send_raw(b'{"execute": "query-sta')
                second.close()
                self.assertEqual(vm.cmd('cont'), {'return': {}})
                third = connect()           # the server listens again
                self.assertEqual(third.cmd('query-status')['return']['status'], 'running')
                third.close()
                vm.shutdown()
            finally:
                vm.kill()

    def test_slow_reader_does_not_stall(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'qmp.sock')
            vm = VM(godwit_binary(), BASE + ['-qmp', 'unix:%s,server=on,wait=off' % path])
            vm.launch()
            try:
                time.sleep(0.2)
                lazy = socket.socket(socket.AF_UNIX)
                lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                lazy.connect(path)
                lazy.sendall(b'{"execute": "qmp_capabilities"}' +
                             b'{"execute": "query-qmp-schema"}' * 50)
                time.sleep(0.5)                 # lazy never reads its replies
                t0 = time.monotonic()
                for i in range(20):
                    self.assertEqual(vm.cmd('query-status', id=i)['id'], i)
                self.assertLess(time.monotonic() - t0, 5)
                lazy.close()
                vm.shutdown()
            finally:
                vm.kill()


class PrettyTest(unittest.TestCase):
    def test_pretty_stdio(self):
        p = subprocess.run([godwit_binary()] + BASE + ['-monitor', 'none',
                           '-qmp-pretty', 'stdio'],
                           input=b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n',
                           stdout=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0)
        out = p.stdout.decode()
        self.assertIn('{\r\n    "return": {\r\n    }\r\n}\r\n', out)
        self.assertIn('"event": "SHUTDOWN",\r\n', out)
        self.assertTrue(out.endswith('{\r\n    "return": {\r\n    }\r\n}\r\n'))


if __name__ == '__main__':
    unittest.main()
