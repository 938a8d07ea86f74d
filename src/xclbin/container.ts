// The xclbin container (XRT's xclbin.h, struct axlf): a 456-byte header,
// a table of 40-byte section headers, and the sections they point at.
// Every read is bounds-checked: a corrupt file is BITSTREAM_INVALID.
import { InaccelError } from "../errors";

/** Section kinds (xclbin.h's axlf_section_kind) this package reads. */
export const SectionKind = {
  EMBEDDED_METADATA: 2,
  MEM_TOPOLOGY: 6,
  CONNECTIVITY: 7,
  IP_LAYOUT: 8,
  ASK_GROUP_TOPOLOGY: 26,
  ASK_GROUP_CONNECTIVITY: 27,
} as const;

/** One entry of the section table. */
export interface SectionHeader {
  kind: number;
  name: string;
  offset: number;
  size: number;
}

/** The fixed header of an xclbin. */
export interface XclbinHeader {
  /** Format version, e.g. "2.13.0" (of the tool that wrote it). */
  version: string;
  /** Seconds since the epoch when it was written. */
  timeStamp: bigint;
  /** xclbin.h's XCLBIN_MODE: 0 flat, 1 partial reconfiguration, 4 hw_emu, 5 sw_emu, ... */
  mode: number;
  /** The platform (shell) it was built for, e.g. "xilinx_u250_gen3x16_xdma_4_1_202210_1". */
  platformVbnv: string;
  /** This xclbin's uuid, 32 lowercase hex digits with dashes. */
  uuid: string;
}

/** A parsed container: header, section table, and the image. */
export interface Container {
  header: XclbinHeader;
  sections: SectionHeader[];
  image: Buffer;
}

const MAGIC = "xclbin2\0";
const HEADER_END = 456; // offsetof(axlf, m_sections)
const SECTION_HEADER_SIZE = 40;
const MAX_SECTIONS = 0x10000; // XCLBIN_MAX_NUM_SECTION

/** The error every parse failure becomes. */
export function invalid(what: string, why: string): InaccelError {
  return new InaccelError("BITSTREAM_INVALID", `${what}: not a valid xclbin: ${why}`);
}

/** Bounds-checked little-endian reads over a region of the image. */
export class Region {
  constructor(
    private readonly image: Buffer,
    private readonly start: number,
    readonly size: number,
    private readonly what: string,
  ) {}

  private at(offset: number, length: number, field: string): number {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw invalid(this.what, `${field} lies outside its section`);
    }
    return this.start + offset;
  }

  u8(offset: number, field: string): number {
    return this.image.readUInt8(this.at(offset, 1, field));
  }

  u16(offset: number, field: string): number {
    return this.image.readUInt16LE(this.at(offset, 2, field));
  }

  u32(offset: number, field: string): number {
    return this.image.readUInt32LE(this.at(offset, 4, field));
  }

  i32(offset: number, field: string): number {
    return this.image.readInt32LE(this.at(offset, 4, field));
  }

  u64(offset: number, field: string): bigint {
    return this.image.readBigUInt64LE(this.at(offset, 8, field));
  }

  bytes(offset: number, length: number, field: string): Buffer {
    const from = this.at(offset, length, field);
    return this.image.subarray(from, from + length);
  }

  /** A NUL-terminated Latin-1 string in a fixed field of `length` bytes. */
  cstring(offset: number, length: number, field: string): string {
    const raw = this.bytes(offset, length, field);
    const end = raw.indexOf(0);
    if (end < 0) throw invalid(this.what, `${field} is not NUL-terminated`);
    return raw.toString("latin1", 0, end);
  }
}

function formatUuid(raw: Buffer): string {
  const hex = raw.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Parses the header and section table of `image`; `what` names the file in
 * errors. The header's length must equal the image's (a truncated file is
 * refused) and every section must lie within it.
 */
export function parseContainer(image: Buffer, what: string): Container {
  if (image.length < HEADER_END) throw invalid(what, `${image.length} bytes, shorter than the xclbin header`);
  const all = new Region(image, 0, image.length, what);
  if (all.bytes(0, 8, "magic").toString("latin1") !== MAGIC) throw invalid(what, "bad magic (not xclbin2)");
  const length = all.u64(304, "m_length");
  if (length !== BigInt(image.length)) {
    throw invalid(what, `header says ${length} bytes, file has ${image.length} (truncated or padded)`);
  }
  const header: XclbinHeader = {
    version: `${all.u8(330, "m_versionMajor")}.${all.u8(331, "m_versionMinor")}.${all.u16(328, "m_versionPatch")}`,
    timeStamp: all.u64(312, "m_timeStamp"),
    mode: all.u16(332, "m_mode"),
    platformVbnv: all.cstring(352, 64, "m_platformVBNV"),
    uuid: formatUuid(all.bytes(416, 16, "uuid")),
  };
  const count = all.u32(448, "m_numSections");
  if (count > MAX_SECTIONS || HEADER_END + SECTION_HEADER_SIZE * count > image.length) {
    throw invalid(what, `section table of ${count} entries does not fit the file`);
  }
  const sections: SectionHeader[] = [];
  for (let i = 0; i < count; i++) {
    const h = HEADER_END + SECTION_HEADER_SIZE * i;
    const offset = all.u64(h + 24, "m_sectionOffset");
    const size = all.u64(h + 32, "m_sectionSize");
    if (offset > BigInt(image.length) || size > BigInt(image.length) - offset) {
      throw invalid(what, `section ${i} (kind ${all.u32(h, "m_sectionKind")}) lies outside the file`);
    }
    const name = all.bytes(h + 4, 16, "m_sectionName");
    const end = name.indexOf(0);
    sections.push({
      kind: all.u32(h, "m_sectionKind"),
      name: name.toString("latin1", 0, end < 0 ? 16 : end),
      offset: Number(offset),
      size: Number(size),
    });
  }
  return { header, sections, image };
}

/** The first section of `kind` (as XRT picks it), or undefined. */
export function section(container: Container, kind: number, what: string): Region | undefined {
  const found = container.sections.find((s) => s.kind === kind);
  return found && new Region(container.image, found.offset, found.size, what);
}
