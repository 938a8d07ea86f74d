// Bounds checks of an xclbin image before XRT reads it. XRT's own parser
// trusts every offset and count in the file, so a truncated or corrupt
// xclbin would make it read out of bounds; this refuses such files with
// Error("BITSTREAM_INVALID") instead.
#pragma once

#include <string>
#include <vector>

namespace inaccel {
namespace xrt_plugin {

// Throws Error("BITSTREAM_INVALID", ...) naming `what` (the file) unless
// the header, the section table and the sections XRT parses (IP_LAYOUT,
// MEM_TOPOLOGY, CONNECTIVITY and their group variants, DEBUG_IP_LAYOUT,
// CLOCK_FREQ_TOPOLOGY) lie within `image` and reference only existing
// entries, and EMBEDDED_METADATA is present.
void checkXclbin(const std::vector<char>& image, const std::string& what);

// Reads `path` whole (at most 2 GiB) and checks it; throws
// BITSTREAM_INVALID when unreadable or corrupt.
std::vector<char> readXclbin(const std::string& path);

}  // namespace xrt_plugin
}  // namespace inaccel
