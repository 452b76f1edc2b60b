#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test twice: once in a normal build with
# warnings as errors, once under AddressSanitizer + LeakSanitizer + UBSan (benchmarks excluded
# there: their figures would mean nothing under a sanitizer; and the NAT lab, which tests
# the network, not memory, and runs once in the normal pass).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
bash packaging/install-deps.sh --test

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DB2BUA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j2 --timeout 600

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DB2BUA_WERROR=ON -DB2BUA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j2 --timeout 900 -LE 'bench|natlab'
