import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { CANDIDATES_TTL_MS, Repository } from "../src/repository";
import { compareVersions, fits } from "../src/repository/platform";
import { cleanup, copyFixture, device, editMetadata, expectError, FIXTURES, tempDir } from "./repository-helpers";

/** A Xilinx U250 as XRT's OpenCL shows it: no compiler. */
const u250 = device({
  id: 1, vendor: "Xilinx", name: "xilinx_u250_xdma_201830_2", type: "accelerator", compiler: false,
  platform: { vendor: "Xilinx", name: "Xilinx", version: "OpenCL 1.0" },
});
const cpu = device({ id: 0 });
const gpu = device({ id: 2, vendor: "NVIDIA Corporation", name: "NVIDIA H100", type: "gpu", platform: { vendor: "NVIDIA Corporation", name: "NVIDIA CUDA", version: "OpenCL 3.0 CUDA" } });

/** Installs copies of the scale fixture at the given versions (and optional platforms). */
async function withVersions(repo: Repository, versions: Array<[string, Record<string, string>?]>): Promise<void> {
  for (const [version, platform] of versions) {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => {
      json.version = version;
      if (platform) json.platform = platform;
    });
    await repo.install(dir);
  }
}

describe("repository: resolution", () => {
  after(cleanup);

  it("resolves the built-in vector accelerators for a device with a compiler", () => {
    const kernel = new Repository({ root: tempDir(), system: [] }).resolve("vector.addition", cpu);
    expect(kernel).to.include({ accelerator: "vector.addition", kernel: "vadd", workSize: "size" });
    expect(kernel?.bitstream).to.include({ id: "vector", format: "source" });
    expect(kernel?.bitstream.path).to.match(/src\/accelerators\/vector\/vadd\.cl$/);
    expect(kernel?.arguments.map((arg) => [arg.name, arg.type, arg.access, arg.length])).to.deep.equal([
      ["a", "float*", "r", "size"], ["b", "float*", "r", "size"], ["c", "float*", "w", "size"], ["size", "int", "r", undefined],
    ]);
    expect(new Repository({ root: tempDir(), system: [] }).resolve("vector.multiplication", gpu)?.kernel).to.equal("vmul");
  });

  it("gives a source bitstream's build options, memory banks and key", async () => {
    const repo = new Repository({ root: tempDir(), system: [] });
    const installed = await repo.install(path.join(FIXTURES, "scale"));
    const kernel = repo.resolve("fixture.scale", cpu);
    expect(kernel?.bitstream).to.deep.equal({
      id: "fixture", version: "1.2.0", key: installed.key, format: "source",
      path: installed.program, sha256: installed.sha256, buildOptions: "-DSCALE_BIAS=0.0f",
    });
    expect(kernel?.arguments.map((arg) => arg.memory)).to.deep.equal([0, 1, undefined, undefined]);
  });

  it("picks the highest version that fits, semver-style", async () => {
    const repo = new Repository({ root: tempDir(), system: [] });
    await withVersions(repo, [["1.2.0"], ["1.10.0"], ["1.9.9"], ["2.0.0-rc1"],
      ["3.0.0", { vendor: "xilinx", name: "u250", version: "xdma_201830.2" }]]);
    expect(repo.resolve("fixture.scale", cpu)?.bitstream.version).to.equal("2.0.0-rc1");
    const map = repo.candidates("fixture.scale", [cpu, u250, gpu]);
    expect([...map.keys()]).to.deep.equal([0, 2]);
    expect(map.get(2)?.bitstream.version).to.equal("2.0.0-rc1");
  });

  it("candidates() reuses an answer for CANDIDATES_TTL_MS, then follows a changed INACCEL_REPOSITORY", async function () {
    this.timeout(10000);
    const [first, second] = [tempDir(), tempDir()];
    await withVersions(new Repository({ root: first, system: [] }), [["1.2.0"]]);
    await withVersions(new Repository({ root: second, system: [] }), [["1.3.0"]]);
    const saved = process.env.INACCEL_REPOSITORY;
    try {
      process.env.INACCEL_REPOSITORY = first;
      const repo = new Repository({ system: [] });
      const devices = [cpu];  // an answer is kept for the same device list
      const version = () => repo.candidates("fixture.scale", devices).get(0)?.bitstream.version;
      expect(version()).to.equal("1.2.0");
      process.env.INACCEL_REPOSITORY = second;
      expect(version()).to.equal("1.2.0");
      await new Promise((resolve) => setTimeout(resolve, CANDIDATES_TTL_MS + 50));
      expect(version()).to.equal("1.3.0");
    } finally {
      if (saved === undefined) delete process.env.INACCEL_REPOSITORY;
      else process.env.INACCEL_REPOSITORY = saved;
    }
  });

  it("fits a binary to the device its platform names, case-insensitively", async () => {
    const repo = new Repository({ root: tempDir(), system: [] });
    await repo.install(path.join(FIXTURES, "xilinx-vadd"));
    await repo.install(path.join(FIXTURES, "inaccel-vadd"));
    const map = repo.candidates("com.inaccel.vector.addition", [cpu, u250]);
    expect(map.get(1)?.bitstream).to.include({ version: "2", format: "binary" });
    expect(map.get(1)?.kernel).to.equal("vadd_kernel_0");
    expect(map.get(1)?.arguments.map((arg) => arg.memory)).to.deep.equal([0, 0, 0, undefined]);
    expect(map.get(0)?.bitstream).to.include({ version: "1", format: "source" });
    expect(map.get(0)?.kernel).to.equal("vadd");
    expect(map.get(0)?.workSize).to.equal(undefined);
  });

  it("applies the documented platform rule", () => {
    const shell = { vendor: "xilinx", name: "u250", version: "xdma_201830.2" };
    expect(fits(shell, "binary", u250)).to.equal(true);
    expect(fits({ vendor: "XILINX", name: "xilinx_u250_xdma_201830_2" }, "binary", u250)).to.equal(true);
    expect(fits({ ...shell, name: "u280" }, "binary", u250)).to.equal(false);
    expect(fits({ ...shell, vendor: "intel" }, "binary", u250)).to.equal(false);
    expect(fits({ vendor: "nvidia", name: "NVIDIA CUDA" }, "binary", gpu)).to.equal(true);
    expect(fits({ vendor: "opencl", name: "any" }, "source", gpu)).to.equal(true);
    expect(fits({ vendor: "opencl", name: "any" }, "source", u250)).to.equal(false);
    expect(fits({ vendor: "nvidia", name: "nvidia h100" }, "source", gpu)).to.equal(true);
    expect(fits({ vendor: "nvidia", name: "nvidia h100" }, "source", cpu)).to.equal(false);
  });

  it("orders versions semver-style", () => {
    const sorted = ["1.10", "1.2", "1.2.0-rc.1", "1", "1.2.0-beta", "0.9.9", "2.0.0+build5"].sort(compareVersions);
    expect(sorted).to.deep.equal(["0.9.9", "1", "1.2.0-beta", "1.2.0-rc.1", "1.2", "1.10", "2.0.0+build5"]);
  });

  it("a writable repository's id@version hides the same in system repositories", async () => {
    const system = tempDir();
    await new Repository({ root: system, system: [] }).install(path.join(FIXTURES, "scale"));
    const repo = new Repository({ root: tempDir(), system: [system] });
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.buildOptions = "-DSCALE_BIAS=1.0f"));
    const mine = await repo.install(dir);
    expect(repo.resolve("fixture.scale", cpu)?.bitstream.key).to.equal(mine.key);
  });

  it("UNKNOWN_ACCELERATOR lists what exists, and for which platforms", async () => {
    const repo = new Repository({ root: tempDir(), system: [] });
    await repo.install(path.join(FIXTURES, "xilinx-vadd"));
    await expectError(() => repo.candidates("vector.subtraction", [cpu]), "UNKNOWN_ACCELERATOR",
      /no bitstream provides vector\.subtraction; available: com\.inaccel\.vector\.addition \(xilinx\/u250\/xdma_201830\.2\), .*vector\.addition \(opencl\/any\), vector\.multiplication \(opencl\/any\)/);
    await expectError(() => repo.candidates("com.inaccel.vector.addition", [cpu]), "UNKNOWN_ACCELERATOR",
      /com\.inaccel\.vector\.addition exists in com\.inaccel\.vector@2 for xilinx\/u250\/xdma_201830\.2 \(binary\), but no device fits it; devices: 0 "pthread-cpu"/);
    expect(repo.resolve("com.inaccel.vector.addition", cpu)).to.equal(undefined);
  });

  it("UNKNOWN_ACCELERATOR names the folders it could not read; unreadable() lists them, list() leaves them out", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    const installed = await repo.install(path.join(FIXTURES, "scale"));
    expect(repo.unreadable()).to.deep.equal([]);
    fs.chmodSync(path.join(installed.path, "bitstream.json"), 0o644);
    fs.writeFileSync(path.join(installed.path, "bitstream.json"), "{");
    expect(repo.unreadable()).to.deep.equal([{
      path: installed.path,
      problem: `BITSTREAM_INVALID: ${path.join(installed.path, "bitstream.json")}: malformed JSON: ${jsonError("{")}`,
    }]);
    expect(repo.list().map((summary) => summary.id)).not.to.include("fixture");
    await expectError(() => repo.candidates("fixture.scale", [cpu]), "UNKNOWN_ACCELERATOR",
      /no bitstream provides fixture\.scale; available: .*; 1 bitstream folder could not be read \(`inaccel bitstream verify` checks them\): BITSTREAM_INVALID: .*bitstream\.json: malformed JSON/);
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parses`);
}
