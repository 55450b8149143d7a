#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# setup.sh: install the Debian packages Godwit needs to build and test, only those
# that are missing, and say what it does. Safe to run again and again.
set -euo pipefail

# Build: compiler, meson/ninja, libraries. Tests: Debian's QEMU 7.2 as the reference
# (qemu-img/qemu-io/qemu-nbd and qemu-system-x86_64), an NBD client, socat, clang's
# runtime for libFuzzer and sanitizer builds.
packages=(
    gcc meson ninja-build pkg-config python3
    libglib2.0-dev zlib1g-dev libzstd-dev libaio-dev liburing-dev
    qemu-utils qemu-system-x86 libnbd-bin socat
    clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} required packages are installed"
    exit 0
fi

echo "setup: installing missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "setup: apt-get install failed; refreshing the package lists and retrying"
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "setup: done"
