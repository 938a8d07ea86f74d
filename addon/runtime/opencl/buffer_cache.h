// Device buffers kept between requests. Buffers over alloc()ed host memory
// on unified-memory devices wrap the host pages (zero copy) and live as long
// as the host block is in use; all other buffers come from a SizePool
// (memory/size_pool.h: bounded by the most lent at once since the device
// was last idle, or `floor`).
#pragma once

#include <CL/cl.h>

#include <cstddef>
#include <map>

#include "memory/block.h"
#include "memory/size_pool.h"

namespace inaccel::opencl {

class BufferCache {
 public:
  explicit BufferCache(size_t floor) : pool_(floor) {}
  BufferCache(const BufferCache&) = delete;
  BufferCache& operator=(const BufferCache&) = delete;
  ~BufferCache() { clear(); }

  void setContext(cl_context context) { context_ = context; }

  // A buffer wrapping `block`'s pages (CL_MEM_USE_HOST_PTR), made once.
  cl_mem wrap(const BlockPtr& block);
  // A device buffer of `bytes`, pooled or new; give it back with put().
  cl_mem take(size_t bytes);
  void put(cl_mem buffer, size_t bytes);
  // Forgets the most lent at once: the pool keeps `floor`, or what is lent.
  void shrink() { pool_.shrink(); }
  size_t pooledBytes() const { return pool_.pooledBytes(); }
  // Frees wrappers of blocks that JavaScript released.
  void purge();
  void clear();

 private:
  struct Wrapped {
    BlockPtr block;
    cl_mem buffer;
  };
  struct Release {
    void operator()(cl_mem buffer) const;
  };
  cl_context context_ = nullptr;
  std::map<const Block*, Wrapped> wrapped_;
  SizePool<cl_mem, Release> pool_;
};

}  // namespace inaccel::opencl
