#!/bin/sh
# This build against the one in .device/exp (see docs/performance.md,
# "Reproduce"), on a GPU machine of the device tool, taking turns:
# bench/child.mjs with 200 000 16-float requests, 64 in flight, on the
# first GPU and on every GPU, ROUNDS times [5]; then latency-16 and
# throughput-16-inflight of each build, twice. Run from the repository root
# there, with .device, build and dist carried. Writes under $OUT:
#   ab.txt      a line per round and build: requests/s on one GPU and on
#               all, the JS thread's busy share, each device's mean batch
#               and busy share
#   new-N.json, previous-N.json   bench/main.mjs --json of the two cases
set -u
. bench/device-env.sh
[ -e .device/exp/node_modules ] || ln -s ../node_modules .device/exp/node_modules
first=$(INACCEL_DEVICES=gpu node -e 'console.log(require("./dist/index.js").devices()[0].id)')
runs=0
# rate DEVICES SDK: one child run, as a line of figures.
rate() {
  runs=$((runs + 1))
  echo go | INACCEL_BENCH_SDK=$2 INACCEL_DEVICES=$1 INACCEL_STATE_DIR=/tmp/ab-state-$runs timeout 60 \
    node bench/child.mjs '{"n":16,"count":200000,"inflight":64}' | tail -1 | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const r = JSON.parse(s);
        if (r.error) return console.log(r.error);
        const rate = r.count / ((Number(r.endNs) - Number(r.startNs)) / 1e9);
        console.log(Math.round(rate), "js", r.jsBusy.toFixed(2),
          "batch", Object.values(r.batch).map((x) => x.toFixed(1)).join("/"),
          "busy", Object.values(r.deviceBusy).join("/"));
      });'
}
for round in $(seq 1 "${ROUNDS:-5}"); do
  for build in new previous; do
    sdk=$PWD/dist/index.js
    [ $build = previous ] && sdk=$PWD/.device/exp/dist/index.js
    echo "$round $build one: $(rate "$first" "$sdk") | two: $(rate gpu "$sdk")"
  done
done >"$OUT/ab.txt" 2>&1
for round in 1 2; do
  INACCEL_DEVICES=gpu timeout 100 node bench/main.mjs --json --cases latency-16,throughput-16-inflight \
    --rounds 5 --out "$OUT/new-$round.json" >/dev/null 2>>"$OUT/log.txt"
  INACCEL_DEVICES=gpu INACCEL_BENCH_SDK=$PWD/.device/exp/dist/index.js timeout 100 node bench/main.mjs --json \
    --cases latency-16,throughput-16-inflight --rounds 5 --out "$OUT/previous-$round.json" >/dev/null 2>>"$OUT/log.txt"
done
