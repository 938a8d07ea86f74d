// The engine: the host's devices, a worker thread per device, and the choice
// of device per request next to the arbiter state it depends on.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "arbiter/arbiter.h"
#include "engine/job.h"
#include "engine/lease_waits.h"
#include "engine/worker.h"
#include "runtime/backend.h"

namespace inaccel {

struct EngineOptions {
  ArbiterOptions arbiter;
  std::vector<DeviceMode> modes;  // per device; missing entries mean Shared
};

class Engine {
 public:
  // Takes the devices this engine drives (already discovered and selected).
  Engine(std::vector<std::unique_ptr<Device>> devices, const EngineOptions& options);
  ~Engine();

  size_t size() const { return devices_.size(); }
  const Device& device(uint32_t index) const { return *devices_.at(index); }

  // Checks a new plan's candidates against this engine's devices
  // (NO_DEVICE) and fills in what choosing among them reads.
  void prepare(Plan& plan) const;

  // Picks a device among the candidates of the job's (checked) plan and
  // queues the job there.
  void submit(Job job);

  // Fails the jobs of these ids that are still queued, not yet taken by
  // their devices' workers, with ABORTED. Returns how many it failed.
  size_t cancel(const std::unordered_set<uint64_t>& ids);

  // Leases the device whole on a thread of its own (see LeaseWaits);
  // `done` is called there. Returns the ticket for abortLease().
  uint64_t lease(uint32_t device, bool wait, LeaseWaits::Done done);
  // The wait, if not yet ended, ends with Error ABORTED, holding nothing.
  void abortLease(uint64_t ticket) { leaseWaits_.abort(ticket); }
  void unlease(uint32_t device);
  Snapshot snapshot() const { return arbiter_.snapshot(); }

 private:
  uint32_t choose(const Job& job, uint64_t now) const;

  std::vector<std::unique_ptr<Device>> devices_;
  Arbiter arbiter_;
  std::vector<uint32_t> slots_;  // device index -> arbiter device index
  std::vector<std::unique_ptr<Worker>> workers_;
  // choose() state; it runs on the one JS thread that owns this engine.
  mutable uint64_t crowdedUntil_ = 0;  // until when other processes count as using these devices
  mutable uint32_t home_ = 0;          // this process's home device while they do
  mutable uint64_t peersAt_ = 0;       // when home_ and the active peers were looked up
  mutable std::vector<DeviceView> views_;  // the candidates' views, reused
  // Last: destroyed (its waits aborted and joined) before what they use.
  LeaseWaits leaseWaits_;
};

}  // namespace inaccel
