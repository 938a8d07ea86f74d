#include "memory/host_allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>

namespace inaccel {

namespace {

class AlignedAllocator : public HostAllocator {
 public:
  void* allocate(size_t bytes) override {
    void* data = nullptr;
    if (posix_memalign(&data, 4096, bytes) != 0) throw std::bad_alloc();
    return data;
  }
  void deallocate(void* data, size_t) override { std::free(data); }
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
