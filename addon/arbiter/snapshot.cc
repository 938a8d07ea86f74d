#include "arbiter/snapshot.h"

namespace inaccel {
namespace arb {

QueueSums queueSums(const State& s, uint32_t device, uint32_t self,
                    const std::bitset<kMaxSlots>* live) {
  if (device >= kMaxDevices) return {};
  uint64_t all = 0, others = 0;
  const SlotDevice* row = s.perSlot[device];
  for (uint32_t i = 0, n = slotHigh(s); i < n; i++) {
    if (live && !live->test(i)) continue;
    const uint32_t queued = positive(load(row[i].queue));
    all += queued;
    if (i != self) others += queued;
  }
  const auto clamp = [](uint64_t sum) {
    return sum > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(sum);
  };
  return {clamp(all), clamp(others)};
}

Snapshot buildSnapshot(const State& s, const Liveness& live) {
  Snapshot out;
  const uint32_t slots = slotHigh(s);
  for (uint32_t d = 0, n = deviceCount(s); d < n; d++) {
    const Device& dev = s.devices[d];
    DeviceSnapshot ds;
    ds.index = d;
    ds.key = readKey(dev);
    ds.mode = load(dev.mode) == 1 ? DeviceMode::Exclusive : DeviceMode::Shared;
    if (!(load(dev.cfgSeq) & 1)) ds.bitstream = readBitstream(dev);  // odd: torn, unknown
    ds.generation = load(dev.generation);
    ds.reconfigurations = load(dev.reconfigurations);
    ds.configureNs = configureNs(dev);
    ds.queueDepth = queueSums(s, d, kMaxSlots, &live.slots).all;  // no slot is kMaxSlots
    for (uint32_t i = 0; i < slots; i++) {
      if (!live.slots.test(i)) continue;
      const SlotDevice& sd = s.perSlot[d][i];
      if (positive(load(sd.waiting))) ds.waiting++;
      if (positive(load(sd.queue))) ds.users.push_back(load(s.slots[i].pid));
    }
    int32_t lessee = load(dev.lesseePid);
    ds.lessee = live.whole.test(d) && lessee > 0 ? lessee : 0;
    for (uint32_t k = 0, nk = kernelCount(dev); k < nk; k++) {
      const Kernel& kr = dev.kernels[k];
      ds.kernels.push_back({readName(kr), load(kr.ok), load(kr.failed), load(kr.busyNs)});
    }
    out.devices.push_back(std::move(ds));
  }
  for (uint32_t i = 0; i < slots; i++)
    if (live.slots.test(i)) out.processes.push_back({load(s.slots[i].pid), load(s.slots[i].startTime)});
  return out;
}

}  // namespace arb
}  // namespace inaccel
