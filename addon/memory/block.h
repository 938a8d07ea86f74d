// Page-aligned host memory handed out by inaccel.alloc(). Shared ownership:
// the JS ArrayBuffer, in-flight requests and device-side caches each hold a
// reference, so releasing the array never frees memory a device still uses.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace inaccel {

class Block {
 public:
  static constexpr size_t kAlignment = 4096;

  // Throws std::bad_alloc when the memory cannot be had.
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
  void* data_ = nullptr;
  size_t size_ = 0;
  std::atomic<bool> released_{false};
};

using BlockPtr = std::shared_ptr<Block>;

}  // namespace inaccel
