#include "memory/block.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace inaccel {

Block::Block(size_t bytes) : size_(bytes) {
  // Round up so the last page is whole: devices map whole pages.
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (posix_memalign(&data_, kAlignment, rounded ? rounded : kAlignment) != 0) {
    throw std::bad_alloc();
  }
  std::memset(data_, 0, rounded ? rounded : kAlignment);
}

Block::~Block() { std::free(data_); }

}  // namespace inaccel
