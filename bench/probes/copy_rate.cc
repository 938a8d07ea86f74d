// How fast NVIDIA's (or any) OpenCL moves large transfers between pinned
// host memory and the GPUs, on one GPU and on several at once (one host
// thread per device), with no kernel: the ceiling the two-devices case's
// large requests meet in OpenCL itself, to set beside bench/probes/pcie.py's
// CUDA ceiling on the same host. Each thread walks a pinned host region
// (`--host-mib`, as large as the bench's requests in flight, so the host's
// memory is read and written as the bench does) in chunks of `--mib` MiB
// per buffer and sends chunk k to queue k % Q, keeping `--depth` chunks in
// flight per queue, as the SDK's chunked requests go round its queues.
// `--mix` sets what a chunk moves: vadd (two writes, one read: vadd's
// bytes), both (one write, one read), up (two writes), down (one read).
//
//   copy_rate [--type gpu|cpu] [--devices K] [--first I] [--seconds S] [--mix vadd|both|up|down]
//             [--mib M] [--host-mib H] [--queues Q] [--depth D]
//
// Prints one JSON line: GB/s per device and in all, every byte counted.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cl_check.h"
#include "together.h"

namespace {

struct Options : DeviceOptions {
  std::string mix = "vadd";
  size_t mib = 4;
  size_t hostMib = 1536;
  int queues = 3;
  int depth = 4;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (o.take(key, value)) continue;
    if (key == "--mix") o.mix = value;
    else if (key == "--mib") o.mib = std::strtoul(value.c_str(), nullptr, 10);
    else if (key == "--host-mib") o.hostMib = std::strtoul(value.c_str(), nullptr, 10);
    else if (key == "--queues") o.queues = std::atoi(value.c_str());
    else if (key == "--depth") o.depth = std::atoi(value.c_str());
    else die("unknown option " + key);
  }
  if (o.mix != "vadd" && o.mix != "both" && o.mix != "up" && o.mix != "down") die("bad --mix");
  if (!o.valid() || o.mib < 1 || o.queues < 1 || o.depth < 1 || o.hostMib < 3 * o.mib) {
    die("bad options");
  }
  return o;
}

// One device's loop; returns the bytes it moved once `stop` is set.
double drive(cl_device_id device, const Options& o, std::atomic<int>& ready,
             const std::atomic<bool>& go, const std::atomic<bool>& stop) {
  cl_int status = CL_SUCCESS;
  cl_context context = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &status);
  check(status, "clCreateContext");
  std::vector<cl_command_queue> queues(static_cast<size_t>(o.queues));
  for (cl_command_queue& queue : queues) {
    queue = clCreateCommandQueue(context, device, 0, &status);
    check(status, "clCreateCommandQueue");
  }
  const size_t chunk = o.mib << 20;
  const size_t hostBytes = o.hostMib << 20;
  // Pinned host memory, as the SDK's alloc() and the hand-tuned variants get it.
  cl_mem pinned = clCreateBuffer(context, CL_MEM_ALLOC_HOST_PTR, hostBytes, nullptr, &status);
  check(status, "clCreateBuffer");
  auto* host = static_cast<char*>(clEnqueueMapBuffer(queues[0], pinned, CL_TRUE,
                                                     CL_MAP_READ | CL_MAP_WRITE, 0, hostBytes, 0,
                                                     nullptr, nullptr, &status));
  check(status, "clEnqueueMapBuffer");
  for (size_t i = 0; i < hostBytes; i += 4096) host[i] = 1;
  const int writes = o.mix == "vadd" || o.mix == "up" ? 2 : o.mix == "both" ? 1 : 0;
  const int reads = o.mix == "up" ? 0 : 1;
  const size_t perChunk = static_cast<size_t>(writes + reads) * chunk;
  // A slot per chunk in flight: its device buffers and its last event.
  struct Slot {
    std::vector<cl_mem> buffers;
    cl_event done = nullptr;
  };
  std::vector<Slot> slots(static_cast<size_t>(o.queues * o.depth));
  for (Slot& slot : slots) {
    for (int i = 0; i < writes + reads; ++i) {
      slot.buffers.push_back(clCreateBuffer(context, CL_MEM_READ_WRITE, chunk, nullptr, &status));
      check(status, "clCreateBuffer");
    }
  }
  long long chunks = 0;
  size_t offset = 0;
  const auto step = [&]() {
    Slot& slot = slots[static_cast<size_t>(chunks % static_cast<long long>(slots.size()))];
    cl_command_queue queue = queues[static_cast<size_t>(chunks % o.queues)];
    if (slot.done) {
      check(clWaitForEvents(1, &slot.done), "clWaitForEvents");
      clReleaseEvent(slot.done);
      slot.done = nullptr;
    }
    if (offset + perChunk > hostBytes) offset = 0;
    for (int i = 0; i < writes + reads; ++i) {
      cl_event* event = i + 1 == writes + reads ? &slot.done : nullptr;
      if (i < writes) {
        check(clEnqueueWriteBuffer(queue, slot.buffers[i], CL_FALSE, 0, chunk, host + offset, 0,
                                   nullptr, event),
              "clEnqueueWriteBuffer");
      } else {
        check(clEnqueueReadBuffer(queue, slot.buffers[i], CL_FALSE, 0, chunk, host + offset, 0,
                                  nullptr, event),
              "clEnqueueReadBuffer");
      }
      offset += chunk;
    }
    clFlush(queue);
    ++chunks;
  };
  const auto drain = [&]() {
    for (Slot& slot : slots) {
      if (!slot.done) continue;
      check(clWaitForEvents(1, &slot.done), "clWaitForEvents");
      clReleaseEvent(slot.done);
      slot.done = nullptr;
    }
  };
  for (size_t warm = 0; warm < 2 * slots.size(); ++warm) step();
  drain();
  ready++;
  while (!go) std::this_thread::yield();
  chunks = 0;
  while (!stop) step();
  drain();
  const double bytes = static_cast<double>(chunks) * static_cast<double>(perChunk);
  for (Slot& slot : slots) {
    for (cl_mem buffer : slot.buffers) clReleaseMemObject(buffer);
  }
  check(clEnqueueUnmapMemObject(queues[0], pinned, host, 0, nullptr, nullptr), "clEnqueueUnmapMemObject");
  check(clFinish(queues[0]), "clFinish");
  clReleaseMemObject(pinned);
  for (cl_command_queue queue : queues) clReleaseCommandQueue(queue);
  clReleaseContext(context);
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const auto [bytes, elapsed] = runTogether<double>(
      o.chosen(), o.seconds, [&](cl_device_id device, std::atomic<int>& ready,
                             const std::atomic<bool>& go, const std::atomic<bool>& stop) {
        return drive(device, o, ready, go, stop);
      });
  std::string per;
  double total = 0;
  for (double moved : bytes) {
    char figure[32];
    std::snprintf(figure, sizeof figure, "%.1f", moved / elapsed / 1e9);
    per += (per.empty() ? "" : ",") + std::string(figure);
    total += moved / elapsed / 1e9;
  }
  std::printf("{\"devices\":%d,\"first\":%d,\"mix\":\"%s\",\"mib\":%zu,\"hostMib\":%zu,"
              "\"queues\":%d,\"depth\":%d,\"perDevice\":[%s],\"GBps\":%.1f}\n",
              o.devices, o.first, o.mix.c_str(), o.mib, o.hostMib, o.queues, o.depth, per.c_str(),
              total);
  return 0;
}
