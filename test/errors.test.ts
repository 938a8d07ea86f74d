import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as inaccel from "../src/index";
import { runChild } from "./helpers/child";

async function rejection(promise: Promise<unknown>): Promise<inaccel.InaccelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(inaccel.InaccelError);
    return error as inaccel.InaccelError;
  }
  throw new Error("expected a rejection");
}

function vadd(n = 16) {
  return { a: inaccel.alloc(Float32Array, n), b: inaccel.alloc(Float32Array, n), c: inaccel.alloc(Float32Array, n), n };
}

describe("errors", () => {
  it("UNKNOWN_ACCELERATOR for an id no repository has", async () => {
    const error = await rejection(inaccel.submit(inaccel.request("vector.subtraction").arg(1)));
    expect(error.code).to.equal("UNKNOWN_ACCELERATOR");
    expect(error.message).to.contain("vector.addition"); // lists what exists
  });

  it("BAD_ARGUMENT for a wrong count, kind or a too-small buffer", async () => {
    const { a, b, c, n } = vadd();
    const tooFew = await rejection(inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c)));
    expect(tooFew.code).to.equal("BAD_ARGUMENT");
    const kind = await rejection(
      inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(new Int32Array(n)).arg(n)),
    );
    expect(kind.code).to.equal("BAD_ARGUMENT");
    expect(kind.message).to.contain('argument 2 "c" of vector.addition expects float*, got Int32Array');
    const small = await rejection(
      inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(new Float32Array(n - 1)).arg(n)),
    );
    expect(small.code).to.equal("BAD_ARGUMENT");
    const scalar = await rejection(inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(2 ** 40)));
    expect(scalar.code).to.equal("BAD_ARGUMENT");
    expect(() => inaccel.request("vector.addition").arg("x" as unknown as number)).to.throw(inaccel.InaccelError);
  });

  it("RELEASED when a released array is submitted; release is idempotent", async () => {
    const { a, b, c, n } = vadd();
    expect(inaccel.release(a)).to.equal(true);
    expect(inaccel.release(a)).to.equal(false);
    expect(a.length).to.equal(0);
    const error = await rejection(inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)));
    expect(error.code).to.equal("RELEASED");
    expect(inaccel.release(new Float32Array(4))).to.equal(false);
  });

  it("a request in flight keeps released memory alive", async () => {
    const { a, b, c, n } = vadd(1 << 16);
    a.fill(1);
    b.fill(2);
    const done = inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
    inaccel.release(a);
    inaccel.release(b);
    await done;
    expect(c[n - 1]).to.equal(3);
  });

  it("NO_DEVICE when asked for a device not in use", async () => {
    const { a, b, c, n } = vadd();
    const error = await rejection(
      inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n), { device: 7 }),
    );
    expect(error.code).to.equal("NO_DEVICE");
  });

  it("BAD_ARGUMENT when the device option is not an integer id", async () => {
    const { a, b, c, n } = vadd();
    for (const device of ["0", 0.5, null]) {
      const error = await rejection(
        inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n), { device: device as unknown as number }),
      );
      expect(error.code).to.equal("BAD_ARGUMENT");
      expect(error.message).to.contain("submit's device option is a device id (an integer)");
    }
  });

  it("BAD_ARGUMENT when what is submitted is not a Request", async () => {
    for (const req of [null, {}, "vector.addition"]) {
      const error = await rejection(inaccel.submit(req as unknown as inaccel.Request));
      expect(error.code).to.equal("BAD_ARGUMENT");
      expect(error.message).to.contain("submit takes a Request");
    }
  });

  it("BAD_ARGUMENT when the options are not an object", async () => {
    const { a, b, c, n } = vadd();
    for (const options of [null, 5, "device 0"]) {
      const error = await rejection(
        inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n), options as unknown as inaccel.SubmitOptions),
      );
      expect(error.code).to.equal("BAD_ARGUMENT");
      expect(error.message).to.contain("submit's options are an object");
    }
  });

  it("NO_DEVICE when INACCEL_DEVICES selects nothing", async () => {
    const child = await runChild(
      `require("./src/index").submit(require("./src/index").request("vector.addition").arg(1))
         .catch((e) => { console.log(e.code); });`,
      { INACCEL_DEVICES: "gpu" },
    );
    expect(child.stdout.trim()).to.equal("NO_DEVICE");
  });

  it("NO_DEVICE naming the OpenCL platforms that have no device, or that none is installed", async () => {
    const script = `try { require("./src/index").devices(); } catch (e) { console.log(e.message); }`;
    const empty = await runChild(script, { POCL_DEVICES: "no-such-device-kind" });
    expect(empty.stdout).to.match(/^NO_DEVICE: no accelerator device found on this host \(opencl: OpenCL platforms without a device: Portable Computing Language; xrt: /);
    const vendors = fs.mkdtempSync(path.join(os.tmpdir(), "inaccel-vendors-"));
    try {
      const none = await runChild(script, { OCL_ICD_VENDORS: vendors });
      expect(none.stdout).to.match(/^NO_DEVICE: no accelerator device found on this host \(opencl: no OpenCL platform is installed/);
    } finally {
      fs.rmSync(vendors, { recursive: true });
    }
  });

  it("NO_RUNTIME when no OpenCL library is reachable, yet the package loads", async () => {
    const child = await runChild(
      `const inaccel = require("./src/index");
       const a = inaccel.alloc(Float32Array, 4);
       try { inaccel.devices(); } catch (e) { console.log(e.code); }
       inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(a).arg(4))
         .catch((e) => console.log(e.code, e instanceof inaccel.InaccelError));`,
      { INACCEL_OPENCL_LIBRARY: "/nonexistent/libOpenCL.so.1" },
    );
    expect(child.stdout.trim().split("\n")).to.deep.equal(["NO_RUNTIME", "NO_RUNTIME true"]);
  });
});
