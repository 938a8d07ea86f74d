#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "common/error.h"

namespace inaccel {

namespace {
// A device that must be reconfigured for a job counts as this many queued
// requests: reconfiguring costs far more than waiting behind a few runs.
constexpr uint64_t kReconfigurePenalty = 8;
// While other processes use these devices, each process has a home device
// (its rank among the active processes modulo the device count), and any
// other device counts as this many queued requests more: sharing a device
// costs turns on it (on a GPU, context switches), so busy processes keep to
// cards of their own and spill over only when their own card is this far
// behind (four batches of the worker's pipeline). A process alone balances
// by queue depth over all the cards. When the home holds another bitstream
// (not none), the devices that hold the request's are home instead, or
// failing those the devices that hold none: ranks shift whenever a process
// before this one stops or starts, and moving would reconfigure cards
// (seconds each on an FPGA) for a placement no better than the one it has.
constexpr uint64_t kAwayPenalty = 64;
// Others' requests seen queued on a device keep the homes in force this
// long, as do others busy within as long (Arbiter::kBusyNs, by their
// stamps). Queues alone would not do: a busy process's queue empties and
// fills many times a millisecond, and may be empty whenever another looks.
// A process that submits now and then crowds the others only that long
// after each request.
constexpr uint64_t kCrowdedNs = Arbiter::kBusyNs;
// Who else is busy, and this process's rank, is looked up this often (a
// few lock probes): a process that started a moment ago may be done in
// 100 ms, and all of that on the wrong card.
constexpr uint64_t kPeersNs = 10000000;
}  // namespace

Engine::Engine(std::vector<std::unique_ptr<Device>> devices, const EngineOptions& options)
    : devices_(std::move(devices)), arbiter_(options.arbiter) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    const DeviceMode mode = i < options.modes.size() ? options.modes[i] : DeviceMode::Shared;
    slots_.push_back(arbiter_.attach(devices_[i]->info().key, mode));
  }
  for (size_t i = 0; i < devices_.size(); ++i) {
    workers_.push_back(std::make_unique<Worker>(*devices_[i], arbiter_,
                                                static_cast<uint32_t>(i), slots_[i]));
  }
}

Engine::~Engine() { workers_.clear(); }

uint32_t Engine::choose(const Job& job, uint64_t now) const {
  static std::atomic<uint32_t> rotation{0};
  const std::vector<Candidate>& candidates = job.plan->candidates;
  const size_t n = candidates.size();
  const size_t start = rotation.fetch_add(1, std::memory_order_relaxed) % n;
  std::vector<DeviceView>& views = views_;  // kept: no allocation per request
  views.resize(n);
  for (size_t i = 0; i < n; ++i) {
    views[i] = arbiter_.view(slots_.at(candidates[i].device));
    if (views[i].othersQueue > 0) crowdedUntil_ = now + kCrowdedNs;
  }
  if (now - peersAt_ >= kPeersNs) {
    const Arbiter::Peers peers = arbiter_.activePeers();
    home_ = peers.below % devices_.size();
    if (peers.busy > 0) crowdedUntil_ = std::max(crowdedUntil_, now + kPeersNs);
    peersAt_ = now;
  }
  const bool crowded = now < crowdedUntil_;
  // Home is home_, unless home_ holds another bitstream: then the devices
  // that hold this plan's, or failing those the empty ones.
  bool homeHasOther = false, someHaveIt = false, someEmpty = false;
  for (size_t i = 0; crowded && i < n; ++i) {
    const bool has = views[i].bitstreamHash == candidates[i].bitstreamHash;
    if (candidates[i].device == home_) homeHasOther = !has && views[i].bitstreamHash != 0;
    someHaveIt = someHaveIt || has;
    someEmpty = someEmpty || views[i].bitstreamHash == 0;
  }
  const bool toHolders = homeHasOther && someHaveIt;
  const bool toEmpty = homeHasOther && !someHaveIt && someEmpty;
  uint64_t best = std::numeric_limits<uint64_t>::max();
  uint32_t chosen = std::numeric_limits<uint32_t>::max();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    const Candidate& candidate = candidates[i];
    const DeviceView& view = views[i];
    if (view.mode == DeviceMode::Exclusive && !view.leasedByMe) continue;
    const bool ready = view.bitstreamHash == candidate.bitstreamHash;
    uint64_t score = view.queueDepth;
    if (!ready) score += kReconfigurePenalty;
    const bool atHome = toHolders ? ready : toEmpty ? view.bitstreamHash == 0 : candidate.device == home_;
    if (crowded && !atHome) score += kAwayPenalty;
    // Another process's whole-card lease: wait there only if nothing else fits.
    if (view.leasedByOther) score += std::numeric_limits<uint32_t>::max();
    if (score < best) {
      best = score;
      chosen = static_cast<uint32_t>(i);
    }
  }
  return chosen;
}

void Engine::prepare(Plan& plan) const {
  for (Candidate& candidate : plan.candidates) {
    if (candidate.device >= devices_.size()) {
      throw Error("NO_DEVICE", "no device " + std::to_string(candidate.device));
    }
    if (candidate.memoryBanks.size() != plan.params.size()) {
      throw Error("BITSTREAM_INVALID", "the bitstreams of " + plan.accelerator +
                                           " disagree on how many arguments it takes");
    }
    const int chunk = candidate.chunkArg;
    if (chunk >= 0 && (size_t(chunk) >= plan.params.size() || plan.params[chunk].buffer)) {
      throw Error("BITSTREAM_INVALID", "the work size of " + plan.accelerator + " is not a scalar");
    }
    candidate.bitstreamHash = bitstreamHash(candidate.bitstream.id);
  }
  if (plan.candidates.empty()) throw Error("NO_DEVICE", "no device can run " + plan.accelerator);
}

void Engine::submit(Job job) {
  const uint64_t now = monotonicNs();
  const uint32_t chosen = choose(job, now);
  if (chosen >= job.plan->candidates.size()) {
    // One candidate: the device asked for, or the only one that can run it.
    if (job.plan->candidates.size() == 1) {
      throw Error("DEVICE_BUSY", "device " + devices_.at(job.plan->candidates[0].device)->info().key +
                                     " is in exclusive mode and not leased by this process (lease() takes it)");
    }
    throw Error("DEVICE_BUSY", "every device that can run " + job.accelerator() +
                                   " is in exclusive mode and not leased by this process");
  }
  job.chosen = chosen;
  const Candidate& candidate = job.candidate();
  std::vector<Arg>& args = *job.args;
  for (size_t i = 0; i < args.size() && i < candidate.memoryBanks.size(); ++i) {
    args[i].memoryBank = candidate.memoryBanks[i];
  }
  const uint32_t device = candidate.device;
  job.submittedNs = now;
  arbiter_.enqueued(slots_[device], +1, now);
  workers_[device]->push(std::move(job));
}

size_t Engine::cancel(const std::unordered_set<uint64_t>& ids) {
  size_t cancelled = 0;
  for (const auto& worker : workers_) cancelled += worker->cancel(ids);
  return cancelled;
}

uint64_t Engine::lease(uint32_t device, bool wait, LeaseWaits::Done done) {
  if (device >= devices_.size()) throw Error("NO_DEVICE", "no device " + std::to_string(device));
  const uint32_t slot = slots_[device];
  return leaseWaits_.start(
      [this, slot, wait](const std::function<bool()>& giveUp) { arbiter_.leaseWhole(slot, wait, giveUp); },
      std::move(done));
}

void Engine::unlease(uint32_t device) {
  if (device >= devices_.size()) throw Error("NO_DEVICE", "no device " + std::to_string(device));
  arbiter_.unleaseWhole(slots_[device]);
}

}  // namespace inaccel
