#include "runtime/opencl/staging.h"

#include <algorithm>
#include <cstring>

#include "runtime/opencl/cl_api.h"

namespace inaccel::opencl {

namespace {
// The smallest slot, or the device's alignment if coarser.
constexpr size_t kGrid = 256;
}  // namespace

void Staging::setContext(cl_context context, cl_command_queue queue, size_t align) {
  clear();
  context_ = context;
  queue_ = queue;
  grid_ = std::max(align, kGrid);
}

void Staging::begin() {
  for (auto* areas : {&in_, &out_}) {
    for (Area& area : *areas) {
      area.used = 0;
      area.upload = false;
    }
  }
  outputs_.clear();
}

cl_mem Staging::place(const Arg& arg, size_t request) {
  if (arg.bytes == 0 || arg.bytes > kMaxArgBytes) return nullptr;
  size_t sizeClass = 0;
  while (slotBytes(sizeClass) < arg.bytes) ++sizeClass;
  if (sizeClass >= kClasses) return nullptr;
  Area& area = (arg.access == Access::Read ? in_ : out_)[sizeClass];
  if (area.used == kSlots) return nullptr;
  const size_t index = area.used++;
  cl_mem memory = slot(area, sizeClass, index);
  const size_t offset = index * slotBytes(sizeClass);
  if (arg.access != Access::Write) {
    std::memcpy(area.host.data() + offset, arg.host, arg.bytes);
    area.upload = true;
  }
  if (arg.access != Access::Read) outputs_.push_back({request, arg.host, &area, offset, arg.bytes});
  return memory;
}

void Staging::upload() {
  for (auto* areas : {&in_, &out_}) {
    for (size_t c = 0; c < kClasses; ++c) {
      Area& area = (*areas)[c];
      if (!area.upload) continue;
      check(api().clEnqueueWriteBuffer(queue_, area.buffer, CL_FALSE, 0,
                                       area.used * slotBytes(c), area.host.data(), 0, nullptr,
                                       nullptr),
            "clEnqueueWriteBuffer");
    }
  }
}

bool Staging::download() {
  if (outputs_.empty()) return false;
  size_t last = 0;
  for (size_t c = 0; c < kClasses; ++c) {
    if (out_[c].used) last = c;
  }
  for (size_t c = 0; c <= last; ++c) {
    Area& area = out_[c];
    if (!area.used) continue;
    check(api().clEnqueueReadBuffer(queue_, area.buffer, c == last ? CL_TRUE : CL_FALSE, 0,
                                    area.used * slotBytes(c), area.host.data(), 0, nullptr,
                                    nullptr),
          "clEnqueueReadBuffer");
  }
  return true;
}

void Staging::deliver(const std::vector<std::exception_ptr>& errors) {
  for (const Output& output : outputs_) {
    if (output.request < errors.size() && errors[output.request]) continue;
    std::memcpy(output.host, output.area->host.data() + output.offset, output.bytes);
  }
}

// The host side is plain memory (the runtime copies transfers this small
// through pinned memory of its own).
cl_mem Staging::slot(Area& area, size_t sizeClass, size_t index) {
  const Api& cl = api();
  const size_t bytes = slotBytes(sizeClass);
  cl_int status = CL_SUCCESS;
  if (!area.buffer) {
    area.buffer = cl.clCreateBuffer(context_, CL_MEM_READ_WRITE, kSlots * bytes, nullptr, &status);
    check(status, "clCreateBuffer");
    area.host.resize(kSlots * bytes);
    area.slots.assign(kSlots, nullptr);
  }
  cl_mem& memory = area.slots[index];
  if (memory) return memory;
  cl_buffer_region region{index * bytes, bytes};
  memory = cl.clCreateSubBuffer(area.buffer, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                                &region, &status);
  check(status, "clCreateSubBuffer");
  return memory;
}

void Staging::release(Area& area) {
  const Api& cl = api();
  for (cl_mem memory : area.slots) {
    if (memory) cl.clReleaseMemObject(memory);
  }
  if (area.buffer) cl.clReleaseMemObject(area.buffer);
  area = Area{};
}

void Staging::clear() {
  if (!context_) return;
  for (auto* areas : {&in_, &out_}) {
    for (Area& area : *areas) release(area);
  }
  outputs_.clear();
}

}  // namespace inaccel::opencl
