import { expect } from "chai";
import { Repository, typeArguments, type ArgumentSpec, type ScalarType } from "../src/repository";
import { encodeScalar } from "../src/repository/arguments";
import { parseExpression } from "../src/repository/expression";
import { parseType } from "../src/repository/scalars";
import { cleanup, device, expectError, tempDir } from "./repository-helpers";

const spec = (name: string, type: string, extra: Partial<ArgumentSpec> = {}): ArgumentSpec => {
  const parsed = parseType(type)!;
  return { name, type, pointer: parsed.pointer, element: parsed.element, access: parsed.pointer ? "rw" : "r", ...extra };
};

const bytes = (type: ScalarType, value: number | bigint): number[] => [...(encodeScalar(type, value) as Uint8Array)];

describe("repository: typing request arguments", () => {
  after(cleanup);
  let vadd: ArgumentSpec[];
  before(() => {
    vadd = new Repository({ root: tempDir(), system: [] }).resolve("vector.addition", device())!.arguments;
  });

  it("types vector.addition's arguments: buffers as given, the size as 4 little-endian bytes", () => {
    const a = new Float32Array(1000), b = new Float32Array(1000), c = new Float32Array(1000);
    const typed = typeArguments("vector.addition", vadd, [a, b, c, 1000]);
    expect(typed.slice(0, 3)).to.have.ordered.members([a, b, c]);
    expect(typed[3]).to.deep.equal(new Uint8Array([0xe8, 0x03, 0, 0]));
  });

  it("refuses a wrong count", async () => {
    await expectError(() => typeArguments("vector.addition", vadd, [new Float32Array(1), 1]), "BAD_ARGUMENT",
      /vector\.addition takes 4 arguments \(a, b, c, size\), got 2/);
  });

  it("refuses a typed array of another element type, naming the argument", async () => {
    const f = new Float32Array(4);
    await expectError(() => typeArguments("vector.addition", vadd, [f, f, new Int32Array(4), 4]), "BAD_ARGUMENT",
      /argument 2 "c" of vector\.addition expects float\*, got Int32Array$/);
    await expectError(() => typeArguments("vector.addition", vadd, [new DataView(new ArrayBuffer(16)), f, f, 4]), "BAD_ARGUMENT",
      /argument 0 "a" of vector\.addition expects float\*, got DataView/);
  });

  it("refuses a scalar for a buffer and a buffer for a scalar", async () => {
    const f = new Float32Array(4);
    await expectError(() => typeArguments("vector.addition", vadd, [1.5, f, f, 4]), "BAD_ARGUMENT",
      /argument 0 "a" of vector\.addition expects float\*, got number 1\.5/);
    await expectError(() => typeArguments("vector.addition", vadd, [f, f, f, f]), "BAD_ARGUMENT",
      /argument 3 "size" of vector\.addition expects int, got Float32Array/);
  });

  it("refuses a buffer shorter than its length expression", async () => {
    const f = new Float32Array(16);
    await expectError(() => typeArguments("vector.addition", vadd, [f, f, new Float32Array(10), 16]), "BAD_ARGUMENT",
      /argument 2 "c" of vector\.addition holds 10 float elements, needs size = 16/);
    const specs = [spec("img", "uchar*", { length: "width*height*(channels+1)" }), spec("width", "int"), spec("height", "uint"), spec("channels", "short")];
    expect(typeArguments("filter", specs, [Buffer.alloc(24), 3, 2, 3])).to.have.length(4);
    await expectError(() => typeArguments("filter", specs, [Buffer.alloc(23), 3, 2, 3]), "BAD_ARGUMENT",
      /argument 0 "img" of filter holds 23 uchar elements, needs width\*height\*\(channels\+1\) = 24/);
    const divided = [spec("x", "float*", { length: "n / d" }), spec("n", "int"), spec("d", "int")];
    await expectError(() => typeArguments("k", divided, [new Float32Array(4), 4, 0]), "BAD_ARGUMENT", /divides by zero/);
  });

  it("evaluates length expressions exactly, in numbers or past the safe integers in bigint", () => {
    const value = (text: string, values: Record<string, number | bigint>) =>
      parseExpression(text).evaluate(new Map(Object.entries(values)));
    expect(value("(n + 3) / 4", { n: 13 })).to.equal(4);
    expect(value("n / 2", { n: -7 })).to.equal(-3); // toward zero, as C does
    expect(value("n * m", { n: 2 ** 30, m: 2 ** 30 })).to.equal(2n ** 60n);
    expect(value("n * m / m", { n: 2 ** 40, m: 2 ** 20 })).to.equal(2 ** 40);
    expect(value("n - 1", { n: 2n ** 63n })).to.equal(2n ** 63n - 1n);
    expect(value("n + 1", { n: 9007199254740991 })).to.equal(9007199254740992n);
    expect(value("99999999999999999999 / n", { n: 3 })).to.equal(33333333333333333333n);
    expect(value("missing + 1", {})).to.equal(1);
    expect(() => value("n / d", { n: 1, d: 0 })).to.throw(RangeError);
    // A length past the safe integers is compared exactly.
    const huge = [spec("x", "uchar*", { length: "n * n" }), spec("n", "ulong")];
    expect(() => typeArguments("k", huge, [Buffer.alloc(8), 2n ** 32n])).to.throw(/needs n \* n = 18446744073709551616/);
    // A length that is one scalar's name is that scalar as given, bigint too.
    const named = [spec("x", "uchar*", { length: " n " }), spec("n", "ulong")];
    expect(() => typeArguments("k", named, [Buffer.alloc(8), 2n ** 60n])).to.throw(/holds 8 uchar elements, needs +n += 1152921504606846976/);
    expect(typeArguments("k", named, [Buffer.alloc(8), 8n])).to.have.length(2);
  });

  it("refuses out-of-range and non-integer scalars", async () => {
    const f = new Float32Array(4);
    await expectError(() => typeArguments("vector.addition", vadd, [f, f, f, 2 ** 40]), "BAD_ARGUMENT",
      /argument 3 "size" of vector\.addition expects int, got number 1099511627776: out of range -2147483648\.\.2147483647/);
    await expectError(() => typeArguments("vector.addition", vadd, [f, f, f, 2.5]), "BAD_ARGUMENT", /got number 2\.5: not an integer/);
    await expectError(() => typeArguments("vector.addition", vadd, [f, f, f, NaN]), "BAD_ARGUMENT", /not an integer/);
    await expectError(() => typeArguments("k", [spec("x", "uchar")], [256]), "BAD_ARGUMENT", /out of range 0\.\.255/);
    await expectError(() => typeArguments("k", [spec("x", "uint")], [-1]), "BAD_ARGUMENT", /out of range/);
    await expectError(() => typeArguments("k", [spec("x", "long")], [2 ** 60]), "BAD_ARGUMENT", /not a safe integer \(pass a bigint\)/);
    await expectError(() => typeArguments("k", [spec("x", "ulong")], [2n ** 64n]), "BAD_ARGUMENT", /out of range/);
    await expectError(() => typeArguments("k", [spec("x", "float")], [1n]), "BAD_ARGUMENT", /a bigint is not a floating-point value/);
    await expectError(() => typeArguments("k", [spec("x", "float")], [1e39]), "BAD_ARGUMENT", /out of range for float/);
  });

  it("encodes every scalar type little-endian, as OpenCL lays it out", () => {
    expect(bytes("char", -2)).to.deep.equal([0xfe]);
    expect(bytes("uchar", 255)).to.deep.equal([0xff]);
    expect(bytes("short", -2)).to.deep.equal([0xfe, 0xff]);
    expect(bytes("ushort", 0x1234)).to.deep.equal([0x34, 0x12]);
    expect(bytes("int", -1)).to.deep.equal([0xff, 0xff, 0xff, 0xff]);
    expect(bytes("int", 2n)).to.deep.equal([2, 0, 0, 0]);
    expect(bytes("uint", 0xdeadbeef)).to.deep.equal([0xef, 0xbe, 0xad, 0xde]);
    expect(bytes("long", -2)).to.deep.equal([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(bytes("long", -(2n ** 63n))).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0x80]);
    expect(bytes("ulong", 2n ** 64n - 1n)).to.deep.equal(Array(8).fill(0xff));
    expect(bytes("float", 1)).to.deep.equal([0, 0, 0x80, 0x3f]);
    expect(bytes("float", -0.5)).to.deep.equal([0, 0, 0, 0xbf]);
    expect(bytes("double", 1)).to.deep.equal([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  });

  it("matches every typed array to its element type", () => {
    const cases: Array<[string, ArrayBufferView]> = [
      ["float*", new Float32Array(1)], ["double*", new Float64Array(1)], ["int*", new Int32Array(1)],
      ["uint*", new Uint32Array(1)], ["short*", new Int16Array(1)], ["ushort*", new Uint16Array(1)],
      ["char*", new Int8Array(1)], ["uchar*", new Uint8Array(1)], ["uchar*", Buffer.alloc(1)],
      ["uchar*", new Uint8ClampedArray(1)], ["long*", new BigInt64Array(1)], ["ulong*", new BigUint64Array(1)],
      ["unsigned int *", new Uint32Array(1)], ["const float*", new Float32Array(1)], ["int64_t*", new BigInt64Array(1)],
    ];
    for (const [type, view] of cases) {
      expect(typeArguments("k", [spec("x", type, { access: "w", memory: 2 })], [view])[0]).to.equal(view);
    }
    expect(() => typeArguments("k", [spec("x", "char*")], [new Uint8Array(1)])).to.throw(/expects char\*, got Uint8Array/);
  });

  it("goes by what a view holds, not by what it calls itself", () => {
    class Samples extends Float32Array {}
    const samples = new Samples(1);
    expect(typeArguments("k", [spec("x", "float*")], [samples])[0]).to.equal(samples);
    const posing = Object.defineProperty(new Int32Array(1), Symbol.toStringTag, { value: "Float32Array" });
    expect(() => typeArguments("k", [spec("x", "float*")], [posing])).to.throw(/expects float\*, got Int32Array/);
    const view = Object.defineProperty(new DataView(new ArrayBuffer(4)), Symbol.toStringTag, { value: "Float32Array" });
    expect(() => typeArguments("k", [spec("x", "float*")], [view])).to.throw(/expects float\*, got DataView/);
  });
});
