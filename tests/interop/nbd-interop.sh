#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# nbd-interop.sh: our NBD server and client against Debian's.
#
#   server godwit-nbd  <- clients qemu-nbd -L, qemu-io, qemu-img map, nbdinfo, nbdcopy
#   server qemu-nbd    <- clients godwit-nbd -L, godwit-io, godwit-img map (+ x-dirty-bitmap)
#
# Outputs are compared with the same client against both servers (or both
# clients against one server), and NBD maps with the local map. Exit status: 0
# all equal, 1 a difference, 77 (skip, said loudly) when a binary is missing.
# nbdinfo/nbdcopy (libnbd-bin) checks are skipped, with a note, when absent.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${GODWIT_BUILD_DIR:-$repo/build}
case "$build" in /*) ;; *) build=$PWD/$build ;; esac

REF_NBD=$(command -v qemu-nbd || true)
REF_IO=$(command -v qemu-io || true)
REF_IMG=$(command -v qemu-img || true)
OUR_NBD=$build/tools/godwit-nbd
OUR_IO=$build/tools/godwit-io
OUR_IMG=$build/tools/godwit-img

for b in "$REF_NBD" "$REF_IO" "$REF_IMG" "$OUR_NBD" "$OUR_IO" "$OUR_IMG"; do
    if [ -z "$b" ] || [ ! -x "$b" ]; then
        echo "SKIP: nbd-interop needs qemu-nbd, qemu-io, qemu-img (Debian qemu-utils) and" \
             "godwit-nbd/io/img; missing: ${b:-a qemu tool}" >&2
        exit 77
    fi
done

work=$(mktemp -d /tmp/gw-nbd-interop.XXXXXX)
pids=()
cleanup()
{
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

failed=0
check()     # name, expected file, actual file
{
    if diff -u "$2" "$3" >"$work/diff" 2>&1; then
        echo "PASS: $1"
    else
        echo "FAIL: $1"
        cat "$work/diff"
        failed=1
    fi
}
ok()        # name, command...
{
    local name=$1
    shift
    if "$@" >"$work/out" 2>&1; then
        echo "PASS: $name"
    else
        echo "FAIL: $name"
        cat "$work/out"
        failed=1
    fi
}

# serve PROG SOCK ARGS...: start a server with --fork and remember its pid
serve()
{
    local prog=$1 sock=$2
    shift 2
    rm -f "$sock"
    "$prog" --fork --pid-file="$sock.pid" -t -k "$sock" "$@" || return 1
    pids+=("$(cat "$sock.pid")")
}

img=$work/img.raw
"$REF_IMG" create -f raw "$img" 64M >/dev/null
"$REF_IO" -f raw -c 'write -P 0x11 0 64k' -c 'write -P 0x22 4M 128k' \
          -c 'write -P 0x33 40M 4k' "$img" >/dev/null

g=$work/g.sock
q=$work/q.sock
serve "$OUR_NBD" "$g" -f raw -e 42 -x '' "$img" || { echo "FAIL: godwit-nbd did not start"; exit 1; }
serve "$REF_NBD" "$q" -f raw -e 42 -x '' "$img" || { echo "FAIL: qemu-nbd did not start"; exit 1; }
url() { echo "nbd+unix:///${2:-}?socket=$1"; }

# --list: same client, both servers; both clients, one server
"$REF_NBD" -L -k "$q" >"$work/l-ref" 2>&1
"$REF_NBD" -L -k "$g" >"$work/l-ours" 2>&1
check "qemu-nbd -L: godwit-nbd server = qemu-nbd server" "$work/l-ref" "$work/l-ours"
"$OUR_NBD" -L -k "$q" >"$work/l-ourclient" 2>&1
check "godwit-nbd -L = qemu-nbd -L (qemu-nbd server)" "$work/l-ref" "$work/l-ourclient"

# maps: qemu-img over both servers, and the local map
"$REF_IMG" map --output=json -f raw "$img" >"$work/m-local"
"$REF_IMG" map --output=json "$(url "$q")" >"$work/m-ref"
"$REF_IMG" map --output=json "$(url "$g")" >"$work/m-ours"
check "qemu-img map over godwit-nbd = over qemu-nbd" "$work/m-ref" "$work/m-ours"
check "qemu-img map over godwit-nbd = local map" "$work/m-local" "$work/m-ours"
"$OUR_IMG" map --output=json "$(url "$q")" >"$work/m-ourclient" 2>&1
check "godwit-img map over qemu-nbd = qemu-img map" "$work/m-ref" "$work/m-ourclient"
"$OUR_IMG" map --output=json "$(url "$g")" >"$work/m-ourboth" 2>&1
check "godwit-img map over godwit-nbd = qemu-img map" "$work/m-ref" "$work/m-ourboth"

# data: Debian's qemu-io through our server, our godwit-io through theirs
ok "qemu-io reads and writes via godwit-nbd" "$REF_IO" -f raw \
    -c 'read -P 0x11 0 64k' -c 'read -P 0x22 4M 128k' -c 'read -P 0 8M 1M' \
    -c 'write -P 0x44 20M 1M' -c 'read -P 0x44 20M 1M' -c 'write -z 20M 64k' \
    -c 'read -P 0 20M 64k' -c 'aio_write -P 0x55 30M 4k' -c 'aio_write -P 0x56 31M 4k' \
    -c 'aio_flush' -c 'read -P 0x56 31M 4k' -c 'discard 30M 4k' -c 'flush' "$(url "$g")"
ok "godwit-io reads and writes via qemu-nbd" "$OUR_IO" -f raw \
    -c 'read -P 0x11 0 64k' -c 'read -P 0x44 21037056 64k' -c 'read -P 0 20M 64k' \
    -c 'write -P 0x66 50M 256k' -c 'read -P 0x66 50M 256k' -c 'write -z 50M 4k' \
    -c 'read -P 0 50M 4k' -c 'flush' "$(url "$q")"
"$REF_IO" -f raw -c 'read -v 0 512' "$(url "$g")" | sed 's/[0-9.]* [KMG]*i*B\/sec.*//' >"$work/r1"
"$OUR_IO" -f raw -c 'read -v 0 512' "$(url "$q")" | sed 's/[0-9.]* [KMG]*i*B\/sec.*//' >"$work/r2"
check "read -v output, crossed" "$work/r1" "$work/r2"
"$REF_IO" -f raw -c 'read 0 512' "$(url "$g" nope)" 2>&1 | sed "s#$work/.\.sock#S#" >"$work/e1"
"$OUR_IO" -f raw -c 'read 0 512' "$(url "$q" nope)" 2>&1 |
    sed "s#$work/.\.sock#S#; s/godwit-io/qemu-io/" >"$work/e2"
check "missing export error text" "$work/e1" "$work/e2"

# a named read-only export with description, allocation depth and a bitmap
qimg=$work/bm.qcow2
"$REF_IMG" create -f qcow2 "$qimg" 16M >/dev/null
"$REF_IO" -f qcow2 -c 'write -P 1 0 1M' "$qimg" >/dev/null
"$REF_IMG" bitmap --add "$qimg" b0
"$REF_IO" -f qcow2 -c 'write -P 2 4M 64k' "$qimg" >/dev/null
q2=$work/q2.sock
serve "$REF_NBD" "$q2" -r -f qcow2 -x exp -D 'a description' -A -B b0 "$qimg"
"$REF_NBD" -L -k "$q2" >"$work/l2-ref" 2>&1
"$OUR_NBD" -L -k "$q2" >"$work/l2-ours" 2>&1
check "godwit-nbd -L with meta contexts" "$work/l2-ref" "$work/l2-ours"
for ctx in qemu:dirty-bitmap:b0 qemu:allocation-depth; do
    opts="driver=nbd,server.type=unix,server.path=$q2,export=exp,x-dirty-bitmap=$ctx"
    "$REF_IMG" map --output=json --image-opts "$opts" >"$work/x-ref" 2>&1
    "$OUR_IMG" map --output=json --image-opts "$opts" >"$work/x-ours" 2>&1
    check "x-dirty-bitmap=$ctx map" "$work/x-ref" "$work/x-ours"
done

# libnbd's tools against our server
if command -v nbdinfo >/dev/null && command -v nbdcopy >/dev/null; then
    nbdinfo --map "$(url "$q")" >"$work/n-ref" 2>&1
    nbdinfo --map "$(url "$g")" >"$work/n-ours" 2>&1
    check "nbdinfo --map over godwit-nbd" "$work/n-ref" "$work/n-ours"
    for can in connect multi-conn trim zero fast-zero flush fua df cache; do
        ok "nbdinfo --can $can over godwit-nbd" nbdinfo --can "$can" "$(url "$g")"
    done
    nbdinfo --json "$(url "$q")" | grep -v '"uri"\|"export-name"\|socket' >"$work/j-ref" 2>&1
    nbdinfo --json "$(url "$g")" | grep -v '"uri"\|"export-name"\|socket' >"$work/j-ours" 2>&1
    check "nbdinfo --json over godwit-nbd" "$work/j-ref" "$work/j-ours"
    ok "nbdcopy from godwit-nbd" nbdcopy "$(url "$g")" "$work/copy.raw"
    ok "nbdcopy result equals the image" cmp "$img" "$work/copy.raw"
    "$REF_IO" -f raw -c 'write -P 0x77 0 2M' "$work/copy.raw" >/dev/null
    ok "nbdcopy to godwit-nbd (4 connections)" nbdcopy -C 4 "$work/copy.raw" "$(url "$g")"
    ok "nbdcopy upload equals the source" cmp "$img" "$work/copy.raw"
else
    echo "NOTE: nbdinfo/nbdcopy (libnbd-bin) not installed: those checks skipped"
fi

exit $failed
