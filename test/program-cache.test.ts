import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { runChild } from "./helpers/child";

// The on-disk cache of built OpenCL programs (addon/runtime/opencl/program_cache.cc),
// damaged between processes: each later process must rebuild and overwrite
// the entry, not hand the damaged bytes to the driver (a crash in PoCL).
const CACHE = path.join(process.env.INACCEL_TEST_ROOT!, "program-cache");
const PROGRAMS = path.join(CACHE, "programs");
const MAGIC = "inaccel program cache 2\n";

const VADD = `
  const inaccel = require("./src/index");
  const n = 1000, a = inaccel.alloc(Float32Array, n), b = inaccel.alloc(Float32Array, n), c = inaccel.alloc(Float32Array, n);
  for (let i = 0; i < n; i++) { a[i] = i; b[i] = 2 * i; }
  inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)).then(() => {
    for (let i = 0; i < n; i++) if (c[i] !== 3 * i) throw new Error("c[" + i + "] = " + c[i]);
    console.log("ok");
  });
`;

async function vaddChild(): Promise<void> {
  const run = await runChild(VADD, { INACCEL_CACHE_DIR: CACHE });
  expect(run.signal, run.stderr).to.equal(null);
  expect(run.code, run.stderr).to.equal(0);
  expect(run.stdout.trim()).to.equal("ok");
}

function entries(): string[] {
  return fs.readdirSync(PROGRAMS).filter((name) => name.endsWith(".bin")).map((name) => path.join(PROGRAMS, name));
}

/** The addon's FNV-1a, with its offset basis (not the textbook 14695981039346656037). */
function fnv1a(bytes: Uint8Array): bigint {
  let hash = 1469598103934665603n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash;
}

/** Checks an entry's layout: magic, key, NUL, length and checksum (uint64, host order), binary. */
function expectValid(file: string): void {
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, MAGIC.length).toString("latin1")).to.equal(MAGIC);
  const keyEnd = bytes.indexOf(0, MAGIC.length);
  expect(keyEnd, "the key's NUL").to.be.greaterThan(MAGIC.length);
  const read = (at: number) => (os.endianness() === "LE" ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const binary = bytes.subarray(keyEnd + 17);
  expect(read(keyEnd + 1), "length").to.equal(BigInt(binary.length));
  expect(read(keyEnd + 9), "checksum").to.equal(fnv1a(binary));
}

describe("program cache: a damaged entry is a miss, rebuilt and rewritten", function () {
  this.timeout(120000);
  let built: string[];

  before(async () => {
    await vaddChild();
    built = entries();
    expect(built).to.not.be.empty;
  });

  const damages: [string, (file: string) => void][] = [
    ["truncated to half", (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))],
    ["zeroed from its middle on", (file) => {
      const size = fs.statSync(file).size;
      const fd = fs.openSync(file, "r+");
      fs.writeSync(fd, Buffer.alloc(size - Math.floor(size / 2)), 0, undefined, Math.floor(size / 2));
      fs.closeSync(fd);
    }],
    ["garbled in 64 bytes of its middle", (file) => {
      const bytes = fs.readFileSync(file);
      const middle = Math.floor(bytes.length / 2);
      for (let i = middle; i < middle + 64; i++) bytes[i] = bytes[i]! ^ 0xa5;
      fs.writeFileSync(file, bytes);
    }],
  ];
  for (const [what, damage] of damages) {
    it(`runs vector.addition correctly with the cached entry ${what}, and leaves it valid`, async () => {
      for (const file of built) damage(file);
      await vaddChild();
      expect(entries()).to.have.members(built);
      for (const file of built) expectValid(file);
    });
  }
});
