// Device buffers kept between requests by memory bank and size, for any
// backend (`Handle`: cl_mem, xrt::bo; `Release` frees one). The pool and
// the buffers lent from it come to at most the most that was lent at once
// since the last shrink(), or `floor` if that is more: a run of large
// batches reuses its buffers, and what it no longer needs goes when the
// device is idle. Where a buffer must be made, pooled ones go first, those
// given back longest ago first. Not thread-safe: one device's worker uses it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace inaccel {

template <typename Handle, typename Release>
class SizePool {
 public:
  explicit SizePool(size_t floor) : floor_(floor) {}
  SizePool(const SizePool&) = delete;
  SizePool& operator=(const SizePool&) = delete;
  ~SizePool() { clear(); }

  // A buffer of `bytes` in `bank`: a pooled one, or make()'s, made once the
  // pool has freed what the new one would put over the bound. Lent until
  // put() gives it back.
  template <typename Make>
  Handle take(int bank, size_t bytes, Make make) {
    lentBytes_ += bytes;
    mostLent_ = std::max(mostLent_, lentBytes_);
    auto found = pool_.find({bank, bytes});
    if (found != pool_.end()) {
      Handle handle = std::move(found->second.handle);
      pool_.erase(found);
      pooledBytes_ -= bytes;
      return handle;
    }
    trim();  // lentBytes_ counts the new buffer already
    try {
      return make();
    } catch (...) {
      lentBytes_ -= bytes;
      throw;
    }
  }
  void put(int bank, size_t bytes, Handle handle) {
    lentBytes_ -= bytes;
    pool_.emplace(Key{bank, bytes}, Pooled{std::move(handle), ++puts_});
    pooledBytes_ += bytes;
  }
  // Forgets the most lent at once: the pool keeps `floor`, or what is lent.
  void shrink() {
    mostLent_ = lentBytes_;
    trim();
  }
  // Frees every pooled buffer (lent ones stay lent).
  void clear() {
    mostLent_ = lentBytes_;
    for (auto& entry : pool_) release_(entry.second.handle);
    pool_.clear();
    pooledBytes_ = 0;
  }
  size_t pooledBytes() const { return pooledBytes_; }

 private:
  using Key = std::pair<int, size_t>;
  struct Pooled {
    Handle handle;
    uint64_t returned;  // put()'s count when it came back
  };
  // Frees pooled buffers, oldest first, until pooled and lent come within
  // the most lent since the last shrink(), or floor_.
  void trim() {
    const size_t keep = std::max(floor_, mostLent_) - lentBytes_;
    if (pooledBytes_ <= keep) return;
    std::vector<typename std::multimap<Key, Pooled>::iterator> order;
    for (auto it = pool_.begin(); it != pool_.end(); ++it) order.push_back(it);
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a->second.returned < b->second.returned; });
    for (const auto& it : order) {
      if (pooledBytes_ <= keep) break;
      release_(it->second.handle);
      pooledBytes_ -= it->first.second;
      pool_.erase(it);
    }
  }

  const size_t floor_;
  Release release_;
  std::multimap<Key, Pooled> pool_;
  size_t pooledBytes_ = 0;
  size_t lentBytes_ = 0;
  size_t mostLent_ = 0;  // since the last shrink()
  uint64_t puts_ = 0;
};

}  // namespace inaccel
