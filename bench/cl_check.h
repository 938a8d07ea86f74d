// What the raw OpenCL programs of bench/ share: failing with one JSON line
// the harness reads, checking an OpenCL status, and finding devices.
#pragma once

#include <CL/cl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

[[noreturn]] inline void die(const std::string& what) {
  std::printf("{\"error\":\"%s\"}\n", what.c_str());
  std::fflush(stdout);
  std::exit(1);
}

inline void check(cl_int status, const char* what) {
  if (status != CL_SUCCESS) die(std::string(what) + " failed: " + std::to_string(status));
}

// Every device of `type` on every platform, in platform order.
inline std::vector<cl_device_id> findDevices(cl_device_type type) {
  cl_uint platforms = 0;
  clGetPlatformIDs(0, nullptr, &platforms);
  std::vector<cl_platform_id> ids(platforms);
  if (platforms) clGetPlatformIDs(platforms, ids.data(), nullptr);
  std::vector<cl_device_id> out;
  for (cl_platform_id p : ids) {
    cl_uint n = 0;
    if (clGetDeviceIDs(p, type, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
    std::vector<cl_device_id> found(n);
    clGetDeviceIDs(p, type, n, found.data(), nullptr);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}
