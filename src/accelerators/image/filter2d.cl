// image.filter2d: 2-D convolution of one 8-bit plane (the seed's ConvFilter).
//
//   dst(y,x) = sat_uchar(round(sum_ij coeffs[i][j] * src(y+i-r, x+j-r) * factor + bias)),
//   r = ksize / 2, pixels outside the image read as 0, round() halves away from zero.
//
// One work-item per column x, walking down the rows (striding by the global
// size, so any launch size works): neighbouring work-items read neighbouring
// bytes (coalesced on GPUs, vector lanes on CPUs) and the same coefficient at
// once. The sum is exact in int (|short * uchar| * 15 * 15 < 2^31); factor and
// bias are applied in float without contraction into fma, so the result
// matches a reference bit for bit.
#pragma OPENCL FP_CONTRACT OFF

__kernel void filter2d(__global const short* restrict coeffs, const int ksize, const float factor,
                       const short bias, const int width, const int height,
                       __global const uchar* restrict src, __global uchar* restrict dst) {
  const int r = ksize / 2;
  for (long column = get_global_id(0); column < width; column += get_global_size(0)) {
    const int x = (int)column;
    // The window's columns j in [j0, j1) fall inside the image at this x.
    const int j0 = max(0, r - x);
    const int j1 = (int)min((long)ksize, (long)width - x + r);
    for (int y = 0; y < height; ++y) {
      const int i0 = max(0, r - y);
      const int i1 = (int)min((long)ksize, (long)height - y + r);
      int sum = 0;
      for (int i = i0; i < i1; ++i) {
        const long row = (long)(y + i - r) * width + x - r;
        const long c = (long)i * ksize;
        for (int j = j0; j < j1; ++j) sum += coeffs[c + j] * src[row + j];
      }
      dst[(long)y * width + x] = convert_uchar_sat(round((float)sum * factor + (float)bias));
    }
  }
}
