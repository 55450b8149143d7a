#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
#
# qcow2 interoperability with Debian's qemu-img/qemu-io (QEMU 7.2):
#  1. images created and written by godwit pass `qemu-img check` and read back
#     right through qemu-io;
#  2. images made by qemu-img (v2, v3, 512 B and 2 MiB clusters, compressed,
#     zero clusters, backing chains, internal snapshots) read right through us;
#  3. a random write/zero/discard workload on our qcow2 and on a raw file gives
#     images that `qemu-img compare` finds identical, and `qemu-img check` clean.
# Usage: qcow2-interop.sh [BUILD_DIR]   (exit 77 = skipped)
set -u
BUILD=${1:-${GODWIT_BUILD_DIR:-$(dirname "$0")/../../build}}
GIMG=$BUILD/tools/godwit-img
GIO=$BUILD/tools/godwit-io
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    echo "SKIP: qemu-img/qemu-io not installed (Debian package qemu-utils)" >&2
    exit 77
fi
for b in "$GIMG" "$GIO"; do
    [ -x "$b" ] || { echo "SKIP: $b not built" >&2; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# run a command quietly, report by name
t() {
    local name=$1; shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name"; echo "$out" | head -20; fi
}
# qemu-img check must report a clean image
clean() {
    local out
    out=$(qemu-img check "$1" 2>&1)
    echo "$out" | grep -q "No errors were found on the image." && ! echo "$out" | grep -q leaked
}
gio() { "$GIO" "$@" | grep -q -v -e 'Pattern verification failed' && \
        ! "$GIO" "$@" 2>&1 | grep -q -e 'Pattern verification failed' -e 'failed:'; }
qio_ok() { ! qemu-io "$@" 2>&1 | grep -q -e 'Pattern verification failed' -e 'failed'; }
gio_ok() { ! "$GIO" "$@" 2>&1 | grep -q -e 'Pattern verification failed' -e 'failed' -e 'rror'; }

echo "== 1. godwit writes, qemu reads"
for opts in "" "compat=0.10" "cluster_size=512" "cluster_size=2M" "refcount_bits=1" \
            "refcount_bits=64" "lazy_refcounts=on"; do
    img=$T/g.qcow2
    rm -f "$img"
    "$GIMG" create -q -f qcow2 ${opts:+-o $opts} "$img" 64M || { fail "create $opts"; continue; }
    gio_ok -c 'write -P 0xa1 0 64k' -c 'write -P 0xb2 100k 3k' -c 'write -P 0xc3 1M 3M' \
        -c 'write -z 2M 512k' -c 'write -P 0xd4 60M 4M' -c 'discard 61M 1M' "$img" ||
        fail "godwit writes ($opts)"
    t "qemu-img check ($opts)" clean "$img"
    t "qemu-io reads ($opts)" qio_ok -c 'read -P 0xa1 0 64k' -c 'read -P 0 64k 36k' \
        -c 'read -P 0xb2 100k 3k' -c 'read -P 0xc3 1M 1M' -c 'read -P 0 2M 512k' \
        -c 'read -P 0xc3 2560k 1536k' -c 'read -P 0xd4 60M 1M' -c 'read -P 0xd4 62M 2M' "$img"
done

echo "== 2. qemu writes, godwit reads"
for opts in "compat=0.10" "compat=1.1" "cluster_size=512" "cluster_size=2M" "refcount_bits=1"; do
    img=$T/q.qcow2
    rm -f "$img"
    qemu-img create -q -f qcow2 -o "$opts" "$img" 64M
    qemu-io -c 'write -P 0x11 0 128k' -c 'write -P 0x22 5M 1M' -c 'write -z 5M 64k' \
        "$img" >/dev/null
    t "godwit reads ($opts)" gio_ok -c 'read -P 0x11 0 128k' -c 'read -P 0 128k 4M' \
        -c 'read -P 0 5M 64k' -c 'read -P 0x22 5184k 960k' "$img"
done
# compressed (zlib and zstd)
for ct in zlib zstd; do
    qemu-img create -q -f raw "$T/src.raw" 8M
    qemu-io -f raw -c 'write -P 0x33 0 3M' -c 'write -P 0x44 5M 1M' "$T/src.raw" >/dev/null
    rm -f "$T/c.qcow2"
    if qemu-img convert -c -O qcow2 -o compression_type=$ct "$T/src.raw" "$T/c.qcow2" 2>/dev/null; then
        t "godwit reads compressed ($ct)" gio_ok -c 'read -P 0x33 0 3M' -c 'read -P 0 3M 2M' \
            -c 'read -P 0x44 5M 1M' "$T/c.qcow2"
        gio_ok -c 'write -P 0x55 64k 4k' "$T/c.qcow2" || fail "write over compressed ($ct)"
        t "overwrite compressed, check ($ct)" clean "$T/c.qcow2"
        t "overwrite compressed, read ($ct)" qio_ok -c 'read -P 0x33 0 64k' \
            -c 'read -P 0x55 64k 4k' -c 'read -P 0x33 68k 60k' "$T/c.qcow2"
    fi
done
# backing chain
qemu-img create -q -f qcow2 "$T/base.qcow2" 16M
qemu-io -c 'write -P 0x61 0 16M' "$T/base.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b "$T/base.qcow2" -F qcow2 "$T/mid.qcow2"
qemu-io -c 'write -P 0x62 1M 1M' -c 'write -z 3M 1M' "$T/mid.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b "$T/mid.qcow2" -F qcow2 "$T/top.qcow2"
t "godwit reads backing chain" gio_ok -c 'read -P 0x61 0 1M' -c 'read -P 0x62 1M 1M' \
    -c 'read -P 0 3M 1M' -c 'read -P 0x61 4M 12M' "$T/top.qcow2"
gio_ok -c 'write -P 0x63 1040k 8k' -c 'write -P 0x64 5M 1k' "$T/top.qcow2" || fail "COW writes"
t "COW from backing, qemu reads" qio_ok -c 'read -P 0x62 1M 16k' -c 'read -P 0x63 1040k 8k' \
    -c 'read -P 0x62 1048k 976k' -c 'read -P 0x64 5M 1k' -c 'read -P 0x61 5121k 63k' \
    "$T/top.qcow2"
t "COW chain check" clean "$T/top.qcow2"
# internal snapshots
qemu-img create -q -f qcow2 "$T/s.qcow2" 8M
qemu-io -c 'write -P 0x71 0 2M' "$T/s.qcow2" >/dev/null
qemu-img snapshot -c snap1 "$T/s.qcow2"
t "godwit reads image with snapshot" gio_ok -c 'read -P 0x71 0 2M' "$T/s.qcow2"
gio_ok -c 'write -P 0x72 64k 64k' -c 'write -P 0x73 1M 4k' "$T/s.qcow2" || fail "write after snapshot"
t "snapshot COW check" clean "$T/s.qcow2"
t "snapshot COW read" qio_ok -c 'read -P 0x71 0 64k' -c 'read -P 0x72 64k 64k' \
    -c 'read -P 0x73 1M 4k' "$T/s.qcow2"
qemu-img snapshot -a snap1 "$T/s.qcow2"
t "snapshot still intact" qio_ok -c 'read -P 0x71 0 2M' "$T/s.qcow2"

echo "== 3. random workload vs raw"
rm -f "$T/w.qcow2" "$T/w.raw"
"$GIMG" create -q -f qcow2 -o cluster_size=4k "$T/w.qcow2" 32M
qemu-img create -q -f raw "$T/w.raw" 32M
cmds=()
RANDOM=42
for i in $(seq 1 300); do
    off=$(( (RANDOM * 32768 + RANDOM) % (32 * 1024 * 1024 - 131072) ))
    off=$(( off / 512 * 512 ))
    len=$(( (RANDOM % 256 + 1) * 512 ))
    case $((RANDOM % 6)) in
    0) cmds+=(-c "write -z $off $len") ;;
    1) cmds+=(-c "discard $((off / 4096 * 4096)) $(((len + 4095) / 4096 * 4096))") ;;
    *) cmds+=(-c "write -P $((RANDOM % 255 + 1)) $off $len") ;;
    esac
done
"$GIO" "${cmds[@]}" "$T/w.qcow2" >/dev/null 2>&1 || fail "workload on qcow2"
# discard on raw leaves data; make it zero there too (qcow2 v3 discard of whole
# clusters reads as zero; discards above are cluster aligned)
raw_cmds=()
for ((i = 0; i < ${#cmds[@]}; i++)); do
    c=${cmds[$i]}
    [ "$c" = -c ] && continue
    case $c in discard*) c="write -z ${c#discard }" ;; esac
    raw_cmds+=(-c "$c")
done
qemu-io -f raw "${raw_cmds[@]}" "$T/w.raw" >/dev/null
t "workload: qemu-img compare" qemu-img compare -f qcow2 -F raw "$T/w.qcow2" "$T/w.raw"
t "workload: qemu-img check" clean "$T/w.qcow2"

echo "== 4. crash: kill -9 mid-workload, then qemu-img check"
for round in 1 2 3; do
    rm -f "$T/k.qcow2"
    "$GIMG" create -q -f qcow2 -o cluster_size=4k "$T/k.qcow2" 256M
    kcmds=()
    for i in $(seq 1 3000); do
        off=$(( (RANDOM * 32768 + RANDOM) % (255 * 1024 * 1024) / 512 * 512 ))
        case $((RANDOM % 5)) in
        0) kcmds+=(-c "discard $((off / 4096 * 4096)) 65536") ;;
        1) kcmds+=(-c "write -z $off 20480") ;;
        *) kcmds+=(-c "write -P 7 $off 12800") ;;
        esac
        [ $((i % 200)) -eq 0 ] && kcmds+=(-c "flush")
    done
    "$GIO" "${kcmds[@]}" "$T/k.qcow2" >/dev/null 2>&1 &
    pid=$!
    sleep 0.$((RANDOM % 6 + 2))
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    out=$(qemu-img check "$T/k.qcow2" 2>&1)
    if echo "$out" | grep -q -E "^[0-9]+ errors were found|^ERROR"; then
        fail "crash round $round: corruption"
        echo "$out" | head -10
    else
        pass "crash round $round: no corruption ($(echo "$out" | grep -o '[0-9]* leaked' || echo '0 leaked'))"
    fi
done

echo "== 5. compressed clusters we write: qemu-io reads, qemu-img check is clean"
for ct in zlib zstd; do
    rm -f "$T/c.qcow2"
    qemu-img create -q -f qcow2 -o compression_type=$ct "$T/c.qcow2" 4M
    t "write -c ($ct)" gio_ok -c "write -c -P 0x11 0 256k" -c "write -c -P 0x22 1M 64k" \
        -c "write -c -P 0x33 4032k 64k" "$T/c.qcow2"
    t "qemu-io reads compressed ($ct)" qio_ok -c "read -P 0x11 0 256k" -c "read -P 0x22 1M 64k" \
        -c "read -P 0 1088k 2944k" -c "read -P 0x33 4032k 64k" "$T/c.qcow2"
    t "compressed clusters counted ($ct)" sh -c \
        "qemu-img check '$T/c.qcow2' | grep -q '6/64 = 9.38% allocated, .*, 100.00% compressed'"
    t "check clean ($ct)" clean "$T/c.qcow2"
done
head -c 3M /dev/urandom > "$T/src.raw"
qemu-io -f raw -c "write -P 0x44 0 1M" -c "write -z 2M 512k" "$T/src.raw" >/dev/null
t "convert -c" "$GIMG" convert -c -O qcow2 "$T/src.raw" "$T/cc.qcow2"
t "convert -c: identical" qemu-img compare -f raw -F qcow2 "$T/src.raw" "$T/cc.qcow2"
t "convert -c: check clean" clean "$T/cc.qcow2"

echo "== 6. internal snapshots, both ways"
rm -f "$T/s.qcow2"
qemu-img create -q -f qcow2 "$T/s.qcow2" 4M
qemu-io -c "write -P 1 0 1M" "$T/s.qcow2" >/dev/null
t "godwit snapshot -c" "$GIMG" snapshot -c s1 "$T/s.qcow2"
gio_ok -c "write -P 2 512k 1M" "$T/s.qcow2"
t "godwit snapshot -c (2)" "$GIMG" snapshot -c s2 "$T/s.qcow2"
t "check clean after our snapshots" clean "$T/s.qcow2"
t "listed identically" diff <(qemu-img snapshot -l "$T/s.qcow2" | cut -c1-35) \
    <("$GIMG" snapshot -l "$T/s.qcow2" | cut -c1-35)
t "info identical" diff <(qemu-img info "$T/s.qcow2" | grep -v "disk size") \
    <("$GIMG" info "$T/s.qcow2" | grep -v "disk size")
t "qemu-img applies ours" qemu-img snapshot -a s1 "$T/s.qcow2"
t "data of s1" qio_ok -c "read -P 1 0 1M" -c "read -P 0 1M 1M" "$T/s.qcow2"
qemu-img snapshot -c q3 "$T/s.qcow2"
t "we apply ours" "$GIMG" snapshot -a s2 "$T/s.qcow2"
t "data of s2" qio_ok -c "read -P 1 0 512k" -c "read -P 2 512k 1M" "$T/s.qcow2"
t "we apply qemu's" "$GIMG" snapshot -a q3 "$T/s.qcow2"
t "data of q3" gio_ok -c "read -P 1 0 1M" -c "read -P 0 1M 1M" "$T/s.qcow2"
t "we delete qemu's" "$GIMG" snapshot -d q3 "$T/s.qcow2"
t "we delete ours" "$GIMG" snapshot -d s1 "$T/s.qcow2"
t "check clean after deletes" clean "$T/s.qcow2"
t "one left" sh -c "[ \$(qemu-img snapshot -l '$T/s.qcow2' | grep -c s2) = 1 ]"
t "missing snapshot: QEMU's text" sh -c "'$GIMG' snapshot -a nope '$T/s.qcow2' 2>&1 |
    grep -q \"Could not apply snapshot 'nope': Failed to load snapshot: No such file or directory\""

echo "== 7. lazy refcounts: kill -9, our open repairs, qemu-img check"
for round in 1 2; do
    rm -f "$T/l.qcow2"
    "$GIMG" create -q -f qcow2 -o cluster_size=4k,lazy_refcounts=on "$T/l.qcow2" 64M
    lcmds=()
    for i in $(seq 1 2000); do
        off=$(( (RANDOM * 32768 + RANDOM) % (63 * 1024 * 1024) / 512 * 512 ))
        lcmds+=(-c "write -P 9 $off 12800")
    done
    "$GIO" "${lcmds[@]}" "$T/l.qcow2" >/dev/null 2>&1 &
    pid=$!
    sleep 0.$((RANDOM % 4 + 2))
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    "$GIO" -c "read 0 4k" "$T/l.qcow2" >/dev/null 2>&1      # read-write open repairs
    out=$(qemu-img check "$T/l.qcow2" 2>&1)
    if echo "$out" | grep -q "No errors were found" && ! echo "$out" | grep -q leaked; then
        pass "lazy round $round: repaired, clean"
    else
        fail "lazy round $round"
        echo "$out" | head -10
    fi
done

echo "== 8. persistent dirty bitmaps"
GSYS=$BUILD/system/godwit
# qmp BINARY IMAGE CMD-JSON...: run QMP commands on node q of IMAGE, print replies
qmp() {
    local bin=$1 img=$2; shift 2
    {
        echo '{"execute":"qmp_capabilities"}'
        echo '{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"q","file":{"driver":"file","filename":"'"$img"'"}}}'
        for c in "$@"; do echo "$c"; done
        echo '{"execute":"quit"}'
    } | timeout 30 "$bin" -nodefaults -display none -machine none -qmp stdio 2>&1
}
sha() { qmp "$1" "$2" '{"execute":"x-debug-block-dirty-bitmap-sha256","arguments":{"node":"q","name":"'"$3"'"}}' |
        grep -o '"sha256": "[0-9a-f]*"'; }
qio_hmp() { echo '{"execute":"human-monitor-command","arguments":{"command-line":"qemu-io q \"'"$1"'\""}}'; }
# human and JSON info must match qemu-img's, but for the file name and disk size
same_info() {
    diff <("$GIMG" info "$1" | grep -v -e '^image:' -e '^disk size:') \
         <(qemu-img info "$1" | grep -v -e '^image:' -e '^disk size:') &&
    diff <("$GIMG" info --output=json "$1" | grep -v -e '"filename"' -e actual-size) \
         <(qemu-img info --output=json "$1" | grep -v -e '"filename"' -e actual-size)
}
export GSYS
export -f qmp sha qio_hmp clean
if command -v qemu-system-x86_64 >/dev/null && [ -x "$GSYS" ]; then
    rm -f "$T/b.qcow2"
    qemu-img create -q -f qcow2 "$T/b.qcow2" 64M
    qmp "$GSYS" "$T/b.qcow2" \
        '{"execute":"block-dirty-bitmap-add","arguments":{"node":"q","name":"b1","persistent":true}}' \
        '{"execute":"block-dirty-bitmap-add","arguments":{"node":"q","name":"b2","persistent":true,"granularity":4096,"disabled":true}}' \
        "$(qio_hmp 'write 64k 128k')" "$(qio_hmp 'write 10M 3M')" >/dev/null
    t "our bitmaps: qemu-img check clean" clean "$T/b.qcow2"
    t "our bitmaps: info as qemu-img's" same_info "$T/b.qcow2"
    t "our bitmaps: qemu-img info lists them" bash -c "qemu-img info '$T/b.qcow2' | grep -q 'name: b2'"
    gs=$(sha "$GSYS" "$T/b.qcow2" b1); qs=$(sha qemu-system-x86_64 "$T/b.qcow2" b1)
    if [ -n "$gs" ] && [ "$gs" = "$qs" ]; then pass "our bitmaps: same bits in QEMU"; else fail "our bitmaps: same bits in QEMU ($gs / $qs)"; fi
    # QEMU's bitmaps (written by qemu-io through QEMU) load with the same bits in ours
    qemu-img bitmap --add -g 512 "$T/b.qcow2" q1
    qmp qemu-system-x86_64 "$T/b.qcow2" "$(qio_hmp 'write 5M 7M')" "$(qio_hmp 'write 63M 512')" >/dev/null
    for bm in b1 q1; do
        qs=$(sha qemu-system-x86_64 "$T/b.qcow2" $bm)
        gs=$(sha "$GSYS" "$T/b.qcow2" $bm)
        if [ -n "$qs" ] && [ "$qs" = "$gs" ]; then pass "QEMU's bitmap $bm: same bits"; else fail "QEMU's bitmap $bm ($qs / $gs)"; fi
    done
    t "after both: qemu-img check clean" clean "$T/b.qcow2"
    t "remove a persistent bitmap: gone from the file" bash -c "
        qmp '$GSYS' '$T/b.qcow2' '{\"execute\":\"block-dirty-bitmap-remove\",\"arguments\":{\"node\":\"q\",\"name\":\"b2\"}}' >/dev/null
        ! qemu-img info '$T/b.qcow2' | grep -q 'name: b2'"
    t "after remove: qemu-img check clean" clean "$T/b.qcow2"
    t "v2: QEMU's refusal" bash -c "
        qemu-img create -q -f qcow2 -o compat=0.10 '$T/v2.qcow2' 1M
        qmp '$GSYS' '$T/v2.qcow2' '{\"execute\":\"block-dirty-bitmap-add\",\"arguments\":{\"node\":\"q\",\"name\":\"x\",\"persistent\":true}}' |
        grep -q \"Can't make bitmap 'x' persistent in 'q': Cannot store dirty bitmaps in qcow2 v2 files\""
    # kill -9 while open: the bitmap stays in_use, we and QEMU call it inconsistent
    mkfifo "$T/fifo"
    (qmp_keep() { echo '{"execute":"qmp_capabilities"}'
      echo '{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"q","file":{"driver":"file","filename":"'"$T/b.qcow2"'"}}}'
      sleep 5; }; qmp_keep) > "$T/fifo" &
    feeder=$!
    "$GSYS" -nodefaults -display none -machine none -qmp stdio < "$T/fifo" > /dev/null 2>&1 &
    vm=$!
    sleep 1.5
    kill -9 $vm; kill $feeder 2>/dev/null; wait $vm $feeder 2>/dev/null
    t "kill -9: qemu-img info shows in-use" bash -c "qemu-img info '$T/b.qcow2' | grep -q 'in-use'"
    t "kill -9: we report inconsistent" bash -c "qmp '$GSYS' '$T/b.qcow2' '{\"execute\":\"query-named-block-nodes\"}' | grep -q '\"inconsistent\": true'"
    t "kill -9: QEMU reports inconsistent" bash -c "qmp qemu-system-x86_64 '$T/b.qcow2' '{\"execute\":\"query-named-block-nodes\"}' | grep -q '\"inconsistent\": true'"
    t "kill -9: qemu-img check clean" clean "$T/b.qcow2"
else
    echo "skip bitmaps over QMP: qemu-system-x86_64 or $GSYS missing"
fi

echo "== 9. check -r all rebuilds a broken refcount table"
rm -f "$T/r.qcow2"
qemu-img create -q -f qcow2 "$T/r.qcow2" 64M
qemu-io -c 'write -P 7 0 1M' -c 'write -P 8 20M 64k' "$T/r.qcow2" >/dev/null
qemu-img bitmap --add "$T/r.qcow2" rb
# zero the first refcount table entry: no refcount block for the first clusters
python3 - "$T/r.qcow2" <<'PY'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    rt = struct.unpack('>Q', f.read(56)[48:56])[0]
    f.seek(rt); f.write(b'\0' * 8)
PY
t "broken: qemu-img check finds errors" bash -c "! qemu-img check '$T/r.qcow2' >/dev/null 2>&1"
out=$("$GIMG" check -r all "$T/r.qcow2" 2>&1)
if echo "$out" | grep -q "Rebuilding refcount structure" &&
   echo "$out" | grep -q "Double checking the fixed image now..." &&
   echo "$out" | grep -q "No errors were found on the image."; then
    pass "godwit-img check -r all: rebuilt"
else
    fail "godwit-img check -r all"; echo "$out" | tail -8
fi
t "rebuilt: qemu-img check clean" clean "$T/r.qcow2"
t "rebuilt: data intact" qio_ok -c 'read -P 7 0 1M' -c 'read -P 8 20M 64k' "$T/r.qcow2"
t "rebuilt: bitmap kept" bash -c "qemu-img info '$T/r.qcow2' | grep -q 'name: rb'"

echo "== result: $fails failure(s)"
[ $fails -eq 0 ]
