// One OpenCL device: its context, queue, configured program and the device
// buffers it keeps between requests. Used from one worker thread at a time.
#pragma once

#include <CL/cl.h>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "runtime/backend.h"
#include "runtime/opencl/buffer_cache.h"
#include "runtime/opencl/staging.h"

namespace inaccel::opencl {

class OpenclDevice : public Device {
 public:
  OpenclDevice(cl_platform_id platform, cl_device_id device);
  ~OpenclDevice() override;

  const DeviceInfo& info() const override { return info_; }
  void setKey(std::string key) { info_.key = std::move(key); }

  void configure(const Bitstream& bitstream) override;
  void unconfigure() override;
  void shrink() override;
  void runMany(const std::vector<RunItem>& items,
               std::vector<std::exception_ptr>& errors) override;

 private:
  void ensureContext();
  cl_program build(const Bitstream& bitstream);
  struct Kernel {
    cl_kernel kernel;
    size_t local;  // work-group size to launch with; 0 lets the runtime choose
    bool required;  // `local` is the size the kernel was compiled for
  };
  // Work-groups of 64 unless the kernel was compiled for another size: the
  // runtime's own choice (local size NULL) makes a few huge groups on NVIDIA,
  // leaving most multiprocessors idle for row-per-work-item kernels.
  static constexpr size_t kWorkGroup = 64;
  const Kernel& kernel(const std::string& name);
  // Sets every argument of `kernel`: scalars' bytes, buffers' device memory.
  static void setArgs(cl_kernel kernel, const std::vector<Arg>& args,
                      const std::vector<cl_mem>& memory);
  // alloc()ed host memory the device uses where it lies (unified memory):
  // a view from the block's start, as the wrapped buffer starts there.
  bool inPlace(const Arg& arg) const {
    return arg.block && arg.host == arg.block->data() && unifiedMemory_;
  }
  // Whether `arg` moves through device memory this backend lays out as it
  // likes (staged, chunked, on any queue): on a device that stages, neither
  // used in place nor in a memory bank.
  bool movable(const Arg& arg) const { return stage_ && !inPlace(arg) && arg.memoryBank < 0; }
  // A request's device memory per argument (nullptr for scalars).
  struct Bound {
    std::vector<cl_mem> memory;
    std::vector<bool> staged;
    cl_command_queue queue = nullptr;  // where its transfers and kernel go
  };
  // On queue_ small arguments are staged; on another queue every buffer
  // moves by itself.
  Bound bind(const RunItem& item, size_t request, cl_command_queue queue);
  void launch(const RunItem& item, const Bound& bound);
  bool readBack(const RunItem& item, const Bound& bound, bool wait);
  size_t chunks(const RunItem& item) const;
  void runChunked(const RunItem& item, size_t count);
  // Whether `item` moves enough through buffers of its own to go to a
  // queue of its own, beside the batch's other large requests.
  bool spreads(const RunItem& item) const;
  // Makes queues_ (queue_ and kQueues - 1 more) on first use.
  void ensureQueues();

  cl_platform_id platform_;
  cl_device_id device_;
  DeviceInfo info_;
  bool unifiedMemory_ = false;  // host memory is device memory (CPUs)
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  // queue_ and two more, made on first use: the chunks of a large
  // element-wise request, and a batch's other large requests, go round
  // them, so that one's upload runs beside another's kernel or download
  // (PCIe is full duplex).
  static constexpr size_t kQueues = 3;
  std::vector<cl_command_queue> queues_;
  cl_program program_ = nullptr;
  std::string configured_;
  std::map<std::string, Kernel> kernels_;
  // At least 1 GiB of device buffers kept; more while batches lend more
  // (capped at 1 GiB, 16 Mi-float requests 8 at a time made and freed
  // buffers every batch, 8% slower on an H100: docs/performance.md).
  BufferCache buffers_{size_t{1} << 30};
  // Small arguments move in one transfer per batch: on GPUs and CPUs, whose
  // buffers need no memory bank (an FPGA's arguments each have theirs).
  bool stage_ = false;
  Staging staging_;
  // Pooled buffers the requests in flight use, given back after the wait.
  struct Lent {
    cl_mem buffer;
    size_t bytes;
  };
  std::vector<Lent> lent_;
};

}  // namespace inaccel::opencl
