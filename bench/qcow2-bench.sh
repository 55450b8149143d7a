#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# qcow2-bench.sh: the qcow2 driver against Debian's qemu-img, alternating the two
# programs round by round on the same files so both see the same page cache.
#
#  bench    a fully written 1 GiB qcow2 (created by qemu-img, filled by qemu-io),
#           4 KiB requests at depth 32, -t none -i native, offsets scattered by a
#           step of 663605248 bytes (qemu-img bench wraps offsets modulo the
#           image size), reads then writes (in place: every cluster exists).
#           The raw ceiling: the same pattern on a fully written 1 GiB raw
#           file (-f raw), with both programs, in the same rounds. It is what
#           the disk and the AIO path give without any format; the
#           "qcow2/raw" rows divide each program's qcow2 median by its own
#           raw median, so 1.00 means qcow2 costs that program nothing here.
#  convert  raw -> qcow2 of a 2 GiB raw file that is half data (1 MiB of data,
#           1 MiB hole, ...), default options of both programs.
#
# For each it prints the median of each program and the ratio ours/QEMU of the
# rates (ops/s or MB/s; above 1.00 means Godwit is faster).
#
# Usage: bench/qcow2-bench.sh [-b BUILD_DIR] [-n ROUNDS] [-c COUNT] [-s bench|convert]
#   -b  build directory holding tools/godwit-img (default: build)
#   -n  rounds per configuration (default 5)
#   -c  requests per bench run (default 200000)
#   -s  run only one section
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
rounds=5
count=200000
only=

while getopts "b:n:c:s:" opt; do
    case $opt in
    b) build=$OPTARG ;;
    n) rounds=$OPTARG ;;
    c) count=$OPTARG ;;
    s) only=$OPTARG ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2 ;;
    esac
done

ours=$build/tools/godwit-img
ref=${QEMU_IMG:-qemu-img}
qio=${QEMU_IO:-qemu-io}
[ -x "$ours" ] || { echo "no $ours: build first (ninja -C $build)" >&2; exit 1; }
command -v "$ref" >/dev/null || { echo "no $ref in PATH" >&2; exit 1; }

# /var/tmp rather than /tmp: O_DIRECT needs a real file system, not tmpfs.
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/qcow2-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

median()
{
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
                                         else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# prints "label ours qemu unit ratio" (rates: bigger is better)
row()
{
    awk -v l="$1" -v o="$2" -v q="$3" -v u="$4" -v f="$5" 'BEGIN {
        printf "%-16s %14" f " %14" f " %8s %8.2f\n", l, o, q, u, (q > 0 ? o / q : 0) }'
}

# the medians of ours_r and ref_r as one row
report()
{
    local label=$1 unit=$2
    row "$label" "$(printf '%s\n' "${ours_r[@]}" | median)" \
        "$(printf '%s\n' "${ref_r[@]}" | median)" "$unit" .1f
}

bench_run()
{
    local prog=$1 rw=$2 img=$3 fmt=${4:-qcow2} t
    t=$("$prog" bench $rw -f "$fmt" -t none -i native -d 32 -c "$count" -s 4k -S 663605248 \
        "$img" | sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p')
    [ -n "$t" ] || { echo "bench failed: $prog $rw" >&2; exit 1; }
    awk -v t="$t" -v c="$count" 'BEGIN { printf "%.1f\n", c / t }'
}

printf '%-16s %14s %14s %8s %8s\n' test godwit qemu unit ratio
if [ -z "$only" ] || [ "$only" = bench ]; then
    img=$tmp/full.qcow2 rawimg=$tmp/full.raw
    "$ref" create -q -f qcow2 "$img" 1G
    "$qio" -f qcow2 -t none -c 'write -P 0x5a 0 1G' "$img" >/dev/null
    # written, not just sized: O_DIRECT reads of a hole never reach the disk
    "$ref" create -q -f raw "$rawimg" 1G
    "$qio" -f raw -t none -c 'write -P 0x5a 0 1G' "$rawimg" >/dev/null
    for rw in "" -w; do
        name=$([ -n "$rw" ] && echo write || echo read)
        ours_q=() ref_q=() ours_raw=() ref_raw=()
        for ((r = 0; r < rounds; r++)); do
            ours_q+=("$(bench_run "$ours" "$rw" "$img")")
            ref_q+=("$(bench_run "$ref" "$rw" "$img")")
            ours_raw+=("$(bench_run "$ours" "$rw" "$rawimg" raw)")
            ref_raw+=("$(bench_run "$ref" "$rw" "$rawimg" raw)")
        done
        ours_r=("${ours_q[@]}") ref_r=("${ref_q[@]}")
        report "bench $name" ops/s
        mo=$(printf '%s\n' "${ours_q[@]}" | median)
        mq=$(printf '%s\n' "${ref_q[@]}" | median)
        ours_r=("${ours_raw[@]}") ref_r=("${ref_raw[@]}")
        report "raw $name" ops/s
        ro=$(printf '%s\n' "${ours_raw[@]}" | median)
        rq=$(printf '%s\n' "${ref_raw[@]}" | median)
        row "$name qcow2/raw" "$(awk -v a="$mo" -v b="$ro" 'BEGIN { print a / b }')" \
            "$(awk -v a="$mq" -v b="$rq" 'BEGIN { print a / b }')" "of raw" .2f
    done
fi

if [ -z "$only" ] || [ "$only" = convert ]; then
    raw=$tmp/half.raw
    "$ref" create -q -f raw "$raw" 2G
    cmds=()
    for ((m = 0; m < 2048; m += 2)); do
        cmds+=(-c "write -P $((m % 251 + 1)) ${m}M 1M")
    done
    "$qio" -f raw "${cmds[@]}" "$raw" >/dev/null
    sync
    conv_run()
    {
        local prog=$1 t0 t1
        rm -f "$tmp/out.qcow2"
        sync    # start clean: no writeback of the previous run's output meanwhile
        t0=$(date +%s.%N)
        "$prog" convert -f raw -O qcow2 "$raw" "$tmp/out.qcow2"
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", 2048 / (b - a) }'
    }
    ours_r=() ref_r=()
    for ((r = 0; r < rounds; r++)); do
        ours_r+=("$(conv_run "$ours")")
        ref_r+=("$(conv_run "$ref")")
    done
    report "convert 2G" MiB/s
    conv_run "$ours" >/dev/null
    "$ref" compare -q -f raw -F qcow2 "$raw" "$tmp/out.qcow2" ||
        { echo "converted image differs from the source" >&2; exit 1; }
fi
