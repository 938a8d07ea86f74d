#include "buffers.h"

namespace inaccel {
namespace xrt_plugin {
namespace {
// Past this much idle pooled device memory, returned BOs are freed instead.
constexpr size_t kMaxPooledBytes = size_t{1} << 30;
}  // namespace

xrt::bo Buffers::wrap(const BlockPtr& block, int bank) {
  const auto key = std::make_pair(block.get(), bank);
  auto found = wrapped_.find(key);
  if (found != wrapped_.end()) return found->second.bo;
  xrt::bo bo(device_, block->data(), block->size(), static_cast<xrt::memory_group>(bank));
  wrapped_.emplace(key, Wrapped{block, bo});
  return bo;
}

xrt::bo Buffers::take(int bank, size_t bytes) {
  auto found = pool_.find({bank, bytes});
  if (found == pool_.end() || found->second.empty()) {
    return xrt::bo(device_, bytes, static_cast<xrt::memory_group>(bank));
  }
  xrt::bo bo = std::move(found->second.back());
  found->second.pop_back();
  pooledBytes_ -= bytes;
  return bo;
}

void Buffers::put(int bank, size_t bytes, xrt::bo bo) {
  if (pooledBytes_ + bytes > kMaxPooledBytes) return;  // freed with `bo`
  pool_[{bank, bytes}].push_back(std::move(bo));
  pooledBytes_ += bytes;
}

void Buffers::purge() {
  for (auto it = wrapped_.begin(); it != wrapped_.end();) {
    it = it->second.block->released() ? wrapped_.erase(it) : std::next(it);
  }
}

}  // namespace xrt_plugin
}  // namespace inaccel
