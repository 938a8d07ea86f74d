// Test-only xclbin writer following the layout of XRT's xclbin.h (axlf):
// 496-byte header with inline section headers, then 8-byte-aligned sections.
// It writes what our parser and XRT's own parser read: IP_LAYOUT,
// MEM_TOPOLOGY, CONNECTIVITY and the EMBEDDED_METADATA XML, plus a dummy
// BITSTREAM. No vendor tool is involved, so these files program nothing.
import fc from "fast-check";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Section kinds of xclbin.h's axlf_section_kind used by the tests. */
export const Kind = {
  BITSTREAM: 0,
  EMBEDDED_METADATA: 2,
  MEM_TOPOLOGY: 6,
  CONNECTIVITY: 7,
  IP_LAYOUT: 8,
  CLOCK_FREQ_TOPOLOGY: 11,
} as const;

/** One memory bank (mem_data). `type` is xclbin.h's MEM_TYPE (1 = DDR4, 6 = HBM). */
export interface MemSpec {
  tag: string;
  type?: number;
  used?: boolean;
  sizeKB?: bigint;
  base?: bigint;
}

/** One kernel argument; `bank` (mem_data index) applies to pointer args. */
export interface ArgSpec {
  name: string;
  /** XRT type string as v++ writes it: "float*", "unsigned int", ... */
  type: string;
  /** 0 scalar, 1 global pointer, 4 AXI stream. Default: 1 when type ends in "*". */
  addressQualifier?: number;
  bank?: number;
}

/** One compute unit; `banks` overrides an argument's bank for this CU. */
export interface CuSpec {
  name: string;
  banks?: Record<string, number>;
}

/** A kernel and its compute units (default: one CU named `<name>_1`). */
export interface KernelSpec {
  name: string;
  args: ArgSpec[];
  cus?: CuSpec[];
}

/** What to put in a generated xclbin. */
export interface XclbinSpec {
  /** m_platformVBNV, e.g. "xilinx_u250_gen3x16_xdma_4_1_202210_1". */
  platform: string;
  /** 32 hex digits (dashes allowed). */
  uuid: string;
  mems: MemSpec[];
  kernels: KernelSpec[];
  /** Sections to leave out, by kind. */
  omit?: number[];
  /** Extra raw sections appended after the generated ones. */
  extra?: Array<{ kind: number; name: string; data: Buffer }>;
  /** Replaces the generated XML when set. */
  xml?: string;
}

const HEADER_SIZE = 496 - 40; // struct axlf minus its one inline section header
const SECTION_HEADER_SIZE = 40;

function isPointer(arg: ArgSpec): boolean {
  return (arg.addressQualifier ?? (arg.type.trim().endsWith("*") ? 1 : 0)) === 1;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function cusOf(k: KernelSpec): CuSpec[] {
  return k.cus ?? [{ name: `${k.name}_1` }];
}

/** The EMBEDDED_METADATA XML v++ would write for `spec` (the parts XRT reads). */
export function metadataXml(spec: XclbinSpec): string {
  let base = 0x1800000;
  const kernels = spec.kernels.map((k) => {
    let offset = 0x10;
    const args = k.args.map((a, id) => {
      const q = a.addressQualifier ?? (isPointer(a) ? 1 : 0);
      const size = q === 1 ? 8 : 4;
      const port = q === 1 ? `M_AXI_GMEM${id}` : q === 4 ? a.name : "S_AXI_CONTROL";
      const line = `          <arg name="${xmlEscape(a.name)}" addressQualifier="${q}" id="${id}" port="${port}" ` +
        `size="0x${size.toString(16)}" offset="0x${offset.toString(16)}" hostOffset="0x0" ` +
        `hostSize="0x${size.toString(16)}" type="${xmlEscape(a.type)}"/>`;
      offset += size === 8 ? 12 : 8;
      return line;
    });
    const ports = k.args.map((a, id) => (isPointer(a)
      ? `          <port name="M_AXI_GMEM${id}" mode="master" range="0xFFFFFFFF" dataWidth="32" portType="addressable" base="0x0"/>`
      : ""))
      .filter((p) => p !== "");
    const instances = cusOf(k).map((cu) => {
      const line = `          <instance name="${xmlEscape(cu.name)}">\n` +
        `            <addrRemap base="0x${base.toString(16)}" range="0x10000" port="S_AXI_CONTROL"/>\n` +
        "          </instance>";
      base += 0x10000;
      return line;
    });
    return [
      `        <kernel name="${xmlEscape(k.name)}" language="c" vlnv="xilinx.com:hls:${xmlEscape(k.name)}:1.0" ` +
        'preferredWorkGroupSizeMultiple="0" workGroupSize="1" interrupt="true" hwControlProtocol="ap_ctrl_hs">',
      '          <port name="S_AXI_CONTROL" mode="slave" range="0x1000" dataWidth="32" portType="addressable" base="0x0"/>',
      ...ports, ...args, ...instances,
      "        </kernel>",
    ].join("\n");
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project name="generated">',
    `  <platform vendor="xilinx" boardid="test" name="${xmlEscape(spec.platform)}" featureRomTime="0">`,
    '    <version major="1" minor="0"/>',
    "    <description/>",
    '    <device name="fpga0" fpgaDevice="virtexuplus:xcu250:figd2104:-2L:e" addrWidth="0">',
    '      <core name="OCL_REGION_0" target="hw" type="clc_region" clockFreq="0MHz">',
    ...kernels,
    "      </core>",
    "    </device>",
    "  </platform>",
    "</project>",
    "",
  ].join("\n");
}

/** MEM_TOPOLOGY: int32 count, then 40-byte mem_data entries (8-aligned). */
export function memTopology(mems: MemSpec[]): Buffer {
  const b = Buffer.alloc(8 + 40 * mems.length);
  b.writeInt32LE(mems.length, 0);
  mems.forEach((m, i) => {
    const o = 8 + 40 * i;
    b.writeUInt8(m.type ?? 1, o);
    b.writeUInt8(m.used === false ? 0 : 1, o + 1);
    b.writeBigUInt64LE(m.sizeKB ?? 16n * 1024n * 1024n, o + 8);
    b.writeBigUInt64LE(m.base ?? BigInt(i) * 0x400000000n, o + 16);
    b.write(m.tag.slice(0, 15), o + 24, "latin1");
  });
  return b;
}

/** IP_LAYOUT: int32 count, then 80-byte ip_data entries named "kernel:cu". */
export function ipLayout(spec: XclbinSpec): Buffer {
  const cus = spec.kernels.flatMap((k) => cusOf(k).map((cu) => `${k.name}:${cu.name}`));
  const b = Buffer.alloc(8 + 80 * cus.length);
  b.writeInt32LE(cus.length, 0);
  cus.forEach((name, i) => {
    const o = 8 + 80 * i;
    b.writeUInt32LE(1, o); // IP_KERNEL
    b.writeUInt32LE(1 | ((i + 1) << 1), o + 4); // interrupt enabled, id i+1, AP_CTRL_HS
    b.writeBigUInt64LE(BigInt(0x1800000 + 0x10000 * i), o + 8);
    b.write(name.slice(0, 63), o + 16, "latin1");
  });
  return b;
}

/** CONNECTIVITY: int32 count, then 12-byte {arg, ip, mem} for each CU pointer arg. */
export function connectivity(spec: XclbinSpec): Buffer {
  const rows: number[][] = [];
  let ip = 0;
  for (const k of spec.kernels) {
    for (const cu of cusOf(k)) {
      k.args.forEach((a, id) => {
        if (isPointer(a)) rows.push([id, ip, cu.banks?.[a.name] ?? a.bank ?? 0]);
      });
      ip += 1;
    }
  }
  const b = Buffer.alloc(4 + 12 * Math.max(rows.length, 1));
  b.writeInt32LE(rows.length, 0);
  rows.forEach((r, i) => r.forEach((v, j) => b.writeInt32LE(v, 4 + 12 * i + 4 * j)));
  return b;
}

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`bad uuid ${uuid}`);
  return Buffer.from(hex, "hex");
}

/** A complete xclbin image for `spec`. */
export function writeXclbin(spec: XclbinSpec): Buffer {
  const omit = new Set(spec.omit ?? []);
  const generated: Array<{ kind: number; name: string; data: Buffer }> = [
    { kind: Kind.BITSTREAM, name: "bitstream", data: Buffer.from("not a real bitstream\n") },
    { kind: Kind.MEM_TOPOLOGY, name: "mem_topology", data: memTopology(spec.mems) },
    { kind: Kind.IP_LAYOUT, name: "ip_layout", data: ipLayout(spec) },
    { kind: Kind.CONNECTIVITY, name: "connectivity", data: connectivity(spec) },
    { kind: Kind.EMBEDDED_METADATA, name: "metadata", data: Buffer.from(spec.xml ?? metadataXml(spec)) },
  ];
  const sections = generated.filter((s) => !omit.has(s.kind)).concat(spec.extra ?? []);

  const align = (n: number) => (n + 7) & ~7;
  const tableEnd = HEADER_SIZE + SECTION_HEADER_SIZE * Math.max(sections.length, 1);
  let offset = align(tableEnd);
  const placed = sections.map((s) => {
    const at = offset;
    offset = align(at + s.data.length);
    return { ...s, at };
  });
  const file = Buffer.alloc(offset);
  file.write("xclbin2\0", 0, "latin1");
  file.writeInt32LE(-1, 8);
  file.fill(0xff, 12, 296); // reserved + key block, as xclbinutil leaves them
  file.writeBigUInt64LE(0x1234n, 296);
  const h = 304; // struct axlf_header
  file.writeBigUInt64LE(BigInt(offset), h);
  file.writeBigUInt64LE(1700000000n, h + 8);
  file.writeUInt16LE(0, h + 24); // version 2.13.0
  file.writeUInt8(2, h + 26);
  file.writeUInt8(13, h + 27);
  file.writeUInt16LE(0, h + 28); // XCLBIN_FLAT
  file.write(spec.platform.slice(0, 63), h + 48, "latin1");
  uuidBytes(spec.uuid).copy(file, h + 112);
  file.writeUInt32LE(sections.length, h + 144);
  placed.forEach((s, i) => {
    const o = HEADER_SIZE + SECTION_HEADER_SIZE * i;
    file.writeUInt32LE(s.kind, o);
    file.write(s.name.slice(0, 15), o + 4, "latin1");
    file.writeBigUInt64LE(BigInt(s.at), o + 24);
    file.writeBigUInt64LE(BigInt(s.data.length), o + 32);
    s.data.copy(file, s.at);
  });
  return file;
}

/** A two-bank vector-addition xclbin, the tests' reference input. */
export function vaddSpec(): XclbinSpec {
  return {
    platform: "xilinx_u250_gen3x16_xdma_4_1_202210_1",
    uuid: "0123456789abcdef0123456789abcdef",
    mems: [{ tag: "DDR[0]" }, { tag: "DDR[1]" }, { tag: "PLRAM[0]", type: 7, used: false }],
    kernels: [{
      name: "vadd",
      args: [
        { name: "a", type: "const float*", bank: 0 },
        { name: "b", type: "float*", bank: 1 },
        { name: "c", type: "float*", bank: 1 },
        { name: "n", type: "unsigned int" },
      ],
    }],
  };
}

const POINTER_TYPES = ["float*", "const float*", "int*", "unsigned int*", "double*", "char*", "unsigned char*",
  "short*", "long*", "unsigned long*", "const int *", "ap_uint<512>*"];
const SCALAR_TYPES = ["int", "unsigned int", "float", "double", "char", "unsigned char", "short",
  "unsigned short", "long", "unsigned long", "uint32_t", "int64_t"];

/** A random but well-formed {@link XclbinSpec}: banks, kernels, args, multi-CU wiring. */
export function arbitrarySpec(): fc.Arbitrary<XclbinSpec> {
  const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/);
  const mem = fc.record({
    type: fc.constantFrom(1, 6, 7),
    used: fc.integer({ min: 0, max: 4 }).map((n) => n !== 0), // mostly used
    sizeKB: fc.bigInt({ min: 0n, max: 1n << 40n }),
  });
  return fc.record({
    platform: fc.stringMatching(/^[a-z][a-z0-9_]{0,62}$/),
    uuid: fc.stringMatching(/^[0-9a-f]{32}$/),
    mems: fc.array(mem, { minLength: 1, maxLength: 8 }),
    kernels: fc.uniqueArray(
      fc.record({ name, args: fc.uniqueArray(fc.record({ name, pointer: fc.boolean(), t: fc.nat(), bank: fc.nat() }), { selector: (a) => a.name, maxLength: 8 }), cus: fc.integer({ min: 1, max: 3 }), seed: fc.nat() }),
      { selector: (k) => k.name, minLength: 1, maxLength: 4 },
    ),
  }).map(({ platform, uuid, mems: drawn, kernels }) => {
    const mems = drawn.map((m, i) => (i === 0 ? { ...m, used: true } : m));
    // Only used banks may be wired (xclbin.h: "Flag error if m_used false").
    const used = mems.flatMap((m, i) => (m.used ? [i] : []));
    const bank = (n: number) => used[n % used.length];
    return {
      platform,
      uuid,
      mems: mems.map((m, i) => ({ ...m, tag: `${m.type === 6 ? "HBM" : m.type === 7 ? "PLRAM" : "DDR"}[${i}]` })),
      kernels: kernels.map((k) => ({
        name: k.name,
        args: k.args.map((a) => ({
          name: a.name,
          type: a.pointer ? POINTER_TYPES[a.t % POINTER_TYPES.length] : SCALAR_TYPES[a.t % SCALAR_TYPES.length],
          bank: bank(a.bank),
        })),
        cus: Array.from({ length: k.cus }, (_, i) => ({
          name: `${k.name}_${i + 1}`,
          // later CUs may wire an argument elsewhere
          banks: Object.fromEntries(k.args.map((a, j) => [a.name, bank(i === 0 ? a.bank : a.bank + k.seed * (j + i))])),
        })),
      })),
    };
  });
}

/** What a parser should read back from `writeXclbin(spec)`, per kernel and argument. */
export function expectedKernels(spec: XclbinSpec) {
  return spec.kernels.map((k) => ({
    name: k.name,
    computeUnits: cusOf(k).map((cu) => cu.name),
    arguments: k.args.map((a, index) => {
      const pointer = isPointer(a);
      const banks = pointer ? cusOf(k).map((cu) => cu.banks?.[a.name] ?? a.bank ?? 0) : [];
      return { name: a.name, index, type: a.type, memories: [...new Set(banks)].sort((x, y) => x - y), bank: banks[0] };
    }),
  }));
}

/**
 * A folder to point $XILINX_XRT at: XRT loads its shims from $XILINX_XRT/lib,
 * while Debian installs them in the multiarch folder, so this links them.
 */
export function xrtShimFolder(parent: string): string {
  const found = execFileSync("sh", ["-c", "PATH=$PATH:/sbin:/usr/sbin ldconfig -p | awk '/libxrt_coreutil\\.so\\.2 /{print $NF; exit}'"]).toString().trim();
  const lib = path.dirname(found);
  const folder = path.join(parent, "xrt");
  fs.mkdirSync(path.join(folder, "lib"), { recursive: true });
  for (const name of fs.readdirSync(lib).filter((n) => /^libxrt_.*\.so\.2$/.test(n))) {
    fs.symlinkSync(path.join(lib, name), path.join(folder, "lib", name));
  }
  return folder;
}
