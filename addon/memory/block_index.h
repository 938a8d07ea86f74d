// The alloc()ed blocks of one JS thread by address, each with what its
// owner keeps for it. Finding the block a view lies in runs for every buffer
// argument of every request: a binary search over one sorted array stays in
// cache where a tree's nodes, one allocation each, do not. But filing or
// dropping a block in a sorted array moves the entries after it: past
// kSorted blocks (a program may hold hundreds of thousands) that would make
// every alloc() and release() cost as much as all the blocks, so the index
// then keeps them in a tree, and goes back to the array below kSorted / 2.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <vector>

namespace inaccel {

template <typename T>
class BlockIndex {
 public:
  static constexpr size_t kSorted = 1024;

  // Files the block [data, data + bytes); a block at the same address
  // (freed and handed out again) replaces the old entry.
  void insert(const void* data, size_t bytes, T* value) {
    const uintptr_t start = address(data);
    const Entry entry{start, start + bytes, value};
    if (tree_.empty() && entries_.size() >= kSorted) {
      for (const Entry& e : entries_) tree_.emplace_hint(tree_.end(), e.start, e);
      entries_.clear();
      entries_.shrink_to_fit();
    }
    if (!tree_.empty()) {
      tree_[start] = entry;
      return;
    }
    auto at = lowerBound(start);
    if (at != entries_.end() && at->start == start) {
      *at = entry;
    } else {
      entries_.insert(at, entry);
    }
  }

  // Removes and returns the entry of the block at `data`, if it holds
  // `value` (or any value, given nullptr); nullptr when there is none.
  T* erase(const void* data, const T* value = nullptr) {
    const uintptr_t start = address(data);
    if (!tree_.empty()) {
      auto at = tree_.find(start);
      if (at == tree_.end() || (value && at->second.value != value)) return nullptr;
      T* found = at->second.value;
      tree_.erase(at);
      if (tree_.size() < kSorted / 2) {
        entries_.reserve(kSorted);
        for (const auto& [key, e] : tree_) entries_.push_back(e);
        tree_.clear();
      }
      return found;
    }
    auto at = lowerBound(start);
    if (at == entries_.end() || at->start != start || (value && at->value != value)) return nullptr;
    T* found = at->value;
    entries_.erase(at);
    return found;
  }

  // The value of the block [data, data + bytes) lies in, or nullptr.
  T* containing(const void* data, size_t bytes) const {
    const uintptr_t start = address(data);
    const Entry* entry = nullptr;
    if (!tree_.empty()) {
      auto after = tree_.upper_bound(start);
      if (after == tree_.begin()) return nullptr;
      entry = &std::prev(after)->second;
    } else {
      auto after = std::upper_bound(entries_.begin(), entries_.end(), start,
                                    [](uintptr_t at, const Entry& e) { return at < e.start; });
      if (after == entries_.begin()) return nullptr;
      entry = &*std::prev(after);
    }
    return start <= entry->end && bytes <= entry->end - start ? entry->value : nullptr;
  }

  size_t size() const { return tree_.empty() ? entries_.size() : tree_.size(); }

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

  // By start; blocks never overlap. One of the two holds them all: the
  // array up to kSorted blocks, the tree (never empty while in use) beyond.
  std::vector<Entry> entries_;
  std::map<uintptr_t, Entry> tree_;
};

}  // namespace inaccel
