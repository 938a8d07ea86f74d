// Bad arguments to the built-in accelerators are refused before anything
// runs, with BAD_ARGUMENT naming the argument: wrong element type, a buffer
// smaller than its `length` expression or a negative length, a scalar of the
// wrong kind or range, a wrong count.
import { expect } from "chai";
import * as inaccel from "../src/index";

async function refusal(req: inaccel.Request): Promise<string> {
  try {
    await inaccel.submit(req);
  } catch (error) {
    expect(error).to.be.instanceOf(inaccel.InaccelError);
    expect((error as inaccel.InaccelError).code).to.equal("BAD_ARGUMENT");
    return (error as Error).message;
  }
  throw new Error("expected BAD_ARGUMENT");
}

describe("built-in accelerators refuse bad arguments", () => {
  const filter = (over: { coeffs?: ArrayBufferView; ksize?: number; bias?: number; src?: ArrayBufferView; dst?: ArrayBufferView } = {}) =>
    inaccel.request("image.filter2d")
      .arg(over.coeffs ?? new Int16Array(9)).arg(over.ksize ?? 3).arg(0.5).arg(over.bias ?? 0)
      .arg(4).arg(3).arg(over.src ?? new Uint8Array(12)).arg(over.dst ?? new Uint8Array(12));

  it("image.filter2d: wrong element types", async () => {
    expect(await refusal(filter({ coeffs: new Int32Array(9) }))).to.contain('argument 0 "coeffs" of image.filter2d expects short*, got Int32Array');
    expect(await refusal(filter({ src: new Int8Array(12) }))).to.contain('argument 6 "src" of image.filter2d expects uchar*, got Int8Array');
    expect(await refusal(filter({ dst: new Float32Array(12) }))).to.contain('argument 7 "dst" of image.filter2d expects uchar*, got Float32Array');
  });

  it("image.filter2d: buffers smaller than ksize*ksize or width*height", async () => {
    expect(await refusal(filter({ coeffs: new Int16Array(8) }))).to.contain('argument 0 "coeffs" of image.filter2d holds 8 short elements, needs ksize*ksize = 9');
    expect(await refusal(filter({ ksize: 5 }))).to.contain("needs ksize*ksize = 25");
    expect(await refusal(filter({ src: new Uint8Array(11) }))).to.contain('argument 6 "src" of image.filter2d holds 11 uchar elements, needs width*height = 12');
    expect(await refusal(filter({ dst: Buffer.alloc(11) }))).to.contain('argument 7 "dst"');
  });

  it("image.filter2d: scalars of the wrong kind or out of range", async () => {
    expect(await refusal(filter({ bias: 40000 }))).to.contain('argument 3 "bias" of image.filter2d expects short, got number 40000');
    expect(await refusal(filter({ ksize: 2.5 }))).to.contain('argument 1 "ksize" of image.filter2d expects int, got number 2.5: not an integer');
    const buffer = inaccel.request("image.filter2d").arg(new Int16Array(9)).arg(new Int32Array(1));
    expect(await refusal(buffer)).to.contain("takes 8 arguments");
  });

  it("a float scalar takes NaN; an integer one refuses it", async () => {
    // One weight of 1 in the middle of a 3x3 kernel: dst = src * factor + bias, saturated (NaN to 0).
    const coeffs = new Int16Array(9);
    coeffs[4] = 1;
    const run = async (factor: number) => {
      const dst = new Uint8Array(12).fill(99);
      await inaccel.submit(inaccel.request("image.filter2d").arg(coeffs).arg(3).arg(factor).arg(7).arg(4).arg(3)
        .arg(new Uint8Array(12).fill(10)).arg(dst));
      return [...new Set(dst)];
    };
    expect(await run(2)).to.deep.equal([27]);
    expect(await run(NaN)).to.deep.equal([0]);
    expect(await refusal(filter({ ksize: NaN }))).to.contain('argument 1 "ksize" of image.filter2d expects int, got number NaN: not an integer');
  });

  it("ml.logisticregression.gradients: wrong types and sizes", async () => {
    const gradients = (X: ArrayBufferView, labels: ArrayBufferView, grad: ArrayBufferView) =>
      inaccel.request("ml.logisticregression.gradients").arg(X).arg(labels).arg(new Float32Array(3)).arg(grad).arg(10).arg(3);
    const f = (n: number) => new Float32Array(n);
    expect(await refusal(gradients(new Float64Array(30), f(10), f(3)))).to.contain('argument 0 "X" of ml.logisticregression.gradients expects float*, got Float64Array');
    expect(await refusal(gradients(f(29), f(10), f(3)))).to.contain("needs n*d = 30");
    expect(await refusal(gradients(f(30), new Uint8Array(10), f(3)))).to.contain('argument 1 "labels"');
    expect(await refusal(gradients(f(30), f(9), f(3)))).to.contain("needs n = 10");
    expect(await refusal(gradients(f(30), f(10), f(2)))).to.contain('argument 3 "grad" of ml.logisticregression.gradients holds 2 float elements, needs d = 3');
  });

  it("linalg.gemm: wrong types, sizes and counts", async () => {
    const f = (n: number) => new Float32Array(n);
    const gemm = (A: ArrayBufferView, B: ArrayBufferView, C: ArrayBufferView) =>
      inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(2).arg(3).arg(4);
    expect(await refusal(gemm(new Int32Array(8), f(12), f(6)))).to.contain('argument 0 "A" of linalg.gemm expects float*, got Int32Array');
    expect(await refusal(gemm(f(7), f(12), f(6)))).to.contain("needs M*K = 8");
    expect(await refusal(gemm(f(8), f(11), f(6)))).to.contain("needs K*N = 12");
    expect(await refusal(gemm(f(8), f(12), f(5)))).to.contain('argument 2 "C" of linalg.gemm holds 5 float elements, needs M*N = 6');
    expect(await refusal(inaccel.request("linalg.gemm").arg(f(8)).arg(f(12)).arg(f(6)).arg(2).arg(3).arg(4).arg(5))).to.contain("takes 6 arguments");
    expect(await refusal(inaccel.request("linalg.gemm").arg(f(8)).arg(f(12)).arg(f(6)).arg(2).arg(3).arg(f(1)))).to.contain('argument 5 "K" of linalg.gemm expects int, got Float32Array');
  });

  it("negative lengths", async () => {
    const f = (n: number) => new Float32Array(n);
    expect(await refusal(inaccel.request("vector.addition").arg(f(4)).arg(f(4)).arg(f(4)).arg(-1)))
      .to.contain('argument 0 "a" of vector.addition needs size = -1 elements: a length cannot be negative');
    // Two negative factors make a positive product: the other lengths still catch it.
    expect(await refusal(inaccel.request("linalg.gemm").arg(f(8)).arg(f(12)).arg(f(6)).arg(-2).arg(3).arg(-4)))
      .to.contain('argument 1 "B" of linalg.gemm needs K*N = -12 elements');
  });
});
