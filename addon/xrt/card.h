// One XRT device (an Alveo card, or XRT's no-op test shim) behind the
// runtime Device interface.
#pragma once

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
  // Runs the requests one after the other (XRT runs are not overlapped yet).
  void runMany(const std::vector<RunItem>& items,
               std::vector<std::exception_ptr>& errors) override;

 private:
  // XRT kernels are single-task: `globalSize` must be 1.
  void run(const std::string& kernel, const std::vector<Arg>& args, size_t globalSize);
  struct Loaded {
    Loaded(xrt::device d, xrt::xclbin x, std::string i)
        : device(std::move(d)), xclbin(std::move(x)), id(std::move(i)), buffers(device) {}
    xrt::device device;
    xrt::xclbin xclbin;
    std::string id;
    std::map<std::string, xrt::kernel> kernels;
    Buffers buffers;
  };
  // One buffer argument of a run.
  struct Placed {
    xrt::bo bo;
    const Arg* arg;
    int bank;
    bool pooled;
  };

  xrt::kernel& kernel(const std::string& name);
  int bankOf(const xrt::kernel& k, const xrt::xclbin::arg& meta, int index, const Arg& arg) const;
  Placed place(int bank, const Arg& arg);
  void execute(const std::string& name, const std::vector<Arg>& args);

  unsigned index_;
  DeviceInfo info_;
  std::unique_ptr<Loaded> loaded_;
};

}  // namespace xrt_plugin
}  // namespace inaccel
