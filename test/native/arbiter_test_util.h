// A tiny harness for the arbiter tests: registration, CHECK, child
// processes, pipes, shared memory and temporary state directories.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "arbiter/arbiter.h"
#include "common/error.h"

namespace test {

struct Case {
  const char* name;
  void (*fn)();
};
std::vector<Case>& registry();
struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

#define TEST(name)                                  \
  static void name();                               \
  static ::test::Register register_##name(#name, name); \
  static void name()

// Failures of the current test (in a child: of the child).
extern std::atomic<int> failures;
void fail(const char* file, int line, const std::string& what);

#define CHECK(cond)                                            \
  do {                                                         \
    if (!(cond)) ::test::fail(__FILE__, __LINE__, #cond);      \
  } while (0)
inline std::string show(const std::string& s) { return '"' + s + '"'; }
template <class T>
std::string show(const T& v) {
  return std::to_string(v);
}
#define CHECK_EQ(a, b)                                                             \
  do {                                                                             \
    auto a_ = (a);                                                                 \
    auto b_ = (b);                                                                 \
    if (!(a_ == b_))                                                               \
      ::test::fail(__FILE__, __LINE__,                                             \
                   std::string(#a " == " #b " (") + ::test::show(a_) + " vs " +     \
                       ::test::show(b_) + ")");                                    \
  } while (0)

// The Error code `fn` throws, "" when it returns, "other" for anything else.
std::string errorCode(const std::function<void()>& fn);

constexpr uint64_t kMs = 1000000;  // in ns, as nowNs() counts
uint64_t nowNs();
void sleepMs(int ms);

// A fresh directory; state() is a not yet existing subdirectory of it.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
  std::string state() const { return path + "/state"; }
  inaccel::ArbiterOptions options(uint64_t quantumNs = 20000000) const {
    inaccel::ArbiterOptions o;
    o.dir = state();
    o.quantumNs = quantumNs;
    return o;
  }
};

// Two instances of one fresh state directory, both attached to one device,
// `d` (the set-up of most two-instance tests):
//   TwoInstances two;
//   auto& [dir, a, b, d] = two;
struct TwoInstances {
  explicit TwoInstances(inaccel::DeviceMode mode = inaccel::DeviceMode::Shared)
      : a(dir.options()), b(dir.options()), d(a.attach("dev", mode)) {
    b.attach("dev", mode);
  }
  TempDir dir;
  inaccel::Arbiter a, b;
  uint32_t d;
};

// Runs `fn` in a child process; its CHECK failures or an exception make it
// exit 1. Returns the child's pid.
pid_t spawn(const std::function<void()>& fn);
// Exit code of a child (128 + signal when killed), waiting at most `ms`.
int join(pid_t pid, int ms = 20000);
// Waits until the child stops itself (SIGSTOP, from a test hook).
bool waitStopped(pid_t pid, int ms = 10000);
void killChild(pid_t pid);  // SIGKILL and reap

// One-byte messages between processes.
struct Pipe {
  Pipe();
  ~Pipe();
  void send(char c = 'x') const;
  bool receive(int ms = 10000) const;  // false on timeout
  int fds[2];
};

// Zeroed memory shared with children created afterwards.
template <class T>
T* shared() {
  void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return new (p) T();
}

}  // namespace test
