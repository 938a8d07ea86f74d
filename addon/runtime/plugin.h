// Backends built as separate shared objects (libinaccel_<name>.so), opened
// at run time so that the addon itself never links a vendor runtime: a host
// without XRT installs and runs everything else.
//
// A plugin exports two C symbols:
//   int inaccel_plugin_abi(void);                         returns kPluginAbi
//   inaccel::Backend* inaccel_backend_create(std::string* whyNot) noexcept;
//     returns a new Backend (owned by the caller), or nullptr and a reason.
// Both sides are C++ built by the same toolchain (node-gyp builds both), so
// Backend objects and inaccel::Error exceptions cross the boundary as is.
#pragma once

#include <memory>
#include <string>

#include "runtime/backend.h"

namespace inaccel {

// Bump whenever runtime/backend.h or common/error.h change in a way that
// breaks a plugin built against the previous version (test/native/plugin_abi.sh
// fails on any change to them until it records the new ones). 2: Device::shrink().
constexpr int kPluginAbi = 2;

// Loads backend plugin `name` ("xrt" -> libinaccel_xrt.so). It is looked for
// in $INACCEL_PLUGIN_DIR when that is set, else next to the addon's .node
// file and in its lib.target/ subfolder (where node-gyp puts shared
// libraries). Returns nullptr and sets *whyNot when the plugin is absent,
// cannot be loaded (e.g. its vendor library is missing) or refuses to start.
// A loaded plugin stays loaded for the life of the process.
std::unique_ptr<Backend> loadPluginBackend(const std::string& name, std::string* whyNot);

}  // namespace inaccel
