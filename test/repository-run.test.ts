import path from "node:path";
import { expect } from "chai";
import * as inaccel from "../src/index";
import { FIXTURES, restoreRepositoryAfter, tempDir } from "./repository-helpers";
import { allInFlight } from "./helpers/in-flight";

describe("repository: installed bitstreams run on PoCL", function () {
  this.timeout(120000);
  restoreRepositoryAfter();
  before(() => {
    // The default repository reads the variable at each call.
    process.env.INACCEL_REPOSITORY = tempDir();
  });

  it("an InAccel-style folder (no checksums, `name` as array) installs and runs on PoCL", async () => {
    const installed = await inaccel.repository.install(path.join(FIXTURES, "inaccel-vadd"));
    expect(installed).to.include({ id: "com.inaccel.vector", installed: true });
    for (const n of [1, 1000, 4099]) {
      const a = inaccel.alloc(Float32Array, n);
      const b = inaccel.alloc(Float32Array, n);
      const c = inaccel.alloc(Float32Array, n);
      for (let i = 0; i < n; i++) {
        a[i] = i;
        b[i] = 2 * i + 0.5;
      }
      await inaccel.submit(inaccel.request("com.inaccel.vector.addition").arg(a).arg(b).arg(c).arg(n));
      for (let i = 0; i < n; i++) expect(c[i], `c[${i}]`).to.equal(a[i] + b[i]);
    }
  });

  it("a full-format bitstream with build options, a float scalar and a work size runs on PoCL", async () => {
    await inaccel.repository.install(path.join(FIXTURES, "scale"));
    const n = 1001;
    const x = inaccel.alloc(Float32Array, n);
    const y = inaccel.alloc(Float32Array, n);
    x.forEach((_, i) => (x[i] = i));
    await inaccel.submit(inaccel.request("fixture.scale").arg(x).arg(y).arg(0.5).arg(n));
    for (let i = 0; i < n; i++) expect(y[i], `y[${i}]`).to.equal(0.5 * i);
  });

  it("many requests in flight each keep their own scalar (more than the scalar ring holds)", async () => {
    await inaccel.repository.install(path.join(FIXTURES, "scale"));
    const n = 40;
    const x = inaccel.alloc(Float32Array, n);
    x.forEach((_, i) => (x[i] = i));
    await allInFlight(1100, (j) => {
      const y = new Float32Array(n);
      return { y, done: inaccel.submit(inaccel.request("fixture.scale").arg(x).arg(y).arg(j).arg(n)) };
    }, ({ y }, j) => {
      for (let i = 0; i < n; i++) if (y[i] !== j * i) expect.fail(`request ${j}: y[${i}] = ${y[i]}, want ${j * i}`);
    });
  });
});
