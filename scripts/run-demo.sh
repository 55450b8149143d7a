#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-demo.sh: the README's main job. Today that is: install what is missing, build,
# and run the runtime benchmarks (coroutine switch, event loop). As the block layer,
# the tools and the KVM machine land, this grows into: run the test guest on a qcow2
# disk and live-migrate it with its storage.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./configure --builddir=build >/dev/null
ninja -C build
echo "== coroutine switch"
build/bench/bench-coroutine-switch
echo "== event loop"
build/bench/bench-event-loop
