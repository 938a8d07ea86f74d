// Large requests over several queues: those of element-wise kernels in
// chunks (OpenclDevice::chunks, runChunked), the others a request per queue
// (spreads). The rest of the class is in opencl_device.cc.
#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "runtime/opencl/cl_api.h"
#include "runtime/opencl/opencl_device.h"

namespace inaccel::opencl {

namespace {

// Chunking: requests of element-wise kernels whose buffers come to at least
// kChunkMinBytes run as about kChunkBytes of data per chunk, at most
// kMaxChunks chunks, over the kQueues queues. The hand-tuned `chunked` bench
// variant measured 4 chunks at 1 Mi floats and 16 at 64 Mi over 3 queues.
constexpr size_t kChunkMinBytes = 8u << 20;
constexpr size_t kChunkBytes = 3u << 20;
constexpr size_t kMaxChunks = 16;
// Other requests that move at least this much go round the queues.
constexpr size_t kSpreadMinBytes = 1u << 20;

// A work-size scalar's value (int or long, as the kernel declares it); 0
// for any other width or a value below 1.
size_t scalarCount(const ScalarBytes& scalar) {
  if (scalar.size() == 4) {
    int32_t value;
    std::memcpy(&value, scalar.data(), 4);
    return value > 0 ? static_cast<size_t>(value) : 0;
  }
  if (scalar.size() == 8) {
    int64_t value;
    std::memcpy(&value, scalar.data(), 8);
    return value > 0 ? static_cast<size_t>(value) : 0;
  }
  return 0;
}

}  // namespace

// How many chunks `item` runs in; 0 to run it whole. Only element-wise
// kernels whose buffers all move through device buffers of their own: not
// wrapped host memory (nothing moves), not memory banks (FPGAs). Only the
// first n elements of each buffer move, n the work size (a buffer may be
// longer).
size_t OpenclDevice::chunks(const RunItem& item) const {
  if (item.chunkArg < 0) return 0;
  const std::vector<Arg>& args = *item.args;
  const size_t n = scalarCount(args.at(static_cast<size_t>(item.chunkArg)).scalar);
  if (n == 0) return 0;
  size_t total = 0;
  for (const Arg& arg : args) {
    if (arg.kind != Arg::Kind::Buffer) continue;
    if (!movable(arg) || arg.bytes / arg.elementBytes < n) return 0;
    total += n * arg.elementBytes;
  }
  if (total < kChunkMinBytes) return 0;
  const size_t count = std::min({kMaxChunks, total / kChunkBytes, n / kWorkGroup});
  return count >= 2 ? count : 0;
}

void OpenclDevice::ensureQueues() {
  if (queues_.empty()) queues_.push_back(queue_);
  while (queues_.size() < kQueues) {
    cl_int status = CL_SUCCESS;
    cl_command_queue queue = api().clCreateCommandQueue(context_, device_, 0, &status);
    check(status, "clCreateCommandQueue");
    queues_.push_back(queue);
  }
}

// Like chunks(), only where every buffer moves through a device buffer of
// its own, and whole: at least kSpreadMinBytes of them.
bool OpenclDevice::spreads(const RunItem& item) const {
  size_t total = 0;
  for (const Arg& arg : *item.args) {
    if (arg.kind != Arg::Kind::Buffer) continue;
    if (!movable(arg)) return false;
    total += arg.bytes;
  }
  return total >= kSpreadMinBytes;
}

// Enqueues `item` as `count` chunks of work-items, chunk c on queue c % 3:
// its inputs' slices written, the kernel launched over them with a global
// offset and the work size set to the chunk's end, its outputs' slices read.
void OpenclDevice::runChunked(const RunItem& item, size_t count) {
  const Api& cl = api();
  ensureQueues();
  const std::vector<Arg>& args = *item.args;
  const size_t sizeArg = static_cast<size_t>(item.chunkArg);
  const size_t n = scalarCount(args[sizeArg].scalar);
  const Kernel& entry = kernel(*item.kernel);
  std::vector<cl_mem> memory(args.size(), nullptr);
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind != Arg::Kind::Buffer) continue;
    const size_t bytes = n * args[i].elementBytes;
    memory[i] = buffers_.take(bytes);
    lent_.push_back({memory[i], bytes});
  }
  setArgs(entry.kernel, args, memory);
  // Chunks of whole work-groups; the kernel's own guard ends the last one.
  const size_t group = entry.local ? entry.local : kWorkGroup;
  const size_t per = ((n + count - 1) / count + group - 1) / group * group;
  for (size_t lo = 0, c = 0; lo < n; lo += per, ++c) {
    const size_t hi = std::min(n, lo + per);
    cl_command_queue queue = queues_[c % kQueues];
    const auto slice = [&](size_t i, bool write) {
      const size_t width = args[i].elementBytes;
      void* host = static_cast<uint8_t*>(args[i].host) + lo * width;
      const cl_int status =
          write ? cl.clEnqueueWriteBuffer(queue, memory[i], CL_FALSE, lo * width, (hi - lo) * width,
                                          host, 0, nullptr, nullptr)
                : cl.clEnqueueReadBuffer(queue, memory[i], CL_FALSE, lo * width, (hi - lo) * width,
                                         host, 0, nullptr, nullptr);
      check(status, write ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer");
    };
    for (size_t i = 0; i < args.size(); ++i) {
      if (memory[i] && args[i].access != Access::Write) slice(i, true);
    }
    // The work size argument, as wide as the kernel declares it, set to the chunk's end.
    ScalarBytes end;
    const int64_t wide = static_cast<int64_t>(hi);
    const int32_t narrow = static_cast<int32_t>(hi);
    end.assign(args[sizeArg].scalar.size() == 8 ? reinterpret_cast<const uint8_t*>(&wide)
                                                : reinterpret_cast<const uint8_t*>(&narrow),
               args[sizeArg].scalar.size());
    check(cl.clSetKernelArg(entry.kernel, static_cast<cl_uint>(sizeArg), end.size(), end.data()),
          "clSetKernelArg");
    const size_t offset = lo;
    const size_t global = (hi - lo + group - 1) / group * group;
    check(cl.clEnqueueNDRangeKernel(queue, entry.kernel, 1, &offset, &global,
                                    entry.local ? &entry.local : nullptr, 0, nullptr, nullptr),
          "clEnqueueNDRangeKernel");
    for (size_t i = 0; i < args.size(); ++i) {
      if (memory[i] && args[i].access != Access::Read) slice(i, false);
    }
  }
}

}  // namespace inaccel::opencl
