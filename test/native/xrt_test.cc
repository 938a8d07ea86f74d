// Native tests of the XRT plugin through the addon's loader (runtime/plugin.cc),
// built and run by xrt_run.sh, one mode per process because XRT picks its
// shim once per process:
//   loader DIR      plugin absent / unloadable / wrong ABI (DIR: fake plugins)
//   nocard DIR      XRT without a card: clean discovery; xclbin checks + fuzz
//   noop DIR        XRT's no-op shim: open, load xclbins, BOs, start/wait runs
// DIR holds the generated xclbins. The no-op shim's kernels do nothing and
// its BOs never reach a card: these runs prove the host paths, not results.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <experimental/xrt_xclbin.h>

#include "common/error.h"
#include "memory/block.h"
#include "runtime/plugin.h"
#include "xrt/buffers.h"
#include "xrt/xclbin_check.h"

using namespace inaccel;
using xrt_plugin::checkXclbin;
using xrt_plugin::readXclbin;

namespace {

int failures = 0;

void check(bool ok, const std::string& name, const std::string& detail = "") {
  std::printf("%s - %s%s%s\n", ok ? "ok" : "FAIL", name.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  if (!ok) ++failures;
}

// Runs `f`, expecting Error with `code`; returns its message.
std::string expectError(const std::string& name, const std::string& code, const std::function<void()>& f) {
  try {
    f();
    check(false, name, "no error");
  } catch (const Error& e) {
    check(e.code() == code, name, e.code() + ": " + e.what());
    return e.what();
  } catch (const std::exception& e) {
    check(false, name, std::string("not an inaccel::Error: ") + e.what());
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<char> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string write(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::unique_ptr<Backend> load(const std::string& dir, std::string* why) {
  ::setenv("INACCEL_PLUGIN_DIR", dir.c_str(), 1);
  return loadPluginBackend("xrt", why);
}

void loaderTests(const std::string& dir) {
  std::string why;
  check(!load(dir + "/empty", &why) && contains(why, "not installed"), "absent plugin: null and a reason", why);
  check(!load(dir + "/gone", &why) && contains(why, "cannot be loaded") && contains(why, "libgone"),
        "plugin with a missing library: null and dlerror", why);
  check(!load(dir + "/abi", &why) && contains(why, "not an inaccel plugin"), "plugin of another ABI refused", why);
  check(!loadPluginBackend("../x", &why) && contains(why, "invalid"), "plugin name with a slash refused", why);
  check(load(dir + "/real", &why) != nullptr && why.empty(), "real plugin loads", why);
  // Without INACCEL_PLUGIN_DIR: next to the loading binary, then in lib.target/ (xrt_run.sh puts one there).
  ::unsetenv("INACCEL_PLUGIN_DIR");
  check(loadPluginBackend("xrt", &why) != nullptr, "found in lib.target/ next to the loader's binary", why);
}

// Valid image with `at` overwritten by `value`.
template <typename T>
std::vector<char> patched(std::vector<char> image, size_t at, T value) {
  std::memcpy(image.data() + at, &value, sizeof value);
  return image;
}

void xclbinTests(const std::string& dir) {
  const auto good = slurp(dir + "/vadd.xclbin");
  checkXclbin(good, "vadd");
  check(true, "generated xclbin passes the checks");
  const auto refused = [&](const std::string& name, const std::vector<char>& image, const std::string& why) {
    const auto message = expectError(name, "BITSTREAM_INVALID", [&] { checkXclbin(image, name); });
    check(contains(message, why), name + " says why", message);
  };
  refused("truncated", std::vector<char>(good.begin(), good.end() - 100), "header says");
  refused("header only", std::vector<char>(good.begin(), good.begin() + 400), "shorter than its header");
  refused("bad magic", patched(good, 0, 'X'), "bad magic");
  refused("huge section count", patched<uint32_t>(good, 448, 0x7fffffff), "section table");
  refused("section past the end", patched<uint64_t>(good, 456 + 24, good.size()), "out of bounds");
  refused("VBNV without NUL", [&] { auto i = good; std::memset(i.data() + 352, 'a', 64); return i; }(), "VBNV");
  expectError("unreadable file", "BITSTREAM_INVALID", [] { readXclbin("/nonexistent.xclbin"); });
  expectError("no EMBEDDED_METADATA", "BITSTREAM_INVALID", [&] { readXclbin(dir + "/noxml.xclbin"); });
  expectError("argument wired to an unused bank", "BITSTREAM_INVALID", [&] { readXclbin(dir + "/unused.xclbin"); });
}

// Random corruptions of a valid image: the checks either refuse it or XRT's
// own parser reads it without crashing (it may still throw).
void fuzz(const std::string& dir, int rounds) {
  const auto good = slurp(dir + "/vadd.xclbin");
  std::mt19937_64 rng(12345);
  int refused = 0, parsed = 0, xrtRefused = 0;
  for (int round = 0; round < rounds; ++round) {
    auto image = good;
    for (int edits = 1 + int(rng() % 4); edits > 0; --edits) {
      const size_t at = rng() % image.size();
      switch (rng() % 4) {
        case 0: image[at] = char(rng()); break;
        case 1: image.resize(at); break;  // truncate
        case 2: if (at + 4 <= image.size()) std::memcpy(&image[at], "\xff\xff\xff\x7f", 4); break;
        default: if (at + 4 <= image.size()) std::memset(&image[at], 0, 4); break;
      }
      if (image.empty()) image.push_back('x');
    }
    try {
      checkXclbin(image, "fuzz");
    } catch (const Error& e) {
      if (e.code() != "BITSTREAM_INVALID") check(false, "fuzz: only BITSTREAM_INVALID", e.code());
      ++refused;
      continue;
    }
    try {
      xrt::xclbin xclbin(image);
      for (const auto& kernel : xclbin.get_kernels()) {
        for (const auto& arg : kernel.get_args()) arg.get_mems();
      }
      xclbin.get_mems();
      xclbin.get_xsa_name();
      ++parsed;
    } catch (const std::exception&) {
      ++xrtRefused;
    }
  }
  check(refused + parsed + xrtRefused == rounds, "fuzz: " + std::to_string(rounds) + " corrupt xclbins, no crash",
        std::to_string(refused) + " refused by our checks, " + std::to_string(xrtRefused) + " by XRT, " +
            std::to_string(parsed) + " harmless");
}

void noCardTests(const std::string& dir, const std::string& plugins) {
  std::string why;
  auto backend = load(plugins, &why);
  check(backend != nullptr, "plugin loads", why);
  if (!backend) return;
  if (std::getenv("XILINX_XRT") == nullptr) {
    const auto message = expectError("no XILINX_XRT: NO_RUNTIME", "NO_RUNTIME", [&] { backend->discover(); });
    check(contains(message, "XILINX_XRT"), "NO_RUNTIME says what XRT needs", message);
  } else {
    const auto devices = backend->discover();
    check(devices.empty(), "no card: empty device list");
  }
  xclbinTests(dir);
  fuzz(dir, 20000);
}

Arg buffer(const BlockPtr& block, Access access, int bank = -1) {
  Arg arg;
  arg.kind = Arg::Kind::Buffer;
  arg.host = block->data();
  arg.bytes = block->size();
  arg.access = access;
  arg.memoryBank = bank;
  arg.block = block;
  return arg;
}

// One request through Device::runMany; rethrows its error.
void run(Device& device, const std::string& kernel, const std::vector<Arg>& args, size_t globalSize = 1) {
  std::vector<std::exception_ptr> errors;
  device.runMany({{&kernel, &args, globalSize}}, errors);
  if (errors.size() != 1) throw std::logic_error("runMany left errors unsized");
  if (errors[0]) std::rethrow_exception(errors[0]);
}

Arg scalar(uint32_t value) {
  Arg arg;
  arg.scalar.assign(reinterpret_cast<const uint8_t*>(&value), sizeof value);
  return arg;
}

void noopTests(const std::string& dir, const std::string& plugins) {
  std::string why;
  auto backend = load(plugins, &why);
  auto devices = backend ? backend->discover() : std::vector<std::unique_ptr<Device>>{};
  check(devices.size() == 1, "noop shim: one device", std::to_string(devices.size()));
  if (devices.size() != 1) return;
  Device& device = *devices[0];
  check(device.info().backend == "xrt" && device.info().type == "fpga" && device.info().key == "xrt:noop:0",
        "device info", device.info().key + " " + device.info().name);

  const Bitstream vadd{"vadd@1", "binary", dir + "/vadd.xclbin", "", ""};
  expectError("source bitstream refused", "BITSTREAM_INVALID", [&] { device.configure({"s@1", "source", vadd.path, "", ""}); });
  expectError("malformed XML refused by XRT", "BITSTREAM_INVALID", [&] { device.configure({"b@1", "binary", dir + "/badxml.xclbin", "", ""}); });
  const auto truncated = write(dir + "/truncated.xclbin", [&] { auto i = slurp(vadd.path); i.resize(i.size() / 2); return i; }());
  expectError("truncated xclbin refused", "BITSTREAM_INVALID", [&] { device.configure({"t@1", "binary", truncated, "", ""}); });
  expectError("run before configure", "DEVICE_ERROR", [&] { run(device, "vadd", {}); });

  device.configure(vadd);
  check(true, "generated xclbin loads on the noop device");
  const size_t n = 1024;
  auto a = std::make_shared<Block>(n * 4), b = std::make_shared<Block>(n * 4), c = std::make_shared<Block>(n * 4);
  static_cast<float*>(c->data())[7] = 42.0f;
  run(device, "vadd", {buffer(a, Access::Read), buffer(b, Access::Read), buffer(c, Access::Write), scalar(n)});
  check(static_cast<float*>(c->data())[7] == 42.0f, "run started and waited (noop kernel: output untouched)");

  std::vector<float> plain(n + 1, 3.0f);  // not alloc()ed, and misaligned: copied through a pooled BO
  Arg copied = buffer(c, Access::ReadWrite);
  copied.block.reset();
  copied.host = plain.data() + 1;
  run(device, "vadd", {buffer(a, Access::Read), buffer(b, Access::Read), copied, scalar(n)});
  check(plain[1] == 3.0f && plain[n] == 3.0f, "copied buffer round trip");

  run(device, "vadd", {buffer(a, Access::Read, 0), buffer(b, Access::Read), buffer(c, Access::Write, 1), scalar(n)});
  check(true, "banks named by metadata and wired in the xclbin");
  expectError("bank not wired to the argument", "BITSTREAM_INVALID",
              [&] { run(device, "vadd", {buffer(a, Access::Read, 1), buffer(b, Access::Read), buffer(c, Access::Write), scalar(n)}); });
  expectError("wrong argument count", "BAD_ARGUMENT", [&] { run(device, "vadd", {buffer(a, Access::Read)}); });
  expectError("buffer for a scalar", "BAD_ARGUMENT",
              [&] { run(device, "vadd", {buffer(a, Access::Read), buffer(b, Access::Read), buffer(c, Access::Write), buffer(c, Access::Read)}); });
  expectError("NDRange refused", "BAD_ARGUMENT", [&] { run(device, "vadd", {}, 64); });
  expectError("unknown kernel", "BITSTREAM_INVALID", [&] { run(device, "nope", {}); });

  // Several requests at once: started together, a failing one does not stop the others;
  // the second reads what the first writes, so it waits for it.
  const std::string vadd_ = "vadd", nope = "nope";
  const std::vector<Arg> first{buffer(a, Access::Read), buffer(b, Access::Read), buffer(c, Access::Write), scalar(n)};
  const std::vector<Arg> second{buffer(c, Access::Read), buffer(b, Access::Read), buffer(a, Access::Write), scalar(n)};
  const std::vector<Arg> third{buffer(b, Access::Read), buffer(b, Access::Read), buffer(b, Access::ReadWrite), scalar(n)};
  std::vector<std::exception_ptr> errors;
  device.runMany({{&vadd_, &first, 1}, {&nope, &first, 1}, {&vadd_, &second, 1}, {&vadd_, &third, 1}}, errors);
  check(errors.size() == 4 && !errors[0] && errors[1] && !errors[2] && !errors[3], "runMany: errors per request, the rest run");

  // The BOs themselves: user pointer over the block, in the bank asked for.
  xrt::device raw(0u);
  raw.load_xclbin(vadd.path);
  xrt_plugin::Buffers buffers(raw, 8192);  // a floor of 8 KiB stands for the card's 1 GiB
  auto bo = buffers.wrap(a, 1);
  check(bo.map() == a->data() && bo.get_memory_group() == 1, "user-pointer BO over the alloc()ed block, in bank 1");
  check(buffers.wrap(a, 1) == bo, "wrapper reused while the block lives");
  a->markReleased();
  buffers.purge();
  check(!(buffers.wrap(a, 1) == bo), "wrapper dropped once JavaScript released the block");
  xrt::bo pooled;
  {
    const auto lent = buffers.take(0, 4096);
    pooled = lent.bo();
    check(buffers.pooledBytes() == 0, "a lent BO is not in the pool");
  }
  check(buffers.pooledBytes() == 4096, "a BO is back in the pool when its Lent goes");
  {
    const auto lent = buffers.take(0, 4096);
    check(lent.bo() == pooled, "pooled BO reused");
    check(!(buffers.take(1, 4096).bo() == pooled), "a BO of another bank is not reused");
  }
  // Three lent at once (12 KiB, above the floor) and given back: the pool
  // keeps them until the card is idle; then the floor, oldest freed first.
  xrt::bo oldest;  // c's: the three go back in reverse order, c first
  {
    const auto a = buffers.take(0, 4096), b = buffers.take(1, 4096), c = buffers.take(0, 4096);
    check(a.bo() == pooled, "the pooled BO of the size is taken before a new one is made");
    oldest = c.bo();
  }
  check(buffers.pooledBytes() == 12288, "what was lent at once stays pooled");
  buffers.shrink();
  check(buffers.pooledBytes() == 8192, "idle: the pool keeps its floor");
  {
    const auto x = buffers.take(0, 4096), y = buffers.take(0, 4096);
    check(x.bo() == pooled && !(y.bo() == oldest), "the BO given back longest ago was the one freed");
  }

  device.unconfigure();
  expectError("run after unconfigure", "DEVICE_ERROR", [&] { run(device, "vadd", {}); });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s loader|nocard|noop XCLBIN_DIR PLUGIN_DIR\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2], plugins = argv[3];
  if (mode == "loader") loaderTests(plugins);
  else if (mode == "nocard") noCardTests(dir, plugins + "/real");
  else if (mode == "noop") noopTests(dir, plugins + "/real");
  else return 2;
  // Skips XRT 2.13's exit-time teardown, seen to hang (kds::stop joining its
  // monitor thread) about once in a hundred short runs on the no-op shim.
  std::fflush(stdout);
  std::_Exit(failures == 0 ? 0 : 1);
}
