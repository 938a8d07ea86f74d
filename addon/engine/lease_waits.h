// Whole-card lease requests, each waiting on a thread of its own: a lease
// may wait minutes for another process, and the thread that asked (the JS
// thread) must not. Each wait can be aborted; the ones left are aborted
// and joined when this is destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/error.h"

namespace inaccel {

class LeaseWaits {
 public:
  // Takes the lease; asks its argument (give up?) while it waits.
  using Take = std::function<void(const std::function<bool()>& giveUp)>;
  // Called on the wait's thread once it ends, with its ticket: error null when leased.
  using Done = std::function<void(uint64_t ticket, const Error* error)>;

  LeaseWaits() = default;
  LeaseWaits(const LeaseWaits&) = delete;
  LeaseWaits& operator=(const LeaseWaits&) = delete;
  ~LeaseWaits();

  // Starts a wait; returns its ticket for abort().
  uint64_t start(Take take, Done done);
  // The wait gives up (Error ABORTED) at its next look, unless it ended.
  void abort(uint64_t ticket);

 private:
  struct Wait {
    std::atomic<bool> aborted{false};
    std::atomic<bool> ended{false};
    std::thread thread;
  };
  void reap();  // joins the ended waits' threads; the caller holds mutex_

  std::mutex mutex_;
  std::map<uint64_t, std::unique_ptr<Wait>> waits_;
  uint64_t next_ = 1;
};

}  // namespace inaccel
