// Error type of the C++ core. `code` is one of the stable codes the JS API
// exposes on InaccelError (NO_RUNTIME, NO_DEVICE, DEVICE_ERROR, ...).
#pragma once

#include <stdexcept>
#include <string>

namespace inaccel {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}

  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace inaccel
