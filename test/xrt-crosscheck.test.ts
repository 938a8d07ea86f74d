// Cross-check of src/xclbin against XRT's own parser (xrt::xclbin) and its
// bank choice (xrt::kernel::group_id on XRT's no-op shim), through
// test/native/xrt_xclbin_dump.cc. Skipped where XRT's headers are missing.
import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parseXclbin } from "../src/xclbin";
import { arbitrarySpec, vaddSpec, writeXclbin, xrtShimFolder, type XclbinSpec } from "./helpers/xclbin-writer";

interface XrtView {
  xsa: string;
  uuid: string;
  mems: Array<{ index: number; tag: string; used: boolean; type: number }>;
  kernels: Array<{ name: string; cus: string[]; args: Array<{ index: number; name: string; type: string; mems: number[]; group?: number }> }>;
  error?: string;
}

const HEADER = "/usr/include/xrt/xrt/xrt_device.h";
const work = fs.mkdtempSync(path.join(process.env.INACCEL_TEST_ROOT ?? "/tmp", "xrt-crosscheck-"));
const dump = path.join(work, "xrt_xclbin_dump");

let env: NodeJS.ProcessEnv = {};

function xrtView(spec: XclbinSpec, name: string): XrtView {
  const file = path.join(work, `${name}.xclbin`);
  fs.writeFileSync(file, writeXclbin(spec));
  const run = spawnSync(dump, [file, "--group-ids"], { env, encoding: "utf8", timeout: 30000 });
  expect(run.status, run.stderr).to.be.oneOf([0, 1]);
  const view = JSON.parse(run.stdout) as XrtView;
  // XRT keeps an argument's banks in a set ordered by handle, not by index.
  for (const arg of view.kernels?.flatMap((k) => k.args) ?? []) arg.mems.sort((a, b) => a - b);
  return view;
}

function ours(spec: XclbinSpec): XrtView {
  const info = parseXclbin(writeXclbin(spec));
  return {
    xsa: info.header.platformVbnv,
    uuid: info.header.uuid.replace(/-/g, ""),
    mems: info.memories.map(({ index, tag, used, type }) => ({ index, tag, used, type })),
    kernels: info.kernels.map((k) => ({
      name: k.name,
      cus: k.computeUnits.map((cu) => `${k.name}:${cu}`),
      args: k.arguments.map((a) => ({
        index: a.index,
        name: a.name,
        type: a.type,
        mems: a.memories,
        // XRT's group id is -1 when no used bank is wired to the argument.
        ...(a.memories.length > 0 && { group: a.bank ?? -1 }),
      })),
    })),
  };
}

describe("xclbin import cross-checked with XRT's parser", function () {
  before(function () {
    if (!fs.existsSync(HEADER) || spawnSync("g++", ["--version"]).status !== 0) this.skip();
    this.timeout(120000);
    execFileSync("g++", ["-std=c++17", "-O1", "-I/usr/include/xrt", "test/native/xrt_xclbin_dump.cc", "-lxrt_coreutil", "-o", dump]);
    env = {
      ...process.env,
      XILINX_XRT: process.env.XILINX_XRT ?? xrtShimFolder(work),
      XCL_EMULATION_MODE: "noop", // group ids need a device: XRT's no-op shim
    };
  });

  it("reads the reference xclbin as XRT does, bank choice included", () => {
    expect(xrtView(vaddSpec(), "vadd")).to.deep.equal(ours(vaddSpec()));
  });

  it("reads random xclbins as XRT does: kernels, args, types, banks, group ids, platform", function () {
    this.timeout(300000);
    fc.sample(arbitrarySpec(), { numRuns: 150, seed: 4242 }).forEach((spec, i) => {
      expect(xrtView(spec, `random${i}`), `spec ${JSON.stringify(spec, (_, v) => (typeof v === "bigint" ? String(v) : v))}`).to.deep.equal(ours(spec));
    });
  });

  it("refuses malformed kernel metadata as XRT does", () => {
    const cases = [
      "<project><platform>",
      '<project><platform><device><core><kernel name="k"><arg name="a" id="1" addressQualifier="0" offset="0" size="4"/></kernel></core></device></platform></project>',
      '<project><platform><device><core><kernel name="k"><arg name="a" id="0" offset="0" size="4"/></kernel></core></device></platform></project>',
      "<project/>",
    ];
    cases.forEach((xml, i) => {
      const spec = { ...vaddSpec(), xml };
      expect(xrtView(spec, `bad${i}`).error, xml).to.be.a("string");
      expect(() => ours(spec), xml).to.throw(/BITSTREAM_INVALID/);
    });
  });
});
