#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-tests.sh: the README's test command. Installs what is missing, builds with
# -Werror, runs every meson test suite (unit, iotests, interop, e2e, fuzz), then the
# suites again under ASan+UBSan (every suite: the e2e and QMP tests drive the most code),
# then short libFuzzer runs when clang is present. Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc)

bash scripts/setup.sh

summary=()
total_ok=0
total_fail=0
total_skip=0

# count_results BUILDDIR LABEL: fold meson's testlog.json into the totals.
count_results() {
    local log="$1/meson-logs/testlog.json" label="$2" ok fail skip
    read -r ok fail skip < <(python3 - "$log" <<'PY'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: fail += 1
print(ok, fail, skip)
PY
)
    total_ok=$((total_ok + ok)); total_fail=$((total_fail + fail)); total_skip=$((total_skip + skip))
    summary+=("$label: $ok ok, $fail failed, $skip skipped")
}

status=0

echo "== build (gcc, -Werror) and all suites"
./configure --builddir=build --enable-werror >/dev/null
ninja -C build -j"$jobs"
meson test -C build --num-processes "$jobs" --print-errorlogs || status=1
count_results build "default build"

echo "== ASan+UBSan build: every suite again (unit, iotests, interop, e2e, fuzz)"
./configure --builddir=build-asan --enable-werror --enable-sanitizers >/dev/null
ninja -C build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --no-rebuild --num-processes "$jobs" --print-errorlogs || status=1
count_results build-asan "asan build (all suites)"
unset ASAN_OPTIONS UBSAN_OPTIONS

if command -v clang >/dev/null 2>&1; then
    echo "== libFuzzer (clang): short coverage-guided runs"
    bash scripts/run-fuzz.sh "${GODWIT_FUZZ_SECONDS:-20}" || status=1
    summary+=("libFuzzer: see above")
else
    echo "== libFuzzer: SKIPPED (clang not installed)"
fi

echo
for line in "${summary[@]}"; do
    echo "  $line"
done
echo "godwit tests: $((total_ok + total_fail + total_skip)) ran, $total_ok passed, $total_fail failed, $total_skip skipped"
exit $status
