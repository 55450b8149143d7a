#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
# run-demo.sh: the README's main job. Install what is missing, build, then boot the
# test guest under KVM on a virtio-blk disk (qcow2 when the driver is built, else
# raw) made with godwit-img, let it write a pattern, and check the disk from the
# host with godwit-io and with Debian's qemu-io and qemu-img compare. Without a
# usable /dev/kvm it shows a guest-less machine (-accel qtest) over QMP instead.
# Takes well under a minute once built.
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
WORK=$(mktemp -d /tmp/godwit-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

run() {
    printf '$'; printf ' %q' "$@"; echo
    "$@"
}

# 16 bytes of the guest's pattern at byte offset $1, seed $2, as "read -v" prints them
pattern_hex() {
    python3 -c "import struct,sys; o,s=int(sys.argv[1]),int(sys.argv[2]); \
print(' '.join('%02x' % b for b in struct.pack('<Q', ((o // 512) << 32) | s) * 2))" "$1" "$2"
}

# check_word TOOL FORMAT IMAGE OFFSET SEED: does the image hold the pattern there?
check_word() {
    local want
    want=$(pattern_hex "$4" "$5")
    echo "\$ $1 -f $2 -r -c 'read -v $4 16' $3"
    if "$1" -f "$2" -r -c "read -v $4 16" "$3" | tee /dev/stderr | grep -q "$want"; then
        echo "   -> the pattern word for sector $(($4 / 512)), seed $5 is there"
    else
        echo "   -> MISMATCH (expected $want)"; exit 1
    fi
}

if ! python3 -c "import os,sys; sys.exit(0 if os.access('/dev/kvm', os.R_OK | os.W_OK) else 1)"; then
    echo "== /dev/kvm is not usable here: a guest-less machine (-accel qtest) over QMP instead"
    run "$IMG" create -f raw "$WORK/disk.raw" 64M
    printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status"}' \
        '{"execute": "query-kvm"}' '{"execute": "query-block"}' \
        '{"execute": "human-monitor-command", "arguments": {"command-line": "info block"}}' \
        '{"execute": "quit"}' |
        run "$GODWIT" -accel qtest -display none -nodefaults -qmp stdio \
            -drive "file=$WORK/disk.raw,format=raw,if=virtio"
    exit 0
fi

FMT=raw
if "$GODWIT" -drive format=help | head -1 | grep -qw qcow2; then
    FMT=qcow2
fi
DISK="$WORK/disk.$FMT"
SEED=42
echo "== 1. a 64 MiB $FMT disk made with godwit-img"
run "$IMG" create -f "$FMT" "$DISK" 64M

echo "== 2. boot the test guest under KVM; it writes a 32 MiB pattern (seed $SEED) through"
echo "      virtio-blk, reads it back and verifies it; its exit code is godwit's"
start=$(date +%s%N)
run "$GODWIT" -accel kvm -m 64M -kernel "$GUEST" \
    -append "blk-pattern mib=32 seed=$SEED qd=8" \
    -drive "file=$DISK,format=$FMT,if=virtio" -serial stdio -display none
echo "   -> guest exit status 0 in $(( ($(date +%s%N) - start) / 1000000 )) ms (process start to exit)"

echo "== 3. check the disk from the host"
run "$IMG" check "$DISK" 2>/dev/null || run "$IMG" info "$DISK"
check_word "$IO" "$FMT" "$DISK" 512 $SEED
check_word "$IO" "$FMT" "$DISK" $((31 * 1024 * 1024 + 4096)) $SEED
if command -v qemu-io >/dev/null && command -v qemu-img >/dev/null; then
    check_word qemu-io "$FMT" "$DISK" $((17 * 1024 * 1024)) $SEED
    echo "   a raw reference with the same pattern, written by the host:"
    python3 - "$WORK/ref.raw" $SEED <<'EOF'
import struct, sys
with open(sys.argv[1], 'wb') as f:
    seed = int(sys.argv[2])
    for s in range(32 * 2048):
        f.write(struct.pack('<Q', (s << 32) | seed) * 64)
    f.truncate(64 << 20)
EOF
    run qemu-img compare -f "$FMT" -F raw "$DISK" "$WORK/ref.raw"
    run "$IMG" compare -f "$FMT" -F raw "$DISK" "$WORK/ref.raw"
else
    echo "   (Debian qemu-io/qemu-img not installed: skipped their checks)"
fi

echo "== 4. the guest reads the disk again in a new VM (-device form, QMP-free)"
run "$GODWIT" -accel kvm -m 64M -kernel "$GUEST" -append "blk-verify mib=32 seed=$SEED" \
    -drive "file=$DISK,format=$FMT,if=none,id=disk0" \
    -device virtio-blk-device,drive=disk0,id=vblk0 -serial stdio -display none
echo "== demo done. Tests: meson test -C build (suite e2e runs the guest);"
echo "   benchmarks: build/bench/bench-coroutine-switch, bench/virtio-blk.sh, bench/img-bench.sh"
