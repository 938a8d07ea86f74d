// Several processes share the devices with no daemon: the parent forks
// worker copies of this program; each submits a mix of built-in accelerators
// (several requests in flight at once), checks every result against the
// JavaScript reference and reports which devices ran its requests.
//   node examples/multi-process.mjs [workers] [requests per worker]   (default 4 50)
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as inaccel from "inaccel";
import { seededRandom, TRIALS } from "inaccel/reference";

// Small problems, so that requests from all workers interleave on the devices.
const MIX = [
  ["vector.addition", 100_000],
  ["image.filter2d", 300],
  ["linalg.gemm", 96],
  ["ml.logisticregression.gradients", 5_000],
];
const IN_FLIGHT = 4;

async function worker(requests) {
  const random = seededRandom(process.pid);
  const devices = {};
  let failed = 0;
  let reconfigured = 0;
  let next = 0;
  const lane = async () => {
    while (next < requests) {
      const [accelerator, size] = MIX[next++ % MIX.length];
      const trial = TRIALS[accelerator].make(size, random);
      const result = await inaccel.submit(trial.request);
      const check = trial.check();
      if (!check.ok) {
        failed++;
        console.error(`worker ${process.pid}: FAIL ${accelerator} ${trial.shape}: ${check.summary}`);
      }
      const device = `${result.device.id} ${result.device.name}`;
      devices[device] = (devices[device] ?? 0) + 1;
      if (result.reconfigured) reconfigured++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  process.send({ pid: process.pid, requests, failed, reconfigured, devices });
}

async function parent(workers, requests) {
  const self = fileURLToPath(import.meta.url);
  const start = performance.now();
  const reports = await Promise.all(Array.from({ length: workers }, () => new Promise((resolve) => {
    const child = fork(self, ["worker", String(requests)]);
    let report;
    child.on("message", (message) => (report = message));
    child.on("exit", (code, signal) => resolve({ report, code, signal, pid: child.pid }));
  })));
  const ms = performance.now() - start;

  const devices = new Map();
  let bad = 0;
  for (const { report, code, signal, pid } of reports) {
    if (!report || code !== 0 || report.failed > 0) {
      bad++;
      console.log(`worker ${pid}: exit ${signal ?? code}, ${report ? `${report.failed} failed` : "no report"}`);
      continue;
    }
    const spread = Object.entries(report.devices).map(([device, count]) => `${count} on ${device.split(" ")[0]}`).join(", ");
    console.log(`worker ${pid}: ${report.requests} requests ok (${spread}; ${report.reconfigured} reconfigured)`);
    for (const [device, count] of Object.entries(report.devices)) devices.set(device, (devices.get(device) ?? 0) + count);
  }
  console.log(`${bad === 0 ? "PASS" : "FAIL"} ${workers} processes x ${requests} requests of ${MIX.map(([id]) => id).join(", ")}: ${ms.toFixed(0)} ms`);
  for (const [device, count] of [...devices].sort()) console.log(`  device ${device}: ${count} requests`);
  process.exitCode = bad === 0 ? 0 : 1;
}

if (process.argv[2] === "worker") await worker(Number(process.argv[3]));
else await parent(Number(process.argv[2] ?? 4), Number(process.argv[3] ?? 50));
