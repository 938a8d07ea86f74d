#include "runtime/opencl/opencl_backend.h"

#include <map>

#include "common/error.h"
#include "runtime/opencl/cl_api.h"
#include "runtime/opencl/opencl_device.h"

namespace inaccel::opencl {

std::vector<std::unique_ptr<Device>> OpenclBackend::discover() {
  const Api& cl = api();
  cl_uint count = 0;
  cl_int status = cl.clGetPlatformIDs(0, nullptr, &count);
  std::vector<std::unique_ptr<Device>> devices;
  // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no ICD is installed.
  if (status == -1001 || count == 0) {
    throw Error("NO_DEVICE", "no OpenCL platform is installed (no ICD in /etc/OpenCL/vendors)");
  }
  check(status, "clGetPlatformIDs");
  std::vector<cl_platform_id> platforms(count);
  check(cl.clGetPlatformIDs(count, platforms.data(), nullptr), "clGetPlatformIDs");

  std::map<std::string, int> seen;  // identical devices get an ordinal in the key
  std::string empty;                // the platforms without a device, for the error
  for (cl_platform_id platform : platforms) {
    cl_uint n = 0;
    status = cl.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &n);
    if (status == CL_DEVICE_NOT_FOUND || n == 0) {
      char name[256] = {0};
      cl.clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof name - 1, name, nullptr);
      empty += (empty.empty() ? "" : ", ") + std::string(name);
      continue;
    }
    check(status, "clGetDeviceIDs");
    std::vector<cl_device_id> ids(n);
    check(cl.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, n, ids.data(), nullptr),
          "clGetDeviceIDs");
    for (cl_device_id id : ids) {
      auto device = std::make_unique<OpenclDevice>(platform, id);
      const DeviceInfo& info = device->info();
      const std::string base = "opencl/" + info.platformName + "/" + info.name;
      device->setKey(base + "/" + std::to_string(seen[base]++));
      devices.push_back(std::move(device));
    }
  }
  if (devices.empty()) throw Error("NO_DEVICE", "OpenCL platforms without a device: " + empty);
  return devices;
}

}  // namespace inaccel::opencl
