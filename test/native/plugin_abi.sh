#!/usr/bin/env bash
# Guards kPluginAbi (addon/runtime/plugin.h): a plugin built against other
# declarations of the headers that plugins share (runtime/backend.h,
# common/error.h) must not be loaded, so any change to them needs a
# decision on bumping kPluginAbi. test/native/plugin_abi.txt records the
# ABI number and the sha256 of each header without its comments.
#   test/native/plugin_abi.sh           check (exit 1 on a mismatch)
#   test/native/plugin_abi.sh --update  record the current headers and ABI
set -euo pipefail
cd "$(dirname "$0")/../.."
CXX=${CXX:-g++}
RECORD=test/native/plugin_abi.txt
HEADERS=(addon/runtime/backend.h addon/common/error.h)

current() {
  echo "kPluginAbi $(sed -n 's/^constexpr int kPluginAbi = \([0-9]*\);.*/\1/p' addon/runtime/plugin.h)"
  for h in "${HEADERS[@]}"; do
    echo "$("$CXX" -fpreprocessed -dD -E -P -x c++ "$h" 2>/dev/null | sha256sum | cut -d' ' -f1) $h"
  done
}

if [ "${1:-}" = --update ]; then
  current >"$RECORD"
  cat "$RECORD"
  exit 0
fi
if ! diff <(cat "$RECORD") <(current); then
  echo "FAIL: the plugin headers or kPluginAbi differ from $RECORD (above: < recorded, > now)."
  echo "A virtual added, removed or moved in Device or Backend, or a changed"
  echo "struct, breaks plugins built before: bump kPluginAbi in addon/runtime/plugin.h;"
  echo "then record both with test/native/plugin_abi.sh --update."
  exit 1
fi
echo "plugin_abi: ok ($(head -n1 "$RECORD"))"
