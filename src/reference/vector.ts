/** c = a + b element-wise in float: what `vector.addition` computes. */
export function vectorAddition(a: Float32Array, b: Float32Array, size: number): Float32Array {
  const c = new Float32Array(Math.max(0, size));
  for (let i = 0; i < c.length; i++) c[i] = a[i] + b[i];
  return c;
}

/** c = a * b element-wise in float: what `vector.multiplication` computes. */
export function vectorMultiplication(a: Float32Array, b: Float32Array, size: number): Float32Array {
  const c = new Float32Array(Math.max(0, size));
  for (let i = 0; i < c.length; i++) c[i] = a[i] * b[i];
  return c;
}
