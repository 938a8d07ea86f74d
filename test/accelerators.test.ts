// The built-in accelerators on PoCL's two devices, each against its
// JavaScript reference (src/reference), at awkward sizes: 1 element, sizes
// that are no multiple of any work-group size, shapes thinner than the
// kernel, and large ones.
import { expect } from "chai";
import * as inaccel from "../src/index";
import * as reference from "../src/reference";

const random = reference.seededRandom(20240601);
const DEVICES = [0, 1];

function floats(length: number, low = 0, high = 1): Float32Array {
  const array = inaccel.alloc(Float32Array, length);
  for (let i = 0; i < length; i++) array[i] = low + (high - low) * random();
  return array;
}

function bytes(length: number): Uint8Array {
  const array = inaccel.alloc(Uint8Array, length);
  for (let i = 0; i < length; i++) array[i] = Math.floor(random() * 256);
  return array;
}

function shorts(length: number, low: number, high: number): Int16Array {
  const array = inaccel.alloc(Int16Array, length);
  for (let i = 0; i < length; i++) array[i] = low + Math.floor(random() * (high - low + 1));
  return array;
}

function expectOk(comparison: reference.Comparison): void {
  expect(comparison.ok, comparison.summary).to.equal(true);
}

async function filter2d(
  coeffs: Int16Array, ksize: number, factor: number, bias: number, width: number, height: number,
  src: Uint8Array, device: number,
): Promise<Uint8Array> {
  const dst = inaccel.alloc(Uint8Array, width * height).fill(7);
  const req = inaccel.request("image.filter2d").arg(coeffs).arg(ksize).arg(factor).arg(bias).arg(width).arg(height).arg(src).arg(dst);
  const result = await inaccel.submit(req, { device });
  expect(result.device.id).to.equal(device);
  return dst;
}

describe("built-in accelerators on PoCL", () => {
  describe("vector.multiplication", () => {
    for (const n of [1, 63, 65, 1000003]) {
      it(`multiplies ${n} floats on both devices`, async () => {
        for (const device of DEVICES) {
          const a = floats(n, -10, 10), b = floats(n, -10, 10), c = floats(n);
          await inaccel.submit(inaccel.request("vector.multiplication").arg(a).arg(b).arg(c).arg(n), { device });
          expectOk(reference.compareExact(c, reference.vectorMultiplication(a, b, n)));
        }
      });
    }
  });

  describe("image.filter2d", () => {
    const shapes: Array<[width: number, height: number, ksize: number]> = [
      [1, 1, 1], [1, 1, 15], [3, 2, 5], [65, 1, 3], [1, 65, 7], [63, 17, 15], [130, 67, 9], [1001, 777, 7],
    ];
    for (const [width, height, ksize] of shapes) {
      it(`filters ${width}x${height} with ksize ${ksize} bit-exactly on both devices`, async () => {
        const coeffs = shorts(ksize * ksize, -300, 300);
        const src = bytes(width * height);
        const factor = (2 * random()) / (ksize * ksize * 64);
        const bias = Math.floor(random() * 256) - 64;
        const want = reference.filter2d(coeffs, ksize, factor, bias, width, height, src);
        for (const device of DEVICES) {
          expectOk(reference.compareExact(await filter2d(coeffs, ksize, factor, bias, width, height, src, device), want));
        }
      });
    }

    it("reads pixels outside the image as 0 and saturates at 0 and 255", async () => {
      const ones = inaccel.alloc(Int16Array, 9).fill(1);
      const src = inaccel.alloc(Uint8Array, 9).fill(10);
      const box = await filter2d(ones, 3, 1, 0, 3, 3, src, 0);
      expect([...box]).to.deep.equal([40, 60, 40, 60, 90, 60, 40, 60, 40]);
      const bright = await filter2d(ones, 3, 100, 0, 3, 3, src, 1);
      expect([...bright]).to.deep.equal(new Array(9).fill(255));
      const dark = await filter2d(ones, 3, 1, -32768, 3, 3, src, 1);
      expect([...dark]).to.deep.equal(new Array(9).fill(0));
    });

    it("rounds halves away from zero, after float multiply and add without fma", async () => {
      const identity = inaccel.alloc(Int16Array, 1).fill(1);
      const src = inaccel.alloc(Uint8Array, 4);
      src.set([1, 3, 5, 255]);
      expect([...await filter2d(identity, 1, 0.5, 0, 4, 1, src, 0)]).to.deep.equal([1, 2, 3, 128]);
      // 75 * 0.02f rounds to 1.5f in float, then - 1 is 0.5 and rounds to 1;
      // a fused multiply-add would give 0.49999997 and round to 0.
      src.set([75, 75, 75, 75]);
      for (const device of DEVICES) expect([...await filter2d(identity, 1, 0.02, -1, 4, 1, src, device)]).to.deep.equal([1, 1, 1, 1]);
    });

    it("filters the Y, U and V planes of a frame at once, spread over the devices", async () => {
      const planes = [[352, 288], [176, 144], [176, 144]] as const;
      const coeffs = shorts(25, -20, 60);
      const jobs = planes.flatMap(([width, height]) => Array.from({ length: 4 }, () => {
        const src = bytes(width * height), dst = inaccel.alloc(Uint8Array, width * height);
        const req = inaccel.request("image.filter2d").arg(coeffs).arg(5).arg(1 / 256).arg(16).arg(width).arg(height).arg(src).arg(dst);
        return { want: reference.filter2d(coeffs, 5, 1 / 256, 16, width, height, src), dst, done: inaccel.submit(req) };
      }));
      const used = new Set<number>();
      for (const { want, dst, done } of jobs) {
        used.add((await done).device.id);
        expectOk(reference.compareExact(dst, want));
      }
      expect([...used].sort()).to.deep.equal(DEVICES);
    });
  });

  describe("ml.logisticregression.gradients", () => {
    const shapes: Array<[n: number, d: number]> = [[1, 1], [1, 130], [65, 1], [63, 65], [129, 3], [100_003, 37], [20_000, 257]];
    for (const [n, d] of shapes) {
      it(`computes gradients of n=${n} d=${d} on both devices`, async () => {
        const X = floats(n * d), w = floats(d, -0.5, 0.5), labels = inaccel.alloc(Float32Array, n);
        for (let i = 0; i < n; i++) labels[i] = random() < 0.5 ? 0 : 1;
        const want = reference.logisticRegressionGradients(X, labels, w, n, d);
        for (const device of DEVICES) {
          const grad = floats(d, 5, 6);
          await inaccel.submit(inaccel.request("ml.logisticregression.gradients").arg(X).arg(labels).arg(w).arg(grad).arg(n).arg(d), { device });
          expectOk(reference.compareClose(grad, want, reference.SUM_TOLERANCE));
        }
      });
    }
  });

  describe("linalg.gemm", () => {
    const shapes: Array<[M: number, N: number, K: number]> = [
      [1, 1, 1], [1, 33, 1], [33, 1, 65], [31, 32, 33], [65, 97, 7], [3, 1000, 2], [300, 257, 129], [512, 512, 512],
    ];
    for (const [M, N, K] of shapes) {
      it(`multiplies ${M}x${K} by ${K}x${N} on both devices`, async () => {
        const A = floats(M * K, -1, 1), B = floats(K * N, -1, 1);
        const want = reference.gemm(A, B, M, N, K);
        for (const device of DEVICES) {
          const C = floats(M * N, 5, 6);
          await inaccel.submit(inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(M).arg(N).arg(K), { device });
          expectOk(reference.compareClose(C, want, reference.SUM_TOLERANCE));
        }
      });
    }

    it("multiplies small integers exactly", async () => {
      const A = inaccel.alloc(Float32Array, 6), B = inaccel.alloc(Float32Array, 6), C = inaccel.alloc(Float32Array, 4);
      A.set([1, 2, 3, 4, 5, 6]); // 2x3
      B.set([7, 8, 9, 10, 11, 12]); // 3x2
      await inaccel.submit(inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(2).arg(2).arg(3));
      expect([...C]).to.deep.equal([58, 64, 139, 154]);
    });
  });
});
