// A request as the engine sees it: where it may run, what it runs with, and
// whom to tell when it is done.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace inaccel {

// One device the request may run on, with what that device needs for it.
struct Candidate {
  uint32_t device = 0;   // index in the engine's device list
  Bitstream bitstream;
  std::string kernel;    // kernel function name in the bitstream
  std::vector<int> memoryBanks;  // per argument: the bitstream's bank, -1 none
  int chunkArg = -1;  // the work-size argument of an element-wise kernel, else -1
  uint64_t bitstreamHash = 0;  // of bitstream.id, as DeviceView holds it; set by Engine::prepare
};

// How an argument passes: a buffer (and which way its data goes) or a scalar.
struct Param {
  bool buffer = false;
  Access access = Access::ReadWrite;
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

// What every request of one accelerator shares: where it may run and with
// which bitstream. Made once per repository answer (src/submit.ts keeps it)
// and read, never changed, by its jobs, so that a request carries only its
// arguments across Node-API.
struct Plan {
  std::string accelerator;
  std::vector<Param> params;
  std::vector<Candidate> candidates;
};

// The submitter owns a job's plan and arguments and keeps them until `done`:
// a job crosses threads as a few pointers, and what the submitting thread
// allocated is freed there (memory freed by another thread contends on the
// allocator's locks, a measurable cost per request).
struct Job {
  uint64_t id = 0;                  // the submitter's number for it, for Engine::cancel
  const Plan* plan = nullptr;
  uint32_t chosen = 0;              // index in plan->candidates, set by Engine::submit
  std::vector<Arg>* args = nullptr;  // one per plan->params; banks set by Engine::submit
  size_t globalSize = 1;
  uint64_t submittedNs = 0;
  // Called exactly once, on a worker thread (or on the submitting thread
  // when the job fails before reaching a worker); the job's last use: plan
  // and args may be freed from then on.
  std::function<void(const Outcome&)> done;

  const Candidate& candidate() const { return plan->candidates[chosen]; }
  const std::string& accelerator() const { return plan->accelerator; }
};

uint64_t monotonicNs();

}  // namespace inaccel
