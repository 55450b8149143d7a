#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""The guest's migration workload, blk-log, through the godwit binary (`godwit -accel
kvm -kernel guest.elf -append 'blk-log ...'` with a virtio-blk disk, over QMP).

blk-log appends checked records to the disk (never overwriting), rewrites RAM at a
set rate, prints progress lines, then re-reads the whole log and the RAM. Cases:
a plain run PASSes on qcow2; stop/cont over QMP in the middle of the run still
PASSes; the negative control (corrupt=K: record K's payload is never written)
FAILs and names record K; blk-log-verify PASSes on the image in a fresh VM (and
fails when told the wrong record count or seed); the host re-reads the log from
the image itself (godwit-img convert to raw) and checks every header and payload
checksum without the guest. Exits 77 (skip) without a usable /dev/kvm, saying so."""

import os
import re
import select
import shutil
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
GODWIT_IMG = os.path.join(BUILD, 'tools', 'godwit-img')
TMP = tempfile.mkdtemp(prefix='godwit-blklog-')
M64 = (1 << 64) - 1
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def has_qcow2():
    p = subprocess.run([GODWIT, '-drive', 'format=help'], capture_output=True, text=True)
    return 'qcow2' in p.stdout.split('\n')[0].split()


FMT = None


def new_image(name, size_mib=64):
    path = os.path.join(TMP, name)
    if FMT == 'qcow2':
        subprocess.run([GODWIT_IMG, 'create', '-f', 'qcow2', path, '%dM' % size_mib],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        with open(path, 'wb') as f:
            f.truncate(size_mib << 20)
    return path


def args(append, img):
    return ['-accel', 'kvm', '-m', '64M', '-kernel', GUEST, '-append', append,
            '-display', 'none', '-serial', 'stdio',
            '-drive', 'file=%s,format=%s,if=virtio' % (img, FMT)]


def run(append, img, timeout=120):
    """A fresh VM to the end; (exit status, console text)."""
    p = subprocess.run([GODWIT] + args(append, img), capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors='replace') + p.stderr.decode(errors='replace')


class Console:
    """The guest console (the VM's stdout pipe), read without blocking."""

    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.text = ''
        self.eof = False

    def poll(self, timeout=0.0):
        """Read what is there (waiting up to timeout for the first bytes)."""
        got = ''
        while not self.eof:
            r, _, _ = select.select([self.fd], [], [], timeout)
            if not r:
                break
            data = os.read(self.fd, 65536)
            if not data:
                self.eof = True
                break
            got += data.decode(errors='replace')
            timeout = 0
        self.text += got
        return got

    def wait_for(self, pattern, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self.eof:
            m = re.search(pattern, self.text)
            if m:
                return m
            self.poll(0.05)
        return re.search(pattern, self.text)


def pass_line(out, who='blk-log'):
    return re.search(r'^%s: PASS records=(\d+) sectors=(\d+) seed=(\d+)(.*)$' % who, out, re.M)


# --- an independent reading of the log from the image (the guest's format) ---

def mix64(x):
    x ^= x >> 31
    x = (x * 0x7fb5d329728ea185) & M64
    x ^= x >> 27
    x = (x * 0x81dadef4bc2dd44d) & M64
    x ^= x >> 33
    return x


def checksum(words):
    h = 0x243f6a8885a308d3 ^ len(words)
    for w in words:
        h ^= w
        h = ((h << 27) | (h >> 37)) & M64
        h = (h * 0x9e3779b97f4a7c15 + 0x13198a2e03707344) & M64
    return mix64(h)


def host_check_log(img, records, seed):
    """Convert to raw and walk the log: header fields, both checksums, the end marker."""
    raw = img + '.raw'
    if FMT == 'qcow2':
        subprocess.run([GODWIT_IMG, 'convert', '-f', 'qcow2', '-O', 'raw', img, raw],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        raw = img
    with open(raw, 'rb') as f:
        data = f.read()
    pos = 0
    for seq in range(records):
        hdr = data[pos * 512:(pos + 1) * 512]
        words = struct.unpack('<64Q', hdr)
        magic, hseq, hseed, sector = words[0:4]
        length, flags = struct.unpack_from('<II', hdr, 0x20)
        psum = words[5]
        if (magic != 0x4452434c4f474447 or hseq != seq or hseed != seed or sector != pos or
                flags or not length or length % 512 or checksum(words[:63]) != words[63]):
            return 'record %d at sector %d: bad header (seq %d seed %d sector %d len %d)' % (
                seq, pos, hseq, hseed, sector, length)
        payload = struct.unpack_from('<%dQ' % (length // 8), data, (pos + 1) * 512)
        if checksum(payload) != psum:
            return 'record %d at sector %d: payload checksum' % (seq, pos)
        pos += 1 + length // 512
    words = struct.unpack_from('<64Q', data, pos * 512)
    length, flags = struct.unpack_from('<II', data, pos * 512 + 0x20)
    if words[0] != 0x4452434c4f474447 or words[1] != records or flags != 1 or length:
        return 'no end marker at sector %d after %d records' % (pos, records)
    return None


# --- the cases ---

def test_pass_and_verify():
    img = new_image('pass.img')
    append = 'blk-log mib=32 seed=11 ms=1500 rate=2000 qd=4 kib=16 ram=8 ram-rate=20000 report=250'
    vm = VM(GODWIT, args(append, img)).launch(stdout=subprocess.PIPE)
    ev = vm.qmp.event_wait('SHUTDOWN', timeout=60)
    status = vm.wait(60)
    out = vm.proc.stdout.read().decode(errors='replace')
    vm.qmp.close()
    print(out.strip())
    m = pass_line(out)
    check(status == 0 and m is not None, 'blk-log on %s: PASS, exit status 0 (%d)' % (FMT, status))
    check(ev['data'] == {'guest': True, 'reason': 'guest-shutdown'}, 'SHUTDOWN guest-shutdown')
    progress = re.findall(r'^blk-log: seq=(\d+) ram-gen=(\d+) ', out, re.M)
    check(len(progress) >= 4 and int(progress[-1][0]) > int(progress[0][0]) and
          int(progress[-1][1]) > int(progress[0][1]),
          'progress lines every 250 ms with seq and ram-gen advancing: %d lines' % len(progress))
    if not m:
        return
    records = int(m.group(1))
    # rate=2000 for 1.5 s: about 3000 records (the pacing works, none lost)
    check(2000 <= records <= 3100, 'rate=2000 rec/s for 1.5 s wrote about 3000 records: %d'
          % records)
    status, out = run('blk-log-verify', img)
    v = pass_line(out, 'blk-log-verify')
    check(status == 0 and v and int(v.group(1)) == records and v.group(3) == '11',
          'blk-log-verify (no parameters) in a fresh VM: PASS records=%d: %s'
          % (records, out.strip().splitlines()[-1]))
    status, out = run('blk-log-verify records=%d seed=11 mib=32 kib=16' % records, img)
    check(status == 0 and pass_line(out, 'blk-log-verify'),
          'blk-log-verify records=%d seed=11 mib=32 kib=16: PASS' % records)
    status, out = run('blk-log-verify records=%d' % (records + 1), img)
    check(status == 1 and 'blk-log-verify: FAIL record %d' % records in out,
          'negative control: records=N+1 fails at record N: %s' % out.strip().splitlines()[-1])
    status, out = run('blk-log-verify seed=12', img)
    check(status == 1 and 'blk-log-verify: FAIL record 0 ' in out,
          'negative control: the wrong seed fails at record 0')
    err = host_check_log(img, records, 11)
    check(err is None, 'host reads the log from the image: %d records, checksums, end marker%s'
          % (records, '' if err is None else ': ' + err))


def test_stop_cont():
    img = new_image('stop.img')
    append = 'blk-log mib=32 seed=21 ms=2500 rate=1000 ram=8 ram-rate=20000 report=100'
    vm = VM(GODWIT, ['-S'] + args(append, img)).launch(stdout=subprocess.PIPE)
    con = Console(vm.proc)
    vm.cmd('cont')
    stops = 0
    for i in range(3):
        # stop once the guest has shown progress beyond the last stop
        want = r'blk-log: seq=(\d+) ram-gen=(\d+) t=(\d+)'
        seen = len(re.findall(want, con.text))
        end = time.monotonic() + 20
        while len(re.findall(want, con.text)) <= seen + 1 and time.monotonic() < end:
            con.poll(0.05)
        if not check(vm.cmd('stop') == {'return': {}}, 'stop %d mid-run' % (i + 1)):
            break
        vm.qmp.event_wait('STOP')
        st = vm.cmd('query-status')['return']
        check(st['status'] == 'paused' and not st['running'], 'query-status paused')
        time.sleep(0.05)
        con.poll()
        time.sleep(0.4)
        quiet = con.poll() == ''
        check(quiet and vm.proc.poll() is None,
              'stopped: the guest prints nothing for 0.4 s and has not finished')
        vm.cmd('cont')
        vm.qmp.event_wait('RESUME')
        stops += 1
    vm.qmp.event_wait('SHUTDOWN', timeout=60)
    status = vm.wait(60)
    con.poll(1)
    vm.qmp.close()
    out = con.text
    print('\n'.join(l for l in out.splitlines() if 'seq=' not in l))
    m = pass_line(out)
    check(status == 0 and m is not None and stops == 3,
          'blk-log after %d stop/cont cycles: PASS, exit status 0 (%d)' % (stops, status))
    if m:
        records = int(m.group(1))
        status, out = run('blk-log-verify records=%d' % records, img)
        check(status == 0 and pass_line(out, 'blk-log-verify'),
              'blk-log-verify records=%d on the stopped-and-continued image: PASS' % records)


def test_negative_control():
    img = new_image('corrupt.img')
    status, out = run('blk-log mib=16 seed=5 records=400 corrupt=37 ram=4', img)
    print(out.strip())
    check(status == 1 and 'blk-log: FAIL record 37 ' in out and 'blk-log: PASS' not in out,
          'negative control: corrupt=37 (payload not written) -> FAIL at record 37, status 1')
    status, out = run('blk-log-verify', img)
    check(status == 1 and 'blk-log-verify: FAIL record 37 ' in out,
          'negative control: blk-log-verify in a fresh VM fails at record 37 too')
    err = host_check_log(img, 400, 5)
    check(err is not None and err.startswith('record 37 '),
          'negative control: the host reading fails at record 37: %s' % err)
    status, out = run('blk-log mib=16 records=10 bogus=1', img)
    check(status == 2 and "unknown parameter 'bogus=1'" in out,
          'an unknown parameter is refused (exit status 2)')


def main():
    global FMT
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        print('SKIP: /dev/kvm is missing or not accessible; test_guest_blklog needs KVM',
              file=sys.stderr)
        return 77
    FMT = 'qcow2' if has_qcow2() else 'raw'
    if FMT != 'qcow2':
        print('note: this build has no qcow2 driver: running on raw images', file=sys.stderr)
    for t in (test_pass_and_verify, test_stop_cont, test_negative_control):
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
