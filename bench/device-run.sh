#!/bin/sh
# The full benchmark set on a GPU machine of the device tool (one or two
# NVIDIA H100s or H200s with NVIDIA's OpenCL and PoCL, no Node.js): see
# docs/performance.md, "Reproduce". Run from the repository root there, with
# .device (node.xz and the runtime node_modules plus tsx), build and dist
# carried. Writes under $OUT:
#   pcie.json      bench/probes/pcie.py: the host's copy ceiling, each GPU
#                  alone and all at once (CUDA, pinned memory, no OpenCL)
#   copy.txt       bench/probes/copy_rate.cc: the same ceiling in OpenCL, for
#                  vadd's bytes (two writes, one read) and for one write and
#                  one read, on one GPU and on two
#   launch.txt     bench/probes/launch_rate.cc: raw OpenCL launches/s of tiny
#                  kernels, one host thread per GPU, on one GPU and on two
#   bench.json     npm run bench -- --json (full set) on the GPUs
#   four-one.json  four-processes on the first GPU alone, where there are two
#   candidate.json the small-request and process cases with
#                  INACCEL_BENCH_SDK=.device/exp/dist/index.js, when a candidate
#                  build was carried there (SKIP_CANDIDATE=1 skips it)
#   chaos.txt      test/helpers/chaos-run.cjs on the GPUs (SIGKILLed sharers;
#                  SKIP_CHAOS=1 skips it, for a second call when time is short)
#   examples.txt   node examples/*.mjs with INACCEL_DEVICES=gpu
#   log.txt        everything else: clinfo, timings, stderr
set -u
. bench/device-env.sh
LOG="$OUT/log.txt"
{
  clinfo -l
  nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current --format=csv
  nproc
} >"$LOG" 2>&1
# The GPUs; where there is one, two-devices picks two PoCL CPU devices itself.
export INACCEL_DEVICES=${BENCH_DEVICES:-gpu}

echo "== pcie probe" >>"$LOG"
timeout 60 python3 bench/probes/pcie.py >"$OUT/pcie.json" 2>>"$LOG"
echo "rc=$?" >>"$LOG"

gpus=$(node -e 'console.log(require("./dist/index.js").devices().filter((d)=>d.type==="gpu").length)')
echo "== copy-rate probe" >>"$LOG"
for mix in vadd both; do
  for devices in 1 $([ "$gpus" -gt 1 ] && echo 2); do
    timeout 30 build/bench/copy_rate --devices "$devices" --mix "$mix" >>"$OUT/copy.txt" 2>>"$LOG"
  done
done

echo "== launch-rate probe" >>"$LOG"
for args in each once; do
  for devices in 1 $([ "$gpus" -gt 1 ] && echo 2); do
    timeout 30 build/bench/launch_rate --devices "$devices" --args "$args" >>"$OUT/launch.txt" 2>>"$LOG"
  done
done

echo "== bench (current build)" >>"$LOG"
start=$(date +%s)
timeout 300 node bench/main.mjs --json --out "$OUT/bench.json" >/dev/null 2>>"$LOG"
echo "rc=$? seconds=$(( $(date +%s) - start ))" >>"$LOG"

first=$(node -e 'const g=require("./dist/index.js").devices().filter((d)=>d.type==="gpu");if(g.length>1)console.log(g[0].id)')
if [ -n "$first" ]; then
  echo "== four-processes on GPU $first alone" >>"$LOG"
  INACCEL_DEVICES=$first timeout 60 node bench/main.mjs --json --cases four-processes \
    --out "$OUT/four-one.json" >/dev/null 2>>"$LOG"
  echo "rc=$?" >>"$LOG"
fi

if [ "${SKIP_CHAOS:-0}" != 1 ]; then
  echo "== chaos" >>"$LOG"
  start=$(date +%s)
  timeout 150 node test/helpers/chaos-run.cjs >"$OUT/chaos.txt" 2>&1
  echo "rc=$? seconds=$(( $(date +%s) - start ))" >>"$LOG"
fi

if [ -f .device/exp/dist/index.js ] && [ "${SKIP_CANDIDATE:-0}" != 1 ]; then
  echo "== bench (candidate build)" >>"$LOG"
  start=$(date +%s)
  INACCEL_BENCH_SDK="$PWD/.device/exp/dist/index.js" timeout 180 node bench/main.mjs --json \
    --cases latency-16,throughput-16-inflight,two-devices-small,four-processes \
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
