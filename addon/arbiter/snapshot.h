// Builds the public Snapshot from the state and from what the lock probes
// found live. Pure and safe on any bytes (fuzz_state runs it on mutated
// states): every count is clamped, only live slots contribute.
#pragma once

#include <bitset>

#include "arbiter/arbiter.h"
#include "arbiter/state_file.h"

namespace inaccel {
namespace arb {

struct Liveness {
  std::bitset<kMaxSlots> slots;    // slot locks held (the caller's own included)
  std::bitset<kMaxDevices> whole;  // whole-card locks held
};

// Queued + running requests on `device`, summed over the `live` slots, or
// over every slot below slotHigh when `live` is null (view(): no probe).
uint32_t queueDepth(const State& s, uint32_t device, const std::bitset<kMaxSlots>* live);

Snapshot buildSnapshot(const State& s, const Liveness& live);

}  // namespace arb
}  // namespace inaccel
