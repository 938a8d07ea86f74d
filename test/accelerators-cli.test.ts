// `inaccel run <accelerator>`: a smoke test on random data, checked against
// the JavaScript reference.
import { expect } from "chai";
import * as inaccel from "../src/index";
import { runTrial } from "../src/cli/run";
import { TRIALS } from "../src/reference";
import { cli } from "./repository-helpers";

describe("inaccel run", () => {
  const sizes: Record<string, number> = {
    "vector.addition": 1001, "vector.multiplication": 1, "image.filter2d": 97, "ml.logisticregression.gradients": 333, "linalg.gemm": 71,
  };

  it("knows every built-in accelerator", () => {
    expect(Object.keys(TRIALS).sort()).to.deep.equal(Object.keys(sizes).sort());
  });

  for (const [accelerator, size] of Object.entries(sizes)) {
    it(`passes ${accelerator} --size ${size} on each device`, async () => {
      for (const device of [0, 1]) {
        const outcome = await runTrial(accelerator, { size, device, seed: 11 });
        expect(outcome.ok, outcome.line).to.equal(true);
        expect(outcome.line).to.match(new RegExp(`^PASS ${accelerator.replace(/\./g, "\\.")} .* on device ${device} .*; seed 11$`));
      }
    });
  }

  it("refuses an accelerator it has no reference for", async () => {
    try {
      await runTrial("vector.subtraction");
      expect.fail("expected UNKNOWN_ACCELERATOR");
    } catch (error) {
      expect((error as inaccel.InaccelError).code).to.equal("UNKNOWN_ACCELERATOR");
      expect((error as Error).message).to.contain("linalg.gemm");
    }
  });

  it("runs from the command line, exit code 0 on PASS, 1 on errors", async () => {
    const pass = cli(["run", "linalg.gemm", "--size", "33", "--seed", "5"]);
    expect(pass.status, pass.stderr).to.equal(0);
    expect(pass.stdout).to.match(/^PASS linalg\.gemm 33x33x33 on device \d .* ms.*; seed 5\n$/);
    const unknown = cli(["run", "nothing.here"]);
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.contain("UNKNOWN_ACCELERATOR");
    const badSize = cli(["run", "linalg.gemm", "--size", "0"]);
    expect(badSize.status).to.not.equal(0);
    expect(badSize.stderr).to.contain("expected an integer >= 1");
  });
});
