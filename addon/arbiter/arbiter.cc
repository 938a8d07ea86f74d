// Arbiter setup and teardown, devices, counters, views and snapshots.
// The lease protocol is in lease.cc and whole.cc, state writes in table.cc.
#include "arbiter/arbiter.h"

#include <unistd.h>

#include "arbiter/impl.h"
#include "arbiter/snapshot.h"
#include "common/error.h"

namespace inaccel {

using namespace arb;

Arbiter::Impl::Impl(const ArbiterOptions& options)
    : map(openForUpdate(options.dir)),
      st(map.state()),
      pid(static_cast<int32_t>(getpid())),
      quantumNs(options.quantumNs) {
  claimSlot();
}

Arbiter::Impl::~Impl() {
  for (uint32_t d = 0; d < kMaxDevices; d++) {
    if (!local[d].whole) continue;
    try {
      unleaseWhole(d);
    } catch (...) {  // closing the descriptor below releases it anyway
    }
  }
  try {
    Table table(*this);
    clearSlot(slot);
  } catch (...) {  // a dead slot is reaped by the next table-lock holder
  }
  // ~Mapping closes the descriptor: the kernel drops the slot lock.
}

void Arbiter::Impl::checkDevice(uint32_t d) const {
  // A device this instance attached stays valid whatever the shared count
  // says (another process may corrupt it): its workers must not throw.
  if (d >= deviceCount(*st) && d >= attached.load(std::memory_order_relaxed))
    throw Error("ARBITER_ERROR", "arbiter: no device with index " + std::to_string(d));
}

Arbiter::Arbiter(const ArbiterOptions& options) : impl_(new Impl(options)) {}

Arbiter::~Arbiter() = default;

uint32_t Arbiter::attach(const std::string& key, DeviceMode mode) {
  const uint32_t d = impl_->attach(key, mode);  // < kMaxDevices
  uint32_t seen = impl_->attached.load();
  while (seen < d + 1 && !impl_->attached.compare_exchange_weak(seen, d + 1)) {
  }
  return d;
}

Arbiter::Peers Arbiter::activePeers() const {
  const Impl& im = *impl_;
  const uint32_t high = slotHigh(*im.st);
  const auto live = lockedSlots(im.fd(), high);
  const uint64_t now = monoNs();
  Peers peers;
  for (uint32_t i = 0; i < high; i++) {
    if (i == im.slot || !live.test(i)) continue;
    const uint64_t at = load(im.st->slots[i].activeAt);
    if (at == 0 || at > now) continue;
    if (now - at < kActiveNs && i < im.slot) peers.below++;
    if (now - at < kBusyNs) peers.busy++;
  }
  return peers;
}

DeviceView Arbiter::view(uint32_t device) const {
  Impl& im = *impl_;
  im.checkDevice(device);
  const Device& dev = im.st->devices[device];
  DeviceView v;
  // Sequence-lock read of the configuration; a writer killed mid-update
  // leaves cfgSeq odd: report "none" until the next table-lock holder repairs.
  for (int attempt = 0; attempt < 4; attempt++) {
    const uint64_t seq = load(dev.cfgSeq);
    const uint64_t hash = load(dev.bitstreamHash);
    v.generation = load(dev.generation);
    if (!(seq & 1) && load(dev.cfgSeq) == seq) {
      v.bitstreamHash = hash;
      break;
    }
  }
  const QueueSums queued = queueSums(*im.st, device, im.slot);
  v.queueDepth = queued.all;
  v.othersQueue = queued.others;
  v.mode = load(dev.mode) == 1 ? DeviceMode::Exclusive : DeviceMode::Shared;
  v.leasedByMe = leasedByMe(device);
  v.leasedByOther = leasedByOther(device);
  return v;
}

bool Arbiter::exclusive(uint32_t device) const {
  const Impl& im = *impl_;
  im.checkDevice(device);
  return load(im.st->devices[device].mode) == 1;
}

bool Arbiter::leasedByMe(uint32_t device) const {
  const Impl& im = *impl_;
  im.checkDevice(device);
  // A lease being given back takes no new run: a request sent to it would
  // fail with DEVICE_BUSY on an exclusive card, where another could run it.
  return im.local[device].whole && !im.local[device].ending;
}

bool Arbiter::leasedByOther(uint32_t device) const {
  const Impl& im = *impl_;
  im.checkDevice(device);
  // The lessee record is believed only while its lock is held (a probe,
  // made only when there is a record); this instance's own lease is no other's.
  return !im.local[device].whole && load(im.st->devices[device].lesseePid) != 0 &&
         isLocked(im.fd(), lockAt::whole(device));
}

void Arbiter::enqueued(uint32_t device, int delta) { enqueued(device, delta, monoNs()); }

void Arbiter::enqueued(uint32_t device, int delta, uint64_t now) {
  Impl& im = *impl_;
  im.checkDevice(device);
  add(im.st->perSlot[device][im.slot].queue, static_cast<uint32_t>(delta));
  // Marks this instance active for activePeers(), at most once per 10 ms;
  // completions too, so that a stream of requests done one at a time keeps
  // it marked between submits.
  if (now - im.activeAt.load(std::memory_order_relaxed) >= 10000000) {
    im.activeAt.store(now, std::memory_order_relaxed);
    store(im.st->slots[im.slot].activeAt, now);
  }
  im.maybeReap(now);
}

void Arbiter::record(uint32_t device, const std::string& accelerator, bool ok,
                     uint64_t busyNs) {
  Impl& im = *impl_;
  im.checkDevice(device);
  // Plain atomic adds, outside any update: a crash never loses a counted
  // request, and repair never rolls one back.
  Kernel& kernel = im.st->devices[device].kernels[im.kernelIndex(device, accelerator)];
  add(ok ? kernel.ok : kernel.failed, uint64_t{1});
  add(kernel.busyNs, busyNs);
}

Snapshot Arbiter::snapshot() const {
  Impl& im = *impl_;
  Impl::Table table(im);  // entering repairs and reaps
  Liveness live;
  live.slots = lockedSlots(im.fd(), slotHigh(*im.st));
  live.slots.set(im.slot);
  for (uint32_t d = 0, n = deviceCount(*im.st); d < n; d++)
    live.whole[d] = im.local[d].whole ||
                    (load(im.st->devices[d].lesseePid) != 0 && isLocked(im.fd(), lockAt::whole(d)));
  return buildSnapshot(*im.st, live);
}

Snapshot Arbiter::inspect(const std::string& dir) {
  Mapping map = openForRead(dir);  // holds the table lock shared
  if (!map.state()) return Snapshot();
  const State& s = *map.state();
  Liveness live;
  live.slots = lockedSlots(map.fd(), slotHigh(s));
  for (uint32_t d = 0, n = deviceCount(s); d < n; d++)
    live.whole[d] = load(s.devices[d].lesseePid) != 0 && isLocked(map.fd(), lockAt::whole(d));
  return buildSnapshot(s, live);
}

}  // namespace inaccel
