import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

// The C++ core is tested without V8 too: the arbiter's own multi-process,
// crash and corruption tests, and a fuzzer over its state-file parser.
describe("native arbiter tests (C++, no V8)", function () {
  this.timeout(300000);

  it("pass, and the state-file fuzzer finds nothing", () => {
    const run = spawnSync("bash", [path.join(__dirname, "native", "run.sh"), "5"], { encoding: "utf8" });
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^\d+ passed, 0 failed$/m);
  });
});
