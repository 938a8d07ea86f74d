// The worker thread of one device: takes the device's lease from the
// arbiter, keeps the device configured as the arbiter says, runs jobs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "arbiter/arbiter.h"
#include "engine/job.h"
#include "runtime/backend.h"

namespace inaccel {

class Worker {
 public:
  Worker(Device& device, Arbiter& arbiter, uint32_t index, uint32_t slot);
  ~Worker();  // fails what is still queued, then joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The job's chosen candidate is this worker's device.
  void push(Job job);

  // Fails the queued jobs of these ids with ABORTED, in one pass over the
  // queue, and has one that waits out another configuration's quantum
  // give up (it then fails with ABORTED too); those this worker has taken
  // to run (or never had) stay as they are. Returns how many it failed
  // from the queue.
  size_t cancel(const std::unordered_set<uint64_t>& ids);

 private:
  Job pop();
  void loop();
  void linger();
  void idle();
  void serve(Job& first, std::unique_lock<std::mutex>& lock);
  uint64_t load(const Bitstream& bitstream);
  static std::string buildKey(const Bitstream& bitstream);
  void runBatch(std::vector<Job>& jobs, bool reconfigured);
  // Settles a job that never ran as failed, off this device's queue count.
  void fail(Job& job, const std::string& code, const std::string& message);

  Device& device_;
  Arbiter& arbiter_;
  const uint32_t index_;  // in the engine's device list
  const uint32_t slot_;   // in the arbiter's device table
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  // The job serve() is taking the device's lease for, and whether an
  // abort came for it meanwhile (acquire() gives up on a quantum's wait).
  std::optional<uint64_t> taking_;
  std::atomic<bool> abandon_{false};
  std::atomic<size_t> queued_{0};  // queue_.size(), read without the mutex
  bool stopping_ = false;
  // What this process has loaded on the device, and of which generation.
  std::string loaded_;
  uint64_t loadedGeneration_ = 0;
  // Bitstreams (buildKey) that failed to build on the device, and how: their
  // requests fail at once. Touched by this worker's thread only.
  std::map<std::string, std::string> buildFailures_;
  std::thread thread_;
};

}  // namespace inaccel
