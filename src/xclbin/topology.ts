// The binary tables of an xclbin: memory banks (MEM_TOPOLOGY), IPs such as
// kernel compute units (IP_LAYOUT), and which bank each CU argument is
// wired to (CONNECTIVITY). Layouts from XRT's xclbin.h.
import { type Container, invalid, type Region, section, SectionKind } from "./container";

/** One memory bank (mem_data). */
export interface Memory {
  /** Index in the topology: the bank number (XRT's memory group). */
  index: number;
  /** xclbin.h's MEM_TYPE: 0 DDR3, 1 DDR4, 2 DRAM, 3 streaming, 6 HBM, 7 BRAM, 8 URAM, 10 host, ... */
  type: number;
  used: boolean;
  /** Size in KiB (for streaming entries, the route id). */
  sizeKB: bigint;
  baseAddress: bigint;
  /** e.g. "DDR[0]", "HBM[3]", "bank0". */
  tag: string;
}

/** One IP (ip_data); kernel compute units are named "kernel:cu". */
export interface Ip {
  index: number;
  /** xclbin.h's IP_TYPE: 1 kernel, 7 PS kernel, others are not compute units. */
  type: number;
  name: string;
}

/** One CONNECTIVITY entry: argument `arg` of IP `ip` is wired to bank `memory`. */
export interface Connection {
  arg: number;
  ip: number;
  memory: number;
}

/** Memory type numbers of streaming connections rather than banks. */
export const STREAMING_TYPES: ReadonlySet<number> = new Set([3, 9]);

// Past these, an xclbin is refused rather than read: real ones are far smaller.
const MAX_ENTRIES = 65536;
const MAX_ARG_INDEX = 4096;

function count(region: Region, name: string, what: string, first: number, entry: number): number {
  const n = region.i32(0, `${name} m_count`);
  if (n < 0 || n > MAX_ENTRIES || first + n * entry > region.size) {
    throw invalid(what, `${name} claims ${n} entries of ${entry} bytes in ${region.size}`);
  }
  return n;
}

function memories(region: Region | undefined, what: string): Memory[] {
  if (!region) return [];
  const n = count(region, "MEM_TOPOLOGY", what, 8, 40);
  return Array.from({ length: n }, (_, index) => {
    const o = 8 + 40 * index;
    return {
      index,
      type: region.u8(o, "m_type"),
      used: region.u8(o + 1, "m_used") !== 0,
      sizeKB: region.u64(o + 8, "m_size"),
      baseAddress: region.u64(o + 16, "m_base_address"),
      tag: region.cstring(o + 24, 16, "m_tag"),
    };
  });
}

function ips(region: Region | undefined, what: string): Ip[] {
  if (!region) return [];
  const n = count(region, "IP_LAYOUT", what, 8, 80);
  return Array.from({ length: n }, (_, index) => {
    const o = 8 + 80 * index;
    return { index, type: region.u32(o, "m_type"), name: region.cstring(o + 16, 64, "m_name") };
  });
}

function connections(region: Region | undefined, what: string, ipCount: number, mems: readonly Memory[]): Connection[] {
  if (!region) return [];
  const n = count(region, "CONNECTIVITY", what, 4, 12);
  return Array.from({ length: n }, (_, i) => {
    const o = 4 + 12 * i;
    const c = { arg: region.i32(o, "arg_index"), ip: region.i32(o + 4, "m_ip_layout_index"), memory: region.i32(o + 8, "mem_data_index") };
    if (c.arg < 0 || c.arg >= MAX_ARG_INDEX || c.ip < 0 || c.ip >= ipCount || c.memory < 0 || c.memory >= mems.length) {
      throw invalid(what, `CONNECTIVITY entry ${i} (arg ${c.arg}, ip ${c.ip}, memory ${c.memory}) points outside IP_LAYOUT/MEM_TOPOLOGY`);
    }
    // xclbin.h: "Flag error if m_used false"; XRT fails on such a wiring when it opens the kernel.
    if (!mems[c.memory].used) throw invalid(what, `CONNECTIVITY entry ${i} wires an argument to unused bank ${mems[c.memory].tag}`);
    return c;
  });
}

/** The tables of an xclbin. */
export interface Topology {
  memories: Memory[];
  ips: Ip[];
  connections: Connection[];
}

/**
 * Reads the tables of `container`. Like XRT, the group sections
 * (ASK_GROUP_TOPOLOGY / ASK_GROUP_CONNECTIVITY) win over MEM_TOPOLOGY /
 * CONNECTIVITY when present, so bank numbers are XRT's memory groups.
 */
export function parseTopology(container: Container, what: string): Topology {
  const find = (kind: number) => section(container, kind, what);
  const mems = memories(find(SectionKind.ASK_GROUP_TOPOLOGY) ?? find(SectionKind.MEM_TOPOLOGY), what);
  const layout = ips(find(SectionKind.IP_LAYOUT), what);
  const wiring = find(SectionKind.ASK_GROUP_CONNECTIVITY) ?? find(SectionKind.CONNECTIVITY);
  return { memories: mems, ips: layout, connections: connections(wiring, what, layout.length, mems) };
}
