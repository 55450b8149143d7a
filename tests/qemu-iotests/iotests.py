# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# iotests.py: the Python side of the harness, for tests that are easier to
# write in Python (later: QMP scenarios with a VM class). Standard library only.
#
# The runner (./check) sets IMGFMT, IMGPROTO, TEST_DIR, SOCK_DIR, the
# QEMU_*_PROG binaries and IOTESTS_NOTRUN_FILE, puts this directory on
# PYTHONPATH and runs the test with cwd=TEST_DIR. A test prints (log()) what
# it checks; the runner compares that with NNN.out.

import json
import os
import re
import subprocess
import sys

imgfmt = os.environ.get('IMGFMT', 'raw')
imgproto = os.environ.get('IMGPROTO', 'file')
test_dir = os.environ['TEST_DIR']
sock_dir = os.environ['SOCK_DIR']
qemu_img_prog = os.environ.get('QEMU_IMG_PROG', 'qemu-img')
qemu_io_prog = os.environ.get('QEMU_IO_PROG', 'qemu-io')
qemu_nbd_prog = os.environ.get('QEMU_NBD_PROG', 'qemu-nbd')
qemu_prog = os.environ.get('QEMU_PROG', 'qemu-system-x86_64')

test_img = os.path.join(test_dir, 't.' + imgfmt)

# The same options as common.rc's $QEMU_IO (spec §0.1).
qemu_io_args = ['--cache', 'writeback', '--aio', 'threads', '-f', imgfmt]


def notrun(reason):
    """Skip the whole test: the runner reports it as 'not run: REASON'."""
    path = os.environ.get('IOTESTS_NOTRUN_FILE', os.path.join(sock_dir, 'notrun'))
    with open(path, 'w') as f:
        f.write(reason + '\n')
    sys.exit(0)


def verify_image_format(supported_fmts=(), supported_protocols=()):
    if supported_fmts and imgfmt not in supported_fmts and 'generic' not in supported_fmts:
        notrun('not suitable for this image format: %s' % imgfmt)
    if supported_protocols and imgproto not in supported_protocols:
        notrun('not suitable for this image protocol: %s' % imgproto)


def require_programs(*progs):
    for prog in progs:
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            notrun('%s utility required, not found: %s' % (os.path.basename(prog), prog))


# Filters: the same meaning as common.filter.
_timing_re = re.compile(r'^(.*), [0-9]* ops; [^(]* \([0-9.]* [A-Za-z]*/sec and [0-9.]* ops/sec\)$',
                        re.MULTILINE)


def filter_testdir(text):
    return text.replace(test_dir, 'TEST_DIR').replace(sock_dir, 'SOCK_DIR')


def filter_qemu_io(text):
    text = re.sub(r'(qemu|godwit)-io> ', '', text)
    text = _timing_re.sub(r'\1, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)', text)
    return filter_testdir(text)


def filter_imgfmt(text):
    return re.sub(r'\b%s\b' % re.escape(imgfmt), 'IMGFMT', text)


def log(msg, filters=()):
    """Print MSG (a string, or any JSON value printed with sorted keys)."""
    if not isinstance(msg, str):
        msg = json.dumps(msg, sort_keys=True)
    for f in filters:
        msg = f(msg)
    print(msg, flush=True)


def _run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, check=False)
    return p.returncode, p.stdout


def qemu_img(*args):
    """Run qemu-img ARGS; return (exit status, merged output)."""
    return _run([qemu_img_prog] + list(args))


def qemu_io(*args):
    """Run qemu-io with the harness options; return (status, filtered output)."""
    status, out = _run([qemu_io_prog] + qemu_io_args + list(args))
    return status, filter_qemu_io(out)


def qemu_img_info_json(filename, *args):
    status, out = qemu_img('info', '--output=json', *args, filename)
    if status != 0:
        raise RuntimeError('qemu-img info failed: ' + out)
    return json.loads(out)
