// Finds the devices of every backend present on the host. A backend that is
// missing or broken is reported as a problem, not an error, so the others
// still serve.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace inaccel {

struct BackendProblem {
  std::string backend;
  std::string code;     // NO_RUNTIME, DEVICE_ERROR, ...
  std::string message;
};

struct Discovery {
  // Kept alive for their devices' sake (a plugin's devices may use them).
  std::vector<std::unique_ptr<Backend>> backends;
  std::vector<std::unique_ptr<Device>> devices;
  std::vector<BackendProblem> problems;
};

Discovery discover();

}  // namespace inaccel
