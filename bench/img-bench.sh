#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# img-bench.sh: godwit-img bench against Debian's qemu-img bench on the same raw
# file, alternating the two programs round by round so that both see the same
# page cache and disk state. For every AIO back end (threads, native, io_uring)
# and queue depth (1, 32) it prints the median run time of each and the ratio
# ours/QEMU (below 1.00 means Godwit is faster).
#
# Requests are 4 KiB (-s 4k) with O_DIRECT (-t none); qemu-img bench is
# sequential, so a step (-S, default 64k) scatters them over the file.
#
# Usage: bench/img-bench.sh [-b BUILD_DIR] [-a AIOS] [-n ROUNDS] [-c COUNT] [-S STEP] [-z SIZE] [-w]
#   -b  build directory holding tools/godwit-img (default: build)
#   -a  back ends to run, comma-separated (default: threads,native,io_uring)
#   -n  rounds per configuration (default 5)
#   -c  requests per run (default 20000)
#   -S  step between requests (default 64k)
#   -z  size of the test file (default 512M; created preallocated in a temp dir)
#   -w  write requests instead of reads
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
rounds=5
count=20000
step=64k
size=512M
write=
aios=threads,native,io_uring

while getopts "b:a:n:c:S:z:w" opt; do
    case $opt in
    b) build=$OPTARG ;;
    a) aios=$OPTARG ;;
    n) rounds=$OPTARG ;;
    c) count=$OPTARG ;;
    S) step=$OPTARG ;;
    z) size=$OPTARG ;;
    w) write=-w ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2 ;;
    esac
done

ours=$build/tools/godwit-img
ref=${QEMU_IMG:-qemu-img}
[ -x "$ours" ] || { echo "no $ours: build first (ninja -C $build)" >&2; exit 1; }
command -v "$ref" >/dev/null || { echo "no $ref in PATH" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/img-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
img=$tmp/bench.raw
# /var/tmp rather than /tmp: O_DIRECT needs a real file system, not tmpfs.
"$ref" create -q -f raw -o preallocation=full "$img" "$size"

# One run: prints the seconds from "Run completed in X seconds."
run()
{
    local prog=$1 aio=$2 depth=$3
    "$prog" bench $write -f raw -t none -i "$aio" -d "$depth" -c "$count" -s 4k -S "$step" \
        "$img" | sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p'
}

median()
{
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
                                         else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '%s requests of 4 KiB, step %s, %s rounds, file %s, O_DIRECT\n' \
    "$count" "$step" "$rounds" "$size"
printf '%-10s %5s %12s %12s %10s %12s\n' aio depth godwit-s qemu-s ratio godwit-kIOPS
for aio in ${aios//,/ }; do
    for depth in 1 32; do
        ours_t=() ref_t=()
        skip=
        for ((r = 0; r < rounds; r++)); do
            a=$(run "$ours" "$aio" "$depth" 2>/dev/null || true)
            b=$(run "$ref" "$aio" "$depth" 2>/dev/null || true)
            if [ -z "$a" ] || [ -z "$b" ]; then
                skip=1
                break
            fi
            ours_t+=("$a")
            ref_t+=("$b")
        done
        if [ -n "$skip" ]; then
            printf '%-10s %5s %12s\n' "$aio" "$depth" "failed (back end unavailable?)"
            continue
        fi
        mo=$(printf '%s\n' "${ours_t[@]}" | median)
        mr=$(printf '%s\n' "${ref_t[@]}" | median)
        awk -v a="$aio" -v d="$depth" -v o="$mo" -v q="$mr" -v c="$count" 'BEGIN {
            printf "%-10s %5s %12.3f %12.3f %10.2f %12.1f\n", a, d, o, q,
                   (q > 0 ? o / q : 0), (o > 0 ? c / o / 1000 : 0) }'
    done
done
