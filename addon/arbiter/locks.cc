#include "arbiter/locks.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.h"

namespace inaccel {
namespace arb {

namespace {

struct flock byteLock(short type, off_t at, off_t len) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);  // OFD locks require l_pid == 0
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = at;
  fl.l_len = len;
  return fl;
}

[[noreturn]] void fail(const char* what, off_t at) {
  throw Error("ARBITER_ERROR", std::string("arbiter lock ") + what + " at " +
                                   std::to_string(at) + ": " + std::strerror(errno));
}

}  // namespace

bool lockByte(int fd, off_t at, LockType type, bool wait) {
  struct flock fl = byteLock(type == LockType::Shared ? F_RDLCK : F_WRLCK, at, 1);
  for (;;) {
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return true;
    if (errno == EINTR) continue;
    if (!wait && (errno == EAGAIN || errno == EACCES)) return false;
    fail("take", at);
  }
}

void unlockByte(int fd, off_t at) noexcept {
  struct flock fl = byteLock(F_UNLCK, at, 1);
  while (fcntl(fd, F_OFD_SETLK, &fl) != 0 && errno == EINTR) {
  }
}

bool isLocked(int fd, off_t at) {
  struct flock fl = byteLock(F_WRLCK, at, 1);
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) fail("probe", at);
  return fl.l_type != F_UNLCK;
}

std::bitset<kMaxSlots> lockedSlots(int fd, uint32_t n) {
  std::bitset<kMaxSlots> live;
  // GETLK reports one conflicting lock of a range, not necessarily the
  // lowest: split the range around each one found. Cost: about two calls
  // per live slot, plus one.
  struct Range {
    off_t from, to;
  } stack[kMaxSlots + 2];  // disjoint ranges: at most one more than the slots found
  size_t depth = 0;
  stack[depth++] = {lockAt::slot(0), lockAt::slot(clampTo(n, kMaxSlots))};
  while (depth > 0) {
    const Range r = stack[--depth];
    if (r.from >= r.to) continue;
    struct flock fl = byteLock(F_WRLCK, r.from, r.to - r.from);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) fail("probe", r.from);
    if (fl.l_type == F_UNLCK) continue;
    // Clip to the range; l_len 0 means "to the end of the file".
    off_t from = fl.l_start > r.from ? fl.l_start : r.from;
    off_t to = fl.l_len == 0 || fl.l_start + fl.l_len > r.to ? r.to : fl.l_start + fl.l_len;
    if (from >= to) {  // cannot happen for a conflict inside the range; never loop on it
      from = r.from;
      to = r.from + 1;
    }
    for (off_t b = from; b < to; b++) live.set(static_cast<size_t>(b - lockAt::slot(0)));
    stack[depth++] = {r.from, from};
    stack[depth++] = {to, r.to};
  }
  return live;
}

}  // namespace arb
}  // namespace inaccel
