#include "runtime/opencl/cl_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "common/error.h"

namespace inaccel::opencl {

namespace {

Api load() {
  const char* env = std::getenv("INACCEL_OPENCL_LIBRARY");
  const std::string path = env && *env ? env : "libOpenCL.so.1";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    throw Error("NO_RUNTIME", "no OpenCL library: cannot load " + path + " (" +
                                  dlerror() + "); install an OpenCL ICD loader and driver, "
                                  "e.g. apt-get install ocl-icd-libopencl1 pocl-opencl-icd");
  }
  Api api;
#define INACCEL_CL_LOAD(name)                                                   \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(handle, #name));        \
  if (!api.name) throw Error("NO_RUNTIME", path + " lacks " #name);
  INACCEL_CL_FUNCTIONS(INACCEL_CL_LOAD)
#undef INACCEL_CL_LOAD
  return api;  // the handle stays open for the life of the process
}

}  // namespace

const Api& api() {
  // A failed load is retried on the next call (the error is rethrown each
  // time), a good one is kept.
  static std::mutex mutex;
  static Api* loaded = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) loaded = new Api(load());
  return *loaded;
}

const char* errorName(cl_int code) {
  switch (code) {
#define C(name) case name: return #name;
    C(CL_SUCCESS) C(CL_DEVICE_NOT_FOUND) C(CL_DEVICE_NOT_AVAILABLE)
    C(CL_COMPILER_NOT_AVAILABLE) C(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    C(CL_OUT_OF_RESOURCES) C(CL_OUT_OF_HOST_MEMORY)
    C(CL_PROFILING_INFO_NOT_AVAILABLE) C(CL_MEM_COPY_OVERLAP)
    C(CL_IMAGE_FORMAT_MISMATCH) C(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    C(CL_BUILD_PROGRAM_FAILURE) C(CL_MAP_FAILURE)
    C(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    C(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    C(CL_COMPILE_PROGRAM_FAILURE) C(CL_LINKER_NOT_AVAILABLE)
    C(CL_LINK_PROGRAM_FAILURE) C(CL_DEVICE_PARTITION_FAILED)
    C(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) C(CL_INVALID_VALUE)
    C(CL_INVALID_DEVICE_TYPE) C(CL_INVALID_PLATFORM) C(CL_INVALID_DEVICE)
    C(CL_INVALID_CONTEXT) C(CL_INVALID_QUEUE_PROPERTIES)
    C(CL_INVALID_COMMAND_QUEUE) C(CL_INVALID_HOST_PTR)
    C(CL_INVALID_MEM_OBJECT) C(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    C(CL_INVALID_IMAGE_SIZE) C(CL_INVALID_SAMPLER) C(CL_INVALID_BINARY)
    C(CL_INVALID_BUILD_OPTIONS) C(CL_INVALID_PROGRAM)
    C(CL_INVALID_PROGRAM_EXECUTABLE) C(CL_INVALID_KERNEL_NAME)
    C(CL_INVALID_KERNEL_DEFINITION) C(CL_INVALID_KERNEL)
    C(CL_INVALID_ARG_INDEX) C(CL_INVALID_ARG_VALUE) C(CL_INVALID_ARG_SIZE)
    C(CL_INVALID_KERNEL_ARGS) C(CL_INVALID_WORK_DIMENSION)
    C(CL_INVALID_WORK_GROUP_SIZE) C(CL_INVALID_WORK_ITEM_SIZE)
    C(CL_INVALID_GLOBAL_OFFSET) C(CL_INVALID_EVENT_WAIT_LIST)
    C(CL_INVALID_EVENT) C(CL_INVALID_OPERATION) C(CL_INVALID_GL_OBJECT)
    C(CL_INVALID_BUFFER_SIZE) C(CL_INVALID_MIP_LEVEL)
    C(CL_INVALID_GLOBAL_WORK_SIZE) C(CL_INVALID_PROPERTY)
#undef C
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
  }
}

void check(cl_int code, const char* what) {
  if (code != CL_SUCCESS) {
    throw Error("DEVICE_ERROR", std::string(what) + ": " + errorName(code) +
                                    " (" + std::to_string(code) + ")");
  }
}

void createContext(cl_platform_id platform, cl_device_id device, cl_context* context,
                   cl_command_queue* queue) {
  const Api& cl = api();
  cl_int status = CL_SUCCESS;
  const cl_context_properties properties[] = {
      CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(platform), 0};
  *context = cl.clCreateContext(properties, 1, &device, nullptr, nullptr, &status);
  check(status, "clCreateContext");
  *queue = cl.clCreateCommandQueue(*context, device, 0, &status);
  if (status != CL_SUCCESS) cl.clReleaseContext(*context);
  check(status, "clCreateCommandQueue");
}

}  // namespace inaccel::opencl
