// Where alloc()ed host memory comes from. The default is plain page-aligned
// memory; a backend may install an allocator of memory its devices reach
// faster (pinned pages on GPUs), process-wide, before the first alloc().
#pragma once

#include <cstddef>
#include <memory>

namespace inaccel {

class HostAllocator {
 public:
  virtual ~HostAllocator() = default;
  // Page-aligned (4096), zero-filled memory of at least `bytes`; throws
  // std::bad_alloc.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* data, size_t bytes) = 0;
};

// The allocator new blocks use. Blocks keep theirs alive.
std::shared_ptr<HostAllocator> hostAllocator();
void setHostAllocator(std::shared_ptr<HostAllocator> allocator);

}  // namespace inaccel
