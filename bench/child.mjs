// A benchmark child process: runs `count` vector.addition requests of `n`
// floats with `inflight` of them in flight, through the SDK, on the devices
// its environment selects (INACCEL_DEVICES, POCL_DEVICES). It warms up, says
// {"ready":...} on stdout, waits for "go" on stdin so that sibling processes
// start together, then reports {"startNs","endNs","count"} (CLOCK_MONOTONIC,
// comparable across the processes of a host), with the requests per device
// and "jsBusy", the share of the time its JS thread was busy, and "jsCpuUs",
// that thread's CPU time per request in µs (Linux; steadier than jsBusy on
// a host whose cores the device's own threads share). Per device,
// "deviceBusy" is the share of the time it ran requests (the state file's
// busy time) and "batch" the mean requests per run: the requests of one
// run report the same runMs, so a change of runMs starts the next.
//
// With "threads": K, K worker threads of the process each run count / K of
// the requests with `inflight` in flight, each with its own runtime, and the
// report adds them up ("jsBusy" and "jsCpuUs": the busiest thread's;
// "perThread": each thread's requests per device).
//
//   node bench/child.mjs '{"n":65536,"count":4000,"inflight":8}'
//   node bench/child.mjs '{"n":16,"count":30000,"inflight":64,"threads":2}'
import * as fs from "node:fs";
import * as readline from "node:readline";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { together } from "./lib.mjs";

const inaccel = await import(process.env.INACCEL_BENCH_SDK || "inaccel");

// This thread's user + system CPU time in clock ticks (1/100 s).
function threadTicks() {
  const fields = fs.readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function say(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

function stdinGo() {
  return new Promise((resolve) => {
    const lines = readline.createInterface({ input: process.stdin });
    lines.once("line", () => {
      lines.close();
      resolve();
    });
  });
}

// Warms up on every device in use, then waits for `go` and runs the requests.
async function run({ n, count, inflight }, ready, go) {
  const devices = inaccel.devices();
  const slots = Array.from({ length: inflight }, () => {
    const a = inaccel.alloc(Float32Array, n);
    const b = inaccel.alloc(Float32Array, n);
    const c = inaccel.alloc(Float32Array, n);
    for (let i = 0; i < n; i++) {
      a[i] = i % 1000;
      b[i] = i % 7;
    }
    return { a, b, c };
  });
  const submit = (slot, options) =>
    inaccel.submit(inaccel.request("vector.addition").arg(slot.a).arg(slot.b).arg(slot.c).arg(n), options);

  // Warm-up: configure every device in use, fill the buffer pools.
  for (const device of devices) {
    await Promise.all(slots.map((slot) => submit(slot, devices.length > 1 ? { device: device.id } : {})));
  }
  for (const { a, b, c } of slots) {
    for (let i = 0; i < n; i++) if (c[i] !== a[i] + b[i]) throw new Error(`wrong result at ${i}`);
  }
  ready(devices.map((d) => `${d.name} (${d.platform.name})`));
  await go;

  let issued = 0;
  const used = new Map();
  const runs = new Map();  // device id -> { runMs of the last, runs so far }
  const busyBefore = busyNs();
  const loop = performance.eventLoopUtilization();
  const startTicks = threadTicks();
  const startNs = process.hrtime.bigint();
  await Promise.all(slots.map(async (slot) => {
    while (issued < count) {
      issued++;
      const result = await submit(slot);
      used.set(result.device.id, (used.get(result.device.id) ?? 0) + 1);
      const seen = runs.get(result.device.id) ?? { runMs: -1, count: 0 };
      if (seen.runMs !== result.runMs) runs.set(result.device.id, { runMs: result.runMs, count: seen.count + 1 });
    }
  }));
  const endNs = process.hrtime.bigint();
  const busyAfter = busyNs();
  const perDevice = (f) => Object.fromEntries([...used.keys()].map((id) => [id, Math.round(f(id) * 1000) / 1000]));
  return {
    startNs: String(startNs),
    endNs: String(endNs),
    count,
    perDevice: Object.fromEntries(used),
    jsBusy: performance.eventLoopUtilization(loop).utilization,
    jsCpuUs: ((threadTicks() - startTicks) * 1e4) / count,
    deviceBusy: perDevice((id) => (busyAfter.get(id) - busyBefore.get(id)) / Number(endNs - startNs)),
    batch: perDevice((id) => used.get(id) / runs.get(id).count),
  };
}

// Busy nanoseconds so far per device id, from the state file's counters.
function busyNs() {
  return new Map(inaccel.stats().devices.map((d) => [d.device.id, d.busyNs]));
}

// The process's part: one loop here, or `threads` worker threads.
async function main(params) {
  if (!(params.threads > 1)) {
    const report = await run(params, (devices) => say({ ready: true, devices }), stdinGo());
    say(report);
    return;
  }
  const workers = Array.from({ length: params.threads }, () =>
    new Worker(new URL(import.meta.url), { workerData: { ...params, count: params.count / params.threads } }));
  const next = (worker) => new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const ready = await Promise.all(workers.map(next));
  for (const report of ready) if (report.error) throw new Error(report.error);
  say({ ready: true, devices: ready[0].devices });
  await stdinGo();
  const finished = workers.map(next);
  for (const worker of workers) worker.postMessage("go");
  const reports = await Promise.all(finished);
  for (const report of reports) if (report.error) throw new Error(report.error);
  const perDevice = {};
  for (const report of reports) {
    for (const [id, done] of Object.entries(report.perDevice)) perDevice[id] = (perDevice[id] ?? 0) + done;
  }
  say({
    ...together(reports),
    perDevice,
    perThread: reports.map((r) => r.perDevice),
    jsBusy: Math.max(...reports.map((r) => r.jsBusy)),
    jsCpuUs: Math.max(...reports.map((r) => r.jsCpuUs)),
  });
  await Promise.all(workers.map((worker) => worker.terminate()));
}

if (isMainThread) {
  main(JSON.parse(process.argv[2] ?? "{}")).catch((error) => {
    say({ error: `${error.code ?? ""} ${error.message}` });
    process.exitCode = 1;
  });
} else {
  const go = new Promise((resolve) => parentPort.once("message", resolve));
  run(workerData, (devices) => parentPort.postMessage({ devices }), go)
    .then((report) => parentPort.postMessage(report))
    .catch((error) => parentPort.postMessage({ error: `${error.code ?? ""} ${error.message}` }));
}
