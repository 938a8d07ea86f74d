#include "xclbin_check.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "xclbin.h"  // XRT's layout, for the static_asserts below

namespace inaccel {
namespace xrt_plugin {
namespace {

// Offsets into xclbin.h's struct axlf. The image is read byte-wise (it may
// be unaligned or hostile), never cast to XRT's structs.
constexpr size_t kHeaderEnd = offsetof(axlf, m_sections);
constexpr size_t kLengthAt = offsetof(axlf, m_header) + offsetof(axlf_header, m_length);
constexpr size_t kVbnvAt = offsetof(axlf, m_header) + offsetof(axlf_header, m_platformVBNV);
constexpr size_t kNumSectionsAt = offsetof(axlf, m_header) + offsetof(axlf_header, m_numSections);
constexpr size_t kSectionHeaderSize = sizeof(axlf_section_header);
static_assert(kHeaderEnd == 456 && kLengthAt == 304 && kVbnvAt == 352 && kNumSectionsAt == 448, "axlf layout");
constexpr uint32_t kMaxSections = 0x10000;  // XCLBIN_MAX_NUM_SECTION
// XRT sizes a vector by the largest argument index it sees in CONNECTIVITY.
constexpr int32_t kMaxArgIndex = 4096;

struct Section {
  uint32_t kind;
  uint64_t offset;
  uint64_t size;
};

template <typename T>
T load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

class Checker {
 public:
  Checker(const std::vector<char>& image, const std::string& what) : image_(image), what_(what) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw Error("BITSTREAM_INVALID", what_ + ": not a valid xclbin: " + why);
  }

  // A NUL-terminated string in [at, at + size).
  void cstring(const char* at, size_t size, const std::string& field) const {
    if (std::memchr(at, 0, size) == nullptr) fail(field + " is not NUL-terminated");
  }

  std::vector<Section> sections() const {
    if (image_.size() < kHeaderEnd) fail("shorter than its header");
    if (std::memcmp(image_.data(), "xclbin2\0", 8) != 0) fail("bad magic");
    const auto length = load<uint64_t>(image_.data() + kLengthAt);
    if (length != image_.size()) {
      fail("header says " + std::to_string(length) + " bytes, file has " + std::to_string(image_.size()));
    }
    cstring(image_.data() + kVbnvAt, 64, "platform VBNV");
    const auto count = load<uint32_t>(image_.data() + kNumSectionsAt);
    if (count > kMaxSections || kHeaderEnd + kSectionHeaderSize * uint64_t{count} > image_.size()) {
      fail("section table out of bounds");
    }
    std::vector<Section> out;
    for (uint32_t i = 0; i < count; ++i) {
      const char* h = image_.data() + kHeaderEnd + kSectionHeaderSize * i;
      Section s{load<uint32_t>(h), load<uint64_t>(h + 24), load<uint64_t>(h + 32)};
      if (s.offset > image_.size() || s.size > image_.size() - s.offset) {
        fail("section " + std::to_string(i) + " out of bounds");
      }
      out.push_back(s);
    }
    return out;
  }

  // XRT uses the first section of a kind.
  static const Section* find(const std::vector<Section>& all, uint32_t kind) {
    for (const auto& s : all) {
      if (s.kind == kind) return &s;
    }
    return nullptr;
  }

  // Checks `count` entries of `entry` bytes at `first` within `s`; returns count.
  int64_t table(const Section& s, size_t countSize, size_t first, size_t entry, const char* name) const {
    if (s.size < countSize) fail(std::string(name) + " too short");
    const char* p = image_.data() + s.offset;
    const int64_t count = countSize == 2 ? int64_t{load<uint16_t>(p)} : int64_t{load<int32_t>(p)};
    if (count < 0) fail(std::string(name) + " has a negative count");
    if (count > 0 && first + entry * uint64_t(count) > s.size) fail(std::string(name) + " entries out of bounds");
    return count;
  }

  // The m_used flag of each bank.
  std::vector<bool> memTopology(const Section* s) const {
    if (s == nullptr) return {};
    const int64_t count = table(*s, 4, offsetof(mem_topology, m_mem_data), sizeof(mem_data), "MEM_TOPOLOGY");
    std::vector<bool> used;
    for (int64_t i = 0; i < count; ++i) {
      const char* entry = image_.data() + s->offset + 8 + 40 * i;
      cstring(entry + offsetof(mem_data, m_tag), 16, "memory tag");
      used.push_back(entry[offsetof(mem_data, m_used)] != 0);
    }
    return used;
  }

  int64_t ipLayout(const Section* s) const {
    if (s == nullptr) return 0;
    const int64_t count = table(*s, 4, offsetof(ip_layout, m_ip_data), sizeof(ip_data), "IP_LAYOUT");
    for (int64_t i = 0; i < count; ++i) {
      cstring(image_.data() + s->offset + 8 + 80 * i + offsetof(ip_data, m_name), 64, "IP name");
    }
    return count;
  }

  void connectivity(const Section* s, int64_t ips, const std::vector<bool>& used) const {
    if (s == nullptr) return;
    const int64_t count = table(*s, 4, offsetof(::connectivity, m_connection), sizeof(connection), "CONNECTIVITY");
    for (int64_t i = 0; i < count; ++i) {
      const char* c = image_.data() + s->offset + 4 + 12 * i;
      const auto arg = load<int32_t>(c), ip = load<int32_t>(c + 4), mem = load<int32_t>(c + 8);
      if (arg < 0 || arg >= kMaxArgIndex || ip < 0 || ip >= ips || mem < 0 || mem >= int64_t(used.size())) {
        fail("CONNECTIVITY entry " + std::to_string(i) + " points outside IP_LAYOUT/MEM_TOPOLOGY");
      }
      // xclbin.h: "Flag error if m_used false"; XRT fails on it when it opens the kernel.
      if (!used[size_t(mem)]) fail("CONNECTIVITY entry " + std::to_string(i) + " wires an argument to an unused bank");
    }
  }

  void check() const {
    const auto all = sections();
    if (find(all, EMBEDDED_METADATA) == nullptr) fail("no EMBEDDED_METADATA (kernel metadata)");
    const int64_t ips = ipLayout(find(all, IP_LAYOUT));
    const auto mems = memTopology(find(all, MEM_TOPOLOGY));
    connectivity(find(all, CONNECTIVITY), ips, mems);
    // XRT prefers the group sections when present; same layouts.
    const auto* groupTopology = find(all, ASK_GROUP_TOPOLOGY);
    connectivity(find(all, ASK_GROUP_CONNECTIVITY), ips, groupTopology != nullptr ? memTopology(groupTopology) : mems);
    if (const auto* debug = find(all, DEBUG_IP_LAYOUT)) table(*debug, 2, offsetof(debug_ip_layout, m_debug_ip_data), sizeof(debug_ip_data), "DEBUG_IP_LAYOUT");
    if (const auto* clocks = find(all, CLOCK_FREQ_TOPOLOGY)) table(*clocks, 2, offsetof(clock_freq_topology, m_clock_freq), sizeof(clock_freq), "CLOCK_FREQ_TOPOLOGY");
  }

 private:
  const std::vector<char>& image_;
  const std::string& what_;
};

}  // namespace

void checkXclbin(const std::vector<char>& image, const std::string& what) {
  Checker(image, what).check();
}

std::vector<char> readXclbin(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error("BITSTREAM_INVALID", path + ": cannot open");
  const std::streamoff size = in.tellg();
  if (size < 0 || size > (std::streamoff{1} << 31)) throw Error("BITSTREAM_INVALID", path + ": unreadable or too large");
  std::vector<char> image(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(image.data(), size)) throw Error("BITSTREAM_INVALID", path + ": read failed");
  checkXclbin(image, path);
  return image;
}

}  // namespace xrt_plugin
}  // namespace inaccel
