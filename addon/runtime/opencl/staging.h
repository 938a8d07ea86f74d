// Small buffers of one batch of requests share two device areas, one for
// what kernels only read and one for what they write, and each area moves
// in one transfer per batch. On a discrete GPU a transfer costs the host
// about as much as a tiny request's kernel launch, so a batch of 16 requests
// of three small arrays makes 2 transfers instead of 48.
#pragma once

#include <CL/cl.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <vector>

#include "runtime/backend.h"

namespace inaccel::opencl {

class Staging {
 public:
  // Arguments up to this size are staged; larger ones move on their own.
  static constexpr size_t kMaxArgBytes = size_t{16} << 10;

  Staging() = default;
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() { clear(); }

  // `align`: the device's sub-buffer origin alignment in bytes.
  void setContext(cl_context context, cl_command_queue queue, size_t align);
  // Starts a batch: both areas are empty again.
  void begin();
  // A sub-buffer for `arg` of the batch's request `request`, its input
  // already copied to the area's host side; nullptr when the argument is
  // too big or its area is full.
  cl_mem place(const Arg& arg, size_t request);
  // Enqueues the writes of what was placed, without blocking.
  void upload();
  bool hasOutputs() const { return !outputs_.empty(); }
  // Enqueues a blocking read of the staged outputs; false when there are none.
  bool download();
  // Copies the staged outputs of the requests that did not fail to their hosts.
  void deliver(const std::vector<std::exception_ptr>& errors);
  void clear();

 private:
  struct Area {
    cl_mem buffer = nullptr;  // on the device
    cl_mem pinned = nullptr;  // host side, mapped at `host`
    unsigned char* host = nullptr;
    size_t used = 0;
    bool upload = false;  // something placed here holds input
    std::map<uint64_t, cl_mem> views;  // sub-buffers by offset << 32 | size
  };
  struct Output {
    size_t request;
    void* host;
    size_t offset;
    size_t bytes;
  };
  void create(Area& area);
  void release(Area& area);
  cl_mem view(Area& area, size_t offset, size_t bytes);

  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  size_t align_ = 1;
  Area in_;   // read-only arguments
  Area out_;  // written (and read-write) arguments
  std::vector<Output> outputs_;
};

}  // namespace inaccel::opencl
