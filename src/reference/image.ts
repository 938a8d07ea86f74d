/**
 * Rounds half away from zero, as C's and OpenCL's `round()` do (`Math.round`
 * rounds halves up: `Math.round(-2.5)` is -2, `roundHalfAway(-2.5)` is -3).
 */
export function roundHalfAway(value: number): number {
  return Math.sign(value) * Math.floor(Math.abs(value) + 0.5);
}

/** A float converted to uchar with saturation, as OpenCL's `convert_uchar_sat` (NaN becomes 0). */
export function saturateUchar(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(255, Math.max(0, value));
}

/**
 * What `image.filter2d` computes, bit for bit: the 2-D convolution of one
 * row-major 8-bit plane with a `ksize` x `ksize` kernel of shorts,
 * `dst(y,x) = clamp(round(sum * factor + bias), 0, 255)` where `sum` adds
 * `coeffs[i][j] * src(y+i-r, x+j-r)` in 32-bit int (r = ksize/2, pixels
 * outside the image are 0), then float multiplies by `factor` and adds `bias`,
 * each rounded to float, and `round` halves away from zero.
 */
export function filter2d(
  coeffs: Int16Array, ksize: number, factor: number, bias: number,
  width: number, height: number, src: Uint8Array,
): Uint8Array {
  const dst = new Uint8Array(Math.max(0, width) * Math.max(0, height));
  const r = Math.trunc(ksize / 2);
  const f = Math.fround(factor);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let i = Math.max(0, r - y); i < Math.min(ksize, height - y + r); i++) {
        const row = (y + i - r) * width + x - r;
        for (let j = Math.max(0, r - x); j < Math.min(ksize, width - x + r); j++) {
          sum = (sum + coeffs[i * ksize + j] * src[row + j]) | 0;
        }
      }
      const scaled = Math.fround(Math.fround(sum) * f);
      dst[y * width + x] = saturateUchar(roundHalfAway(Math.fround(scaled + bias)));
    }
  }
  return dst;
}
