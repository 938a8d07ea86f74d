// Device buffers of one configured XRT device, kept between requests.
// alloc()ed host blocks are wrapped as user-pointer BOs (the card DMAs the
// request's own pages, no copy) for as long as JavaScript holds the block;
// other host memory is copied through BOs pooled by bank and size.
#pragma once

#include <cstddef>
#include <map>
#include <utility>
#include <vector>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>

#include "memory/block.h"

namespace inaccel {
namespace xrt_plugin {

class Buffers {
 public:
  explicit Buffers(const xrt::device& device) : device_(device) {}

  // A user-pointer BO in `bank` over all of `block`, made once per bank.
  xrt::bo wrap(const BlockPtr& block, int bank);
  // A BO of `bytes` in `bank`; give it back with put().
  xrt::bo take(int bank, size_t bytes);
  void put(int bank, size_t bytes, xrt::bo bo);
  // Drops wrappers of blocks that JavaScript released.
  void purge();

 private:
  struct Wrapped {
    BlockPtr block;
    xrt::bo bo;
  };
  xrt::device device_;
  std::map<std::pair<const Block*, int>, Wrapped> wrapped_;
  std::map<std::pair<int, size_t>, std::vector<xrt::bo>> pool_;
  size_t pooledBytes_ = 0;
};

}  // namespace xrt_plugin
}  // namespace inaccel
