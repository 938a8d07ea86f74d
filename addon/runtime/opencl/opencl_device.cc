#include "runtime/opencl/opencl_device.h"

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "runtime/opencl/cl_api.h"
#include "runtime/opencl/program_cache.h"

namespace inaccel::opencl {

namespace {

std::string platformString(cl_platform_id platform, cl_platform_info what) {
  size_t size = 0;
  if (api().clGetPlatformInfo(platform, what, 0, nullptr, &size) != CL_SUCCESS) return "";
  std::string value(size, '\0');
  api().clGetPlatformInfo(platform, what, size, value.data(), nullptr);
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

std::string deviceString(cl_device_id device, cl_device_info what) {
  size_t size = 0;
  if (api().clGetDeviceInfo(device, what, 0, nullptr, &size) != CL_SUCCESS) return "";
  std::string value(size, '\0');
  api().clGetDeviceInfo(device, what, size, value.data(), nullptr);
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

template <typename T>
T deviceValue(cl_device_id device, cl_device_info what) {
  T value{};
  api().clGetDeviceInfo(device, what, sizeof value, &value, nullptr);
  return value;
}

std::string typeName(cl_device_type type) {
  if (type & CL_DEVICE_TYPE_GPU) return "gpu";
  if (type & CL_DEVICE_TYPE_CPU) return "cpu";
  if (type & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
  return "other";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("BITSTREAM_INVALID", "cannot read bitstream file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

OpenclDevice::OpenclDevice(cl_platform_id platform, cl_device_id device)
    : platform_(platform), device_(device) {
  info_.backend = "opencl";
  info_.platformVendor = platformString(platform, CL_PLATFORM_VENDOR);
  info_.platformName = platformString(platform, CL_PLATFORM_NAME);
  info_.platformVersion = platformString(platform, CL_PLATFORM_VERSION);
  info_.vendor = deviceString(device, CL_DEVICE_VENDOR);
  info_.name = deviceString(device, CL_DEVICE_NAME);
  info_.version = deviceString(device, CL_DRIVER_VERSION);
  info_.type = typeName(deviceValue<cl_device_type>(device, CL_DEVICE_TYPE));
  info_.globalMemory = deviceValue<cl_ulong>(device, CL_DEVICE_GLOBAL_MEM_SIZE);
  info_.compiler = deviceValue<cl_bool>(device, CL_DEVICE_COMPILER_AVAILABLE) == CL_TRUE;
  unifiedMemory_ = deviceValue<cl_bool>(device, CL_DEVICE_HOST_UNIFIED_MEMORY) == CL_TRUE;
  stage_ = info_.type == "gpu" || info_.type == "cpu";
}

OpenclDevice::~OpenclDevice() {
  try {
    unconfigure();
  } catch (...) {  // a destructor must not throw; the runtime is going away
  }
  for (size_t q = 1; q < queues_.size(); ++q) api().clReleaseCommandQueue(queues_[q]);
  if (queue_) api().clReleaseCommandQueue(queue_);
  if (context_) api().clReleaseContext(context_);
}

void OpenclDevice::ensureContext() {
  if (context_) return;
  createContext(platform_, device_, &context_, &queue_);
  buffers_.setContext(context_);
  // Sub-buffer origins must be multiples of this (given in bits).
  const cl_uint alignBits = deviceValue<cl_uint>(device_, CL_DEVICE_MEM_BASE_ADDR_ALIGN);
  staging_.setContext(context_, queue_, alignBits / 8);
}

cl_program OpenclDevice::build(const Bitstream& bitstream) {
  const Api& cl = api();
  cl_int status = CL_SUCCESS;
  cl_program program = nullptr;
  if (bitstream.format == "binary") {
    const std::string binary = readFile(bitstream.path);
    const auto* bytes = reinterpret_cast<const unsigned char*>(binary.data());
    const size_t size = binary.size();
    cl_int binaryStatus = CL_SUCCESS;
    program = cl.clCreateProgramWithBinary(context_, 1, &device_, &size, &bytes, &binaryStatus,
                                           &status);
    if (status == CL_INVALID_BINARY || binaryStatus == CL_INVALID_BINARY) {
      if (program) cl.clReleaseProgram(program);
      throw BuildFailed("clCreateProgramWithBinary of " + bitstream.id + ": " +
                        errorName(CL_INVALID_BINARY));
    }
    check(status, "clCreateProgramWithBinary");
  } else {
    static const ProgramCache cache;
    const std::string key = info_.platformName + "\n" + info_.name + "\n" + info_.version +
                            "\n" + bitstream.sha256 + "\n" + bitstream.buildOptions;
    const std::vector<unsigned char> cached = cache.load(key);
    if (!cached.empty()) {
      const unsigned char* bytes = cached.data();
      const size_t size = cached.size();
      cl_int binaryStatus = CL_SUCCESS;
      program = cl.clCreateProgramWithBinary(context_, 1, &device_, &size, &bytes,
                                             &binaryStatus, &status);
      if (status != CL_SUCCESS || binaryStatus != CL_SUCCESS ||
          cl.clBuildProgram(program, 1, &device_, bitstream.buildOptions.c_str(), nullptr,
                            nullptr) != CL_SUCCESS) {
        if (program) cl.clReleaseProgram(program);
        program = nullptr;  // a stale cache entry: build from source below
      }
    }
    if (program) return program;
    const std::string source = readFile(bitstream.path);
    const char* text = source.c_str();
    const size_t length = source.size();
    program = cl.clCreateProgramWithSource(context_, 1, &text, &length, &status);
    check(status, "clCreateProgramWithSource");
    status = cl.clBuildProgram(program, 1, &device_, bitstream.buildOptions.c_str(), nullptr,
                               nullptr);
    if (status != CL_SUCCESS) {
      size_t logSize = 0;
      cl.clGetProgramBuildInfo(program, device_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &logSize);
      std::string log(logSize, '\0');
      cl.clGetProgramBuildInfo(program, device_, CL_PROGRAM_BUILD_LOG, logSize, log.data(),
                               nullptr);
      cl.clReleaseProgram(program);
      throw BuildFailed("clBuildProgram of " + bitstream.id + ": " + errorName(status) + "\n" +
                        log);
    }
    size_t size = 0;
    if (cl.clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) ==
            CL_SUCCESS && size > 0) {
      std::vector<unsigned char> binary(size);
      unsigned char* out = binary.data();
      if (cl.clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof out, &out, nullptr) ==
          CL_SUCCESS) {
        cache.store(key, binary);
      }
    }
    return program;
  }
  status = cl.clBuildProgram(program, 1, &device_, bitstream.buildOptions.c_str(), nullptr,
                             nullptr);
  if (status != CL_SUCCESS) {
    cl.clReleaseProgram(program);
    throw BuildFailed("clBuildProgram of " + bitstream.id + ": " + errorName(status));
  }
  return program;
}

// The new program is built before the old one goes: a bitstream that does
// not build leaves the device with the program it had.
void OpenclDevice::configure(const Bitstream& bitstream) {
  if (program_ && configured_ == bitstream.id) return;
  ensureContext();
  cl_program program = build(bitstream);
  unconfigure();
  program_ = program;
  configured_ = bitstream.id;
}

void OpenclDevice::shrink() { buffers_.shrink(); }

void OpenclDevice::unconfigure() {
  const bool any = program_ || !kernels_.empty();
  if (!any) return;
  const Api& cl = api();
  for (auto& entry : kernels_) cl.clReleaseKernel(entry.second.kernel);
  kernels_.clear();
  if (program_) cl.clReleaseProgram(program_);
  program_ = nullptr;
  configured_.clear();
  buffers_.clear();
  staging_.clear();
}

const OpenclDevice::Kernel& OpenclDevice::kernel(const std::string& name) {
  auto found = kernels_.find(name);
  if (found != kernels_.end()) return found->second;
  const Api& cl = api();
  cl_int status = CL_SUCCESS;
  cl_kernel created = cl.clCreateKernel(program_, name.c_str(), &status);
  check(status, ("clCreateKernel(" + name + ")").c_str());
  size_t compiled[3] = {0, 0, 0};
  size_t largest = 0;
  cl.clGetKernelWorkGroupInfo(created, device_, CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
                              sizeof compiled, compiled, nullptr);
  cl.clGetKernelWorkGroupInfo(created, device_, CL_KERNEL_WORK_GROUP_SIZE, sizeof largest,
                              &largest, nullptr);
  const size_t local = compiled[0] ? compiled[0] : (largest >= kWorkGroup ? kWorkGroup : 0);
  return kernels_.emplace(name, Kernel{created, local, compiled[0] != 0}).first->second;
}

// Device memory for each buffer argument of `item`: the host pages
// themselves where the device shares them, else a staged slice for a small
// argument, else a pooled buffer whose write is enqueued now.
OpenclDevice::Bound OpenclDevice::bind(const RunItem& item, size_t request,
                                       cl_command_queue queue) {
  const Api& cl = api();
  const std::vector<Arg>& args = *item.args;
  Bound bound{std::vector<cl_mem>(args.size(), nullptr), std::vector<bool>(args.size(), false),
              queue};
  for (size_t i = 0; i < args.size(); ++i) {
    const Arg& arg = args[i];
    if (arg.kind != Arg::Kind::Buffer) continue;
    const bool wrap = inPlace(arg);
    if (movable(arg) && queue == queue_) {
      bound.memory[i] = staging_.place(arg, request);
      bound.staged[i] = bound.memory[i] != nullptr;
      if (bound.staged[i]) continue;
    }
    if (wrap) {
      bound.memory[i] = buffers_.wrap(arg.block);
    } else {
      const size_t bytes = arg.bytes ? arg.bytes : 1;
      bound.memory[i] = buffers_.take(bytes);
      lent_.push_back({bound.memory[i], bytes});
    }
    // On a wrapped buffer this is a no-op copy onto itself that still tells
    // the runtime the host wrote the pages.
    if (arg.access != Access::Write && arg.bytes > 0) {
      check(cl.clEnqueueWriteBuffer(queue, bound.memory[i], CL_FALSE, 0, arg.bytes, arg.host, 0,
                                    nullptr, nullptr),
            "clEnqueueWriteBuffer");
    }
  }
  return bound;
}

void OpenclDevice::setArgs(cl_kernel kernel, const std::vector<Arg>& args,
                           const std::vector<cl_mem>& memory) {
  for (size_t i = 0; i < args.size(); ++i) {
    const cl_uint index = static_cast<cl_uint>(i);
    const cl_int status =
        args[i].kind == Arg::Kind::Scalar
            ? api().clSetKernelArg(kernel, index, args[i].scalar.size(), args[i].scalar.data())
            : api().clSetKernelArg(kernel, index, sizeof(cl_mem), &memory[i]);
    check(status, "clSetKernelArg");
  }
}

void OpenclDevice::launch(const RunItem& item, const Bound& bound) {
  const Api& cl = api();
  const Kernel& entry = kernel(*item.kernel);
  setArgs(entry.kernel, *item.args, bound.memory);
  const size_t items = item.globalSize ? item.globalSize : 1;
  // Whole work-groups: a kernel compiled for a work-group size needs
  // exactly that one, and a kernel with a work size handles the extra
  // work-items. A single work-item task otherwise launches alone.
  const size_t local = entry.required || items > 1 ? entry.local : 0;
  const size_t global = local ? (items + local - 1) / local * local : items;
  check(cl.clEnqueueNDRangeKernel(bound.queue, entry.kernel, 1, nullptr, &global,
                                  local ? &local : nullptr, 0, nullptr, nullptr),
        "clEnqueueNDRangeKernel");
}

// Enqueues the reads of the outputs that were not staged, none blocking
// except, with `wait`, the last. Returns whether that read waited for everything.
bool OpenclDevice::readBack(const RunItem& item, const Bound& bound, bool wait) {
  const std::vector<Arg>& args = *item.args;
  const auto isOutput = [&](size_t i) {
    return args[i].kind == Arg::Kind::Buffer && args[i].access != Access::Read && args[i].bytes &&
           !bound.staged[i];
  };
  size_t last = args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    if (isOutput(i)) last = i;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (!isOutput(i)) continue;
    check(api().clEnqueueReadBuffer(bound.queue, bound.memory[i], wait && i == last ? CL_TRUE : CL_FALSE,
                                    0, args[i].bytes, args[i].host, 0, nullptr, nullptr),
          "clEnqueueReadBuffer");
  }
  return wait && last < args.size();
}

// Every request is enqueued before the one wait: the device overlaps one
// request's transfers with the next one's, and the host waits once. First
// the chunked requests, over all the queues; then each other request's own
// writes and the staged inputs, the kernels, the reads: on queue_, but
// large requests a queue each in turn (one's upload beside another's
// kernel or download).
void OpenclDevice::runMany(const std::vector<RunItem>& items,
                           std::vector<std::exception_ptr>& errors) {
  errors.assign(items.size(), nullptr);
  if (!program_) throw Error("DEVICE_ERROR", "device " + info_.key + " is not configured");
  const Api& cl = api();
  buffers_.purge();
  staging_.begin();
  std::vector<Bound> bound(items.size());
  std::vector<bool> chunked(items.size(), false);
  const auto each = [&](const auto& step) {
    for (size_t j = 0; j < items.size(); ++j) {
      if (errors[j] || chunked[j]) continue;
      try {
        step(j);
      } catch (...) {
        errors[j] = std::current_exception();
      }
    }
  };
  bool anyChunked = false;
  each([&](size_t j) {
    const size_t count = chunks(items[j]);
    if (count == 0) return;
    chunked[j] = anyChunked = true;
    runChunked(items[j], count);
  });
  bool anySpread = false;
  size_t spread = 0;
  each([&](size_t j) {
    cl_command_queue queue = queue_;
    if (spreads(items[j])) {
      ensureQueues();
      queue = queues_[spread++ % kQueues];
      anySpread = anySpread || queue != queue_;
    }
    bound[j] = bind(items[j], j, queue);
  });
  try {
    staging_.upload();
  } catch (...) {
    errors.assign(items.size(), std::current_exception());
  }
  each([&](size_t j) { launch(items[j], bound[j]); });
  // The last read on queue_ blocks (it returns sooner than clFinish on
  // NVIDIA's OpenCL: 23 vs 34 us per tiny request on an H100): the staged
  // one if any, else the last request's own.
  size_t lastOk = items.size();
  for (size_t j = 0; j < items.size(); ++j) {
    if (!errors[j] && !chunked[j] && bound[j].queue == queue_) lastOk = j;
  }
  bool waited = false;
  bool staged = false;
  try {
    staged = staging_.hasOutputs();
    each([&](size_t j) { waited = readBack(items[j], bound[j], !staged && j == lastOk) || waited; });
    if (staged) waited = staging_.download();
  } catch (...) {
    const std::exception_ptr error = std::current_exception();
    for (auto& e : errors) {
      if (!e) e = error;
    }
    waited = false;
  }
  cl_int status = waited ? CL_SUCCESS : cl.clFinish(queue_);
  for (size_t q = 1; (anyChunked || anySpread) && q < queues_.size(); ++q) {
    const cl_int finished = cl.clFinish(queues_[q]);
    if (status == CL_SUCCESS) status = finished;
  }
  // Nothing still uses the lent buffers now.
  for (const Lent& lent : lent_) buffers_.put(lent.buffer, lent.bytes);
  lent_.clear();
  if (status != CL_SUCCESS) {
    const Error error("DEVICE_ERROR", std::string("clFinish: ") + errorName(status));
    for (auto& e : errors) {
      if (!e) e = std::make_exception_ptr(error);
    }
  }
  if (staged) staging_.deliver(errors);
}

}  // namespace inaccel::opencl
