import { execFileSync } from "node:child_process";
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { currentIdentity, mayUse, modeOf, readHostConfig, reservationOf, stateDirectory, type Identity } from "../src/config";
import type { Device } from "../src/device";
import { InaccelError } from "../src/errors";
import { selectDevices } from "../src/selection";
import { runChild } from "./helpers/child";
import { cli } from "./repository-helpers";

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
      process.env.INACCEL_STATE_DIR = "y";
      expect(() => stateDirectory({})).to.throw(InaccelError, 'INACCEL_STATE_DIR must be an absolute path, got "y"').with.property("code", "CONFIG_INVALID");
    } finally {
      process.env.INACCEL_STATE_DIR = saved;
    }
  });

  it("refuses a file that is not JSON or not the schema with CONFIG_INVALID", () => {
    const file = path.join(dir(), "config.json");
    for (const text of ["{", JSON.stringify({ devices: { "0": { mode: "private" } } }), JSON.stringify({ quantum: 3 }),
      JSON.stringify({ stateDir: "shm/inaccel" }), JSON.stringify({ stateDir: "" })]) {
      fs.writeFileSync(file, text);
      expect(() => readHostConfig(file)).to.throw(InaccelError).with.property("code", "CONFIG_INVALID");
    }
    // Not a file, or too big: looked at before it is read (a FIFO would block).
    expect(() => readHostConfig("/dev/zero")).to.throw(InaccelError, "/dev/zero is not a file").with.property("code", "CONFIG_INVALID");
    const fifo = path.join(dir(), "fifo");
    execFileSync("mkfifo", [fifo]);
    expect(() => readHostConfig(fifo)).to.throw(InaccelError, `${fifo} is not a file`);
    fs.writeFileSync(file, `{"devices":{}${" ".repeat(1 << 20)}}`);
    expect(() => readHostConfig(file)).to.throw(InaccelError, `${file} is over 1048576 bytes`);
    // A device named by neither an index nor a key.
    fs.writeFileSync(file, JSON.stringify({ devices: { "00": {}, " 1": {}, "-1": {}, "0": {}, "opencl/x/y/0": {} } }));
    expect(() => readHostConfig(file)).to.throw(InaccelError).with.property("message")
      .that.includes('/devices names a device "00" by neither its index').and.includes('"-1"').and.includes('" 1"').and.not.include("pattern");
    // A misspelled field is named, wherever it is.
    fs.writeFileSync(file, JSON.stringify({ stateDIR: "/x", devices: { "0": { mdoe: "exclusive" } } }));
    expect(() => readHostConfig(file)).to.throw(InaccelError).with.property("message")
      .that.includes('/ has an unknown field "stateDIR"').and.includes('/devices/0 has an unknown field "mdoe"');
    fs.writeFileSync(file, JSON.stringify({ stateDir: "shm/inaccel" }));
    expect(() => readHostConfig(file)).to.throw(InaccelError).with.property("message").that.includes("/stateDir must be an absolute path");
  });

  it("reserves devices to users and groups, by name or number", () => {
    const file = path.join(dir(), "config.json");
    fs.writeFileSync(file, JSON.stringify({ devices: {
      [host[0]!.key]: { users: ["alice", 1002] }, "1": { groups: ["accel", "2001"], mode: "exclusive" }, "2": { users: [] },
    } }));
    const config = readHostConfig(file);
    expect(host.map((d) => reservationOf(config, d))).to.deep.equal([
      { users: ["alice", "1002"], groups: [] }, { users: [], groups: ["accel", "2001"] }, { users: [], groups: [] },
    ]);
    const who = (user: string, uid: number, gids: number[], groups: string[]): Identity => ({ user, uid, gids, groups });
    const usable = (identity: Identity) => host.filter((d) => mayUse(config, d, identity)).map((d) => d.id);
    expect(usable(who("alice", 1001, [100], ["users"]))).to.deep.equal([0]);
    expect(usable(who("bob", 1002, [100], ["users"]))).to.deep.equal([0]);
    expect(usable(who("carol", 1003, [100, 2000], ["users", "accel"]))).to.deep.equal([1]);
    expect(usable(who("dave", 1004, [2001], []))).to.deep.equal([1]);
    expect(usable(who("eve", 1005, [100], ["users"]))).to.deep.equal([]);
    expect(modeOf(config, host[1]!)).to.equal("exclusive");
    // An entry by index and one by key apply together, the key's fields over the index's.
    fs.writeFileSync(file, JSON.stringify({ devices: { "0": { users: ["nobody"], mode: "shared" }, [host[0]!.key]: { mode: "exclusive" } } }));
    const both = readHostConfig(file);
    expect([modeOf(both, host[0]!), reservationOf(both, host[0]!)]).to.deep.equal(["exclusive", { users: ["nobody"], groups: [] }]);
    for (const bad of [{ users: "alice" }, { users: [""] }, { groups: [-7] }, { groups: [7.5] }, { users: [true] }]) {
      fs.writeFileSync(file, JSON.stringify({ devices: { "0": bad } }));
      expect(() => readHostConfig(file)).to.throw(InaccelError).with.property("code", "CONFIG_INVALID");
    }
  });

  it("knows this process's user and groups", () => {
    const me = currentIdentity();
    expect(me.uid).to.equal(process.getuid!());
    expect(me.gids).to.include(process.getegid!());
    const groupFile = path.join(dir(), "group");
    fs.writeFileSync(groupFile, `wheel:x:${process.getegid!()}:\nother:x:999999:\nbroken line\n`);
    expect(currentIdentity(groupFile).groups).to.deep.equal(["wheel"]);
  });

  it("a process uses only the devices reserved for it, and says so when none is", async () => {
    const me = currentIdentity();
    const file = path.join(dir(), "config.json");
    const ids = async (devices: Record<string, unknown>) => {
      fs.writeFileSync(file, JSON.stringify({ devices }));
      return runChild(`const inaccel = require("./src/index"); try { console.log(JSON.stringify(inaccel.devices().map((d) => d.id))); }
        catch (error) { console.log(error.message); }`, { INACCEL_CONFIG: file });
    };
    expect((await ids({ "1": { users: ["nobody-we-know"] } })).stdout.trim()).to.equal("[0]");
    // inaccel devices lists every device of the host, with whom each is reserved for.
    const listed = cli(["devices"], { INACCEL_CONFIG: file });
    expect(listed.stdout).to.match(/│ 1 .*│ shared, for nobody-we-know\s*│/).and.match(/│ 0 .*│ shared\s*│/);
    expect((await ids({ "1": { users: [me.user] }, "0": { groups: [String(me.gids[0])] } })).stdout.trim()).to.equal("[0,1]");
    const none = await ids({ "0": { users: [] }, "1": { groups: ["no-such-group-here"] } });
    expect(cli(["devices"], { INACCEL_CONFIG: file }).stdout).to.match(/│ 0 .*│ shared, for no one\s*│/);
    expect(none.stdout.trim()).to.equal(`NO_DEVICE: the host configuration reserves every device for other users than ${me.user}`);
  });

  it("inaccel devices warns of configured devices the host does not have (a card gone, a misspelled key)", () => {
    const file = path.join(dir(), "config.json");
    const [first] = JSON.parse(cli(["devices", "--json"]).stdout).devices as { key: string }[];
    fs.writeFileSync(file, JSON.stringify({ devices: { "5": { mode: "exclusive" }, [`${first!.key}x`]: { mode: "exclusive" }, [first!.key]: {}, "1": {} } }));
    const listed = cli(["devices"], { INACCEL_CONFIG: file });
    expect(listed.stderr.trim().split("\n")).to.deep.equal([
      `inaccel: ${file} names device "5", which this host does not have: its settings apply to nothing`,
      `inaccel: ${file} names device "${first!.key}x", which this host does not have: its settings apply to nothing`,
    ]);
    expect(listed.stdout).to.match(/│ 0 .*│ shared\s*│/);
  });
});
