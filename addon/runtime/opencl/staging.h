// Small buffers of one batch of requests share device areas, one per size
// class for what kernels only read and one per size class for what they
// write, and each area moves in one transfer per batch. On a discrete GPU a
// transfer costs the host about as much as a tiny request's kernel launch,
// so a batch of 16 requests of three small arrays makes 2 transfers instead
// of 48.
#pragma once

#include <CL/cl.h>

#include <array>
#include <cstddef>
#include <exception>
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
  // Starts a batch: every area is empty again.
  void begin();
  // A sub-buffer for `arg` of the batch's request `request`, its input
  // already copied to the area's host side; nullptr when the argument is
  // too big or its area is full.
  cl_mem place(const Arg& arg, size_t request);
  // Enqueues the writes of what was placed, without blocking.
  void upload();
  bool hasOutputs() const { return !outputs_.empty(); }
  // Enqueues the reads of the staged outputs, the last one blocking; false
  // when there are none.
  bool download();
  // Copies the staged outputs of the requests that did not fail to their hosts.
  void deliver(const std::vector<std::exception_ptr>& errors);
  void clear();

 private:
  // Slots of one size in one device buffer, each with its own sub-buffer:
  // sub-buffers never overlap (overlapping ones, tried first, crashed
  // NVIDIA's OpenCL when released).
  struct Area {
    cl_mem buffer = nullptr;          // on the device
    std::vector<unsigned char> host;  // its host side
    std::vector<cl_mem> slots;        // sub-buffers, made on first use
    size_t used = 0;                  // slots taken in this batch
    bool upload = false;              // a taken slot holds input
  };
  struct Output {
    size_t request;
    void* host;
    const Area* area;
    size_t offset;
    size_t bytes;
  };
  static constexpr size_t kClasses = 7;  // slot sizes grid << 0 .. grid << 6
  static constexpr size_t kSlots = 32;  // per area: 16 requests of 2 arguments
  size_t slotBytes(size_t sizeClass) const { return grid_ << sizeClass; }
  cl_mem slot(Area& area, size_t sizeClass, size_t index);
  void release(Area& area);

  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  size_t grid_ = 1;
  std::array<Area, kClasses> in_;   // read-only arguments, by size class
  std::array<Area, kClasses> out_;  // written (and read-write) arguments
  std::vector<Output> outputs_;
};

}  // namespace inaccel::opencl
