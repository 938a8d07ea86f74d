#include "arbiter/state_file.h"

#include <atomic>
#include <cstring>

#include "arbiter/arbiter.h"
#include "common/error.h"

namespace inaccel {
namespace arb {

namespace {

[[noreturn]] void corrupt(const std::string& what) {
  throw Error("STATE_CORRUPT", "arbiter state file is corrupt: " + what);
}

std::string readString(const char* p, uint32_t len, uint32_t cap) {
  return std::string(p, clampTo(len, cap));
}

}  // namespace

std::string readKey(const Device& d) {
  return readString(d.key, load(d.keyLen), kKeyMax);
}
std::string readBitstream(const Device& d) {
  return readString(d.bitstream, load(d.bitstreamLen), kBitstreamMax);
}
std::string readName(const Kernel& k) {
  return readString(k.name, load(k.nameLen), kNameMax);
}

bool uninitialized(const void* header, size_t size) {
  if (size == 0) return true;
  if (size != sizeof(State)) return false;
  const unsigned char* magic = static_cast<const unsigned char*>(header);
  for (size_t i = 0; i < sizeof kMagic; i++)
    if (magic[i] != 0) return false;
  return true;
}

void checkHeader(const void* bytes, size_t size) {
  if (size < 16) corrupt("truncated header (" + std::to_string(size) + " bytes)");
  Header h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(&h, bytes, size < sizeof h ? size : sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) corrupt("bad magic");
  if (h.version != kLayoutVersion)
    throw Error("STATE_VERSION",
                "arbiter state file has layout version " + std::to_string(h.version) +
                    ", this library uses version " + std::to_string(kLayoutVersion) +
                    "; stop the processes of the other version or use another state directory");
  if (size < sizeof h) corrupt("truncated header (" + std::to_string(size) + " bytes)");
  if (h.headerSize != sizeof(Header) || h.fileSize != sizeof(State) ||
      h.maxDevices != kMaxDevices || h.maxKernels != kMaxKernels ||
      h.maxSlots != kMaxSlots || h.deviceSize != sizeof(Device))
    corrupt("header does not describe this layout");
  if (size != sizeof(State))
    corrupt("file is " + std::to_string(size) + " bytes, expected " +
            std::to_string(sizeof(State)));
}

void initialize(State& s) {
  std::memset(static_cast<void*>(&s), 0, sizeof s);
  Header& h = s.header;
  h.version = kLayoutVersion;
  h.headerSize = sizeof(Header);
  h.fileSize = sizeof(State);
  h.maxDevices = kMaxDevices;
  h.maxKernels = kMaxKernels;
  h.maxSlots = kMaxSlots;
  h.deviceSize = sizeof(Device);
  // Last, also for the compiler: marks the file initialised.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(h.magic, kMagic, sizeof kMagic);
}

bool repair(State& s) {
  bool fixed = false;
  for (uint32_t i = 0, n = deviceCount(s); i < n; i++) {
    Device& d = s.devices[i];
    uint64_t seq = load(d.cfgSeq);
    if (seq & 1) {
      // Killed while writing the configuration: what the card holds is
      // unknown, so forget it; the new generation makes every process load.
      store(d.bitstreamLen, 0u);
      store(d.bitstreamHash, uint64_t{0});
      store(d.configuredAt, uint64_t{0});
      add(d.generation, uint64_t{1});
      store(d.cfgSeq, seq + 1);
      fixed = true;
    }
  }
  uint64_t seq = load(s.header.seq);
  if (seq & 1) {
    store(s.header.seq, seq + 1);
    fixed = true;
  }
  return fixed;
}

void validate(const State& s) {
  const Header& h = s.header;
  uint32_t devices = load(h.deviceCount);
  if (devices > kMaxDevices) corrupt("device count " + std::to_string(devices));
  if (load(h.slotHigh) > kMaxSlots) corrupt("slot count " + std::to_string(load(h.slotHigh)));
  for (uint32_t i = 0; i < devices; i++) {
    const Device& d = s.devices[i];
    std::string at = "device " + std::to_string(i) + ": ";
    uint32_t keyLen = load(d.keyLen), len = load(d.bitstreamLen), kernels = load(d.kernelCount);
    if (keyLen == 0 || keyLen > kKeyMax) corrupt(at + "key length");
    if (load(d.mode) > 1) corrupt(at + "mode");
    if (len > kBitstreamMax) corrupt(at + "bitstream length");
    // An odd cfgSeq under the table lock is a writer killed mid-update, not
    // corruption: repair() forgets that record (readers cannot repair).
    if (!(load(d.cfgSeq) & 1) && load(d.bitstreamHash) != bitstreamHash(std::string(d.bitstream, len)))
      corrupt(at + "bitstream checksum");
    if (load(d.lesseePid) < 0 || (load(d.lesseePid) != 0 && load(d.lesseeSlot) >= kMaxSlots))
      corrupt(at + "lessee");
    if (kernels > kMaxKernels) corrupt(at + "kernel count");
    for (uint32_t k = 0; k < kernels; k++) {
      uint32_t nameLen = load(d.kernels[k].nameLen);
      if (nameLen == 0 || nameLen > kNameMax) corrupt(at + "kernel name length");
    }
  }
  for (uint32_t i = 0; i < kMaxSlots; i++)
    if (load(s.slots[i].pid) < 0) corrupt("slot " + std::to_string(i) + ": pid");
}

}  // namespace arb
}  // namespace inaccel
