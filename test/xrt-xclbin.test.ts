// xclbin import: what src/xclbin reads from generated xclbins, the
// bitstream.json it writes, and how it refuses what it cannot use.
import { expect } from "chai";
import fc from "fast-check";
import * as fs from "node:fs";
import * as path from "node:path";
import { InaccelError } from "../src/errors";
import { parseMetadata } from "../src/repository/metadata";
import { Repository } from "../src/repository";
import { importXclbin, parseXclbin, xclbinToBitstream } from "../src/xclbin";
import { runChild } from "./helpers/child";
import { arbitrarySpec, expectedKernels, Kind, memTopology, connectivity, vaddSpec, writeXclbin, type XclbinSpec } from "./helpers/xclbin-writer";

const dir = fs.mkdtempSync(path.join(process.env.INACCEL_TEST_ROOT ?? "/tmp", "xclbin-"));

function file(name: string, spec: XclbinSpec): string {
  const at = path.join(dir, name);
  fs.writeFileSync(at, writeXclbin(spec));
  return at;
}

async function refusal(promise: Promise<unknown>): Promise<InaccelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(InaccelError);
    return error as InaccelError;
  }
  throw new Error("expected a rejection");
}

describe("xclbin import", () => {
  it("reads platform, uuid, banks, kernels, arguments and their banks", () => {
    const info = parseXclbin(writeXclbin(vaddSpec()));
    expect(info.header.platformVbnv).to.equal("xilinx_u250_gen3x16_xdma_4_1_202210_1");
    expect(info.header.uuid).to.equal("01234567-89ab-cdef-0123-456789abcdef");
    expect(info.memories.map((m) => [m.tag, m.used, m.type])).to.deep.equal([["DDR[0]", true, 1], ["DDR[1]", true, 1], ["PLRAM[0]", false, 7]]);
    expect(info.kernels).to.have.length(1);
    expect(info.kernels[0].computeUnits).to.deep.equal(["vadd_1"]);
    expect(info.kernels[0].arguments.map((a) => [a.name, a.type, a.addressQualifier, a.bank])).to.deep.equal([
      ["a", "const float*", 1, 0], ["b", "float*", 1, 1], ["c", "float*", 1, 1], ["n", "unsigned int", 0, undefined],
    ]);
  });

  it("reads back whatever the writer put in (random xclbins)", () => {
    fc.assert(fc.property(arbitrarySpec(), (spec) => {
      const info = parseXclbin(writeXclbin(spec));
      expect(info.header.platformVbnv).to.equal(spec.platform);
      expect(info.header.uuid.replace(/-/g, "")).to.equal(spec.uuid);
      expect(info.memories.map((m) => m.tag)).to.deep.equal(spec.mems.map((m) => m.tag));
      const got = info.kernels.map((k) => ({
        name: k.name,
        computeUnits: k.computeUnits,
        arguments: k.arguments.map(({ name, index, type, memories, bank }) => ({ name, index, type, memories, bank })),
      }));
      expect(got).to.deep.equal(expectedKernels(spec));
    }), { numRuns: 300 });
  });

  it("writes a bitstream.json the repository accepts, typed and banked", async () => {
    const { json, files, skipped } = await xclbinToBitstream(file("vadd.xclbin", vaddSpec()));
    expect(skipped).to.deep.equal([]);
    expect(json.bitstreamId).to.equal("vadd");
    expect(json.platform).to.deep.equal({ vendor: "xilinx", name: "xilinx_u250_gen3x16_xdma_4_1_202210_1" });
    expect(json.kernels).to.deep.equal([{
      name: "vadd",
      kernelId: "vadd",
      arguments: [
        { name: "a", type: "float*", access: "r", memory: 0 },
        { name: "b", type: "float*", access: "rw", memory: 1 },
        { name: "c", type: "float*", access: "rw", memory: 1 },
        { name: "n", type: "uint" },
      ],
    }]);
    expect(json.files[0].path).to.equal("vadd.xclbin");
    expect(files.get("vadd.xclbin")?.equals(fs.readFileSync(path.join(dir, "vadd.xclbin")))).to.equal(true);
    const checked = parseMetadata(JSON.stringify(json), "generated");
    expect(checked.kernels[0].accelerator).to.equal("vadd.vadd");
    expect(checked.kernels[0].arguments.map((a) => [a.element, a.pointer, a.memory])).to.deep.equal([
      ["float", true, 0], ["float", true, 1], ["float", true, 1], ["uint", false, undefined],
    ]);
  });

  it("maps XRT type strings to ours, byte buffers for wide pointers", async () => {
    const spec: XclbinSpec = { ...vaddSpec(), kernels: [{ name: "k", args: [
      { name: "w", type: "ap_uint<512>*" }, { name: "i", type: "const int *" }, { name: "u", type: "uint32_t" },
      { name: "l", type: "long" }, { name: "d", type: "double" }, { name: "h", type: "unsigned short" },
    ] }] };
    const { json } = await xclbinToBitstream(file("types.xclbin", spec), { bitstreamId: "types", version: "2.0", kernelIds: { k: "kernel" } });
    expect(json.kernels[0].arguments.map((a) => [a.type, a.access])).to.deep.equal([
      ["uchar*", "rw"], ["int*", "r"], ["uint", undefined], ["long", undefined], ["double", undefined], ["ushort", undefined],
    ]);
    expect([json.bitstreamId, json.version, json.kernels[0].kernelId]).to.deep.equal(["types", "2.0", "kernel"]);
    parseMetadata(JSON.stringify(json), "generated");
  });

  it("leaves out kernels the host cannot drive, and says why", async () => {
    const spec: XclbinSpec = { ...vaddSpec(), kernels: [
      vaddSpec().kernels[0],
      { name: "streamer", args: [{ name: "s", type: "hls::stream<ap_axiu<32,0,0,0>>&", addressQualifier: 4 }] },
      { name: "wide", args: [{ name: "v", type: "ap_uint<96>" }] },
      { name: "free", args: [], cus: [] },
    ] };
    const { json, skipped } = await xclbinToBitstream(file("mixed.xclbin", spec));
    expect(json.kernels.map((k) => k.name)).to.deep.equal(["vadd"]);
    expect(skipped.map((s) => s.kernel)).to.deep.equal(["streamer", "wide", "free"]);
    expect(skipped[0].reason).to.contain("AXI stream");
    expect(skipped[1].reason).to.contain("ap_uint<96>");
    expect(skipped[2].reason).to.contain("compute unit");
    const none = await refusal(xclbinToBitstream(file("none.xclbin", { ...spec, kernels: spec.kernels.slice(1) })));
    expect(none.code).to.equal("BITSTREAM_INVALID");
    expect(none.message).to.contain("no kernel the host can run");
  });

  it("prefers the group sections, as XRT does", () => {
    const spec = vaddSpec();
    // Group topology: one bank more; group connectivity moves b to it.
    const groups = { ...spec, mems: [...spec.mems, { tag: "GROUP[3]" }] };
    const moved = { ...groups, kernels: [{ ...spec.kernels[0], args: spec.kernels[0].args.map((a) => (a.name === "b" ? { ...a, bank: 3 } : a)) }] };
    const info = parseXclbin(writeXclbin({ ...spec, extra: [
      { kind: 26, name: "group_topology", data: memTopology(groups.mems) },
      { kind: 27, name: "group_connectivity", data: connectivity(moved) },
    ] }));
    expect(info.memories.map((m) => m.tag)).to.include("GROUP[3]");
    expect(info.kernels[0].arguments.map((a) => a.bank)).to.deep.equal([0, 3, 1, undefined]);
  });

  it("imports a file or a folder holding one into a folder ready to install", async () => {
    const source = file("import.xclbin", vaddSpec());
    const { folder } = await importXclbin(source);
    try {
      expect(fs.readdirSync(folder).sort()).to.deep.equal(["bitstream.json", "import.xclbin"]);
      const json = JSON.parse(fs.readFileSync(path.join(folder, "bitstream.json"), "utf8"));
      expect(json.bitstreamId).to.equal("import");
      expect(fs.readFileSync(path.join(folder, "import.xclbin")).equals(fs.readFileSync(source))).to.equal(true);
    } finally {
      fs.rmSync(folder, { recursive: true });
    }
    const holder = fs.mkdtempSync(path.join(dir, "holder-"));
    fs.copyFileSync(source, path.join(holder, "k.xclbin"));
    fs.writeFileSync(path.join(holder, "README"), "not an xclbin");
    const fromFolder = await importXclbin(holder);
    expect(fs.existsSync(path.join(fromFolder.folder, "k.xclbin"))).to.equal(true);
    fs.rmSync(fromFolder.folder, { recursive: true });
    fs.copyFileSync(source, path.join(holder, "other.xclbin"));
    expect((await refusal(importXclbin(holder))).message).to.contain("2 .xclbin files");
    expect((await refusal(importXclbin(path.join(dir, "missing.xclbin")))).code).to.equal("NOT_FOUND");
  });

  it("refuses corrupt and truncated xclbins with BITSTREAM_INVALID", async () => {
    const good = writeXclbin(vaddSpec());
    const corrupt = (name: string, image: Buffer) => {
      fs.writeFileSync(path.join(dir, name), image);
      return refusal(xclbinToBitstream(path.join(dir, name)));
    };
    const patched = (at: number, write: (b: Buffer) => void) => {
      const copy = Buffer.from(good);
      write(copy.subarray(at));
      return copy;
    };
    const cases: Array<[string, Buffer, string]> = [
      ["empty", Buffer.alloc(0), "shorter than the xclbin header"],
      ["truncated", good.subarray(0, good.length - 8), "truncated"],
      ["magic", patched(0, (b) => b.write("xclbin1")), "bad magic"],
      ["sections", patched(448, (b) => b.writeUInt32LE(0xffffffff)), "section table"],
      ["section", patched(456 + 32, (b) => b.writeBigUInt64LE(1n << 62n)), "outside the file"],
      ["unused bank", writeXclbin({ ...vaddSpec(), mems: [{ tag: "DDR[0]", used: false }, { tag: "DDR[1]" }] }), "unused bank DDR[0]"],
      ["no metadata", writeXclbin({ ...vaddSpec(), omit: [Kind.EMBEDDED_METADATA] }), "no EMBEDDED_METADATA"],
      ["xml", writeXclbin({ ...vaddSpec(), xml: "<project><platform>" }), "EMBEDDED_METADATA"],
      ["doctype", writeXclbin({ ...vaddSpec(), xml: '<!DOCTYPE x [<!ENTITY a "b">]><project/>' }), "DTD"],
      ["arg ids", writeXclbin({ ...vaddSpec(), xml: '<project><platform><device><core><kernel name="k"><arg name="a" id="1" addressQualifier="0" offset="0" size="4"/></kernel></core></device></platform></project>' }), "no argument 0"],
    ];
    for (const [name, image, why] of cases) {
      const error = await corrupt(`${name}.xclbin`, image);
      expect(error.code, name).to.equal("BITSTREAM_INVALID");
      expect(error.message, name).to.contain(why);
    }
  });
});

describe("inaccel bitstream install of an xclbin", () => {
  it("installs an .xclbin file, or a folder holding one, writing its bitstream.json", async () => {
    const root = fs.mkdtempSync(path.join(dir, "repo-"));
    const repo = new Repository({ root, system: [] });
    const installed = await repo.install(file("vadd.xclbin", vaddSpec()));
    expect(installed.installed).to.equal(true);
    const listed = repo.list().find((b) => b.id === "vadd");
    expect(listed?.platform).to.deep.include({ name: "xilinx_u250_gen3x16_xdma_4_1_202210_1" });
    expect(fs.readdirSync(path.join(root, "vadd", listed!.version)).sort()).to.deep.equal(["bitstream.json", "vadd.xclbin"]);
    // The same through the CLI, from a folder holding the xclbin and no bitstream.json.
    const holder = fs.mkdtempSync(path.join(dir, "cli-"));
    fs.writeFileSync(path.join(holder, "krnl.xclbin"), writeXclbin(vaddSpec()));
    const cliRoot = fs.mkdtempSync(path.join(dir, "repo-"));
    const cli = await runChild(
      `process.argv = ["node", "inaccel", "bitstream", "install", ${JSON.stringify(holder)}]; require("./src/cli/main.ts");`,
      { INACCEL_REPOSITORY: cliRoot },
    );
    expect(cli.code, cli.stderr).to.equal(0);
    expect(fs.readdirSync(cliRoot).filter((n) => !n.startsWith("."))).to.deep.equal(["krnl"]);
    // A corrupt xclbin leaves the repository as it was.
    const before = fs.readdirSync(root).sort();
    const broken = path.join(dir, "broken.xclbin");
    fs.writeFileSync(broken, writeXclbin(vaddSpec()).subarray(0, 100));
    expect((await refusal(repo.install(broken))).code).to.equal("BITSTREAM_INVALID");
    expect(fs.readdirSync(root).sort()).to.deep.equal(before);
  });
});
