// Kernel-released locks: Linux OFD (open file description) byte-range
// locks on the state file. They belong to the open file description, so
// two Arbiter instances (two opens) exclude each other even inside one
// process, and the kernel drops them when the last descriptor closes:
// a process killed by SIGKILL releases everything it held.
#pragma once

#include <sys/types.h>

#include <bitset>
#include <cstdint>

#include "arbiter/state_file.h"

namespace inaccel {
namespace arb {

// Lock bytes. Advisory: a byte names a resource, it guards nothing at
// that file offset.
namespace lockAt {
constexpr off_t kTable = 0;           // short: guards state updates
constexpr off_t kSlotBase = 0x100;    // + slot: held for the slot owner's life
constexpr off_t kDeviceBase = 0x1000; // + 4 * device + {0,1,2,3}
inline off_t slot(uint32_t s) { return kSlotBase + s; }
inline off_t turnstile(uint32_t d) { return kDeviceBase + 4 * off_t(d); }
inline off_t device(uint32_t d) { return kDeviceBase + 4 * off_t(d) + 1; }
inline off_t whole(uint32_t d) { return kDeviceBase + 4 * off_t(d) + 2; }
inline off_t runner(uint32_t d) { return kDeviceBase + 4 * off_t(d) + 3; }
}  // namespace lockAt

enum class LockType { Shared, Exclusive };

// Takes (or converts: a held exclusive lock downgrades atomically) a lock
// on one byte. Returns false only when !wait and another holder conflicts.
// Throws Error("ARBITER_ERROR") on any other failure.
bool lockByte(int fd, off_t at, LockType type, bool wait);
// Cannot fail on a valid descriptor; never throws (used in destructors).
void unlockByte(int fd, off_t at) noexcept;

// True when another open file description holds a lock on the byte
// (this description's own locks never show).
bool isLocked(int fd, off_t at);

// The slots among [0, n) whose slot lock another description holds.
std::bitset<kMaxSlots> lockedSlots(int fd, uint32_t n);

}  // namespace arb
}  // namespace inaccel
