// FNV-1a, the one non-cryptographic hash of the core: stable across builds
// and processes, unlike std::hash. Its offset basis lacks the standard
// one's last digit (1469598103934665603, not 14695981039346656037), a slip
// kept on purpose: state files and program caches hold hashes made with
// it, and any basis serves what the hash is for here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inaccel {

inline uint64_t fnv1a(const void* data, size_t size) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<const unsigned char*>(data)[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace inaccel
