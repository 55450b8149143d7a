#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""End to end through the godwit binary: `godwit -accel kvm -kernel guest.elf
-append ...` with virtio-blk disks, driven over QMP (tests/qmp.py).

Checks the guest's verdicts on raw and (when the qcow2 driver is built) qcow2
with a backing file, the image contents afterwards (godwit-io, Debian's qemu-io
and qemu-img compare when installed), stop/cont in the middle of writes, werror=
stop with an EIO injected by blkdebug (STOP + BLOCK_IO_ERROR, io-error,
io-status failed, cont finishes the work), negative controls, SHUTDOWN and the
exit status on guest exit, -S + cont, -no-shutdown + system_reset, the queries.
Prints the time from process start to the guest's first console byte.
Exits 77 (skip) without a usable /dev/kvm, saying so."""

import os
import shutil
import statistics
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
GODWIT_IO = os.path.join(BUILD, 'tools', 'godwit-io')
GODWIT_IMG = os.path.join(BUILD, 'tools', 'godwit-img')
MiB = 1 << 20
TMP = tempfile.mkdtemp(prefix='godwit-e2e-')
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def base_args(append, mem='64M'):
    return ['-accel', 'kvm', '-m', mem, '-kernel', GUEST, '-append', append,
            '-display', 'none', '-serial', 'stdio']


def run(append, extra=(), timeout=120):
    """Run to the end without QMP; (exit status, console text)."""
    p = subprocess.run([GODWIT] + base_args(append) + list(extra), capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors='replace') + p.stderr.decode(errors='replace')


def launch(append, extra=()):
    return VM(GODWIT, base_args(append) + list(extra)).launch(stdout=subprocess.PIPE)


def finish(vm, timeout=120):
    """Wait for the process; (exit status, console text)."""
    status = vm.wait(timeout)
    out = vm.proc.stdout.read().decode(errors='replace')
    vm.qmp.close()
    return status, out


def image(name, size_mib):
    path = os.path.join(TMP, name)
    with open(path, 'wb') as f:
        f.truncate(size_mib * MiB)
    return path


def pattern(first_sector, sectors, seed):
    """The guest's block pattern: every word of sector s is (s << 32) | seed."""
    out = bytearray()
    for s in range(first_sector, first_sector + sectors):
        out += struct.pack('<Q', (s << 32) | (seed & 0xffffffff)) * 64
    return bytes(out)


def reference(name, size_mib, areas):
    """A raw file holding the pattern in each (off_mib, mib, seed) area."""
    path = image(name, size_mib)
    with open(path, 'r+b') as f:
        for off, mib, seed in areas:
            for m in range(off, off + mib):
                f.seek(m * MiB)
                f.write(pattern(m * 2048, 2048, seed))
    return path


def io_dump_ok(tool, fmt, path, offset, seed):
    """Read 16 bytes at offset with a qemu-io-like tool; do they hold the pattern?"""
    word = struct.pack('<Q', ((offset // 512) << 32) | seed) * 2
    want = ' '.join('%02x' % b for b in word)
    p = subprocess.run([tool, '-f', fmt, '-r', '-c', 'read -v %d 16' % offset, path],
                       capture_output=True, text=True)
    return p.returncode == 0 and want in p.stdout


def compare(tool, fmt, path, ref):
    p = subprocess.run([tool, 'compare', '-f', fmt, '-F', 'raw', path, ref],
                       capture_output=True, text=True)
    return p.returncode == 0 and 'Images are identical.' in p.stdout


def verify_image(fmt, path, ref, areas):
    ok = check(compare(GODWIT_IMG, fmt, path, ref), 'godwit-img compare %s image with reference'
               % fmt)
    for off, mib, seed in areas:
        ok &= check(io_dump_ok(GODWIT_IO, fmt, path, off * MiB + 512, seed),
                    'godwit-io read -v: pattern at %d MiB' % off)
    if shutil.which('qemu-img') and shutil.which('qemu-io'):
        ok &= check(compare('qemu-img', fmt, path, ref), 'qemu-img compare (Debian)')
        for off, mib, seed in areas:
            ok &= check(io_dump_ok('qemu-io', fmt, path, off * MiB + 512, seed),
                        'qemu-io read -v (Debian): pattern at %d MiB' % off)
    else:
        print('note: Debian qemu-img/qemu-io not installed; skipped their checks')
    return ok


def drive(path, fmt='raw', extra=''):
    return ['-drive', 'file=%s,format=%s,if=virtio%s' % (path, fmt, extra)]


# ---------------------------------------------------------------------------

def test_boot_time():
    # A figure, not a verdict: timing belongs to bench/ (bench-kvm-boot); this
    # checks that every boot really reaches the guest's greeting.
    times = []
    outputs = []
    for _ in range(10):
        t0 = time.perf_counter()
        p = subprocess.Popen([GODWIT] + base_args('hello'), stdout=subprocess.PIPE)
        first = p.stdout.read(1)
        times.append((time.perf_counter() - t0) * 1000)
        outputs.append(first + p.stdout.read())
        p.wait()
    med = statistics.median(times)
    print('figure: process start to first guest console byte: median %.1f ms, min %.1f ms '
          '(10 runs)' % (med, min(times)))
    check(all(b'hello: Godwit guest up' in o for o in outputs),
          'every boot reached the guest greeting')


def test_exit_status_and_shutdown():
    vm = launch('exit code=3', ['-S'])   # -S: the guest must not exit before QMP is up
    vm.cmd('cont')
    ev = vm.qmp.event_wait('SHUTDOWN')
    check(ev['data'] == {'guest': True, 'reason': 'guest-shutdown'},
          'SHUTDOWN {"guest": true, "reason": "guest-shutdown"}: %r' % ev['data'])
    status, _ = finish(vm)
    check(status == 3, 'exit status is the guest\'s (3): %d' % status)
    status, out = run('exit code=0')
    check(status == 0, 'exit code=0 -> status 0')


def test_prelaunch_cont():
    vm = launch('hello', ['-S', '-smp', '2'])
    st = vm.cmd('query-status')['return']
    check(st == {'running': False, 'singlestep': False, 'status': 'prelaunch'},
          '-S: query-status prelaunch: %r' % st)
    cpus = vm.cmd('query-cpus-fast')['return']
    tids = [c['thread-id'] for c in cpus]
    tasks = os.listdir('/proc/%d/task' % vm.proc.pid)
    check(len(cpus) == 2 and all(str(t) in tasks for t in tids) and len(set(tids)) == 2,
          'query-cpus-fast: 2 vCPUs with their own host threads: %r' % cpus)
    check(cpus[0]['qom-path'] == '/machine/unattached/device[0]' and cpus[0]['target'] ==
          'x86_64' and cpus[1]['cpu-index'] == 1, 'query-cpus-fast members')
    check(vm.cmd('query-kvm')['return'] == {'enabled': True, 'present': True}, 'query-kvm')
    hmp = vm.cmd('human-monitor-command', {'command-line': 'info cpus'})['return']
    check(hmp == '* CPU #0: thread_id=%d\r\n  CPU #1: thread_id=%d\r\n' % tuple(tids),
          'HMP info cpus: %r' % hmp)
    time.sleep(0.1)
    check(vm.proc.poll() is None, '-S: the guest has not run')
    check(vm.cmd('cont') == {'return': {}}, 'cont')
    vm.qmp.event_wait('RESUME')
    vm.qmp.event_wait('SHUTDOWN')
    status, out = finish(vm)
    check(status == 0 and 'hello: Godwit guest up' in out, 'after cont the guest ran: %r' % out)


def test_no_shutdown_reset():
    vm = launch('hello', ['-no-shutdown'])
    vm.qmp.event_wait('SHUTDOWN')
    vm.qmp.event_wait('STOP')
    st = vm.cmd('query-status')['return']['status']
    check(st == 'shutdown', '-no-shutdown: state shutdown after guest exit: %s' % st)
    err = vm.cmd('cont').get('error', {}).get('desc')
    check(err == 'Resetting the Virtual Machine is required', 'cont refused: %r' % err)
    vm.cmd('system_reset')
    ev = vm.qmp.event_wait('RESET')
    check(ev['data'] == {'guest': False, 'reason': 'host-qmp-system-reset'}, 'RESET event')
    st = vm.cmd('query-status')['return']['status']
    check(st == 'prelaunch', 'after system_reset: prelaunch: %s' % st)
    vm.cmd('cont')
    vm.qmp.event_wait('SHUTDOWN')
    vm.qmp.event_wait('STOP')
    hmp = vm.cmd('human-monitor-command', {'command-line': 'info status'})['return']
    check(hmp == 'VM status: paused (shutdown)\r\n', 'HMP info status: %r' % hmp)
    vm.cmd('quit')
    status, out = finish(vm)
    check(out.count('hello: Godwit guest up') == 2, 'the guest ran twice (reset reloads it)')


def test_triple_fault():
    vm = launch('fault', ['-no-reboot'])
    ev = vm.qmp.event_wait('SHUTDOWN')
    check(ev['data'] == {'guest': True, 'reason': 'guest-reset'},
          '-no-reboot: triple fault -> SHUTDOWN guest-reset: %r' % ev['data'])
    status, out = finish(vm)
    check(status == 0, '-no-reboot: exit status 0 as QEMU')
    vm = launch('fault')
    for i in range(2):
        ev = vm.qmp.event_wait('RESET')
        check(ev['data'] == {'guest': True, 'reason': 'guest-reset'},
              'triple fault %d -> RESET guest-reset, program runs again' % (i + 1))
    vm.cmd('quit')
    status, out = finish(vm)
    check(status == 0 and out.count('fault: executing ud2') >= 2, 'quit ends the reboot loop')


def test_no_kernel_and_signal():
    vm = VM(GODWIT, ['-accel', 'kvm', '-display', 'none']).launch()
    st = vm.cmd('query-status')['return']['status']
    check(st == 'running', 'no -kernel: the machine exists, nothing runs: %s' % st)
    vm.shutdown()
    img = image('sig.img', 256)
    vm = launch('blk-pattern mib=192 seed=1', drive(img))
    time.sleep(0.1)
    vm.proc.terminate()
    ev = vm.qmp.event_wait('SHUTDOWN')
    status, out = finish(vm)
    check(ev['data'] == {'guest': False, 'reason': 'host-signal'} and status == 0,
          'SIGTERM mid-write: SHUTDOWN host-signal, exit 0')


def test_raw_pattern_and_devices():
    img = image('raw.img', 64)
    img2 = image('raw2.img', 16)
    vm = launch('blk-pattern mib=32 seed=11 qd=8',
                ['-drive', 'file=%s,format=raw,if=none,id=disk0' % img,
                 '-device', 'virtio-blk-device,drive=disk0,id=vblk0,serial=S0'] + drive(img2))
    blocks = {b['device']: b for b in vm.cmd('query-block')['return']}
    check(blocks.get('disk0', {}).get('qdev') == '/machine/peripheral/vblk0/virtio-backend',
          'query-block qdev of -device id=vblk0: %r' % blocks.get('disk0', {}).get('qdev'))
    check(blocks.get('virtio0', {}).get('qdev') ==
          '/machine/peripheral-anon/device[0]/virtio-backend',
          'query-block qdev of -drive if=virtio: %r' % blocks.get('virtio0', {}).get('qdev'))
    vm.qmp.event_wait('SHUTDOWN', timeout=120)
    status, out = finish(vm)
    check(status == 0 and 'blk-pattern: PASS' in out, 'raw: guest verdict PASS')
    areas = [(0, 32, 11)]
    verify_image('raw', img, reference('raw.ref', 64, areas), areas)
    # negative controls: the wrong seed and a region never written
    status, out = run('blk-verify mib=4 seed=12', drive(img))
    check(status == 1 and 'blk-verify: FAIL' in out, 'negative control: wrong seed fails')
    status, out = run('blk-verify mib=4 off=40 seed=11', drive(img))
    check(status == 1 and 'blk-verify: FAIL' in out, 'negative control: unwritten area fails')
    check(not compare(GODWIT_IMG, 'raw', img, reference('bad.ref', 64, [(0, 32, 12)])),
          'negative control: compare against a wrong reference fails')


def has_qcow2():
    p = subprocess.run([GODWIT, '-drive', 'format=help'], capture_output=True, text=True)
    return 'qcow2' in p.stdout.split('\n')[0].split()


def test_qcow2_backing():
    if not has_qcow2():
        print('note: SKIP qcow2 case: this build has no qcow2 driver')
        return
    base = os.path.join(TMP, 'base.qcow2')
    top = os.path.join(TMP, 'top.qcow2')
    subprocess.run([GODWIT_IMG, 'create', '-f', 'qcow2', base, '64M'], check=True,
                   stdout=subprocess.DEVNULL)
    status, out = run('blk-pattern mib=8 off=24 seed=5', drive(base, 'qcow2'))
    check(status == 0, 'qcow2 base: guest wrote 8 MiB at 24 MiB')
    # -o and an explicit size: godwit-img create ignores -b/-F and does not take the
    # size from the backing file yet
    subprocess.run([GODWIT_IMG, 'create', '-f', 'qcow2', '-o',
                    'backing_file=%s,backing_fmt=qcow2' % base, top, '64M'], check=True,
                   stdout=subprocess.DEVNULL)
    status, out = run('blk-pattern mib=16 seed=9', drive(top, 'qcow2'))
    check(status == 0 and 'blk-pattern: PASS' in out, 'qcow2 overlay: guest verdict PASS')
    status, out = run('blk-verify mib=8 off=24 seed=5', drive(top, 'qcow2'))
    check(status == 0, 'qcow2 overlay: guest reads the backing file\'s data through it')
    areas = [(0, 16, 9), (24, 8, 5)]
    verify_image('qcow2', top, reference('qcow2.ref', 64, areas), areas)


def test_stop_cont_mid_write():
    img = image('stop.img', 256)
    vm = launch('blk-pattern mib=192 seed=21 qd=8', ['-S'] + drive(img))
    vm.cmd('cont')
    time.sleep(0.05)
    check(vm.cmd('stop') == {'return': {}}, 'stop mid-write')
    vm.qmp.event_wait('STOP')
    st = vm.cmd('query-status')['return']
    check(st['status'] == 'paused' and not st['running'], 'query-status paused')
    time.sleep(0.3)
    check(vm.proc.poll() is None and not any(e['event'] == 'SHUTDOWN' for e in vm.qmp.events),
          'still paused, guest not finished (stopped mid-write)')
    vm.cmd('cont')
    vm.qmp.event_wait('RESUME')
    vm.qmp.event_wait('SHUTDOWN', timeout=120)
    status, out = finish(vm)
    check(status == 0 and 'blk-pattern: PASS' in out, 'stop/cont: guest verdict PASS')
    areas = [(0, 192, 21)]
    check(compare(GODWIT_IMG, 'raw', img, reference('stop.ref', 256, areas)),
          'stop/cont: image holds the whole pattern')


def blkdebug(img, name):
    conf = os.path.join(TMP, name)
    with open(conf, 'w') as f:
        f.write('[inject-error]\nevent = "write_aio"\nerrno = "5"\nonce = "on"\n')
    return 'blkdebug:%s:%s' % (conf, img)


def test_werror_stop():
    img = image('werror.img', 32)
    vm = launch('blk-pattern mib=16 seed=3 qd=8 kib=64',
                drive(blkdebug(img, 'bd1.conf'), extra=',werror=stop'))
    ev = vm.qmp.event_wait('BLOCK_IO_ERROR', timeout=60)
    d = ev['data']
    check(d.get('device') == 'virtio0' and d.get('operation') == 'write' and
          d.get('action') == 'stop' and d.get('nospace') is False and
          d.get('reason') == 'Input/output error' and 'node-name' in d,
          'BLOCK_IO_ERROR {device, node-name, operation, action, nospace, reason}: %r' % d)
    vm.qmp.event_wait('STOP')
    st = vm.cmd('query-status')['return']
    check(st['status'] == 'io-error' and not st['running'], 'query-status io-error: %r' % st)
    blk = vm.cmd('query-block')['return'][0]
    check(blk.get('io-status') == 'failed', 'query-block io-status failed')
    vm.cmd('cont')
    vm.qmp.event_wait('RESUME')
    blk = vm.cmd('query-block')['return'][0]
    check(blk.get('io-status') == 'ok', 'cont reset io-status to ok')
    vm.qmp.event_wait('SHUTDOWN', timeout=60)
    status, out = finish(vm)
    check(status == 0 and 'blk-pattern: PASS' in out, 'werror=stop: cont finished the work')
    check(compare(GODWIT_IMG, 'raw', img, reference('werror.ref', 32, [(0, 16, 3)])),
          'werror=stop: the image holds the pattern (the failed write was retried)')
    # negative control: werror=report hands the error to the guest, which fails
    img2 = image('report.img', 32)
    status, out = run('blk-pattern mib=8 seed=3 qd=1 kib=64',
                      drive(blkdebug(img2, 'bd2.conf'), extra=',werror=report'))
    check(status == 1 and 'blk-pattern: FAIL' in out, 'negative control: werror=report fails')


def test_cmdline():
    p = subprocess.run([GODWIT, '-machine', 'help'], capture_output=True, text=True)
    check(p.stdout.count('(default)') == 1, '-machine help: one (default)')
    p = subprocess.run([GODWIT, '-device', 'help'], capture_output=True, text=True)
    check('name "virtio-blk-device"' in p.stdout and 'alias "virtio-blk"' in p.stdout,
          '-device help lists virtio-blk-device (alias virtio-blk)')
    status, out = run('hello', ['-device', 'virtio-blk-device,drive=nope'])
    check(status == 1 and "Property 'virtio-blk-device.drive' can't find value 'nope'" in out,
          '-device with an unknown drive: %r' % out.strip())


def main():
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        print('SKIP: /dev/kvm is missing or not accessible; the e2e tests need KVM',
              file=sys.stderr)
        return 77
    for t in (test_cmdline, test_boot_time, test_exit_status_and_shutdown, test_prelaunch_cont,
              test_no_shutdown_reset, test_triple_fault, test_no_kernel_and_signal,
              test_raw_pattern_and_devices, test_qcow2_backing,
              test_stop_cont_mid_write, test_werror_stop):
        print('== ' + t.__name__, flush=True)
        try:
            t()
        except Exception as e:   # a hung or crashed VM fails the case, not the run
            check(False, '%s raised %r' % (t.__name__, e))
    shutil.rmtree(TMP, ignore_errors=True)
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
