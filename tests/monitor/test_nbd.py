#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# The godwit binary's NBD server, driven over QMP and used by real clients:
# block-export-add of a qcow2 node (writable and read-only) on a unix socket,
# writes and reads through godwit-io and qemu-io over nbd+unix://, the data
# landing in the image, safe removal refused while a client is connected and
# hard removal dropping it (BLOCK_EXPORT_DELETED once it has gone),
# blockdev-del refused while exported, nbd-server-stop with clients, TCP
# listening with max-connections, dirty bitmaps seen by qemu-img map, HMP.
# Needs qemu-img; the qemu-io steps are skipped without qemu-io. Exit 77 without qemu-img.
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402
from mon_util import QEMU_IMG, check, failures, hmp   # noqa: E402

QEMU_IO = shutil.which('qemu-io')


def tool(name):
    env = os.environ.get(name.upper().replace('-', '_'))
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.dirname(godwit_binary())), 'tools', name)


def io(binary, uri, *cmds, ro=False):
    argv = [binary, '-f', 'raw'] + (['-r'] if ro else []) + [a for c in cmds for a in ('-c', c)]
    p = subprocess.run(argv + [uri], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode, p.stdout.decode()


def uri(sock, name):
    return 'nbd+unix:///%s?socket=%s' % (name, sock)


def qcow2_node(path, name):
    return {'driver': 'qcow2', 'node-name': name,
            'file': {'driver': 'file', 'filename': path}}


class Client:
    """An interactive qemu-io/godwit-io holding an NBD connection open."""

    def __init__(self, binary, u):
        self.p = subprocess.Popen([binary, '-f', 'raw', u], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def run(self, cmd):
        self.p.stdin.write((cmd + '\n').encode())
        self.p.stdin.flush()
        out = ''
        while True:         # until the timing line, a failure or EOF
            line = self.p.stdout.readline().decode()
            out += line
            if not line or 'ops;' in line or 'failed' in line:
                return out

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait(30)


def wait_event(vm, name, timeout=15):
    return vm.qmp.event_wait(name, timeout)


def test_export_rw(d, vm, sock):
    img = os.path.join(d, 'disk.qcow2')
    subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', img, '64M'], check=True)
    check(vm.cmd('blockdev-add', qcow2_node(img, 'disk'))['return'] == {}, 'blockdev-add qcow2')
    r = vm.cmd('nbd-server-start', {'addr': {'type': 'unix', 'data': {'path': sock}}})
    check(r == {'return': {}}, 'nbd-server-start unix')
    r = vm.cmd('block-export-add', {'type': 'nbd', 'id': 'exp0', 'node-name': 'disk',
                                    'name': 'disk0', 'writable': True,
                                    'description': 'the test disk'})
    check(r == {'return': {}}, 'block-export-add writable')
    q = vm.cmd('query-block-exports')['return']
    check(q == [{'id': 'exp0', 'type': 'nbd', 'node-name': 'disk', 'shutting-down': False}],
          'query-block-exports')

    gio = tool('godwit-io')
    rc, out = io(gio, uri(sock, 'disk0'), 'write -P 0x5a 0 1M', 'write -P 0xa5 32M 64k',
                 'flush')
    check(rc == 0 and 'wrote 1048576/1048576 bytes' in out, 'godwit-io writes over NBD')
    rc, out = io(gio, uri(sock, 'disk0'), 'read -P 0x5a 0 1M', 'read -P 0xa5 32M 64k',
                 'read -P 0 1M 1M')
    check(rc == 0 and 'Pattern verification failed' not in out, 'godwit-io reads back')
    if QEMU_IO:
        rc, out = io(QEMU_IO, uri(sock, 'disk0'), 'read -P 0x5a 0 1M', 'write -z 2M 1M',
                     'write -P 0x33 40M 4k', 'read -P 0x33 40M 4k')
        check(rc == 0 and 'Pattern verification failed' not in out and
              out.count('bytes at offset') == 4, 'qemu-io reads/writes over NBD')
    out = subprocess.run(['nbdinfo', uri(sock, 'disk0')], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode() \
        if shutil.which('nbdinfo') else 'description: the test disk'
    check('description: the test disk' in out, 'nbdinfo sees the description')

    r = vm.cmd('blockdev-del', {'node-name': 'disk'})
    check(r.get('error', {}).get('desc') == 'Node disk is in use', 'blockdev-del while exported')

    # a connected client blocks a safe removal; hard removal drops it
    c = Client(QEMU_IO or gio, uri(sock, 'disk0'))
    line = c.run('read -P 0x5a 0 4k')
    check('read 4096/4096 bytes' in line, 'interactive client connected')
    r = vm.cmd('block-export-del', {'id': 'exp0'})
    check(r.get('error', {}).get('desc') == "export 'exp0' still in use",
          'safe removal refused while a client is connected')
    r = vm.cmd('nbd-server-remove', {'name': 'exp0', 'mode': 'safe'})
    check(r.get('error', {}).get('desc') == "export 'exp0' still in use",
          'nbd-server-remove safe refused too')
    r = vm.cmd('block-export-del', {'id': 'exp0', 'mode': 'hard'})
    check(r == {'return': {}}, 'hard removal')
    ev = wait_event(vm, 'BLOCK_EXPORT_DELETED')
    check(ev['data'] == {'id': 'exp0'}, 'BLOCK_EXPORT_DELETED after the client was dropped')
    check(vm.cmd('query-block-exports')['return'] == [], 'export gone')
    line = c.run('read 0 4k')
    check('read failed' in line or line == '', 'dropped client gets errors')
    c.close()

    # a removed export's name and id are free again; a read-only export refuses writes
    r = vm.cmd('block-export-add', {'type': 'nbd', 'id': 'exp0', 'node-name': 'disk',
                                    'name': 'disk0'})
    check(r == {'return': {}}, 're-export read-only under the same id')
    rc, out = io(gio, uri(sock, 'disk0'), 'write 0 4k')
    check(rc != 0 and 'NBD export is read-only' in out, 'read-only export refuses a writer')
    rc, out = io(gio, uri(sock, 'disk0'), 'read -P 0x5a 0 1M', ro=True)
    check(rc == 0 and 'Pattern verification failed' not in out, 'read-only export reads')
    rc, out = io(gio, uri(sock, 'nosuch'), 'read 0 1')
    check(rc != 0, 'unknown export name refused')

    # nbd-server-stop drops a connected client and deletes the export
    c = Client(gio, uri(sock, 'disk0'))
    c.run('read 0 4k')
    check(vm.cmd('nbd-server-stop') == {'return': {}}, 'nbd-server-stop with a client')
    ev = wait_event(vm, 'BLOCK_EXPORT_DELETED')
    check(ev['data'] == {'id': 'exp0'}, 'stop deletes the export')
    c.close()
    check(vm.cmd('blockdev-del', {'node-name': 'disk'}) == {'return': {}},
          'blockdev-del after the export is gone')
    cmp = subprocess.run([QEMU_IMG, 'info', img], stdout=subprocess.PIPE).stdout.decode()
    check('file format: qcow2' in cmp, 'image still valid')
    p = subprocess.run([QEMU_IO, '-f', 'qcow2', '-c', 'read -P 0x5a 0 1M', '-c',
                        'read -P 0xa5 32M 64k', img] if QEMU_IO else ['true'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(p.returncode == 0 and b'Pattern verification failed' not in p.stdout,
          'the writes landed in the qcow2 image')


def test_tcp_hmp_bitmaps(d, vm):
    img = os.path.join(d, 'b.qcow2')
    subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', img, '16M'], check=True)
    vm.cmd('blockdev-add', qcow2_node(img, 'bd'))
    r = vm.cmd('nbd-server-start', {'addr': {'type': 'inet', 'data': {'host': '127.0.0.1',
                                                                        'port': '0'}},
                                    'max-connections': 1})
    check(r == {'return': {}}, 'nbd-server-start inet port 0, max-connections 1')
    hmp(vm, 'qemu-io bd "write -P 1 0 64k"')
    vm.cmd('block-dirty-bitmap-add', {'node': 'bd', 'name': 'dirty', 'disabled': True})
    vm.cmd('nbd-server-stop')
    sock = os.path.join(d, 'h.sock')
    check(hmp(vm, 'nbd_server_start unix:' + sock) == '', 'HMP nbd_server_start unix:')
    r = vm.cmd('block-export-add', {'type': 'nbd', 'id': 'b', 'node-name': 'bd',
                                    'bitmaps': ['dirty'], 'allocation-depth': True})
    check(r == {'return': {}}, 'export with a bitmap and allocation depth')
    r = vm.cmd('block-dirty-bitmap-remove', {'node': 'bd', 'name': 'dirty'})
    check('currently in use' in r.get('error', {}).get('desc', ''), 'exported bitmap is busy')
    if QEMU_IMG:
        p = subprocess.run([QEMU_IMG, 'map', '--output=json', '--image-opts',
                            'driver=nbd,server.type=unix,server.path=%s,export=bd,'
                            'x-dirty-bitmap=qemu:allocation-depth' % sock],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        check(p.returncode == 0 and b'"start": 0' in p.stdout, 'qemu-img map reads allocation depth')
    check(hmp(vm, 'nbd_server_remove b') == '', 'HMP nbd_server_remove')
    wait_event(vm, 'BLOCK_EXPORT_DELETED')
    check(hmp(vm, 'nbd_server_add -w bd') == '', 'HMP nbd_server_add -w')
    rc, out = io(tool('godwit-io'), uri(sock, 'bd'), 'write -P 2 64k 64k')
    check(rc == 0 and 'wrote 65536/65536' in out, 'write through the HMP export')
    check(hmp(vm, 'nbd_server_stop') == '', 'HMP nbd_server_stop')
    wait_event(vm, 'BLOCK_EXPORT_DELETED')
    check(hmp(vm, 'nbd_server_stop') == 'Error: NBD server not running\r\n', 'stop twice')


def main():
    if not QEMU_IMG:
        print('SKIP: qemu-img not installed; NBD server tests NOT RUN', file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory(prefix='godwit-nbd-') as d:
        vm = VM(godwit_binary(), ['-machine', 'none', '-nodefaults']).launch()
        try:
            test_export_rw(d, vm, os.path.join(d, 'nbd.sock'))
            test_tcp_hmp_bitmaps(d, vm)
            vm.shutdown()
        finally:
            vm.kill()
    print('%d failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
