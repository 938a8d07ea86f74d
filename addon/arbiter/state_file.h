// Layout of the shared state file and the pure operations on it (no locks,
// no syscalls): initialisation, validation, repair of torn records. The
// mapped bytes are shared with other processes and so treated as hostile:
// every length, index and count is clamped where it is used.
// docs/arbiter.md has the layout as a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

namespace inaccel {
namespace arb {

constexpr char kMagic[8] = {'I', 'N', 'A', 'C', 'C', 'A', 'R', 'B'};
constexpr uint32_t kLayoutVersion = 1;
constexpr uint32_t kMaxDevices = 64;
constexpr uint32_t kMaxKernels = 32;  // the last entry is "(other)" when full
constexpr uint32_t kMaxSlots = 256;
constexpr uint32_t kKeyMax = 128;
constexpr uint32_t kBitstreamMax = 192;
constexpr uint32_t kNameMax = 64;  // longer accelerator names are truncated
constexpr const char* kOtherKernel = "(other)";
// Configuration times above this are read as this (configureNs()): a
// quantum stays under five minutes.
constexpr uint64_t kMaxConfigureNs = 60000000000ull;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t headerSize;
  uint64_t fileSize;
  uint32_t maxDevices;
  uint32_t maxKernels;
  uint32_t maxSlots;
  uint32_t deviceSize;
  uint64_t seq;          // odd while a table-lock holder updates
  uint32_t deviceCount;  // published devices (stored after the record)
  uint32_t slotHigh;     // 1 + highest slot index ever claimed
  uint8_t reserved[4096 - 56];
};

struct Kernel {
  uint64_t ok;
  uint64_t failed;
  uint64_t busyNs;
  uint32_t nameLen;
  uint32_t reserved;
  char name[kNameMax];
};

struct Device {
  uint64_t cfgSeq;  // odd while the configuration is being written
  uint64_t bitstreamHash;  // inaccel::bitstreamHash(bitstream), 0: none
  uint64_t generation;
  uint64_t reconfigurations;
  uint64_t configuredAt;  // CLOCK_MONOTONIC ns of the last reconfiguration (of its end, once known)
  int32_t lesseePid;      // whole-card lessee; believed only while its lock is held
  uint32_t lesseeSlot;
  uint32_t mode;  // 0 shared, 1 exclusive
  uint32_t keyLen;
  uint32_t bitstreamLen;
  uint32_t kernelCount;
  char key[kKeyMax];
  char bitstream[kBitstreamMax];
  Kernel kernels[kMaxKernels];
  uint64_t configureNs;  // how long the device took to take on its configuration (Lease::configured); 0: unknown
  uint8_t reserved[632];
};

struct Slot {
  int32_t pid;  // 0: free; liveness is the slot lock, never this pid
  uint32_t reserved0;
  uint64_t startTime;  // CLOCK_REALTIME ns when claimed
  uint64_t activeAt;   // CLOCK_MONOTONIC ns of its last request queued or done, up to 10 ms stale; 0: none
  uint8_t reserved[40];
};

// One process slot's share of one device.
struct SlotDevice {
  uint32_t queue;    // queued + running requests (int32 semantics)
  uint32_t waiting;  // > 0 while waiting to reconfigure or to lease whole
};

struct State {
  Header header;
  Device devices[kMaxDevices];
  Slot slots[kMaxSlots];
  SlotDevice perSlot[kMaxDevices][kMaxSlots];  // device-major: view() scans one row
};

static_assert(sizeof(Header) == 4096, "header is one page");
static_assert(sizeof(Kernel) == 96, "kernel record");
static_assert(sizeof(Device) == 4096, "device record is one page");
static_assert(sizeof(Slot) == 64, "slot record");
static_assert(offsetof(State, devices) == 4096, "device table offset");
static_assert(offsetof(State, slots) == 4096 + 64 * 4096, "process table offset");
static_assert(offsetof(State, perSlot) == 282624, "per-slot table offset");
static_assert(sizeof(State) == 413696, "file size");

// Atomic access to the shared words (other processes write them). The
// value parameter is not deduced: store(x, 0) converts 0 to x's type.
template <class T>
using Same = typename std::common_type<T>::type;
template <class T>
inline T load(const T& x) {
  return __atomic_load_n(&x, __ATOMIC_SEQ_CST);
}
template <class T>
inline void store(T& x, Same<T> v) {
  __atomic_store_n(&x, v, __ATOMIC_SEQ_CST);
}
template <class T>
inline T add(T& x, Same<T> v) {
  return __atomic_add_fetch(&x, v, __ATOMIC_SEQ_CST);
}

inline uint32_t clampTo(uint32_t v, uint32_t max) { return v < max ? v : max; }
inline uint32_t deviceCount(const State& s) {
  return clampTo(load(s.header.deviceCount), kMaxDevices);
}
inline uint32_t slotHigh(const State& s) {
  return clampTo(load(s.header.slotHigh), kMaxSlots);
}
inline uint32_t kernelCount(const Device& d) {
  return clampTo(load(d.kernelCount), kMaxKernels);
}
inline uint64_t configureNs(const Device& d) {
  const uint64_t ns = load(d.configureNs);
  return ns < kMaxConfigureNs ? ns : kMaxConfigureNs;
}
// A counter word as the signed count it holds, negatives read as 0.
inline uint32_t positive(uint32_t word) {
  return static_cast<int32_t>(word) > 0 ? word : 0;
}

std::string readKey(const Device& d);
std::string readBitstream(const Device& d);
std::string readName(const Kernel& k);

// True for a file not (fully) initialised: empty, or of the right size
// with no magic yet (its creator died first; initialise() writes the magic
// last). Such a file is initialised again, under the table lock.
bool uninitialized(const void* header, size_t size);

// Checks the header prefix of a file of `size` bytes. Throws
// Error("STATE_VERSION") for another layout, Error("STATE_CORRUPT") for
// anything else that is not this layout's header.
void checkHeader(const void* bytes, size_t size);

void initialize(State& s);

// Repairs what a holder killed mid-update leaves (odd cfgSeq: the
// configuration is forgotten and its generation bumped; odd header seq).
// Caller holds the table lock, so no live writer is inside an update.
// Returns true when something was repaired.
bool repair(State& s);

// Full structural check of a state, repaired or not (a configuration
// left in update is repair()'s, not corrupt); throws Error("STATE_CORRUPT").
void validate(const State& s);

}  // namespace arb
}  // namespace inaccel
