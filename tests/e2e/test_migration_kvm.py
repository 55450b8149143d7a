#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Live migration with storage through the godwit binary: the test guest runs
under `godwit -accel kvm` on a qcow2 disk and moves to a second process started
with `-incoming tcp:127.0.0.1:PORT` and an empty image of the same size.

  blk-hmp        HMP `migrate -d blk tcp:...` (human-monitor-command) while the
                 guest writes its pattern; the guest verifies on the destination
                 (exit 0, SHUTDOWN guest-shutdown), source postmigrate, destination
                 RESUME, "Receiving block device images"/"Completed 100 %", the
                 destination image equals the expected pattern (qemu-img compare)
  blk-qmp        QMP `migrate` with blk: true while the guest reads back: the
                 destination image equals the source's (qemu-img compare)
  hmp-b          QEMU 7.2's `migrate -d -b` with the ram-verify guest
  inc            `migrate -d blk inc` with a shared backing file: only the
                 overlay's chunks travel; the destination overlay allocates only them
  cancel         migrate_cancel mid-way: source keeps running, its guest passes,
                 its image is intact; the destination exits with an error
  smaller        negative control: a destination with a smaller image fails with a
                 clear error and the source keeps running
  shared         shared storage: both processes on ONE qcow2, `migrate` without blk
                 while the guest writes; the destination opens the image inactive,
                 the source hands it over, the guest verifies on the destination

Prints total time, downtime and throughput of each migration. Exits 77 (skip)
without a usable /dev/kvm, saying so."""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from qmp import VM, godwit_binary   # noqa: E402

GODWIT = godwit_binary()
BUILD = os.path.dirname(os.path.dirname(GODWIT))
GUEST = os.environ.get('GODWIT_GUEST_ELF', os.path.join(BUILD, 'guest', 'guest.elf'))
QEMU_IMG = shutil.which('qemu-img')
MiB = 1 << 20
TMP = tempfile.mkdtemp(prefix='godwit-mig-')
failures = []
figures = []
LAUNCHED = []                # processes of the current case, killed after it


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def path(name):
    return os.path.join(TMP, name)


def img(*args):
    """godwit images are checked with Debian's qemu-img (required by this test)."""
    return subprocess.run([QEMU_IMG] + list(args), capture_output=True, text=True)


def create(name, size_mib, backing=None):
    args = ['create', '-q', '-f', 'qcow2']
    if backing:
        args += ['-b', backing, '-F', 'qcow2']
    p = img(*(args + [path(name), '%dM' % size_mib]))
    assert p.returncode == 0, p.stderr
    return path(name)


def pattern(first_sector, sectors, seed):
    """The guest's block pattern: every word of sector s is (s << 32) | seed."""
    out = bytearray()
    for s in range(first_sector, first_sector + sectors):
        out += struct.pack('<Q', (s << 32) | (seed & 0xffffffff)) * 64
    return bytes(out)


def reference(name, size_mib, off_mib, mib, seed, base=None):
    """A raw image holding base (or zeroes) with the guest's pattern at off_mib."""
    ref = path(name)
    if base:
        p = img('convert', '-O', 'raw', base, ref)
        assert p.returncode == 0, p.stderr
    else:
        with open(ref, 'wb') as f:
            f.truncate(size_mib * MiB)
    with open(ref, 'r+b') as f:
        f.seek(off_mib * MiB)
        f.write(pattern(off_mib * 2048, mib * 2048, seed))
    return ref


def guest_args(append, disk, console=None, extra=()):
    return ['-accel', 'kvm', '-m', '64M', '-kernel', GUEST, '-append', append,
            '-display', 'none', '-serial', 'file:' + console if console else 'stdio',
            '-drive', 'file=%s,if=virtio' % disk] + list(extra)


def wait_file(fname, text, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(fname) and text in open(fname, errors='replace').read():
            return True
        time.sleep(0.01)
    return False


def wait_migration(vm, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        r = vm.cmd('query-migrate')['return']
        if r.get('status') in ('completed', 'failed', 'cancelled'):
            return r
        time.sleep(0.02)
    return vm.cmd('query-migrate')['return']


def hmp(vm, line):
    return vm.cmd('human-monitor-command', {'command-line': line})


def start_pair(append, src_disk, dst_disk, dst_extra=()):
    """Destination (listening) first, then the source with its console in a file."""
    port = free_port()
    uri = 'tcp:127.0.0.1:%d' % port
    dst = VM(GODWIT, guest_args(append, dst_disk, extra=['-incoming', uri] +
                                list(dst_extra)))
    LAUNCHED.append(dst)
    dst.launch(stdout=subprocess.PIPE)
    # QMP answers while the process still sets up: wait until it listens (inmigrate)
    end = time.time() + 10
    while dst.cmd('query-status')['return']['status'] != 'inmigrate' and time.time() < end:
        time.sleep(0.005)
    dst.cmd('migrate-set-capabilities',
            {'capabilities': [{'capability': 'events', 'state': True}]})
    console = path('src-console-%d.txt' % port)
    src = VM(GODWIT, guest_args(append, src_disk, console=console))
    LAUNCHED.append(src)
    src.launch()
    return src, dst, uri, console


def figure(what, r, disk_bytes):
    total = r.get('total-time', 0)
    mbs = disk_bytes / MiB / (total / 1000.0) if total else 0
    line = '%s: total %d ms, downtime %d ms, setup %d ms, %.0f MiB disk + %.1f MiB RAM sent ' \
           '-> %.0f MB/s (disk), ram mbps %.0f' % (
               what, total, r.get('downtime', -1), r.get('setup-time', -1), disk_bytes / MiB,
               r['ram']['transferred'] / MiB if 'ram' in r else 0,
               disk_bytes / 1e6 / (total / 1000.0) if total else 0, r['ram']['mbps'])
    figures.append(line)
    print('     ' + line, flush=True)
    return mbs


def drain_events(vm):
    """Read what the process sent before it closed QMP (events arrive unasked)."""
    try:
        while True:
            msg = vm.qmp.read_message(timeout=5)
            if 'event' in msg:
                vm.qmp.events.append(msg)
    except (EOFError, OSError, ValueError):
        pass


def finish_dst(dst, timeout=60):
    status = dst.wait(timeout)
    drain_events(dst)
    out = dst.proc.stdout.read().decode(errors='replace')
    events = [e['event'] for e in dst.qmp.events]
    shutdown = [e for e in dst.qmp.events if e['event'] == 'SHUTDOWN']
    dst.qmp.close()
    return status, out, events, shutdown


def finish_src(src):
    src.cmd('quit')
    src.wait()
    src.qmp.close()


def check_dst_guest(dst, pass_text, what):
    status, out, events, shutdown = finish_dst(dst)
    check(status == 0, '%s: destination guest exit status 0 (got %r)' % (what, status))
    check(pass_text in out, '%s: guest verification passed on the destination' % what)
    check('RESUME' in events, '%s: destination RESUME' % what)
    check(shutdown and shutdown[0]['data'] == {'guest': True, 'reason': 'guest-shutdown'},
          '%s: destination SHUTDOWN guest-shutdown' % what)
    return out


def check_image(p, what):
    c = img('check', p)
    check(c.returncode == 0 and 'No errors' in c.stdout, '%s: qemu-img check %s' %
          (what, os.path.basename(p)))


def compare(a, b, what):
    c = img('compare', a, b)
    check(c.returncode == 0 and 'Images are identical' in c.stdout,
          '%s: qemu-img compare %s %s: %s' % (what, os.path.basename(a), os.path.basename(b),
                                             (c.stdout + c.stderr).strip()))


# ---------------------------------------------------------------------------

def test_blk_hmp():
    """migrate -d blk while the guest writes; the guest verifies on the destination."""
    src_disk, dst_disk = create('hmp-src.qcow2', 64), create('hmp-dst.qcow2', 64)
    append = 'blk-pattern mib=48 kib=4 qd=1 seed=7'
    src, dst, uri, console = start_pair(append, src_disk, dst_disk)
    check(dst.cmd('query-status')['return']['status'] == 'inmigrate', 'destination inmigrate')
    check(wait_file(console, 'blk-pattern: start'), 'source guest started')
    time.sleep(0.05)                                 # in the middle of its writes
    wrote_before = 'blk-pattern: wrote' in open(console).read()
    check(hmp(src, 'migrate -d blk ' + uri) == {'return': ''}, 'HMP migrate -d blk accepted')
    r = wait_migration(src)
    check(r.get('status') == 'completed', 'migration completed (%r %r)' % (r.get('status'), r.get('error-desc')))
    check('disk' not in r, 'query-migrate: no disk stats after completion')
    check(src.cmd('query-status')['return']['status'] == 'postmigrate', 'source postmigrate')
    info = hmp(src, 'info migrate')['return']
    check('Migration status: completed' in info and 'downtime:' in info, 'info migrate')
    out = check_dst_guest(dst, 'blk-pattern: PASS mib=48 seed=7', 'blk')
    check('Receiving block device images' in out and 'Completed 100 %' in out,
          'destination printed the block progress')
    check(not wrote_before, 'the migration started while the guest was writing')
    finish_src(src)
    figure('migrate -d blk (64 MiB qcow2, guest writing)', r, 64 * MiB)
    check_image(dst_disk, 'blk')
    compare(reference('hmp-ref.raw', 64, 0, 48, 7), dst_disk, 'blk: destination = pattern')


def test_blk_qmp():
    """QMP migrate blk:true while the guest reads back: destination = source."""
    src_disk, dst_disk = create('qmp-src.qcow2', 64), create('qmp-dst.qcow2', 64)
    append = 'blk-pattern mib=24 kib=4 qd=1 seed=11'
    src, dst, uri, console = start_pair(append, src_disk, dst_disk)
    src.cmd('migrate-set-parameters', {'max-bandwidth': 8 << 30})
    check(wait_file(console, 'blk-pattern: wrote'), 'source guest wrote its pattern')
    check(src.cmd('migrate', {'uri': uri, 'blk': True}) == {'return': {}}, 'QMP migrate blk')
    r = wait_migration(src)
    check(r.get('status') == 'completed', 'migration completed (%r %r)' % (r.get('status'), r.get('error-desc')))
    check_dst_guest(dst, 'blk-pattern: PASS mib=24 seed=11', 'qmp blk')
    finish_src(src)
    figure('QMP migrate blk:true (64 MiB qcow2, max-bandwidth 8G)', r, 64 * MiB)
    check_image(dst_disk, 'qmp blk')
    compare(src_disk, dst_disk, 'qmp blk: destination = source')


def test_hmp_b():
    """QEMU 7.2's HMP form migrate -d -b, with the ram-verify guest and a filled disk."""
    src_disk, dst_disk = create('b-src.qcow2', 64), create('b-dst.qcow2', 64)
    with open(path('b-fill.raw'), 'wb') as f:
        f.write(pattern(0, 16 * 2048, 5))
        f.truncate(64 * MiB)
    p = img('convert', '-n', '-f', 'raw', '-O', 'qcow2', path('b-fill.raw'), src_disk)
    assert p.returncode == 0, p.stderr
    append = 'ram-verify mib=16 passes=600 report=200'
    src, dst, uri, console = start_pair(append, src_disk, dst_disk)
    check(wait_file(console, 'ram-verify: start'), 'source guest started')
    rsp = hmp(src, 'migrate -d -b ' + uri)
    check(rsp == {'return': ''}, 'HMP migrate -d -b accepted (%r)' % rsp)
    r = wait_migration(src)
    check(r.get('status') == 'completed', 'migration completed (%r %r)' % (r.get('status'), r.get('error-desc')))
    check_dst_guest(dst, 'ram-verify: PASS mib=16 passes=600', 'migrate -b')
    finish_src(src)
    figure('migrate -d -b (64 MiB qcow2, ram-verify guest)', r, 64 * MiB)
    compare(src_disk, dst_disk, 'migrate -b: destination = source')


def allocated_top(p):
    """(offset, length) extents the top image itself allocates (qemu-img map)."""
    m = img('map', '--output=json', p)
    return [(e['start'], e['length']) for e in json.loads(m.stdout)
            if e['data'] and e['depth'] == 0]


def test_inc():
    """migrate -d blk inc: shared base, only the overlay's chunks travel."""
    base = create('inc-base.qcow2', 64)
    with open(path('inc-fill.raw'), 'wb') as f:
        f.write(b'\xa5' * (64 * MiB))
    p = img('convert', '-n', '-f', 'raw', '-O', 'qcow2', path('inc-fill.raw'), base)
    assert p.returncode == 0, p.stderr
    src_disk = create('inc-src.qcow2', 64, backing=base)
    dst_disk = create('inc-dst.qcow2', 64, backing=base)
    base_sum = img('compare', base, path('inc-fill.raw')).returncode
    append = 'blk-pattern mib=8 off=16 kib=4 qd=1 seed=3'
    src, dst, uri, console = start_pair(append, src_disk, dst_disk)
    check(wait_file(console, 'blk-pattern: start'), 'source guest started')
    time.sleep(0.1)
    check(hmp(src, 'migrate -d blk inc ' + uri) == {'return': ''},
          'HMP migrate -d blk inc accepted')
    r = wait_migration(src)
    check(r.get('status') == 'completed', 'migration completed (%r %r)' % (r.get('status'), r.get('error-desc')))
    check_dst_guest(dst, 'blk-pattern: PASS mib=8 seed=3', 'inc')
    finish_src(src)
    figure('migrate -d blk inc (8 MiB overlay on a 64 MiB base)', r, 8 * MiB)
    ext = allocated_top(dst_disk)
    lo = min((s for s, _ in ext), default=-1)
    hi = max((s + n for s, n in ext), default=-1)
    check(ext and lo >= 16 * MiB and hi <= 24 * MiB,
          'inc: the destination overlay allocates only 16-24 MiB (%d..%d)' % (lo, hi))
    check(img('compare', base, path('inc-fill.raw')).returncode == base_sum == 0,
          'inc: the shared base is unchanged')
    check_image(dst_disk, 'inc')
    compare(reference('inc-ref.raw', 64, 16, 8, 3, base=base), dst_disk,
            'inc: destination = base + pattern')


def test_cancel():
    """migrate_cancel mid-way: the source keeps running and its guest passes."""
    src_disk, dst_disk = create('c-src.qcow2', 64), create('c-dst.qcow2', 64)
    append = 'blk-pattern mib=32 kib=4 qd=1 seed=13'
    src, dst, uri, console = start_pair(append, src_disk, dst_disk)
    check(hmp(src, 'migrate_set_parameter max-bandwidth 4M') == {'return': ''},
          'max-bandwidth 4M')
    check(wait_file(console, 'blk-pattern: start'), 'source guest started')
    check(hmp(src, 'migrate -d blk ' + uri) == {'return': ''}, 'HMP migrate -d blk')
    end = time.time() + 10
    r = {}
    while time.time() < end:
        r = src.cmd('query-migrate')['return']
        if r.get('status') == 'active' and r.get('disk', {}).get('transferred', 0) >= 2 * MiB:
            break
        time.sleep(0.02)
    check(r.get('status') == 'active' and 'disk' in r and r['disk']['total'] == 64 * MiB,
          'active with disk stats (total %r)' % r.get('disk', {}).get('total'))
    check(hmp(src, 'migrate_cancel') == {'return': ''}, 'migrate_cancel')
    r = wait_migration(src)
    check(r.get('status') == 'cancelled', 'status cancelled (%r)' % r.get('status'))
    check(src.cmd('query-status')['return']['status'] == 'running', 'source still running')
    status = src.wait(60)
    check(status == 0, 'source guest exit status 0 after the cancel (got %r)' % status)
    check('blk-pattern: PASS mib=32 seed=13' in open(console).read(),
          'source guest verification passed')
    src.qmp.close()
    dstatus = dst.wait(30)
    dst.qmp.close()
    check(dstatus not in (0, None), 'destination gave up (exit %r): %s' %
          (dstatus, dst.stderr.strip().splitlines()[-1:] if dst.stderr else ''))
    check_image(src_disk, 'cancel')
    compare(reference('c-ref.raw', 64, 0, 32, 13), src_disk, 'cancel: source image = pattern')


def test_smaller():
    """Negative control: the destination's image is smaller."""
    src_disk, dst_disk = create('n-src.qcow2', 64), create('n-dst.qcow2', 32)
    append = 'blk-pattern mib=16 kib=4 qd=1 seed=17'
    src, dst, uri, console = start_pair(append, src_disk, dst_disk)
    check(wait_file(console, 'blk-pattern: start'), 'source guest started')
    check(hmp(src, 'migrate -d blk ' + uri) == {'return': ''}, 'HMP migrate -d blk')
    r = wait_migration(src)
    check(r.get('status') == 'failed', 'migration failed (%r)' % r.get('status'))
    check(src.cmd('query-status')['return']['status'] == 'running', 'source still running')
    dstatus = dst.wait(30)
    dst.qmp.close()
    check(dstatus == 1 and "has size 33554432, the source's has 67108864" in dst.stderr and
          'load of migration failed' in dst.stderr,
          'destination: clear error, exit 1: %r' % dst.stderr.strip())
    status = src.wait(60)
    src.qmp.close()
    check(status == 0 and 'blk-pattern: PASS mib=16 seed=17' in open(console).read(),
          'source guest passes after the failed migration')
    check_image(src_disk, 'smaller')


def test_shared():
    """Shared storage: both processes open ONE qcow2; plain `migrate` (no blk) while
    the guest writes. The destination starts with its image inactive (no write
    lock), the source hands it over at switch-over, the guest verifies on the
    destination what the source allocated after the destination had opened it."""
    disk = create('shared.qcow2', 64)
    append = 'blk-pattern mib=48 kib=4 qd=1 seed=23'
    src, dst, uri, console = start_pair(append, disk, disk)
    check(dst.cmd('query-status')['return']['status'] == 'inmigrate',
          'shared: destination started on the image the source runs on')
    check(wait_file(console, 'blk-pattern: start'), 'shared: source guest started')
    time.sleep(0.05)                                 # in the middle of its writes
    wrote_before = 'blk-pattern: wrote' in open(console).read()
    check(src.cmd('migrate', {'uri': uri}) == {'return': {}}, 'shared: QMP migrate without blk')
    r = wait_migration(src)
    check(r.get('status') == 'completed',
          'shared: migration completed (%r %r)' % (r.get('status'), r.get('error-desc')))
    check('disk' not in r, 'shared: no block migration stats')
    check(src.cmd('query-status')['return']['status'] == 'postmigrate', 'shared: source postmigrate')
    check_dst_guest(dst, 'blk-pattern: PASS mib=48 seed=23', 'shared')
    check(not wrote_before, 'shared: the migration started while the guest was writing')
    # the destination quit: the source may take the image back (QEMU's cont)
    check(src.cmd('cont') == {'return': {}}, 'shared: source cont after the destination quit')
    src.cmd('stop')
    finish_src(src)
    figure('migrate, shared storage (one 64 MiB qcow2, guest writing)', r, 0)
    check_image(disk, 'shared')
    compare(reference('shared-ref.raw', 64, 0, 48, 23), disk, 'shared: image = pattern')


def main():
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        print('SKIP: /dev/kvm is missing or not accessible; live migration of the test guest '
              'needs KVM', file=sys.stderr)
        return 77
    if not QEMU_IMG:
        print('SKIP: qemu-img (Debian qemu-utils) is needed to check the images',
              file=sys.stderr)
        return 77
    tests = (test_blk_hmp, test_blk_qmp, test_hmp_b, test_inc, test_cancel, test_smaller,
             test_shared)
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        print('== ' + t.__name__, flush=True)
        try:
            t()
        except Exception as e:   # a hung or crashed VM fails the case, not the run
            check(False, '%s raised %r' % (t.__name__, e))
        finally:
            for vm in LAUNCHED:
                vm.kill()
            LAUNCHED.clear()
    print('== figures')
    for f in figures:
        print('   ' + f)
    shutil.rmtree(TMP, ignore_errors=True)
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
