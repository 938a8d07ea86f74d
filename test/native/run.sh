#!/usr/bin/env bash
# Builds and runs the arbiter's native tests and its state-file fuzzer,
# without node-gyp (the arbiter is plain C++17).
#   test/native/run.sh [fuzz seconds (default 10)]
# Environment: CXX (default g++), OUT (build folder, default
# ${TMPDIR:-/tmp}/inaccel-native), SANITIZE=1 to run the tests a second
# time built with ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/../.."
CXX=${CXX:-g++}
OUT=${OUT:-${TMPDIR:-/tmp}/inaccel-native}
FUZZ_SECONDS=${1:-10}
FLAGS=(-std=c++17 -Wall -Wextra -Werror -pthread -Iaddon)
SAN=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
mkdir -p "$OUT"

echo "== plugin_abi"
bash test/native/plugin_abi.sh

echo "== arbiter_test"
"$CXX" "${FLAGS[@]}" -O2 addon/arbiter/*.cc test/native/arbiter_test*.cc -o "$OUT/arbiter_test"
"$OUT/arbiter_test"

echo "== block_index_test"
"$CXX" "${FLAGS[@]}" -O2 test/native/block_index_test.cc -o "$OUT/block_index_test"
"$OUT/block_index_test"

echo "== buffer_cache_test"
BUFFER_SRC=(addon/runtime/opencl/buffer_cache.cc addon/runtime/opencl/cl_api.cc
  addon/memory/block.cc addon/memory/host_allocator.cc test/native/buffer_cache_test.cc)
"$CXX" "${FLAGS[@]}" -O2 -DCL_TARGET_OPENCL_VERSION=120 "${BUFFER_SRC[@]}" -lOpenCL -ldl \
  -o "$OUT/buffer_cache_test"
"$OUT/buffer_cache_test"

if [ "${SANITIZE:-0}" = 1 ]; then
  echo "== block_index_test (ASan + UBSan)"
  "$CXX" "${FLAGS[@]}" "${SAN[@]}" test/native/block_index_test.cc -o "$OUT/block_index_test_san"
  "$OUT/block_index_test_san"
  echo "== arbiter_test (ASan + UBSan)"
  "$CXX" "${FLAGS[@]}" "${SAN[@]}" addon/arbiter/*.cc test/native/arbiter_test*.cc \
    -o "$OUT/arbiter_test_san"
  "$OUT/arbiter_test_san"
fi

echo "== fuzz_state (${FUZZ_SECONDS} s)"
FUZZ_SRC=(addon/arbiter/state_file.cc addon/arbiter/snapshot.cc test/native/fuzz_state.cc)
CLANG=""
for c in clang++ clang++-{20..14}; do
  if command -v "$c" >/dev/null &&
     echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
       "$c" -x c++ -fsanitize=fuzzer - -o "$OUT/.fuzzer-probe" 2>/dev/null; then
    CLANG=$c
    break
  fi
done
if [ -n "$CLANG" ]; then
  "$CLANG" "${FLAGS[@]}" "${SAN[@]}" -fsanitize=fuzzer "${FUZZ_SRC[@]}" -o "$OUT/fuzz_state"
  mkdir -p "$OUT/fuzz-corpus"
  if ! "$OUT/fuzz_state" -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$OUT/" "$OUT/fuzz-corpus" >"$OUT/fuzz.log" 2>&1; then
    tail -n 60 "$OUT/fuzz.log"
    exit 1
  fi
  grep -E '^Done' "$OUT/fuzz.log"
else
  echo "(no clang with libFuzzer: plain mutation loop)"
  "$CXX" "${FLAGS[@]}" "${SAN[@]}" -DINACCEL_FUZZ_MAIN "${FUZZ_SRC[@]}" -o "$OUT/fuzz_state"
  "$OUT/fuzz_state" "$FUZZ_SECONDS"
fi
