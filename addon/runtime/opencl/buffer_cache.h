// Device buffers kept between requests. Buffers over alloc()ed host memory
// on unified-memory devices wrap the host pages (zero copy) and live as long
// as the host block is in use; all other buffers come from a pool by size.
// The pool and the buffers lent from it come to at most the most that was
// lent at once since the last shrink(), or `floor` if that is more: a run
// of large batches reuses its buffers, and what it no longer needs goes
// when the device is idle. Where a buffer must be made, pooled ones go
// first, those given back longest ago first.
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
  explicit BufferCache(size_t floor) : floor_(floor) {}
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
  void shrink();
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
  // Frees pooled buffers, oldest first, until pooled and lent come within
  // the most lent since the last shrink(), or floor_.
  void trim();
  const size_t floor_;
  cl_context context_ = nullptr;
  std::map<const Block*, Wrapped> wrapped_;
  std::multimap<size_t, Pooled> pool_;
  size_t pooledBytes_ = 0;
  size_t lentBytes_ = 0;
  size_t mostLent_ = 0;  // since the last shrink()
  uint64_t puts_ = 0;
};

}  // namespace inaccel::opencl
