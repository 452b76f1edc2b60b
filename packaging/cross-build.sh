#!/usr/bin/env bash
# Cross-builds b2bua for a Debian ARM target from the same CMake project, with Debian 12's cross
# compilers and a sysroot of the target's libraries (packaging/cross/sysroot.sh says why not
# multiarch). Installs what it needs (install-deps.sh --cross: root, or sudo).
#
#   packaging/cross-build.sh ARCH [BUILD_DIR] [TARGET...]
#     ARCH        arm64 or armhf
#     BUILD_DIR   default build-cross-ARCH
#     TARGET      CMake targets; default: the daemon and the unit tests run under qemu
#                 (tests/integration/cross)
#
# Afterwards BUILD_DIR/b2bua/b2bua is the target's daemon, BUILD_DIR/b2bua-qemu runs it here
# (qemu-user, the sysroot as its library root), and `ctest --test-dir BUILD_DIR -L unit` runs the
# built unit tests under qemu. A compiler launcher comes from the environment
# (CMAKE_CXX_COMPILER_LAUNCHER=ccache).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:?usage: cross-build.sh arm64|armhf [BUILD_DIR] [TARGET...]}
case "$arch" in
  arm64) toolchain=aarch64-linux-gnu qemu=qemu-aarch64-static ;;
  armhf) toolchain=arm-linux-gnueabihf qemu=qemu-arm-static ;;
  *) echo "cross-build: unknown architecture $arch (arm64, armhf)" >&2; exit 2 ;;
esac
dir=${2:-build-cross-$arch}
shift $(($# > 1 ? 2 : 1))
# The subset of unit tests built for the target (the whole set would more than double the
# cross build's time): where the CPU shows, byte order, alignment and word size: RTP and SDP,
# WAV files and the relay (media), digests and SHA-256 (sip), SQLite's 64-bit integers (storage).
targets=("$@")
((${#targets[@]})) || targets=(b2bua sip_unit_tests media_unit_tests storage_unit_tests)
jobs=${B2BUA_CROSS_JOBS:-$(nproc 2>/dev/null || echo 2)}

bash "$src/packaging/install-deps.sh" --cross "$arch"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)  # physical: the CMake cache records the folder it was made in
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO bash "$src/packaging/cross/sysroot.sh" "$arch" "$dir"

# The release build's optimisation without its debug info: a router's binary is stripped anyway,
# and writing DWARF for every object is a large share of a C++ compile.
cmake -S "$src" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$src/packaging/cross/$toolchain.cmake" \
  -DB2BUA_CROSS_SYSROOT="$dir/sysroot" -DB2BUA_TESTS=ON -DB2BUA_WERROR=ON -DB2BUA_SANITIZE=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" >/dev/null
cmake --build "$dir" -j"$jobs" --target "${targets[@]}"

# The daemon under qemu, as a program of its own: exec keeps the PID, so a test that stops the
# daemon by its PID signals qemu, which hands the signal to the daemon.
cat >"$dir/b2bua-qemu" <<WRAP
#!/bin/sh
exec $qemu -L "$dir/sysroot" "$dir/b2bua/b2bua" "\$@"
WRAP
chmod +x "$dir/b2bua-qemu"
echo "cross-build: $arch daemon $dir/b2bua/b2bua"
