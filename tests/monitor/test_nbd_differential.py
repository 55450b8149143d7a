#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Differential test of the NBD server's monitor commands: one deterministic
session (no NBD client ever connects) against Debian's qemu-system-x86_64 7.2
(-machine none) and against godwit. After normalising timestamps, the version
package and the temporary directory, the replies and events must be identical.

Covered: nbd-server-start (unix and inet, the addr.data wrapper, tls-creds,
max-connections and its range), nbd-server-stop with its BLOCK_EXPORT_DELETED
events, block-export-add (ids, names, descriptions, writable on read-only
nodes, bitmaps by name and by {node, name}, their errors, allocation-depth,
writethrough), query-block-exports (newest first), block-export-del,
blockdev-del of an exported node, bitmap removal while exported, the
deprecated nbd-server-add/-remove, and HMP nbd_server_start/add/remove/stop
(-a, -w, -f, help, parse errors).
Known differences left out: the fuse, vhost-user-blk and vduse-blk export
types (we build none of them, so 'type' rejects them) and vsock addresses.
Skips (exit 77) when qemu-system-x86_64 is missing."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import godwit_binary   # noqa: E402


def qmp(cmd, **args):
    return json.dumps({'execute': cmd, 'arguments': args} if args else {'execute': cmd})


def hmp(line):
    return qmp('human-monitor-command', **{'command-line': line})


def unix(path):
    return {'type': 'unix', 'data': {'path': path}}


def session(d):
    sock = d + '/nbd.sock'
    long_name = 'n' * 4097
    bea = lambda i, node, **kw: qmp('block-export-add', type='nbd', id=i,  # noqa: E731
                                   **dict({'node-name': node}, **kw))
    return [
        qmp('qmp_capabilities'),
        qmp('nbd-server-stop'),
        qmp('nbd-server-add', device='drive0'),
        bea('e0', 'drive0'),
        bea('e2', 'ro', writable=True),
        bea('bad id', 'nosuch'),
        bea('e2', 'nosuch'),
        qmp('query-block-exports'),
        qmp('nbd-server-start', addr=unix(sock)),
        qmp('nbd-server-start', addr=unix(sock)),
        qmp('nbd-server-start', addr={'type': 'unix', 'path': sock}),
        bea('e0', 'drive0'),
        bea('e0', 'drive0'),
        bea('e1', 'drive0'),
        bea('e1', 'drive0', name='x', writable=True),
        bea('e2', 'ro', writable=True),
        bea('e2', 'nosuch'),
        bea('e2', 'ro', bitmaps=['nob']),
        qmp('block-dirty-bitmap-add', node='ro', name='b1'),
        qmp('block-dirty-bitmap-add', node='drive0', name='b2'),
        bea('e2', 'drive0', name='y', bitmaps=['b2']),
        bea('e3', 'ro', bitmaps=['b1']),
        bea('e3', 'drive0', name='z', bitmaps=[{'node': 'ro', 'name': 'b1'}], writable=True),
        bea('e4', 'drive0', name='w', bitmaps=[{'node': 'ro', 'name': 'nob'}]),
        bea('e4', 'drive0', name='w', bitmaps=[{'node': 'nonode', 'name': 'b1'}]),
        bea('bad id', 'drive0', name='v'),
        bea('e5', 'drive0', name='v', description='hello', writethrough=True,
            **{'allocation-depth': True}),
        bea('e6', 'drive0', name=long_name),
        bea('e6', 'drive0', name='u', description=long_name),
        bea('e6', 'drive0', name=''),
        bea('e7', 'drive0', name='t', bogus=1),
        qmp('block-export-add', type='nbd', **{'node-name': 'drive0'}),
        qmp('block-dirty-bitmap-add', node='drive0', name='b3', disabled=True),
        bea('e8', 'drive0', name='s', bitmaps=['b3']),
        qmp('block-dirty-bitmap-remove', node='drive0', name='b3'),
        qmp('query-named-block-nodes', flat=True),
        qmp('query-block-exports'),
        qmp('block-dirty-bitmap-remove', node='drive0', name='b2'),
        qmp('blockdev-del', **{'node-name': 'drive0'}),
        qmp('nbd-server-add', device='drive0'),
        qmp('nbd-server-add', device='ro', name='r', writable=True, description='d'),
        qmp('nbd-server-add', device='nosuch'),
        qmp('nbd-server-add', device='drive0', name='q', bitmap='b2'),
        qmp('nbd-server-add', device='drive0', name='q2', bitmap='nob'),
        qmp('query-block-exports'),
        qmp('nbd-server-remove', name='nosuch'),
        qmp('nbd-server-remove', name='r'),
        qmp('nbd-server-remove', name='q', mode='hard'),
        qmp('nbd-server-remove', name='e6', mode='bogus'),
        qmp('block-export-del', id='nosuch'),
        qmp('block-export-del', id='e5'),
        qmp('block-export-del', id='e5'),
        qmp('block-export-del', id='drive0'),
        qmp('block-export-del', id='e6', mode='hard'),
        qmp('block-export-del', id='e8'),
        qmp('block-dirty-bitmap-remove', node='drive0', name='b3'),
        qmp('query-block-exports'),
        hmp('nbd_server_stop'),
        hmp('nbd_server_stop'),
        qmp('block-dirty-bitmap-remove', node='drive0', name='b2'),
        qmp('blockdev-del', **{'node-name': 'drive0'}),
        hmp('help nbd_server_start'),
        hmp('help nbd_server_add'),
        hmp('help nbd_server_remove'),
        hmp('help nbd_server_stop'),
        hmp('nbd_server_start'),
        hmp('nbd_server_start bogus'),
        hmp('nbd_server_add'),
        hmp('nbd_server_remove'),
        hmp('nbd_server_start unix:' + d + '/h.sock'),
        hmp('nbd_server_add -w f0'),
        hmp('nbd_server_add f0 other'),
        hmp('nbd_server_add -w ro ro2'),
        hmp('nbd_server_add nosuch'),
        hmp('nbd_server_remove nosuch'),
        hmp('nbd_server_remove -f other'),
        qmp('query-block-exports'),
        hmp('nbd_server_start -a -w unix:' + d + '/h2.sock'),
        qmp('nbd-server-stop'),
        hmp('nbd_server_start -a -w unix:' + d + '/h2.sock'),
        qmp('query-block-exports'),
        hmp('nbd_server_add dev0'),
        hmp('nbd_server_remove dev0'),
        hmp('nbd_server_add dev0 d2'),
        qmp('query-block-exports'),
        qmp('nbd-server-stop'),
        hmp('nbd_server_start 127.0.0.1:0'),
        qmp('nbd-server-stop'),
        qmp('nbd-server-start', addr={'type': 'inet', 'data': {'host': '127.0.0.1', 'port': '0'}},
            **{'tls-creds': 'x'}),
        qmp('nbd-server-start', addr=unix('/nonexistent/x.sock')),
        qmp('nbd-server-start', addr=unix(sock), **{'max-connections': -1}),
        qmp('nbd-server-start', addr=unix(sock), **{'max-connections': 1 << 32}),
        qmp('nbd-server-start', addr={'type': 'bogus', 'data': {}}),
        qmp('nbd-server-start', addr={'type': 'inet', 'data': {'host': '127.0.0.1'}}),
        qmp('nbd-server-start', addr={'type': 'inet', 'data': {'host': '127.0.0.1',
                                                               'port': '0'}},
            **{'max-connections': 2}),
        bea('e0', 'f0'),
        qmp('query-block-exports'),
        qmp('nbd-server-stop'),
        qmp('quit'),
    ]


def normalise(text, d):
    text = text.replace(d.encode(), b'DIR')
    text = re.sub(rb'"(seconds|microseconds)": \d+', rb'"\1": N', text)
    text = re.sub(rb'"package": "[^"]*"', b'"package": "PKG"', text)
    text = re.sub(rb'#block\d+', b'#blockN', text)
    return text


def run(binary, d):
    img = os.path.join(d, 'a.img')
    img2 = os.path.join(d, 'b.img')
    for path in (img, img2):
        with open(path, 'wb') as f:
            f.truncate(1 << 20)
    for name in os.listdir(d):
        if name.endswith('.sock'):
            os.unlink(os.path.join(d, name))
    argv = [binary, '-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', 'stdio',
            '-blockdev', 'driver=file,node-name=f0,filename=' + img,
            '-blockdev', 'driver=raw,node-name=drive0,file=f0',
            '-blockdev', 'driver=null-co,node-name=ro,read-only=on',
            '-drive', 'if=none,id=dev0,format=raw,file=' + img2]
    data = '\n'.join(session(d)) + '\n'
    p = subprocess.run(argv, input=data.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return normalise(p.stdout, d) + b'exit %d\n' % p.returncode


def main():
    qemu = shutil.which('qemu-system-x86_64')
    if not qemu:
        print('SKIP: qemu-system-x86_64 not installed; NBD differential test NOT RUN',
              file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory(prefix='godwit-nbddiff-') as d:
        want = run(qemu, d).splitlines()
        got = run(godwit_binary(), d).splitlines()
    cmds = ['<greeting>'] + session('DIR')
    failed = 0
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else b'<none>'
        g = got[i] if i < len(got) else b'<none>'
        if w != g:
            failed += 1
            print('line %d differs' % (i + 1))
            print('  qemu:   %s' % w.decode(errors='replace')[:400])
            print('  godwit: %s' % g.decode(errors='replace')[:400])
    print('%d lines compared (%d commands), %d differ' % (len(want), len(cmds), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
