#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# nbd-bench.sh: NBD throughput of godwit-nbd against Debian's qemu-nbd serving the
# same image, measured with nbdcopy (libnbd-bin) over a unix socket. Rounds
# alternate the two servers so that both see the same page cache. Reads copy the
# whole export to null: (the image is filled with a pattern, so block status
# cannot skip anything); writes copy a data file of the same size into a fresh
# raw image. nbdcopy runs with its defaults (4 connections when the server
# allows multi-conn, 64 requests in flight) and with --connections=1.
# Prints the median time and MiB/s of each and the ratio ours/QEMU (below 1.00
# means Godwit is faster).
#
# Usage: bench/nbd-bench.sh [-b BUILD_DIR] [-n ROUNDS] [-z SIZE] [-f FORMAT]
#   -b  build directory holding tools/godwit-nbd (default: build)
#   -n  rounds per configuration (default 5)
#   -z  image size (default 1G)
#   -f  image format served: raw or qcow2 (default raw)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
rounds=5
size=1G
fmt=raw

while getopts "b:n:z:f:" opt; do
    case $opt in
    b) build=$OPTARG ;;
    n) rounds=$OPTARG ;;
    z) size=$OPTARG ;;
    f) fmt=$OPTARG ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2 ;;
    esac
done
for t in qemu-nbd qemu-img qemu-io nbdcopy; do
    command -v $t >/dev/null || { echo "nbd-bench: $t is not installed" >&2; exit 1; }
done
godwit_nbd=$build/tools/godwit-nbd
[ -x "$godwit_nbd" ] || { echo "nbd-bench: no $godwit_nbd (build first)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

img=$tmp/src.$fmt
data=$tmp/data.raw
qemu-img create -q -f "$fmt" "$img" "$size"
qemu-io -f "$fmt" -c "write -P 0x5a 0 $size" "$img" >/dev/null
qemu-img create -q -f raw "$data" "$size"
qemu-io -f raw -c "write -P 0xa5 0 $size" "$data" >/dev/null
bytes=$(qemu-img info --output=json -f "$fmt" "$img" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')

# serve FILE with server PROG (read-only if $3 = ro); sets $pid, waits for the socket
serve() {
    local prog=$1 file=$2 ro=${3:-}
    rm -f "$tmp/s.sock"
    "$prog" -f "$fmt" -t -e 8 -k "$tmp/s.sock" -x exp ${ro:+-r} "$file" &
    pid=$!
    for _ in $(seq 200); do [ -S "$tmp/s.sock" ] && return; sleep 0.02; done
    echo "nbd-bench: $prog did not start" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

uri="nbd+unix:///exp?socket=$tmp/s.sock"
printf '%-28s %10s %10s %10s %10s %7s\n' case "godwit s" "MiB/s" "qemu s" "MiB/s" ratio
for conns in default 1; do
    copts=
    [ "$conns" = 1 ] && copts=--connections=1
    for dir in read write; do
        : > "$tmp/t.godwit"; : > "$tmp/t.qemu"
        for _ in $(seq "$rounds"); do
            for who in godwit qemu; do
                prog=$godwit_nbd; [ $who = qemu ] && prog=qemu-nbd
                if [ $dir = read ]; then
                    serve "$prog" "$img" ro
                    t0=$(now); nbdcopy $copts "$uri" null:; t1=$(now)
                else
                    rm -f "$tmp/dst.$fmt"; qemu-img create -q -f "$fmt" "$tmp/dst.$fmt" "$size"
                    serve "$prog" "$tmp/dst.$fmt"
                    t0=$(now); nbdcopy $copts "$data" "$uri"; t1=$(now)
                fi
                stop
                echo "$t1 - $t0" | bc -l >> "$tmp/t.$who"
            done
        done
        g=$(median < "$tmp/t.godwit"); q=$(median < "$tmp/t.qemu")
        printf '%-28s %10.3f %10.0f %10.3f %10.0f %7.2f\n' "$dir connections=$conns" \
            "$g" "$(echo "$bytes / 1048576 / $g" | bc -l)" \
            "$q" "$(echo "$bytes / 1048576 / $q" | bc -l)" "$(echo "$g / $q" | bc -l)"
    done
done
