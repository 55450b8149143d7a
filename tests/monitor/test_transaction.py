#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# transaction with the dirty-bitmap and backup actions: every action alone, a
# mix that succeeds, mixes whose last action fails (everything rolled back: the
# dirty-bitmaps of query-named-block-nodes and their sha256 unchanged, no job),
# the grouped completion mode, and libvirt's incremental-backup flow
# (transaction [block-dirty-bitmap-add, blockdev-backup sync=full], writes,
# blockdev-backup sync=incremental: the incremental target holds exactly the
# new writes).
#
# The same session runs against Debian's qemu-system-x86_64 when it is there
# (-machine none -accel tcg): the labelled replies, the JOB_STATUS_CHANGE
# sequences and the bitmap states must be equal. Needs qemu-img; exit 77
# without it.
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402
from mon_util import QEMU_IMG, check, failures, img, node   # noqa: E402

QEMU = shutil.which('qemu-system-x86_64')
MiB = 1 << 20


def act(kind, **data):
    return {'type': kind, 'data': data}


class Session:
    """One VM; every labelled result goes to self.log (compared across binaries)."""

    def __init__(self, vm):
        self.vm = vm
        self.log = {}
        self.stash = []

    def rec(self, label, value):
        assert label not in self.log, label
        self.log[label] = value
        return value

    def cmd(self, label, name, args=None):
        r = self.vm.cmd(name, args)
        if 'error' in r:
            r = {'error': {'class': r['error']['class'], 'desc': r['error']['desc']}}
        return self.rec(label, r) if label else r

    def txn(self, label, *actions, grouped=False):
        args = {'actions': list(actions)}
        if grouped:
            args['properties'] = {'completion-mode': 'grouped'}
        return self.cmd(label, 'transaction', args)

    def hmp(self, line):
        return self.vm.cmd('human-monitor-command', {'command-line': line})['return']

    def write(self, spec):
        self.hmp('qemu-io src "write %s"' % spec)

    def bitmaps(self, label=None):
        nodes = self.vm.cmd('query-named-block-nodes')['return']
        bms = [n for n in nodes if n.get('node-name') == 'src'][0].get('dirty-bitmaps', [])
        out = sorted(({k: b[k] for k in ('name', 'count', 'granularity', 'recording', 'busy',
                                          'persistent')} for b in bms),
                     key=lambda b: b['name'])
        for b in out:
            r = self.vm.cmd('x-debug-block-dirty-bitmap-sha256',
                            {'node': 'src', 'name': b['name']})
            b['sha256'] = r.get('return', {}).get('sha256')
        return self.rec(label, out) if label else out

    def jobs(self, label):
        return self.rec(label, self.vm.cmd('query-jobs')['return'])

    def wait_job(self, label, job):
        """The JOB_STATUS_CHANGE sequence of job up to null, plus how it ended."""
        seen, end = [], None
        stash, later = self.stash, []
        self.stash = later
        while True:
            # events of other jobs (a grouped transaction) wait for their turn
            ev = stash.pop(0) if stash else next_event(self.vm.qmp)
            if ev.get('data', {}).get('device', ev.get('data', {}).get('id')) != job:
                later.append(ev)
                continue
            if ev['event'] in ('BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED') and \
                    ev['data']['device'] == job:
                end = {'event': ev['event'], 'len': ev['data']['len'],
                       'error': ev['data'].get('error')}
            if ev['event'] == 'JOB_STATUS_CHANGE' and ev['data']['id'] == job:
                seen.append(ev['data']['status'])
                if ev['data']['status'] == 'null':
                    return self.rec(label, {'statuses': seen, 'end': end})


def next_event(qmp, timeout=15.0):
    """The oldest event, queued or still to come."""
    if qmp.events:
        return qmp.events.pop(0)
    while True:
        msg = qmp.read_message(timeout)
        if 'event' in msg:
            return msg


def run_session(binary, args, d):
    """The whole session on a fresh copy of the images in d; returns the log."""
    src = os.path.join(d, 'src.qcow2')
    for f, size in (('src', '32M'), ('src2', '32M'), ('t1', '32M'), ('t2', '32M'),
                    ('full', '32M')):
        img('create', '-f', 'qcow2', os.path.join(d, f + '.qcow2'), size)
    vm = VM(binary, args).launch()
    try:
        s = Session(vm)
        for f in ('src', 'src2', 't1', 't2', 'full'):
            s.cmd('add ' + f, 'blockdev-add', node(os.path.join(d, f + '.qcow2'), f))
        s.write('-P 1 0 4M')

        # ---- each action alone ----
        s.txn('add', act('block-dirty-bitmap-add', node='src', name='bmA'))
        s.bitmaps('after add')
        s.txn('add again', act('block-dirty-bitmap-add', node='src', name='bmA'))
        s.txn('add bad granularity', act('block-dirty-bitmap-add', node='src', name='bmX',
                                         granularity=1000))
        s.txn('add unknown node', act('block-dirty-bitmap-add', node='nope', name='bmX'))
        s.write('-P 2 0 64k')
        s.txn('disable', act('block-dirty-bitmap-disable', node='src', name='bmA'))
        s.write('-P 2 4M 64k')
        s.bitmaps('after disable')
        s.txn('enable', act('block-dirty-bitmap-enable', node='src', name='bmA'))
        s.write('-P 2 8M 64k')
        s.bitmaps('after enable')
        s.txn('clear', act('block-dirty-bitmap-clear', node='src', name='bmA'))
        s.bitmaps('after clear')
        s.txn('clear unknown bitmap', act('block-dirty-bitmap-clear', node='src', name='zz'))
        s.txn('clear unknown node', act('block-dirty-bitmap-clear', node='nope', name='bmA'))
        s.cmd('add bmB', 'block-dirty-bitmap-add', {'node': 'src', 'name': 'bmB'})
        s.write('-P 3 1M 64k')
        s.txn('clear bmA again', act('block-dirty-bitmap-clear', node='src', name='bmA'))
        s.txn('merge', act('block-dirty-bitmap-merge', node='src', target='bmA',
                           bitmaps=['bmB']))
        s.bitmaps('after merge')
        s.txn('merge unknown source', act('block-dirty-bitmap-merge', node='src',
                                          target='bmA', bitmaps=['bmB', 'zz']))
        s.txn('remove', act('block-dirty-bitmap-remove', node='src', name='bmB'))
        s.txn('remove unknown', act('block-dirty-bitmap-remove', node='src', name='bmB'))
        s.bitmaps('after remove')
        s.txn('blockdev-backup', act('blockdev-backup', **{'job-id': 'j1', 'device': 'src',
                                                           'target': 't1', 'sync': 'full'}))
        s.wait_job('j1', 'j1')
        s.txn('blockdev-backup unknown target',
              act('blockdev-backup', **{'job-id': 'jx', 'device': 'src', 'target': 'nope',
                                        'sync': 'full'}))
        s.txn('drive-backup', act('drive-backup', **{
            'job-id': 'j2', 'device': 'src', 'target': os.path.join(d, 'drive.qcow2'),
            'format': 'qcow2', 'sync': 'full'}))
        s.wait_job('j2', 'j2')
        s.jobs('no jobs after singles')

        # ---- a mix that succeeds ----
        s.write('-P 4 2M 128k')
        s.txn('mix ok',
              act('block-dirty-bitmap-add', node='src', name='bmC', granularity=4096),
              act('block-dirty-bitmap-clear', node='src', name='bmA'),
              act('block-dirty-bitmap-disable', node='src', name='bmA'),
              act('blockdev-backup', **{'job-id': 'j3', 'device': 'src', 'target': 't2',
                                        'sync': 'full'}))
        s.wait_job('j3', 'j3')
        s.write('-P 5 3M 64k')
        s.bitmaps('after mix ok')

        # ---- mixes whose last action fails: nothing changes ----
        s.cmd('enable bmA', 'block-dirty-bitmap-enable', {'node': 'src', 'name': 'bmA'})
        s.write('-P 6 5M 64k')
        s.cmd('add bmE', 'block-dirty-bitmap-add', {'node': 'src', 'name': 'bmE',
                                                    'disabled': True})
        before = s.bitmaps('before failing mix')
        s.txn('mix fails',
              act('block-dirty-bitmap-add', node='src', name='bmD'),
              act('block-dirty-bitmap-merge', node='src', target='bmA', bitmaps=['bmC']),
              act('block-dirty-bitmap-clear', node='src', name='bmC'),
              act('block-dirty-bitmap-disable', node='src', name='bmA'),
              act('block-dirty-bitmap-enable', node='src', name='bmE'),
              act('blockdev-backup', **{'job-id': 'j4', 'device': 'src', 'target': 't2',
                                        'sync': 'full'}),
              act('block-dirty-bitmap-remove', node='src', name='bmC'),
              act('block-dirty-bitmap-clear', node='src', name='missing'))
        s.rec('mix fails: bitmaps unchanged', s.bitmaps() == before)
        s.jobs('mix fails: no job')
        s.txn('mix aborts',
              act('block-dirty-bitmap-clear', node='src', name='bmA'),
              act('block-dirty-bitmap-add', node='src', name='bmF'),
              act('abort'))
        s.rec('mix aborts: bitmaps unchanged', s.bitmaps() == before)
        s.txn('mix fails on backup',
              act('block-dirty-bitmap-clear', node='src', name='bmA'),
              act('blockdev-backup', **{'job-id': 'j5', 'device': 'src', 'target': 't2',
                                        'sync': 'full'}),
              act('blockdev-backup', **{'job-id': 'j5', 'device': 'src2', 'target': 't1',
                                        'sync': 'full'}))
        s.rec('mix fails on backup: bitmaps unchanged', s.bitmaps() == before)
        s.jobs('mix fails on backup: no job')
        s.txn('grouped bitmap refused',
              act('blockdev-backup', **{'job-id': 'j6', 'device': 'src', 'target': 't1',
                                        'sync': 'full'}),
              act('block-dirty-bitmap-add', node='src', name='bmG'), grouped=True)
        s.jobs('grouped refused: no job')
        s.txn('grouped backups',
              act('blockdev-backup', **{'job-id': 'j7', 'device': 'src', 'target': 't1',
                                        'sync': 'full'}),
              act('blockdev-backup', **{'job-id': 'j8', 'device': 'src2', 'target': 't2',
                                        'sync': 'full'}), grouped=True)
        s.wait_job('j7', 'j7')
        s.wait_job('j8', 'j8')

        # ---- incremental backup (libvirt's checkpoint + backup) ----
        s.cmd('remove bmA', 'block-dirty-bitmap-remove', {'node': 'src', 'name': 'bmA'})
        s.txn('checkpoint',
              act('block-dirty-bitmap-add', node='src', name='bm0'),
              act('blockdev-backup', **{'job-id': 'full0', 'device': 'src', 'target': 'full',
                                        'sync': 'full'}))
        s.wait_job('full0', 'full0')
        s.write('-P 7 1M 64k')
        s.write('-P 8 20M 128k')
        s.bitmaps('before incremental')
        inc = os.path.join(d, 'inc.qcow2')
        img('create', '-f', 'qcow2', '-b', os.path.join(d, 'full.qcow2'), '-F', 'qcow2', inc)
        s.cmd('add inc', 'blockdev-add', node(inc, 'inc', backing=None))
        s.cmd('incremental', 'blockdev-backup', {'job-id': 'inc0', 'device': 'src',
                                                 'target': 'inc', 'sync': 'incremental',
                                                 'bitmap': 'bm0'})
        s.wait_job('inc0', 'inc0')
        s.bitmaps('after incremental')
        vm.shutdown()
    finally:
        vm.kill()
    m = subprocess.run([QEMU_IMG, 'map', '--output=json', inc], check=True,
                       capture_output=True, text=True).stdout
    s.rec('inc allocates', [(e['start'], e['length']) for e in json.loads(m)
                            if e['depth'] == 0 and e['data']])
    r = subprocess.run([QEMU_IMG, 'compare', src, inc], capture_output=True, text=True)
    s.rec('inc chain == src', r.returncode)
    return s.log


def err(log, label):
    return log[label].get('error', {}).get('desc')


def bm(log, label, name):
    return [b for b in log[label] if b['name'] == name]


def check_godwit(log):
    ok = {'return': {}}
    check(log['add'] == ok, 'add alone')
    check(bm(log, 'after add', 'bmA') and bm(log, 'after add', 'bmA')[0]['count'] == 0,
          'bmA exists, empty')
    check(err(log, 'add again') == 'Bitmap already exists: bmA', 'add again: exists')
    check(err(log, 'add bad granularity') == 'Granularity must be power of 2 and at least 512',
          'add: granularity')
    check(err(log, 'add unknown node') == "Cannot find device='nope' nor node-name='nope'",
          'add: unknown node')
    check(log['disable'] == ok and not bm(log, 'after disable', 'bmA')[0]['recording'] and
          bm(log, 'after disable', 'bmA')[0]['count'] == 65536, 'disable alone')
    check(log['enable'] == ok and bm(log, 'after enable', 'bmA')[0]['recording'] and
          bm(log, 'after enable', 'bmA')[0]['count'] == 131072, 'enable alone')
    check(log['clear'] == ok and bm(log, 'after clear', 'bmA')[0]['count'] == 0,
          'clear alone')
    check(err(log, 'clear unknown bitmap') == "Dirty bitmap 'zz' not found",
          'clear: unknown bitmap')
    check(err(log, 'clear unknown node') == "Node 'nope' not found", 'clear: unknown node')
    check(log['merge'] == ok and bm(log, 'after merge', 'bmA')[0]['count'] == 65536,
          'merge alone')
    check(err(log, 'merge unknown source') == "Dirty bitmap 'zz' not found",
          'merge: unknown source')
    check(log['remove'] == ok and not bm(log, 'after remove', 'bmB'), 'remove alone')
    check(err(log, 'remove unknown') == "Dirty bitmap 'bmB' not found", 'remove: unknown')
    # QEMU's transaction drains the source until the end: paused/running at the start
    full_run = ['created', 'running', 'paused', 'running', 'waiting', 'pending', 'concluded',
                'null']
    for j in ('j1', 'j2', 'j3', 'j7', 'j8', 'full0'):
        check(log[j]['statuses'] == full_run and log[j]['end']['event'] ==
              'BLOCK_JOB_COMPLETED' and not log[j]['end']['error'] and
              log[j]['end']['len'] == 32 * MiB, 'backup %s runs to completion (%r)' %
              (j, log[j]))
    check(log['blockdev-backup'] == ok and log['drive-backup'] == ok, 'backups alone')
    check(err(log, 'blockdev-backup unknown target') ==
          "Cannot find device='nope' nor node-name='nope'", 'blockdev-backup: unknown target')
    check(log['no jobs after singles'] == [], 'no jobs left')
    check(log['mix ok'] == ok, 'mix succeeds')
    c = bm(log, 'after mix ok', 'bmC')
    a = bm(log, 'after mix ok', 'bmA')
    check(c and c[0]['granularity'] == 4096 and c[0]['count'] == 4096 * 16, 'mix: bmC added')
    check(a and a[0]['count'] == 0 and not a[0]['recording'], 'mix: bmA cleared, disabled')
    check(err(log, 'mix fails') == "Dirty bitmap 'missing' not found", 'mix fails last')
    check(log['mix fails: bitmaps unchanged'], 'mix fails: bitmaps unchanged')
    check(log['mix fails: no job'] == [], 'mix fails: no job')
    check(err(log, 'mix aborts') == 'Transaction aborted using Abort action', 'abort action')
    check(log['mix aborts: bitmaps unchanged'], 'abort: bitmaps unchanged')
    check(err(log, 'mix fails on backup') == "Job ID 'j5' already in use" and
          log['mix fails on backup: bitmaps unchanged'] and
          log['mix fails on backup: no job'] == [], 'duplicate job id: rolled back (%r)' %
          log['mix fails on backup'])
    check(err(log, 'grouped bitmap refused') ==
          "Action 'block-dirty-bitmap-add' does not support Transaction property "
          "completion-mode = grouped", 'grouped: bitmap action refused')
    check(log['grouped refused: no job'] == [], 'grouped refused: no job')
    check(log['grouped backups'] == ok, 'grouped backups')
    check(log['checkpoint'] == ok, 'checkpoint transaction')
    check(bm(log, 'before incremental', 'bm0')[0]['count'] == 196608,
          'bm0 holds the new writes')
    check(log['incremental'] == ok and log['inc0']['end']['len'] == 196608 and
          log['inc0']['statuses'] == full_run,
          'incremental copies 192k (%r)' % log['inc0'])
    check(bm(log, 'after incremental', 'bm0')[0]['count'] == 0, 'bm0 cleared on success')
    check(log['inc allocates'] == [(MiB, 65536), (20 * MiB, 131072)],
          'incremental target holds exactly the new writes (%r)' % log['inc allocates'])
    check(log['inc chain == src'] == 0, 'full + incremental == source')


def main():
    if not QEMU_IMG or not os.path.exists(godwit_binary()):
        print('SKIP: needs qemu-img and godwit')
        return 77
    logs = {}
    with tempfile.TemporaryDirectory() as d:
        try:
            logs['godwit'] = run_session(godwit_binary(), ['-machine', 'none', '-accel',
                                                           'qtest', '-nodefaults'], d)
            check_godwit(logs['godwit'])
        except Exception as e:      # noqa: BLE001
            check(False, 'godwit session raised %r' % e)
    if QEMU and 'godwit' in logs:
        with tempfile.TemporaryDirectory() as d:
            try:
                q = run_session(QEMU, ['-machine', 'none', '-accel', 'tcg', '-nodefaults',
                                        '-display', 'none'], d)
            except Exception as e:      # noqa: BLE001
                check(False, 'qemu session raised %r' % e)
                q = None
        if q is not None:
            g = logs['godwit']
            for k in q:
                check(q[k] == g.get(k), 'same as QEMU: %s' % k +
                      ('' if q[k] == g.get(k) else ' (qemu %r, godwit %r)' % (q[k], g.get(k))))
    else:
        print('(no qemu-system-x86_64: differential part skipped)')
    print('%d failures' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
