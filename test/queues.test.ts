// Large requests of kernels that are not element-wise go round the OpenCL
// backend's queues, a request per queue, when their buffers move through
// device buffers (plain arrays on PoCL; alloc()ed ones are used in place
// there). One device, many in flight, so that they share batches with
// small requests that stay on the first queue with their staged arguments.
import { expect } from "chai";
import path from "node:path";
import * as inaccel from "../src/index";
import * as reference from "../src/reference";
import { expectEach, filled } from "./helpers/arrays";
import { allInFlight } from "./helpers/in-flight";
import { FIXTURES, restoreRepositoryAfter, tempDir } from "./repository-helpers";

const random = reference.seededRandom(20261126);

describe("large requests a queue each (OpenCL) on PoCL", function () {
  this.timeout(120000);
  restoreRepositoryAfter();

  it("runs built-in gemm and filter2d on plain arrays beside small requests, each output right", async () => {
    // Every array is made before the first submit, so that requests queue up
    // behind the first and go to the device in batches.
    type Job = { start: () => Promise<unknown>; check: () => reference.Comparison };
    const jobs = Array.from({ length: 18 }, (_, j): Job => {
      if (j % 3 === 0) {
        const size = 300 + j;  // 3 x ~1.1 MB
        const A = Float32Array.from({ length: size * size }, () => random() - 0.5);
        const B = Float32Array.from({ length: size * size }, () => random() - 0.5);
        const C = new Float32Array(size * size).fill(-1);
        return {
          start: () => inaccel.submit(inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(size).arg(size).arg(size), { device: 0 }),
          check: () => reference.compareClose(C, reference.gemm(A, B, size, size, size), reference.SUM_TOLERANCE),
        };
      }
      if (j % 3 === 1) {
        const width = 1024 + j, height = 700, ksize = 5;  // 2 x ~0.7 MB
        const coeffs = Int16Array.from({ length: ksize * ksize }, (_, i) => (i % 7) - 3);
        const src = Uint8Array.from({ length: width * height }, () => Math.floor(random() * 256));
        const dst = new Uint8Array(width * height).fill(7);
        return {
          start: () => inaccel.submit(inaccel.request("image.filter2d").arg(coeffs).arg(ksize).arg(0.1).arg(j).arg(width).arg(height).arg(src).arg(dst), { device: 0 }),
          check: () => reference.compareExact(dst, reference.filter2d(coeffs, ksize, 0.1, j, width, height, src)),
        };
      }
      const a = filled(16, (i) => i + j), b = filled(16, () => j), c = filled(16, () => -1);
      return {
        start: () => inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(16), { device: 0 }),
        check: () => reference.compareExact(c, reference.vectorAddition(a, b, 16)),
      };
    });
    await allInFlight(jobs.length, (j) => ({ ...jobs[j]!, done: jobs[j]!.start() }), (job, j) => {
      const comparison = job.check();
      expect(comparison.ok, `request ${j}: ${comparison.summary}`).to.equal(true);
    });
  });

  describe("with a fixture of its own", () => {
    before(async () => {
      process.env.INACCEL_REPOSITORY = tempDir();
      await inaccel.repository.install(path.join(FIXTURES, "staging"));
    });

    it("updates large read-write arguments in place beside small ones", async () => {
      const data = Array.from({ length: 24 }, (_, j) => {
        const n = j % 2 ? 33 : 300_001 + j;
        return { n, x: filled(n, () => j), y: filled(n, (i) => i % 1000) };
      });
      await allInFlight(data.length, (j) => {
        const { n, x, y } = data[j]!;
        return { y, done: inaccel.submit(inaccel.request("staging.accumulate").arg(x).arg(y).arg(n), { device: 0 }) };
      }, ({ y }, j) => expectEach(y, (i) => (i % 1000) + j, `request ${j}: y`));
    });
  });
});
