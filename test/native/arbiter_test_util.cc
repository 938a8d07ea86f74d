#include "arbiter_test_util.h"

#include <ftw.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <exception>

namespace test {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

std::atomic<int> failures{0};

void fail(const char* file, int line, const std::string& what) {
  failures++;
  std::fprintf(stderr, "  [pid %d] %s:%d: CHECK failed: %s\n", int(getpid()), file, line,
               what.c_str());
}

std::string errorCode(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const inaccel::Error& e) {
    return e.code();
  } catch (...) {
    return "other";
  }
  return "";
}

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void sleepMs(int ms) {
  timespec ts{ms / 1000, long(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/arbiter-test-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  path = tmpl;
}

TempDir::~TempDir() {
  nftw(path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return remove(p); },
       16, FTW_DEPTH | FTW_PHYS);
}

pid_t spawn(const std::function<void()>& fn) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  failures = 0;
  try {
    fn();
  } catch (const std::exception& e) {
    fail(__FILE__, __LINE__, std::string("exception: ") + e.what());
  }
  std::fflush(nullptr);
  _exit(failures ? 1 : 0);
}

int join(pid_t pid, int ms) {
  uint64_t deadline = nowNs() + uint64_t(ms) * 1000000;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (nowNs() > deadline) {
      fail(__FILE__, __LINE__, "child " + std::to_string(pid) + " did not finish");
      killChild(pid);
      return -1;
    }
    sleepMs(1);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

bool waitStopped(pid_t pid, int ms) {
  uint64_t deadline = nowNs() + uint64_t(ms) * 1000000;
  int status = 0;
  while (nowNs() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG | WUNTRACED);
    if (r == pid) return WIFSTOPPED(status);
    sleepMs(1);
  }
  return false;
}

void killChild(pid_t pid) {
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
}

Pipe::Pipe() {
  if (pipe(fds) != 0) std::abort();
}

Pipe::~Pipe() {
  close(fds[0]);
  close(fds[1]);
}

void Pipe::send(char c) const {
  if (write(fds[1], &c, 1) != 1) std::abort();
}

bool Pipe::receive(int ms) const {
  pollfd p{fds[0], POLLIN, 0};
  if (poll(&p, 1, ms) != 1) return false;
  char c;
  return read(fds[0], &c, 1) == 1;
}

}  // namespace test
