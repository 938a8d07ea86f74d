import { expect } from "chai";
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as inaccel from "../src/index";

// A bitstream whose OpenCL C does not build fails its requests with
// DEVICE_ERROR. Each device builds it once per process: it neither replaces
// the device's configuration (in the device or in the arbiter's state file)
// nor is built again for every request.

// Versions new to the repository, each above the one before.
const run = Date.now();
let version = 0;

/** Installs a new version of `failing.build`, whose source (unique to it) does not compile. */
async function installFailing(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(process.env.INACCEL_TEST_ROOT!, "failing-"));
  const source = `// ${randomUUID()}\n__kernel void build(__global float* out, int size) {\n` +
    `  out[get_global_id(0)] = undefined_symbol;\n}\n`;
  fs.writeFileSync(path.join(dir, "failing.cl"), source);
  fs.writeFileSync(path.join(dir, "bitstream.json"), JSON.stringify({
    bitstreamId: "failing",
    version: `1.${run}.${version++}`,
    platform: { vendor: "opencl", name: "any" },
    kernels: [{
      name: "build", kernelId: "build", workSize: "size",
      arguments: [
        { name: "out", type: "float*", access: "w", length: "size" },
        { name: "size", type: "int" },
      ],
    }],
    files: [{ path: "failing.cl", sha256: createHash("sha256").update(source).digest("hex") }],
  }));
  await inaccel.repository.install(dir);
}

/** What `failing.build` settles to. */
function failing(): Promise<string> {
  const out = inaccel.alloc(Float32Array, 4);
  return inaccel.submit(inaccel.request("failing.build").arg(out).arg(4))
    .then(() => "ran", (error: inaccel.InaccelError) => `${error.code} ${error.message}`);
}

/** Runs `count` vector additions at once, checking each. */
async function good(count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, async (_, j) => {
    const a = inaccel.alloc(Float32Array, 64).fill(j), c = inaccel.alloc(Float32Array, 64);
    await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(c).arg(64));
    if (c[0] !== 2 * j || c[63] !== 2 * j) expect.fail(`request ${j}: ${c[0]}`);
  }));
}

const reconfigurations = () => inaccel.stats().devices.reduce((sum, d) => sum + d.reconfigurations, 0);
const configured = () => inaccel.stats().devices.map((d) => d.bitstream);

describe("a bitstream that fails to build", () => {
  it("is built once per device: later requests fail fast, saying it failed earlier, and reconfigure nothing", async () => {
    await installFailing();
    await good(32);
    const before = reconfigurations();
    const bitstreams = configured();
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await failing());
    for (const outcome of outcomes) expect(outcome).to.match(/^DEVICE_ERROR .*CL_BUILD_PROGRAM_FAILURE/s);
    // A build that ran says so; one remembered says it failed earlier.
    const built = outcomes.filter((outcome) => !/failed earlier/.test(outcome)).length;
    expect(built, outcomes.join("\n---\n")).to.be.at.least(1).and.at.most(inaccel.stats().devices.length);
    expect(reconfigurations()).to.equal(before);
    expect(configured()).to.deep.equal(bitstreams);
    for (const d of inaccel.stats().devices) expect(d.bitstream ?? "").to.not.match(/^failing/);
    // Each counts as a failed request of its accelerator.
    const failed = inaccel.stats().devices.flatMap((d) => d.kernels)
      .filter((k) => k.accelerator === "failing.build").reduce((sum, k) => sum + k.failed, 0);
    expect(failed).to.be.at.least(8);
  });

  it("leaves each device with the bitstream it held: good requests after it pay no reconfiguration", async () => {
    await good(32);
    const bitstreams = configured();
    expect(bitstreams.filter((b) => b !== null && b.startsWith("vector"))).to.not.be.empty;
    const before = reconfigurations();
    await installFailing();  // a new version: built again, once
    expect(await failing()).to.match(/^DEVICE_ERROR .*CL_BUILD_PROGRAM_FAILURE/s);
    expect(configured()).to.deep.equal(bitstreams);
    await good(32);
    expect(reconfigurations()).to.equal(before);
    expect(configured()).to.deep.equal(bitstreams);
  });

  it("interleaved with good requests, does not reconfigure the devices away from them", async () => {
    await installFailing();
    await good(32);
    const before = reconfigurations();
    const outcomes = await Promise.all(Array.from({ length: 80 }, async (_, j) => {
      if (j % 4 === 3) return failing();
      await good(1);
      return "ok";
    }));
    for (let j = 0; j < outcomes.length; j++) {
      if (j % 4 === 3) expect(outcomes[j], `request ${j}`).to.match(/^DEVICE_ERROR .*CL_BUILD_PROGRAM_FAILURE/s);
      else expect(outcomes[j], `request ${j}`).to.equal("ok");
    }
    // At most one device per device count that held nothing good yet.
    expect(reconfigurations() - before).to.be.at.most(inaccel.stats().devices.length);
  });
});
