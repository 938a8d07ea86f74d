#include "buffers.h"

namespace inaccel {
namespace xrt_plugin {

xrt::bo Buffers::wrap(const BlockPtr& block, int bank) {
  const auto key = std::make_pair(block.get(), bank);
  auto found = wrapped_.find(key);
  if (found != wrapped_.end()) return found->second.bo;
  xrt::bo bo(device_, block->data(), block->size(), static_cast<xrt::memory_group>(bank));
  wrapped_.emplace(key, Wrapped{block, bo});
  return bo;
}

Buffers::Lent Buffers::take(int bank, size_t bytes) {
  xrt::bo bo = pool_.take(bank, bytes, [&] {
    return xrt::bo(device_, bytes, static_cast<xrt::memory_group>(bank));
  });
  return Lent(&pool_, bank, bytes, std::move(bo));
}

void Buffers::purge() {
  for (auto it = wrapped_.begin(); it != wrapped_.end();) {
    it = it->second.block->released() ? wrapped_.erase(it) : std::next(it);
  }
}

}  // namespace xrt_plugin
}  // namespace inaccel
