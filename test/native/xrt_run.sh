#!/usr/bin/env bash
# Builds the XRT plugin (addon/xrt) and its native tests with g++, then runs
# them (test/native/xrt_test.cc): the loader, discovery with no card, xclbin
# checks and fuzzing, and host paths on XRT's no-op shim. Prints
# "N passed, M failed"; exits non-zero on any failure. Skips (exit 0) where
# XRT's headers are missing, unless INACCEL_REQUIRE_XRT=1.
set -uo pipefail
cd "$(dirname "$0")/../.."

if [ ! -f /usr/include/xrt/xrt/xrt_device.h ]; then
  echo "XRT headers not installed (apt-get install libxrt-dev): XRT native tests skipped"
  [ "${INACCEL_REQUIRE_XRT:-0}" = 1 ] && exit 1
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CXX=${CXX:-g++}
FLAGS=(-std=c++17 -O1 -g -Wall -Wextra -Iaddon -I/usr/include/xrt)
mkdir -p "$tmp"/plugins/{real,empty,gone,abi} "$tmp/xclbin" "$tmp/xrt/lib"

set -e
# The plugin as binding.gyp builds it, and two broken stand-ins.
"$CXX" "${FLAGS[@]}" -fPIC -shared addon/xrt/*.cc -lxrt_coreutil -o "$tmp/plugins/real/libinaccel_xrt.so"
mkdir "$tmp/lib.target" && cp "$tmp/plugins/real/libinaccel_xrt.so" "$tmp/lib.target/"
echo 'extern "C" int gone_function() { return 1; }' | "$CXX" -x c++ -shared -fPIC -o "$tmp/libgone.so" -
"$CXX" -std=c++17 -fPIC -shared -DNEEDS_GONE test/native/xrt_fake_plugin.cc -L"$tmp" -Wl,--no-as-needed -lgone \
  -o "$tmp/plugins/gone/libinaccel_xrt.so"
rm "$tmp/libgone.so"
"$CXX" -std=c++17 -fPIC -shared test/native/xrt_fake_plugin.cc -o "$tmp/plugins/abi/libinaccel_xrt.so"
# The loader built as in the addon (hidden visibility), never linked with the plugin.
"$CXX" "${FLAGS[@]}" -fvisibility=hidden test/native/xrt_test.cc addon/runtime/plugin.cc \
  addon/xrt/xclbin_check.cc addon/xrt/buffers.cc addon/memory/*.cc -lxrt_coreutil -ldl -o "$tmp/xrt_test"
npx tsx test/native/xrt_make_xclbin.ts "$tmp/xclbin"
# XRT loads its shims from $XILINX_XRT/lib; Debian installs them in the multiarch folder.
libdir=$(dirname "$(PATH=$PATH:/sbin:/usr/sbin ldconfig -p | awk '/libxrt_coreutil\.so\.2 /{print $NF; exit}')")
ln -s "$libdir"/libxrt_*.so.2 "$tmp/xrt/lib/"
set +e

run() {
  local mode=$1
  shift
  env "$@" "$tmp/xrt_test" "$mode" "$tmp/xclbin" "$tmp/plugins" >"$tmp/out" 2>&1
  local rc=$?
  cat "$tmp/out" | tee -a "$tmp/log"
  if [ "$rc" -gt 1 ]; then echo "FAIL - $mode ($*) exited with $rc" | tee -a "$tmp/log"; fi
}

run loader
run nocard -u XILINX_XRT -u XCL_EMULATION_MODE
run nocard -u XCL_EMULATION_MODE XILINX_XRT="$tmp/xrt"
run noop XILINX_XRT="$tmp/xrt" XCL_EMULATION_MODE=noop

passed=$(grep -c '^ok - ' "$tmp/log")
failed=$(grep -c '^FAIL - ' "$tmp/log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
