// SIGKILL tests: a child dies holding a shared lease, an exclusive lease
// (mid-reconfiguration), a whole-card lease, or inside a table update; the
// survivors and a fresh process get the device at once, with the counters.
#include <algorithm>
#include <csignal>

#include "arbiter/impl.h"
#include "arbiter_test_util.h"

using inaccel::Arbiter;
using inaccel::DeviceMode;
using inaccel::Lease;
using namespace test;

namespace {

bool hasUser(const inaccel::DeviceSnapshot& d, pid_t pid) {
  return std::find(d.users.begin(), d.users.end(), int32_t(pid)) != d.users.end();
}

bool hasProcess(const inaccel::Snapshot& s, pid_t pid) {
  for (const auto& p : s.processes)
    if (p.pid == pid) return true;
  return false;
}

// A fresh process gets `id` on device 0 within 200 ms.
void freshProcessGets(const TempDir& dir, const char* id) {
  pid_t fresh = spawn([&] {
    Arbiter c(dir.options());
    uint64_t t0 = nowNs();
    Lease l = c.acquire(c.attach("dev", DeviceMode::Shared), id);
    CHECK(nowNs() - t0 < 200 * kMs);
  });
  CHECK_EQ(join(fresh), 0);
}

void stopHere() { raise(SIGSTOP); }

// A child process that attaches "dev" and stops itself at `hook` while
// acquiring it for `id`; returns once it has stopped.
pid_t childStoppedAt(const TempDir& dir, void (*inaccel::arb::TestHooks::*hook)(), const char* id) {
  pid_t child = spawn([&] {
    Arbiter c(dir.options());
    inaccel::arb::testHooks.*hook = stopHere;
    c.acquire(c.attach("dev", DeviceMode::Shared), id);
  });
  CHECK(waitStopped(child));
  return child;
}

}  // namespace

TEST(sigkill_holding_a_shared_lease) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  Pipe holding;
  pid_t child = spawn([&] {
    Arbiter c(dir.options());
    uint32_t cd = c.attach("dev", DeviceMode::Shared);
    c.enqueued(cd, 3);
    Lease l = c.acquire(cd, "X");
    for (int i = 0; i < 5; i++) c.record(cd, "vector.addition", true, 10);
    holding.send();
    pause();
  });
  CHECK(holding.receive());
  auto dev = a.snapshot().devices.at(d);
  CHECK(hasUser(dev, child));
  CHECK_EQ(dev.queueDepth, 3u);
  killChild(child);
  uint64_t t0 = nowNs();
  Lease l = a.acquire(d, "Y");
  CHECK(nowNs() - t0 < 100 * kMs);
  CHECK(l.reconfigured());
  l.release();
  auto snap = a.snapshot();
  CHECK(!hasProcess(snap, child));
  CHECK(!hasUser(snap.devices.at(d), child));
  CHECK_EQ(snap.devices.at(d).queueDepth, 0u);
  CHECK_EQ(a.view(d).queueDepth, 0u);  // reclaimed, not only hidden
  CHECK_EQ(snap.devices.at(d).kernels.at(0).ok, uint64_t(5));
  freshProcessGets(dir, "X");
}

TEST(sigkill_holding_the_exclusive_lease_mid_reconfiguration) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  { Lease l = a.acquire(d, "X"); }
  pid_t child = childStoppedAt(dir, &inaccel::arb::TestHooks::exclusiveHeld, "Y");
  Arbiter b(dir.options());
  b.attach("dev", DeviceMode::Shared);
  CHECK_EQ(errorCode([&] { b.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  CHECK(a.snapshot().devices.at(d).waiting == 1);
  killChild(child);
  CHECK(a.snapshot().devices.at(d).waiting == 0);
  uint64_t t0 = nowNs();
  Lease l = a.acquire(d, "X");  // the child wrote nothing: still X
  CHECK(nowNs() - t0 < 100 * kMs);
  CHECK(!l.reconfigured());
  CHECK(!l.contended());
  l.release();
  freshProcessGets(dir, "Y");
}

// Killed while its device takes a new configuration (configure running),
// shared or under a whole-card lease: the card may hold the new one, or part
// of it. The record once still said X, of the same generation, and a
// survivor that had loaded X ran on without loading it again.
TEST(sigkill_while_the_device_takes_a_configuration) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  uint64_t generation = 0;
  for (bool whole : {false, true}) {
    {
      Lease l = a.acquire(d, "X");
      generation = l.generation();
    }
    pid_t child = spawn([&] {
      Arbiter c(dir.options());
      uint32_t cd = c.attach("dev", DeviceMode::Shared);
      if (whole) c.leaseWhole(cd, true);
      c.acquire(cd, "Y", {}, [] { raise(SIGSTOP); });
    });
    CHECK(waitStopped(child));
    CHECK(a.view(d).bitstreamHash != inaccel::bitstreamHash("X"));
    killChild(child);
    uint64_t t0 = nowNs();
    Lease l = a.acquire(d, "X");
    CHECK(nowNs() - t0 < 100 * kMs);
    CHECK(l.reconfigured());
    CHECK(l.generation() > generation);
  }
  freshProcessGets(dir, "Y");
}

TEST(sigkill_holding_the_whole_card) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Exclusive);
  Pipe holding;
  pid_t child = spawn([&] {
    Arbiter c(dir.options());
    c.leaseWhole(c.attach("dev", DeviceMode::Exclusive), true);
    holding.send();
    pause();
  });
  CHECK(holding.receive());
  CHECK(a.view(d).leasedByOther);
  CHECK_EQ(a.snapshot().devices.at(d).lessee, int32_t(child));
  CHECK_EQ(errorCode([&] { a.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  killChild(child);
  CHECK(!a.view(d).leasedByOther);  // the record is stale, the probe says so
  CHECK_EQ(Arbiter::inspect(dir.state()).devices.at(d).lessee, 0);
  CHECK_EQ(a.snapshot().devices.at(d).lessee, 0);
  a.leaseWhole(d, false);
  CHECK_EQ(a.snapshot().devices.at(d).lessee, int32_t(getpid()));
  a.unleaseWhole(d);
  freshProcessGets(dir, "X");
}

TEST(sigkill_inside_a_table_update) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  {
    Lease l = a.acquire(d, "X");
    a.record(d, "vector.addition", true, 7);
  }
  pid_t child = spawn([&] {
    Arbiter c(dir.options());
    uint32_t cd = c.attach("dev", DeviceMode::Shared);
    c.record(cd, "vector.addition", true, 7);
    inaccel::arb::testHooks.midUpdate = stopHere;
    c.acquire(cd, "a-much-longer-bitstream-id-Y");
  });
  CHECK(waitStopped(child));
  killChild(child);
  // Torn: view() reads an odd sequence and reports no configuration.
  CHECK_EQ(a.view(d).bitstreamHash, uint64_t(0));
  uint64_t t0 = nowNs();
  Lease l = a.acquire(d, "X");  // repairs, then configures again
  CHECK(nowNs() - t0 < 100 * kMs);
  CHECK(l.reconfigured());
  CHECK_EQ(l.generation(), uint64_t(3));  // 1: X, 2: the repair, 3: X again
  l.release();
  auto dev = a.snapshot().devices.at(d);
  CHECK(dev.bitstream == "X");
  CHECK_EQ(dev.reconfigurations, uint64_t(3));  // the child's attempt is counted
  CHECK_EQ(dev.kernels.at(0).ok, uint64_t(2));
  CHECK_EQ(dev.kernels.at(0).busyNs, uint64_t(14));
  freshProcessGets(dir, "X");
}

TEST(sigkill_inside_an_update_is_repaired_by_any_table_lock_holder) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  { Lease l = a.acquire(d, "X"); }
  pid_t child = childStoppedAt(dir, &inaccel::arb::TestHooks::midUpdate, "Y");
  killChild(child);
  auto dev = a.snapshot().devices.at(d);  // a snapshot takes the table lock
  CHECK(dev.bitstream.empty());
  CHECK_EQ(dev.generation, uint64_t(2));
  CHECK_EQ(a.view(d).bitstreamHash, uint64_t(0));
  CHECK_EQ(a.view(d).generation, uint64_t(2));
  freshProcessGets(dir, "Y");
}
