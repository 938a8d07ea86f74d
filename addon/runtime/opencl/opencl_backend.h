// OpenCL backend: every device of every platform the ICD loader finds.
#pragma once

#include "runtime/backend.h"

namespace inaccel::opencl {

class OpenclBackend : public Backend {
 public:
  std::string name() const override { return "opencl"; }
  std::vector<std::unique_ptr<Device>> discover() override;
};

}  // namespace inaccel::opencl
