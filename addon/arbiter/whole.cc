// Whole-card leases: the device lock held exclusively (plus the whole
// lock, which tells a lessee from a passing reconfiguration) until
// unleaseWhole() or the death of the process.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>

#include "arbiter/impl.h"
#include "common/error.h"

namespace inaccel {

using namespace arb;

namespace {

// How long a lease that does not wait waits for this instance's run lease
// to be let go once its requests have settled (a worker does within its
// linger, tens of microseconds, but may be descheduled meanwhile).
constexpr auto kLettingGo = std::chrono::milliseconds(100);

Error busy(uint32_t d) {
  return Error("DEVICE_BUSY", "arbiter: device " + std::to_string(d) + " is in use");
}

Error aborted(uint32_t d) {
  return Error("ABORTED", "arbiter: the lease of device " + std::to_string(d) + " was aborted");
}

// Takes a lock byte; while waiting, polls instead of blocking in the
// kernel, so that giveUp (asked between tries) can end the wait: a lessee
// may wait for minutes, and a blocked F_OFD_SETLKW cannot be interrupted.
// The steps grow to 2 ms; a lease is rare, its wait seldom short.
bool takeByte(int fd, off_t at, bool wait, const std::function<bool()>& giveUp, uint32_t d) {
  long stepNs = 50000;
  while (!lockByte(fd, at, LockType::Exclusive, false)) {
    if (!wait) return false;
    if (giveUp && giveUp()) throw aborted(d);
    timespec ts{0, stepNs};
    nanosleep(&ts, nullptr);
    stepNs = std::min(2 * stepNs, 2000000L);
  }
  return true;
}

// Counts a leaseWhole() call in DeviceLocal::wholeWanted for its scope,
// however it ends; destroyed with the device's mutex held, it wakes the
// waiters (this instance's acquires, other leaseWhole calls) as it goes.
class Wanted {
 public:
  explicit Wanted(DeviceLocal& dl) : dl_(dl) { dl_.wholeWanted++; }
  ~Wanted() {
    dl_.wholeWanted--;
    dl_.cv.notify_all();
  }
  Wanted(const Wanted&) = delete;
  Wanted& operator=(const Wanted&) = delete;

 private:
  DeviceLocal& dl_;
};

}  // namespace

// Kernel side: turnstile (writer preference), device, whole; then the
// lessee record. The turnstile is let go, the device and whole locks kept.
bool Arbiter::Impl::takeWhole(uint32_t d, bool wait, const std::function<bool()>& giveUp) {
  if (!takeByte(fd(), lockAt::turnstile(d), wait, giveUp, d)) return false;
  Held turnstile(fd(), lockAt::turnstile(d));
  if (!takeByte(fd(), lockAt::device(d), wait, giveUp, d)) return false;
  Held device(fd(), lockAt::device(d));
  // Held without the device lock only by a foreign writer: not ours to wait for.
  if (!lockByte(fd(), lockAt::whole(d), LockType::Exclusive, false)) return false;
  Held whole(fd(), lockAt::whole(d));
  setLessee(d, true);
  device.keep();
  whole.keep();
  return true;
}

void Arbiter::Impl::leaseWhole(uint32_t d, bool wait, const std::function<bool()>& giveUp) {
  DeviceLocal& dl = local[d];
  std::unique_lock<std::mutex> lock(dl.m);
  // A lease of ours that is ending is not one to keep: once it has ended
  // (within the runs in progress), take the card again.
  while (dl.ending) {
    if (giveUp && giveUp()) throw aborted(d);
    dl.cv.wait_for(lock, std::chrono::milliseconds(1));
  }
  if (dl.whole) return;
  const bool otherCall = dl.wholeWanted > 0;  // another lease call of ours is under way
  Wanted wanted(dl);  // new acquires of this instance wait until this call ends
  std::unique_ptr<Waiting> waiting;
  if (wait) waiting.reset(new Waiting(st->perSlot[d][slot]));  // holders see contended()
  // Our own worker's run ends within a batch; the abort is asked between.
  // Without waiting, the card is busy while our worker has requests of
  // ours (it runs them, or waits for the card itself) or another call of
  // ours is leasing it; a worker that has settled them all is only
  // letting the card go, and is waited for, kLettingGo at most: a run
  // lease held with no request counted (the native API's callers), or a
  // lease call of ours that came meanwhile, may not let go at all.
  const auto lettingGoUntil = std::chrono::steady_clock::now() + kLettingGo;
  while (dl.busy && !dl.whole) {
    if (!wait && (otherCall || load(st->perSlot[d][slot].queue) != 0 ||
                  std::chrono::steady_clock::now() >= lettingGoUntil))
      throw busy(d);
    if (giveUp && giveUp()) throw aborted(d);
    dl.cv.wait_for(lock, std::chrono::milliseconds(1));
  }
  bool got = dl.whole;  // another thread of ours may have taken it meanwhile
  if (!got) {
    dl.busy = true;
    lock.unlock();
    try {
      got = takeWhole(d, wait, giveUp);
    } catch (...) {
      lock.lock();
      dl.busy = false;
      throw;
    }
    lock.lock();
    dl.busy = false;
    dl.whole = got;
  }
  if (!got) throw busy(d);
}

void Arbiter::Impl::unleaseWhole(uint32_t d) {
  DeviceLocal& dl = local[d];
  std::lock_guard<std::mutex> lock(dl.m);
  if (!dl.whole || dl.ending) return;  // not leased, or being given back already
  // No new run starts under the lease (acquire waits while it ends, then
  // takes the shared path). The runs in progress see contended() and let
  // go after the batch in hand, the last of them giving the card back:
  // the caller waits for neither (a batch of long kernels may take seconds).
  if (dl.wholeRunners > 0) {
    dl.ending = true;
    return;
  }
  endWhole(d);
}

void Arbiter::Impl::endWhole(uint32_t d) {
  DeviceLocal& dl = local[d];
  // This may run on a device worker, releasing its lease: a failure to
  // clear the record must not end the process. A record left is harmless,
  // believed only while its whole lock is held, which goes below.
  try {
    setLessee(d, false);
  } catch (...) {
  }
  unlockByte(fd(), lockAt::whole(d));
  unlockByte(fd(), lockAt::device(d));
  dl.whole = false;
  dl.ending = false;
  dl.cv.notify_all();
}

void Arbiter::leaseWhole(uint32_t device, bool wait, const std::function<bool()>& giveUp) {
  impl_->checkDevice(device);
  impl_->leaseWhole(device, wait, giveUp);
}

void Arbiter::unleaseWhole(uint32_t device) {
  impl_->checkDevice(device);
  impl_->unleaseWhole(device);
}

}  // namespace inaccel
