// What the raw OpenCL programs of bench/ share: failing with one JSON line
// the harness reads, and checking an OpenCL status.
#pragma once

#include <CL/cl.h>

#include <cstdio>
#include <cstdlib>
#include <string>

[[noreturn]] inline void die(const std::string& what) {
  std::printf("{\"error\":\"%s\"}\n", what.c_str());
  std::fflush(stdout);
  std::exit(1);
}

inline void check(cl_int status, const char* what) {
  if (status != CL_SUCCESS) die(std::string(what) + " failed: " + std::to_string(status));
}
