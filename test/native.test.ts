import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

// The C++ core is tested without V8 too: the arbiter's own multi-process,
// crash and corruption tests with a fuzzer over its state-file parser, and
// the XRT plugin against XRT's no-op shim (where XRT's headers are
// installed, as .ci/run does).
function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync("bash", [path.join(__dirname, "native", script), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  expect(result.status, result.stdout + result.stderr).to.equal(0);
  expect(result.stdout).to.match(/^\d+ passed, 0 failed$/m);
}

describe("native tests (C++, no V8)", function () {
  this.timeout(600000);

  it("arbiter: pass, and the state-file fuzzer finds nothing", () => run("run.sh", ["5"]));

  it("XRT plugin: discovery, loader, no-op shim runs, corrupt xclbins", function () {
    if (!fs.existsSync("/usr/include/xrt/xrt/xrt_device.h")) this.skip();
    run("xrt_run.sh", [], { INACCEL_REQUIRE_XRT: "1" });
  });
});
