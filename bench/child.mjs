// A benchmark child process: runs `count` vector.addition requests of `n`
// floats with `inflight` of them in flight, through the SDK, on the devices
// its environment selects (INACCEL_DEVICES, POCL_DEVICES). It warms up, says
// {"ready":...} on stdout, waits for "go" on stdin so that sibling processes
// start together, then reports {"startNs","endNs","count"} (CLOCK_MONOTONIC,
// comparable across the processes of a host), with the requests per device
// and "jsBusy", the share of the time its JS thread was busy, and "jsCpuUs",
// that thread's CPU time per request in µs (Linux; steadier than jsBusy on
// a host whose cores the device's own threads share).
//
//   node bench/child.mjs '{"n":65536,"count":4000,"inflight":8}'
import * as fs from "node:fs";
import * as readline from "node:readline";

const inaccel = await import(process.env.INACCEL_BENCH_SDK || "inaccel");

const { n, count, inflight } = JSON.parse(process.argv[2] ?? "{}");

// This (the JS) thread's user + system CPU time in clock ticks (1/100 s).
function threadTicks() {
  const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function say(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

async function main() {
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
  say({ ready: true, devices: devices.map((d) => `${d.name} (${d.platform.name})`) });

  await new Promise((resolve) => {
    const lines = readline.createInterface({ input: process.stdin });
    lines.once("line", () => {
      lines.close();
      resolve();
    });
  });

  let issued = 0;
  const used = new Map();
  const loop = performance.eventLoopUtilization();
  const startTicks = threadTicks();
  const startNs = process.hrtime.bigint();
  await Promise.all(slots.map(async (slot) => {
    while (issued < count) {
      issued++;
      const result = await submit(slot);
      used.set(result.device.id, (used.get(result.device.id) ?? 0) + 1);
    }
  }));
  const endNs = process.hrtime.bigint();
  const jsBusy = performance.eventLoopUtilization(loop).utilization;
  const jsCpuUs = ((threadTicks() - startTicks) * 1e4) / count;
  say({ startNs: String(startNs), endNs: String(endNs), count, perDevice: Object.fromEntries(used), jsBusy, jsCpuUs });
}

main().catch((error) => {
  say({ error: `${error.code ?? ""} ${error.message}` });
  process.exitCode = 1;
});
