import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as inaccel from "../src/index";
import type { Device } from "../src/device";
import { buildStats, type Stats } from "../src/insight/model";
import { exposition } from "../src/insight/prometheus";
import { rates, type Sample } from "../src/insight/rates";
import type { NativeSnapshot } from "../src/native";
import { readStats, stats } from "../src/stats";
import { ROOT, runChild } from "./helpers/child";

// A source bitstream of two accelerators on one program: `add` works
// (y = x + 1); `broken` names a kernel function the program lacks, so it
// passes every argument check, then fails on the device, every time.
const KERNEL = `__kernel void add_one(__global const float* x, __global float* y, int n) {
  int i = get_global_id(0);
  if (i < n) y[i] = x[i] + 1.0f;
}
`;
const ARGS = [
  { name: "x", type: "float*", access: "r", length: "n" },
  { name: "y", type: "float*", access: "w", length: "n" },
  { name: "n", type: "int" },
];

async function installFixture(id: string): Promise<void> {
  const dir = path.join(process.env.INACCEL_TEST_ROOT!, `${id}-bitstream`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kernels.cl"), KERNEL);
  fs.writeFileSync(path.join(dir, "bitstream.json"), JSON.stringify({
    bitstreamId: id,
    version: "1.0.0",
    kernels: [
      { name: "add_one", kernelId: "add", workSize: "n", arguments: ARGS },
      { name: "no_such_kernel", kernelId: "broken", workSize: "n", arguments: ARGS },
    ],
  }));
  await inaccel.repository.install(dir);
}

// A child that runs `ok` requests of <id>.add and `failed` of <id>.broken,
// interleaved and all in flight at once, then prints what it saw.
const requests = (id: string, ok: number, failed: number): string => `
  const inaccel = require("./src/index");
  const n = 256, x = inaccel.alloc(Float32Array, n);
  x.fill(1);
  const seen = { ok: 0, failed: 0, codes: [], pid: process.pid };
  const one = (accelerator) => {
    const y = inaccel.alloc(Float32Array, n);
    return inaccel.submit(inaccel.request(accelerator).arg(x).arg(y).arg(n)).then(
      () => { if (y.some((v) => v !== 2)) throw new Error("wrong result"); seen.ok++; },
      (e) => { seen.failed++; if (!seen.codes.includes(e.code)) seen.codes.push(e.code); });
  };
  const jobs = [];
  for (let i = 0, broken = 0; i < ${ok + failed}; i++) {
    const fail = broken < ${failed} && i % ${Math.floor((ok + failed) / failed)} === 0;
    if (fail) broken++;
    jobs.push(one(fail ? "${id}.broken" : "${id}.add"));
  }
  Promise.all(jobs).then(() => console.log(JSON.stringify(seen)));
`;

/** Runs the CLI (through tsx) to completion and returns its stdout. */
function cli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--require", "tsx/cjs", "src/cli/main.ts", ...args], { cwd: ROOT });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`inaccel ${args.join(" ")}: exit ${code}\n${stderr}`))));
  });
}

/** Runs the CLI (through tsx) to its end, or kills it after `timeoutMs`, whatever its exit code. */
function cliRun(args: string[], timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--require", "tsx/cjs", "src/cli/main.ts", ...args],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Sums of one accelerator's counters over every device of a snapshot. */
function totals(s: Stats, accelerator: string): { ok: number; failed: number } {
  const kernels = s.devices.flatMap((d) => d.kernels).filter((k) => k.accelerator === accelerator);
  return { ok: kernels.reduce((n, k) => n + k.ok, 0), failed: kernels.reduce((n, k) => n + k.failed, 0) };
}

/** The value of each `inaccel_requests_total` series of `accelerator` in an exposition, summed per status. */
function scraped(text: string, accelerator: string): { ok: number; failed: number } {
  const sums = { ok: 0, failed: 0 };
  for (const line of text.split("\n")) {
    const match = /^inaccel_requests_total\{(.*)\} (\S+)$/.exec(line);
    if (!match || !match[1]!.includes(`accelerator="${accelerator}"`)) continue;
    sums[match[1]!.includes('status="ok"') ? "ok" : "failed"] += Number(match[2]);
  }
  return sums;
}

const device = (id: number, key: string): Device => ({
  id, key, backend: "opencl", platform: { vendor: "v", name: "p", version: "1" },
  vendor: "v", name: `dev${id}`, type: "cpu", version: "1", memory: 1, compiler: true,
});

const snapshot: NativeSnapshot = {
  devices: [
    {
      index: 0, key: "k1", mode: "exclusive", bitstream: "b@1:abc", generation: 3, reconfigurations: 2, configureNs: 2.5e9, queueDepth: 4,
      waiting: 1, lessee: 42, users: [42, 43],
      kernels: [{ accelerator: "a.x", ok: 10, failed: 2, busyNs: 3e9 }, { accelerator: 'we"ird\\name', ok: 1, failed: 0, busyNs: 5e8 }],
    },
    {
      index: 1, key: "elsewhere", mode: "shared", bitstream: "", generation: 0, reconfigurations: 0, configureNs: 0, queueDepth: 0,
      waiting: 0, lessee: 0, users: [], kernels: [],
    },
  ],
  processes: [{ pid: 42, startTime: 1.7e18 }],
};

describe("insight: snapshot model, rates, Prometheus", () => {
  const join = (others: boolean) =>
    buildStats(snapshot, [device(0, "k0"), device(1, "k1")], {
      stateDir: "/s", others, modeOf: () => "exclusive", time: 5,
      reservationOf: (d) => (d.id === 1 ? { users: ["alice"], groups: ["accel"] } : undefined),
    });

  it("joins the arbiter's devices with discovery by key", () => {
    const s = join(true);
    expect(s.devices.map((d) => [d.key, d.index, d.device?.id])).to.deep.equal([["k0", null, 0], ["k1", 0, 1], ["elsewhere", 1, undefined]]);
    const [unused, used, other] = s.devices;
    expect(unused).to.include({ mode: "exclusive", bitstream: null, lessee: null, ok: 0, queueDepth: 0 });
    expect(used).to.include({ mode: "exclusive", bitstream: "b@1:abc", lessee: 42, ok: 11, failed: 2, busyNs: 3.5e9, waiting: 1, configureMs: 2500 });
    expect([unused!.configureMs, other!.configureMs]).to.deep.equal([null, null]);
    expect(used!.users).to.deep.equal([42, 43]);
    expect(other).to.include({ bitstream: null, lessee: null });
    expect(s.devices.map((d) => d.reservedFor)).to.deep.equal([undefined, { users: ["alice"], groups: ["accel"] }, undefined]);
    expect(s.processes).to.deep.equal([{ pid: 42, startTime: 1.7e12 }]);
    expect(join(false).devices.map((d) => d.key)).to.deep.equal(["k0", "k1"]);
  });

  it("computes rates per second and busy fractions, counting a reset counter from zero", () => {
    const before = join(true);
    const after: Stats = structuredClone(before);
    after.time = before.time + 2000;
    const k = after.devices[1]!.kernels[0]!;
    k.ok += 30;
    k.failed += 2;
    k.busyNs += 1e9;
    after.devices[1]!.kernels[1]!.ok = 0; // made anew: 0 since
    const r = rates(before, after)!;
    expect(r.seconds).to.equal(2);
    const d = r.devices.find((x) => x.key === "k1")!;
    expect(d.kernels[0]).to.deep.equal({ accelerator: "a.x", requestsPerSecond: 16, failedPerSecond: 1, busy: 0.5 });
    expect(d.kernels[1]!.requestsPerSecond).to.equal(0);
    expect(d.requestsPerSecond).to.equal(16);
    expect(rates(after, before)).to.equal(null);
  });

  it("exposes counters and gauges named per Prometheus conventions", async () => {
    const { contentType, text } = await exposition(join(true));
    expect(contentType).to.match(/^text\/plain; version=0\.0\.4/);
    const lines = text.split("\n");
    for (const [name, type] of [
      ["inaccel_requests_total", "counter"], ["inaccel_device_busy_seconds_total", "counter"],
      ["inaccel_kernel_busy_seconds_total", "counter"], ["inaccel_reconfigurations_total", "counter"], ["inaccel_configure_seconds", "gauge"],
      ["inaccel_queue_depth", "gauge"], ["inaccel_waiting_processes", "gauge"], ["inaccel_device_users", "gauge"],
      ["inaccel_device_leased", "gauge"], ["inaccel_device_info", "gauge"], ["inaccel_processes", "gauge"],
    ]) {
      expect(lines, name).to.include(`# TYPE ${name} ${type}`);
    }
    expect(lines).to.include('inaccel_requests_total{device="k1",accelerator="a.x",status="ok"} 10');
    expect(lines).to.include('inaccel_requests_total{device="k1",accelerator="a.x",status="failed"} 2');
    expect(lines).to.include('inaccel_requests_total{device="k1",accelerator="we\\"ird\\\\name",status="ok"} 1');
    expect(lines).to.include('inaccel_device_busy_seconds_total{device="k1"} 3.5');
    expect(lines).to.include('inaccel_reconfigurations_total{device="k1"} 2');
    expect(lines).to.include('inaccel_configure_seconds{device="k1"} 2.5');
    expect(text).to.not.match(/^inaccel_configure_seconds\{device="(k0|elsewhere)"\}/m);
    expect(lines).to.include('inaccel_queue_depth{device="k1"} 4');
    expect(lines).to.include('inaccel_device_users{device="k1"} 2');
    expect(lines).to.include('inaccel_device_leased{device="k1"} 1');
    expect(lines).to.include('inaccel_device_info{device="k0",name="dev0",platform="p",mode="exclusive",bitstream=""} 1');
    expect(lines).to.include("inaccel_processes 1");
  });

  it("reads a state directory no process has used as empty", () => {
    const s = readStats({ stateDir: path.join(process.env.INACCEL_TEST_ROOT!, "never-used") });
    expect(s.devices).to.deep.equal([]);
    expect(s.processes).to.deep.equal([]);
  });

  it("refuses a state file that is a FIFO as STATE_CORRUPT at once, not blocked in open()", async function () {
    this.timeout(60000);
    const dir = path.join(process.env.INACCEL_TEST_ROOT!, "fifo-state");
    fs.mkdirSync(dir);
    execFileSync("mkfifo", [path.join(dir, "state")]);
    for (const command of [["devices"], ["top", "--once"]]) {
      const run = await cliRun([...command, "--state-dir", dir], 20000);
      expect(run.signal, `inaccel ${command.join(" ")} still blocked after 20 s`).to.equal(null);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.include(`STATE_CORRUPT: arbiter: ${dir}/state is not a file`);
    }
  });

  it("refuses a state directory that is a file, and a state file that is a folder, as the library does", async () => {
    const root = path.join(process.env.INACCEL_TEST_ROOT!, "odd-state");
    fs.mkdirSync(path.join(root, "folder", "state"), { recursive: true });
    fs.writeFileSync(path.join(root, "file"), "");
    const submit = `const inaccel = require("./src/index"); const a = new Float32Array(4);
      inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(a).arg(4)).catch((e) => console.log(e.message));`;
    for (const [dir, want] of [
      [path.join(root, "file"), `ARBITER_ERROR: arbiter: cannot open ${root}/file/state: Not a directory`],
      [path.join(root, "folder"), `STATE_CORRUPT: arbiter: ${root}/folder/state is not a file`],
    ] as const) {
      const run = await cliRun(["devices", "--state-dir", dir], 20000);
      expect([run.code, run.stderr]).to.deep.equal([1, `inaccel: ${want}\n`]);
      expect((await runChild(submit, { INACCEL_STATE_DIR: dir })).stdout).to.equal(`${want}\n`);
    }
  });

  it("refuses a state file whose device table is corrupt as STATE_CORRUPT, as the library does, not with rows of garbage", async function () {
    this.timeout(60000);
    const dir = path.join(process.env.INACCEL_TEST_ROOT!, "corrupt-table");
    const submit = `const inaccel = require("./src/index"); const a = new Float32Array(4);
      inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(a).arg(4)).then(() => console.log("ran"), (e) => console.log(e.message));`;
    expect((await runChild(submit, { INACCEL_STATE_DIR: dir })).stdout).to.equal("ran\n");
    // The device table (past the header's page) overwritten, as a broken writer might.
    const fd = fs.openSync(path.join(dir, "state"), "r+");
    fs.writeSync(fd, Buffer.alloc(16 * 4096, 0xff), 0, 16 * 4096, 4096);
    fs.closeSync(fd);
    const corrupt = `STATE_CORRUPT: arbiter state file is corrupt: device 0: key length (${dir}/state: once no process uses the devices, delete it to start afresh)`;
    for (const command of [["devices"], ["top", "--once"]]) {
      const run = await cliRun([...command, "--state-dir", dir], 20000);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.equal(`inaccel: ${corrupt}\n`);
    }
    expect((await runChild(submit, { INACCEL_STATE_DIR: dir })).stdout).to.equal(`${corrupt}\n`);
  });
});

describe("insight: exact counters from two processes", function () {
  this.timeout(180000);
  const [OK, FAILED] = [150, 30]; // per child
  let children: { ok: number; failed: number; codes: string[]; pid: number }[];

  before(async () => {
    await installFixture("insight");
    const runs = await Promise.all([0, 1].map(() => runChild(requests("insight", OK, FAILED), {}, 120000)));
    children = runs.map((run) => {
      expect(run.code, run.stderr).to.equal(0);
      return JSON.parse(run.stdout) as (typeof children)[number];
    });
  });

  it("the children saw every request end as planned, failures as DEVICE_ERROR", () => {
    for (const child of children) expect(child).to.deep.include({ ok: OK, failed: FAILED, codes: ["DEVICE_ERROR"] });
  });

  it("stats() says N ok and M failed, after the processes that counted them exited", () => {
    const s = stats();
    expect(totals(s, "insight.add")).to.deep.equal({ ok: 2 * OK, failed: 0 });
    expect(totals(s, "insight.broken")).to.deep.equal({ ok: 0, failed: 2 * FAILED });
    expect(s.devices.map((d) => d.device?.id)).to.deep.equal(inaccel.devices().map((d) => d.id));
    for (const d of s.devices) {
      expect(d.bitstream).to.match(/^insight@1\.0\.0:/);
      // Measured by the process that configured it: the program's build or load.
      expect(d.configureMs, d.key).to.be.a("number").and.greaterThan(0);
    }
    expect(s.processes.map((p) => p.pid)).to.include(process.pid);
    for (const child of children) expect(s.processes.map((p) => p.pid)).to.not.include(child.pid);
  });

  it("devices --json, top --once --json and /metrics agree with stats() exactly", async () => {
    const listed = JSON.parse(await cli("devices", "--json")) as Stats;
    const top = JSON.parse(await cli("top", "--once", "--json", "--interval", "100")) as Sample;
    const metrics = await scrape();
    for (const [accelerator, want] of [["insight.add", { ok: 2 * OK, failed: 0 }], ["insight.broken", { ok: 0, failed: 2 * FAILED }]] as const) {
      expect(totals(listed, accelerator), "devices").to.deep.equal(want);
      expect(totals(top.stats, accelerator), "top").to.deep.equal(want);
      expect(scraped(metrics, accelerator), "metrics").to.deep.equal(want);
    }
    expect(top.rates?.seconds).to.be.greaterThan(0);
    const text = await cli("top", "--once", "--interval", "50");
    expect(text).to.include("insight.add").and.match(/insight\.broken\s*│\s*0\s*│\s*[1-9]\d*\s*│/);
    const ours = stats();
    for (const d of ours.devices) {
      const other = listed.devices.find((x) => x.key === d.key)!;
      expect(other.device?.name).to.equal(d.device?.name);
      expect({ ...other, device: undefined, users: [], queueDepth: 0 }).to.deep.equal({ ...d, device: undefined, users: [], queueDepth: 0 });
    }
  });

  it("shows a whole-card lease and this live process to another process", async () => {
    const [first] = inaccel.devices();
    const lease = await inaccel.lease(first!);
    try {
      const listed = JSON.parse(await cli("devices", "--json")) as Stats;
      const leased = listed.devices.find((d) => d.key === first!.key)!;
      expect(leased.lessee).to.equal(process.pid);
      expect(listed.processes.map((p) => p.pid)).to.include(process.pid);
      expect(await cli("devices")).to.include(first!.key).and.include(String(process.pid));
    } finally {
      lease.release();
    }
    expect(stats().devices.find((d) => d.key === first!.key)!.lessee).to.equal(null);
  });

  it("keeps a device leased until the last of this thread's leases of it is released", async () => {
    const [first] = inaccel.devices();
    const lessee = () => stats().devices.find((d) => d.key === first!.key)!.lessee;
    const outer = await inaccel.lease(first!);
    const inner = await inaccel.lease(first!.id, { wait: false });
    inner.release();
    inner.release();  // idempotent: does not count twice
    expect(lessee()).to.equal(process.pid);
    outer.release();
    expect(lessee()).to.equal(null);
  });

  it("gives a lease held by `using` back at the end of its block, also when the block throws", async () => {
    const [first] = inaccel.devices();
    const lessee = () => stats().devices.find((d) => d.key === first!.key)!.lessee;
    {
      using lease = await inaccel.lease(first!);
      expect(lease.device.key).to.equal(first!.key);
      expect(lessee()).to.equal(process.pid);
    }
    expect(lessee()).to.equal(null);
    const thrown = await (async () => {
      using _lease = await inaccel.lease(first!);
      throw new Error("the work failed");
    })().catch((e: unknown) => e as Error);
    expect(thrown.message).to.equal("the work failed");
    expect(lessee()).to.equal(null);
  });

  it("refuses a lease of something that is not a device or an id", async () => {
    for (const bad of ["0", undefined, null, {}, NaN, 0.5, { id: 1.5 }]) {
      const error = await inaccel.lease(bad as unknown as number).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(inaccel.InaccelError).with.property("message").match(/^BAD_ARGUMENT: lease takes a device or its id/);
    }
  });

  it("shows the processes with requests in flight and the queue depth while they run", async () => {
    const running = runChild(requests("insight", 3000, 1), {}, 120000);
    let seen: { users: number[]; queue: number } | undefined;
    for (const deadline = Date.now() + 60000; !seen && Date.now() < deadline;) {
      const busy = readStats().devices.find((d) => d.users.length > 0 && d.queueDepth > 0);
      if (busy) seen = { users: busy.users, queue: busy.queueDepth };
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const child = await running;
    expect(child.code, child.stderr).to.equal(0);
    expect(seen, "a device with users and a queue").to.not.equal(undefined);
    expect(seen!.users).to.include((JSON.parse(child.stdout) as { pid: number }).pid);
    expect(totals(stats(), "insight.add").ok).to.equal(2 * OK + 3000);
  });
});

/** Starts `inaccel metrics --port 0`, scrapes /metrics once, stops it. */
async function scrape(): Promise<string> {
  const child = spawn(process.execPath, ["--require", "tsx/cjs", "src/cli/main.ts", "metrics", "--port", "0"], { cwd: ROOT });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const found = /(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out);
        if (found) resolve(found[1]!);
      });
      child.on("close", (code) => reject(new Error(`inaccel metrics exited (${code})`)));
    });
    const response = await fetch(url);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.match(/^text\/plain/);
    expect((await fetch(url.replace("/metrics", "/other"))).status).to.equal(404);
    return await response.text();
  } finally {
    child.kill("SIGTERM");
  }
}
