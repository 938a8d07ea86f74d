/** How a device's output compares with its reference. */
export interface Comparison {
  ok: boolean;
  /** Elements outside the tolerance (or not equal, for exact comparisons). */
  mismatches: number;
  /** Largest absolute difference; NaN when a NaN is where a number is due, or the reverse. */
  maxError: number;
  /** One line for people: what differs and where first, or how close it is. */
  summary: string;
}

type Numbers = ArrayLike<number>;

/** Compares element by element for equality (integer outputs, bit-exact kernels). */
export function compareExact(got: Numbers, want: Numbers): Comparison {
  return compare(got, want, 0);
}

/**
 * Compares float outputs norm-wise: each element may be off by `rtol` times
 * the largest magnitude of the reference (so sums that cancel to near zero
 * are judged at the scale of the whole output). NaN must meet NaN.
 */
export function compareClose(got: Numbers, want: Numbers, rtol: number): Comparison {
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) scale = Math.max(scale, Math.abs(want[i]));
  return compare(got, want, rtol * scale);
}

function compare(got: Numbers, want: Numbers, allowed: number): Comparison {
  if (got.length !== want.length) {
    return { ok: false, mismatches: Math.abs(got.length - want.length), maxError: NaN, summary: `length ${got.length}, want ${want.length}` };
  }
  let mismatches = 0;
  let maxError = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const error = Number.isNaN(g) || Number.isNaN(w) ? (Number.isNaN(g) && Number.isNaN(w) ? 0 : NaN) : g === w ? 0 : Math.abs(g - w);
    maxError = Number.isNaN(error) || Number.isNaN(maxError) ? NaN : Math.max(maxError, error);
    if (error <= allowed) continue;
    if (first < 0) first = i;
    mismatches++;
  }
  if (mismatches === 0) {
    const summary = allowed ? `all ${want.length} within ${allowed.toPrecision(3)} (max error ${maxError.toPrecision(3)})` : `all ${want.length} equal`;
    return { ok: true, mismatches, maxError, summary };
  }
  return {
    ok: false, mismatches, maxError,
    summary: `${mismatches} of ${want.length} differ, first [${first}] = ${got[first]}, want ${want[first]}`,
  };
}
