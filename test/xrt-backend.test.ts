// The XRT backend through the whole library, each case in a fresh process
// (XRT picks its shim once per process): discovery with no card, with the
// plugin absent, and a request run end to end on XRT's no-op shim. The no-op
// shim's kernels do nothing: these runs prove the host paths (import,
// install, resolve, configure, buffers, start/wait), never a result.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, runChild } from "./helpers/child";
import { xrtShimFolder } from "./helpers/xclbin-writer";

// Where the loader will look (addon/runtime/plugin.h).
const PLUGIN = (process.env.INACCEL_PLUGIN_DIR
  ? [path.join(process.env.INACCEL_PLUGIN_DIR, "libinaccel_xrt.so")]
  : ["build/Release/libinaccel_xrt.so", "build/Release/lib.target/libinaccel_xrt.so"].map((p) => path.join(ROOT, p)))
  .find((p) => fs.existsSync(p));
const work = fs.mkdtempSync(path.join(process.env.INACCEL_TEST_ROOT ?? "/tmp", "xrt-backend-"));

const LIST = `
  const { hostDevices } = require("./src/stats");
  const { devices, problems } = hostDevices();
  console.log(JSON.stringify({ backends: devices.map((d) => d.backend), problems }));`;

async function listed(env: NodeJS.ProcessEnv): Promise<{ backends: string[]; problems: string[] }> {
  const child = await runChild(LIST, env);
  expect(child.code, child.stderr).to.equal(0);
  return JSON.parse(child.stdout.trim().split("\n").pop() ?? "") as { backends: string[]; problems: string[] };
}

describe("XRT backend absent", function () {
  this.timeout(120000);

  it("OpenCL runs as before, XRT says it is not installed", async () => {
    const env = { INACCEL_PLUGIN_DIR: path.join(work, "none") };
    const { backends, problems } = await listed(env);
    expect(backends).to.include("opencl").and.not.include("xrt");
    expect(problems.join("\n")).to.contain("not installed");
    const child = await runChild(`
      const inaccel = require("./src/index");
      const a = inaccel.alloc(Float32Array, 8).fill(1), b = inaccel.alloc(Float32Array, 8).fill(2), c = inaccel.alloc(Float32Array, 8);
      inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(8)).then(() => console.log(c[7]));`, env);
    expect(child.stdout.trim(), child.stderr).to.equal("3");
  });
});

describe("XRT backend in the library", function () {
  this.timeout(120000);
  let xrtFolder = "";

  before(function () {
    if (!PLUGIN) this.skip(); // built only where XRT's headers are
    xrtFolder = xrtShimFolder(work);
  });

  it("without XILINX_XRT: no XRT device, the reason, OpenCL devices as before", async () => {
    const { backends, problems } = await listed({ XILINX_XRT: "" }); // XRT reads an empty value as unset
    expect(backends).to.include("opencl").and.not.include("xrt");
    expect(problems.join("\n")).to.match(/xrt: .*XILINX_XRT/);
  });

  it("with XRT but no card: no XRT device and no problem", async () => {
    const { backends, problems } = await listed({ XILINX_XRT: xrtFolder });
    expect(backends).to.include("opencl").and.not.include("xrt");
    expect(problems.filter((p) => p.startsWith("xrt"))).to.deep.equal([]);
  });

  it("runs an imported xclbin end to end on XRT's no-op shim (its kernel does nothing)", async () => {
    const child = await runChild(`
      const fs = require("node:fs"), path = require("node:path");
      const inaccel = require("./src/index");
      const { importXclbin } = require("./src/xclbin");
      const { vaddSpec, writeXclbin } = require("./test/helpers/xclbin-writer");
      (async () => {
        const file = path.join(${JSON.stringify(work)}, "vadd.xclbin");
        fs.writeFileSync(file, writeXclbin({ ...vaddSpec(), platform: "noop" })); // the no-op device's name
        const { folder } = await importXclbin(file);
        await new inaccel.Repository().install(folder);
        const n = 1024;
        const a = inaccel.alloc(Float32Array, n).fill(1), b = inaccel.alloc(Float32Array, n).fill(2), c = inaccel.alloc(Float32Array, n).fill(7);
        const plain = new Float32Array(n).fill(5);
        const first = await inaccel.submit(inaccel.request("vadd.vadd").arg(a).arg(b).arg(c).arg(n));
        const second = await inaccel.submit(inaccel.request("vadd.vadd").arg(a).arg(b).arg(plain).arg(n));
        console.log(JSON.stringify({ backends: [first.device.backend, second.device.backend], reconfigured: [first.reconfigured, second.reconfigured], c: c[0], plain: plain[0] }));
      })().catch((e) => { console.error(e); process.exit(1); });`,
    { XILINX_XRT: xrtFolder, XCL_EMULATION_MODE: "noop", INACCEL_REPOSITORY: path.join(work, "repository"), INACCEL_STATE_DIR: path.join(work, "state") });
    expect(child.code, child.stderr).to.equal(0);
    expect(JSON.parse(child.stdout.trim().split("\n").pop() ?? "")).to.deep.equal({
      backends: ["xrt", "xrt"], reconfigured: [true, false], c: 7, plain: 5,
    });
  });

  // A length of 0 makes an output-only ("w") buffer an empty view (the
  // kernel writes none of it), and an empty array is empty anyway: XRT makes
  // no BO of 0 bytes, yet such a request ran before the view, and runs on
  // OpenCL.
  it("runs a request of length 0: an empty output-only view and an empty array", async () => {
    const child = await runChild(`
      const fs = require("node:fs"), path = require("node:path");
      const inaccel = require("./src/index");
      const { importXclbin } = require("./src/xclbin");
      const { vaddSpec, writeXclbin } = require("./test/helpers/xclbin-writer");
      (async () => {
        const file = path.join(${JSON.stringify(work)}, "vadd-lengths.xclbin");
        fs.writeFileSync(file, writeXclbin({ ...vaddSpec(), platform: "noop" }));
        const { folder } = await importXclbin(file);
        const meta = JSON.parse(fs.readFileSync(path.join(folder, "bitstream.json"), "utf8"));
        for (const arg of meta.kernels[0].arguments) if (arg.name !== "n") arg.length = "n";
        meta.kernels[0].arguments[2].access = "w";
        fs.writeFileSync(path.join(folder, "bitstream.json"), JSON.stringify(meta));
        await new inaccel.Repository().install(folder);
        const outcome = (request) => inaccel.submit(request).then((r) => r.device.backend, (e) => e.code + ": " + e.message);
        const n = 1024, b = new Float32Array(n).fill(2), c = new Float32Array(n).fill(7);
        const alloced = inaccel.alloc(Float32Array, n).fill(7);
        console.log(JSON.stringify({
          full: await outcome(inaccel.request("vadd-lengths.vadd").arg(new Float32Array(n)).arg(b).arg(new Float32Array(n)).arg(n)),
          plain: await outcome(inaccel.request("vadd-lengths.vadd").arg(new Float32Array(n)).arg(b).arg(c).arg(0)),
          alloced: await outcome(inaccel.request("vadd-lengths.vadd").arg(new Float32Array(n)).arg(b).arg(alloced).arg(0)),
          emptyInput: await outcome(inaccel.request("vadd-lengths.vadd").arg(new Float32Array(0)).arg(b).arg(c).arg(0)),
          c: [c[0], c[n - 1], alloced[0]],
        }));
      })().catch((e) => { console.error(e); process.exit(1); });`,
    { XILINX_XRT: xrtFolder, XCL_EMULATION_MODE: "noop", INACCEL_REPOSITORY: path.join(work, "repository-lengths"), INACCEL_STATE_DIR: path.join(work, "state-lengths") });
    expect(child.code, child.stderr).to.equal(0);
    expect(JSON.parse(child.stdout.trim().split("\n").pop() ?? "")).to.deep.equal({
      full: "xrt", plain: "xrt", alloced: "xrt", emptyInput: "xrt", c: [7, 7, 7],
    });
  });
});
