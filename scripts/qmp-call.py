#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""qmp-call.py SOCKET COMMAND [ARGS-JSON]: connect to a QMP unix socket, negotiate,
run one command and print its return value (a string as is, anything else as JSON).
An error reply is printed on stderr with exit status 1. Used by scripts/run-demo.sh.

    scripts/qmp-call.py src.qmp human-monitor-command '{"command-line": "info migrate"}'
"""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests'))
from qmp import QMP   # noqa: E402


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sys.argv[1])
    q = QMP.from_socket(sock)
    q.read_message()                                  # the greeting
    q.cmd('qmp_capabilities')
    rsp = q.cmd(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) == 4 else None)
    q.close()
    if 'error' in rsp:
        print('error: ' + rsp['error']['desc'], file=sys.stderr)
        return 1
    ret = rsp['return']
    print(ret if isinstance(ret, str) else json.dumps(ret), end='' if isinstance(ret, str)
          else '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
