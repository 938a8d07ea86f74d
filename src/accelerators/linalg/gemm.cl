// linalg.gemm: C = A * B for row-major float matrices, A M x K, B K x N, C M x N.
//
// One work-item per row i of C and block of BLOCK columns (striding by the
// global size, so any launch size works; bitstream.json asks for one per
// pair). It holds the block's sums in registers, so each element of A it
// reads feeds BLOCK multiply-adds. Work-items next to each other take the
// same column block of rows next to each other: they read the same
// elements of B at the same time (one broadcast load on GPUs), four at a
// time. Each sum runs over k in order 0..K-1.
#define BLOCK 64

// Columns j0 .. j0+BLOCK-1 of row c = C[i][*] from row a = A[i][*].
inline void block(__global const float* restrict a, __global const float* restrict B,
                  __global float* restrict c, const int N, const int K, const int j0) {
  float4 acc[BLOCK / 4];
#pragma unroll
  for (int t = 0; t < BLOCK / 4; ++t) acc[t] = (float4)(0.0f);
  for (int k = 0; k < K; ++k) {
    const float aik = a[k];
    __global const float* b = B + (long)k * N + j0;
#pragma unroll
    for (int t = 0; t < BLOCK / 4; ++t) acc[t] += aik * vload4(t, b);
  }
#pragma unroll
  for (int t = 0; t < BLOCK / 4; ++t) vstore4(acc[t], t, c + j0);
}

// The last N - j0 < BLOCK columns, one at a time.
inline void tail(__global const float* restrict a, __global const float* restrict B,
                 __global float* restrict c, const int N, const int K, const int j0) {
  float acc[BLOCK];
#pragma unroll
  for (int t = 0; t < BLOCK; ++t) acc[t] = 0.0f;
  const int width = N - j0;
  for (int k = 0; k < K; ++k) {
    const float aik = a[k];
    __global const float* b = B + (long)k * N + j0;
#pragma unroll
    for (int t = 0; t < BLOCK; ++t) {
      if (t < width) acc[t] += aik * b[t];
    }
  }
#pragma unroll
  for (int t = 0; t < BLOCK; ++t) {
    if (t < width) c[j0 + t] = acc[t];
  }
}

__kernel void gemm(__global const float* restrict A, __global const float* restrict B,
                   __global float* restrict C, const int M, const int N, const int K) {
  const long blocks = (long)M * ((N + BLOCK - 1) / BLOCK);
  for (long g = get_global_id(0); g < blocks; g += get_global_size(0)) {
    const long i = g % M;
    const int j0 = (int)(g / M) * BLOCK;
    __global const float* a = A + i * K;
    __global float* c = C + i * N;
    if (j0 <= N - BLOCK) block(a, B, c, N, K, j0);
    else tail(a, B, c, N, K, j0);
  }
}
