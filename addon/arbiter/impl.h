// Arbiter's private state, shared by arbiter.cc (setup, counters,
// snapshots), table.cc (table lock, repair, reaping, state writes),
// lease.cc (acquire and reconfigure) and whole.cc (whole-card leases).
#pragma once

#include <atomic>
#include <functional>
#include <condition_variable>
#include <mutex>
#include <string>

#include "arbiter/arbiter.h"
#include "arbiter/locks.h"
#include "arbiter/mapping.h"
#include "arbiter/state_file.h"

namespace inaccel {
namespace arb {

constexpr uint32_t kNoSlot = UINT32_MAX;

// Test hooks, null in production: called with the device locks held
// exclusively before a configuration is written, and in the middle of that
// write (sequence counters odd), so a test can SIGKILL a process there.
struct TestHooks {
  void (*exclusiveHeld)() = nullptr;
  void (*midUpdate)() = nullptr;
};
extern TestHooks testHooks;

uint64_t monoNs();  // CLOCK_MONOTONIC: one clock for all processes of a host
uint64_t realNs();

// In-process turn-taking on one device. The threads of one instance share
// its open file description, whose locks never conflict with each other,
// so the worker (acquire) and a lease's thread (leaseWhole) take turns here.
struct DeviceLocal {
  std::mutex m;
  std::condition_variable cv;
  bool busy = false;     // a thread is inside this device's kernel locks or holds its run lease
  int wholeWanted = 0;   // leaseWhole() calls waiting for `busy` to clear
  int wholeRunners = 0;  // leases running under this instance's whole-card lease
  bool runner = false;   // the run lease holds the runner byte too
  std::atomic<bool> whole{false};
  // Set by unleaseWhole() while runs are in progress under the whole lease:
  // no new run starts under it, those running see Lease::contended(), and
  // the last of them gives the card back (endWhole).
  std::atomic<bool> ending{false};
};

// Counts a slot as waiting on a device (Lease::contended) for a scope.
class Waiting {
 public:
  explicit Waiting(SlotDevice& sd) : sd_(sd) { add(sd_.waiting, 1u); }
  ~Waiting() { add(sd_.waiting, UINT32_MAX); }  // - 1
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;

 private:
  SlotDevice& sd_;
};

// Releases a lock byte at scope exit unless kept.
class Held {
 public:
  Held(int fd, off_t at) : fd_(fd), at_(at) {}
  ~Held() {
    if (armed_) unlockByte(fd_, at_);
  }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  void keep() { armed_ = false; }

 private:
  int fd_;
  off_t at_;
  bool armed_ = true;
};

struct Grant {
  bool held = false;
  uint64_t generation = 0;
  bool reconfigured = false;
};

}  // namespace arb

struct Arbiter::Impl {
  explicit Impl(const ArbiterOptions& options);
  ~Impl();

  // The table lock. This instance's threads first take tableMutex (they
  // share one description). Every taker repairs and reaps on entry.
  class Table {
   public:
    explicit Table(Impl& im);             // blocks
    Table(Impl& im, std::try_to_lock_t);  // gives up when taken
    ~Table();
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;
    explicit operator bool() const { return held_; }

   private:
    void enter();
    Impl& im_;
    std::unique_lock<std::mutex> lk_;
    bool held_ = false;
  };

  int fd() const { return map.fd(); }
  void checkDevice(uint32_t d) const;

  // table.cc. Under a Table:
  void beginUpdate();
  void endUpdate();
  void reap();
  void clearSlot(uint32_t s);
  // Each takes the Table itself:
  void maybeReap(uint64_t now);  // at most once a second, and only when the lock is free
  void claimSlot();
  uint32_t attach(const std::string& key, DeviceMode mode);
  uint32_t kernelIndex(uint32_t d, const std::string& accelerator);
  uint64_t writeConfig(uint32_t d, const std::string& id);  // device held exclusively
  // The record alone (no generation, no count): "" for none. Device held exclusively.
  void writeRecord(uint32_t d, const std::string& id, uint64_t configuredAt);
  void setLessee(uint32_t d, bool mine);

  // lease.cc
  bool writerWaiting(uint32_t d) const;
  bool othersUsing(uint32_t d) const;
  bool peekConfigured(uint32_t d, const std::string& id, uint64_t hash) const;
  bool configuredIs(uint32_t d, const std::string& id, uint64_t& generation);
  arb::Grant underWhole(uint32_t d, const std::string& id, const std::function<void()>& configure);
  arb::Grant acquireShared(uint32_t d, const std::string& id, const std::function<bool()>& giveUp,
                           const std::function<void()>& configure);
  arb::Grant runShared(uint32_t d, const std::string& id);
  void configuring(uint32_t d, const std::function<void()>& configure);
  arb::Grant reconfigure(uint32_t d, const std::string& id, uint64_t hash,
                         const std::function<bool()>& giveUp,
                         const std::function<void()>& configure);
  void release(uint32_t d, bool whole);

  // whole.cc
  void leaseWhole(uint32_t d, bool wait, const std::function<bool()>& giveUp);
  void unleaseWhole(uint32_t d);
  // Gives the whole-card lease back; the caller holds local[d].m, and no
  // run is in progress under the lease.
  void endWhole(uint32_t d);
  bool takeWhole(uint32_t d, bool wait, const std::function<bool()>& giveUp);

  arb::Mapping map;
  arb::State* const st;
  const int32_t pid;
  const uint64_t quantumNs;
  uint32_t slot = arb::kNoSlot;
  std::mutex tableMutex;
  std::atomic<uint64_t> nextReapNs{0};
  std::atomic<uint64_t> activeAt{0};  // what slots[slot].activeAt last got
  std::atomic<uint32_t> attached{0};  // 1 + the highest device index attach() returned here
  arb::DeviceLocal local[arb::kMaxDevices];
};

}  // namespace inaccel
