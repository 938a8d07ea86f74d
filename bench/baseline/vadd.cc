// The raw OpenCL baseline: the host code a user writes by hand to run the
// vector.addition kernel (the same vadd.cl the SDK ships) on one device —
// buffers created once, then per request: blocking write a, blocking write
// b, kernel, blocking read c, from pageable (malloc'd) host memory.
//
//   vadd_baseline --kernel vadd.cl [--platform TEXT] [--device TEXT] [--type cpu|gpu]
//                 [--devices K] [--serve | CASE N ITERS [pinned|chunked|batched]]
//
// CASE is `lat` (µs per request), `tput` (requests/s) or `bw` (GB/s counting
// the 3 arrays). With --serve it reads "CASE N ITERS [VARIANT]" lines on
// stdin and answers each with one JSON line, so the bench driver can
// alternate it with the SDK without paying context creation every round.
// With --devices K it opens the first K matching devices and runs each case
// on all of them at once, one host thread per device, timed together
// (requests/s and GB/s add up): how far hand-written code in one process
// scales over a host's cards.
// `pinned`, `chunked` and `batched` are hand-tuned variants (see Bench::run):
// what a careful user can get out of the same device, shown beside the
// plain baseline as the hardware's bound, never used for the ratio.
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cl_check.h"

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string platformInfo(cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  clGetPlatformInfo(p, what, 0, nullptr, &n);
  std::string s(n, '\0');
  clGetPlatformInfo(p, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string deviceInfo(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  clGetDeviceInfo(d, what, 0, nullptr, &n);
  std::string s(n, '\0');
  clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string jsonText(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

double nowUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Host {
  float* a = nullptr;
  float* b = nullptr;
  float* c = nullptr;
  cl_mem pa = nullptr, pb = nullptr, pc = nullptr;  // pinned variant's host buffers
};

class Bench {
 public:
  Bench(cl_platform_id platform, cl_device_id device, const std::string& source)
      : platform_(platform), device_(device) {
    cl_int status = CL_SUCCESS;
    const cl_context_properties props[] = {
        CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(platform), 0};
    context_ = clCreateContext(props, 1, &device, nullptr, nullptr, &status);
    check(status, "clCreateContext");
    queue_ = clCreateCommandQueue(context_, device, 0, &status);
    check(status, "clCreateCommandQueue");
    const char* text = source.c_str();
    const size_t length = source.size();
    program_ = clCreateProgramWithSource(context_, 1, &text, &length, &status);
    check(status, "clCreateProgramWithSource");
    check(clBuildProgram(program_, 1, &device, "", nullptr, nullptr), "clBuildProgram");
    kernel_ = clCreateKernel(program_, "vadd", &status);
    check(status, "clCreateKernel");
  }

  // One measurement: ITERS requests of N floats, after one warm-up request
  // that also checks the result; `ready` is called between the two (devices
  // measured together start their clocks at once). Returns microseconds. `variant`: "" (the plain baseline),
  // "pinned", "chunked" (pinned, the request cut into chunks spread over
  // three in-order queues so that uploads, kernels and downloads of
  // different chunks overlap) or "batched" (pinned, 64 requests with their
  // own device buffers enqueued back to back, one clFinish per 64).
  double run(size_t n, long iters, const std::string& variant, const std::function<void()>& ready) {
    const bool pinned = !variant.empty();
    const size_t bytes = n * sizeof(float);
    cl_int status = CL_SUCCESS;
    Host host;
    if (pinned) {
      host.pa = clCreateBuffer(context_, CL_MEM_ALLOC_HOST_PTR, bytes, nullptr, &status);
      host.pb = clCreateBuffer(context_, CL_MEM_ALLOC_HOST_PTR, bytes, nullptr, &status);
      host.pc = clCreateBuffer(context_, CL_MEM_ALLOC_HOST_PTR, bytes, nullptr, &status);
      check(status, "clCreateBuffer(ALLOC_HOST_PTR)");
      auto map = [&](cl_mem m) {
        void* p = clEnqueueMapBuffer(queue_, m, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0,
                                     nullptr, nullptr, &status);
        check(status, "clEnqueueMapBuffer");
        return static_cast<float*>(p);
      };
      host.a = map(host.pa);
      host.b = map(host.pb);
      host.c = map(host.pc);
    } else {
      host.a = static_cast<float*>(std::malloc(bytes));
      host.b = static_cast<float*>(std::malloc(bytes));
      host.c = static_cast<float*>(std::malloc(bytes));
      if (!host.a || !host.b || !host.c) die("malloc");
    }
    for (size_t i = 0; i < n; i++) {
      host.a[i] = static_cast<float>(i % 1000) * 0.5f;
      host.b[i] = static_cast<float>(i % 7);
      host.c[i] = 0.0f;
    }
    // Device buffers: created once, reused by every request (what a user does).
    cl_mem da = clCreateBuffer(context_, CL_MEM_READ_ONLY, bytes, nullptr, &status);
    cl_mem db = clCreateBuffer(context_, CL_MEM_READ_ONLY, bytes, nullptr, &status);
    cl_mem dc = clCreateBuffer(context_, CL_MEM_WRITE_ONLY, bytes, nullptr, &status);
    check(status, "clCreateBuffer");
    const cl_int size = static_cast<cl_int>(n);
    check(clSetKernelArg(kernel_, 0, sizeof(cl_mem), &da), "clSetKernelArg");
    check(clSetKernelArg(kernel_, 1, sizeof(cl_mem), &db), "clSetKernelArg");
    check(clSetKernelArg(kernel_, 2, sizeof(cl_mem), &dc), "clSetKernelArg");
    check(clSetKernelArg(kernel_, 3, sizeof(cl_int), &size), "clSetKernelArg");
    const size_t global = (n + 63) / 64 * 64;  // as the SDK launches it
    const cl_bool writeBlocking = pinned ? CL_FALSE : CL_TRUE;

    auto request = [&] {
      check(clEnqueueWriteBuffer(queue_, da, writeBlocking, 0, bytes, host.a, 0, nullptr, nullptr),
            "clEnqueueWriteBuffer");
      check(clEnqueueWriteBuffer(queue_, db, writeBlocking, 0, bytes, host.b, 0, nullptr, nullptr),
            "clEnqueueWriteBuffer");
      check(clEnqueueNDRangeKernel(queue_, kernel_, 1, nullptr, &global, nullptr, 0, nullptr,
                                   nullptr),
            "clEnqueueNDRangeKernel");
      check(clEnqueueReadBuffer(queue_, dc, CL_TRUE, 0, bytes, host.c, 0, nullptr, nullptr),
            "clEnqueueReadBuffer");
    };

    // chunked: kChunks sub-buffers of each array, round-robin over kQueues queues.
    constexpr size_t kQueues = 3;
    std::vector<cl_command_queue> queues;
    std::vector<std::array<cl_mem, 3>> chunks;
    std::vector<std::pair<size_t, size_t>> spans;  // first element, count
    if (variant == "chunked") {
      cl_uint alignBits = 0;
      clGetDeviceInfo(device_, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof alignBits, &alignBits, nullptr);
      const size_t align = std::max<size_t>(alignBits / 8 / sizeof(float), 1024);
      const size_t want = n >= (size_t{8} << 20) ? 16 : n >= (size_t{1} << 20) ? 4 : 1;
      const size_t step = std::max(align, (n / want + align - 1) / align * align);
      for (size_t first = 0; first < n; first += step) spans.push_back({first, std::min(step, n - first)});
      for (size_t q = 0; q < kQueues; q++) {
        queues.push_back(clCreateCommandQueue(context_, device_, 0, &status));
        check(status, "clCreateCommandQueue");
      }
      for (const auto& [first, count] : spans) {
        std::array<cl_mem, 3> sub{};
        const cl_mem whole[3] = {da, db, dc};
        for (int k = 0; k < 3; k++) {
          cl_buffer_region region{first * sizeof(float), count * sizeof(float)};
          sub[k] = clCreateSubBuffer(whole[k], 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &status);
          check(status, "clCreateSubBuffer");
        }
        chunks.push_back(sub);
      }
    }
    // batched: 64 sets of device buffers.
    constexpr int kBatch = 64;
    std::vector<std::array<cl_mem, 3>> sets;
    if (variant == "batched") {
      for (int i = 0; i < kBatch; i++) {
        std::array<cl_mem, 3> set{};
        for (int k = 0; k < 3; k++) {
          set[k] = clCreateBuffer(context_, CL_MEM_READ_WRITE, bytes, nullptr, &status);
          check(status, "clCreateBuffer");
        }
        sets.push_back(set);
      }
    }
    auto chunked = [&] {
      for (size_t i = 0; i < spans.size(); i++) {
        cl_command_queue q = queues[i % kQueues];
        const auto& [first, count] = spans[i];
        const size_t off = first * sizeof(float), len = count * sizeof(float);
        check(clEnqueueWriteBuffer(q, chunks[i][0], CL_FALSE, 0, len, host.a + first, 0, nullptr, nullptr),
              "clEnqueueWriteBuffer");
        check(clEnqueueWriteBuffer(q, chunks[i][1], CL_FALSE, 0, len, host.b + first, 0, nullptr, nullptr),
              "clEnqueueWriteBuffer");
        const cl_int part = static_cast<cl_int>(count);
        for (int k = 0; k < 3; k++) check(clSetKernelArg(kernel_, k, sizeof(cl_mem), &chunks[i][k]), "clSetKernelArg");
        check(clSetKernelArg(kernel_, 3, sizeof(cl_int), &part), "clSetKernelArg");
        const size_t g = (count + 63) / 64 * 64;
        check(clEnqueueNDRangeKernel(q, kernel_, 1, nullptr, &g, nullptr, 0, nullptr, nullptr),
              "clEnqueueNDRangeKernel");
        check(clEnqueueReadBuffer(q, chunks[i][2], CL_FALSE, 0, len, host.c + first, 0, nullptr, nullptr),
              "clEnqueueReadBuffer");
        (void)off;
      }
      for (cl_command_queue q : queues) check(clFinish(q), "clFinish");
    };
    long batchedDone = 0;
    auto batched = [&](long count) {
      for (long i = 0; i < count; i++) {
        const auto& set = sets[static_cast<size_t>(i % kBatch)];
        check(clEnqueueWriteBuffer(queue_, set[0], CL_FALSE, 0, bytes, host.a, 0, nullptr, nullptr),
              "clEnqueueWriteBuffer");
        check(clEnqueueWriteBuffer(queue_, set[1], CL_FALSE, 0, bytes, host.b, 0, nullptr, nullptr),
              "clEnqueueWriteBuffer");
        for (int k = 0; k < 3; k++) check(clSetKernelArg(kernel_, k, sizeof(cl_mem), &set[k]), "clSetKernelArg");
        check(clEnqueueNDRangeKernel(queue_, kernel_, 1, nullptr, &global, nullptr, 0, nullptr, nullptr),
              "clEnqueueNDRangeKernel");
        check(clEnqueueReadBuffer(queue_, set[2], CL_FALSE, 0, bytes, host.c, 0, nullptr, nullptr),
              "clEnqueueReadBuffer");
        if (++batchedDone % kBatch == 0) check(clFinish(queue_), "clFinish");
      }
      check(clFinish(queue_), "clFinish");
    };

    if (variant == "chunked") chunked();
    else if (variant == "batched") batched(1);
    else request();  // warm-up, and the check
    for (size_t i = 0; i < n; i++) {
      if (host.c[i] != host.a[i] + host.b[i]) die("wrong result at " + std::to_string(i));
    }
    ready();
    const double start = nowUs();
    if (variant == "chunked") {
      for (long i = 0; i < iters; i++) chunked();
    } else if (variant == "batched") {
      batched(iters);
    } else {
      for (long i = 0; i < iters; i++) request();
    }
    const double us = nowUs() - start;

    for (auto& sub : chunks) for (cl_mem m : sub) clReleaseMemObject(m);
    for (cl_command_queue q : queues) clReleaseCommandQueue(q);
    for (auto& set : sets) for (cl_mem m : set) clReleaseMemObject(m);

    clReleaseMemObject(da);
    clReleaseMemObject(db);
    clReleaseMemObject(dc);
    if (pinned) {
      clEnqueueUnmapMemObject(queue_, host.pa, host.a, 0, nullptr, nullptr);
      clEnqueueUnmapMemObject(queue_, host.pb, host.b, 0, nullptr, nullptr);
      clEnqueueUnmapMemObject(queue_, host.pc, host.c, 0, nullptr, nullptr);
      clFinish(queue_);
      clReleaseMemObject(host.pa);
      clReleaseMemObject(host.pb);
      clReleaseMemObject(host.pc);
    } else {
      std::free(host.a);
      std::free(host.b);
      std::free(host.c);
    }

    return us;
  }

  std::string describe() const {
    return "{\"platform\":\"" + jsonText(platformInfo(platform_, CL_PLATFORM_NAME)) +
           "\",\"device\":\"" + jsonText(deviceInfo(device_, CL_DEVICE_NAME)) + "\"}";
  }

 private:
  cl_platform_id platform_;
  cl_device_id device_;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  cl_program program_ = nullptr;
  cl_kernel kernel_ = nullptr;
};

// Lets the threads of one measurement start their clocks together.
class StartLine {
 public:
  explicit StartLine(size_t parties) : left_(parties) {}
  void arrive() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (--left_ == 0) all_.notify_all();
    else all_.wait(lock, [this] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_;
  size_t left_;
};

std::string handle(std::vector<Bench>& benches, const std::string& line) {
  std::istringstream in(line);
  std::string mode, flag;
  size_t n = 0;
  long iters = 0;
  in >> mode >> n >> iters >> flag;
  if ((mode != "lat" && mode != "tput" && mode != "bw") || n == 0 || iters <= 0) {
    return "{\"error\":\"bad case line: " + jsonText(line) + "\"}";
  }
  if (!flag.empty() && flag != "pinned" && flag != "chunked" && flag != "batched") {
    return "{\"error\":\"unknown variant: " + jsonText(flag) + "\"}";
  }
  StartLine start(benches.size());
  std::vector<double> us(benches.size());
  std::vector<std::thread> threads;
  for (size_t d = 0; d < benches.size(); d++) {
    threads.emplace_back([&, d] { us[d] = benches[d].run(n, iters, flag, [&] { start.arrive(); }); });
  }
  for (std::thread& t : threads) t.join();
  // Together they took as long as the slowest.
  const double slowest = *std::max_element(us.begin(), us.end());
  const double total = static_cast<double>(iters) * static_cast<double>(benches.size());
  double value = 0;
  if (mode == "lat") value = slowest / static_cast<double>(iters);
  else if (mode == "tput") value = total / (slowest / 1e6);
  else value = 3.0 * static_cast<double>(n * sizeof(float)) * total / (slowest * 1e3);
  std::ostringstream out;
  out.precision(6);
  out << "{\"mode\":\"" << mode << "\",\"n\":" << n << ",\"iters\":" << iters
      << ",\"variant\":\"" << (flag.empty() ? "plain" : flag) << "\",\"devices\":" << benches.size()
      << ",\"value\":" << value << ",\"totalUs\":" << slowest << "}";
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string kernelPath, platformText, deviceText, typeText;
  bool serve = false;
  size_t devices = 1;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--kernel") kernelPath = value();
    else if (arg == "--platform") platformText = lower(value());
    else if (arg == "--device") deviceText = lower(value());
    else if (arg == "--type") typeText = lower(value());
    else if (arg == "--devices") devices = std::strtoul(value().c_str(), nullptr, 10);
    else if (arg == "--serve") serve = true;
    else rest.push_back(arg);
  }
  if (kernelPath.empty()) die("--kernel PATH is required");
  if (devices == 0) die("--devices takes a positive count");
  std::ifstream file(kernelPath);
  if (!file) die("cannot read " + kernelPath);
  std::stringstream source;
  source << file.rdbuf();

  cl_uint count = 0;
  if (clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0) die("no OpenCL platform");
  std::vector<cl_platform_id> platforms(count);
  clGetPlatformIDs(count, platforms.data(), nullptr);
  std::vector<Bench> benches;
  benches.reserve(devices);
  for (cl_platform_id p : platforms) {
    if (!platformText.empty() &&
        lower(platformInfo(p, CL_PLATFORM_NAME)).find(platformText) == std::string::npos)
      continue;
    cl_device_type type = CL_DEVICE_TYPE_ALL;
    if (typeText == "cpu") type = CL_DEVICE_TYPE_CPU;
    if (typeText == "gpu") type = CL_DEVICE_TYPE_GPU;
    cl_uint n = 0;
    if (clGetDeviceIDs(p, type, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
    std::vector<cl_device_id> ids(n);
    clGetDeviceIDs(p, type, n, ids.data(), nullptr);
    for (cl_device_id d : ids) {
      if (benches.size() == devices) break;
      if (!deviceText.empty() &&
          lower(deviceInfo(d, CL_DEVICE_NAME)).find(deviceText) == std::string::npos)
        continue;
      benches.emplace_back(p, d, source.str());
    }
  }
  if (benches.size() < devices) {
    die(std::to_string(devices) + " OpenCL devices asked for, " + std::to_string(benches.size()) + " match");
  }

  if (!serve) {
    std::string line;
    for (const std::string& r : rest) line += r + " ";
    std::printf("%s\n", handle(benches, line).c_str());
    return 0;
  }
  std::string described;
  for (const Bench& bench : benches) described += (described.empty() ? "" : ",") + bench.describe();
  std::printf("{\"devices\":[%s]}\n", described.c_str());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    if (line == "quit") break;
    std::printf("%s\n", handle(benches, line).c_str());
    std::fflush(stdout);
  }
  return 0;
}
