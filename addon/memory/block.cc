#include "memory/block.h"

#include <limits>
#include <new>

namespace inaccel {

Block::Block(size_t bytes)
    : allocator_(hostAllocator()),
      size_(bytes),
      // Whole pages, at least one: devices map whole pages.
      capacity_(bytes ? (bytes + kAlignment - 1) / kAlignment * kAlignment : kAlignment) {
  // More than any host has; and the page arithmetic here and in the
  // allocators would wrap round to a small size.
  if (bytes > std::numeric_limits<size_t>::max() / 2) throw std::bad_alloc();
  data_ = allocator_->allocate(capacity_);
}

Block::~Block() { allocator_->deallocate(data_, capacity_); }

}  // namespace inaccel
