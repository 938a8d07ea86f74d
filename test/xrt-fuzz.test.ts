// Fuzzing of the xclbin parser: random bytes, mutations of valid generated
// xclbins and hostile XML never make it throw anything but InaccelError
// BITSTREAM_INVALID, and what it accepts converts to a bitstream.json that
// the repository either accepts or refuses as BITSTREAM_INVALID.
import { expect } from "chai";
import fc from "fast-check";
import { InaccelError } from "../src/errors";
import { parseMetadata } from "../src/repository/metadata";
import { parseXclbin, toBitstreamJson } from "../src/xclbin";
import { arbitrarySpec, vaddSpec, writeXclbin } from "./helpers/xclbin-writer";

/** Parses `image`; true when accepted, false when refused as it must be. */
function parsesOrRefuses(image: Buffer): boolean {
  let info;
  try {
    info = parseXclbin(image, "fuzz");
  } catch (error) {
    if (!(error instanceof InaccelError) || error.code !== "BITSTREAM_INVALID") throw error;
    return false;
  }
  const { json } = toBitstreamJson(info, { path: "fuzz.xclbin", sha256: "0".repeat(64) });
  if (json.kernels.length > 0 && json.platform.name !== "") {
    try {
      parseMetadata(JSON.stringify(json), "fuzz");
    } catch (error) {
      if (!(error instanceof InaccelError) || error.code !== "BITSTREAM_INVALID") throw error;
    }
  }
  return true;
}

type Mutation =
  | { op: "byte"; at: number; value: number }
  | { op: "u32"; at: number; value: number }
  | { op: "u64"; at: number; value: bigint }
  | { op: "truncate"; at: number }
  | { op: "zero"; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("byte" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant("u32" as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 4096) }),
  fc.record({ op: fc.constant("u64" as const), at: fc.nat(), value: fc.constantFrom(0n, 1n, 1n << 63n, (1n << 64n) - 1n, 1n << 32n) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("zero" as const), at: fc.nat(), length: fc.nat({ max: 64 }) }),
);

function mutate(image: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(image);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.op === "byte") out[at] = m.value;
    else if (m.op === "u32" && at + 4 <= out.length) out.writeUInt32LE(m.value, at);
    else if (m.op === "u64" && at + 8 <= out.length) out.writeBigUInt64LE(m.value, at);
    else if (m.op === "truncate") out = out.subarray(0, at);
    else if (m.op === "zero") out.fill(0, at, Math.min(out.length, at + m.length));
  }
  return out;
}

// Header and section-table offsets where corruption matters most.
const HOT = [304, 328, 330, 352, 416, 448, 456, 456 + 24, 456 + 32, 496, 496 + 24, 496 + 32, 536 + 24, 576 + 24];

describe("xclbin parser fuzz", () => {
  it("random bytes are refused with BITSTREAM_INVALID", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      expect(parsesOrRefuses(Buffer.from(bytes))).to.equal(false);
    }), { numRuns: 2000 });
  });

  it("random bytes behind a valid magic and length are refused or parsed, never crash", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 456, maxLength: 4096 }), (bytes) => {
      const image = Buffer.from(bytes);
      image.write("xclbin2\0", 0, "latin1");
      image.writeBigUInt64LE(BigInt(image.length), 304);
      parsesOrRefuses(image);
    }), { numRuns: 2000 });
  });

  it("mutations of valid xclbins are refused or parsed, never crash", () => {
    fc.assert(fc.property(arbitrarySpec(), fc.array(mutation, { minLength: 1, maxLength: 8 }), (spec, mutations) => {
      parsesOrRefuses(mutate(writeXclbin(spec), mutations));
    }), { numRuns: 3000 });
  });

  it("mutations of the header and section table are refused or parsed, never crash", () => {
    const good = writeXclbin(vaddSpec());
    const hot = fc.record({ base: fc.constantFrom(...HOT), delta: fc.integer({ min: -4, max: 4 }) }).map(({ base, delta }) => base + delta);
    const at = (m: Mutation) => fc.constant(m);
    fc.assert(fc.property(fc.array(fc.tuple(hot, mutation).chain(([offset, m]) => at({ ...m, at: offset })), { minLength: 1, maxLength: 4 }), (mutations) => {
      parsesOrRefuses(mutate(good, mutations));
    }), { numRuns: 3000 });
  });

  it("hostile or malformed metadata XML is refused or parsed, never crash", () => {
    const pieces = fc.constantFrom("<project>", "</project>", "<platform>", "</platform>", "<device>", "</device>",
      "<core>", "</core>", '<kernel name="k">', "</kernel>", '<arg name="a" id="0" addressQualifier="1" offset="0x10" size="8" type="int*"/>',
      "<!-- c -->", "<?pi?>", "<![CDATA[x]]>", "&amp;", "&#x110000;", "&bogus;", "<", ">", '"', "'", "=", " ", "<a b='1' b='2'/>",
      "<!DOCTYPE p>", '<!ENTITY x SYSTEM "file:///etc/passwd">', "\u0000", "é");
    fc.assert(fc.property(fc.array(pieces, { maxLength: 40 }), fc.string({ maxLength: 20 }), (parts, noise) => {
      parsesOrRefuses(writeXclbin({ ...vaddSpec(), xml: parts.join("") + noise }));
    }), { numRuns: 3000 });
  });

  it("deeply nested XML is refused, not a stack overflow", () => {
    const xml = "<project>" + "<a>".repeat(100000) + "</a>".repeat(100000) + "</project>";
    expect(parsesOrRefuses(writeXclbin({ ...vaddSpec(), xml }))).to.equal(false);
  });
});
