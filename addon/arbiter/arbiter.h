// The arbiter: daemonless sharing of a host's devices among threads,
// processes and users, through kernel-released file locks over a shared,
// mmap'd state file. Knows nothing of V8 or of any runtime backend.
// See docs/arbiter.md for the layout, the lock order and the protocol.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <functional>
#include <vector>

#include "common/fnv1a.h"

namespace inaccel {

enum class DeviceMode { Shared, Exclusive };

struct ArbiterOptions {
  std::string dir;                 // state directory (created 0770 if missing)
  // A configuration is kept this long while it has users waiting, and at
  // least kQuantumPerConfigure times what the device took to take it on:
  // a card that takes seconds to configure (an FPGA) spends at most a
  // fifth of its time reconfiguring, however its users interleave.
  uint64_t quantumNs = 20000000;
};

constexpr uint64_t kQuantumPerConfigure = 4;

struct KernelCounters {
  std::string accelerator;  // "vector.addition"
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t busyNs = 0;
};

struct DeviceSnapshot {
  uint32_t index = 0;
  std::string key;
  DeviceMode mode = DeviceMode::Shared;
  std::string bitstream;       // configured bitstream id, "" if none
  uint64_t generation = 0;     // bumped on every reconfiguration
  uint64_t reconfigurations = 0;
  uint64_t configureNs = 0;  // what the last reconfiguration took the device; 0: unknown
  uint32_t queueDepth = 0;     // requests queued or running, all live processes
  uint32_t waiting = 0;        // processes waiting to reconfigure it
  int32_t lessee = 0;          // pid holding the whole-card lease, 0 if none
  std::vector<int32_t> users;  // pids of live processes with requests on it
  std::vector<KernelCounters> kernels;
};

struct ProcessSnapshot {
  int32_t pid = 0;
  uint64_t startTime = 0;  // ns since epoch
};

struct Snapshot {
  std::vector<DeviceSnapshot> devices;
  std::vector<ProcessSnapshot> processes;
};

// What the scheduler reads per request: cheap, no lock taken.
struct DeviceView {
  uint64_t bitstreamHash = 0;  // hash of the configured bitstream id, 0 if none
  uint64_t generation = 0;
  uint32_t queueDepth = 0;
  uint32_t othersQueue = 0;    // the other instances' part of queueDepth
  bool leasedByOther = false;  // another Arbiter instance holds the whole card
  // This instance holds the whole card, and has not given it back: a lease
  // being given back (the runs in hand end it) takes no new runs.
  bool leasedByMe = false;
  DeviceMode mode = DeviceMode::Shared;
};

// The hash DeviceView::bitstreamHash holds: FNV-1a of the bitstream id
// (never 0 for a non-empty id in practice; 0 means "none").
inline uint64_t bitstreamHash(const std::string& id) {
  return id.empty() ? 0 : fnv1a(id.data(), id.size());
}

class Arbiter;

// A run lease on one device: while held, the device stays configured with
// the bitstream it was acquired for. Move-only; released on destruction.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  explicit operator bool() const { return arbiter_ != nullptr; }
  // Generation of the configuration this lease runs on. A process whose
  // loaded program is of another generation must configure again.
  uint64_t generation() const { return generation_; }
  // True when this acquire reconfigured the device (this process must load).
  bool reconfigured() const { return reconfigured_; }
  // True when it runs under this instance's whole-card lease.
  bool whole() const { return whole_; }
  // Tells the other processes that the device, reconfigured by this
  // lease, took `tookNs` to take the configuration on: the quantum starts
  // now and lasts kQuantumPerConfigure times that at least.
  void configured(uint64_t tookNs);
  // True when another process waits to reconfigure this device, or when
  // the whole-card lease this lease runs under is being given back
  // (once this lease is released): the holder should release after the
  // request in hand instead of batching more.
  bool contended() const;
  // True when another process has requests queued for this device: the
  // holder should hand it over once its time slice is spent.
  bool othersQueued() const;
  void release();

 private:
  friend class Arbiter;
  Arbiter* arbiter_ = nullptr;
  uint32_t device_ = 0;
  uint64_t generation_ = 0;
  bool reconfigured_ = false;
  bool whole_ = false;  // runs under this instance's whole-card lease: no lock
};

class Arbiter {
 public:
  // Opens (creating if needed) the state directory and file, validates or
  // repairs it, and claims a process slot. Throws Error with code
  // PERMISSION_DENIED, STATE_CORRUPT, STATE_VERSION or ARBITER_ERROR.
  explicit Arbiter(const ArbiterOptions& options);
  ~Arbiter();
  Arbiter(const Arbiter&) = delete;
  Arbiter& operator=(const Arbiter&) = delete;

  // Registers a device by its stable key (idempotent across processes) and
  // returns its index in the device table. `mode` comes from host config.
  uint32_t attach(const std::string& key, DeviceMode mode);

  DeviceView view(uint32_t device) const;

  // True while another instance leases the device whole (DeviceView's
  // leasedByOther alone, without the queue sums).
  bool leasedByOther(uint32_t device) const;
  // Whether the device is in exclusive mode now (view()'s mode alone: one
  // load, for the per-run check).
  bool exclusive(uint32_t device) const;
  // Whether this instance holds the device's whole-card lease and has not
  // given it back (DeviceView's leasedByMe alone: two loads).
  bool leasedByMe(uint32_t device) const;

  // The other live instances, by their last request queued or done (a
  // stamp up to 10 ms stale): how many of those active within kActiveNs
  // hold a lower process slot than this one (its rank: 0, 1, 2, ...
  // whatever gaps dead or idle ones leave), and how many were busy within
  // kBusyNs, using the devices now as far as the stamps tell. About two
  // lock probes per live slot.
  struct Peers {
    uint32_t below = 0;
    uint32_t busy = 0;
  };
  Peers activePeers() const;
  static constexpr uint64_t kActiveNs = 250000000;
  static constexpr uint64_t kBusyNs = 100000000;

  // This instance's count of queued + running requests on `device`
  // (summed over live instances into DeviceSnapshot::queueDepth). `now`
  // (CLOCK_MONOTONIC ns) is the caller's: it runs twice per request, whose
  // path has read the clock already.
  void enqueued(uint32_t device, int delta, uint64_t now);
  void enqueued(uint32_t device, int delta);

  // Blocks until `device` runs `bitstreamId` under a shared lease,
  // reconfiguring it (exclusively, fairly, at most once per quantum while
  // others wait for the current configuration) when needed. `giveUp`, if
  // set, is asked while it waits out another configuration's quantum:
  // true throws Error("ABORTED"). `configure`, if set, is called when this
  // acquire reconfigures the device, with the device held exclusively and
  // before the new configuration is recorded: when it throws, acquire
  // throws that, holding nothing, and the device's record (bitstream,
  // generation, reconfigurations) stays as it was. While it runs, the
  // record says none: a process killed there leaves no other believing
  // the device still holds the previous configuration.
  Lease acquire(uint32_t device, const std::string& bitstreamId,
                const std::function<bool()>& giveUp = {},
                const std::function<void()>& configure = {});

  // Adds one finished request to the device's per-accelerator counters.
  void record(uint32_t device, const std::string& accelerator, bool ok,
              uint64_t busyNs);

  // Whole-card lease: exclusive until unleaseWhole() or process death.
  // With wait=false, throws Error("DEVICE_BUSY") if another holds the card.
  // While it waits, `giveUp`, if set, is asked every few milliseconds:
  // true throws Error("ABORTED") and leaves nothing held.
  void leaseWhole(uint32_t device, bool wait, const std::function<bool()>& giveUp = {});
  // Gives the card back, at once or, while runs are in progress under it,
  // when the last of them is released (their holders see contended() and
  // release after the request in hand); returns without waiting for them.
  // Runs asked for meanwhile wait for it, then take the shared path.
  void unleaseWhole(uint32_t device);

  Snapshot snapshot() const;

  // Read-only snapshot of a state directory, claiming no slot (CLI, tools).
  static Snapshot inspect(const std::string& dir);

 private:
  friend class Lease;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inaccel
