// Small arguments that are not alloc()ed memory move through the OpenCL
// backend's staging areas: a batch's small inputs of one size class in one
// write, its small outputs in one read. These requests mix staged and
// unstaged arguments in one batch, fill the areas (the rest move on their
// own), and read-write in place.
import path from "node:path";
import * as inaccel from "../src/index";
import { expectEach, filled } from "./helpers/arrays";
import { allInFlight } from "./helpers/in-flight";
import { FIXTURES, restoreRepositoryAfter, tempDir } from "./repository-helpers";

describe("small arguments moved together (OpenCL staging) on PoCL", function () {
  this.timeout(120000);
  restoreRepositoryAfter();

  it("adds plain arrays of mixed sizes, many in flight, each into its own output", async () => {
    // 4096 floats is the largest staged size (16 KiB); 4097 and up move on their own.
    const sizes = [1, 16, 1000, 4096, 4097, 20000];
    await allInFlight(300, (j) => {
      const n = sizes[j % sizes.length]!;
      const a = filled(n, (i) => (i + j) % 977), b = filled(n, () => j), c = filled(n, () => -1);
      return { a, b, c, done: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)) };
    }, ({ a, b, c }, j) => expectEach(c, (i) => a[i]! + b[i]!, `request ${j}: c`));
  });

  describe("with a fixture of its own", () => {
    before(async () => {
      process.env.INACCEL_REPOSITORY = tempDir();
      await inaccel.repository.install(path.join(FIXTURES, "staging"));
    });

    it("updates a read-write argument in place, many in flight", async () => {
      await allInFlight(200, (j) => {
        const n = j % 2 ? 33 : 5000;
        const x = filled(n, () => j), y = filled(n, (i) => i);
        return { y, done: inaccel.submit(inaccel.request("staging.accumulate").arg(x).arg(y).arg(n)) };
      }, ({ y }, j) => expectEach(y, (i) => i + j, `request ${j}: y`));
    });

    it("runs a batch with more small inputs of one size than its area holds", async () => {
      // Three inputs of 64 floats per request: a full batch of 16 needs 48 slots of one size.
      await allInFlight(400, (j) => {
        const n = 64;
        const a = filled(n, (i) => i), b = filled(n, () => j), c = filled(n, () => 2 * j), s = filled(n, () => -1);
        return { s, done: inaccel.submit(inaccel.request("staging.sum3").arg(a).arg(b).arg(c).arg(s).arg(n)) };
      }, ({ s }, j) => expectEach(s, (i) => i + 3 * j, `request ${j}: s`));
    });
  });
});
