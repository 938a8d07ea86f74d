// Large requests of element-wise kernels (bitstream.json `elementwise`) run
// in chunks over three OpenCL queues when their buffers move through device
// buffers: here plain arrays on PoCL (alloc()ed ones are used in place
// there, and so run whole). Each element must come out exactly once.
import path from "node:path";
import * as inaccel from "../src/index";
import { expectEach, filled } from "./helpers/arrays";
import { allInFlight } from "./helpers/in-flight";
import { FIXTURES, restoreRepositoryAfter, tempDir } from "./repository-helpers";

describe("large element-wise requests in chunks (OpenCL) on PoCL", function () {
  this.timeout(120000);
  restoreRepositoryAfter();

  it("adds vectors around and above the chunking size, among small requests in flight", async () => {
    // 700 000 floats x 3 arrays just pass 8 MiB (2 chunks); 3 000 001 is 12 chunks with a
    // short last one; 1 << 22 is 16; 600 000 and the small ones run whole.
    const sizes = [700_000, 16, 3_000_001, 600_000, 1 << 22, 5000];
    await allInFlight(12, (j) => {
      const n = sizes[j % sizes.length]!;
      const a = filled(n, (i) => (i + j) % 1013), b = filled(n, (i) => (i * 7) % 101), c = filled(n, () => -1);
      return { a, b, c, done: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)) };
    }, ({ a, b, c }, j) => expectEach(c, (i) => a[i]! + b[i]!, `request ${j}`));
  });

  it("moves only the work size's elements of arrays longer than it", async () => {
    // 2n floats are 8n bytes, a whole multiple of n: the slices must count
    // elements, not bytes over n. The elements past n stay as they were.
    const n = 1_000_000;
    const a = filled(2 * n, (i) => i % 999), b = filled(2 * n, () => 1), c = filled(2 * n, () => -1);
    await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
    expectEach(c, (i) => (i < n ? (i % 999) + 1 : -1), "c");
  });

  describe("with a fixture of its own", () => {
    before(async () => {
      process.env.INACCEL_REPOSITORY = tempDir();
      await inaccel.repository.install(path.join(FIXTURES, "chunked"));
    });

    it("updates a read-write argument in place, every element once", async () => {
      const n = 2_000_003;
      await allInFlight(4, (j) => {
        const x = filled(n, () => j + 1), y = filled(n, (i) => i % 4096);
        return { y, done: inaccel.submit(inaccel.request("chunked.accumulate").arg(x).arg(y).arg(n)) };
      }, ({ y }, j) => expectEach(y, (i) => (i % 4096) + j + 1, `request ${j}`));
    });

    it("sets a long work size per chunk", async () => {
      const n = 1_500_000;
      const x = filled(n, (i) => i % 3), y = filled(n, () => 10);
      await inaccel.submit(inaccel.request("chunked.accumulate-long").arg(x).arg(y).arg(n));
      expectEach(y, (i) => 10 + (i % 3), "y");
    });
  });
});
