// Tiny requests over several cards from one process: one JavaScript thread
// submits and settles only so many requests a second, so this program runs
// one worker thread per device and compares. Each thread allocates its own
// arrays, keeps many 16-float vector.addition requests in flight and checks
// every result; while they are all busy, each tends to keep to a card of its
// own. The main thread then runs the same number of requests alone (on two
// H200s it now keeps up with two threads: examples/README.md).
//   node examples/worker-threads.mjs [requests] [threads]   (default 20000, one per device)
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import * as inaccel from "inaccel";

const N = 16;
const IN_FLIGHT = 64;
// Each lane's arrays, made once per thread and used by every run.
const arrays = Array.from({ length: IN_FLIGHT }, () => ({
  a: inaccel.alloc(Float32Array, N),
  b: inaccel.alloc(Float32Array, N),
  c: inaccel.alloc(Float32Array, N),
}));

// Runs `requests` vector additions, IN_FLIGHT at a time (on one device with
// `options.device`); returns the wrong results' count and the requests per
// device id.
async function run(requests, options = {}) {
  const devices = {};
  let wrong = 0;
  let next = 0;
  const lane = async (lane) => {
    const { a, b, c } = arrays[lane];
    while (next < requests) {
      const k = next++;
      a.fill(k);
      b.fill(lane);
      const result = await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(N), options);
      if (!c.every((v) => v === k + lane)) wrong++;
      devices[result.device.id] = (devices[result.device.id] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, k) => lane(k)));
  return { wrong, devices };
}

// Every device's program built (or loaded from the cache) and its buffers made.
async function warmUp() {
  for (const device of inaccel.devices()) await run(IN_FLIGHT, { device: device.id });
}

async function main(requests, threads) {
  // The threads warm up, then start together on "go". They run first: a
  // thread that has just been busy counts as busy for a moment, which
  // would move the others' home cards in the middle of their run.
  const workers = Array.from({ length: threads }, () =>
    new Worker(new URL(import.meta.url), { workerData: requests / threads }));
  const next = (worker) => new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await Promise.all(workers.map(next));
  const finished = workers.map(next);
  let start = performance.now();
  for (const worker of workers) worker.postMessage("go");
  const reports = await Promise.all(finished);
  const threadsMs = performance.now() - start;

  await warmUp();
  start = performance.now();
  const alone = await run(requests);
  const aloneMs = performance.now() - start;

  const wrong = alone.wrong + reports.reduce((sum, r) => sum + r.wrong, 0);
  const rate = (ms) => Math.round(requests / (ms / 1000));
  console.log(`${wrong === 0 ? "PASS" : "FAIL"} ${requests} requests of vector.addition n=${N}: ` +
    `${rate(threadsMs)}/s from ${threads} worker thread(s), ${rate(aloneMs)}/s from the main thread alone` +
    (wrong ? ` (${wrong} wrong)` : ""));
  reports.forEach((r, k) => console.log(`  thread ${k}: ${Object.entries(r.devices).map(([id, n]) => `${n} on device ${id}`).join(", ")}`));
  process.exitCode = wrong === 0 ? 0 : 1;
}

if (isMainThread) {
  const requests = Number(process.argv[2] ?? 20000);
  await main(requests, Number(process.argv[3] ?? inaccel.devices().length));
} else {
  await warmUp();
  const go = new Promise((resolve) => parentPort.once("message", resolve));
  parentPort.postMessage("ready");
  await go;
  parentPort.postMessage(await run(workerData));
}
