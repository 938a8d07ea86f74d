// One XRT device (an Alveo card, or XRT's no-op test shim) behind the
// runtime Device interface.
#pragma once

#include <exception>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "buffers.h"
#include "runtime/backend.h"

namespace inaccel {
namespace xrt_plugin {

class Card : public Device {
 public:
  Card(unsigned index, DeviceInfo info) : index_(index), info_(std::move(info)) {}

  const DeviceInfo& info() const override { return info_; }
  // Loads an xclbin ("binary" bitstream), opening the device if needed.
  void configure(const Bitstream& bitstream) override;
  // Drops the xclbin, its kernels and buffers, and closes the device.
  void unconfigure() override;
  // Starts the requests one after the other, each on a free compute unit,
  // then waits for them. A request whose buffers overlap those of one still
  // running (either side writing) first waits for it, so results are as if
  // run in order. XRT kernels are single tasks: a globalSize above 1 fails.
  void runMany(const std::vector<RunItem>& items, std::vector<std::exception_ptr>& errors) override;
  // Frees pooled BOs beyond what the card needs while idle.
  void shrink() override;

 private:
  struct Loaded {
    Loaded(xrt::device d, xrt::xclbin x, std::string i)
        : device(std::move(d)), xclbin(std::move(x)), id(std::move(i)), buffers(device, kPoolFloor) {}
    xrt::device device;
    xrt::xclbin xclbin;
    std::string id;
    std::map<std::string, xrt::kernel> kernels;
    Buffers buffers;
  };
  // At least 1 GiB of BOs kept (memory/size_pool.h).
  static constexpr size_t kPoolFloor = size_t{1} << 30;
  // One buffer argument of a run: a BO over its own pages, or one lent
  // from the pool (`lent` holds it), through which its bytes are copied.
  struct Placed {
    xrt::bo bo;
    const Arg* arg;
    Buffers::Lent lent;
  };

  // A started request.
  struct Started {
    size_t item;
    xrt::run run;
    std::vector<Placed> placed;
  };

  xrt::kernel& kernel(const std::string& name);
  int bankOf(const xrt::kernel& k, const xrt::xclbin::arg& meta, int index, const Arg& arg) const;
  static Placed pooled(Buffers::Lent lent, const Arg& arg);
  Placed place(int bank, const Arg& arg);
  Started start(size_t index, const RunItem& item);
  void finish(Started& started, const RunItem& item);

  unsigned index_;
  DeviceInfo info_;
  std::unique_ptr<Loaded> loaded_;
};

}  // namespace xrt_plugin
}  // namespace inaccel
