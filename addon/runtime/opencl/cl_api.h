// The OpenCL entry points the backend uses, resolved at run time from the
// ICD loader (libOpenCL.so.1), so that the addon loads on hosts without
// OpenCL and reports NO_RUNTIME on use instead of failing to load.
#pragma once

#include <CL/cl.h>

#include <string>

namespace inaccel::opencl {

#define INACCEL_CL_FUNCTIONS(X)                                               \
  X(clGetPlatformIDs) X(clGetPlatformInfo) X(clGetDeviceIDs)                  \
  X(clGetDeviceInfo) X(clCreateContext) X(clReleaseContext)                   \
  X(clCreateCommandQueue) X(clReleaseCommandQueue)                            \
  X(clCreateProgramWithSource) X(clCreateProgramWithBinary)                   \
  X(clBuildProgram) X(clGetProgramInfo) X(clGetProgramBuildInfo)              \
  X(clReleaseProgram) X(clCreateKernel) X(clReleaseKernel) X(clSetKernelArg)  \
  X(clGetKernelWorkGroupInfo)  \
  X(clCreateBuffer) X(clCreateSubBuffer) X(clReleaseMemObject)               \
  X(clEnqueueWriteBuffer)                                                     \
  X(clEnqueueReadBuffer) X(clEnqueueMapBuffer) X(clEnqueueUnmapMemObject)     \
  X(clEnqueueNDRangeKernel) X(clFinish) X(clFlush) X(clWaitForEvents)         \
  X(clReleaseEvent)

struct Api {
#define INACCEL_CL_MEMBER(name) decltype(&::name) name = nullptr;
  INACCEL_CL_FUNCTIONS(INACCEL_CL_MEMBER)
#undef INACCEL_CL_MEMBER
};

// Loads the ICD loader once per process. Throws Error("NO_RUNTIME") naming
// what is missing. INACCEL_OPENCL_LIBRARY overrides the library path.
const Api& api();

// "CL_OUT_OF_RESOURCES" for -5, ...
const char* errorName(cl_int code);

// Throws Error("DEVICE_ERROR", "<what>: CL_...") when code != CL_SUCCESS.
void check(cl_int code, const char* what);

// A context of the one device, and an in-order queue on it. Throws as check().
void createContext(cl_platform_id platform, cl_device_id device, cl_context* context,
                   cl_command_queue* queue);

}  // namespace inaccel::opencl
