#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# diff-qemu-io.sh: run the same qemu-io command scripts through Debian's
# qemu-io (the reference) and through our godwit-io, each on a fresh raw
# image, and compare what they print and their exit status.
#
#   tests/interop/diff-qemu-io.sh [-v] [SCRIPT.qio...]
#
# Without arguments every tests/interop/qemu-io-scripts/*.qio runs. A script
# holds one qemu-io command per line; lines starting with '#' are comments,
# except these directives:
#   # size: N          size of the fresh image (default 1M)
#   # args: ARGS       extra qemu-io options (e.g. -r)
#   # mode: c|stdin|both   pass the commands as -c options, on stdin (with
#                      prompts), or both ways (default both)
#
# Only the timing numbers, the program name and the image path are
# normalised; everything else must be identical.
#
# Binaries: QEMU_IO_REF (default: qemu-io on $PATH) and GODWIT_IO (default
# $GODWIT_BUILD_DIR/tools/godwit-io, GODWIT_BUILD_DIR default <repo>/build).
# Images are created with QEMU_IMG_REF (default: qemu-img on $PATH).
#
# Exit status: 0 all equal, 1 a difference, 77 (skip) a binary is missing.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${GODWIT_BUILD_DIR:-$repo/build}
# the tools run inside a scratch directory: relative paths must not break
case "$build" in /*) ;; *) build=$PWD/$build ;; esac

REF_IO=${QEMU_IO_REF:-$(command -v qemu-io || echo /usr/bin/qemu-io)}
REF_IMG=${QEMU_IMG_REF:-$(command -v qemu-img || echo /usr/bin/qemu-img)}
OUR_IO=${GODWIT_IO:-$build/tools/godwit-io}

verbose=0
if [ "${1:-}" = -v ]; then
    verbose=1
    shift
fi

skip()
{
    local msg="SKIP: diff-qemu-io: $*"
    echo "*****************************************************************"
    echo "$msg"
    echo "*****************************************************************"
    echo "$msg" >&2
    exit 77
}

for prog in "$REF_IO" "$REF_IMG" "$OUR_IO"; do
    [ -x "$prog" ] || skip "program not found: $prog (build godwit or set GODWIT_IO/QEMU_IO_REF)"
done

if [ $# -gt 0 ]; then
    scripts=("$@")
else
    scripts=("$here"/qemu-io-scripts/*.qio)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/godwit-interop.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# normalise FILE IMG: timing numbers, program names and the image path.
normalise()
{
    sed -e 's/\(qemu\|godwit\)-io> /PROMPT /g' \
        -e 's/^\(.*\), [0-9]* ops; [^(]* ([0-9.]* [A-Za-z]*\/sec and [0-9.]* ops\/sec)$/\1, X ops; TIME (RATE)/' \
        -e 's#^/[^ :]*/\(\(godwit\|qemu\)-io\): #\1: #' \
        -e 's/\bgodwit-io\b/qemu-io/g' \
        -e "s#$2#IMG#g" "$1"
}

# run_one PROG SCRIPT MODE OUTFILE: fresh image, run, record status.
run_one()
{
    local prog=$1 script=$2 mode=$3 out=$4
    local img=$work/img.raw size args
    size=$(sed -n 's/^# size: *//p' "$script" | head -n 1)
    args=$(sed -n 's/^# args: *//p' "$script" | head -n 1)
    rm -f "$img"
    "$REF_IMG" create -q -f raw "$img" "${size:-1M}" || return 1

    local cmds=()
    while IFS= read -r line; do
        case "$line" in '#'*|'') continue ;; esac
        cmds+=("$line")
    done <"$script"

    # shellcheck disable=SC2086
    if [ "$mode" = c ]; then
        local copts=() c
        for c in "${cmds[@]}"; do copts+=(-c "$c"); done
        (cd "$work" && "$prog" --cache writeback --aio threads -f raw $args "${copts[@]}" "$img") \
            >"$out.raw" 2>&1
    else
        printf '%s\n' "${cmds[@]}" |
            (cd "$work" && "$prog" --cache writeback --aio threads -f raw $args "$img") \
            >"$out.raw" 2>&1
    fi
    echo "exit status: $?" >>"$out.raw"
    normalise "$out.raw" "$img" >"$out"
}

fail=0
total=0
for script in "${scripts[@]}"; do
    name=$(basename "$script" .qio)
    mode=$(sed -n 's/^# mode: *//p' "$script" | head -n 1)
    case "${mode:-both}" in
    both) modes="c stdin" ;;
    c|stdin) modes=$mode ;;
    *) echo "$script: bad mode '$mode'" >&2; exit 1 ;;
    esac
    for m in $modes; do
        total=$((total + 1))
        run_one "$REF_IO" "$script" "$m" "$work/ref.out"
        run_one "$OUR_IO" "$script" "$m" "$work/our.out"
        if diff -q "$work/ref.out" "$work/our.out" >/dev/null; then
            echo "PASS $name ($m)"
            [ "$verbose" = 1 ] && cat "$work/ref.out"
        else
            echo "FAIL $name ($m): output differs (- qemu-io, + godwit-io)"
            diff -u --label "qemu-io $name" --label "godwit-io $name" \
                "$work/ref.out" "$work/our.out"
            fail=$((fail + 1))
        fi
    done
done

echo "$((total - fail)) of $total runs identical"
[ "$fail" = 0 ]
