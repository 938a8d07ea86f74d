// Pinned host memory for alloc(): on a device that does not share memory
// with the host (a GPU), copies from pinned pages run at the bus's speed
// (measured on an H100: 7.7 -> 47-55 GB/s), and NVIDIA's driver honours the
// pinning in every context of the process, so one allocator serves them all.
#pragma once

namespace inaccel::opencl {

// Once per process: installs the allocator when OpenCL has such a device.
// INACCEL_PINNED=0 never installs it; =1 installs it on any device (so the
// path runs on PoCL in tests); any other value is CONFIG_INVALID, thrown
// by every call until the process runs with a good one. Returns whether
// it is installed.
bool installPinnedAllocator();

}  // namespace inaccel::opencl
