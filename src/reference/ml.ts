/**
 * What `ml.logisticregression.gradients` computes, in float and in the
 * kernel's order: `grad = Xᵀ(σ(Xw) − labels) / n` for row-major `X` (n x d),
 * each dot product over features 0..d-1, each gradient over rows 0..n-1.
 * The device's `exp` and division may differ by a few ulp: compare with a
 * tolerance.
 */
export function logisticRegressionGradients(
  X: Float32Array, labels: Float32Array, w: Float32Array, n: number, d: number,
): Float32Array {
  const rows = Math.max(0, n);
  const err = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = 0;
    for (let f = 0; f < d; f++) z = Math.fround(z + Math.fround(X[i * d + f] * w[f]));
    err[i] = Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-z)))) - labels[i];
  }
  const grad = new Float32Array(Math.max(0, d));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < grad.length; j++) grad[j] += Math.fround(X[i * d + j] * err[i]);
  }
  for (let j = 0; j < grad.length; j++) grad[j] /= Math.fround(n);
  return grad;
}
