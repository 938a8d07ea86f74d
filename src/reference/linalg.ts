/**
 * What `linalg.gemm` computes, in float and in the kernel's order:
 * `C = A·B` for row-major `A` (M x K) and `B` (K x N), each element summed
 * over k = 0..K-1. A device may fuse multiply-adds: compare with a tolerance.
 */
export function gemm(A: Float32Array, B: Float32Array, M: number, N: number, K: number): Float32Array {
  const cols = Math.max(0, N);
  const C = new Float32Array(Math.max(0, M) * cols);
  for (let i = 0; i < M; i++) {
    const row = C.subarray(i * cols, (i + 1) * cols);
    for (let k = 0; k < K; k++) {
      const aik = A[i * K + k];
      for (let j = 0; j < cols; j++) row[j] += Math.fround(aik * B[k * N + j]);
    }
  }
  return C;
}
