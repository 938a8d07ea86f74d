// ml.logisticregression.gradients: grad = X^T (sigmoid(X w) - labels) / n,
// X row-major n x d, labels 0/1 (the seed's Spark ML kernel).
//
// One work-item per feature j (a group strides by the global size, so any
// launch size works). A work-group takes the rows CHUNK at a time: its
// work-items first share out the chunk's errors e_i = sigmoid(x_i . w) - y_i
// into local memory, then each adds x_ij * e_i for its own j, reading a row
// of X side by side (coalesced). Sums run over features and rows in order.
// Any work-group size works; every work-item, also past d, reaches the barriers.
#define CHUNK 64

__kernel void gradients(__global const float* restrict X, __global const float* restrict labels,
                        __global const float* restrict w, __global float* restrict grad,
                        const int n, const int d) {
  __local float err[CHUNK];
  const int lid = get_local_id(0);
  const int size = get_local_size(0);
  // The loop bounds are the same for every work-item of the group.
  for (long base = get_group_id(0) * size; base < d; base += get_global_size(0)) {
    const long j = base + lid;
    float acc = 0.0f;
    for (long i0 = 0; i0 < n; i0 += CHUNK) {
      const int rows = (int)min((long)CHUNK, n - i0);
      for (int r = lid; r < rows; r += size) {
        __global const float* x = X + (i0 + r) * d;
        float z = 0.0f;
        for (int f = 0; f < d; ++f) z += x[f] * w[f];
        err[r] = 1.0f / (1.0f + exp(-z)) - labels[i0 + r];
      }
      barrier(CLK_LOCAL_MEM_FENCE);
      if (j < d) {
        for (int r = 0; r < rows; ++r) acc += X[(i0 + r) * d + j] * err[r];
      }
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (j < d) grad[j] = acc / n;
  }
}
