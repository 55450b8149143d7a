#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
# run-demo.sh: the README's main job. Install what is missing, build, then boot the
# test guest under KVM on a qcow2 disk and, while it writes its pattern through
# virtio-blk, live-migrate it with its storage (HMP `migrate -d blk tcp:...`, sent
# through QMP's human-monitor-command) to a second godwit process started with
# `-incoming` and an empty image of the same size. The guest finishes and verifies
# its pattern on the destination; the destination image is checked with qemu-img
# check and compare. Prints the migration's figures (total time, downtime, MB/s).
# Without a usable /dev/kvm: a guest-less machine (-accel qtest) over QMP, then a
# block migration between two -machine none processes. Under a minute once built.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f build/build.ninja ] || ./configure --builddir=build >/dev/null
ninja -C build >/dev/null
echo "build: done (build/system/godwit, build/tools/godwit-img, build/tools/godwit-io)"

GODWIT=build/system/godwit
IMG=build/tools/godwit-img
IO=build/tools/godwit-io
GUEST=build/guest/guest.elf
QMPCALL=scripts/qmp-call.py
WORK=$(mktemp -d /tmp/godwit-demo.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

run() {
    printf '$'; printf ' %q' "$@"; echo
    "$@"
}

# hmp SOCKET LINE: one HMP command through QMP's human-monitor-command
hmp() {
    echo "  (hmp) $2"
    "$QMPCALL" "$1" human-monitor-command "{\"command-line\": \"$2\"}" | sed 's/^/        /'
}

free_port() {
    python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

wait_for() {   # wait_for FILE TEXT (up to 20 s), until the line is complete
    for _ in $(seq 2000); do
        grep -q "$2" "$1" 2>/dev/null && [ -z "$(tail -c1 "$1")" ] && return 0
        sleep 0.01
    done
    echo "timed out waiting for '$2' in $1"; exit 1
}

wait_status() {   # wait_status QMP_SOCKET STATUS (up to 10 s)
    for _ in $(seq 1000); do
        if [ -S "$1" ] && "$QMPCALL" "$1" query-status 2>/dev/null | grep -q "\"$2\""; then
            return 0
        fi
        sleep 0.01
    done
    echo "$1 never reached $2"; exit 1
}

# migrate_and_watch SRC_QMP HMP_LINE DISK_MIB: start, poll until done, print figures
migrate_and_watch() {
    local r status
    hmp "$1" "$2"
    for _ in $(seq 3000); do
        r=$("$QMPCALL" "$1" query-migrate)
        status=$(python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('status'))" "$r")
        case $status in completed|failed|cancelled) break ;; esac
        sleep 0.02
    done
    python3 - "$r" "$3" <<'EOF'
import json, sys
r, disk = json.loads(sys.argv[1]), int(sys.argv[2])
print('   -> status %s%s' % (r['status'], ': ' + r['error-desc'] if 'error-desc' in r else ''))
if r['status'] == 'completed':
    t, ram = r['total-time'], r.get('ram', {}).get('transferred', 0)
    print('   -> total time %d ms, downtime %d ms, setup %d ms; %d MiB of disk + %.1f MiB of '
          'RAM sent: %.0f MB/s' % (t, r['downtime'], r['setup-time'], disk, ram / 2**20,
                                   (disk * 2**20 + ram) / 1e3 / max(t, 1)))
EOF
    [ "$status" = completed ]
}

# GODWIT_DEMO_NO_KVM=1 shows the guest-less demo even where /dev/kvm works.
if [ -n "${GODWIT_DEMO_NO_KVM:-}" ] ||
   ! python3 -c "import os,sys; sys.exit(0 if os.access('/dev/kvm', os.R_OK | os.W_OK) else 1)"; then
    echo "== /dev/kvm is not usable here: a guest-less machine (-accel qtest) over QMP instead"
    run "$IMG" create -f raw "$WORK/disk.raw" 64M
    printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status"}' \
        '{"execute": "query-kvm"}' '{"execute": "query-block"}' \
        '{"execute": "human-monitor-command", "arguments": {"command-line": "info block"}}' \
        '{"execute": "quit"}' |
        run "$GODWIT" -accel qtest -display none -nodefaults -qmp stdio \
            -drive "file=$WORK/disk.raw,format=raw,if=virtio"

    echo "== block migration between two guest-less processes (-machine none)"
    run "$IMG" create -f qcow2 "$WORK/src.qcow2" 64M >/dev/null
    run "$IMG" create -f qcow2 "$WORK/dst.qcow2" 64M >/dev/null
    run "$IO" -f qcow2 -c "write -P 0x5a 0 24M" "$WORK/src.qcow2"
    PORT=$(free_port)
    echo "\$ $GODWIT -machine none -drive file=dst.qcow2,if=none,id=disk0 -incoming tcp:127.0.0.1:$PORT &"
    "$GODWIT" -machine none -display none -nodefaults -qmp "unix:$WORK/dst.qmp,server=on,wait=off" \
        -drive "file=$WORK/dst.qcow2,if=none,id=disk0" -incoming "tcp:127.0.0.1:$PORT" \
        >"$WORK/dst.out" 2>&1 &
    PIDS+=($!)
    echo "\$ $GODWIT -machine none -drive file=src.qcow2,if=none,id=disk0 &"
    "$GODWIT" -machine none -display none -nodefaults -qmp "unix:$WORK/src.qmp,server=on,wait=off" \
        -drive "file=$WORK/src.qcow2,if=none,id=disk0" >/dev/null 2>&1 &
    PIDS+=($!)
    wait_status "$WORK/dst.qmp" inmigrate
    wait_status "$WORK/src.qmp" running
    migrate_and_watch "$WORK/src.qmp" "migrate -d blk tcp:127.0.0.1:$PORT" 64
    wait_status "$WORK/dst.qmp" running
    hmp "$WORK/dst.qmp" "info status"
    hmp "$WORK/dst.qmp" "quit" >/dev/null
    hmp "$WORK/src.qmp" "quit" >/dev/null
    sleep 0.2
    tr '\r' '\n' <"$WORK/dst.out" | grep -E 'Receiving|100 %' | sed 's/^/   destination: /' || true
    if command -v qemu-img >/dev/null; then
        run qemu-img check "$WORK/dst.qcow2"
        run qemu-img compare "$WORK/src.qcow2" "$WORK/dst.qcow2"
    else
        run "$IMG" compare "$WORK/src.qcow2" "$WORK/dst.qcow2"
    fi
    exit 0
fi

SEED=42
MIB=32
APPEND="blk-pattern mib=$MIB seed=$SEED kib=4 qd=1"
SRC="$WORK/src.qcow2"
DST="$WORK/dst.qcow2"
PORT=$(free_port)
T0=$(date +%s%N)

echo "== 1. two 64 MiB qcow2 images made with godwit-img: the source's and an empty one"
run "$IMG" create -f qcow2 "$SRC" 64M
run "$IMG" create -f qcow2 "$DST" 64M

echo "== 2. the destination: the same machine, waiting for the migration on tcp:127.0.0.1:$PORT"
echo "\$ $GODWIT -accel kvm -m 64M -kernel $GUEST -append '$APPEND' \\"
echo "      -drive file=dst.qcow2,if=virtio -serial file:dst-console.txt \\"
echo "      -qmp unix:dst.qmp,server=on,wait=off -incoming tcp:127.0.0.1:$PORT &"
"$GODWIT" -accel kvm -m 64M -kernel "$GUEST" -append "$APPEND" -display none \
    -drive "file=$DST,if=virtio" -serial "file:$WORK/dst-console.txt" \
    -qmp "unix:$WORK/dst.qmp,server=on,wait=off" -incoming "tcp:127.0.0.1:$PORT" \
    >"$WORK/dst.out" 2>&1 &
DST_PID=$!
PIDS+=("$DST_PID")
wait_status "$WORK/dst.qmp" inmigrate
hmp "$WORK/dst.qmp" "info status"

echo "== 3. the source: the test guest writes a $MIB MiB pattern (seed $SEED) through virtio-blk,"
echo "      4 KiB at a time, then reads it back and verifies it"
echo "\$ $GODWIT -accel kvm -m 64M -kernel $GUEST -append '$APPEND' \\"
echo "      -drive file=src.qcow2,if=virtio -serial file:src-console.txt \\"
echo "      -qmp unix:src.qmp,server=on,wait=off &"
"$GODWIT" -accel kvm -m 64M -kernel "$GUEST" -append "$APPEND" -display none \
    -drive "file=$SRC,if=virtio" -serial "file:$WORK/src-console.txt" \
    -qmp "unix:$WORK/src.qmp,server=on,wait=off" >/dev/null 2>&1 &
PIDS+=($!)
wait_for "$WORK/src-console.txt" "blk-pattern: start"
sed 's/^/   source guest: /' "$WORK/src-console.txt"

echo "== 4. live-migrate it with its storage while it writes (QEMU's default cap is 128 MiB/s)"
hmp "$WORK/src.qmp" "migrate_set_parameter max-bandwidth 1G"
migrate_and_watch "$WORK/src.qmp" "migrate -d blk tcp:127.0.0.1:$PORT" 64
hmp "$WORK/src.qmp" "info status"
echo "   the source guest's console ends here:"
sed 's/^/   source guest: /' "$WORK/src-console.txt"

echo "== 5. the guest carries on and finishes on the destination"
set +e
wait "$DST_PID"
DST_STATUS=$?
set -e
echo "   destination stdout (block migration progress):"
tr '\r' '\n' <"$WORK/dst.out" | awk '/Receiving/ { print } /Completed/ { n++; if (n == 1) print; last = $0 }
    END { if (n > 1) print "... " (n - 2) " more ..."; if (n > 1) print last }' | sed 's/^/   /'
sed 's/^/   destination guest: /' "$WORK/dst-console.txt"
echo "   -> destination godwit exited with the guest's status $DST_STATUS"
[ "$DST_STATUS" = 0 ] && grep -q "blk-pattern: PASS" "$WORK/dst-console.txt"
hmp "$WORK/src.qmp" "quit" >/dev/null

echo "== 6. check the destination image from the host"
python3 - "$WORK/ref.raw" $SEED $MIB <<'EOF'
import struct, sys
seed, mib = int(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[1], 'wb') as f:
    for s in range(mib * 2048):
        f.write(struct.pack('<Q', (s << 32) | seed) * 64)
    f.truncate(64 << 20)
EOF
echo "   ref.raw: the guest's pattern written by the host (every word of sector s is s<<32|seed)"
if command -v qemu-img >/dev/null; then
    run qemu-img check "$DST"
    run qemu-img compare "$DST" "$WORK/ref.raw"
else
    run "$IMG" check "$DST"
    run "$IMG" compare -f qcow2 -F raw "$DST" "$WORK/ref.raw"
fi
echo "== demo done in $(( ($(date +%s%N) - T0) / 1000000 )) ms. Tests: meson test -C build"
echo "   (suite e2e: tests/e2e/test_migration_kvm.py migrates blk, inc, cancel, failures)"
