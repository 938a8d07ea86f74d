#!/bin/sh
# The full benchmark set on the GPU machine of the device tool (an NVIDIA
# H100 with NVIDIA's OpenCL and PoCL, no Node.js): see docs/performance.md,
# "Reproduce". Run from the repository root there, with .device (node.xz and
# the runtime node_modules), build and dist carried. Writes under $OUT:
#   h100.json      npm run bench -- --json (full set)
#   candidate.json the same with INACCEL_BENCH_SDK=.device/exp/dist/index.js,
#                  when a candidate build was carried there
#   examples.txt   node examples/*.mjs with INACCEL_DEVICES=gpu
#   log.txt        everything else: clinfo, timings, stderr
set -u
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT"
LOG="$OUT/log.txt"
{
  python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('.device/node.xz'),open('/tmp/node','wb'))"
  chmod +x /tmp/node
  [ -f /etc/OpenCL/vendors/nvidia.icd ] || echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
  [ -e node_modules ] || ln -s .device/node_modules node_modules
  clinfo -l
  nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current --format=csv
  nproc
} >"$LOG" 2>&1
export PATH=/tmp:$PATH
# The single-device cases on the GPU; two-devices picks the PoCL CPU devices itself.
export INACCEL_DEVICES=${BENCH_DEVICES:-gpu}
export INACCEL_CACHE_DIR=/tmp/inaccel-cache

echo "== bench (current build)" >>"$LOG"
start=$(date +%s)
timeout 230 node bench/main.mjs --json --out "$OUT/h100.json" >/dev/null 2>>"$LOG"
echo "rc=$? seconds=$(( $(date +%s) - start ))" >>"$LOG"

if [ -f .device/exp/dist/index.js ] && [ "${SKIP_CANDIDATE:-0}" != 1 ]; then
  echo "== bench (candidate build)" >>"$LOG"
  start=$(date +%s)
  INACCEL_BENCH_SDK="$PWD/.device/exp/dist/index.js" timeout 110 node bench/main.mjs --json \
    --cases latency-16,throughput-16-inflight,vadd-1Mi,vadd-64Mi,four-processes \
    --out "$OUT/candidate.json" >/dev/null 2>>"$LOG"
  echo "rc=$? seconds=$(( $(date +%s) - start ))" >>"$LOG"
fi

echo "== examples" >>"$LOG"
for example in examples/*.mjs; do
  echo "== $example"
  timeout 25 node "$example" 2>&1
  echo "rc=$?"
done >"$OUT/examples.txt" 2>&1
exit 0
