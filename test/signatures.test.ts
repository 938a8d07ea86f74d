// Versions of one accelerator whose signatures differ between devices: on
// PoCL's `basic` and `pthread` devices, the built-in vector.addition (float)
// on both, and a version 2.0.0 (double) for the pthread device only, which
// that device then prefers. Each request must run where its arguments fit.
import { expect } from "chai";
import { runChild } from "./helpers/child";
import { tempDir } from "./repository-helpers";

const SCRIPT = `
const fs = require("node:fs");
const path = require("node:path");
const inaccel = require("./src/index");
(async () => {
  const pthread = inaccel.devices().find((d) => d.name.startsWith("pthread"));
  const folder = fs.mkdtempSync(path.join(process.env.INACCEL_REPOSITORY, "..", "vector2-"));
  fs.writeFileSync(path.join(folder, "vadd.cl"), "__kernel void vadd(__global const double *a, __global const double *b, " +
    "__global double *c, const int n) { int i = get_global_id(0); if (i < n) c[i] = a[i] + b[i]; }");
  fs.writeFileSync(path.join(folder, "bitstream.json"), JSON.stringify({
    bitstreamId: "vector", version: "2.0.0", platform: { vendor: "pocl", name: pthread.name },
    kernels: [{ name: "vadd", kernelId: "addition", workSize: "n", arguments: [
      { name: "a", type: "double*", access: "r", length: "n" }, { name: "b", type: "double*", access: "r", length: "n" },
      { name: "c", type: "double*", access: "w", length: "n" }, { name: "n", type: "int" }] }],
  }));
  await inaccel.repository.install(folder);
  // renamed.add: 1.0.0 for any device, and a 2.0.0 for the pthread one that only renames its count.
  const bitstream = (version, count, platform) => {
    const dir = fs.mkdtempSync(path.join(process.env.INACCEL_REPOSITORY, "..", "renamed-"));
    fs.writeFileSync(path.join(dir, "add.cl"), "__kernel void add(__global const float *a, __global const float *b, " +
      "__global float *c, const int " + count + ") { int i = get_global_id(0); if (i < " + count + ") c[i] = a[i] + b[i]; }");
    fs.writeFileSync(path.join(dir, "bitstream.json"), JSON.stringify({ bitstreamId: "renamed", version, platform,
      kernels: [{ name: "add", kernelId: "add", workSize: count, arguments: [
        { name: "a", type: "float*", access: "r", length: count }, { name: "b", type: "float*", access: "r", length: count },
        { name: "c", type: "float*", access: "w", length: count }, { name: count, type: "int" }] }] }));
    return dir;
  };
  await inaccel.repository.install(bitstream("1.0.0", "n", { vendor: "opencl", name: "any" }));
  await inaccel.repository.install(bitstream("2.0.0", "count", { vendor: "pocl", name: pthread.name }));
  const n = 1000;
  const run = async (Type, count, accelerator = "vector.addition") => {
    const on = {};
    let wrong = 0;
    await Promise.all(Array.from({ length: count }, async (_, k) => {
      const a = new Type(n).fill(k), b = new Type(n).fill(0.5), c = new Type(n);
      const result = await inaccel.submit(inaccel.request(accelerator).arg(a).arg(b).arg(c).arg(n));
      on[result.device.name.split("-")[0]] = (on[result.device.name.split("-")[0]] ?? 0) + 1;
      if (!c.every((v) => v === k + 0.5)) wrong++;
    }));
    return { on, wrong };
  };
  const floats = await run(Float32Array, 24);
  const doubles = await run(Float64Array, 24);
  const ints = await inaccel.submit(inaccel.request("vector.addition").arg(new Int32Array(n)).arg(new Int32Array(n))
    .arg(new Int32Array(n)).arg(n)).catch((e) => e.message);
  const renamed = await run(Float32Array, 200, "renamed.add");
  console.log(JSON.stringify({ floats, doubles, ints, renamed }));
})().catch((e) => { console.log(String(e)); process.exitCode = 1; });
`;

describe("versions of an accelerator with different signatures on different devices", function () {
  this.timeout(120000);

  it("runs each request only where its arguments fit, and refuses one that fits none as the first device's signature says", async () => {
    const repository = tempDir();
    const child = await runChild(SCRIPT, { POCL_DEVICES: "basic pthread", INACCEL_REPOSITORY: `${repository}/repo` });
    expect(child.code, child.stdout + child.stderr).to.equal(0);
    type Run = { on: Record<string, number>; wrong: number };
    const { floats, doubles, ints, renamed } = JSON.parse(child.stdout.trim()) as { floats: Run; doubles: Run; ints: string; renamed: Run };
    expect(floats).to.deep.equal({ on: { basic: 24 }, wrong: 0 });
    expect(doubles).to.deep.equal({ on: { pthread: 24 }, wrong: 0 });
    expect(ints).to.match(/^BAD_ARGUMENT: argument 0 "a" of vector\.addition expects float\*, got Int32Array/);
    // Versions that differ only in argument names have one signature: both devices serve it.
    expect(renamed.wrong).to.equal(0);
    expect(Object.keys(renamed.on).sort()).to.deep.equal(["basic", "pthread"]);
  });
});
