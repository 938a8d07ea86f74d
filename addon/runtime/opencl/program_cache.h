// On-disk cache of built OpenCL programs, keyed by device + driver + source
// hash + build options, so a source bitstream is compiled once per host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace inaccel::opencl {

class ProgramCache {
 public:
  // dir: INACCEL_CACHE_DIR, else $XDG_CACHE_HOME/inaccel, else ~/.cache/inaccel.
  ProgramCache();

  // The cached binary for `key`, or empty (also for an entry whose length or
  // checksum does not match: a torn or damaged file is a miss).
  std::vector<unsigned char> load(const std::string& key) const;
  // Best effort: a cache that cannot be written only costs a rebuild.
  void store(const std::string& key, const std::vector<unsigned char>& binary) const;

 private:
  std::string path(const std::string& key) const;
  std::string dir_;
};

}  // namespace inaccel::opencl
