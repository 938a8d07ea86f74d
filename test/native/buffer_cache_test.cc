// BufferCache (addon/runtime/opencl/buffer_cache.h) on a real OpenCL
// device (PoCL here): buffers given back are taken again by size; pooled
// and lent buffers stay within the most lent at once, or the floor; a new
// buffer and shrink() free pooled ones given back longest ago first, and
// only as many as they must. Whether a buffer was freed is read from its
// OpenCL reference count: the test holds one reference of its own.
#include <CL/cl.h>

#include <cstdio>
#include <vector>

#include "check.h"
#include "runtime/opencl/buffer_cache.h"

namespace {

constexpr size_t kMiB = size_t{1} << 20;

cl_uint references(cl_mem buffer) {
  cl_uint count = 0;
  clGetMemObjectInfo(buffer, CL_MEM_REFERENCE_COUNT, sizeof count, &count, nullptr);
  return count;
}

}  // namespace

int main() {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  if (clGetPlatformIDs(1, &platform, nullptr) != CL_SUCCESS ||
      clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, nullptr) != CL_SUCCESS) {
    std::printf("FAIL: no OpenCL device\n");
    return 1;
  }
  cl_int status = CL_SUCCESS;
  cl_context context = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &status);
  if (status != CL_SUCCESS) {
    std::printf("FAIL: clCreateContext %d\n", status);
    return 1;
  }
  {
    // A floor of 4 MiB stands for the device's 1 GiB.
    inaccel::opencl::BufferCache cache(4 * kMiB);
    cache.setContext(context);

    // Four buffers of 1 MiB and one of 2 MiB lent at once (6 MiB, the most
    // so far), then given back in that order: the pool keeps them all.
    std::vector<cl_mem> small;
    for (int i = 0; i < 4; i++) small.push_back(cache.take(kMiB));
    cl_mem large = cache.take(2 * kMiB);
    for (cl_mem buffer : small) clRetainMemObject(buffer);
    clRetainMemObject(large);
    for (cl_mem buffer : small) cache.put(buffer, kMiB);
    cache.put(large, 2 * kMiB);
    CHECK(cache.pooledBytes() == 6 * kMiB);

    // A take of a pooled size gets a pooled buffer, not a new one.
    cl_mem again = cache.take(2 * kMiB);
    CHECK(again == large);
    CHECK(cache.pooledBytes() == 4 * kMiB);
    cache.put(again, 2 * kMiB);  // now the last given back
    for (cl_mem buffer : small) CHECK(references(buffer) == 2);

    // A new size: pooled and lent stay within the most lent (6 MiB), so
    // 3 MiB of pooled buffers go first, those given back longest ago.
    cl_mem three = cache.take(3 * kMiB);
    clRetainMemObject(three);
    CHECK(cache.pooledBytes() == 3 * kMiB);
    for (size_t i = 0; i < 3; i++) CHECK(references(small[i]) == 1);
    CHECK(references(small[3]) == 2);
    CHECK(references(large) == 2);
    cache.put(three, 3 * kMiB);
    CHECK(cache.pooledBytes() == 6 * kMiB);

    // Idle: down to the floor, oldest first; the 3 MiB buffer stays.
    cache.shrink();
    CHECK(cache.pooledBytes() == 3 * kMiB);
    CHECK(references(small[3]) == 1);
    CHECK(references(large) == 1);
    CHECK(references(three) == 2);
    CHECK(cache.take(3 * kMiB) == three);
    cache.put(three, 3 * kMiB);

    // clear() frees the rest.
    cache.clear();
    CHECK(cache.pooledBytes() == 0);
    CHECK(references(three) == 1);
    for (cl_mem buffer : small) clReleaseMemObject(buffer);
    clReleaseMemObject(large);
    clReleaseMemObject(three);
  }
  {
    // By age, not by size: a 2 MiB buffer given back before two of 1 MiB
    // goes first, though the pool files it after them.
    inaccel::opencl::BufferCache cache(2 * kMiB);
    cache.setContext(context);
    cl_mem older = cache.take(2 * kMiB);
    cl_mem newer[2] = {cache.take(kMiB), cache.take(kMiB)};
    clRetainMemObject(older);
    for (cl_mem buffer : newer) clRetainMemObject(buffer);
    cache.put(older, 2 * kMiB);
    for (cl_mem buffer : newer) cache.put(buffer, kMiB);
    CHECK(cache.pooledBytes() == 4 * kMiB);
    cache.shrink();
    CHECK(cache.pooledBytes() == 2 * kMiB);
    CHECK(references(older) == 1);
    for (cl_mem buffer : newer) CHECK(references(buffer) == 2);
    cache.clear();
    clReleaseMemObject(older);
    for (cl_mem buffer : newer) clReleaseMemObject(buffer);
  }
  clReleaseContext(context);
  if (check::failures) return 1;
  std::printf("buffer_cache_test: ok\n");
  return 0;
}
