#include "runtime/opencl/program_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace inaccel::opencl {

namespace {

// FNV-1a: stable across builds and processes, unlike std::hash.
uint64_t fnv1a(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

void makeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') mkdir(dir.substr(0, i).c_str(), 0755);
  }
}

constexpr size_t kMaxBinary = 256u << 20;

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
                static_cast<unsigned long long>(fnv1a(key)));
  return dir_ + "/" + name;
}

std::vector<unsigned char> ProgramCache::load(const std::string& key) const {
  std::ifstream in(path(key), std::ios::binary);
  if (!in) return {};
  // The file starts with the full key: a hash collision reads as a miss.
  std::string stored;
  std::getline(in, stored, '\0');
  if (!in || stored != key) return {};
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  const auto start = static_cast<std::streamoff>(key.size() + 1);
  if (end <= start || static_cast<size_t>(end - start) > kMaxBinary) return {};
  std::vector<unsigned char> binary(static_cast<size_t>(end - start));
  in.seekg(start);
  in.read(reinterpret_cast<char*>(binary.data()), static_cast<std::streamsize>(binary.size()));
  if (!in) return {};
  return binary;
}

void ProgramCache::store(const std::string& key,
                         const std::vector<unsigned char>& binary) const {
  makeDirs(dir_);
  const std::string target = path(key);
  // Unique temp name + rename: concurrent writers never expose a torn file.
  const std::string temp = target + "." + std::to_string(getpid()) + "." +
                           std::to_string(reinterpret_cast<uintptr_t>(&binary)) + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(key.c_str(), static_cast<std::streamsize>(key.size() + 1));
    out.write(reinterpret_cast<const char*>(binary.data()),
              static_cast<std::streamsize>(binary.size()));
    if (!out) {
      std::remove(temp.c_str());
      return;
    }
  }
  if (std::rename(temp.c_str(), target.c_str()) != 0) std::remove(temp.c_str());
}

}  // namespace inaccel::opencl
