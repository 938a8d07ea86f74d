#include "runtime/opencl/pinned_allocator.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "memory/host_allocator.h"
#include "runtime/opencl/cl_api.h"

namespace inaccel::opencl {

namespace {

constexpr size_t kPage = 4096;

class PinnedAllocator : public HostAllocator {
 public:
  PinnedAllocator(cl_platform_id platform, cl_device_id device) {
    createContext(platform, device, &context_, &queue_);
  }


  void* allocate(size_t bytes) override {
    const Api& cl = api();
    std::lock_guard<std::mutex> lock(mutex_);
    cl_int status = CL_SUCCESS;
    // One page more, so a page-aligned start can be had whatever the mapping.
    const size_t size = bytes + kPage;
    cl_mem buffer = cl.clCreateBuffer(context_, CL_MEM_ALLOC_HOST_PTR | CL_MEM_READ_WRITE, size,
                                      nullptr, &status);
    if (status != CL_SUCCESS) throw std::bad_alloc();
    void* mapped = cl.clEnqueueMapBuffer(queue_, buffer, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                         size, 0, nullptr, nullptr, &status);
    if (status != CL_SUCCESS) {
      cl.clReleaseMemObject(buffer);
      throw std::bad_alloc();
    }
    const auto address = reinterpret_cast<uintptr_t>(mapped);
    void* aligned = reinterpret_cast<void*>((address + kPage - 1) / kPage * kPage);
    mappings_[aligned] = {buffer, mapped};
    std::memset(aligned, 0, bytes);  // pinned pages are resident already
    return aligned;
  }

  void deallocate(void* data, size_t) override {
    const Api& cl = api();
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = mappings_.find(data);
    if (found == mappings_.end()) return;
    cl.clEnqueueUnmapMemObject(queue_, found->second.buffer, found->second.mapped, 0, nullptr,
                               nullptr);
    cl.clFinish(queue_);
    cl.clReleaseMemObject(found->second.buffer);
    mappings_.erase(found);
  }

 private:
  struct Mapping {
    cl_mem buffer;
    void* mapped;
  };
  // Lives as long as any block: released at process exit, never earlier.
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  std::mutex mutex_;
  std::unordered_map<void*, Mapping> mappings_;
};

// The first device whose memory is not the host's, or with `force` any.
bool findDevice(bool force, cl_platform_id* platform, cl_device_id* device) {
  const Api& cl = api();
  cl_uint count = 0;
  if (cl.clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0) return false;
  std::vector<cl_platform_id> platforms(count);
  cl.clGetPlatformIDs(count, platforms.data(), nullptr);
  for (cl_platform_id p : platforms) {
    cl_uint n = 0;
    if (cl.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
    std::vector<cl_device_id> ids(n);
    cl.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, ids.data(), nullptr);
    for (cl_device_id d : ids) {
      cl_bool unified = CL_TRUE;
      cl.clGetDeviceInfo(d, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, nullptr);
      if (force || unified != CL_TRUE) {
        *platform = p;
        *device = d;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

bool installPinnedAllocator() {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] {
    const char* env = std::getenv("INACCEL_PINNED");
    const std::string mode = env ? env : "";
    if (mode != "" && mode != "0" && mode != "1") {
      throw Error("CONFIG_INVALID", "INACCEL_PINNED is 0 or 1 (or unset), got \"" + mode.substr(0, 64) + "\"");
    }
    if (mode == "0") return;
    try {
      cl_platform_id platform = nullptr;
      cl_device_id device = nullptr;
      if (!findDevice(mode == "1", &platform, &device)) return;
      setHostAllocator(std::make_shared<PinnedAllocator>(platform, device));
      installed = true;
    } catch (const std::exception&) {
      // No OpenCL, or no context to be had: plain aligned memory serves.
    }
  });
  return installed;
}

}  // namespace inaccel::opencl
