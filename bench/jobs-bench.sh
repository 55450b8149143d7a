#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# jobs-bench.sh: block jobs of godwit against Debian's qemu-system-x86_64, the
# two programs alternating round by round on the same files (same page cache).
# Both run as `-machine none -nodefaults` (QEMU with -accel tcg, godwit with
# -accel qtest: no vCPU runs) with QMP on a socket; the time is taken from
# sending the job command to the job's event.
#
#  stream    block-stream of top <- base: base a fully written 1 GiB qcow2, top an
#            empty overlay (recreated each round), cache=none on every node.
#            Time to BLOCK_JOB_COMPLETED.
#  mirror    blockdev-mirror sync=full of a fully written 2 GiB qcow2 into an empty
#            qcow2 (recreated each round), cache=none. Time to BLOCK_JOB_READY.
#  writer    convergence under a continuous writer: a mirror of a 256 MiB image is
#            READY, its speed is cut to 4 MiB/s, a writer issues HMP
#            `qemu-io NODE "aio_write ..."` of 1 MiB at scattered offsets back to
#            back, and after 1 s block-job-complete is sent. Prints the time to
#            BLOCK_JOB_COMPLETED, or "never" when it did not come within 10 s
#            (the writer dirties faster than the capped background copy), for
#            copy-mode background and write-blocking.
#
# For stream and mirror it prints the median of each program (MB/s, 1 MB =
# 10^6 bytes) and the ratio godwit/QEMU (above 1.00: godwit is faster), then a
# "device ceiling" line: the same-size copy done without any block layer, and
# each program's fraction of it. A copy reads one file and writes another on the
# same disk, so a fraction near 1.00 means the disk, not the job, sets the pace
# (then no change to the job can reach a much higher ratio). The ceiling is
# measured in every round next to the programs, in rotating order: the disk is
# shared and its speed drifts.
#   fio  two concurrent jobs, 1 MiB O_DIRECT sequential reads of the source file
#        (stream: base.qcow2, mirror: src.qcow2) and writes of a fresh file, libaio
#        QD16 each. fio preallocates the file, so file growth does not hold the
#        writes back as it does for the qcow2 targets. The copy rate is
#        min(read, write): the copy ends when the slower side does.
#   dd   without fio: `dd bs=1M iflag=direct oflag=direct` copying the same bytes
#        of the source file into a fresh file (one request at a time, reads and
#        writes alternating).
#
# Usage: bench/jobs-bench.sh [-b BUILD_DIR] [-n ROUNDS] [-s stream|mirror|writer]
# (fio is optional; the ceiling falls back to dd without it)
#   -b  build directory holding system/godwit (default: build)
#   -n  rounds per configuration (default 5)
#   -s  run only one section
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
rounds=5
only=

while getopts "b:n:s:" opt; do
    case $opt in
    b) build=$OPTARG ;;
    n) rounds=$OPTARG ;;
    s) only=$OPTARG ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2 ;;
    esac
done

ours=$build/system/godwit
ref=${QEMU_SYSTEM:-qemu-system-x86_64}
[ -x "$ours" ] || { echo "no $ours: build first (ninja -C $build)" >&2; exit 1; }
command -v "$ref" >/dev/null || { echo "no $ref in PATH" >&2; exit 1; }
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null ||
    { echo "needs qemu-img and qemu-io" >&2; exit 1; }

# /var/tmp rather than /tmp: O_DIRECT needs a real file system, not tmpfs.
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/jobs-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

OURS=$ours REF=$(command -v "$ref") ROUNDS=$rounds ONLY=$only TMP=$tmp \
    PYTHONPATH=$src/tests exec python3 - <<'EOF'
import json, os, random, statistics, subprocess, sys, time
from qmp import VM

ours, ref, tmp = os.environ['OURS'], os.environ['REF'], os.environ['TMP']
rounds, only = int(os.environ['ROUNDS']), os.environ['ONLY']
progs = [('godwit', ours), ('qemu', ref)]
GiB = 1 << 30
have_fio = subprocess.run(['sh', '-c', 'command -v fio'], stdout=subprocess.DEVNULL).returncode == 0


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def launch(binary):
    # godwit has no TCG; with -machine none no vCPU runs either way
    accel = 'tcg' if binary == ref else 'qtest'
    extra = ['-display', 'none'] if binary == ref else []
    return VM(binary, ['-machine', 'none', '-accel', accel, '-nodefaults'] + extra).launch()


def node(name, path, backing=None):
    n = {'driver': 'qcow2', 'node-name': name, 'cache': {'direct': True},
         'file': {'driver': 'file', 'filename': path, 'cache': {'direct': True}}}
    if backing is not None:
        n['backing'] = backing
    return n


def ok(r, what):
    if 'error' in r:
        sys.exit('%s: %s' % (what, r['error']['desc']))


def stream_once(binary):
    top = os.path.join(tmp, 'top.qcow2')
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', top)
    vm = launch(binary)
    try:
        ok(vm.cmd('blockdev-add', node('top', top, node('base', os.path.join(tmp, 'base.qcow2')))),
           'blockdev-add')
        t = time.monotonic()
        ok(vm.cmd('block-stream', {'job-id': 's', 'device': 'top'}), 'block-stream')
        ev = vm.qmp.event_wait('BLOCK_JOB_COMPLETED', timeout=300)
        dt = time.monotonic() - t
        if 'error' in ev['data']:
            sys.exit('stream failed: %s' % ev['data']['error'])
        vm.shutdown()
    finally:
        vm.kill()
    return GiB / dt / 1e6


def mirror_once(binary):
    tgt = os.path.join(tmp, 'tgt.qcow2')
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', tgt, '2G')
    vm = launch(binary)
    try:
        ok(vm.cmd('blockdev-add', node('src', os.path.join(tmp, 'src.qcow2'))), 'blockdev-add')
        ok(vm.cmd('blockdev-add', node('tgt', tgt)), 'blockdev-add')
        t = time.monotonic()
        ok(vm.cmd('blockdev-mirror', {'job-id': 'm', 'device': 'src', 'target': 'tgt',
                                      'sync': 'full'}), 'blockdev-mirror')
        vm.qmp.event_wait('BLOCK_JOB_READY', timeout=300)
        dt = time.monotonic() - t
        ok(vm.cmd('block-job-cancel', {'device': 'm'}), 'block-job-cancel')
        vm.qmp.event_wait('BLOCK_JOB_COMPLETED', timeout=60)
        vm.shutdown()
    finally:
        vm.kill()
    return 2 * GiB / dt / 1e6


def writer_once(binary, mode):
    tgt = os.path.join(tmp, 'wtgt.qcow2')
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', tgt, '256M')
    vm = launch(binary)
    rng = random.Random(1)
    try:
        ok(vm.cmd('blockdev-add', node('src', os.path.join(tmp, 'wsrc.qcow2'))), 'blockdev-add')
        ok(vm.cmd('blockdev-add', node('tgt', tgt)), 'blockdev-add')
        ok(vm.cmd('blockdev-mirror', {'job-id': 'm', 'device': 'src', 'target': 'tgt',
                                      'sync': 'full', 'copy-mode': mode}), 'blockdev-mirror')
        vm.qmp.event_wait('BLOCK_JOB_READY', timeout=60)
        ok(vm.cmd('block-job-set-speed', {'device': 'm', 'speed': 4 << 20}), 'set-speed')
        start = time.monotonic()
        sent_complete = None
        writes = 0
        while True:
            now = time.monotonic()
            if sent_complete is None and now - start >= 1:
                ok(vm.cmd('block-job-complete', {'device': 'm'}), 'block-job-complete')
                sent_complete = now
            if sent_complete is not None:
                if any(e['event'] == 'BLOCK_JOB_COMPLETED' for e in vm.qmp.events):
                    res = '%.2f s' % (now - sent_complete)
                    break
                if now - sent_complete > 10:
                    jobs = vm.cmd('query-block-jobs')['return']
                    res = 'never (%d MiB behind)' % ((jobs[0]['len'] - jobs[0]['offset']) >> 20
                                                     if jobs else 0)
                    break
            off = rng.randrange(0, 256) << 20
            vm.cmd('human-monitor-command',
                   {'command-line': 'qemu-io src "aio_write -q -P %d %d 1M"' % (writes & 0xff, off)})
            writes += 1
        rate = writes / (time.monotonic() - start)
        if res.startswith('never'):
            ok(vm.cmd('block-job-cancel', {'device': 'm', 'force': True}), 'cancel')
            vm.qmp.event_wait('BLOCK_JOB_CANCELLED', timeout=60)
        vm.shutdown()
    finally:
        vm.kill()
    return res, rate


def ceiling_fio(src, size, out):
    common = ['--bs=1M', '--direct=1', '--ioengine=libaio', '--iodepth=16', '--size=%d' % size]
    res = os.path.join(tmp, 'fio.json')
    sh('fio', '--output-format=json', '--output=' + res,
       '--name=read', '--filename=' + src, '--rw=read', *common,
       '--name=write', '--filename=' + out, '--rw=write', '--fallocate=native', *common)
    with open(res) as f:
        jobs = {j['jobname']: j for j in json.load(f)['jobs']}
    return min(jobs['read']['read']['bw_bytes'], jobs['write']['write']['bw_bytes']) / 1e6


def ceiling_dd(src, size, out):
    t = time.monotonic()
    sh('dd', 'if=' + src, 'of=' + out, 'bs=1M', 'count=%d' % (size >> 20),
       'iflag=direct', 'oflag=direct', 'status=none')
    return size / (time.monotonic() - t) / 1e6


def ceiling(src, size):
    """MB/s of a plain copy of size bytes of src into a fresh file."""
    out = os.path.join(tmp, 'ceiling.out')
    try:
        return (ceiling_fio if have_fio else ceiling_dd)(src, size, out)
    finally:
        os.unlink(out)


def median_report(label, results):
    med = {p: statistics.median(v) for p, v in results.items()}
    print('%-16s %12.1f %12.1f %6s %8.2f' % (label, med['godwit'], med['qemu'], 'MB/s',
                                            med['godwit'] / med['qemu']))
    if 'ceiling' in med:
        print('  device ceiling %12.1f %19s  godwit %.2f, qemu %.2f of it (%s)' %
              (med['ceiling'], 'MB/s', med['godwit'] / med['ceiling'],
               med['qemu'] / med['ceiling'], 'fio' if have_fio else 'dd'))
    sys.stdout.flush()


def alternate(fn, ceil=None):
    """Rounds of fn(binary) per program, and of ceil() if given, in rotating order."""
    entrants = progs + ([('ceiling', None)] if ceil else [])
    res = {name: [] for name, _ in entrants}
    for r in range(rounds):
        k = r % len(entrants)
        for name, binary in entrants[k:] + entrants[:k]:
            res[name].append(fn(binary) if binary else ceil())
    return res


os.chdir(tmp)
print('%-16s %12s %12s %6s %8s' % ('test', 'godwit', 'qemu', 'unit', 'ratio'))
if only in ('', 'stream'):
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', 'base.qcow2', '1G')
    sh('qemu-io', '-t', 'none', '-c', 'write -P 0x5a 0 1G', 'base.qcow2')
    median_report('stream 1G', alternate(stream_once, lambda: ceiling('base.qcow2', GiB)))
    os.unlink('base.qcow2')
if only in ('', 'mirror'):
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', 'src.qcow2', '2G')
    sh('qemu-io', '-t', 'none', '-c', 'write -P 0xa5 0 1G', '-c', 'write -P 0xa6 1G 1G',
       'src.qcow2')
    median_report('mirror 2G', alternate(mirror_once, lambda: ceiling('src.qcow2', 2 * GiB)))
    os.unlink('src.qcow2')
if only in ('', 'writer'):
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', 'wsrc.qcow2', '256M')
    sh('qemu-io', '-c', 'write -P 1 0 256M', 'wsrc.qcow2')
    print('\nmirror complete under a writer (1 MiB aio_write at scattered offsets, '
          'speed 4 MiB/s):')
    for name, binary in progs:
        for mode in ('background', 'write-blocking'):
            res, rate = writer_once(binary, mode)
            print('  %-7s %-15s complete after %-24s (writer %.0f MiB/s)' % (name, mode, res,
                                                                            rate))
            sys.stdout.flush()
EOF
