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
// over every slot below slotHigh when `live` is null (view(): no probe);
// and the part of that of the slots other than `self`, from the same read
// of each count: an instance's own count moves all the time, and reading it
// apart would show others who are not there.
struct QueueSums {
  uint32_t all = 0;
  uint32_t others = 0;
};
QueueSums queueSums(const State& s, uint32_t device, uint32_t self,
                    const std::bitset<kMaxSlots>* live = nullptr);

Snapshot buildSnapshot(const State& s, const Liveness& live);

}  // namespace arb
}  // namespace inaccel
