#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# qcow2 crash consistency: godwit-io runs random allocating writes (data,
# zeroes, compressed, discards) on a qcow2 image with a backing file and is
# killed with SIGKILL part-way through; Debian's `qemu-img check` must then
# find no corruptions (leaked clusters are allowed: they cost only space).
# ROUNDS rounds (default 10), each on a fresh image, alternating v3 with lazy
# refcounts off, v3 with lazy refcounts on, and v2.
# Usage: qcow2-crash.sh [BUILD_DIR]   (exit 77 = skipped)
set -u
BUILD=${1:-${GODWIT_BUILD_DIR:-$(dirname "$0")/../../build}}
GIMG=$BUILD/tools/godwit-img
GIO=$BUILD/tools/godwit-io
ROUNDS=${ROUNDS:-10}
if ! command -v qemu-img >/dev/null; then
    echo "SKIP: qemu-img not installed (Debian package qemu-utils): crash test NOT run" >&2
    exit 77
fi
for b in "$GIMG" "$GIO"; do
    [ -x "$b" ] || { echo "SKIP: $b not built: crash test NOT run" >&2; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# A deterministic random workload per round: 4k..256k requests over 64 MiB.
workload()
{
    local seed=$1 i off len op
    RANDOM=$seed
    for ((i = 0; i < 4000; i++)); do
        off=$(( (RANDOM % 1024) * 65536 + (RANDOM % 16) * 4096 ))
        len=$(( (1 + RANDOM % 64) * 4096 ))
        op=$((RANDOM % 10))
        if ((op < 6)); then
            echo "write -P $((RANDOM % 255 + 1)) $off $len"
        elif ((op < 7)); then
            echo "write -z $off $len"
        elif ((op < 8)); then
            echo "write -c -P 7 $(( off / 65536 * 65536 )) 65536"
        else
            echo "discard $off $len"
        fi
    done
}

for ((r = 1; r <= ROUNDS; r++)); do
    case $((r % 3)) in
        0) opts=compat=0.10 ;;
        1) opts=compat=1.1 ;;
        2) opts=compat=1.1,lazy_refcounts=on ;;
    esac
    rm -f "$T"/*.qcow2
    "$GIMG" create -q -f qcow2 -o "$opts" "$T/base.qcow2" 64M
    "$GIO" -f qcow2 -c 'write -P 0x5a 0 16M' "$T/base.qcow2" >/dev/null
    "$GIMG" create -q -f qcow2 -o "$opts" -b "$T/base.qcow2" -F qcow2 "$T/top.qcow2"
    workload $((r * 7919)) > "$T/cmds"
    "$GIO" -f qcow2 "$T/top.qcow2" < "$T/cmds" >/dev/null 2>&1 &
    pid=$!
    # kill after a varying delay: 50 ms .. 1 s
    sleep "0.$(( (r * 97) % 10 ))5"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    out=$(qemu-img check -f qcow2 "$T/top.qcow2" 2>&1)
    status=$?
    leaks=$(echo "$out" | sed -n 's/^\([0-9]*\) leaked clusters were found.*/\1/p')
    if [ "$status" = 0 ] || [ "$status" = 3 ]; then
        echo "ok   round $r ($opts): qemu-img check status $status, ${leaks:-0} leaked clusters"
    else
        echo "FAIL round $r ($opts): qemu-img check status $status"
        echo "$out" | head -20
        fails=$((fails + 1))
    fi
done
echo "$fails of $ROUNDS rounds failed"
[ "$fails" = 0 ]
