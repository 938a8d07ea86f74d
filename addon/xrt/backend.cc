// The XRT backend plugin (libinaccel_xrt.so): discovery of XRT devices and
// the C entry points runtime/plugin.cc looks up.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <experimental/xrt_system.h>
#include <version.h>  // XRT's: xrt_build_version

#include "card.h"
#include "common/error.h"
#include "runtime/plugin.h"

namespace inaccel {
namespace xrt_plugin {
namespace {

// XRT finds its shims (libxrt_core.so.2, libxrt_noop.so.2, ...) under
// $XILINX_XRT/lib; Debian installs them in the multiarch folder instead.
const char* const kRuntimeHint =
    " (XRT loads its shims from $XILINX_XRT/lib: set XILINX_XRT to XRT's install folder, e.g. /opt/xilinx/xrt; "
    "with Debian's packages, to a folder whose lib/ links to /usr/lib/x86_64-linux-gnu/libxrt_*.so.2)";

template <xrt::info::device Param>
std::string query(const xrt::device& device, const std::string& fallback) {
  try {
    return device.get_info<Param>();
  } catch (const std::exception&) {
    return fallback;  // not every shim answers every query (the no-op one answers none)
  }
}

DeviceInfo describe(unsigned index, const xrt::device& device, const char* emulation) {
  const std::string fallback = emulation != nullptr ? emulation : "unknown";
  DeviceInfo info;
  info.backend = "xrt";
  info.platformVendor = "xilinx";
  info.platformName = query<xrt::info::device::name>(device, fallback);  // the shell's VBNV
  info.vendor = "xilinx";
  info.name = info.platformName;
  info.type = "fpga";
  info.version = std::string("XRT ") + xrt_build_version;
  const std::string bdf = query<xrt::info::device::bdf>(device, "");
  info.key = bdf.empty() ? "xrt:" + fallback + ":" + std::to_string(index) : "xrt:" + bdf;
  return info;
}

class XrtBackend : public Backend {
 public:
  std::string name() const override { return "xrt"; }

  std::vector<std::unique_ptr<Device>> discover() override {
    unsigned count = 0;
    try {
      count = xrt::system::enumerate_devices();
    } catch (const std::exception& e) {
      throw Error("NO_RUNTIME", e.what() + std::string(kRuntimeHint));
    }
    // The no-op test shim enumerates nothing yet opens any index: expose one.
    const char* emulation = std::getenv("XCL_EMULATION_MODE");
    if (count == 0 && emulation != nullptr && std::strcmp(emulation, "noop") == 0) count = 1;
    std::vector<std::unique_ptr<Device>> devices;
    for (unsigned i = 0; i < count; ++i) {
      try {
        const xrt::device device(i);
        devices.push_back(std::make_unique<Card>(i, describe(i, device, emulation)));
      } catch (const std::exception& e) {
        throw Error("DEVICE_ERROR", "XRT device " + std::to_string(i) + " cannot be opened: " + e.what());
      }
    }
    return devices;
  }
};

}  // namespace
}  // namespace xrt_plugin
}  // namespace inaccel

extern "C" {

__attribute__((visibility("default"))) int inaccel_plugin_abi() { return inaccel::kPluginAbi; }

__attribute__((visibility("default"))) inaccel::Backend* inaccel_backend_create(std::string* whyNot) noexcept {
  try {
    return new inaccel::xrt_plugin::XrtBackend();
  } catch (const std::exception& e) {
    if (whyNot != nullptr) *whyNot = e.what();
    return nullptr;
  }
}

}  // extern "C"
