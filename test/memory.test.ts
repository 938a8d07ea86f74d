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

  // Past the JS checks: where Node.js < 22 fails to wrap the block (just
  // over 4 GiB, made and freed at once), the addon's own handling.
  it("the addon's alloc refuses sizes it cannot wrap or that are no byte count, without aborting", async function () {
    this.timeout(120000);
    const child = await runChild(
      `const { native } = require("./src/native");
       for (const bytes of [require("node:buffer").constants.MAX_LENGTH + 1, -4, NaN, 0.5, 2 ** 62]) {
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
    expect(child.stdout.trim().split("\n")).to.deep.equal(Array(5).fill("BAD_ARGUMENT"));
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
});
