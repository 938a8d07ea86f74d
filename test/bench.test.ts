// Smoke test of the benchmarks: `bench/main.mjs --quick --json` (one round,
// to keep the suite short) builds its baselines, runs every case and prints
// one JSON object with a number in every field. No timing is asserted:
// figures on a shared CI host say nothing.
import { expect } from "chai";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const CASES = [
  "latency-16", "throughput-16-inflight", "vadd-1Mi", "vadd-64Mi", "arbiter-lease", "two-devices", "two-devices-small",
  "four-processes",
];

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bench", "main.mjs"), ...args], {
      cwd: ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 170000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("bench --quick --json", function () {
  this.timeout(180000);

  it("prints every case with numeric sdk, baseline and ratio", async () => {
    const { code, stdout, stderr } = await runBench(["--quick", "--json", "--rounds", "1"]);
    expect(code, stderr).to.equal(0);
    const result = JSON.parse(stdout) as {
      device: string;
      cases: {
        name: string; unit: string; sdk: number; baseline: number; ratio: number;
        handTuned?: Record<string, number>; rawScaling?: number;
        variants?: Record<string, number>; processScaling?: number; threadScaling?: number;
        apartScaling?: number;
        params?: { count?: number };
        devices?: { threadSplit?: Record<string, number>[]; apartSplit?: Record<string, number>[] };
      }[];
    };
    expect(result.device).to.be.a("string").and.not.empty;
    expect(result.cases.map((c) => c.name)).to.deep.equal(CASES);
    for (const c of result.cases) {
      expect(c.unit, c.name).to.be.a("string").and.not.empty;
      for (const field of ["sdk", "baseline", "ratio"] as const) {
        expect(c[field], `${c.name}.${field}`).to.be.a("number");
        expect(Number.isFinite(c[field]) && c[field] > 0, `${c.name}.${field} = ${c[field]}`).to.equal(true);
      }
    }
    // Beside the SDK's scale-up, hand-written OpenCL on one and on two devices of one process.
    for (const name of ["two-devices", "two-devices-small"]) {
      const scaled = result.cases.find((c) => c.name === name)!;
      expect(scaled.handTuned, name).to.have.all.keys("rawOne", "rawTwo");
      expect(scaled.rawScaling, name).to.be.closeTo(scaled.handTuned!.rawTwo! / scaled.handTuned!.rawOne!, 0.001);
      // And two processes, each on a device of its own: half the requests each, all on that device.
      expect(scaled.apartScaling, name).to.be.closeTo(scaled.variants!.apart! / scaled.baseline, 0.001);
      const apart = scaled.devices!.apartSplit!;
      expect(apart, name).to.have.length(2);
      for (const perDevice of apart) expect(Object.values(perDevice), name).to.deep.equal([scaled.params!.count! / 2]);
    }
    const small = result.cases.find((c) => c.name === "two-devices-small")!;
    // And the same requests from two processes, and from two worker threads
    // of one process (half each), on one and on two devices.
    expect(small.variants).to.have.all.keys("apart", "processesOne", "processesTwo", "threadsOne", "threadsTwo");
    const one = Math.max(small.baseline, small.variants!.processesOne!);
    expect(small.processScaling).to.be.closeTo(small.variants!.processesTwo! / one, 0.001);
    const oneThreaded = Math.max(small.baseline, small.variants!.threadsOne!);
    expect(small.threadScaling).to.be.closeTo(small.variants!.threadsTwo! / oneThreaded, 0.001);
    const threads = small.devices!.threadSplit!;
    expect(threads).to.have.length(2);
    for (const perDevice of threads) {
      const done = Object.values(perDevice).reduce((sum, k) => sum + k, 0);
      expect(done).to.equal(small.params!.count! / 2);
    }
  });

  it("the launch-rate probe drives every device it is given, one thread each", async () => {
    const { ensureBuilt } = (await import(path.join(ROOT, "bench", "build.mjs"))) as { ensureBuilt: (name: string) => string };
    const probe = ensureBuilt("launch_rate");
    const env = { ...process.env, POCL_DEVICES: "pthread pthread" };
    for (const depth of ["1", "2"]) {
      const out = execFileSync(probe, ["--type", "cpu", "--devices", "2", "--seconds", "0.2", "--depth", depth, "--args", "once"], { env });
      const report = JSON.parse(out.toString()) as { perDevice: number[]; total: number; depth: number };
      expect(report.depth).to.equal(Number(depth));
      expect(report.perDevice).to.have.length(2);
      for (const rate of report.perDevice) expect(rate).to.be.greaterThan(0);
      expect(report.total).to.be.closeTo(report.perDevice[0]! + report.perDevice[1]!, 2);
    }
  });

  it("the copy-rate probe moves each mix's bytes on every device it is given, and refuses bad options", async () => {
    const { ensureBuilt } = (await import(path.join(ROOT, "bench", "build.mjs"))) as { ensureBuilt: (name: string) => string };
    const probe = ensureBuilt("copy_rate");
    const env = { ...process.env, POCL_DEVICES: "pthread pthread" };
    for (const mix of ["vadd", "both", "up", "down"]) {
      const out = execFileSync(probe, ["--type", "cpu", "--devices", "2", "--seconds", "0.2", "--mix", mix, "--mib", "1", "--host-mib", "16"], { env });
      const report = JSON.parse(out.toString()) as { mix: string; perDevice: number[]; GBps: number };
      expect(report.mix).to.equal(mix);
      expect(report.perDevice).to.have.length(2);
      for (const rate of report.perDevice) expect(rate).to.be.greaterThan(0);
      expect(report.GBps).to.be.closeTo(report.perDevice[0]! + report.perDevice[1]!, 0.15);
    }
    const bad = spawnSync(probe, ["--type", "cpu", "--mib", "8", "--host-mib", "16"], { env });
    expect(bad.status).to.equal(1);
    expect(JSON.parse(bad.stdout.toString())).to.deep.equal({ error: "bad options" });
  });
});
