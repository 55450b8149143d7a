#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Differential test of the block monitor: the same sessions against Debian's
qemu-system-x86_64 (7.2, -machine none) and against godwit, on freshly made
images each time. After normalising timestamps, the version package, the
qemu-io timing line, auto node names (#blockNNN) and actual-size, the replies
(and what the processes print on stdout/stderr) must be identical.

Covered: -drive (if=none/default, format, cache, aio, discard, detect-zeroes,
readonly, rerror/werror, node-name, file.*, blkdebug: filenames, null-co, the
error texts), -blockdev (dotted and JSON), query-block, query-named-block-nodes,
blockdev-add/del with errors, block_resize, HMP info block (-n, -v, device),
HMP qemu-io (output on stdout, reply ""), block_resize and error paths,
blockdev-snapshot(-sync) and transaction errors that need no qcow2.
Known difference left out: a node whose child was given by reference
(blockdev-add blkdebug image=NODE) gets json:{"image": "NODE"} as filename;
QEMU expands the child's options there (block core's refresh_filename).
Skips (exit 77) when qemu-system-x86_64 is missing."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import godwit_binary   # noqa: E402


def hmp(line):
    return ('{"execute": "human-monitor-command", "arguments": {"command-line": %s}}'
            % _json_str(line))


def _json_str(s):
    import json
    return json.dumps(s)


def qmp(cmd, **args):
    import json
    if args:
        return json.dumps({'execute': cmd, 'arguments': args})
    return json.dumps({'execute': cmd})


def block_session(d):
    a, b = os.path.join(d, 'a.img'), os.path.join(d, 'b.img')
    return [
        qmp('qmp_capabilities'),
        qmp('query-block'),
        qmp('query-named-block-nodes'),
        qmp('blockdev-add', driver='file', **{'node-name': 'f1', 'filename': b}),
        qmp('blockdev-add', driver='raw', **{'node-name': 'r1', 'file': 'f1'}),
        qmp('blockdev-add', driver='null-co', **{'node-name': 'n1', 'size': 4096}),
        qmp('blockdev-add', driver='null-co', **{'node-name': 'n2', 'read-zeroes': True,
                                                 'detect-zeroes': 'on'}),
        qmp('blockdev-add', driver='raw', **{'node-name': 'r1', 'file': 'f1'}),
        qmp('blockdev-add', driver='raw', **{'node-name': 'r2', 'read-only': True,
                                             'file': {'driver': 'file', 'filename': a}}),
        qmp('query-named-block-nodes', flat=True),
        qmp('query-named-block-nodes'),
        hmp('info block'),
        hmp('info block -n'),
        hmp('info block -v'),
        hmp('info block drive0'),
        hmp('info block r1'),
        hmp('info block nosuch'),
        hmp('qemu-io drive0 "write -P 1 0 4k"'),
        hmp('qemu-io drive0 "read -P 1 0 4k"'),
        hmp('qemu-io r1 "read -P 0 0 4k"'),
        hmp('qemu-io n1 "read -P 0 0 4k"'),
        hmp('qemu-io nosuch "read 0 1"'),
        hmp('qemu-io drive0 "bogus"'),
        hmp('qemu-io drive0 "read 0 1" extra'),
        hmp('qemu-io drive0 read'),
        qmp('block_resize', device='drive0', size=2097152),
        qmp('block_resize', **{'node-name': 'r1', 'size': 4194304}),
        qmp('block_resize', **{'node-name': 'nope', 'size': 4194304}),
        qmp('block_resize', size=4194304),
        qmp('block_resize', device='drive0', size=-1),
        qmp('block_resize', device='drive0'),
        qmp('block_resize', device='drive0', size='big'),
        hmp('block_resize drive0 3'),
        hmp('block_resize nosuch 4'),
        qmp('query-block'),
        qmp('blockdev-snapshot-sync', device='nodev', **{'snapshot-file': d + '/s.qcow2'}),
        qmp('blockdev-snapshot-sync', device='drive0', format='raw',
            **{'snapshot-file': d + '/s.raw'}),
        qmp('blockdev-snapshot-sync', **{'node-name': 'drive0', 'snapshot-file': d + '/s'}),
        qmp('blockdev-snapshot-sync', device='drive0', format='nosuch',
            **{'snapshot-file': d + '/s.qcow2'}),
        qmp('blockdev-snapshot', node='drive0', overlay='r1'),
        qmp('blockdev-snapshot', node='drive0', overlay='nope'),
        qmp('blockdev-snapshot', node='nope', overlay='r1'),
        qmp('blockdev-snapshot', node='drive0', overlay='drive0'),
        qmp('transaction', actions=[{'type': 'abort', 'data': {}}]),
        qmp('transaction', actions=[]),
        qmp('transaction', actions=[{'type': 'blockdev-snapshot-sync',
                                     'data': {'device': 'drive0', 'snapshot-file': d + '/s'}}],
            properties={'completion-mode': 'grouped'}),
        qmp('transaction', actions=[{'type': 'blockdev-snapshot',
                                     'data': {'node': 'drive0', 'overlay': 'r1'}},
                                    {'type': 'abort', 'data': {}}]),
        qmp('transaction', actions=[{'type': 'bogus', 'data': {}}]),
        hmp('snapshot_blkdev drive0'),
        hmp('snapshot_blkdev nosuch ' + d + '/s.qcow2'),
        hmp('commit nosuch'),
        qmp('blockdev-del', **{'node-name': 'f1'}),
        qmp('blockdev-del', **{'node-name': 'r1'}),
        qmp('blockdev-del', **{'node-name': 'r1'}),
        qmp('blockdev-del', **{'node-name': 'f1'}),
        qmp('blockdev-del', **{'node-name': 'n1'}),
        qmp('blockdev-add', driver='raw', **{'node-name': 'r3'}),
        qmp('blockdev-add', driver='nosuch', **{'node-name': 'r3'}),
        qmp('blockdev-add', driver='file', **{'node-name': 'r3', 'filename': '/nonexist'}),
        qmp('blockdev-add', driver='file', filename=b),
        qmp('blockdev-add', driver='file', filename=b, **{'node-name': 'x', 'bogus': 1}),
        qmp('blockdev-add', driver='file', filename=b, **{'node-name': 'x', 'aio': 'bad'}),
        qmp('blockdev-add', driver='file', filename=7, **{'node-name': 'x'}),
        qmp('blockdev-add', driver='raw', file='nosuchnode', **{'node-name': 'x'}),
        qmp('blockdev-add', driver='raw', file='nosuch2', **{'node-name': 'x'}),
        qmp('blockdev-add', driver='null-co', **{'node-name': 'drive0'}),
        qmp('blockdev-add', driver='null-co', **{'node-name': 'bad!name'}),
        qmp('blockdev-add', driver='blkdebug', **{'node-name': 'dbg',
                                                  'image': {'driver': 'null-co'}}),
        qmp('query-named-block-nodes'),
        qmp('blockdev-del', **{'node-name': 'n2'}),
        qmp('blockdev-del', **{'node-name': 'dbg'}),
        qmp('blockdev-del', **{'node-name': 'n2'}),
        qmp('query-named-block-nodes', flat=True),
        qmp('quit'),
    ]


DRIVES = [
    'file=A,format=raw',
    'file=A,if=none,format=nosuch',
    'if=none,id=x',
    'file=D/nonexist,if=none,format=raw',
    'file=A,if=none,format=raw,cache=bogus',
    'file=A,if=none,format=raw,aio=bogus',
    'file=A,if=none,format=raw,rerror=bogus',
    'file=A,if=none,format=raw,rerror=enospc',
    'file=A,if=none,format=raw,werror=auto',
    'file=A,if=none,format=raw,werror=stop,rerror=ignore',
    'file=A,if=none,format=raw,bogus=1',
    'file=A,if=none,format=raw,readonly=on,id=d,node-name=n,discard=unmap,'
    'detect-zeroes=unmap,cache=none',
    'file=A,if=none,format=raw,cache=writethrough',
    'file=A,if=none,format=raw,cache=unsafe',
    'file=A,if=none,format=raw,cache=directsync,aio=native',
    'file=A,if=bogus',
    'file=blkdebug::A,if=none,format=raw',
    'if=none,driver=null-co,read-zeroes=on',
    'file=A,if=none,format=raw,file.locking=off,id=z',
    'file=A,if=none,format=raw,detect-zeroes=bad',
    'file=A,if=none,format=raw,discard=bad',
    'file=A,if=none,format=raw,readonly=bad',
    'file=A,if=none,format=raw,id=a,node-name=a',
    'file=A,if=none,format=raw,id=bad!id',
    'file=A,if=none,driver=raw',
    'file=A,if=none,format=raw,backing.node-name=x',
    'file=A,if=none,format=raw,file.driver=file,file.node-name=ff,node-name=top',
]

BLOCKDEVS = [
    'driver=file,node-name=f0,filename=A',
    'driver=raw,node-name=r0,file.driver=file,file.filename=A',
    'driver=null-co,node-name=n0,size=1M',
    'driver=file,filename=A',
    'driver=nosuch,node-name=x',
    'driver=null-co,node-name=n0,size=1M',
    'driver=null-co,node-name=n0,size=4096,read-zeroes=on',
    'driver=null-co,node-name=n0,read-zeroes=maybe',
    '{"driver": "null-co", "node-name": "n0", "size": 8192, "read-zeroes": true}',
    '{"driver": "raw", "node-name": "r0", "file": {"driver": "file", "filename": "A"}}',
    '{"driver": "raw", "node-name": "r0"}',
    '{"driver": "file", "node-name": "f0", "filename": "A", "bogus": 1}',
]


def normalise(text, d):
    text = text.replace(d.encode(), b'DIR')
    text = re.sub(rb'"(seconds|microseconds)": \d+', rb'"\1": N', text)
    text = re.sub(rb'"package": "[^"]*"', b'"package": "PKG"', text)
    text = re.sub(rb'#block\d+', b'#blockN', text)
    text = re.sub(rb'"actual-size": \d+', b'"actual-size": N', text)
    text = re.sub(rb'disk size: [^\r\n]*', b'disk size: N', text)
    text = re.sub(rb'\d+ ops; [^\n]*\(.*\)', b'X ops; TIMING', text)
    text = re.sub(rb'^\S*(godwit|qemu-system-x86_64): ', b'PROG: ', text, flags=re.M)
    return text


def fresh_images(d):
    for name, size in (('a.img', 1 << 20), ('b.img', 2 << 20)):
        p = os.path.join(d, name)
        with open(p, 'wb') as f:
            f.truncate(size)
        with open(p, 'r+b') as f:       # 4 KiB allocated, so actual-size is stable
            f.write(b'\0' * 4096)
    for name in os.listdir(d):
        if name.startswith('s'):
            os.unlink(os.path.join(d, name))


def run(binary, args, data, d):
    fresh_images(d)
    argv = [binary, '-machine', 'none', '-nodefaults', '-display', 'none'] + args
    p = subprocess.run(argv, input=data.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return normalise(p.stdout, d) + b'exit %d\n' % p.returncode


def main():
    qemu = shutil.which('qemu-system-x86_64')
    if not qemu:
        print('SKIP: qemu-system-x86_64 not installed; differential test NOT RUN',
              file=sys.stderr)
        return 77
    godwit = godwit_binary()
    cases = []
    with tempfile.TemporaryDirectory(prefix='godwit-blkdiff-') as d:
        a = os.path.join(d, 'a.img')
        session = '\n'.join(block_session(d)) + '\n'
        cases.append(('block session', ['-qmp', 'stdio', '-drive',
                                        'if=none,id=drive0,file=%s,format=raw' % a],
                      session))
        probe = '\n'.join([qmp('qmp_capabilities'), qmp('query-block'),
                           qmp('query-named-block-nodes'), hmp('info block -n'),
                           qmp('quit')]) + '\n'
        for opt, items in (('-drive', DRIVES), ('-blockdev', BLOCKDEVS)):
            for item in items:
                arg = item.replace('D/', d + '/').replace('A', a) if opt == '-drive' \
                    else item.replace('"A"', '"%s"' % a).replace('=A', '=' + a)
                cases.append((opt + ' ' + item, ['-qmp', 'stdio', opt, arg], probe))
        cases.append(('-drive format=help', ['-drive', 'format=help'], ''))
        failed = 0
        for name, args, data in cases:
            want = run(qemu, args, data, d)
            got = run(godwit, args, data, d)
            if name == '-drive format=help':
                # we list the drivers we have; only the shape must match
                want = re.sub(rb': [^\n]*', b': LIST', want)
                got = re.sub(rb': [^\n]*', b': LIST', got)
            if want != got:
                failed += 1
                print('DIFFERENT: %s' % name)
                wl, gl = want.splitlines(), got.splitlines()
                for i in range(max(len(wl), len(gl))):
                    w = wl[i] if i < len(wl) else b'<none>'
                    g = gl[i] if i < len(gl) else b'<none>'
                    if w != g:
                        print('  qemu:   %s' % w.decode(errors='replace')[:600])
                        print('  godwit: %s' % g.decode(errors='replace')[:600])
            else:
                print('same: %s' % name)
    print('%d of %d cases differ' % (failed, len(cases)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
