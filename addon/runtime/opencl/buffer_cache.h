// Device buffers kept between requests. Buffers over alloc()ed host memory
// on unified-memory devices wrap the host pages (zero copy) and live as long
// as the host block is in use; all other buffers come from a pool by size.
#pragma once

#include <CL/cl.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "memory/block.h"

namespace inaccel::opencl {

class BufferCache {
 public:
  BufferCache() = default;
  BufferCache(const BufferCache&) = delete;
  BufferCache& operator=(const BufferCache&) = delete;
  ~BufferCache() { clear(); }

  void setContext(cl_context context) { context_ = context; }

  // A buffer wrapping `block`'s pages (CL_MEM_USE_HOST_PTR), made once.
  cl_mem wrap(const BlockPtr& block);
  // A device buffer of `bytes`, pooled or new; give it back with put().
  cl_mem take(size_t bytes);
  void put(cl_mem buffer, size_t bytes);
  // Frees pooled buffers, those given back longest ago first, until at
  // most `keep` bytes stay pooled.
  void trim(size_t keep);
  size_t pooledBytes() const { return pooledBytes_; }
  // Frees wrappers of blocks that JavaScript released.
  void purge();
  void clear();

 private:
  struct Wrapped {
    BlockPtr block;
    cl_mem buffer;
  };
  struct Pooled {
    cl_mem buffer;
    uint64_t returned;  // put()'s count when it came back
  };
  cl_context context_ = nullptr;
  std::map<const Block*, Wrapped> wrapped_;
  std::multimap<size_t, Pooled> pool_;
  size_t pooledBytes_ = 0;
  uint64_t puts_ = 0;
};

}  // namespace inaccel::opencl
