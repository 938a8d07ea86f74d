// Device buffers of one configured XRT device, kept between requests.
// alloc()ed host blocks are wrapped as user-pointer BOs (the card DMAs the
// request's own pages, no copy) for as long as JavaScript holds the block;
// other host memory is copied through BOs from a SizePool
// (memory/size_pool.h: by bank and size, bounded by the most lent at once
// since the card was last idle, or `floor`).
#pragma once

#include <cstddef>
#include <map>
#include <utility>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>

#include "memory/block.h"
#include "memory/size_pool.h"

namespace inaccel {
namespace xrt_plugin {

class Buffers {
  struct Release {
    void operator()(xrt::bo&) const {}  // a BO is freed with its last handle
  };
  using Pool = SizePool<xrt::bo, Release>;

 public:
  // A pooled BO lent to one request: back in the pool when this goes, at
  // the request's end or at its failure, wherever that happens.
  class Lent {
   public:
    Lent() = default;
    Lent(Pool* pool, int bank, size_t bytes, xrt::bo bo)
        : pool_(pool), bank_(bank), bytes_(bytes), bo_(std::move(bo)) {}
    Lent(Lent&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), bank_(other.bank_), bytes_(other.bytes_),
          bo_(std::move(other.bo_)) {}
    Lent& operator=(Lent&&) = delete;
    ~Lent() {
      if (pool_) pool_->put(bank_, bytes_, std::move(bo_));
    }
    bool held() const { return pool_ != nullptr; }
    const xrt::bo& bo() const { return bo_; }

   private:
    Pool* pool_ = nullptr;
    int bank_ = 0;
    size_t bytes_ = 0;
    xrt::bo bo_;
  };

  Buffers(const xrt::device& device, size_t floor) : device_(device), pool_(floor) {}

  // A user-pointer BO in `bank` over all of `block`, made once per bank.
  xrt::bo wrap(const BlockPtr& block, int bank);
  // A BO of `bytes` in `bank`, pooled or new, lent until the Lent goes.
  Lent take(int bank, size_t bytes);
  // Drops wrappers of blocks that JavaScript released.
  void purge();
  // Forgets the most lent at once: the pool keeps `floor`, or what is lent.
  void shrink() { pool_.shrink(); }
  size_t pooledBytes() const { return pool_.pooledBytes(); }

 private:
  struct Wrapped {
    BlockPtr block;
    xrt::bo bo;
  };
  xrt::device device_;
  std::map<std::pair<const Block*, int>, Wrapped> wrapped_;
  Pool pool_;
};

}  // namespace xrt_plugin
}  // namespace inaccel
