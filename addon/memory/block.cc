#include "memory/block.h"

#include <cstring>

namespace inaccel {

Block::Block(size_t bytes)
    : allocator_(hostAllocator()),
      size_(bytes),
      // Whole pages, at least one: devices map whole pages.
      capacity_(bytes ? (bytes + kAlignment - 1) / kAlignment * kAlignment : kAlignment) {
  data_ = allocator_->allocate(capacity_);
  std::memset(data_, 0, capacity_);
}

Block::~Block() { allocator_->deallocate(data_, capacity_); }

}  // namespace inaccel
