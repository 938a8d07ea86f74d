// Page-aligned host memory handed out by inaccel.alloc(). Shared ownership:
// the JS ArrayBuffer, in-flight requests and device-side caches each hold a
// reference, so releasing the array never frees memory a device still uses.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "memory/host_allocator.h"

namespace inaccel {

class Block {
 public:
  static constexpr size_t kAlignment = 4096;

  // Zeroed memory from the current host allocator; throws std::bad_alloc.
  explicit Block(size_t bytes);
  ~Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }

  // Set once the owner (JS) let go: caches drop blocks marked released.
  void markReleased() { released_.store(true, std::memory_order_release); }
  bool released() const { return released_.load(std::memory_order_acquire); }

 private:
  std::shared_ptr<HostAllocator> allocator_;
  void* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // whole pages
  std::atomic<bool> released_{false};
};

using BlockPtr = std::shared_ptr<Block>;

}  // namespace inaccel
