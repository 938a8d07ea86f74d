#include "engine/worker.h"

#include <chrono>
#include <exception>
#include <vector>

#include "common/error.h"

namespace inaccel {

namespace {

// How often an idle worker checks whether another process reconfigured its
// device, to drop what it loaded without waiting for JavaScript.
constexpr auto kIdlePoll = std::chrono::milliseconds(100);
// How long a worker keeps its device while other processes wait for it, and
// how long it then leaves the device to them. Measured on an H100 with four
// processes (docs/performance.md): slices of 4/10/20 ms gave 0.60/0.69/0.67
// of one process's throughput; hand-overs of 50/200/1000 us 0.72/0.69/0.68.
constexpr uint64_t kSliceNs = 10000000;
constexpr auto kHandOver = std::chrono::microseconds(50);
// How often a worker with jobs looks again whether another process still
// leases its card whole.
constexpr auto kLeasePoll = std::chrono::milliseconds(10);
// Jobs handed to the device at once, with one wait for all of them.
constexpr size_t kPipeline = 16;
// How long an emptied worker watches its queue before sleeping.
constexpr uint64_t kLingerNs = 50000;
// Build failures a worker remembers; when full, one is forgotten for the next.
constexpr size_t kBuildFailures = 32;
constexpr const char* kLeaseEnded =
    "the device is in exclusive mode and its lease ended before the request ran";

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
    queued_.store(queue_.size(), std::memory_order_release);
  }
  wake_.notify_one();
}

size_t Worker::cancel(const std::unordered_set<uint64_t>& ids) {
  std::vector<Job> cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (taking_ && ids.count(*taking_) != 0) abandon_.store(true, std::memory_order_relaxed);
    std::deque<Job> kept;
    for (Job& job : queue_) {
      if (ids.count(job.id) != 0) cancelled.push_back(std::move(job));
      else kept.push_back(std::move(job));
    }
    // Even when none was cancelled here (they were on another device's
    // queue, running, or done): every job has moved to `kept`, and the
    // queue would be left moved-from jobs, which no done() settles.
    queue_ = std::move(kept);
    queued_.store(queue_.size(), std::memory_order_release);
  }
  // Settled outside the lock: done() hands the job to the JS thread.
  for (Job& job : cancelled) fail(job, "ABORTED", "the request was aborted before it ran");
  return cancelled.size();
}

void Worker::fail(Job& job, const std::string& code, const std::string& message) {
  arbiter_.enqueued(slot_, -1);
  job.done(failure(code, message, index_));
}

// Before sleeping, a worker watches its queue for a moment: a program that
// awaits each request submits the next within tens of microseconds, and a
// sleeping thread takes about as long to wake. Only where cores are spare.
void Worker::linger() {
  static const bool spare = std::thread::hardware_concurrency() >= 4;
  if (!spare) return;
  const uint64_t until = monotonicNs() + kLingerNs;
  while (queued_.load(std::memory_order_acquire) == 0 && monotonicNs() < until) {
    std::this_thread::yield();
  }
}

// The queue's first job; the caller holds the mutex.
Job Worker::pop() {
  Job job = std::move(queue_.front());
  queue_.pop_front();
  queued_.store(queue_.size(), std::memory_order_release);
  return job;
}

void Worker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (queue_.empty() && !stopping_) {
      lock.unlock();
      linger();
      lock.lock();
    }
    if (queue_.empty() && !stopping_) {
      if (!wake_.wait_for(lock, kIdlePoll, [this] { return !queue_.empty() || stopping_; })) {
        lock.unlock();
        idle();
        lock.lock();
        continue;
      }
    }
    if (stopping_) break;
    // While another process leases the card whole, the jobs wait in the
    // queue, where an abort can still take them, not in acquire().
    if (arbiter_.leasedByOther(slot_)) {
      wake_.wait_for(lock, kLeasePoll);
      continue;
    }
    Job job = pop();
    serve(job, lock);
  }
  while (!queue_.empty()) {
    Job job = pop();
    fail(job, "DEVICE_ERROR", "the runtime is shutting down");
  }
  lock.unlock();
  device_.unconfigure();
}

// Every kIdlePoll without jobs: the device gives back memory it kept for
// more requests, and drops what it loaded if another process reconfigured it.
void Worker::idle() {
  if (loaded_.empty()) return;
  device_.shrink();
  if (arbiter_.view(slot_).generation == loadedGeneration_) return;
  try {
    device_.unconfigure();
  } catch (...) {  // the next configure reports device trouble
  }
  loaded_.clear();
}

// A bitstream's build failures are remembered per process and device by
// its id, digest and options: a new version, or another process, tries again.
std::string Worker::buildKey(const Bitstream& bitstream) {
  return bitstream.id + "\n" + bitstream.sha256 + "\n" + bitstream.buildOptions;
}

// Loads `bitstream` on the device; returns how long that took. Throws as
// Device::configure does, remembering a BuildFailed.
uint64_t Worker::load(const Bitstream& bitstream) {
  // The same bitstream of an older generation may be stale (another process
  // reprogrammed the card): dropped first. Another one the device replaces
  // once the new one is built, so a build that fails leaves it in place.
  if (loaded_ == bitstream.id) {
    loaded_.clear();
    device_.unconfigure();
  }
  const uint64_t start = monotonicNs();
  try {
    device_.configure(bitstream);
  } catch (const BuildFailed& error) {
    if (buildFailures_.size() >= kBuildFailures) buildFailures_.erase(buildFailures_.begin());
    buildFailures_.emplace(buildKey(bitstream), error.what());
    throw;
  } catch (...) {
    loaded_.clear();  // the device may hold nothing now
    try {
      device_.unconfigure();
    } catch (...) {  // the next configure reports device trouble
    }
    throw;
  }
  return monotonicNs() - start;
}

// Runs `first` and, under the same lease, queued jobs for the same bitstream.
void Worker::serve(Job& first, std::unique_lock<std::mutex>& lock) {
  const Bitstream& bitstream = first.candidate().bitstream;
  // A bitstream that failed to build here fails at once, taking no lease.
  if (!buildFailures_.empty()) {
    const auto failed = buildFailures_.find(buildKey(bitstream));
    if (failed != buildFailures_.end()) {
      lock.unlock();
      arbiter_.record(slot_, first.accelerator(), false, 0);
      fail(first, "DEVICE_ERROR",
           "the build of " + bitstream.id +
               " failed earlier on this device (not tried again in this process): " +
               failed->second);
      lock.lock();
      return;
    }
  }
  // A request left queued on an exclusive card whose lease has ended fails
  // before it takes a turn, which could reconfigure the card for nothing.
  if (arbiter_.exclusive(slot_) && !arbiter_.leasedByMe(slot_)) {
    lock.unlock();
    fail(first, "DEVICE_BUSY", kLeaseEnded);
    lock.lock();
    return;
  }
  taking_ = first.id;
  abandon_.store(false, std::memory_order_relaxed);
  lock.unlock();
  Lease lease;
  // Captured by one reference, which std::function holds without allocating.
  struct {
    Worker* self;
    const Bitstream* bitstream;
    bool loading = false;  // a failure is the bitstream's, not the lease's
    uint64_t took = 0;
  } config{this, &bitstream};
  try {
    // Reconfiguring, the device loads the bitstream before the arbiter
    // records it: one that fails to load is never the device's configuration.
    lease = arbiter_.acquire(
        slot_, bitstream.id, [this] { return abandon_.load(std::memory_order_relaxed); },
        [&config] {
          config.loading = true;
          config.took = config.self->load(*config.bitstream);
          config.loading = false;
        });
    if (lease.reconfigured()) {
      loaded_ = bitstream.id;
      loadedGeneration_ = lease.generation();
      lease.configured(config.took);
    }
    // An exclusive card runs only under this process's lease: requests
    // still queued when it was released do not run outside it (the lease
    // may have ended since the check above).
    if (!lease.whole() && arbiter_.exclusive(slot_)) {
      lease.release();
      throw Error("DEVICE_BUSY", kLeaseEnded);
    }
    if (loaded_ != bitstream.id || loadedGeneration_ != lease.generation()) {
      config.loading = true;
      load(bitstream);
      config.loading = false;
      loaded_ = bitstream.id;
      loadedGeneration_ = lease.generation();
    }
  } catch (const std::exception& error) {
    const auto* known = dynamic_cast<const Error*>(&error);
    // A bitstream that fails to load on the device counts as a failed
    // request of its accelerator; a lease that could not be had does not.
    if (config.loading) arbiter_.record(slot_, first.accelerator(), false, 0);
    fail(first, known ? known->code() : "DEVICE_ERROR", error.what());
    lock.lock();
    taking_.reset();
    return;
  }
  // `first` and the jobs queued behind it for the same bitstream go to the
  // device together, kPipeline at a time. The lease is kept for a time
  // slice while work keeps coming: handing a GPU to another process costs a
  // context switch, so it changes hands once per slice, not per request.
  const std::string bitstreamId = bitstream.id;  // `first` moves below
  std::vector<Job> batch;
  batch.push_back(std::move(first));
  bool reconfigured = lease.reconfigured();
  const uint64_t start = monotonicNs();
  lock.lock();
  taking_.reset();
  while (true) {
    while (batch.size() < kPipeline && !queue_.empty() && !stopping_ &&
           queue_.front().candidate().bitstream.id == bitstreamId) {
      batch.push_back(pop());
    }
    if (batch.empty()) {
      if (stopping_ || !queue_.empty()) break;  // another bitstream is next
      lock.unlock();
      linger();
      lock.lock();
      if (queue_.empty() || stopping_) break;
      continue;
    }
    lock.unlock();
    runBatch(batch, reconfigured);
    reconfigured = false;
    batch.clear();
    const bool yield =
        lease.contended() || (monotonicNs() - start >= kSliceNs && lease.othersQueued());
    lock.lock();
    if (yield) break;
  }
  const bool handOver = lease.othersQueued();
  lock.unlock();
  lease.release();
  // Without a pause this thread would take the lock again before the woken
  // waiter of another process runs.
  if (handOver) std::this_thread::sleep_for(kHandOver);
  lock.lock();
}

void Worker::runBatch(std::vector<Job>& jobs, bool reconfigured) {
  std::vector<Device::RunItem> items;
  for (Job& job : jobs) {
    items.push_back({&job.candidate().kernel, job.args, job.globalSize, job.candidate().chunkArg});
  }
  std::vector<std::exception_ptr> errors;
  const uint64_t start = monotonicNs();
  try {
    device_.runMany(items, errors);
  } catch (...) {
    errors.assign(jobs.size(), std::current_exception());
  }
  const uint64_t end = monotonicNs();
  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& job = jobs[i];
    Outcome outcome;
    if (i < errors.size() && errors[i]) {
      try {
        std::rethrow_exception(errors[i]);
      } catch (const Error& error) {
        outcome = failure(error.code(), error.what(), index_);
      } catch (const std::exception& error) {
        outcome = failure("DEVICE_ERROR", error.what(), index_);
      }
    }
    outcome.device = index_;
    outcome.reconfigured = reconfigured && i == 0;
    outcome.queuedNs = start - job.submittedNs;
    // Requests of one batch overlap on the device: each gets its share.
    outcome.runNs = (end - start) / jobs.size();
    arbiter_.record(slot_, job.accelerator(), outcome.ok, outcome.runNs);
    arbiter_.enqueued(slot_, -1, end);
    job.done(outcome);
  }
}

}  // namespace inaccel
