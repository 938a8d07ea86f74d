// Run leases: the shared path, reconfiguration with the turnstile and the
// quantum, and the Lease handle. docs/arbiter.md, "Protocol".
#include <time.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "arbiter/impl.h"
#include "common/error.h"

namespace inaccel {

using namespace arb;

namespace {

enum class Gate { Configured, Go, Wait };

// Sleeps towards `until`, at most 1 ms at a time: the caller re-checks, so
// a configuration whose users finish early is given up early.
void sleepTowards(uint64_t until) {
  uint64_t now = monoNs();
  uint64_t ns = until > now ? until - now : 0;
  if (ns > 1000000) ns = 1000000;
  timespec ts{0, long(ns)};
  nanosleep(&ts, nullptr);
}

}  // namespace

bool Arbiter::Impl::writerWaiting(uint32_t d) const {
  const SlotDevice* row = st->perSlot[d];
  for (uint32_t i = 0, n = slotHigh(*st); i < n; i++)
    if (positive(load(row[i].waiting))) return true;
  return false;
}

// Other slots with requests on the device and not waiting to reconfigure
// it: the users of the current configuration.
bool Arbiter::Impl::othersUsing(uint32_t d) const {
  const SlotDevice* row = st->perSlot[d];
  for (uint32_t i = 0, n = slotHigh(*st); i < n; i++)
    if (i != slot && positive(load(row[i].queue)) && !positive(load(row[i].waiting))) return true;
  return false;
}

// Without a lock: a sequence-lock read, a hint the caller checks under one.
bool Arbiter::Impl::peekConfigured(uint32_t d, const std::string& id, uint64_t hash) const {
  const Device& dev = st->devices[d];
  const uint64_t seq = load(dev.cfgSeq);
  if ((seq & 1) || load(dev.bitstreamHash) != hash) return false;
  const bool same = load(dev.bitstreamLen) == id.size() &&
                    std::memcmp(dev.bitstream, id.data(), id.size()) == 0;
  return same && load(dev.cfgSeq) == seq;
}

// Under the device lock (or the whole-card lease): no live writer, so an
// odd cfgSeq is a dead one, repaired on entering the table lock.
bool Arbiter::Impl::configuredIs(uint32_t d, const std::string& id, uint64_t& generation) {
  const Device& dev = st->devices[d];
  for (int attempt = 0; attempt < 3; attempt++) {
    const uint64_t seq = load(dev.cfgSeq);
    if (seq & 1) {
      Table table(*this);
      continue;
    }
    const bool same = load(dev.bitstreamLen) == id.size() &&
                      std::memcmp(dev.bitstream, id.data(), id.size()) == 0;
    const uint64_t g = load(dev.generation);
    if (load(dev.cfgSeq) == seq) {
      generation = g;
      return same;
    }
  }
  throw Error("STATE_CORRUPT", "arbiter: device " + std::to_string(d) +
                                   " configuration changes under its lock");
}

// Runs `configure`, the device held exclusively (or leased whole). While
// the device takes the new configuration the record says none: a process
// killed meanwhile leaves the card holding the new one, or part of it, and
// no other process may go on believing it holds the old. A configure that
// throws puts the record back as it was.
void Arbiter::Impl::configuring(uint32_t d, const std::function<void()>& configure) {
  const Device& dev = st->devices[d];
  const std::string was = readBitstream(dev);  // held: no live writer
  const uint64_t at = load(dev.configuredAt);
  writeRecord(d, "", 0);
  try {
    configure();
  } catch (...) {
    try {
      writeRecord(d, was, at);
    } catch (...) {  // the record says none: the next user configures again
    }
    throw;
  }
}

Grant Arbiter::Impl::underWhole(uint32_t d, const std::string& id,
                                const std::function<void()>& configure) {
  Grant grant;
  grant.held = true;
  if (!configuredIs(d, id, grant.generation)) {
    if (configure) configuring(d, configure);  // throws: nothing recorded
    grant.generation = writeConfig(d, id);
    grant.reconfigured = true;
  }
  return grant;
}

Grant Arbiter::Impl::acquireShared(uint32_t d, const std::string& id,
                                   const std::function<bool()>& giveUp,
                                   const std::function<void()>& configure) {
  const uint64_t hash = bitstreamHash(id);
  for (;;) {
    if (peekConfigured(d, id, hash)) {
      Grant grant = runShared(d, id);
      if (grant.held) return grant;
    }
    Grant grant = reconfigure(d, id, hash, giveUp, configure);
    if (grant.held) return grant;
  }
}

// The shared lease. While a writer waits, pass the turnstile, which it
// holds exclusively once its quantum is over: new runners queue behind it.
Grant Arbiter::Impl::runShared(uint32_t d, const std::string& id) {
  if (writerWaiting(d)) {
    lockByte(fd(), lockAt::turnstile(d), LockType::Shared, true);
    Held turnstile(fd(), lockAt::turnstile(d));
    lockByte(fd(), lockAt::device(d), LockType::Shared, true);
  } else {
    lockByte(fd(), lockAt::device(d), LockType::Shared, true);
  }
  Held device(fd(), lockAt::device(d));
  Grant grant;
  if (configuredIs(d, id, grant.generation)) {  // recheck: it may have changed meanwhile
    grant.held = true;
    device.keep();
  }
  return grant;
}

Grant Arbiter::Impl::reconfigure(uint32_t d, const std::string& id, uint64_t hash,
                                 const std::function<bool()>& giveUp,
                                 const std::function<void()>& configure) {
  Waiting waiting(st->perSlot[d][slot]);
  const Device& dev = st->devices[d];
  // Go now, unless the configuration is younger than the quantum and still
  // has users (then let them run: no thrash).
  auto gate = [&](uint64_t& until) {
    if (peekConfigured(d, id, hash)) return Gate::Configured;
    if (load(dev.bitstreamHash) == 0) return Gate::Go;
    const uint64_t at = load(dev.configuredAt), now = monoNs();
    const uint64_t quantum = std::max(quantumNs, kQuantumPerConfigure * configureNs(dev));
    if (at > now || now - at >= quantum || !othersUsing(d)) return Gate::Go;
    until = quantum > UINT64_MAX - at ? UINT64_MAX : at + quantum;
    return Gate::Wait;
  };
  for (;;) {
    uint64_t until = 0;
    Gate g = gate(until);
    if (g == Gate::Configured) return Grant();
    if (g == Gate::Wait) {
      if (giveUp && giveUp()) throw Error("ABORTED", "the request was aborted before it ran");
      sleepTowards(until);
      continue;
    }
    lockByte(fd(), lockAt::turnstile(d), LockType::Exclusive, true);
    Held turnstile(fd(), lockAt::turnstile(d));
    g = gate(until);  // the writer before us may have just configured
    if (g == Gate::Configured) return Grant();
    if (g == Gate::Wait) continue;
    lockByte(fd(), lockAt::device(d), LockType::Exclusive, true);  // waits out current runners
    Held device(fd(), lockAt::device(d));
    if (testHooks.exclusiveHeld) testHooks.exclusiveHeld();
    Grant grant;
    grant.held = true;
    if (!configuredIs(d, id, grant.generation)) {
      // The device takes the configuration before it is recorded: one
      // that fails to load (configure throws) leaves the record as it was,
      // and the locks go with `device` and `turnstile`.
      if (configure) configuring(d, configure);
      grant.generation = writeConfig(d, id);
      grant.reconfigured = true;
    }
    lockByte(fd(), lockAt::device(d), LockType::Shared, false);  // atomic downgrade
    device.keep();
    return grant;  // the turnstile opens here
  }
}

void Arbiter::Impl::release(uint32_t d, bool whole) {
  DeviceLocal& local_ = local[d];
  if (!whole) {
    if (local_.runner) unlockByte(fd(), lockAt::runner(d));
    local_.runner = false;
    unlockByte(fd(), lockAt::device(d));
  }
  {
    std::lock_guard<std::mutex> lock(local_.m);
    if (!whole)
      local_.busy = false;
    else if (--local_.wholeRunners == 0 && local_.ending)
      endWhole(d);  // the lease was given back while this ran
  }
  local_.cv.notify_all();
}

Lease Arbiter::acquire(uint32_t device, const std::string& bitstreamId,
                       const std::function<bool()>& giveUp,
                       const std::function<void()>& configure) {
  Impl& im = *impl_;
  im.checkDevice(device);
  if (bitstreamId.empty() || bitstreamId.size() > kBitstreamMax)
    throw Error("ARBITER_ERROR", "arbiter: bitstream id must be 1 to " +
                                     std::to_string(kBitstreamMax) + " bytes");
  im.maybeReap(monoNs());
  DeviceLocal& local = im.local[device];
  bool whole;
  {
    std::unique_lock<std::mutex> lock(local.m);
    local.cv.wait(lock, [&] {
      return !local.busy && !local.ending && (local.whole || local.wholeWanted == 0);
    });
    whole = local.whole;
    if (whole)
      local.wholeRunners++;
    else
      local.busy = true;
  }
  Grant grant;
  try {
    grant = whole ? im.underWhole(device, bitstreamId, configure)
                  : im.acquireShared(device, bitstreamId, giveUp, configure);
    // While other processes have requests for the device, runs take turns
    // on the runner byte: a GPU running the kernels of concurrent processes
    // switches contexts per kernel (docs/performance.md, four-processes).
    // Alone, a process pays nothing for it.
    if (!whole && im.othersUsing(device)) {
      lockByte(im.fd(), lockAt::runner(device), LockType::Exclusive, true);
      local.runner = true;  // only this thread touches it while `busy`
    }
  } catch (...) {
    im.release(device, whole);  // unlocking a byte not held is harmless
    throw;
  }
  Lease lease;
  lease.arbiter_ = this;
  lease.device_ = device;
  lease.generation_ = grant.generation;
  lease.reconfigured_ = grant.reconfigured;
  lease.whole_ = whole;
  return lease;
}

Lease::Lease(Lease&& other) noexcept
    : arbiter_(std::exchange(other.arbiter_, nullptr)),
      device_(other.device_),
      generation_(other.generation_),
      reconfigured_(other.reconfigured_),
      whole_(other.whole_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    arbiter_ = std::exchange(other.arbiter_, nullptr);
    device_ = other.device_;
    generation_ = other.generation_;
    reconfigured_ = other.reconfigured_;
    whole_ = other.whole_;
  }
  return *this;
}

Lease::~Lease() { release(); }

bool Lease::contended() const {
  if (!arbiter_) return false;
  // Under a whole-card lease being given back: the last such run to be
  // released gives the card back (endWhole).
  if (whole_ && arbiter_->impl_->local[device_].ending.load()) return true;
  return arbiter_->impl_->writerWaiting(device_);
}

void Lease::configured(uint64_t tookNs) {
  if (!arbiter_ || !reconfigured_) return;
  // Held: no other process writes this device's configuration meanwhile.
  Device& dev = arbiter_->impl_->st->devices[device_];
  store(dev.configureNs, tookNs);
  store(dev.configuredAt, monoNs());
}

bool Lease::othersQueued() const { return arbiter_ && arbiter_->impl_->othersUsing(device_); }

void Lease::release() {
  if (!arbiter_) return;
  arbiter_->impl_->release(device_, whole_);
  arbiter_ = nullptr;
}

}  // namespace inaccel
