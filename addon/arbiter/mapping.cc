#include "arbiter/mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "arbiter/locks.h"
#include "common/error.h"

namespace inaccel {
namespace arb {

namespace {

constexpr const char* kFileName = "/state";

[[noreturn]] void sysFail(int err, const std::string& what, const std::string& path) {
  std::string message = "arbiter: cannot " + what + " " + path + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM)
    throw Error("PERMISSION_DENIED",
                message + " (the state directory is shared by its owner and group, mode "
                          "0770: join its group or choose another directory)");
  throw Error("ARBITER_ERROR", message);
}

// Opens the state file without blocking (open() of a FIFO or a device node
// can wait forever) and refuses anything that is not a regular file, before
// any lock is taken on it. -1 with errno set when open() fails.
int openStateFile(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0660);
  if (fd < 0 && errno == EISDIR) throw Error("STATE_CORRUPT", "arbiter: " + path + " is not a file");
  if (fd < 0) return -1;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    const int err = errno;
    close(fd);
    sysFail(err, "stat", path);
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    throw Error("STATE_CORRUPT", "arbiter: " + path + " is not a file");
  }
  // A regular file: reads may block as usual from here on.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

// Runs a check of the file at `path`; a STATE_CORRUPT it finds then names
// the file and the way out.
template <typename Check>
void checkFile(const std::string& path, Check check) {
  try {
    check();
  } catch (const Error& error) {
    if (error.code() != "STATE_CORRUPT") throw;
    throw Error("STATE_CORRUPT", std::string(error.what()) + " (" + path +
                                     ": once no process uses the devices, delete it to start afresh)");
  }
}

// The header bytes of the open file, and its size.
size_t readHeader(int fd, const std::string& path, Header& header) {
  struct stat sb;
  if (fstat(fd, &sb) != 0) sysFail(errno, "stat", path);
  std::memset(&header, 0, sizeof header);
  size_t size = static_cast<size_t>(sb.st_size);
  size_t want = size < sizeof header ? size : sizeof header;
  size_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd, reinterpret_cast<char*>(&header) + got, want - got, got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) sysFail(n < 0 ? errno : EIO, "read", path);
    got += static_cast<size_t>(n);
  }
  return size;
}

State* mapState(int fd, bool writable, const std::string& path) {
  void* p = mmap(nullptr, sizeof(State), writable ? PROT_READ | PROT_WRITE : PROT_READ,
                 MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) sysFail(errno, "map", path);
  return static_cast<State*>(p);
}

}  // namespace

Mapping::Mapping(Mapping&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), state_(std::exchange(other.state_, nullptr)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

Mapping::~Mapping() { reset(); }

void Mapping::reset() {
  if (state_) munmap(state_, sizeof(State));
  if (fd_ >= 0) close(fd_);
  state_ = nullptr;
  fd_ = -1;
}

Mapping openForUpdate(const std::string& dir) {
  if (dir.empty()) throw Error("ARBITER_ERROR", "arbiter: no state directory given");
  if (mkdir(dir.c_str(), 0770) == 0) {
    if (chmod(dir.c_str(), 0770) != 0) sysFail(errno, "chmod", dir);  // mkdir obeys the umask
  } else if (errno != EEXIST) {
    sysFail(errno, "create", dir);
  }
  const std::string path = dir + kFileName;
  Mapping m;
  m.fd_ = openStateFile(path, O_RDWR | O_CREAT);
  if (m.fd_ < 0) sysFail(errno, "open", path);
  lockByte(m.fd_, lockAt::kTable, LockType::Exclusive, true);
  Header header;
  size_t size = readHeader(m.fd_, path, header);
  const bool fresh = uninitialized(&header, size);
  if (fresh) {
    if (ftruncate(m.fd_, sizeof(State)) != 0) sysFail(errno, "size", path);
    fchmod(m.fd_, 0660);  // open() obeys the umask; fails harmlessly if not ours
  } else {
    checkFile(path, [&] { checkHeader(&header, size); });
  }
  m.state_ = mapState(m.fd_, true, path);
  if (fresh) {
    initialize(*m.state_);
  } else {
    repair(*m.state_);
    checkFile(path, [&] { validate(*m.state_); });
  }
  unlockByte(m.fd_, lockAt::kTable);
  return m;
}

Mapping openForRead(const std::string& dir) {
  const std::string path = dir + kFileName;
  Mapping m;
  m.fd_ = openStateFile(path, O_RDONLY);
  if (m.fd_ < 0) {
    if (errno == ENOENT) return m;  // no process has used the devices yet
    sysFail(errno, "open", path);
  }
  lockByte(m.fd_, lockAt::kTable, LockType::Shared, true);
  Header header;
  size_t size = readHeader(m.fd_, path, header);
  if (uninitialized(&header, size)) return Mapping();
  checkFile(path, [&] { checkHeader(&header, size); });
  m.state_ = mapState(m.fd_, false, path);
  // Held shared, the table has no writer now: what validate() refuses is
  // corrupt, as it is to the instances that open it.
  checkFile(path, [&] { validate(*m.state_); });
  return m;
}

}  // namespace arb
}  // namespace inaccel
