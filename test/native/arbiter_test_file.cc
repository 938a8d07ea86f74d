// The state directory and file: creation mode, permission, other layout
// versions, truncated, random and mutated files, hostile counts.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>
#include <random>

#include "arbiter/state_file.h"
#include "arbiter_test_util.h"

using inaccel::Arbiter;
using inaccel::DeviceMode;
using inaccel::Lease;
using inaccel::arb::State;
using namespace test;

namespace {

void writeFile(const std::string& dir, const void* bytes, size_t size) {
  mkdir(dir.c_str(), 0770);
  int fd = open((dir + "/state").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0660);
  if (fd < 0 || write(fd, bytes, size) != ssize_t(size)) std::abort();
  close(fd);
}

std::unique_ptr<State> freshState() {
  std::unique_ptr<State> s(new State);
  inaccel::arb::initialize(*s);
  return s;
}

// The state file of a directory, mapped for the test to tamper with.
State* mapFile(const std::string& dir) {
  int fd = open((dir + "/state").c_str(), O_RDWR);
  void* p = mmap(nullptr, sizeof(State), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  return static_cast<State*>(p);
}

}  // namespace

TEST(state_dir_is_created_0770_and_file_0660) {
  TempDir dir;
  mode_t old = umask(022);
  { Arbiter a(dir.options()); }
  umask(old);
  struct stat sb;
  CHECK(stat(dir.state().c_str(), &sb) == 0);
  CHECK_EQ(sb.st_mode & 07777, 0770u);
  CHECK(stat((dir.state() + "/state").c_str(), &sb) == 0);
  CHECK_EQ(sb.st_mode & 07777, 0660u);
  CHECK_EQ(size_t(sb.st_size), sizeof(State));
}

// As root, a child drops to nobody; as another user, a dir without access.
TEST(permission_denied) {
  TempDir dir;
  { Arbiter a(dir.options()); }
  if (geteuid() != 0) {
    chmod(dir.state().c_str(), 0);
    CHECK_EQ(errorCode([&] { Arbiter a(dir.options()); }), std::string("PERMISSION_DENIED"));
    chmod(dir.state().c_str(), 0770);
    return;
  }
  chmod(dir.path.c_str(), 0755);
  pid_t child = spawn([&] {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      std::printf("  (cannot drop root here: checked the modes only)\n");
      return;
    }
    CHECK_EQ(errorCode([&] { Arbiter a(dir.options()); }), std::string("PERMISSION_DENIED"));
    CHECK_EQ(errorCode([&] { Arbiter::inspect(dir.state()); }), std::string("PERMISSION_DENIED"));
    inaccel::ArbiterOptions o;
    o.dir = dir.path + "/not-mine";  // may not create in a root 0755 dir
    CHECK_EQ(errorCode([&] { Arbiter a(o); }), std::string("PERMISSION_DENIED"));
  });
  CHECK_EQ(join(child), 0);
}

TEST(another_layout_version_is_refused) {
  TempDir dir;
  auto s = freshState();
  s->header.version = 2;
  writeFile(dir.state(), s.get(), sizeof(State));
  CHECK_EQ(errorCode([&] { Arbiter a(dir.options()); }), std::string("STATE_VERSION"));
  CHECK_EQ(errorCode([&] { Arbiter::inspect(dir.state()); }), std::string("STATE_VERSION"));
  writeFile(dir.state(), s.get(), 64);  // a short file of another version too
  CHECK_EQ(errorCode([&] { Arbiter a(dir.options()); }), std::string("STATE_VERSION"));
}

TEST(truncated_and_random_files_are_refused) {
  TempDir dir;
  auto s = freshState();
  for (size_t size : {size_t(1), size_t(15), size_t(100), size_t(4096), sizeof(State) - 1,
                      sizeof(State) + 1}) {
    std::vector<char> bytes(size, 0);
    std::memcpy(bytes.data(), s.get(), std::min(size, sizeof(State)));
    writeFile(dir.state(), bytes.data(), size);
    CHECK_EQ(errorCode([&] { Arbiter a(dir.options()); }), std::string("STATE_CORRUPT"));
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50; i++) {
    std::vector<unsigned char> bytes(rng() % (2 * sizeof(State)) + 1);
    for (auto& b : bytes) b = static_cast<unsigned char>(rng());
    writeFile(dir.state(), bytes.data(), bytes.size());
    std::string code = errorCode([&] { Arbiter a(dir.options()); });
    CHECK(code == "STATE_CORRUPT");
    CHECK(errorCode([&] { Arbiter::inspect(dir.state()); }) == "STATE_CORRUPT");
  }
}

// Random bytes over a used state: each open either fails cleanly or works
// (then it must keep working); run in a child so a crash is seen as one.
TEST(mutated_files_fail_cleanly_or_work) {
  TempDir dir;
  {
    Arbiter a(dir.options());
    uint32_t d = a.attach("dev", DeviceMode::Shared);
    a.record(d, "vector.addition", true, 1);
    Lease l = a.acquire(d, "X");
  }
  std::vector<char> good(sizeof(State));
  int fd = open((dir.state() + "/state").c_str(), O_RDONLY);
  CHECK(read(fd, good.data(), good.size()) == ssize_t(good.size()));
  close(fd);
  pid_t child = spawn([&] {
    std::mt19937_64 rng(7);
    int opened = 0, refused = 0;
    for (int i = 0; i < 300; i++) {
      std::vector<char> bytes = good;
      for (int f = 0, n = 1 + int(rng() % 8); f < n; f++) {
        // Mostly in the header, the first device and the slots.
        size_t regions[3][2] = {{0, 64}, {4096, 4096}, {offsetof(State, slots), 1024}};
        auto& r = regions[rng() % 3];
        bytes[r[0] + rng() % r[1]] = char(rng());
      }
      writeFile(dir.state(), bytes.data(), bytes.size());
      try {
        Arbiter a(dir.options());
        uint32_t d = a.attach("dev", DeviceMode::Shared);
        a.view(d);
        a.snapshot();
        { Lease l = a.acquire(d, "Y"); }
        a.record(d, "vector.addition", true, 1);
        Arbiter::inspect(dir.state());
        opened++;
      } catch (const inaccel::Error& e) {
        CHECK(std::string(e.code()) == "STATE_CORRUPT" || std::string(e.code()) == "STATE_VERSION" ||
              std::string(e.code()) == "ARBITER_ERROR");
        refused++;
      }
    }
    std::printf("  300 mutated files: %d opened and worked, %d refused\n", opened, refused);
  });
  CHECK_EQ(join(child, 60000), 0);
}

TEST(a_torn_configuration_is_repaired_on_open) {
  TempDir dir;
  {
    Arbiter a(dir.options());
    Lease l = a.acquire(a.attach("dev", DeviceMode::Shared), "X");
  }
  State* s = mapFile(dir.state());
  s->devices[0].cfgSeq |= 1;  // as if killed mid-write
  s->header.seq |= 1;
  CHECK_EQ(Arbiter::inspect(dir.state()).devices.size(), size_t(1));  // a reader cannot repair: not corrupt
  Arbiter a(dir.options());
  auto dev = a.snapshot().devices.at(0);
  CHECK(dev.bitstream.empty());
  CHECK_EQ(dev.generation, uint64_t(2));
  CHECK_EQ(s->header.seq % 2, uint64_t(0));
  munmap(s, sizeof(State));
}

// Empty, or full size without the magic: its creator died while making it.
TEST(an_unfinished_file_is_initialised_again) {
  TempDir dir;
  writeFile(dir.state(), "", 0);
  { Arbiter a(dir.options()); }
  std::vector<char> zeros(sizeof(State), 0);
  zeros[8] = 1;  // a version written, but no magic yet
  writeFile(dir.state(), zeros.data(), zeros.size());
  CHECK(Arbiter::inspect(dir.state()).devices.empty());
  Arbiter a(dir.options());
  CHECK_EQ(a.attach("dev", DeviceMode::Shared), 0u);
}

// A live file corrupted under running instances: reads are clamped.
TEST(hostile_counts_under_a_live_instance_are_clamped) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  a.record(d, "vector.addition", true, 1);
  State* s = mapFile(dir.state());
  s->header.deviceCount = 100000;
  s->header.slotHigh = 100000;
  s->devices[0].keyLen = 0xffffffffu;
  s->devices[0].bitstreamLen = 0x7fffffffu;
  s->devices[0].kernelCount = 1000000;
  s->devices[0].kernels[0].nameLen = 5000;
  s->devices[0].lesseePid = 12345;
  s->devices[0].lesseeSlot = 99999;
  a.view(63);
  auto snap = a.snapshot();
  CHECK_EQ(snap.devices.size(), size_t(64));
  CHECK_EQ(snap.devices.at(0).key.size(), size_t(128));
  CHECK_EQ(snap.devices.at(0).kernels.size(), size_t(32));
  CHECK_EQ(snap.devices.at(0).lessee, 0);
  CHECK(!a.view(0).leasedByOther);
  { Lease l = a.acquire(d, "X"); }
  // A reader that opens it refuses it, as an instance opening it would.
  CHECK_EQ(errorCode([&] { Arbiter::inspect(dir.state()); }), std::string("STATE_CORRUPT"));
  munmap(s, sizeof(State));
}

// The device count lowered under a live instance (by a hostile or broken
// writer): the devices it attached stay usable. view() once threw
// ARBITER_ERROR ("no device with index 0"), which a device worker's loop
// does not catch: the process aborted.
TEST(a_lowered_device_count_under_a_live_instance_fails_nothing) {
  TempDir dir;
  Arbiter a(dir.options());
  uint32_t d = a.attach("dev", DeviceMode::Shared);
  State* s = mapFile(dir.state());
  s->header.deviceCount = 0;
  CHECK_EQ(errorCode([&] {
             a.view(d);
             a.enqueued(d, 1);
             CHECK(!a.leasedByOther(d) && !a.exclusive(d) && !a.leasedByMe(d));
             { Lease l = a.acquire(d, "X"); }
             a.record(d, "vector.addition", true, 1);
             a.enqueued(d, -1);
             a.leaseWhole(d, false);
             a.unleaseWhole(d);
           }),
           std::string(""));
  CHECK_EQ(errorCode([&] { a.view(d + 1); }), std::string("ARBITER_ERROR"));  // never attached
  munmap(s, sizeof(State));
}

TEST(inspect_claims_no_slot_and_reads_missing_dirs_as_empty) {
  auto empty = Arbiter::inspect("/nonexistent/inaccel-arbiter-test");
  CHECK(empty.devices.empty() && empty.processes.empty());
  TempDir dir;
  CHECK(Arbiter::inspect(dir.state()).processes.empty());
  Arbiter a(dir.options());
  a.attach("dev", DeviceMode::Shared);
  auto snap = Arbiter::inspect(dir.state());
  CHECK_EQ(snap.processes.size(), size_t(1));
  CHECK_EQ(snap.processes.at(0).pid, int32_t(getpid()));
  CHECK_EQ(snap.devices.size(), size_t(1));
  CHECK_EQ(a.snapshot().processes.size(), size_t(1));
}
