import { alloc } from "../memory";
import { request, type Request } from "../request";
import { compareClose, compareExact, type Comparison } from "./compare";
import { filter2d } from "./image";
import { gemm } from "./linalg";
import { logisticRegressionGradients } from "./ml";
import { vectorAddition, vectorMultiplication } from "./vector";

/** Relative tolerance of float kernels that sum many products (see {@link compareClose}). */
export const SUM_TOLERANCE = 1e-4;

/** One run of a built-in accelerator on random data: submit `request`, then `check()`. */
export interface Trial {
  request: Request;
  /** The problem's shape, for messages: `1000000`, `640x480 ksize 5`, ... */
  shape: string;
  /** Computes the reference (in JavaScript, after the device has run) and compares. */
  check(): Comparison;
}

/** How to make a {@link Trial} of one accelerator. */
export interface TrialMaker {
  /** What `size` sets, for help texts. */
  size: string;
  defaultSize: number;
  /** A trial of `size` (a positive integer) on data drawn from `random` (uniform in [0, 1)). */
  make(size: number, random: () => number): Trial;
}

const floats = (length: number, random: () => number, low = 0, high = 1): Float32Array => {
  const array = alloc(Float32Array, length);
  for (let i = 0; i < length; i++) array[i] = low + (high - low) * random();
  return array;
};

const integer = (random: () => number, low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

const vector = (id: string, reference: typeof vectorAddition): TrialMaker => ({
  size: "elements",
  defaultSize: 1 << 20,
  make(size, random) {
    const a = floats(size, random), b = floats(size, random), c = alloc(Float32Array, size);
    return {
      request: request(id).arg(a).arg(b).arg(c).arg(size),
      shape: `${size}`,
      check: () => compareExact(c, reference(a, b, size)),
    };
  },
});

/** Trials of every built-in accelerator that has a reference, by accelerator id. */
export const TRIALS: Readonly<Record<string, TrialMaker>> = {
  "vector.addition": vector("vector.addition", vectorAddition),
  "vector.multiplication": vector("vector.multiplication", vectorMultiplication),
  "image.filter2d": {
    size: "image width and height in pixels (random odd ksize 1..15)",
    defaultSize: 1024,
    make(size, random) {
      const ksize = 2 * integer(random, 0, 7) + 1;
      const coeffs = alloc(Int16Array, ksize * ksize);
      for (let i = 0; i < coeffs.length; i++) coeffs[i] = integer(random, -32, 32);
      const factor = (2 * random()) / (ksize * ksize * 8);
      const bias = integer(random, -64, 191);
      const src = alloc(Uint8Array, size * size), dst = alloc(Uint8Array, size * size);
      for (let i = 0; i < src.length; i++) src[i] = integer(random, 0, 255);
      return {
        request: request("image.filter2d").arg(coeffs).arg(ksize).arg(factor).arg(bias).arg(size).arg(size).arg(src).arg(dst),
        shape: `${size}x${size} ksize ${ksize}`,
        check: () => compareExact(dst, filter2d(coeffs, ksize, factor, bias, size, size, src)),
      };
    },
  },
  "ml.logisticregression.gradients": {
    size: "samples n (d = 100 features)",
    defaultSize: 100_000,
    make(n, random) {
      const d = 100;
      const X = floats(n * d, random), w = floats(d, random, -0.1, 0.1), grad = alloc(Float32Array, d);
      const labels = alloc(Float32Array, n);
      for (let i = 0; i < n; i++) labels[i] = random() < 0.5 ? 0 : 1;
      return {
        request: request("ml.logisticregression.gradients").arg(X).arg(labels).arg(w).arg(grad).arg(n).arg(d),
        shape: `n ${n} d ${d}`,
        check: () => compareClose(grad, logisticRegressionGradients(X, labels, w, n, d), SUM_TOLERANCE),
      };
    },
  },
  "linalg.gemm": {
    size: "M = N = K",
    defaultSize: 256,
    make(size, random) {
      const A = floats(size * size, random, -1, 1), B = floats(size * size, random, -1, 1);
      const C = alloc(Float32Array, size * size);
      return {
        request: request("linalg.gemm").arg(A).arg(B).arg(C).arg(size).arg(size).arg(size),
        shape: `${size}x${size}x${size}`,
        check: () => compareClose(C, gemm(A, B, size, size, size), SUM_TOLERANCE),
      };
    },
  },
};
