#include "engine/worker.h"

#include <chrono>

#include "common/error.h"

namespace inaccel {

namespace {

// How often an idle worker checks whether another process reconfigured its
// device, to drop what it loaded without waiting for JavaScript.
constexpr auto kIdlePoll = std::chrono::milliseconds(100);
// Jobs run back to back under one lease while nobody waits to reconfigure.
constexpr int kMaxBatch = 64;

Outcome failure(const std::string& code, const std::string& message, uint32_t device) {
  Outcome outcome;
  outcome.ok = false;
  outcome.code = code;
  outcome.message = message;
  outcome.device = device;
  return outcome;
}

}  // namespace

uint64_t monotonicNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Worker::Worker(Device& device, Arbiter& arbiter, uint32_t index, uint32_t slot)
    : device_(device), arbiter_(arbiter), index_(index), slot_(slot),
      thread_([this] { loop(); }) {}

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Worker::push(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Worker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (queue_.empty() && !stopping_) {
      if (!wake_.wait_for(lock, kIdlePoll, [this] { return !queue_.empty() || stopping_; })) {
        lock.unlock();
        idle();
        lock.lock();
        continue;
      }
    }
    if (stopping_) break;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    serve(job, lock);
  }
  while (!queue_.empty()) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    arbiter_.enqueued(slot_, -1);
    job.done(failure("DEVICE_ERROR", "the runtime is shutting down", index_));
  }
  lock.unlock();
  device_.unconfigure();
}

void Worker::idle() {
  if (loaded_.empty()) return;
  if (arbiter_.view(slot_).generation == loadedGeneration_) return;
  try {
    device_.unconfigure();
  } catch (...) {  // the next configure reports device trouble
  }
  loaded_.clear();
}

// Runs `first` and, under the same lease, queued jobs for the same bitstream.
void Worker::serve(Job& first, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  const Bitstream& bitstream = first.candidates.front().bitstream;
  Lease lease;
  try {
    lease = arbiter_.acquire(slot_, bitstream.id);
    if (loaded_ != bitstream.id || loadedGeneration_ != lease.generation()) {
      loaded_.clear();
      device_.unconfigure();
      device_.configure(bitstream);
      loaded_ = bitstream.id;
      loadedGeneration_ = lease.generation();
    }
  } catch (const std::exception& error) {
    const auto* known = dynamic_cast<const Error*>(&error);
    // A bitstream that fails to load on the device counts as a failed
    // request of its accelerator; a lease that could not be had does not.
    if (lease) arbiter_.record(slot_, first.accelerator, false, 0);
    arbiter_.enqueued(slot_, -1);
    first.done(failure(known ? known->code() : "DEVICE_ERROR", error.what(), index_));
    lock.lock();
    return;
  }
  runOne(first, lease.reconfigured());
  lock.lock();
  for (int batch = 1; batch < kMaxBatch && !queue_.empty() && !stopping_; ++batch) {
    Job& next = queue_.front();
    if (next.candidates.front().bitstream.id != bitstream.id || lease.contended()) break;
    Job job = std::move(next);
    queue_.pop_front();
    lock.unlock();
    runOne(job, false);
    lock.lock();
  }
  lock.unlock();
  lease.release();
  lock.lock();
}

void Worker::runOne(Job& job, bool reconfigured) {
  const Candidate& candidate = job.candidates.front();
  Outcome outcome;
  const uint64_t start = monotonicNs();
  try {
    device_.run(candidate.kernel, job.args, job.globalSize);
  } catch (const Error& error) {
    outcome = failure(error.code(), error.what(), index_);
  } catch (const std::exception& error) {
    outcome = failure("DEVICE_ERROR", error.what(), index_);
  }
  outcome.device = index_;
  outcome.reconfigured = reconfigured;
  outcome.queuedNs = start - job.submittedNs;
  outcome.runNs = monotonicNs() - start;
  arbiter_.record(slot_, job.accelerator, outcome.ok, outcome.runNs);
  arbiter_.enqueued(slot_, -1);
  job.done(outcome);
}

}  // namespace inaccel
