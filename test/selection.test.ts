import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { modeOf, readHostConfig, stateDirectory } from "../src/config";
import type { Device } from "../src/device";
import { InaccelError } from "../src/errors";
import { selectDevices } from "../src/selection";

const device = (id: number, type: string, backend: string, platform: string, name: string): Device => ({
  id, key: `${backend}/${platform}/${name}/${id}`, backend, type, name, vendor: "v", version: "1", memory: 1, compiler: true,
  platform: { vendor: platform, name: platform, version: "1" },
});
const host = [
  device(0, "cpu", "opencl", "Portable Computing Language", "pthread-x"),
  device(1, "gpu", "opencl", "NVIDIA CUDA", "NVIDIA H100 80GB HBM3"),
  device(2, "fpga", "xrt", "xilinx", "xilinx_u250_xdma_201830_2"),
];
const ids = (selector: string | undefined) => selectDevices(host, selector).map((d) => d.id);

describe("INACCEL_DEVICES selection", () => {
  it("keeps every device when unset or empty", () => {
    expect(ids(undefined)).to.deep.equal([0, 1, 2]);
    expect(ids(" ")).to.deep.equal([0, 1, 2]);
  });

  it("selects by index, type, backend, platform and name, any entry matching", () => {
    expect(ids("1")).to.deep.equal([1]);
    expect(ids("0, 2")).to.deep.equal([0, 2]);
    expect(ids("gpu")).to.deep.equal([1]);
    expect(ids("xrt")).to.deep.equal([2]);
    expect(ids("platform:nvidia")).to.deep.equal([1]);
    expect(ids("name:u250,cpu")).to.deep.equal([0, 2]);
    expect(ids("7")).to.deep.equal([]);
  });

  it("refuses what it cannot read with CONFIG_INVALID", () => {
    for (const bad of ["warp:1", "toaster"]) {
      expect(() => ids(bad)).to.throw(InaccelError).with.property("code", "CONFIG_INVALID");
    }
  });
});

describe("host configuration", () => {
  const dir = () => fs.mkdtempSync(path.join(process.env.INACCEL_TEST_ROOT!, "config-"));

  it("reads modes by key or index; a missing file means defaults", () => {
    const file = path.join(dir(), "config.json");
    expect(readHostConfig(file)).to.deep.equal({});
    fs.writeFileSync(file, JSON.stringify({ devices: { [host[1]!.key]: { mode: "exclusive" }, "2": { mode: "exclusive" } } }));
    const config = readHostConfig(file);
    expect(host.map((d) => modeOf(config, d))).to.deep.equal(["shared", "exclusive", "exclusive"]);
  });

  it("takes INACCEL_STATE_DIR over the file's stateDir", () => {
    const saved = process.env.INACCEL_STATE_DIR;
    try {
      delete process.env.INACCEL_STATE_DIR;
      expect(stateDirectory({ stateDir: "/x" })).to.equal("/x");
      expect(stateDirectory({})).to.equal("/dev/shm/inaccel");
      process.env.INACCEL_STATE_DIR = "/y";
      expect(stateDirectory({ stateDir: "/x" })).to.equal("/y");
    } finally {
      process.env.INACCEL_STATE_DIR = saved;
    }
  });

  it("refuses a file that is not JSON or not the schema with CONFIG_INVALID", () => {
    const file = path.join(dir(), "config.json");
    for (const text of ["{", JSON.stringify({ devices: { "0": { mode: "private" } } }), JSON.stringify({ quantum: 3 })]) {
      fs.writeFileSync(file, text);
      expect(() => readHostConfig(file)).to.throw(InaccelError).with.property("code", "CONFIG_INVALID");
    }
  });
});
