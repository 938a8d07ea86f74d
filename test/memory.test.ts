import { expect } from "chai";
import { constants } from "node:buffer";
import { spawnSync } from "node:child_process";
import * as inaccel from "../src/index";
import { ROOT, runChild } from "./helpers/child";

function failure(call: () => unknown): inaccel.InaccelError {
  try {
    call();
  } catch (error) {
    expect(error).to.be.instanceOf(inaccel.InaccelError);
    return error as inaccel.InaccelError;
  }
  throw new Error("expected a throw");
}

describe("alloc and release", () => {
  // In children: before the fix these aborted the process (a double free).
  // Where Node.js can wrap it (>= 22), one allocation of just over 4 GiB,
  // released at once.
  it("alloc past 4 GiB makes the array where Node.js can wrap it, else fails with BAD_ARGUMENT", async function () {
    this.timeout(120000);
    const wraps = 2 ** 32 + 8 <= constants.MAX_LENGTH;
    const child = await runChild(
      `const inaccel = require("./src/index");
       for (const [Ctor, length] of [[Uint8Array, 2 ** 32 + 1], ${wraps ? "" : "[Float64Array, 2 ** 29 + 1]"}]) {
         try {
           const a = inaccel.alloc(Ctor, length);
           console.log("made", a.length === length, inaccel.release(a));
         } catch (e) {
           console.log(e.code, e instanceof inaccel.InaccelError);
         }
       }`,
    );
    expect(child.signal).to.equal(null);
    expect(child.code, child.stderr).to.equal(0);
    expect(child.stdout.trim().split("\n")).to.deep.equal(wraps ? ["made true true"] : ["BAD_ARGUMENT true", "BAD_ARGUMENT true"]);
  });

  // Past the JS checks, the addon's own. (Past MAX_LENGTH, which alloc()
  // refuses first, it also fails cleanly.)
  it("the addon's alloc refuses sizes that are no byte count, without aborting", async function () {
    this.timeout(120000);
    const child = await runChild(
      `const { native } = require("./src/native");
       for (const bytes of [-4, NaN, 0.5, 2 ** 62]) {
         try {
           native().alloc(bytes);
           console.log("made");
         } catch (e) {
           console.log(e.code);
         }
       }`,
    );
    expect(child.signal).to.equal(null);
    expect(child.code, child.stderr).to.equal(0);
    expect(child.stdout.trim().split("\n")).to.deep.equal(Array(4).fill("BAD_ARGUMENT"));
  });

  // In a child, whose resident memory is its own to read.
  it("alloc gives zero-filled memory, a large block holding pages only once written", async function () {
    this.timeout(120000);
    const child = await runChild(
      `const fs = require("node:fs");
       const inaccel = require("./src/index");
       const rss = () => Number(fs.readFileSync("/proc/self/statm", "utf8").split(" ")[1]) * 4096;
       // Small blocks come from the heap: one written and released is not seen again.
       for (const length of [100, 4096, 2 ** 19]) {
         const dirty = inaccel.alloc(Uint8Array, length).fill(0xff);
         inaccel.release(dirty);
         console.log(length, inaccel.alloc(Uint8Array, length).every((x) => x === 0));
       }
       const before = rss();
       const big = inaccel.alloc(Uint8Array, 2 ** 30);
       let zero = true;
       for (let i = 0; i < big.length; i += 4096) zero = zero && big[i] === 0;
       const untouched = rss() - before;
       big.fill(7, 0, 2 ** 24);
       console.log("big", zero, untouched < 2 ** 26, rss() - before >= 2 ** 24, big[2 ** 24 - 1], big[2 ** 24]);`,
    );
    expect(child.code, child.stderr).to.equal(0);
    expect(child.stdout.trim().split("\n")).to.deep.equal(["100 true", "4096 true", "524288 true", "big true true true 7 0"]);
  });

  it("BAD_ARGUMENT for a constructor whose BYTES_PER_ELEMENT is no positive integer", () => {
    for (const size of [-4, 0, NaN, 1.5, Infinity]) {
      const Ctor = class extends Uint8Array {
        static override readonly BYTES_PER_ELEMENT = size;
      };
      expect(failure(() => inaccel.alloc(Ctor, 1)).code).to.equal("BAD_ARGUMENT");
    }
  });

  it("DEVICE_ERROR, an InaccelError, when the host memory cannot be had", () => {
    // 2 GiB of address space in all: too little for a 2 GiB array.
    // --jitless: no WebAssembly, whose reservations (tsx's) need more.
    const script = `const inaccel = require("./src/index");
      try {
        inaccel.alloc(Uint8Array, 2 ** 31);
        console.log("made");
      } catch (e) {
        console.log(e.code, e instanceof inaccel.InaccelError, e.message);
      }`;
    const child = spawnSync("bash", ["-c", `ulimit -v ${2 ** 21} && exec "$0" --jitless --require tsx/cjs -e "$1"`, process.execPath, script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(child.status, child.stderr).to.equal(0);
    expect(child.stdout.trim()).to.equal("DEVICE_ERROR true DEVICE_ERROR: out of host memory");
  });

  it("BAD_ARGUMENT for a constructor that cannot view the memory", () => {
    const Ctor = class {
      static readonly BYTES_PER_ELEMENT = 4;
      readonly byteLength = 0;
      constructor() {
        throw new RangeError("no view");
      }
    } as unknown as inaccel.TypedArrayConstructor<Float32Array>;
    const error = failure(() => inaccel.alloc(Ctor, 4));
    expect(error.code).to.equal("BAD_ARGUMENT");
    expect(error.cause).to.be.instanceOf(RangeError);
  });

  it("release: BAD_ARGUMENT for what is not an array, false for an array not from alloc", () => {
    for (const value of [null, undefined, 42, {}, "a"]) {
      const error = failure(() => inaccel.release(value as unknown as Float32Array));
      expect(error.code).to.equal("BAD_ARGUMENT");
      expect(error.message).to.contain("release takes an array from alloc");
    }
    expect(inaccel.release(new Float32Array(4))).to.equal(false);
    expect(inaccel.release(new Float32Array(new SharedArrayBuffer(16)))).to.equal(false);
  });

  it("an empty alloc is released once, then submits as RELEASED", async () => {
    const empty = inaccel.alloc(Float32Array, 0);
    expect(empty.length).to.equal(0);
    expect(inaccel.release(empty)).to.equal(true);
    expect(inaccel.release(empty)).to.equal(false);
    const a = inaccel.alloc(Float32Array, 4);
    try {
      await inaccel.submit(inaccel.request("vector.addition").arg(empty).arg(a).arg(a).arg(0));
      expect.fail("expected a rejection");
    } catch (error) {
      expect((error as inaccel.InaccelError).code).to.equal("RELEASED");
    }
  });

  // Views that do not start at their block's start (a subarray at an
  // offset): released right after submit, the block must stay the
  // request's; else its memory is freed, handed to the arrays allocated
  // next, and the device reads and writes those.
  it("a request in flight holds the block of views at an offset into it", async () => {
    const n = 1 << 16;
    const k = 1024 + 3;
    const others = () => Array.from({ length: 8 }, () => inaccel.alloc(Float32Array, k + 2 * n).fill(7));
    const untouched = (arrays: Float32Array[]) => arrays.every((o) => o.every((x) => x === 7));

    // Inputs at an offset, released.
    const inputs = inaccel.alloc(Float32Array, k + 2 * n);
    const a = inputs.subarray(k, k + n).map((_, i) => i);
    const b = inputs.subarray(k + n).fill(1);
    const out = inaccel.alloc(Float32Array, k + n);
    const c = out.subarray(k);
    let done = inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
    expect(inaccel.release(inputs)).to.equal(true);
    let filled = others();
    await done;
    expect(c.every((x, i) => x === i + 1)).to.equal(true);
    expect(untouched(filled)).to.equal(true);

    // The output at an offset, released.
    const more = inaccel.alloc(Float32Array, 2 * n).fill(2);
    done = inaccel.submit(inaccel.request("vector.addition").arg(more.subarray(0, n)).arg(more.subarray(n)).arg(out.subarray(k)).arg(n));
    expect(inaccel.release(out)).to.equal(true);
    filled = others();
    await done;
    expect(untouched(filled)).to.equal(true);
  });

  it("a view at an offset into an alloc()ed block passes its own elements, not the block's first", async () => {
    const n = 4096;
    const base = inaccel.alloc(Float32Array, 3 * n + 5);
    const a = base.subarray(5, 5 + n).map((_, i) => i);
    const b = base.subarray(5 + n, 5 + 2 * n).fill(10);
    const c = base.subarray(5 + 2 * n);
    await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
    expect(c.every((x, i) => x === i + 10)).to.equal(true);
    expect(base.subarray(0, 5).every((x) => x === 0)).to.equal(true);
    expect(a.every((x, i) => x === i)).to.equal(true);
  });
});

// Resizable buffers are ES2024, newer than this package's lib.
type Sized = { maxByteLength: number };
const ResizableArrayBuffer = ArrayBuffer as unknown as new (bytes: number, options: Sized) => ArrayBuffer;
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (bytes: number, options: Sized) => SharedArrayBuffer & { grow(bytes: number): void };

describe("argument memory", () => {
  const n = 1 << 16;

  // Shrunk while its request was in flight, such an array crashed the
  // process (the device read and wrote memory given back).
  it("BAD_ARGUMENT for an array over a resizable ArrayBuffer, fixed-length or length-tracking", async () => {
    const b = new Float32Array(n);
    const c = new Float32Array(n);
    const resizable = new ResizableArrayBuffer(4 * n, { maxByteLength: 8 * n });
    for (const a of [new Float32Array(resizable, 0, n), new Float32Array(resizable)]) {
      for (const args of [[a, b, c], [b, b, a]]) {
        try {
          await inaccel.submit(inaccel.request("vector.addition").arg(args[0]).arg(args[1]).arg(args[2]).arg(n));
          expect.fail("expected a rejection");
        } catch (error) {
          expect(error).to.be.instanceOf(inaccel.InaccelError);
          expect((error as inaccel.InaccelError).code).to.equal("BAD_ARGUMENT");
          expect((error as inaccel.InaccelError).message).to.contain("resizable ArrayBuffer");
        }
      }
    }
  });

  it("an array over a growable SharedArrayBuffer runs, grown while in flight", async () => {
    const shared = new GrowableSharedArrayBuffer(4 * n, { maxByteLength: 8 * n });
    const a = new Float32Array(shared, 0, n).map((_, i) => i);
    const c = new Float32Array(n);
    const done = inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(c).arg(n));
    shared.grow(8 * n);
    await done;
    expect(c.every((x, i) => x === 2 * i)).to.equal(true);
  });
});
