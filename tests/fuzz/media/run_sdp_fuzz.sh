#!/usr/bin/env bash
# Builds the SDP fuzz target with clang (libFuzzer + ASan + UBSan) into a temp dir, independent of
# the main (g++) build, then fuzzes for a bounded time starting from the SDP corpus of the unit
# tests. Usage: run_sdp_fuzz.sh SOURCE_DIR [SECONDS]
set -euo pipefail
src=${1:?source dir}
seconds=${2:-20}
work=$(mktemp -d /tmp/b2bua-sdp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src" $(pkg-config --cflags sofia-sip-ua) \
  "$src/tests/fuzz/media/sdp_fuzz.cpp" "$src/media/sdp_rewrite.cpp" "$src/media/random.cpp" "$src/media/endpoint.cpp" \
  $(pkg-config --libs sofia-sip-ua) -o "$work/sdp_fuzz"
mkdir -p "$work/corpus"
cp "$src"/tests/unit/media/sdp/*.sdp "$work/corpus/"
cd "$work"
./sdp_fuzz -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 corpus 2>&1 | tail -15
