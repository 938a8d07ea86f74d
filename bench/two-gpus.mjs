// Scale-up on a host with two GPUs: vector.addition throughput on both GPUs
// (INACCEL_DEVICES=$TWO, default "gpu") against one ($ONE, default "1": the
// first GPU after PoCL's CPU device), for large and small requests, 3 rounds,
// medians; one JSON line per case. SMOKE=1 shrinks it for a CPU-only check.
//   ONE=1 TWO=gpu node bench/two-gpus.mjs
import * as path from "node:path";
import { median, runTogether } from "../bench/lib.mjs";
const CHILD = path.resolve("bench/child.mjs");
const cases = [
  { name: "large 16Mi floats", arg: { n: 1 << 24, count: 240, inflight: 8 } },
  { name: "small 16 floats", arg: { n: 16, count: 30000, inflight: 64 } },
];
if (process.env.SMOKE) for (const c of cases) { c.arg.count = 20; c.arg.n = Math.min(c.arg.n, 1 << 16); }
const one = process.env.ONE ?? "1", two = process.env.TWO ?? "gpu";
for (const c of cases) {
  const rates = { one: [], two: [] };
  let split;
  for (let round = 0; round < 3; round++) {
    for (const [tag, sel] of [["one", one], ["two", two]]) {
      const run = await runTogether([CHILD], [{ env: { ...process.env, INACCEL_DEVICES: sel, INACCEL_STATE_DIR: `/tmp/two-${tag}-${round}-${c.arg.n}` }, arg: c.arg }]);
      rates[tag].push(run.rate);
      if (tag === "two") split = { devices: run.ready[0].devices, perDevice: run.reports[0].perDevice };
    }
  }
  console.log(JSON.stringify({ case: c.name, arg: c.arg, one: median(rates.one), two: median(rates.two), ratio: median(rates.two) / median(rates.one), rates, split }));
}
