// The table lock and every write to the shared state that it guards.
// Protocol of a write: header seq (and, for a configuration, the device's
// cfgSeq) odd, write, even again. A holder killed in between leaves them
// odd; the next table-lock holder repairs (state_file.cc: repair) before
// anything else, then reaps what dead slots and dead lessees left.
#include <time.h>

#include <cstring>

#include "arbiter/impl.h"
#include "common/error.h"

namespace inaccel {

using namespace arb;

namespace arb {

TestHooks testHooks;

namespace {
uint64_t clockNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}
}  // namespace

uint64_t monoNs() { return clockNs(CLOCK_MONOTONIC); }
uint64_t realNs() { return clockNs(CLOCK_REALTIME); }

}  // namespace arb

Arbiter::Impl::Table::Table(Impl& im) : im_(im), lk_(im.tableMutex) {
  lockByte(im.fd(), lockAt::kTable, LockType::Exclusive, true);
  enter();
}

Arbiter::Impl::Table::Table(Impl& im, std::try_to_lock_t)
    : im_(im), lk_(im.tableMutex, std::try_to_lock) {
  if (lk_.owns_lock() && lockByte(im.fd(), lockAt::kTable, LockType::Exclusive, false))
    enter();
}

void Arbiter::Impl::Table::enter() {
  held_ = true;
  try {
    repair(*im_.st);
    im_.reap();
  } catch (...) {
    unlockByte(im_.fd(), lockAt::kTable);
    held_ = false;
    throw;
  }
}

Arbiter::Impl::Table::~Table() {
  if (held_) unlockByte(im_.fd(), lockAt::kTable);
}

void Arbiter::Impl::beginUpdate() { add(st->header.seq, uint64_t{1}); }
void Arbiter::Impl::endUpdate() { add(st->header.seq, uint64_t{1}); }

void Arbiter::Impl::reap() {
  State& s = *st;
  const uint32_t n = slotHigh(s);
  const auto live = lockedSlots(fd(), n);
  for (uint32_t i = 0; i < n; i++)
    if (i != slot && !live.test(i) && load(s.slots[i].pid) != 0) clearSlot(i);
  for (uint32_t d = 0, nd = deviceCount(s); d < nd; d++) {
    Device& dev = s.devices[d];
    // A record of our own slot is ours to keep (our own lock never shows
    // in a probe); any other is believed only while its lock is held.
    if (load(dev.lesseePid) == 0 || load(dev.lesseeSlot) == slot ||
        isLocked(fd(), lockAt::whole(d)))
      continue;
    beginUpdate();
    store(dev.lesseePid, 0);
    store(dev.lesseeSlot, 0u);
    endUpdate();
  }
}

void Arbiter::Impl::clearSlot(uint32_t s) {
  beginUpdate();
  for (uint32_t d = 0, nd = deviceCount(*st); d < nd; d++) {
    Device& dev = st->devices[d];
    if (load(dev.lesseePid) != 0 && load(dev.lesseeSlot) == s) {
      store(dev.lesseePid, 0);
      store(dev.lesseeSlot, 0u);
    }
  }
  for (uint32_t d = 0; d < kMaxDevices; d++) {
    store(st->perSlot[d][s].queue, 0u);
    store(st->perSlot[d][s].waiting, 0u);
  }
  store(st->slots[s].pid, 0);
  store(st->slots[s].startTime, uint64_t{0});
  store(st->slots[s].activeAt, uint64_t{0});
  endUpdate();
}

void Arbiter::Impl::maybeReap(uint64_t now) {
  uint64_t next = nextReapNs.load(std::memory_order_relaxed);
  if (now < next || !nextReapNs.compare_exchange_strong(next, now + 1000000000ull)) return;
  Table table(*this, std::try_to_lock);  // entering reaps
}

void Arbiter::Impl::claimSlot() {
  Table table(*this);
  for (uint32_t i = 0; i < kMaxSlots; i++) {
    if (!lockByte(fd(), lockAt::slot(i), LockType::Exclusive, false)) continue;
    slot = i;
    clearSlot(i);  // what a dead owner left
    beginUpdate();
    store(st->slots[i].pid, pid);
    store(st->slots[i].startTime, realNs());
    if (load(st->header.slotHigh) < i + 1) store(st->header.slotHigh, i + 1);
    endUpdate();
    return;
  }
  throw Error("ARBITER_ERROR", "arbiter: all " + std::to_string(kMaxSlots) +
                                   " process slots are held by live processes");
}

uint32_t Arbiter::Impl::attach(const std::string& key, DeviceMode mode) {
  if (key.empty() || key.size() > kKeyMax)
    throw Error("ARBITER_ERROR", "arbiter: device key must be 1 to " +
                                     std::to_string(kKeyMax) + " bytes");
  const uint32_t m = mode == DeviceMode::Exclusive ? 1 : 0;
  Table table(*this);
  const uint32_t n = deviceCount(*st);
  for (uint32_t d = 0; d < n; d++) {
    Device& dev = st->devices[d];
    if (readKey(dev) != key) continue;
    if (load(dev.mode) != m) {
      beginUpdate();
      store(dev.mode, m);  // host config changed: the latest attach wins
      endUpdate();
    }
    return d;
  }
  if (n == kMaxDevices)
    throw Error("ARBITER_ERROR", "arbiter: the device table is full (" +
                                     std::to_string(kMaxDevices) + " devices)");
  // Unpublished until deviceCount moves: a crash here leaves nothing.
  Device& dev = st->devices[n];
  beginUpdate();
  std::memset(static_cast<void*>(&dev), 0, sizeof dev);
  std::memcpy(dev.key, key.data(), key.size());
  store(dev.keyLen, uint32_t(key.size()));
  store(dev.mode, m);
  for (uint32_t i = 0; i < kMaxSlots; i++) {
    store(st->perSlot[n][i].queue, 0u);
    store(st->perSlot[n][i].waiting, 0u);
  }
  store(st->header.deviceCount, n + 1);
  endUpdate();
  return n;
}

namespace {
int findKernel(const Device& dev, const char* name, size_t len) {
  for (uint32_t k = 0, n = kernelCount(dev); k < n; k++) {
    const Kernel& kr = dev.kernels[k];
    if (load(kr.nameLen) == len && std::memcmp(kr.name, name, len) == 0) return int(k);
  }
  return -1;
}

// The configuration record's fields; the caller holds the table and has
// made cfgSeq odd (readers see no record until it is even again).
void storeRecord(Device& dev, const std::string& id, uint64_t configuredAt) {
  std::memcpy(dev.bitstream, id.data(), id.size());
  store(dev.bitstreamLen, uint32_t(id.size()));
  store(dev.bitstreamHash, bitstreamHash(id));
  store(dev.configuredAt, configuredAt);
}
}  // namespace

uint32_t Arbiter::Impl::kernelIndex(uint32_t d, const std::string& accelerator) {
  std::string name = accelerator.empty() ? kOtherKernel : accelerator.substr(0, kNameMax);
  Device& dev = st->devices[d];
  int k = findKernel(dev, name.data(), name.size());
  if (k >= 0) return uint32_t(k);
  Table table(*this);
  k = findKernel(dev, name.data(), name.size());
  if (k >= 0) return uint32_t(k);
  uint32_t n = kernelCount(dev);
  if (n >= kMaxKernels - 1) {  // full: the last entry counts all the others
    name = kOtherKernel;
    k = findKernel(dev, name.data(), name.size());
    if (k >= 0) return uint32_t(k);
    if (n == kMaxKernels) return kMaxKernels - 1;  // filled by a foreign writer
  }
  // Unpublished until kernelCount moves: a crash here leaves nothing.
  Kernel& kr = dev.kernels[n];
  beginUpdate();
  store(kr.ok, uint64_t{0});
  store(kr.failed, uint64_t{0});
  store(kr.busyNs, uint64_t{0});
  std::memcpy(kr.name, name.data(), name.size());
  store(kr.nameLen, uint32_t(name.size()));
  store(dev.kernelCount, n + 1);
  endUpdate();
  return n;
}

uint64_t Arbiter::Impl::writeConfig(uint32_t d, const std::string& id) {
  Table table(*this);
  Device& dev = st->devices[d];
  add(dev.reconfigurations, uint64_t{1});  // first: never lost, never rolled back
  beginUpdate();
  add(dev.cfgSeq, uint64_t{1});
  if (testHooks.midUpdate) testHooks.midUpdate();
  storeRecord(dev, id, monoNs());
  const uint64_t generation = add(dev.generation, uint64_t{1});
  add(dev.cfgSeq, uint64_t{1});
  endUpdate();
  return generation;
}

void Arbiter::Impl::writeRecord(uint32_t d, const std::string& id, uint64_t configuredAt) {
  Table table(*this);
  Device& dev = st->devices[d];
  beginUpdate();
  add(dev.cfgSeq, uint64_t{1});
  storeRecord(dev, id, configuredAt);
  add(dev.cfgSeq, uint64_t{1});
  endUpdate();
}

void Arbiter::Impl::setLessee(uint32_t d, bool mine) {
  Table table(*this);
  Device& dev = st->devices[d];
  beginUpdate();
  store(dev.lesseePid, mine ? pid : 0);
  store(dev.lesseeSlot, mine ? slot : 0u);
  endUpdate();
}

}  // namespace inaccel
