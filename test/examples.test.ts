import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./helpers/child";

// Every example runs as a user runs it (`node examples/x.mjs`, the package
// imported by its name from the built dist/) and passes its own check.
describe("examples", function () {
  this.timeout(120000);
  const examples = fs.readdirSync(path.join(ROOT, "examples")).filter((f) => f.endsWith(".mjs"));

  // The two that share the devices among processes or threads print no TIME line.
  const sharing = ["multi-process.mjs", "worker-threads.mjs"];

  it("include one per built-in accelerator and the multi-process and worker-thread ones", () => {
    expect(examples).to.include.members(["vadd.mjs", "vmul.mjs", "filter2d.mjs", "gemm.mjs", "logistic-regression.mjs", ...sharing]);
  });

  for (const example of examples) {
    it(`${example} prints PASS`, () => {
      const run = spawnSync(process.execPath, [path.join("examples", example)], { cwd: ROOT, encoding: "utf8" });
      expect(run.status, run.stdout + run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^PASS /m);
      if (!sharing.includes(example)) expect(run.stdout).to.match(/^TIME \S+ device=[\d.]+ js=[\d.]+ speedup=[\d.]+ first=[\d.]+$/m);
    });
  }
});
