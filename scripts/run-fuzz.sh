#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-fuzz.sh [SECONDS]: build the libFuzzer targets with clang (+ASan/UBSan) and run
# each for SECONDS (default 20), starting from fuzz/corpus/<target>. A crash fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
CC=clang ./configure --builddir=build-fuzz --enable-fuzzing --enable-sanitizers >/dev/null
# only the fuzz targets: the rest of the tree is built and tested elsewhere
ninja -C build-fuzz $(ninja -C build-fuzz -t targets all | sed -n 's|^\(fuzz/fuzz-[a-z0-9-]*\): .*|\1|p')
status=0
for exe in build-fuzz/fuzz/fuzz-*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    name=$(basename "$exe"); target=${name#fuzz-}
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$target/." "$work/" 2>/dev/null || true
    echo "fuzz: $name for ${seconds}s"
    if ! "$exe" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
            -artifact_prefix="build-fuzz/$name-" "$work" 2>build-fuzz/$name.log; then
        echo "fuzz: $name FAILED; last lines of build-fuzz/$name.log:"
        tail -30 "build-fuzz/$name.log"
        status=1
    else
        grep -E "^Done|#[0-9]+.*DONE" "build-fuzz/$name.log" | tail -1 || true
    fi
    rm -rf "$work"
done
exit $status
