// Small arguments that are not alloc()ed memory move through the OpenCL
// backend's staging areas: a batch's small inputs in one write, its small
// outputs in one read. These requests mix staged and unstaged arguments in
// one batch, overflow the areas, and read-write in place.
import path from "node:path";
import { expect } from "chai";
import * as inaccel from "../src/index";
import { cleanup, FIXTURES, tempDir } from "./repository-helpers";

describe("small arguments moved together (OpenCL staging) on PoCL", function () {
  this.timeout(120000);
  const saved = process.env.INACCEL_REPOSITORY;

  after(() => {
    if (saved === undefined) delete process.env.INACCEL_REPOSITORY;
    else process.env.INACCEL_REPOSITORY = saved;
    cleanup();
  });

  it("adds plain arrays of mixed sizes, many in flight, each into its own output", async () => {
    // 4096 floats is the largest staged size (16 KiB); 64 of them in flight
    // fill the areas, so later ones in a batch move on their own.
    const sizes = [1, 16, 1000, 4096, 4097, 20000];
    const jobs = Array.from({ length: 300 }, (_, j) => {
      const n = sizes[j % sizes.length]!;
      const a = new Float32Array(n), b = new Float32Array(n), c = new Float32Array(n).fill(-1);
      for (let i = 0; i < n; i++) {
        a[i] = (i + j) % 977;
        b[i] = j;
      }
      return { a, b, c, j, done: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)) };
    });
    for (const { a, b, c, j, done } of jobs) {
      await done;
      for (let i = 0; i < c.length; i++) {
        if (c[i] !== a[i]! + b[i]!) expect.fail(`request ${j}: c[${i}] = ${c[i]}, want ${a[i]! + b[i]!}`);
      }
    }
  });

  it("updates a read-write argument in place, many in flight", async () => {
    process.env.INACCEL_REPOSITORY = tempDir();
    await inaccel.repository.install(path.join(FIXTURES, "accumulate"));
    const jobs = Array.from({ length: 200 }, (_, j) => {
      const n = j % 2 ? 33 : 5000;
      const x = new Float32Array(n).fill(j), y = new Float32Array(n);
      y.forEach((_, i) => (y[i] = i));
      return { y, j, done: inaccel.submit(inaccel.request("staging.accumulate").arg(x).arg(y).arg(n)) };
    });
    for (const { y, j, done } of jobs) {
      await done;
      for (let i = 0; i < y.length; i++) {
        if (y[i] !== i + j) expect.fail(`request ${j}: y[${i}] = ${y[i]}, want ${i + j}`);
      }
    }
  });
});
