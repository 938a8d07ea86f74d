#include "runtime/opencl/buffer_cache.h"

#include "runtime/opencl/cl_api.h"

namespace inaccel::opencl {

cl_mem BufferCache::wrap(const BlockPtr& block) {
  auto found = wrapped_.find(block.get());
  if (found != wrapped_.end()) return found->second.buffer;
  cl_int status = CL_SUCCESS;
  cl_mem buffer = api().clCreateBuffer(context_, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
                                       block->size(), block->data(), &status);
  check(status, "clCreateBuffer(CL_MEM_USE_HOST_PTR)");
  wrapped_.emplace(block.get(), Wrapped{block, buffer});
  return buffer;
}

cl_mem BufferCache::take(size_t bytes) {
  return pool_.take(-1, bytes, [&] {
    cl_int status = CL_SUCCESS;
    cl_mem buffer = api().clCreateBuffer(context_, CL_MEM_READ_WRITE, bytes, nullptr, &status);
    check(status, "clCreateBuffer");
    return buffer;
  });
}

void BufferCache::put(cl_mem buffer, size_t bytes) { pool_.put(-1, bytes, buffer); }

void BufferCache::Release::operator()(cl_mem buffer) const { api().clReleaseMemObject(buffer); }

void BufferCache::purge() {
  for (auto it = wrapped_.begin(); it != wrapped_.end();) {
    if (it->second.block->released()) {
      api().clReleaseMemObject(it->second.buffer);
      it = wrapped_.erase(it);
    } else {
      ++it;
    }
  }
}

void BufferCache::clear() {
  pool_.clear();
  if (wrapped_.empty()) return;
  const Api& cl = api();
  for (auto& entry : wrapped_) cl.clReleaseMemObject(entry.second.buffer);
  wrapped_.clear();
}

}  // namespace inaccel::opencl
