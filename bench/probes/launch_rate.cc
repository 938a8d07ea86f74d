// How many tiny kernel launches a second one process gets through the
// OpenCL driver, on one GPU and on several at once (one host thread per
// device): the bound behind two-devices-small. Each thread loops over
// batches shaped like the SDK's for 16-float vadd requests: one
// non-blocking write of the batch's inputs, `--batch` launches, one
// blocking read of the outputs. With `--args each` every launch sets its 4
// arguments first (as the SDK does); with `--args once` each batch position
// has a kernel object of its own whose arguments were set once. With
// `--depth D`, D batches are in flight on the device at once, each with
// buffers of its own: the host enqueues the next while the device runs the
// one before.
//
//   launch_rate [--type gpu|cpu] [--devices K] [--first I] [--seconds S]
//               [--batch B] [--args each|once] [--depth D]
//
// Prints one JSON line: launches per second per device and in all.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cl_check.h"
#include "together.h"

namespace {

const char* kSource =
    "__kernel void vadd(__global const float* a, __global const float* b,\n"
    "                   __global float* c, int n) {\n"
    "  int i = get_global_id(0);\n"
    "  if (i < n) c[i] = a[i] + b[i];\n"
    "}\n";

constexpr int kFloats = 16;
constexpr size_t kGlobal = 64;

struct Options : DeviceOptions {
  int batch = 16;
  bool argsOnce = false;
  int depth = 1;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (o.take(key, value)) continue;
    if (key == "--batch") o.batch = std::atoi(value.c_str());
    else if (key == "--args") o.argsOnce = value == "once";
    else if (key == "--depth") o.depth = std::atoi(value.c_str());
    else die("unknown option " + key);
  }
  if (!o.valid() || o.batch < 1 || o.depth < 1) die("bad options");
  return o;
}

// One device's loop; returns its launches once `stop` is set.
long long drive(cl_device_id device, const Options& o, std::atomic<int>& ready,
                const std::atomic<bool>& go, const std::atomic<bool>& stop) {
  cl_int status = CL_SUCCESS;
  cl_context context = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &status);
  check(status, "clCreateContext");
  cl_command_queue queue = clCreateCommandQueue(context, device, 0, &status);
  check(status, "clCreateCommandQueue");
  cl_program program = clCreateProgramWithSource(context, 1, &kSource, nullptr, &status);
  check(status, "clCreateProgramWithSource");
  check(clBuildProgram(program, 1, &device, nullptr, nullptr, nullptr), "clBuildProgram");
  const size_t bytes = kFloats * sizeof(float);
  const size_t b = static_cast<size_t>(o.batch);
  // Sub-buffers start at multiples of the device's base address alignment.
  cl_uint alignBits = 0;
  check(clGetDeviceInfo(device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof alignBits, &alignBits, nullptr),
        "clGetDeviceInfo");
  const size_t stride = std::max(bytes, static_cast<size_t>(alignBits / 8));
  const int n = kFloats;
  // What one batch in flight uses: inputs in one buffer, outputs in
  // another, as the SDK stages them, and their host sides.
  struct Set {
    cl_mem in = nullptr, out = nullptr;
    std::vector<cl_mem> slices;
    std::vector<cl_kernel> kernels;
    std::vector<float> hostIn, hostOut;
    cl_event done = nullptr;
  };
  std::vector<Set> sets(static_cast<size_t>(o.depth));
  for (Set& set : sets) {
    set.in = clCreateBuffer(context, CL_MEM_READ_ONLY, 2 * b * stride, nullptr, &status);
    check(status, "clCreateBuffer");
    set.out = clCreateBuffer(context, CL_MEM_WRITE_ONLY, b * stride, nullptr, &status);
    check(status, "clCreateBuffer");
    set.slices.resize(3 * b);
    for (size_t j = 0; j < b; ++j) {
      for (size_t k = 0; k < 3; ++k) {
        cl_buffer_region region{(k < 2 ? (2 * j + k) : j) * stride, bytes};
        set.slices[3 * j + k] = clCreateSubBuffer(k < 2 ? set.in : set.out, 0,
                                                  CL_BUFFER_CREATE_TYPE_REGION, &region, &status);
        check(status, "clCreateSubBuffer");
      }
    }
    set.kernels.resize(o.argsOnce ? b : 1);
    for (cl_kernel& kernel : set.kernels) {
      kernel = clCreateKernel(program, "vadd", &status);
      check(status, "clCreateKernel");
    }
    set.hostIn.assign(2 * b * stride / sizeof(float), 1.0f);
    set.hostOut.assign(b * stride / sizeof(float), 0.0f);
  }
  const auto setArgs = [&](Set& set, cl_kernel kernel, size_t j) {
    for (cl_uint k = 0; k < 3; ++k) {
      check(clSetKernelArg(kernel, k, sizeof(cl_mem), &set.slices[3 * j + k]), "clSetKernelArg");
    }
    check(clSetKernelArg(kernel, 3, sizeof n, &n), "clSetKernelArg");
  };
  if (o.argsOnce) {
    for (Set& set : sets) {
      for (size_t j = 0; j < b; ++j) setArgs(set, set.kernels[j], j);
    }
  }
  // Enqueues a batch on `set`, its read non-blocking; the caller waits on set.done.
  const auto enqueue = [&](Set& set) {
    check(clEnqueueWriteBuffer(queue, set.in, CL_FALSE, 0, set.hostIn.size() * sizeof(float),
                               set.hostIn.data(), 0, nullptr, nullptr),
          "clEnqueueWriteBuffer");
    for (size_t j = 0; j < b; ++j) {
      cl_kernel kernel = o.argsOnce ? set.kernels[j] : set.kernels[0];
      if (!o.argsOnce) setArgs(set, kernel, j);
      check(clEnqueueNDRangeKernel(queue, kernel, 1, nullptr, &kGlobal, nullptr, 0, nullptr,
                                   nullptr),
            "clEnqueueNDRangeKernel");
    }
    check(clEnqueueReadBuffer(queue, set.out, CL_FALSE, 0, set.hostOut.size() * sizeof(float),
                              set.hostOut.data(), 0, nullptr, &set.done),
          "clEnqueueReadBuffer");
    clFlush(queue);
  };
  const auto wait = [&](Set& set) {
    check(clWaitForEvents(1, &set.done), "clWaitForEvents");
    clReleaseEvent(set.done);
    set.done = nullptr;
  };
  // Batch i goes to set i % depth, which waits for its batch before.
  long long batches = 0;
  const auto step = [&]() {
    Set& set = sets[static_cast<size_t>(batches % o.depth)];
    if (set.done) wait(set);
    enqueue(set);
    ++batches;
  };
  for (int warm = 0; warm < 50; ++warm) step();
  for (Set& set : sets) {
    if (set.done) wait(set);
  }
  if (sets[0].hostOut[0] != 2.0f) die("wrong result");
  ready++;
  while (!go) std::this_thread::yield();
  batches = 0;
  while (!stop) step();
  for (Set& set : sets) {
    if (set.done) wait(set);
  }
  const long long launches = batches * o.batch;
  for (Set& set : sets) {
    for (cl_kernel kernel : set.kernels) clReleaseKernel(kernel);
    for (cl_mem slice : set.slices) clReleaseMemObject(slice);
    clReleaseMemObject(set.in);
    clReleaseMemObject(set.out);
  }
  clReleaseProgram(program);
  clReleaseCommandQueue(queue);
  clReleaseContext(context);
  return launches;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const auto [launches, elapsed] = runTogether<long long>(
      o.chosen(), o.seconds, [&](cl_device_id device, std::atomic<int>& ready,
                             const std::atomic<bool>& go, const std::atomic<bool>& stop) {
        return drive(device, o, ready, go, stop);
      });
  std::string per;
  double total = 0;
  for (long long count : launches) {
    per += (per.empty() ? "" : ",") + std::to_string(static_cast<long long>(count / elapsed));
    total += count / elapsed;
  }
  std::printf("{\"devices\":%d,\"first\":%d,\"batch\":%d,\"depth\":%d,\"args\":\"%s\",\"perDevice\":[%s],\"total\":%lld}\n",
              o.devices, o.first, o.batch, o.depth, o.argsOnce ? "once" : "each", per.c_str(),
              static_cast<long long>(total));
  return 0;
}
