// Stand-ins for a broken libinaccel_xrt.so, built by xrt_run.sh: one that
// needs a library that is gone (-DNEEDS_GONE), one of another ABI.
#include <string>

#ifdef NEEDS_GONE
extern "C" int gone_function();
extern "C" int inaccel_plugin_abi() { return gone_function(); }
#else
extern "C" int inaccel_plugin_abi() { return 999; }
#endif

extern "C" void* inaccel_backend_create(std::string*) { return nullptr; }
