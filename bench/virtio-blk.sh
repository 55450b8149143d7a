#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# virtio-blk.sh: guest I/O through virtio-blk (the test guest's blk-io-bench on
# run-guest) against fio on the same host file: sequential 1 MiB and random 4 KiB,
# QD 1 and 32, reads and writes. Prints both and the ratio guest/fio.
#   bench/virtio-blk.sh [BUILD_DIR] [--direct] [--ms N] [--mib N]
# --direct: cache=none,aio=native for the guest and --direct=1 --ioengine=libaio for fio
# (the default is the host page cache for both).
set -euo pipefail
BUILD=build; DIRECT=0; MS=2000; MIB=256
while [ $# -gt 0 ]; do
    case "$1" in
    --direct) DIRECT=1 ;;
    --ms) MS=$2; shift ;;
    --mib) MIB=$2; shift ;;
    *) BUILD=$1 ;;
    esac
    shift
done
RUN="$BUILD/tests/e2e/run-guest"; GUEST="$BUILD/guest/guest.elf"
[ -x "$RUN" ] || { echo "build first: $RUN missing" >&2; exit 1; }
command -v fio >/dev/null || apt-get install -y fio >/dev/null
IMG=$(mktemp /var/tmp/godwit-vblk-bench.XXXXXX)
trap 'rm -f "$IMG"' EXIT
dd if=/dev/urandom of="$IMG" bs=1M count="$MIB" status=none    # allocated, not sparse

GOPT=(); FOPT=(--ioengine=libaio --direct=0)
if [ "$DIRECT" = 1 ]; then GOPT=(-n); FOPT=(--ioengine=libaio --direct=1); fi

echo "== guest: blk-io-bench through virtio-blk (mib=$MIB, ${MS} ms per case, direct=$DIRECT)"
GOUT=$("$RUN" -m 160 -s "${GOPT[@]}" -d "$IMG" "$GUEST" blk-io-bench mib="$MIB" qd=32 ms="$MS" 2>&1)
echo "$GOUT" | grep -v '^blk-io-bench:   kicks'

# fio with the same patterns on the same file
fio_case() {   # rw bs qd -> "IOPS MBps"
    fio --name=b --filename="$IMG" --size="${MIB}M" --rw="$1" --bs="$2" --iodepth="$3" \
        "${FOPT[@]}" --time_based --runtime="$((MS / 1000))" --output-format=terse \
        --terse-version=3 --randrepeat=0 --norandommap 2>/dev/null |
    awk -F';' '{ if ($7 + 0 > 0) { print $8, $7 / 1024 } else { print $49, $48 / 1024 } }'
}

printf '\n%-12s %5s %3s | %10s %9s | %10s %9s | %6s\n' case bs qd "guest IOPS" "MB/s" "fio IOPS" "MB/s" ratio
for c in "seq-write write 1024k 1" "seq-read read 1024k 1" "seq-write write 1024k 32" \
         "seq-read read 1024k 32" "rand-read randread 4k 1" "rand-read randread 4k 32" \
         "rand-write randwrite 4k 1" "rand-write randwrite 4k 32"; do
    set -- $c
    g=$(echo "$GOUT" | grep "blk-io-bench: $1 bs=$3 qd=$4:" | awk '{ print $5, $7 }')
    f=$(fio_case "$2" "$3" "$4")
    read -r giops gmbs <<<"$g"; read -r fiops fmbs <<<"$f"
    ratio=$(awk -v a="$giops" -v b="$fiops" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    printf '%-12s %5s %3s | %10s %9s | %10s %9.1f | %6s\n' "$1" "$3" "$4" "$giops" "$gmbs" "$fiops" "$fmbs" "$ratio"
done

echo
echo "== where the time goes (QD1 4 KiB): one kick = one guest exit to KVM (ioeventfd, no"
echo "   return to user space), an eventfd wake of the main loop, the request coroutine and"
echo "   its back end; the guest polls the used ring, so completions cost no exit."
"$BUILD/bench/bench-kvm-boot" 2>&1 | grep -A2 "exit round trip" || true
