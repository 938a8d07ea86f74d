// A sharing process for the multi-process tests, driven by environment:
//   SHARER_ROLE=vadd   SHARER_COUNT=n [SHARER_INFLIGHT=k]  runs n checked vadds
//   SHARER_ROLE=gemm   SHARER_COUNT=n [SHARER_INFLIGHT=k]  runs n checked small gemms
//                      Either prints "READY" once the first one is back (with
//                      SHARER_WARM=0, once the runtime is open, none run), then runs
//                      the rest in k lanes, each pausing SHARER_PACE_MS between its
//                      requests; with SHARER_GO=stdin, only after a line on stdin;
//                      with SHARER_DEVICE=id, all on that device.
//   SHARER_ROLE=lease  SHARER_DEVICE=id                    leases a device whole, then idles;
//                      releases it and prints "RELEASED" SHARER_HOLD_MS after, or with
//                      SHARER_GO=stdin at a line on stdin, whichever comes first
// It prints one line per event: "READY", "LEASED", "RELEASED", "DONE <n> <json of device id -> count>",
// "WRONG <detail>" or "ERROR <code> <message>".
import * as inaccel from "../../src/index";

const role = process.env.SHARER_ROLE;
const count = Number(process.env.SHARER_COUNT ?? 100);
const inflight = Number(process.env.SHARER_INFLIGHT ?? 8);
const paceMs = Number(process.env.SHARER_PACE_MS ?? 0); // pause between a lane's requests
const perDevice: Record<number, number> = {};
const options = process.env.SHARER_DEVICE === undefined ? {} : { device: Number(process.env.SHARER_DEVICE) };

async function vadd(j: number): Promise<void> {
  const n = 64 + (j % 7) * 100;
  const a = inaccel.alloc(Float32Array, n), b = inaccel.alloc(Float32Array, n), c = inaccel.alloc(Float32Array, n);
  a.fill(j);
  b.fill(process.pid % 1000);
  const r = await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n), options);
  perDevice[r.device.id] = (perDevice[r.device.id] ?? 0) + 1;
  const want = Math.fround(j + (process.pid % 1000));
  if (!c.every((v) => v === want)) throw new Error(`WRONG vadd ${j}: ${c[0]} != ${want}`);
  inaccel.release(a);
  inaccel.release(b);
  inaccel.release(c);
}

async function gemm(j: number): Promise<void> {
  const m = 3, n = 5, k = 4;
  const A = new Float32Array(m * k).fill(1), B = new Float32Array(k * n).fill(j % 10), C = new Float32Array(m * n);
  const r = await inaccel.submit(inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(m).arg(n).arg(k), options);
  perDevice[r.device.id] = (perDevice[r.device.id] ?? 0) + 1;
  if (!C.every((v) => v === k * (j % 10))) throw new Error(`WRONG gemm ${j}: ${C[0]}`);
}

async function run(task: (j: number) => Promise<void>): Promise<void> {
  let next = 0;
  if (process.env.SHARER_WARM === "0") inaccel.devices();
  else await task(next++);
  console.log("READY");
  if (process.env.SHARER_GO === "stdin") {
    await new Promise((resolve) => process.stdin.once("data", resolve));
    process.stdin.pause();
  }
  const lane = async () => {
    while (next < count) {
      await task(next++);
      if (paceMs) await new Promise((r) => setTimeout(r, paceMs));
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  console.log(`DONE ${count} ${JSON.stringify(perDevice)}`);
}

async function main(): Promise<void> {
  if (role === "vadd") return run(vadd);
  if (role === "gemm") return run(gemm);
  if (role === "lease") {
    const lease = await inaccel.lease(Number(process.env.SHARER_DEVICE ?? 0));
    console.log("LEASED");
    const idle = setInterval(() => undefined, 1000);
    let held = true;
    const letGo = () => {
      if (!held) return;
      held = false;
      lease.release();
      console.log("RELEASED");
      clearInterval(idle);
      process.stdin.pause();
    };
    if (process.env.SHARER_HOLD_MS !== undefined) setTimeout(letGo, Number(process.env.SHARER_HOLD_MS)).unref();
    if (process.env.SHARER_GO === "stdin") process.stdin.once("data", letGo);
    return;
  }
  throw new Error(`unknown SHARER_ROLE ${String(role)}`);
}

main().catch((error: unknown) => {
  const e = error as { code?: string; message?: string };
  console.log(e.message?.startsWith("WRONG") ? e.message : `ERROR ${e.code ?? "?"} ${e.message ?? String(error)}`);
  process.exit(1);
});
