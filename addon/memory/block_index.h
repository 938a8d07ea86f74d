// The alloc()ed blocks of one JS thread by address, each with what its
// owner keeps for it. Finding the block a view lies in runs for every buffer
// argument of every request: a binary search over one sorted array stays in
// cache where a tree's nodes, one allocation each, do not.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace inaccel {

template <typename T>
class BlockIndex {
 public:
  // Files the block [data, data + bytes); a block at the same address
  // (freed and handed out again) replaces the old entry.
  void insert(const void* data, size_t bytes, T* value) {
    const uintptr_t start = address(data);
    auto at = lowerBound(start);
    if (at != entries_.end() && at->start == start) {
      *at = Entry{start, start + bytes, value};
    } else {
      entries_.insert(at, Entry{start, start + bytes, value});
    }
  }

  // Removes and returns the entry of the block at `data`, if it holds
  // `value` (or any value, given nullptr); nullptr when there is none.
  T* erase(const void* data, const T* value = nullptr) {
    auto at = lowerBound(address(data));
    if (at == entries_.end() || at->start != address(data) || (value && at->value != value)) return nullptr;
    T* found = at->value;
    entries_.erase(at);
    return found;
  }

  // The value of the block [data, data + bytes) lies in, or nullptr.
  T* containing(const void* data, size_t bytes) const {
    const uintptr_t start = address(data);
    auto after = std::upper_bound(entries_.begin(), entries_.end(), start,
                                  [](uintptr_t at, const Entry& entry) { return at < entry.start; });
    if (after == entries_.begin()) return nullptr;
    const Entry& entry = *std::prev(after);
    return start <= entry.end && bytes <= entry.end - start ? entry.value : nullptr;
  }

 private:
  struct Entry {
    uintptr_t start;
    uintptr_t end;
    T* value;
  };

  static uintptr_t address(const void* data) { return reinterpret_cast<uintptr_t>(data); }

  typename std::vector<Entry>::iterator lowerBound(uintptr_t start) {
    return std::lower_bound(entries_.begin(), entries_.end(), start,
                            [](const Entry& entry, uintptr_t at) { return entry.start < at; });
  }

  std::vector<Entry> entries_;  // by start; blocks never overlap
};

}  // namespace inaccel
