# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""A small QMP client (Python standard library only).

    vm = VM(binary, ['-machine', 'none', ...])   # QMP on one end of a socketpair
    vm.launch()                                  # reads the greeting
    vm.cmd('qmp_capabilities')                   # -> reply dict; events collected
    vm.events                                    # events seen so far, in order
    vm.shutdown()                                # quit, wait for exit status 0

QMP.from_socket() wraps any connected stream socket (e.g. a unix socket the
binary listens on). Messages are read line by line (the server ends each with
CRLF) and parsed with json; raw bytes can be sent with send_raw().
"""

import array
import json
import os
import socket
import subprocess


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, sock, pretty=False):
        self.sock = sock
        self.buf = b''
        self.events = []
        self.pretty = pretty
        self.lines = []           # raw message texts, in arrival order

    @classmethod
    def from_socket(cls, sock, pretty=False):
        return cls(sock, pretty)

    def _read_more(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError('QMP connection closed')
        self.buf += data

    def read_message(self, timeout=15.0):
        """The next message (reply, event or greeting) as a dict."""
        while True:
            if self.pretty:
                # pretty messages end with a line that is just "}"
                end = self.buf.find(b'\r\n}\r\n')
                if end >= 0 or self.buf.startswith(b'}'):
                    text, self.buf = self.buf[:end + 5], self.buf[end + 5:]
                    self.lines.append(text.decode())
                    return json.loads(text)
            else:
                end = self.buf.find(b'\r\n')
                if end >= 0:
                    text, self.buf = self.buf[:end], self.buf[end + 2:]
                    self.lines.append(text.decode())
                    return json.loads(text)
            self._read_more(timeout)

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, obj, fds=None):
        data = json.dumps(obj).encode()
        if fds:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                        array.array('i', fds))])
        else:
            self.sock.sendall(data)

    def reply(self, timeout=15.0):
        """Read until a reply; events on the way are appended to self.events."""
        while True:
            msg = self.read_message(timeout)
            if 'event' in msg:
                self.events.append(msg)
            else:
                return msg

    def cmd(self, name, args=None, id=None, fds=None):
        req = {'execute': name}
        if args is not None:
            req['arguments'] = args
        if id is not None:
            req['id'] = id
        self.send(req, fds)
        return self.reply()

    def event_wait(self, name, timeout=15.0):
        for i, ev in enumerate(self.events):
            if ev['event'] == name:
                return self.events.pop(i)
        while True:
            msg = self.read_message(timeout)
            if msg.get('event') == name:
                return msg
            if 'event' in msg:
                self.events.append(msg)

    def close(self):
        self.sock.close()


class VM:
    """A godwit (or qemu-system) process with QMP on an inherited socket."""

    def __init__(self, binary, args=(), pretty=False):
        self.binary = binary
        self.args = list(args)
        self.pretty = pretty
        self.proc = None
        self.qmp = None

    def launch(self, negotiate=True, stdout=subprocess.DEVNULL):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = theirs.fileno()
        mon = 'socket,id=mon,fd=%d' % fd
        mode = 'mode=control' + (',pretty=on' if self.pretty else '')
        argv = [self.binary, '-chardev', mon, '-mon', 'chardev=mon,' + mode] + self.args
        self.proc = subprocess.Popen(argv, pass_fds=[fd], stdin=subprocess.DEVNULL,
                                     stdout=stdout, stderr=subprocess.PIPE)
        theirs.close()
        self.qmp = QMP(ours, self.pretty)
        self.greeting = self.qmp.read_message()
        if 'QMP' not in self.greeting:
            raise QMPError('no greeting: %r' % self.greeting)
        if negotiate:
            rsp = self.qmp.cmd('qmp_capabilities')
            if rsp != {'return': {}}:
                raise QMPError('negotiation failed: %r' % rsp)
        return self

    def cmd(self, name, args=None, **kw):
        return self.qmp.cmd(name, args, **kw)

    def wait(self, timeout=30):
        try:
            self.proc.wait(timeout)
        finally:
            self.stderr = self.proc.stderr.read().decode()
        return self.proc.returncode

    def shutdown(self):
        rsp = self.cmd('quit')
        if rsp != {'return': {}}:
            raise QMPError('quit failed: %r' % rsp)
        status = self.wait()
        self.qmp.close()
        if status != 0:
            raise QMPError('exit status %d' % status)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.qmp:
            self.qmp.close()


def godwit_binary():
    """The binary under test: $GODWIT, else build/system/godwit next to the sources."""
    if os.environ.get('GODWIT'):
        return os.environ['GODWIT']
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(here), 'build', 'system', 'godwit')
