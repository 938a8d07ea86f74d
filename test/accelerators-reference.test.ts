// The JavaScript references themselves, on cases worked out by hand, so
// that the device tests compare against something known to be right.
import { expect } from "chai";
import { Repository } from "../src/repository";
import * as reference from "../src/reference";

describe("accelerator references", () => {
  it("roundHalfAway rounds halves away from zero, unlike Math.round", () => {
    expect([2.5, -2.5, 0.5, -0.5, 1.49, -1.51, 3].map(reference.roundHalfAway)).to.deep.equal([3, -3, 1, -1, 1, -2, 3]);
    expect(Math.round(-2.5)).to.equal(-2);
  });

  it("saturateUchar clamps to 0..255 and makes NaN 0", () => {
    expect([-3, 0, 17, 255, 256, NaN, Infinity].map(reference.saturateUchar)).to.deep.equal([0, 0, 17, 255, 255, 0, 255]);
  });

  it("filter2d: a 3x3 box over a 3x3 image, zero outside", () => {
    const out = reference.filter2d(new Int16Array(9).fill(1), 3, 1 / 9, 0, 3, 3, new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9, 9]));
    expect([...out]).to.deep.equal([4, 6, 4, 6, 9, 6, 4, 6, 4]);
  });

  it("filter2d: an off-centre tap shifts the image; bias and clamping apply", () => {
    const right = new Int16Array(9);
    right[5] = 1; // coeffs[1][2]: out(y,x) = src(y, x+1)
    const src = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect([...reference.filter2d(right, 3, 1, 0, 3, 2, src)]).to.deep.equal([2, 3, 0, 5, 6, 0]);
    expect([...reference.filter2d(right, 3, 100, -100, 3, 2, src)]).to.deep.equal([100, 200, 0, 255, 255, 0]);
  });

  it("filter2d: float multiply then add, each rounded to float (no fma)", () => {
    // 75 * 0.02f = 1.4999999664... rounds to 1.5f; 1.5 - 1 = 0.5 rounds to 1.
    expect([...reference.filter2d(new Int16Array([1]), 1, 0.02, -1, 1, 1, new Uint8Array([75]))]).to.deep.equal([1]);
  });

  it("gemm of small matrices", () => {
    const C = reference.gemm(new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([7, 8, 9, 10, 11, 12]), 2, 2, 3);
    expect([...C]).to.deep.equal([58, 64, 139, 154]);
  });

  it("logistic-regression gradients of a tiny set", () => {
    // w = 0: sigmoid is 1/2 everywhere, errors are 1/2 - label.
    const X = new Float32Array([1, 0, 0, 1, 1, 1]);
    const grad = reference.logisticRegressionGradients(X, new Float32Array([1, 0, 1]), new Float32Array(2), 3, 2);
    expect(grad[0]).to.be.closeTo(-1 / 3, 1e-7);
    expect(grad[1]).to.equal(0);
    // One sample x = 2, label 0, w = ln 3: sigmoid(2 ln 3) = 9/10, gradient 2 * 9/10.
    const one = reference.logisticRegressionGradients(new Float32Array([2]), new Float32Array([0]), new Float32Array([Math.log(3)]), 1, 1);
    expect(one[0]).to.be.closeTo(1.8, 1e-6);
  });

  it("compareClose judges errors at the scale of the whole output, NaN only against NaN", () => {
    expect(reference.compareClose([1000, 0.001], [1000, 0], 1e-5).ok).to.equal(true);
    expect(reference.compareClose([1000, 0.1], [1000, 0], 1e-5).ok).to.equal(false);
    expect(reference.compareClose([NaN], [NaN], 1e-5).ok).to.equal(true);
    expect(reference.compareClose([NaN], [1], 1e-5).ok).to.equal(false);
    expect(reference.compareExact([1, 2], [1, 3]).summary).to.equal("1 of 2 differ, first [1] = 2, want 3");
  });

  it("seededRandom repeats its sequence for a seed", () => {
    const a = reference.seededRandom(7), b = reference.seededRandom(7);
    const draws = Array.from({ length: 5 }, () => a());
    expect(draws).to.deep.equal(Array.from({ length: 5 }, () => b()));
    for (const x of draws) expect(x).to.be.within(0, 1);
  });
});

describe("built-in accelerator folders", () => {
  it("verify (metadata and sha256) and provide the accelerators the references cover", () => {
    const repository = new Repository();
    const builtin = repository.verify().filter((result) => result.readOnly && /^(image|ml|linalg|vector)@/.test(result.bitstream));
    expect(builtin.map((result) => result.bitstream).sort()).to.deep.equal(["image@1.0.0", "linalg@1.1.0", "ml@1.0.0", "vector@1.0.0"]);
    for (const result of builtin) expect(result.problems, result.bitstream).to.deep.equal([]);
    const accelerators = repository.list().filter((summary) => summary.readOnly).flatMap((summary) => summary.accelerators);
    expect(accelerators).to.include.members(Object.keys(reference.TRIALS));
  });
});
