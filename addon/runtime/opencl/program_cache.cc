#include "runtime/opencl/program_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/fnv1a.h"

namespace inaccel::opencl {

namespace {

void makeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') mkdir(dir.substr(0, i).c_str(), 0755);
  }
}

constexpr size_t kMaxBinary = 256u << 20;

// An entry: this magic (its version), the key and a NUL, the binary's length
// and checksum (uint64 each, host byte order: the cache stays on its host),
// then the binary. Entries of another version are misses. The checksum is
// FNV-1a's: it only has to catch torn or damaged files (whoever can write
// the cache can write any binary), and the addon links no SHA-256.
constexpr char kMagic[] = "inaccel program cache 2\n";
constexpr size_t kMagicSize = sizeof kMagic - 1;

bool writeAll(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ProgramCache::ProgramCache() {
  if (const char* env = std::getenv("INACCEL_CACHE_DIR"); env && *env) {
    dir_ = env;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir_ = std::string(xdg) + "/inaccel";
  } else {
    const char* home = std::getenv("HOME");
    dir_ = std::string(home && *home ? home : "/tmp") + "/.cache/inaccel";
  }
  dir_ += "/programs";
}

std::string ProgramCache::path(const std::string& key) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bin",
                static_cast<unsigned long long>(fnv1a(key.data(), key.size())));
  return dir_ + "/" + name;
}

std::vector<unsigned char> ProgramCache::load(const std::string& key) const {
  // Non-blocking and regular files only: a FIFO here must not hang the build.
  const int fd = open(path(key).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return {};
  std::vector<unsigned char> file;
  struct stat sb;
  const size_t head = kMagicSize + key.size() + 1 + 2 * sizeof(uint64_t);
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && static_cast<size_t>(sb.st_size) > head &&
      static_cast<size_t>(sb.st_size) - head <= kMaxBinary) {
    file.resize(static_cast<size_t>(sb.st_size));
    size_t got = 0;
    while (got < file.size()) {
      ssize_t n = read(fd, file.data() + got, file.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    file.resize(got);
  }
  close(fd);
  // The file starts with the full key: a hash collision reads as a miss. A
  // length or checksum that does not match (a torn or damaged file) too.
  if (file.size() <= head || std::memcmp(file.data(), kMagic, kMagicSize) != 0 ||
      std::memcmp(file.data() + kMagicSize, key.c_str(), key.size() + 1) != 0) {
    return {};
  }
  uint64_t length = 0, checksum = 0;
  std::memcpy(&length, file.data() + head - 2 * sizeof(uint64_t), sizeof length);
  std::memcpy(&checksum, file.data() + head - sizeof(uint64_t), sizeof checksum);
  if (length != file.size() - head || fnv1a(file.data() + head, file.size() - head) != checksum)
    return {};
  file.erase(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(head));
  return file;
}

void ProgramCache::store(const std::string& key,
                         const std::vector<unsigned char>& binary) const {
  if (binary.empty() || binary.size() > kMaxBinary) return;
  makeDirs(dir_);
  const std::string target = path(key);
  // Unique temp name, written in full, then renamed: concurrent writers
  // never leave a torn entry under the final name. No fsync: an entry a
  // crash left incomplete fails its length or checksum check, which reads
  // as a miss and is written again; and some filesystems (FUSE, 9p) fail
  // every fsync, which would keep the cache empty there.
  const std::string temp = target + "." + std::to_string(getpid()) + "." +
                           std::to_string(reinterpret_cast<uintptr_t>(&binary)) + ".tmp";
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const uint64_t length = binary.size();
  const uint64_t checksum = fnv1a(binary.data(), binary.size());
  const bool written = writeAll(fd, kMagic, kMagicSize) &&
                       writeAll(fd, key.c_str(), key.size() + 1) &&
                       writeAll(fd, &length, sizeof length) &&
                       writeAll(fd, &checksum, sizeof checksum) &&
                       writeAll(fd, binary.data(), binary.size());
  if (close(fd) != 0 || !written || std::rename(temp.c_str(), target.c_str()) != 0)
    std::remove(temp.c_str());
}

}  // namespace inaccel::opencl
