import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as inaccel from "../src/index";
import { native, type NativeSnapshot } from "../src/native";
import { ROOT, runChild } from "./helpers/child";

// Multi-process sharing on the two PoCL devices, through the real arbiter:
// every process here is a real child process with its own engine.

let dirs = 0;
function freshStateDir(): string {
  const dir = path.join(process.env.INACCEL_TEST_ROOT!, `arbiter-${process.pid}-${dirs++}`);
  fs.mkdirSync(dir);
  return path.join(dir, "state");
}

interface Sharer {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
}

function sharer(env: Record<string, string>): Sharer {
  const child = spawn(process.execPath, ["--require", "tsx/cjs", path.join(__dirname, "helpers", "sharer.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [env.SHARER_GO === "stdin" ? "pipe" : "ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    lines.push(...d.toString().split("\n").filter((l) => l.length > 0));
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(prefix, timeoutMs = 60000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${prefix}" from child; got ${lines.join(" | ")}`)), timeoutMs);
        const check = () => {
          const line = lines.find((l) => l.startsWith(prefix));
          if (line) {
            clearTimeout(timer);
            resolve(line);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

function okCount(snapshot: NativeSnapshot, accelerator: string): number {
  return snapshot.devices
    .flatMap((d) => d.kernels)
    .filter((k) => k.accelerator === accelerator)
    .reduce((sum, k) => sum + k.ok, 0);
}

function expectQuiet(snapshot: NativeSnapshot): void {
  for (const device of snapshot.devices) {
    expect(device.lessee, `lessee of ${device.key}`).to.equal(0);
    expect(device.queueDepth, `queue of ${device.key}`).to.equal(0);
    expect(device.users, `users of ${device.key}`).to.deep.equal([]);
  }
  expect(snapshot.processes).to.deep.equal([]);
}

describe("arbiter: processes sharing two devices", function () {
  this.timeout(180000);

  it("4 processes x 500 requests: all correct, both devices used, counters exact", async () => {
    const stateDir = freshStateDir();
    const sharers = Array.from({ length: 4 }, () =>
      sharer({ SHARER_ROLE: "vadd", SHARER_COUNT: "500", INACCEL_STATE_DIR: stateDir }),
    );
    const used = new Set<string>();
    for (const s of sharers) {
      const done = await s.waitFor("DONE", 120000);
      expect(await s.exited).to.equal(0);
      const counts = JSON.parse(done.split(" ")[2]!) as Record<string, number>;
      Object.keys(counts).forEach((id) => used.add(id));
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).to.equal(500);
    }
    expect([...used].sort()).to.deep.equal(["0", "1"]);
    const snapshot = native().inspect(stateDir);
    expect(okCount(snapshot, "vector.addition")).to.equal(2000);
    expectQuiet(snapshot);
  });

  // A sharer's per-device counts from its DONE line.
  async function doneCounts(s: Sharer): Promise<Record<string, number>> {
    return JSON.parse((await s.waitFor("DONE", 150000)).split(" ")[2]!) as Record<string, number>;
  }

  // Busy processes started together once each has its runtime open (READY).
  async function together(sharers: Sharer[]): Promise<Record<string, number>[]> {
    await Promise.all(sharers.map((s) => s.waitFor("READY")));
    for (const s of sharers) s.child.stdin!.write("go\n");
    return Promise.all(sharers.map(doneCounts));
  }

  // Each ran nearly all its requests on one device, and not the same one.
  function expectApart(counts: Record<string, number>[], count: number): void {
    const homes = counts.map((c) => Object.keys(c).reduce((a, b) => ((c[a] ?? 0) >= (c[b] ?? 0) ? a : b)));
    expect(new Set(homes).size, JSON.stringify(counts)).to.equal(2);
    counts.forEach((c, k) => expect(c[homes[k]!]! / count, JSON.stringify(counts)).to.be.at.least(0.8));
  }

  // Paced, so that both stay busy as long as each other whatever share of
  // the CPU each gets: a process left alone rightly spreads over both.
  const busy = (stateDir: string, count: number) => ({
    SHARER_ROLE: "vadd", SHARER_COUNT: String(count), SHARER_INFLIGHT: "16", SHARER_PACE_MS: "1",
    SHARER_GO: "stdin", INACCEL_STATE_DIR: stateDir,
  });

  it("two busy processes keep to a device each", async () => {
    const stateDir = freshStateDir();
    const count = 8000;
    expectApart(await together([sharer(busy(stateDir, count)), sharer(busy(stateDir, count))]), count);
    expect(okCount(native().inspect(stateDir), "vector.addition")).to.equal(2 * count);
  });

  // Three processes in process slots 0, 1 and 2 (0 and 2 of the same parity), each READY.
  async function inSlotOrder(stateDir: string, count: number): Promise<Sharer[]> {
    const started: Sharer[] = [];
    for (let slot = 0; slot < 3; slot++) {
      started.push(sharer(busy(stateDir, count)));
      await started[slot]!.waitFor("READY");
    }
    return started;
  }

  it("two busy processes keep apart when a process between them has died", async () => {
    // Slot 1 SIGKILLed: homes follow the live processes, not the slot numbers.
    const count = 8000;
    const [first, between, second] = await inSlotOrder(freshStateDir(), count);
    between!.child.kill("SIGKILL");
    await between!.exited;
    expectApart(await together([first!, second!]), count);
  });

  it("two busy processes keep apart when an idle one sits between them", async () => {
    // Slot 1 alive but idle: homes count the active processes.
    const count = 8000;
    const [first, idle, second] = await inSlotOrder(freshStateDir(), count);
    await new Promise((resolve) => setTimeout(resolve, 500)); // longer than Arbiter::kActiveNs
    expectApart(await together([first!, second!]), count);
    idle!.child.kill();
  });

  it("a process that submits now and then does not keep a busy one to a single card", async () => {
    // Others crowd a process only while busy (Arbiter::kBusyNs after each of
    // their requests), not while merely active (kActiveNs, for ranks): a
    // request every 500 ms leaves the busy one balancing over both cards
    // most of the time: 37-40% of its requests on its other card in six
    // runs, 14-16% with the rule before (crowded by any peer that queued a
    // request in the last 250 ms).
    // The busy one takes slot 0, so that its rank and home stay put.
    const stateDir = freshStateDir();
    const count = 20000;
    const heavy = sharer(busy(stateDir, count));
    await heavy.waitFor("READY");
    const light = sharer({ SHARER_ROLE: "vadd", SHARER_COUNT: "1000", SHARER_INFLIGHT: "1", SHARER_PACE_MS: "500", INACCEL_STATE_DIR: stateDir });
    await light.waitFor("READY");
    const counts = await together([heavy]);
    light.child.kill();
    const shares = ["0", "1"].map((id) => (counts[0]![id] ?? 0) / count);
    expect(Math.min(...shares), JSON.stringify(counts)).to.be.at.least(0.25);
  });

  it("busy processes of two bitstreams stay on their cards when the ranks shift", async () => {
    // Slots 0 (vadd), 1 (gemm) and 2 (vadd) have homes 0, 1 and 0: one device
    // holds the vector bitstream, the other linalg. With slot 0 gone, slot 1's
    // home is the vector device and slot 2's the linalg one; going there would
    // reconfigure both cards for nothing.
    const stateDir = freshStateDir();
    const count = 30000;  // at most 16 per 2 ms: seconds after the kill
    const started: Sharer[] = [];
    for (const role of ["vadd", "gemm", "vadd"]) {
      started.push(sharer({ ...busy(stateDir, count), SHARER_ROLE: role, SHARER_PACE_MS: "2" }));
      await started[started.length - 1]!.waitFor("READY");
    }
    const [first, gemm, vadd] = started as [Sharer, Sharer, Sharer];
    for (const s of started) s.child.stdin!.write("go\n");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    first.child.kill("SIGKILL");
    await first.exited;
    const before = native().inspect(stateDir).devices;
    expect(before.map((d) => d.bitstream.split("@")[0]).sort(), "one bitstream per device").to.deep.equal(["linalg", "vector"]);
    const reconfigured = (devices: typeof before) => devices.reduce((sum, d) => sum + d.reconfigurations, 0);
    // Three processes' first second, two bitstreams: 4-6 over 13 runs; 38-42 in
    // three runs of five with the rule before (every home its rank's device).
    expect(reconfigured(before), JSON.stringify(before)).to.be.at.most(12);
    // Until the first is done: the other, alone then, rightly spreads over both.
    await Promise.race([gemm.waitFor("DONE", 150000), vadd.waitFor("DONE", 150000)]);
    const after = native().inspect(stateDir).devices;
    const [gemmCounts, vaddCounts] = await Promise.all([doneCounts(gemm), doneCounts(vadd)]);
    expect(reconfigured(after) - reconfigured(before), JSON.stringify({ before, after, gemmCounts, vaddCounts })).to.equal(0);
    expect(after.map((d) => d.bitstream)).to.deep.equal(before.map((d) => d.bitstream));
  });

  it("a busy process whose home holds another bitstream takes an empty card, not turns on its home", async () => {
    // The gemm process (slot 0, so rank 0: home device 0) starts while a vadd
    // process (slot 1) runs on device 0 alone (its device option) and device
    // 1 holds nothing. Staying home would reconfigure device 0 back and forth
    // with the vadd process while device 1 stays empty.
    const stateDir = freshStateDir();
    const gemm = sharer({ ...busy(stateDir, 2000), SHARER_ROLE: "gemm", SHARER_WARM: "0" });
    await gemm.waitFor("READY");
    const vadd = sharer({ ...busy(stateDir, 1000000), SHARER_DEVICE: "0" });
    await vadd.waitFor("READY"); // its first request configured device 0
    vadd.child.stdin!.write("go\n");
    await new Promise((resolve) => setTimeout(resolve, 100));
    gemm.child.stdin!.write("go\n");
    const counts = await doneCounts(gemm);
    vadd.child.kill();
    const devices = native().inspect(stateDir).devices;
    expect(counts, JSON.stringify(devices)).to.deep.equal({ 1: 2000 });
    expect(devices.map((d) => d.reconfigurations), JSON.stringify(devices)).to.deep.equal([1, 1]);
  });

  it("requests waiting for a card another process leases whole can be aborted, every one", async () => {
    // This process's own state directory: the lessee shares it.
    const lessee = sharer({ SHARER_ROLE: "lease", SHARER_DEVICE: "0", INACCEL_STATE_DIR: process.env.INACCEL_STATE_DIR! });
    await lessee.waitFor("LEASED");
    try {
      const n = 1024, controller = new AbortController();
      const outputs = Array.from({ length: 8 }, () => new Float32Array(n));
      const waiting = outputs.map((c) => inaccel.submit(
        inaccel.request("vector.addition").arg(new Float32Array(n).fill(1)).arg(new Float32Array(n).fill(2)).arg(c).arg(n),
        { device: 0, signal: controller.signal },
      ));
      await new Promise((resolve) => setTimeout(resolve, 100));  // the worker sees the lease meanwhile
      controller.abort();
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("a request stayed pending after the abort")), 10000);
      });
      const settled = await Promise.race([Promise.allSettled(waiting), stuck]).finally(() => clearTimeout(timer));
      expect(settled.map((s) => s.status === "rejected" && (s.reason as inaccel.InaccelError).code)).to.deep.equal(Array(8).fill("ABORTED"));
      expect(outputs.every((c) => c.every((v) => v === 0))).to.equal(true);
    } finally {
      lessee.child.kill();
      await lessee.exited;
    }
    // The card back, requests run on it again.
    const c = new Float32Array(4);
    const result = await inaccel.submit(inaccel.request("vector.addition").arg(new Float32Array(4).fill(1)).arg(new Float32Array(4).fill(2)).arg(c).arg(4), { device: 0 });
    expect(result.device.id).to.equal(0);
    expect([...c]).to.deep.equal([3, 3, 3, 3]);
  });

  it("a request waiting out another process's quantum can be aborted", async () => {
    // The vadd process keeps device 0 busy; the gemm request's process keeps
    // a configuration 60 s while it has users, so its request waits in
    // acquire() for the quantum until aborted.
    const stateDir = freshStateDir();
    const config = path.join(path.dirname(stateDir), "config.json");
    fs.writeFileSync(config, JSON.stringify({ quantumMs: 60000 }));
    // 32 large requests in flight at all times, their arrays made once: the
    // device's queue never empties.
    const keepBusy = `
      const inaccel = require("./src/index");
      const n = 1 << 20;
      const lane = async (a, b, c) => { for (;;) await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n), { device: 0 }); };
      for (let i = 0; i < 32; i++) lane(new Float32Array(n), new Float32Array(n), new Float32Array(n));
      setTimeout(() => console.log("READY"), 500);`;
    const vadd = spawn(process.execPath, ["--require", "tsx/cjs", "-e", keepBusy], {
      cwd: ROOT, env: { ...process.env, INACCEL_STATE_DIR: stateDir }, stdio: ["ignore", "pipe", "ignore"],
    });
    await new Promise((resolve) => vadd.stdout.once("data", resolve));
    try {
      const script = `
        const inaccel = require("./src/index");
        const [m, n, k] = [3, 5, 4];
        const C = new Float32Array(m * n), controller = new AbortController(), start = Date.now();
        const request = inaccel.request("linalg.gemm").arg(new Float32Array(m * k).fill(1)).arg(new Float32Array(k * n).fill(1)).arg(C).arg(m).arg(n).arg(k);
        setTimeout(() => controller.abort(), 300);
        inaccel.submit(request, { device: 0, signal: controller.signal }).then(
          () => console.log(JSON.stringify({ outcome: "ran" })),
          (e) => console.log(JSON.stringify({ outcome: e.code, ms: Date.now() - start, untouched: C.every((v) => v === 0) })));`;
      const run = await runChild(script, { INACCEL_STATE_DIR: stateDir, INACCEL_CONFIG: config }, 30000);
      expect(run.code, run.stderr).to.equal(0);
      const seen = JSON.parse(run.stdout) as { outcome: string; ms: number; untouched: boolean };
      expect(seen).to.deep.include({ outcome: "ABORTED", untouched: true });
      expect(seen.ms, "settled soon after the abort, not after the quantum").to.be.below(10000);
      expect(native().inspect(stateDir).devices[0]!.bitstream).to.match(/^vector@/);
    } finally {
      vadd.kill();
    }
  });

  it("chaos: children SIGKILLed every ~50 ms; survivors finish correctly, nothing stays held", async () => {
    // The scenario the GPU runs use (test/helpers/chaos-run.cjs), smaller.
    const child = spawn(process.execPath, [path.join(__dirname, "helpers", "chaos-run.cjs")], {
      cwd: ROOT,
      env: {
        ...process.env, CHAOS_STATE_DIR: freshStateDir(), CHAOS_SURVIVORS: "2", CHAOS_REQUESTS: "1500",
        CHAOS_INFLIGHT: "2", CHAOS_PACE_MS: "2", CHAOS_VICTIMS: "3", CHAOS_KILLS: "15",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(out, "the run's last line").to.match(/CHAOS PASS\n$/);
    expect(code, out).to.equal(0);
    // Both devices served the survivors, and a fresh process each.
    const served = [...out.matchAll(/^survivor \d: exit 0 DONE 1500 (\{.*\})$/gm)];
    expect(served, out).to.have.length(2);
    const devices = new Set(served.flatMap((m) => Object.keys(JSON.parse(m[1]!) as object)));
    expect([...devices].sort()).to.deep.equal(["0", "1"]);
    expect(out).to.match(/^fresh process on device 0: exit 0 DONE 20 /m);
    expect(out).to.match(/^fresh process on device 1: exit 0 DONE 20 /m);
    expect(Number(/^kills (\d+)$/m.exec(out)?.[1])).to.be.at.least(15);
  });

  it("two processes needing different bitstreams on one device both progress, rarely reconfiguring", async () => {
    const stateDir = freshStateDir();
    const env = { INACCEL_STATE_DIR: stateDir, INACCEL_DEVICES: "0", SHARER_COUNT: "300", SHARER_INFLIGHT: "4" };
    const adders = sharer({ ...env, SHARER_ROLE: "vadd" });
    const multipliers = sharer({ ...env, SHARER_ROLE: "gemm" });
    await adders.waitFor("DONE", 150000);
    await multipliers.waitFor("DONE", 150000);
    const snapshot = native().inspect(stateDir);
    const device = snapshot.devices[0]!;
    expect(okCount(snapshot, "vector.addition")).to.equal(300);
    expect(okCount(snapshot, "linalg.gemm")).to.equal(300);
    expect(device.reconfigurations).to.be.at.least(2);
    expect(device.reconfigurations).to.be.below(60); // of 600 requests
  });

  it("4 worker_threads of one process share the devices as processes do", async () => {
    const stateDir = freshStateDir();
    const script = `
      const { Worker } = require("node:worker_threads");
      const code = 'require("tsx/cjs"); process.env.SHARER_ROLE = "vadd"; require("./test/helpers/sharer.ts");';
      for (let i = 0; i < 4; i++) new Worker(code, { eval: true });`;
    const child = spawn(process.execPath, ["--require", "tsx/cjs", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, INACCEL_STATE_DIR: stateDir, SHARER_COUNT: "250" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => child.on("exit", r));
    expect(code, out).to.equal(0);
    expect(out.match(/^DONE 250 /gm)).to.have.length(4);
    const snapshot = native().inspect(stateDir);
    expect(okCount(snapshot, "vector.addition")).to.equal(1000);
    expectQuiet(snapshot);
  });

  it("a whole-card lease keeps others off the card until the lessee is SIGKILLed", async () => {
    const stateDir = freshStateDir();
    const env = { INACCEL_STATE_DIR: stateDir };
    const lessee = sharer({ ...env, SHARER_ROLE: "lease", SHARER_DEVICE: "0" });
    await lessee.waitFor("LEASED");
    expect(native().inspect(stateDir).devices.find((d) => d.index === 0)?.lessee).to.equal(lessee.child.pid);
    // Others run on the other card meanwhile...
    const other = sharer({ ...env, SHARER_ROLE: "vadd", SHARER_COUNT: "100" });
    const done = await other.waitFor("DONE");
    expect(JSON.parse(done.split(" ")[2]!)).to.deep.equal({ 1: 100 });
    // ...and one that can only use the leased card waits for it.
    const waiter = sharer({ ...env, SHARER_ROLE: "vadd", SHARER_COUNT: "5", INACCEL_DEVICES: "0" });
    await new Promise((r) => setTimeout(r, 2500));
    expect(waiter.lines.filter((l) => l.startsWith("DONE"))).to.deep.equal([]);
    lessee.child.kill("SIGKILL");
    await waiter.waitFor("DONE", 30000);
    await Promise.all([other.exited, waiter.exited]);
    expectQuiet(native().inspect(stateDir));
  });

  // Runs of gemm (linalg) and vadd (vector) by turns: every turn under the
  // lease reconfigures the card; a leftover must not, since it cannot run.
  it("requests still queued on an exclusive-mode card when its lease is released fail with DEVICE_BUSY, at once, reconfiguring nothing", async () => {
    const stateDir = freshStateDir();
    const config = path.join(path.dirname(stateDir), "config.json");
    fs.writeFileSync(config, JSON.stringify({ devices: { "0": { mode: "exclusive" } } }));
    const child = await runChild(`
      const inaccel = require("./src/index.ts");
      const { native } = require("./src/native.ts");
      const reconfigurations = () => native().inspect(process.env.INACCEL_STATE_DIR).devices.find((d) => d.index === 0).reconfigurations;
      (async () => {
        const k = 8192, A = new Float32Array(64 * k).fill(1), B = new Float32Array(k * 64).fill(2);
        const x = new Float32Array(64).fill(3), y = new Float32Array(64).fill(4);
        const lease = await inaccel.lease(0);
        const results = Array.from({ length: 400 }, (_, j) => {
          const C = new Float32Array(64 * 64);
          if (j % 32 >= 16) {
            return inaccel.submit(inaccel.request("vector.addition").arg(x).arg(y).arg(C).arg(64), { device: 0 })
              .then(() => (C.subarray(0, 64).every((v) => v === 7) ? "ok" : "WRONG"), (e) => e.code);
          }
          return inaccel.submit(inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(64).arg(64).arg(k), { device: 0 })
            .then(() => (C.every((v) => v === 2 * k) ? "ok" : "WRONG"), (e) => e.code);
        });
        await results[0];
        const t0 = performance.now();
        lease.release();
        const releaseMs = performance.now() - t0;
        // The run in hand may still reconfigure once it is done: counted when the card is back.
        while (native().inspect(process.env.INACCEL_STATE_DIR).devices.find((d) => d.index === 0).lessee !== 0) {
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        const atRelease = reconfigurations();
        const outcomes = await Promise.all(results);
        const counts = {};
        for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
        console.log(JSON.stringify({ fast: releaseMs < 1000, counts, atRelease, after: reconfigurations() }));
      })();
    `, { INACCEL_STATE_DIR: stateDir, INACCEL_CONFIG: config });
    expect(child.code, child.stderr).to.equal(0);
    const { fast, counts, atRelease, after } = JSON.parse(child.stdout) as { fast: boolean; counts: Record<string, number>; atRelease: number; after: number };
    expect(fast, child.stdout).to.equal(true);
    expect(Object.keys(counts).filter((o) => o !== "ok" && o !== "DEVICE_BUSY"), child.stdout).to.deep.equal([]);
    expect(counts.DEVICE_BUSY ?? 0, child.stdout).to.be.above(200);
    expect(atRelease, child.stdout).to.be.above(0);
    expect(after, child.stdout).to.equal(atRelease);
    const state = native().inspect(stateDir);
    expect(okCount(state, "linalg.gemm") + okCount(state, "vector.addition")).to.equal(counts.ok ?? 0);
    expectQuiet(state);
  });

  // release() returns while the run in hand goes on; the card is given back
  // already as far as new requests go: one that another card can run goes there.
  it("a request sent right after release() goes to another card, not to the exclusive one being given back", async () => {
    const stateDir = freshStateDir();
    const config = path.join(path.dirname(stateDir), "config.json");
    fs.writeFileSync(config, JSON.stringify({ devices: { "0": { mode: "exclusive" } } }));
    const child = await runChild(`
      const inaccel = require("./src/index.ts");
      const N = 1 << 24, a = new Float32Array(N).fill(1), b = new Float32Array(N).fill(2);
      const vadd = (n, device) => inaccel.submit(inaccel.request("vector.addition")
        .arg(a.subarray(0, n)).arg(b.subarray(0, n)).arg(new Float32Array(n)).arg(n), device === undefined ? {} : { device })
        .then((r) => r.device.id, (e) => e.code);
      (async () => {
        const lease = await inaccel.lease(0);
        await vadd(N, 0);  // card 0 holds vector.addition; card 1 nothing
        const long = [vadd(N, 0), vadd(N, 0)];
        await new Promise((resolve) => setTimeout(resolve, 5));  // the run in hand
        lease.release();
        const next = await vadd(4);
        console.log(JSON.stringify({ next, long: await Promise.all(long) }));
      })();
    `, { INACCEL_STATE_DIR: stateDir, INACCEL_CONFIG: config });
    expect(child.code, child.stderr).to.equal(0);
    expect(JSON.parse(child.stdout).next, child.stdout).to.equal(1);
    expectQuiet(native().inspect(stateDir));
  });

  it("an exclusive-mode card is used only under a lease", async () => {
    const stateDir = freshStateDir();
    const config = path.join(path.dirname(stateDir), "config.json");
    fs.writeFileSync(config, JSON.stringify({ devices: { "0": { mode: "exclusive" } } }));
    const env = { INACCEL_STATE_DIR: stateDir, INACCEL_CONFIG: config };
    const user = sharer({ ...env, SHARER_ROLE: "vadd", SHARER_COUNT: "60" });
    expect(JSON.parse((await user.waitFor("DONE")).split(" ")[2]!)).to.deep.equal({ 1: 60 });
    const only = sharer({ ...env, SHARER_ROLE: "vadd", SHARER_COUNT: "1", INACCEL_DEVICES: "0" });
    expect(await only.waitFor("ERROR")).to.match(/^ERROR DEVICE_BUSY DEVICE_BUSY: device opencl\/.+\/0 is in exclusive mode and not leased by this process/);
  });
});

describe("arbiter: whole-card leases this process waits for", function () {
  this.timeout(60000);
  // This process's own state directory: the lessee shares it.
  const lesseeOf0 = (extra: Record<string, string> = {}) =>
    sharer({ SHARER_ROLE: "lease", SHARER_DEVICE: "0", INACCEL_STATE_DIR: process.env.INACCEL_STATE_DIR!, ...extra });
  const leaseOf0 = () => inaccel.stats().devices.find((d) => d.device?.id === 0)!.lessee;
  const vaddOn = async (device: number) => {
    const c = new Float32Array(4);
    const result = await inaccel.submit(inaccel.request("vector.addition").arg(new Float32Array(4).fill(1)).arg(new Float32Array(4).fill(2)).arg(c).arg(4), { device });
    expect([result.device.id, ...c]).to.deep.equal([device, 3, 3, 3, 3]);
  };

  it("waits off the JS thread while another process holds the card, and gets it once that one lets go", async () => {
    // The lessee lets go when told, or after 20 s: a lease that blocked the
    // JS thread would return only then, and fail the checks below.
    const lessee = lesseeOf0({ SHARER_GO: "stdin", SHARER_HOLD_MS: "20000" });
    await lessee.waitFor("LEASED");
    let leased: inaccel.DeviceLease | undefined;
    try {
      const waiting = inaccel.lease(0).then((lease) => (leased = lease));
      // The event loop goes on meanwhile: timers fire, requests run on the other card.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await vaddOn(1);
      expect([leased, lessee.lines.includes("RELEASED")]).to.deep.equal([undefined, false]);
      expect(leaseOf0()).to.equal(lessee.child.pid);
      lessee.child.stdin!.write("go\n");
      await waiting;
      expect(leaseOf0()).to.equal(process.pid);
      await vaddOn(0);  // this process runs on the card it leases
      leased!.release();
      // The worker may still be in the turn that ran it: the card comes back as that ends.
      for (const deadline = Date.now() + 1000; leaseOf0() !== null && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(leaseOf0()).to.equal(null);
    } finally {
      leased?.release();
      lessee.child.kill();
      await lessee.exited;
    }
  });

  it("an aborted wait rejects with ABORTED and leaves nothing held or waiting", async () => {
    const lessee = lesseeOf0();
    await lessee.waitFor("LEASED");
    const controller = new AbortController();
    try {
      const waiting = inaccel.lease(0, { signal: controller.signal });
      const waitingOn0 = () => native().inspect(process.env.INACCEL_STATE_DIR!).devices.find((d) => d.index === 0)?.waiting;
      for (const deadline = Date.now() + 10000; waitingOn0() !== 1 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(waitingOn0()).to.equal(1);
      controller.abort(new Error("no longer wanted"));
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the lease stayed waiting after the abort")), 10000);
      });
      const error = await Promise.race([waiting.then(() => undefined, (e: unknown) => e as inaccel.InaccelError), stuck]).finally(() => clearTimeout(timer));
      expect(error?.code).to.equal("ABORTED");
      expect((error?.cause as Error).message).to.equal("no longer wanted");
      const device = native().inspect(process.env.INACCEL_STATE_DIR!).devices.find((d) => d.index === 0)!;
      expect([device.lessee, device.waiting]).to.deep.equal([lessee.child.pid, 0]);
      const busy = await inaccel.lease(0, { wait: false }).catch((e: unknown) => e as inaccel.InaccelError);
      expect((busy as inaccel.InaccelError).code).to.equal("DEVICE_BUSY");
    } finally {
      lessee.child.kill();
      await lessee.exited;
    }
    // Nothing of the aborted wait is left: the card is free to lease and to run on.
    const lease = await inaccel.lease(0, { wait: false });
    expect(leaseOf0()).to.equal(process.pid);
    lease.release();
    await vaddOn(0);
  });

  it("a worker thread terminated while its lease waits takes nothing down with it", async () => {
    // Its addon instance goes with the thread: the wait is aborted and
    // joined, and its end must not call into the addon. (A lease callback
    // of its own once aborted the whole process here, every time.)
    const lessee = lesseeOf0();
    await lessee.waitFor("LEASED");
    try {
      const child = await runChild(`
        const { Worker } = require("node:worker_threads");
        const code = 'require("tsx/cjs"); const inaccel = require("./src/index.ts");' +
          'inaccel.lease(0).then(() => console.log("LEASED?"), () => {});' +
          'require("node:worker_threads").parentPort.postMessage("asked"); setInterval(() => {}, 1000);';
        (async () => {
          for (let round = 0; round < 3; round++) {
            const worker = new Worker(code, { eval: true });
            await new Promise((resolve) => worker.once("message", resolve));
            await new Promise((resolve) => setTimeout(resolve, 100));
            await worker.terminate();
          }
          console.log("PASS");
        })();
      `);
      expect({ code: child.code, signal: child.signal, out: child.stdout.trim() }, child.stderr).to.deep.equal({ code: 0, signal: null, out: "PASS" });
      expect(native().inspect(process.env.INACCEL_STATE_DIR!).devices.find((d) => d.index === 0)?.waiting).to.equal(0);
    } finally {
      lessee.child.kill();
      await lessee.exited;
    }
  });

  // Small gemms of a long k: a few ms of device time per request for 16 KB
  // of output each, so that the queue takes seconds without gigabytes.
  const GEMM = { m: 64, n: 64, k: 8192 };
  const gemmA = new Float32Array(GEMM.m * GEMM.k).fill(1);
  const gemmB = Array.from({ length: 10 }, (_, v) => new Float32Array(GEMM.k * GEMM.n).fill(v));
  const gemmOn0 = (j: number) => {
    const C = new Float32Array(GEMM.m * GEMM.n);
    const request = inaccel.request("linalg.gemm").arg(gemmA).arg(gemmB[j % 10]!).arg(C).arg(GEMM.m).arg(GEMM.n).arg(GEMM.k);
    return inaccel.submit(request, { device: 0 }).then((result) => {
      if (!C.every((v) => v === GEMM.k * (j % 10))) throw new Error(`gemm ${j}: ${C[0]}`);
      return result;
    });
  };
  // Enough requests for seconds of the device (calibrated at 4 s, about 2.5 s
  // when batched): what release() once waited for.
  const queueOfSeconds = async () => {
    await gemmOn0(0);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, (_, j) => gemmOn0(j)));
    const perRequest = (performance.now() - t0) / 32;
    return Math.min(3000, Math.max(300, Math.ceil(4000 / perRequest)));
  };

  it("without waiting: busy while this process's requests are on the card, free as soon as they have settled", async () => {
    // The worker settles a batch before it lets the card go; a lease asked
    // in between once failed with DEVICE_BUSY: 1 round in 200 on an idle
    // 2-core host, 1 in 30 with its cores kept busy, as here.
    const hogs = Array.from({ length: os.availableParallelism() }, () => spawn(process.execPath, ["-e", "for (const end = Date.now() + 30000; Date.now() < end;);"]));
    try {
      for (let round = 0; round < 500; round++) {
        await vaddOn(0);
        const lease = await inaccel.lease(0, { wait: false });
        lease.release();
      }
    } finally {
      for (const hog of hogs) hog.kill();
    }
    // Batches hold at most 16: after the first settles, more run on.
    const running = Array.from({ length: 64 }, (_, j) => gemmOn0(j));
    await running[0];
    const busy = await inaccel.lease(0, { wait: false }).catch((e: unknown) => e as inaccel.InaccelError);
    await Promise.all(running);
    expect((busy as inaccel.InaccelError).code).to.equal("DEVICE_BUSY");
    expect(leaseOf0()).to.equal(null);
  });

  it("release() returns at once, the card comes back after the run in hand, not the device's queue, and the queue still runs", async () => {
    const count = await queueOfSeconds();
    const lease = await inaccel.lease(0);
    let released = false;
    try {
      const results = Array.from({ length: count }, (_, j) => gemmOn0(j));
      await results[0];  // the worker now runs batch after batch under the lease
      const t0 = performance.now();
      lease.release();
      released = true;
      // Returned with the run in hand still going: it holds the card...
      expect(leaseOf0()).to.equal(process.pid);
      // ...and gives it back as it ends, the requests still queued.
      while (leaseOf0() !== null) await new Promise((resolve) => setTimeout(resolve, 1));
      const backMs = performance.now() - t0;
      const queued = native().inspect(process.env.INACCEL_STATE_DIR!).devices.find((d) => d.index === 0)!.queueDepth;
      const settled = await Promise.allSettled(results);
      const drainMs = performance.now() - t0;
      // One batch (16 requests of a few ms) against seconds: release() once
      // blocked the JS thread until the queue drained (queued: 0), then until
      // the batch in hand ended; now it waits for neither.
      expect({ queuedMoreThanHalf: queued > count / 2, backUnderASecond: backMs < 1000 },
        `the card back in ${backMs.toFixed(1)} ms with ${queued} of ${count} queued, drained in ${drainMs.toFixed(0)} ms`)
        .to.deep.equal({ queuedMoreThanHalf: true, backUnderASecond: true });
      const failed = settled.filter((s) => s.status === "rejected");
      expect(failed.map((s) => String((s as PromiseRejectedResult).reason)).slice(0, 3)).to.deep.equal([]);
      expect(settled.every((s) => s.status === "fulfilled" && s.value.device.id === 0)).to.equal(true);
      // Nothing stays held: the card leases again at once.
      const again = await inaccel.lease(0, { wait: false });
      expect(leaseOf0()).to.equal(process.pid);
      again.release();
    } finally {
      if (!released) lease.release();
    }
  });

  it("rejects an already aborted signal at once, and a signal that is not an AbortSignal", async () => {
    const reason = new Error("before");
    const error = await inaccel.lease(0, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e as inaccel.InaccelError);
    expect([(error as inaccel.InaccelError).code, (error as inaccel.InaccelError).cause]).to.deep.equal(["ABORTED", reason]);
    const bad = await inaccel.lease(0, { signal: {} as AbortSignal }).catch((e: unknown) => e as inaccel.InaccelError);
    expect((bad as inaccel.InaccelError).code).to.equal("BAD_ARGUMENT");
    // "false" is not false: a lease that was meant not to wait would wait.
    const wait = await inaccel.lease(0, { wait: "false" as never }).catch((e: unknown) => e as inaccel.InaccelError);
    expect((wait as inaccel.InaccelError).message).to.equal("BAD_ARGUMENT: lease's wait option is true or false, got string");
    expect(leaseOf0()).to.equal(null);
  });
});

describe("arbiter: a corrupt or foreign state file", () => {
  const cases: [string, (file: string) => void][] = [
    ["random bytes", (f) => fs.writeFileSync(f, Buffer.from(Array.from({ length: 413696 }, () => Math.floor(Math.random() * 256))))],
    ["a truncated file", (f) => fs.writeFileSync(f, Buffer.from("INACCARB\x01\x00"))],
    ["another layout version", (f) => {
      const buffer = Buffer.alloc(413696);
      buffer.write("INACCARB", 0, "latin1");
      buffer.writeUInt32LE(99, 8);
      fs.writeFileSync(f, buffer);
    }],
  ];
  for (const [name, corrupt] of cases) {
    it(`${name}: a clear error or a repair, never a crash`, async () => {
      const stateDir = freshStateDir();
      fs.mkdirSync(stateDir, { mode: 0o770 });
      corrupt(path.join(stateDir, "state"));
      const s = sharer({ SHARER_ROLE: "vadd", SHARER_COUNT: "3", INACCEL_STATE_DIR: stateDir });
      const code = await s.exited;
      const line = s.lines.join(" | ");
      expect(s.child.signalCode, line).to.equal(null);
      if (code === 0) expect(line).to.match(/^DONE 3 /);
      else expect(line).to.match(/^ERROR (STATE_CORRUPT|STATE_VERSION) /);
      // A corrupt file's error names it, and the way out.
      if (line.startsWith("ERROR STATE_CORRUPT")) {
        expect(line).to.include(`(${stateDir}/state: once no process uses the devices, delete it to start afresh)`);
      }
      expect(() => native().inspect(stateDir)).to.not.throw(TypeError);
    });
  }
});
