#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test twice: once in a normal build with
# warnings as errors, once under AddressSanitizer + LeakSanitizer + UBSan (benchmarks excluded
# there: their figures would mean nothing under a sanitizer; the NAT lab, which tests
# the network, not memory, and runs once in the normal pass; and the ARM cross builds run under
# qemu, label cross, which have no sanitizer and whose code the native passes already cover).
#
# Needs root (packages, network namespaces for the NAT lab, packet captures): run it as root,
# or as a user with sudo, and it asks sudo once for itself.
#
# Each pass has a build folder of its own with every option it relies on set explicitly, so a
# build/ configured by hand (say with -DB2BUA_TESTS=OFF) changes nothing here. A pass that runs
# no test, or fewer tests than its build holds, fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "run-all: needs root (or sudo)" >&2; exit 1; }
  exec sudo --preserve-env=CI bash "$0" "$@"
fi

jobs=$(nproc 2>/dev/null || echo 2)
bash packaging/install-deps.sh --test

# run_pass NAME BUILD_DIR TIMEOUT [ctest filter args...]: runs the tests of BUILD_DIR and checks
# that as many ran as the build holds under the same filter.
#
# Four "cpus" slots, two per core of the 2-core machine the suite is sized for: a test that keeps
# a core busy holds two, an integration flow (mostly waiting) one (RESOURCE_GROUPS,
# tests/CMakeLists.txt); the NAT lab's phases, which spend minutes waiting on NAT and retry
# timers, hold none, and ctest gets a job for each of those on top, so they run beside the others.
run_pass() {
  local name=$1 dir=$2 timeout=$3
  shift 3
  local expected idle spec log ran skipped status slots=4
  expected=$(ctest --test-dir "$dir" -N "$@" | awk '/^Total Tests:/ {print $3}')
  idle=$(ctest --test-dir "$dir" -N -L natlab "$@" | awk '/^Total Tests:/ {print $3}')
  spec="$(cd "$dir" && pwd)/cpu-slots.json"  # absolute: ctest reads it from inside the build folder
  printf '{"version": {"major": 1, "minor": 0}, "local": [{"cpus": [{"id": "0", "slots": %d}]}]}\n' "$slots" >"$spec"
  log=$(mktemp)
  set +e
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$((slots + ${idle:-0}))" --resource-spec-file "$spec" \
    --timeout "$timeout" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  ran=$(awk '/tests passed, .* tests failed out of/ {print $NF}' "$log" | tail -1)
  # Here every peer is installed: a test that skips itself (exit 77) hides a missing piece.
  skipped=$(grep -c '(Skipped)' "$log" || true)
  rm -f "$log"
  echo "== $name: ${ran:-0} of ${expected:-0} tests ran"
  if [[ -z "$expected" || "$expected" -eq 0 ]]; then
    echo "run-all: $name holds no tests" >&2
    return 1
  fi
  if [[ "${ran:-0}" -ne "$expected" ]]; then
    echo "run-all: $name ran ${ran:-0} tests, its build holds $expected" >&2
    return 1
  fi
  if [[ "$skipped" -ne 0 ]]; then
    echo "run-all: $name skipped $skipped tests" >&2
    return 1
  fi
  return "$status"
}

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build-tests -DB2BUA_TESTS=ON -DB2BUA_WERROR=ON -DB2BUA_SANITIZE=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-tests -j"$jobs"
echo "== tests"
run_pass "normal pass" build-tests 600

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DB2BUA_TESTS=ON -DB2BUA_WERROR=ON -DB2BUA_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_pass "sanitizer pass" build-asan 900 -LE 'bench|natlab|cross'
