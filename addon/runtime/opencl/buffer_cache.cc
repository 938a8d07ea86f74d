#include "runtime/opencl/buffer_cache.h"

#include <algorithm>
#include <vector>

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
  lentBytes_ += bytes;
  mostLent_ = std::max(mostLent_, lentBytes_);
  auto found = pool_.find(bytes);
  if (found != pool_.end()) {
    cl_mem buffer = found->second.buffer;
    pool_.erase(found);
    pooledBytes_ -= bytes;
    return buffer;
  }
  trim();  // room for the new buffer (lentBytes_ counts it already)
  cl_int status = CL_SUCCESS;
  cl_mem buffer = api().clCreateBuffer(context_, CL_MEM_READ_WRITE, bytes, nullptr, &status);
  if (status != CL_SUCCESS) lentBytes_ -= bytes;
  check(status, "clCreateBuffer");
  return buffer;
}

void BufferCache::put(cl_mem buffer, size_t bytes) {
  lentBytes_ -= bytes;
  pool_.emplace(bytes, Pooled{buffer, ++puts_});
  pooledBytes_ += bytes;
}

void BufferCache::shrink() {
  mostLent_ = lentBytes_;
  trim();
}

void BufferCache::trim() {
  const size_t keep = std::max(floor_, mostLent_) - lentBytes_;
  if (pooledBytes_ <= keep) return;
  std::vector<std::multimap<size_t, Pooled>::iterator> order;
  for (auto it = pool_.begin(); it != pool_.end(); ++it) order.push_back(it);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a->second.returned < b->second.returned; });
  const Api& cl = api();
  for (const auto& it : order) {
    if (pooledBytes_ <= keep) break;
    cl.clReleaseMemObject(it->second.buffer);
    pooledBytes_ -= it->first;
    pool_.erase(it);
  }
}

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
  mostLent_ = lentBytes_;
  if (wrapped_.empty() && pool_.empty()) return;
  const Api& cl = api();
  for (auto& entry : wrapped_) cl.clReleaseMemObject(entry.second.buffer);
  for (auto& entry : pool_) cl.clReleaseMemObject(entry.second.buffer);
  wrapped_.clear();
  pool_.clear();
  pooledBytes_ = 0;
}

}  // namespace inaccel::opencl
