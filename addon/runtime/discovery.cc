#include "runtime/discovery.h"

#include "common/error.h"
#include "runtime/opencl/opencl_backend.h"

namespace inaccel {

namespace {

void collect(Backend& backend, Discovery& into) {
  try {
    for (auto& device : backend.discover()) into.devices.push_back(std::move(device));
  } catch (const Error& error) {
    into.problems.push_back({backend.name(), error.code(), error.what()});
  } catch (const std::exception& error) {
    into.problems.push_back({backend.name(), "DEVICE_ERROR", error.what()});
  }
}

}  // namespace

Discovery discover() {
  Discovery result;
  opencl::OpenclBackend opencl;
  collect(opencl, result);
  return result;
}

}  // namespace inaccel
