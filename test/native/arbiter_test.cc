// Tests of the arbiter with real processes and real locks: this file has
// main() and the single-process tests; arbiter_test_procs.cc,
// arbiter_test_crash.cc and arbiter_test_file.cc the others.
// Build and run: test/native/run.sh. Optional argument: a test name filter.
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "arbiter_test_util.h"

using inaccel::Arbiter;
using inaccel::DeviceMode;
using inaccel::Lease;
using namespace test;

TEST(attach_is_idempotent_and_records_the_mode) {
  TempDir dir;
  Arbiter a(dir.options()), b(dir.options());
  CHECK_EQ(a.attach("pci:0000:01:00.0", DeviceMode::Shared), 0u);
  CHECK_EQ(a.attach("pci:0000:02:00.0", DeviceMode::Exclusive), 1u);
  CHECK_EQ(b.attach("pci:0000:02:00.0", DeviceMode::Exclusive), 1u);
  CHECK_EQ(b.attach("pci:0000:01:00.0", DeviceMode::Shared), 0u);
  CHECK(a.view(1).mode == DeviceMode::Exclusive);
  CHECK(b.view(0).mode == DeviceMode::Shared);
  CHECK_EQ(errorCode([&] { a.view(2); }), std::string("ARBITER_ERROR"));
  CHECK_EQ(errorCode([&] { a.attach("", DeviceMode::Shared); }), std::string("ARBITER_ERROR"));
  auto snap = a.snapshot();
  CHECK_EQ(snap.devices.size(), size_t(2));
  CHECK(snap.devices[1].key == "pci:0000:02:00.0");
  CHECK(snap.devices[1].mode == DeviceMode::Exclusive);
  CHECK_EQ(snap.processes.size(), size_t(2));
}

TEST(acquire_configures_and_bumps_the_generation) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  CHECK_EQ(a.view(d).bitstreamHash, uint64_t(0));
  {
    Lease l = a.acquire(d, "X");
    CHECK(bool(l));
    CHECK(l.reconfigured());
    CHECK_EQ(l.generation(), uint64_t(1));
  }
  {
    Lease l = a.acquire(d, "X");
    CHECK(!l.reconfigured());
    CHECK_EQ(l.generation(), uint64_t(1));
    Lease moved = std::move(l);
    CHECK(!l && bool(moved));
  }
  Lease y = a.acquire(d, "Y");
  CHECK(y.reconfigured());
  CHECK_EQ(y.generation(), uint64_t(2));
  CHECK_EQ(a.view(d).bitstreamHash, inaccel::bitstreamHash("Y"));
  CHECK_EQ(a.view(d).generation, uint64_t(2));
  y.release();
  auto dev = a.snapshot().devices.at(d);
  CHECK(dev.bitstream == "Y");
  CHECK_EQ(dev.reconfigurations, uint64_t(2));
  CHECK_EQ(errorCode([&] { a.acquire(d, ""); }), std::string("ARBITER_ERROR"));
}

// A configuration the device fails to take (configure throws) is never
// recorded: the device keeps its bitstream, generation and count, shared
// or under a whole-card lease, and nothing stays held.
TEST(a_configure_that_throws_records_nothing) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  int calls = 0;
  const auto loads = [&] { calls++; };
  const auto fails = [&] {
    calls++;
    throw inaccel::Error("DEVICE_ERROR", "does not build");
  };
  { Lease x = a.acquire(d, "X", {}, loads); }
  CHECK_EQ(calls, 1);
  { Lease x = a.acquire(d, "X", {}, loads); }  // configured already: not called
  CHECK_EQ(calls, 1);
  CHECK_EQ(errorCode([&] { a.acquire(d, "Y", {}, fails); }), std::string("DEVICE_ERROR"));
  CHECK_EQ(calls, 2);
  auto dev = a.snapshot().devices.at(d);
  CHECK(dev.bitstream == "X");
  CHECK_EQ(dev.generation, uint64_t(1));
  CHECK_EQ(dev.reconfigurations, uint64_t(1));
  CHECK_EQ(dev.waiting, 0u);
  {
    Lease x = b.acquire(d, "X");  // nothing held: another instance runs X at once
    CHECK(!x.reconfigured());
    CHECK_EQ(x.generation(), uint64_t(1));
  }
  a.leaseWhole(d, false);
  CHECK_EQ(errorCode([&] { a.acquire(d, "Y", {}, fails); }), std::string("DEVICE_ERROR"));
  CHECK(a.snapshot().devices.at(d).bitstream == "X");
  {
    Lease y = a.acquire(d, "Y", {}, loads);
    CHECK(y.reconfigured());
    CHECK_EQ(y.generation(), uint64_t(2));
  }
  a.unleaseWhole(d);
  CHECK(a.snapshot().devices.at(d).bitstream == "Y");
  CHECK_EQ(a.snapshot().devices.at(d).reconfigurations, uint64_t(2));
}

TEST(queue_depth_and_users_sum_over_instances) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  {
    Arbiter b(dir.options());
    b.attach("dev", DeviceMode::Shared);
    a.enqueued(d, 3);
    b.enqueued(d, 2);
    CHECK_EQ(a.view(d).queueDepth, 5u);
    auto dev = a.snapshot().devices.at(d);
    CHECK_EQ(dev.queueDepth, 5u);
    CHECK_EQ(dev.users.size(), size_t(2));
    b.enqueued(d, -2);
    CHECK_EQ(a.snapshot().devices.at(d).users.size(), size_t(1));
    b.enqueued(d, 4);
  }
  // b is gone: its contribution with it.
  CHECK_EQ(a.view(d).queueDepth, 3u);
  CHECK_EQ(a.snapshot().processes.size(), size_t(1));
}

TEST(others_queue_counts_other_instances_only_while_own_count_moves) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  std::atomic<bool> stop{false};
  std::thread mover([&] {
    while (!stop) {
      a.enqueued(d, 5);
      a.enqueued(d, -5);
    }
  });
  // The engine reads others' work from this: a wrong sum would make a
  // process alone believe it shares its devices.
  for (int i = 0; i < 200000; i++) CHECK_EQ(a.view(d).othersQueue, 0u);
  b.enqueued(d, 2);
  for (int i = 0; i < 1000; i++) CHECK_EQ(a.view(d).othersQueue, 2u);
  stop = true;
  mover.join();
  CHECK_EQ(b.view(d).othersQueue, 0u);
}

TEST(active_peers_count_those_below_and_those_busy) {
  TempDir dir;
  auto low = std::make_unique<Arbiter>(dir.options());
  Arbiter idle(dir.options()), high(dir.options());
  uint32_t d = low->attach("dev", DeviceMode::Shared);
  CHECK_EQ(low->activePeers().busy, 0u);
  CHECK_EQ(high.activePeers().below, 0u);  // none below has queued anything yet
  low->enqueued(d, 1);
  idle.enqueued(d, 1);
  high.enqueued(d, 1);
  CHECK_EQ(high.activePeers().below, 2u);
  CHECK_EQ(high.activePeers().busy, 2u);  // itself not counted
  CHECK_EQ(low->activePeers().below, 0u);
  CHECK_EQ(low->activePeers().busy, 2u);  // those above count too
  sleepMs(Arbiter::kBusyNs / 1000000 + 20);
  CHECK_EQ(high.activePeers().below, 2u);  // active, no longer busy
  CHECK_EQ(high.activePeers().busy, 0u);
  sleepMs((Arbiter::kActiveNs - Arbiter::kBusyNs) / 1000000 + 20);
  low->enqueued(d, -1);  // a request done counts as much as one queued
  CHECK_EQ(high.activePeers().below, 1u);  // `idle` is no longer active
  CHECK_EQ(high.activePeers().busy, 1u);
  CHECK_EQ(low->activePeers().busy, 0u);
  low.reset();  // gone: its slot lock with it
  CHECK_EQ(high.activePeers().below, 0u);
  CHECK_EQ(high.activePeers().busy, 0u);
}

TEST(slots_are_probed_claimed_and_exhausted) {
  TempDir dir;
  std::vector<std::unique_ptr<Arbiter>> all;
  for (int i = 0; i < 256; i++) all.emplace_back(new Arbiter(dir.options()));
  CHECK_EQ(errorCode([&] { Arbiter extra(dir.options()); }), std::string("ARBITER_ERROR"));
  for (size_t i = 1; i < all.size(); i += 2) all[i].reset();
  CHECK_EQ(all[0]->snapshot().processes.size(), size_t(128));
  CHECK_EQ(Arbiter::inspect(dir.state()).processes.size(), size_t(128));
  Arbiter again(dir.options());  // takes a freed slot
  CHECK_EQ(Arbiter::inspect(dir.state()).processes.size(), size_t(129));
}

TEST(record_keeps_per_accelerator_counters) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  for (int i = 0; i < 3; i++) a.record(d, "vector.addition", true, 1000);
  a.record(d, "vector.addition", false, 500);
  auto k = a.snapshot().devices.at(d).kernels;
  CHECK_EQ(k.size(), size_t(1));
  CHECK(k.at(0).accelerator == "vector.addition");
  CHECK_EQ(k.at(0).ok, uint64_t(3));
  CHECK_EQ(k.at(0).failed, uint64_t(1));
  CHECK_EQ(k.at(0).busyNs, uint64_t(3500));
  for (int i = 0; i < 40; i++) a.record(d, "k" + std::to_string(i), true, 1);
  k = a.snapshot().devices.at(d).kernels;
  CHECK_EQ(k.size(), size_t(32));
  CHECK(k.back().accelerator == "(other)");
  CHECK_EQ(k.back().ok, uint64_t(40 - 30));
}

TEST(two_instances_in_one_process_exclude_each_other) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  a.enqueued(d, 1);  // both have requests queued, as the engine counts them
  b.enqueued(d, 1);
  Lease la = a.acquire(d, "X");
  {
    // Same configuration: no reconfiguration, but runs take turns.
    std::atomic<uint64_t> gotX{0};
    std::thread same([&] {
      Lease lb = b.acquire(d, "X");
      gotX = nowNs();
      CHECK(!lb.reconfigured());
    });
    sleepMs(50);
    CHECK_EQ(gotX.load(), uint64_t(0));
    const uint64_t released = nowNs();
    la.release();
    same.join();
    CHECK(gotX.load() >= released);
    la = a.acquire(d, "X");
  }
  std::atomic<uint64_t> got{0};
  std::thread other([&] {
    Lease lb = b.acquire(d, "Y");
    got = nowNs();
    CHECK(lb.reconfigured());
  });
  // The waiter shows as contention to the holder.
  for (int i = 0; i < 1000 && !la.contended(); i++) sleepMs(1);
  CHECK(la.contended());
  sleepMs(50);
  CHECK_EQ(got.load(), uint64_t(0));
  uint64_t released = nowNs();
  la.release();
  other.join();
  CHECK(got.load() >= released);
  CHECK_EQ(a.view(d).generation, uint64_t(2));
}

TEST(whole_lease_excludes_other_instances) {
  TwoInstances two(DeviceMode::Exclusive);
  auto& [dir, a, b, d] = two;
  a.leaseWhole(d, false);
  a.leaseWhole(d, false);  // idempotent
  CHECK(a.view(d).leasedByMe && !a.view(d).leasedByOther);
  CHECK(b.view(d).leasedByOther && !b.view(d).leasedByMe);
  CHECK_EQ(a.snapshot().devices.at(d).lessee, int32_t(getpid()));
  CHECK_EQ(errorCode([&] { b.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  {
    Lease mine = a.acquire(d, "Z");  // under the whole lease: no lock
    CHECK(mine.reconfigured());
    Lease again = Lease();
    mine.release();
    again = a.acquire(d, "Z");
    CHECK(!again.reconfigured());
  }
  std::atomic<bool> done{false};
  std::thread other([&] {
    Lease lb = b.acquire(d, "Z");
    done = true;
  });
  sleepMs(50);
  CHECK(!done);
  a.unleaseWhole(d);
  other.join();
  CHECK(done);
  CHECK(!b.view(d).leasedByOther && !a.view(d).leasedByMe);
  CHECK_EQ(a.snapshot().devices.at(d).lessee, 0);
}

TEST(whole_lease_waits_for_this_instances_runner) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  Lease l = a.acquire(d, "X");
  // Without waiting: busy while a request of this instance is counted...
  a.enqueued(d, +1);
  CHECK_EQ(errorCode([&] { a.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  a.enqueued(d, -1);
  // ...and with none, the runner is only letting the card go: waited for,
  // but not for ever (a run lease held with no request may never be let
  // go): busy within a second...
  uint64_t t0 = nowNs();
  CHECK_EQ(errorCode([&] { a.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  CHECK(nowNs() - t0 < 1000 * kMs);
  // ...and leased when it is let go meanwhile.
  std::atomic<bool> done{false};
  std::thread settled([&] {
    a.leaseWhole(d, false);
    done = true;
  });
  sleepMs(20);
  CHECK(!done);
  l.release();
  settled.join();
  CHECK(done && a.view(d).leasedByMe);
  a.unleaseWhole(d);
  // Waiting, the runner sees the lease wanted (contended) and lets go.
  done = false;
  l = a.acquire(d, "X");
  std::thread js([&] {
    a.leaseWhole(d, true);
    done = true;
  });
  for (int i = 0; i < 1000 && !l.contended(); i++) sleepMs(1);
  CHECK(l.contended());
  CHECK(!done);
  l.release();
  js.join();
  CHECK(a.view(d).leasedByMe);
  a.unleaseWhole(d);
  CHECK(!a.view(d).leasedByMe);
}

TEST(whole_lease_wait_gives_up_holding_nothing) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  a.leaseWhole(d, false);
  // Behind another instance's lease: waits, counted as waiting, until told to give up.
  std::atomic<bool> stop{false};
  std::thread js([&] {
    CHECK_EQ(errorCode([&] { b.leaseWhole(d, true, [&] { return stop.load(); }); }), std::string("ABORTED"));
  });
  for (int i = 0; i < 1000 && a.snapshot().devices.at(d).waiting == 0; i++) sleepMs(1);
  CHECK_EQ(a.snapshot().devices.at(d).waiting, uint32_t(1));
  stop = true;
  js.join();
  CHECK_EQ(a.snapshot().devices.at(d).waiting, uint32_t(0));
  CHECK(a.view(d).leasedByMe);
  // Behind this instance's own runner: the same.
  a.unleaseWhole(d);
  Lease l = b.acquire(d, "X");
  stop = false;
  std::thread again([&] {
    CHECK_EQ(errorCode([&] { b.leaseWhole(d, true, [&] { return stop.load(); }); }), std::string("ABORTED"));
  });
  sleepMs(20);
  stop = true;
  again.join();
  l.release();
  // Nothing left held: either instance leases the card at once.
  a.leaseWhole(d, false);
  a.unleaseWhole(d);
  b.leaseWhole(d, false);
  CHECK(b.view(d).leasedByMe);
  b.unleaseWhole(d);
}

// The engine's worker under a whole-card lease keeps its run lease while
// its queue has jobs and nobody contends. Unleasing must wait for the batch
// in hand, not for the queue (it once blocked the JS thread until the
// queue drained), and the jobs left run on afterwards, under the locks.
TEST(unlease_waits_for_the_run_in_hand_not_the_queue) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  a.leaseWhole(d, false);
  const int jobs = 3000;  // 1 ms each: 3 s of queue
  std::atomic<int> done{0}, wholeRuns{0}, sharedRuns{0};
  std::thread worker([&] {
    while (done < jobs) {
      Lease l = a.acquire(d, "X");
      do {
        sleepMs(1);  // a batch
        (l.whole() ? wholeRuns : sharedRuns)++;
        done++;
      } while (done < jobs && !l.contended());
    }
  });
  while (done < 20) sleepMs(1);
  const uint64_t t0 = nowNs();
  a.unleaseWhole(d);
  // Given back by the run in hand as it ends.
  while (a.view(d).leasedByMe || b.view(d).leasedByOther) sleepMs(1);
  const uint64_t took = nowNs() - t0;
  const int whole = wholeRuns;
  std::printf("  the card back with %d jobs left: %.1f ms\n", jobs - whole, took / 1e6);
  CHECK(took < 500000000ull);  // a batch is 1 ms; the queue 3 s
  CHECK(jobs - whole > 1000);
  // The jobs left go through the locks: another instance's lease waits for
  // the run in hand only, and no run happens while it holds the card.
  b.leaseWhole(d, true);
  const int during = done;
  sleepMs(50);
  CHECK_EQ(done.load(), during);
  CHECK(wholeRuns == whole);
  b.unleaseWhole(d);
  worker.join();
  CHECK_EQ(done.load(), jobs);
  CHECK_EQ(wholeRuns + sharedRuns, jobs);
}

// unleaseWhole returns at once: a run in progress under the lease (a batch
// of long kernels) gives the card back when it is released, and no new run
// starts under the lease meanwhile.
TEST(unlease_returns_before_the_run_in_hand_ends) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  a.leaseWhole(d, false);
  std::atomic<bool> running{false}, released{false};
  std::thread worker([&] {
    Lease l = a.acquire(d, "X");
    running = true;
    while (!released) sleepMs(1);  // the run in hand, as long as the test wants
    CHECK(l.contended());
  });
  while (!running) sleepMs(1);
  a.unleaseWhole(d);  // returns while the run goes on
  CHECK(b.view(d).leasedByOther);
  // Given back already as far as new runs go: the scheduler sends none
  // there (on an exclusive card they would fail with DEVICE_BUSY).
  CHECK(!a.view(d).leasedByMe && !a.leasedByMe(d) && !a.view(d).leasedByOther);
  CHECK_EQ(errorCode([&] { b.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  a.unleaseWhole(d);  // again while it ends: nothing more to do
  released = true;
  worker.join();
  CHECK(!a.view(d).leasedByMe && !b.view(d).leasedByOther);
  b.leaseWhole(d, false);
  CHECK(a.view(d).leasedByOther);
  b.unleaseWhole(d);
  // The next run takes the shared path.
  Lease shared = a.acquire(d, "X");
  CHECK(!shared.whole());
}

// A lease asked for by another thread of the instance while its lease is
// ending is a lease to keep: it is taken again once the unlease is done.
TEST(lease_asked_while_unleasing_is_kept) {
  TwoInstances two;
  auto& [dir, a, b, d] = two;
  a.leaseWhole(d, false);
  std::atomic<bool> running{false};
  std::thread worker([&] {
    Lease l = a.acquire(d, "X");
    running = true;
    sleepMs(200);  // a long run in hand
  });
  while (!running) sleepMs(1);
  std::thread unleaser([&] { a.unleaseWhole(d); });
  sleepMs(50);  // the lease ends when the run does
  std::thread leaser([&] { a.leaseWhole(d, true); });
  unleaser.join();
  leaser.join();
  worker.join();
  CHECK(a.view(d).leasedByMe && b.view(d).leasedByOther);
  CHECK_EQ(errorCode([&] { b.leaseWhole(d, false); }), std::string("DEVICE_BUSY"));
  a.unleaseWhole(d);
  CHECK(!b.view(d).leasedByOther);
}

// One instance used as the engine does: a worker thread per device, and a
// JS thread calling view/enqueued/snapshot/leaseWhole, while a second
// instance competes for the same devices.
TEST(one_instance_many_threads) {
  TempDir dir;
  Arbiter a(dir.options(1000000)), b(dir.options(1000000));
  for (int d = 0; d < 3; d++) {
    a.attach("dev" + std::to_string(d), DeviceMode::Shared);
    b.attach("dev" + std::to_string(d), DeviceMode::Shared);
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> runs{0};
  std::vector<std::thread> threads;
  for (uint32_t d = 0; d < 3; d++)
    for (Arbiter* arb : {&a, &b})
      threads.emplace_back([&, d, arb] {
        for (int i = 0; !stop; i++) {
          arb->enqueued(d, 1);
          Lease l = arb->acquire(d, i % 3 ? "X" : "Y");
          arb->record(d, "vector.addition", true, 1);
          l.release();
          arb->enqueued(d, -1);
          runs++;
        }
      });
  threads.emplace_back([&] {
    while (!stop) {
      a.view(0);
      a.snapshot();
      a.leaseWhole(0, true);
      CHECK(a.view(0).leasedByMe && b.view(0).leasedByOther);
      a.unleaseWhole(0);
      Arbiter::inspect(dir.state());
    }
  });
  sleepMs(300);
  stop = true;
  for (auto& t : threads) t.join();
  uint64_t counted = 0;
  for (const auto& dev : a.snapshot().devices) {
    counted += dev.kernels.at(0).ok;
    CHECK_EQ(dev.queueDepth, 0u);
  }
  CHECK_EQ(counted, runs.load());
  CHECK(runs > 100);
}

TEST(timing_uncontended) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  { Lease l = a.acquire(d, "xilinx_u250_vector_addition_v1"); }
  const int n = 200000;
  uint64_t t0 = nowNs();
  for (int i = 0; i < n; i++) Lease l = a.acquire(d, "xilinx_u250_vector_addition_v1");
  uint64_t t1 = nowNs();
  uint64_t sum = 0;
  for (int i = 0; i < n; i++) sum += a.view(d).queueDepth;
  uint64_t t2 = nowNs();
  CHECK_EQ(sum, uint64_t(0));
  std::printf("  uncontended acquire+release: %.0f ns; view(): %.0f ns\n", double(t1 - t0) / n,
              double(t2 - t1) / n);
}

int main(int argc, char** argv) {
  const char* only = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const Case& c : registry()) {
    if (only && !std::strstr(c.name, only)) continue;
    failures = 0;
    alarm(120);  // a stuck lock fails the run instead of hanging it
    uint64_t t0 = nowNs();
    try {
      c.fn();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("exception: ") + e.what());
    }
    alarm(0);
    std::printf("%s %s (%.0f ms)\n", failures ? "FAIL" : "ok  ", c.name, (nowNs() - t0) / 1e6);
    std::fflush(stdout);
    (failures ? failed : passed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
