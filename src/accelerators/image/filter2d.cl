// image.filter2d: 2-D convolution of one 8-bit plane (the seed's ConvFilter).
//
//   dst(y,x) = sat_uchar(round(sum_ij coeffs[i][j] * src(y+i-r, x+j-r) * factor + bias)),
//   r = ksize / 2, pixels outside the image read as 0, round() halves away from zero.
//
// One work-item per column x and band of BAND rows (striding by the global
// size, so any launch size works; bitstream.json asks for one per pair, so a
// GPU gets enough of them to fill it). Work-items next to each other take
// columns next to each other of the same band: they read neighbouring bytes
// (coalesced on GPUs, vector lanes on CPUs) and the same coefficient at once.
// The sum is exact in int (|short * uchar| * 15 * 15 < 2^31); factor and
// bias are applied in float without contraction into fma, so the result
// matches a reference bit for bit.
#pragma OPENCL FP_CONTRACT OFF
#define BAND 16

__kernel void filter2d(__global const short* restrict coeffs, const int ksize, const float factor,
                       const short bias, const int width, const int height,
                       __global const uchar* restrict src, __global uchar* restrict dst) {
  const int r = ksize / 2;
  const long blocks = (long)width * ((height + BAND - 1) / BAND);
  for (long g = get_global_id(0); g < blocks; g += get_global_size(0)) {
    const int x = (int)(g % width);
    const int y0 = (int)(g / width) * BAND;
    const int y1 = min(height, y0 + BAND);
    // The window's columns j in [j0, j1) fall inside the image at this x.
    const int j0 = max(0, r - x);
    const int j1 = (int)min((long)ksize, (long)width - x + r);
    for (int y = y0; y < y1; ++y) {
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
