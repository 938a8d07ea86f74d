// Work sizes given as expressions over a kernel's integer scalars, and
// kernels compiled for a work-group size, on PoCL: the range each request
// launches with, as the kernel itself reports it.
import path from "node:path";
import { expect } from "chai";
import * as inaccel from "../src/index";
import { expectError, FIXTURES, restoreRepositoryAfter, tempDir } from "./repository-helpers";

describe("work sizes (OpenCL) on PoCL", function () {
  this.timeout(60000);
  restoreRepositoryAfter();
  before(async () => {
    process.env.INACCEL_REPOSITORY = tempDir();
    await inaccel.repository.install(path.join(FIXTURES, "worksize"));
  });

  const range = async (accelerator: string, ...scalars: number[]): Promise<[number, number]> => {
    const out = new Int32Array(2);
    const req = inaccel.request(accelerator).arg(out);
    for (const value of scalars) req.arg(value);
    await inaccel.submit(req);
    return [out[0]!, out[1]!];
  };

  it("launches the expression's value, rounded up to whole work-groups of 64", async () => {
    // w * h / d + 1: 1, 64, 65, 301 work-items.
    expect(await range("worksize.expression", 0, 5, 2)).to.deep.equal([64, 64]);
    expect(await range("worksize.expression", 9, 14, 2)).to.deep.equal([64, 64]);
    expect(await range("worksize.expression", 8, 16, 2)).to.deep.equal([128, 64]);
    expect(await range("worksize.expression", 20, 30, 2)).to.deep.equal([320, 64]);
  });

  it("launches whole work-groups of the size a kernel was compiled for", async () => {
    expect(await range("worksize.grouped", 100)).to.deep.equal([128, 128]);
    expect(await range("worksize.grouped", 130)).to.deep.equal([256, 128]);
    expect(await range("worksize.grouped", 256)).to.deep.equal([256, 128]);
  });

  it("refuses a work size that divides by zero or asks for more than 2^32 work-items", async () => {
    const out = new Int32Array(2);
    await expectError(() => inaccel.submit(inaccel.request("worksize.expression").arg(out).arg(3).arg(4).arg(0)),
      "BAD_ARGUMENT", /: worksize\.expression: the work size "w \* h \/ d \+ 1" divides by zero$/);
    await expectError(() => inaccel.submit(inaccel.request("worksize.expression").arg(out).arg(0x7fffffff).arg(0x7fffffff).arg(1)),
      "BAD_ARGUMENT", /: worksize\.expression: the work size "w \* h \/ d \+ 1" is \d+, more than 4294967296 work-items$/);
    // A work size that is one argument is bounded the same way.
    expect(await range("worksize.long", 100)).to.deep.equal([128, 64]);
    await expectError(() => inaccel.submit(inaccel.request("worksize.long").arg(out).arg(2 ** 40)),
      "BAD_ARGUMENT", /: worksize\.long: the work size "n" is 1099511627776, more than 4294967296 work-items$/);
  });
});
