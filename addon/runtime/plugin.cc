#include "runtime/plugin.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <vector>

namespace inaccel {
namespace {

using AbiFn = int (*)();
using CreateFn = Backend* (*)(std::string*);

std::string dirname(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Folders to look in, in order.
std::vector<std::string> searchDirs() {
  if (const char* dir = std::getenv("INACCEL_PLUGIN_DIR"); dir != nullptr && *dir != '\0') {
    return {dir};
  }
  Dl_info self{};
  if (::dladdr(reinterpret_cast<void*>(&loadPluginBackend), &self) == 0 || self.dli_fname == nullptr) {
    return {};
  }
  const std::string dir = dirname(self.dli_fname);
  return {dir, dir + "/lib.target"};
}

bool validName(const std::string& name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Backend> loadPluginBackend(const std::string& name, std::string* whyNot) {
  std::string ignored;
  std::string& why = whyNot != nullptr ? *whyNot : ignored;
  why.clear();
  if (!validName(name)) {
    why = "invalid plugin name '" + name + "'";
    return nullptr;
  }
  const std::string file = "libinaccel_" + name + ".so";
  std::string path, looked;
  for (const auto& dir : searchDirs()) {
    looked += (looked.empty() ? "" : ", ") + dir;
    if (exists(dir + "/" + file)) {
      path = dir + "/" + file;
      break;
    }
  }
  if (path.empty()) {
    why = "the " + name + " backend is not installed (no " + file + " in " +
          (looked.empty() ? std::string("the addon's folder") : looked) +
          "; it is built only where its vendor headers exist)";
    return nullptr;
  }
  // Never dlclosed once it has created a backend: vendor runtimes keep
  // threads and static state alive until exit.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    why = "the " + name + " backend (" + path + ") cannot be loaded: " +
          (error != nullptr ? error : "unknown error") + " (is its vendor runtime installed?)";
    return nullptr;
  }
  auto abi = reinterpret_cast<AbiFn>(::dlsym(handle, "inaccel_plugin_abi"));
  auto create = reinterpret_cast<CreateFn>(::dlsym(handle, "inaccel_backend_create"));
  if (abi == nullptr || create == nullptr || abi() != kPluginAbi) {
    ::dlclose(handle);
    why = path + " is not an inaccel plugin of this version (ABI " + std::to_string(kPluginAbi) +
          "); rebuild it with the addon";
    return nullptr;
  }
  std::unique_ptr<Backend> backend(create(&why));
  if (backend == nullptr && why.empty()) why = "the " + name + " backend failed to start";
  return backend;
}

}  // namespace inaccel
