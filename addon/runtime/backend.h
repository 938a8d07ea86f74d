// The runtime backend interface: what the engine needs from OpenCL, XRT or any
// other way of driving a card. Implementations know nothing of V8 or of the
// arbiter; every call below except discovery runs on the device's own worker
// thread, one call at a time per Device.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "memory/block.h"

namespace inaccel {

struct DeviceInfo {
  std::string backend;          // "opencl", "xrt"
  std::string platformVendor;   // OpenCL platform vendor / "xilinx"
  std::string platformName;     // OpenCL platform name / xclbin VBNV
  std::string platformVersion;  // OpenCL platform version / shell version
  std::string vendor;           // device vendor
  std::string name;             // device name
  std::string type;             // "cpu", "gpu", "accelerator", "fpga", "other"
  std::string version;          // device/driver version
  uint64_t globalMemory = 0;    // bytes
  bool compiler = false;        // can build OpenCL C source
  // Stable across processes and restarts of this host: used as the device's
  // key in the arbiter's state file.
  std::string key;
};

enum class Access { Read, Write, ReadWrite };  // as the kernel sees it

// A scalar argument's bytes, held in place: the widest scalar type (long,
// ulong, double) takes 8.
class ScalarBytes {
 public:
  static constexpr size_t kMax = 8;
  // False (and nothing kept) when the value does not fit.
  bool assign(const uint8_t* data, size_t size) {
    if (size > kMax) return false;
    std::copy(data, data + size, bytes_.begin());
    size_ = size;
    return true;
  }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return size_; }

 private:
  std::array<uint8_t, kMax> bytes_{};
  size_t size_ = 0;
};

struct Arg {
  enum class Kind { Buffer, Scalar } kind = Kind::Scalar;
  // Buffer: host memory the request reads from / writes back to.
  void* host = nullptr;
  size_t bytes = 0;
  size_t elementBytes = 1;  // of the host array's elements
  Access access = Access::ReadWrite;
  int memoryBank = -1;  // -1: backend's choice
  // Set when the host memory lies in a block from inaccel.alloc(), which
  // this reference keeps alive for as long as the backend holds it. `host`
  // may be anywhere in it: only block->data() is page-aligned.
  BlockPtr block;
  // Scalar: the value's bytes exactly as the kernel's type lays them out.
  ScalarBytes scalar;
};

// What a device is configured with. For OpenCL "source", `path` is an
// OpenCL C file; for "binary" (xclbin, aocx) a vendor binary.
struct Bitstream {
  std::string id;       // "vector@1.0.0": unique per bitstream version
  std::string format;   // "source" | "binary"
  std::string path;     // absolute path of the file
  std::string sha256;   // of the file, hex
  std::string buildOptions;
};

// A bitstream that does not build on a device (DEVICE_ERROR): it would fail
// the same way again, and the device was left as it was.
class BuildFailed : public Error {
 public:
  explicit BuildFailed(const std::string& message) : Error("DEVICE_ERROR", message) {}
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const DeviceInfo& info() const = 0;
  // Loads `bitstream` (builds / programs the card). A device holds one
  // configuration at a time: configuring another replaces it. Throws
  // BuildFailed when the bitstream itself cannot be built or loaded here
  // and the device still holds what it held; after any other exception it
  // may hold nothing.
  virtual void configure(const Bitstream& bitstream) = 0;
  // Drops the configuration and every cached device resource.
  virtual void unconfigure() = 0;
  // Gives back device memory kept for requests to come beyond what an idle
  // device keeps; the worker calls it when its queue has stayed empty.
  virtual void shrink() {}
  // One request: kernel `kernel` of the configured bitstream with `args`
  // over `globalSize` work-items (1 for single-task kernels). With
  // `chunkArg` >= 0 the kernel is element-wise and that argument its work
  // size: a backend may run the request in chunks, each launched with a
  // global offset and that argument set to the chunk's end.
  struct RunItem {
    const std::string* kernel;
    const std::vector<Arg>* args;
    size_t globalSize;
    int chunkArg = -1;
  };
  // Runs the requests in order, moving buffers in and out, and returns when
  // every output is back in host memory; errors[i] is set for each request
  // that failed. Backends overlap the requests where they can. Throws only
  // when none could run.
  virtual void runMany(const std::vector<RunItem>& items,
                       std::vector<std::exception_ptr>& errors) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // All devices of this backend on the host. Throws Error("NO_RUNTIME") when
  // the vendor library is missing; returns an empty list when there is none.
  virtual std::vector<std::unique_ptr<Device>> discover() = 0;
};

}  // namespace inaccel
