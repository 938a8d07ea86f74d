/*
 * Built-in vector accelerators (OpenCL C 1.2).
 *
 * The runtime may launch any global size >= 1 (it rounds the `size`
 * argument up to a multiple of 64): each work-item strides over the vector
 * by the global size, so every element is done exactly once whether the
 * global size is smaller, equal or larger than `size`.
 */

__kernel void vadd(__global const float *a, __global const float *b, __global float *c, const int size)
{
    const size_t n = size > 0 ? (size_t)size : 0;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        c[i] = a[i] + b[i];
    }
}

__kernel void vmul(__global const float *a, __global const float *b, __global float *c, const int size)
{
    const size_t n = size > 0 ? (size_t)size : 0;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        c[i] = a[i] * b[i];
    }
}
