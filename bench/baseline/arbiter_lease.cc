// The arbiter-lease case: uncontended Arbiter::acquire + Lease::release on a
// device already configured with the bitstream (the path every request of a
// worker takes), against its raw floor: one OFD read-lock + unlock pair on a
// byte of a file (fcntl F_OFD_SETLKW / F_OFD_SETLK), the two system calls a
// shared run lease cannot do without.
//
//   arbiter_lease STATE_DIR ITERS  ->  {"sdkUs":..., "rawUs":..., "iters":...}
//
// Built by bench/main.mjs from this file and addon/arbiter/*.cc.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "arbiter/arbiter.h"
#include "common/error.h"

namespace {

double nowUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double leaseUs(inaccel::Arbiter& arbiter, uint32_t device, long iters) {
  const std::string bitstream = "bench-vector";
  for (int i = 0; i < 100; i++) arbiter.acquire(device, bitstream).release();  // warm-up
  const double start = nowUs();
  for (long i = 0; i < iters; i++) {
    inaccel::Lease lease = arbiter.acquire(device, bitstream);
    lease.release();
  }
  return (nowUs() - start) / static_cast<double>(iters);
}

double rawUs(const std::string& dir, long iters) {
  const std::string path = dir + "/raw-lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  struct flock lock;
  std::memset(&lock, 0, sizeof lock);
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 1;
  auto pair = [&] {
    lock.l_type = F_RDLCK;
    if (fcntl(fd, F_OFD_SETLKW, &lock) != 0) std::exit(1);
    lock.l_type = F_UNLCK;
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) std::exit(1);
  };
  for (int i = 0; i < 100; i++) pair();
  const double start = nowUs();
  for (long i = 0; i < iters; i++) pair();
  const double us = (nowUs() - start) / static_cast<double>(iters);
  close(fd);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: arbiter_lease STATE_DIR ITERS\n");
    return 2;
  }
  const std::string dir = argv[1];
  const long iters = std::atol(argv[2]);
  try {
    inaccel::ArbiterOptions options;
    options.dir = dir;
    inaccel::Arbiter arbiter(options);
    const uint32_t device = arbiter.attach("bench:device", inaccel::DeviceMode::Shared);
    arbiter.enqueued(device, +1);  // as the engine does before handing a job to a worker
    const double sdk = leaseUs(arbiter, device, iters);
    arbiter.enqueued(device, -1);
    const double raw = rawUs(dir, iters);
    std::printf("{\"sdkUs\":%.4f,\"rawUs\":%.4f,\"iters\":%ld}\n", sdk, raw, iters);
  } catch (const inaccel::Error& error) {
    std::printf("{\"error\":\"%s: %s\"}\n", error.code().c_str(), error.what());
    return 1;
  }
  return 0;
}
