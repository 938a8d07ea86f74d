#include "runtime/opencl/staging.h"

#include <cstring>

#include "runtime/opencl/cl_api.h"

namespace inaccel::opencl {

namespace {
// A batch of 16 requests with two arguments of up to 8 KiB each fits; past
// that, the arguments that do not fit move on their own.
constexpr size_t kAreaBytes = size_t{256} << 10;
// Sub-buffers kept per area; past this (many distinct sizes) they are remade.
constexpr size_t kMaxViews = 1024;
}  // namespace

void Staging::setContext(cl_context context, cl_command_queue queue, size_t align) {
  clear();
  context_ = context;
  queue_ = queue;
  align_ = align ? align : 1;
}

void Staging::begin() {
  for (Area* area : {&in_, &out_}) {
    area->used = 0;
    area->upload = false;
    if (area->views.size() > kMaxViews) {
      for (auto& entry : area->views) api().clReleaseMemObject(entry.second);
      area->views.clear();
    }
  }
  outputs_.clear();
}

cl_mem Staging::place(const Arg& arg, size_t request) {
  if (arg.bytes == 0 || arg.bytes > kMaxArgBytes) return nullptr;
  Area& area = arg.access == Access::Read ? in_ : out_;
  const size_t offset = (area.used + align_ - 1) / align_ * align_;
  if (offset + arg.bytes > kAreaBytes) return nullptr;
  if (!area.buffer) create(area);
  cl_mem memory = view(area, offset, arg.bytes);
  area.used = offset + arg.bytes;
  if (arg.access != Access::Write) {
    std::memcpy(area.host + offset, arg.host, arg.bytes);
    area.upload = true;
  }
  if (arg.access != Access::Read) outputs_.push_back({request, arg.host, offset, arg.bytes});
  return memory;
}

void Staging::upload() {
  for (Area* area : {&in_, &out_}) {
    if (!area->upload) continue;
    check(api().clEnqueueWriteBuffer(queue_, area->buffer, CL_FALSE, 0, area->used, area->host, 0,
                                     nullptr, nullptr),
          "clEnqueueWriteBuffer");
  }
}

bool Staging::download() {
  if (outputs_.empty()) return false;
  check(api().clEnqueueReadBuffer(queue_, out_.buffer, CL_TRUE, 0, out_.used, out_.host, 0,
                                  nullptr, nullptr),
        "clEnqueueReadBuffer");
  return true;
}

void Staging::deliver(const std::vector<std::exception_ptr>& errors) {
  for (const Output& output : outputs_) {
    if (output.request < errors.size() && errors[output.request]) continue;
    std::memcpy(output.host, out_.host + output.offset, output.bytes);
  }
}

void Staging::create(Area& area) {
  const Api& cl = api();
  cl_int status = CL_SUCCESS;
  area.buffer = cl.clCreateBuffer(context_, CL_MEM_READ_WRITE, kAreaBytes, nullptr, &status);
  check(status, "clCreateBuffer");
  area.pinned = cl.clCreateBuffer(context_, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, kAreaBytes,
                                  nullptr, &status);
  if (status == CL_SUCCESS) {
    area.host = static_cast<unsigned char*>(cl.clEnqueueMapBuffer(
        queue_, area.pinned, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, kAreaBytes, 0, nullptr,
        nullptr, &status));
  }
  if (status != CL_SUCCESS) {
    release(area);
    check(status, "staging area");
  }
}

cl_mem Staging::view(Area& area, size_t offset, size_t bytes) {
  const uint64_t key = static_cast<uint64_t>(offset) << 32 | bytes;
  auto found = area.views.find(key);
  if (found != area.views.end()) return found->second;
  cl_buffer_region region{offset, bytes};
  cl_int status = CL_SUCCESS;
  cl_mem memory = api().clCreateSubBuffer(area.buffer, CL_MEM_READ_WRITE,
                                          CL_BUFFER_CREATE_TYPE_REGION, &region, &status);
  check(status, "clCreateSubBuffer");
  area.views.emplace(key, memory);
  return memory;
}

void Staging::release(Area& area) {
  const Api& cl = api();
  for (auto& entry : area.views) cl.clReleaseMemObject(entry.second);
  area.views.clear();
  if (area.host) {
    cl.clEnqueueUnmapMemObject(queue_, area.pinned, area.host, 0, nullptr, nullptr);
    cl.clFinish(queue_);
  }
  if (area.pinned) cl.clReleaseMemObject(area.pinned);
  if (area.buffer) cl.clReleaseMemObject(area.buffer);
  area = Area{};
}

void Staging::clear() {
  if (!context_) return;
  release(in_);
  release(out_);
  outputs_.clear();
}

}  // namespace inaccel::opencl
