#include "memory/host_allocator.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace inaccel {

namespace {

// From this size on, blocks are mappings of their own: the kernel hands
// them out zero-filled, a page when first touched. Zeroing them here would
// fault in every page up front (seconds for a few GiB), and keep them all.
constexpr size_t kMapped = size_t{1} << 20;

class AlignedAllocator : public HostAllocator {
 public:
  void* allocate(size_t bytes) override {
    if (bytes >= kMapped) {
      void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (data == MAP_FAILED) throw std::bad_alloc();
      return data;
    }
    void* data = nullptr;
    if (posix_memalign(&data, 4096, bytes) != 0) throw std::bad_alloc();
    std::memset(data, 0, bytes);
    return data;
  }
  void deallocate(void* data, size_t bytes) override {
    if (bytes >= kMapped) {
      munmap(data, bytes);
    } else {
      std::free(data);
    }
  }
};

std::mutex mutex;
std::shared_ptr<HostAllocator> current;

}  // namespace

std::shared_ptr<HostAllocator> hostAllocator() {
  std::lock_guard<std::mutex> lock(mutex);
  if (!current) current = std::make_shared<AlignedAllocator>();
  return current;
}

void setHostAllocator(std::shared_ptr<HostAllocator> allocator) {
  std::lock_guard<std::mutex> lock(mutex);
  current = std::move(allocator);
}

}  // namespace inaccel
