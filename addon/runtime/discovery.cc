#include "runtime/discovery.h"

#include <mutex>

#include "common/error.h"
#include "runtime/opencl/opencl_backend.h"
#include "runtime/plugin.h"

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
  // One discovery at a time in the process: the ICD loader and PoCL set
  // themselves up on the first call without a lock, and worker threads that
  // discovered at once crashed (SIGSEGV) or found no platform.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  Discovery result;
  result.backends.push_back(std::make_unique<opencl::OpenclBackend>());
  std::string whyNot;
  if (auto xrt = loadPluginBackend("xrt", &whyNot)) {
    result.backends.push_back(std::move(xrt));
  } else {
    result.problems.push_back({"xrt", "NO_RUNTIME", whyNot});
  }
  for (auto& backend : result.backends) collect(*backend, result);
  return result;
}

}  // namespace inaccel
