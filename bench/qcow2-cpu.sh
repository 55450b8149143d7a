#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# qcow2-cpu.sh: CPU cost per request of `bench` (the workload of qcow2-bench.sh:
# 4 KiB, depth 32, -t none -i native, step 663605248, on a fully written 1 GiB
# qcow2), ours against Debian's qemu-img. Wall-clock rates on a shared VM swing
# 2-3x and this workload is bound by the disk, so this counts what we control:
#
#   user instructions per request   valgrind --tool=callgrind, runs of LO and HI
#                                    requests, (Ir(HI) - Ir(LO)) / (HI - LO), so
#                                    start-up and image open cancel out
#   system calls per request        strace -c -f over HI requests
#
# Usage: bench/qcow2-cpu.sh [-b BUILD_DIR] [-l LO] [-h HI]
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
lo=10000
hi=30000

while getopts "b:l:h:" opt; do
    case $opt in
    b) build=$OPTARG ;;
    l) lo=$OPTARG ;;
    h) hi=$OPTARG ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2 ;;
    esac
done

ours=$build/tools/godwit-img
ref=${QEMU_IMG:-qemu-img}
qio=${QEMU_IO:-qemu-io}
for t in valgrind strace "$ref" "$qio"; do
    command -v "$t" >/dev/null || { echo "no $t in PATH" >&2; exit 1; }
done
[ -x "$ours" ] || { echo "no $ours: build first (ninja -C $build)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/qcow2-cpu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
img=$tmp/full.qcow2
"$ref" create -q -f qcow2 "$img" 1G
"$qio" -f qcow2 -t none -c 'write -P 0x5a 0 1G' "$img" >/dev/null

bench_args() { echo "bench $1 -f qcow2 -t none -i native -d 32 -c $2 -s 4k -S 663605248 $img"; }

instr()
{
    # shellcheck disable=SC2046
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" $(bench_args "$2" "$3") 2>&1 |
        sed -n 's/.*Collected : //p'
}

syscalls()
{
    # shellcheck disable=SC2046
    strace -c -f -o "$tmp/strace" "$1" $(bench_args "$2" "$hi") >/dev/null
    awk '$NF == "total" { print $4 + 0 }' "$tmp/strace" | tail -1
}

printf '%-12s %-8s %16s %16s\n' program test instr/request syscalls/request
for prog in "$ours" "$ref"; do
    for rw in "" -w; do
        a=$(instr "$prog" "$rw" "$lo")
        b=$(instr "$prog" "$rw" "$hi")
        n=$(syscalls "$prog" "$rw")
        awk -v p="$(basename "$prog")" -v t="$([ -n "$rw" ] && echo write || echo read)" \
            -v a="$a" -v b="$b" -v d=$((hi - lo)) -v n="$n" -v h="$hi" 'BEGIN {
            printf "%-12s %-8s %16.0f %16.2f\n", p, t, (b - a) / d, n / h }'
    done
done
