// A request as the engine sees it: where it may run, what it runs with, and
// whom to tell when it is done.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace inaccel {

// One device the request may run on, with what that device needs for it.
struct Candidate {
  uint32_t device = 0;   // index in the engine's device list
  Bitstream bitstream;
  std::string kernel;    // kernel function name in the bitstream
};

struct Outcome {
  bool ok = true;
  std::string code;      // InaccelError code when !ok
  std::string message;
  uint32_t device = 0;
  uint64_t queuedNs = 0;  // from submit until the device took it
  uint64_t runNs = 0;     // data in, kernel, data out
  bool reconfigured = false;
};

struct Job {
  std::string accelerator;
  std::vector<Candidate> candidates;
  std::vector<Arg> args;
  size_t globalSize = 1;
  uint64_t submittedNs = 0;
  // Called exactly once, on a worker thread (or on the submitting thread
  // when the job fails before reaching a worker).
  std::function<void(const Outcome&)> done;
};

uint64_t monotonicNs();

}  // namespace inaccel
