// Fuzzes what reads the state file: the header check on raw bytes, then
// repair, validate and the snapshot builder on a valid, used state patched
// by the input. Any input must end in a clean Error or a sane result.
//
// libFuzzer:  clang++ -fsanitize=fuzzer,address,undefined ... ; ./fuzz_state -max_total_time=10
// otherwise:  g++ -DINACCEL_FUZZ_MAIN -fsanitize=address,undefined ... ; ./fuzz_state [seconds] [seed]
// (test/native/run.sh picks whichever the machine has.)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "arbiter/snapshot.h"
#include "arbiter/state_file.h"
#include "common/error.h"

using namespace inaccel::arb;

namespace {

void put(char* dst, uint32_t& len, const std::string& s) {
  std::memcpy(dst, s.data(), s.size());
  len = uint32_t(s.size());
}

// Two devices (one configured, with kernels), three slots with requests.
const State& base() {
  static const State* state = [] {
    State* s = new State;
    initialize(*s);
    s->header.deviceCount = 2;
    s->header.slotHigh = 3;
    for (uint32_t d = 0; d < 2; d++) {
      Device& dev = s->devices[d];
      put(dev.key, dev.keyLen, "pci:0000:0" + std::to_string(d) + ":00.0");
      dev.mode = d;
      dev.kernelCount = 2;
      put(dev.kernels[0].name, dev.kernels[0].nameLen, "vector.addition");
      put(dev.kernels[1].name, dev.kernels[1].nameLen, "filter2d");
    }
    put(s->devices[0].bitstream, s->devices[0].bitstreamLen, "xilinx_u250_vadd");
    s->devices[0].bitstreamHash = inaccel::bitstreamHash("xilinx_u250_vadd");
    s->devices[0].generation = 3;
    for (uint32_t i = 0; i < 3; i++) {
      s->slots[i].pid = int32_t(100 + i);
      s->perSlot[0][i].queue = i;
      s->perSlot[1][i].waiting = i % 2;
    }
    validate(*s);
    return s;
  }();
  return *state;
}

void expect(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_state: invariant broken: %s\n", what);
  std::abort();
}

void sane(const inaccel::Snapshot& snap) {
  expect(snap.devices.size() <= kMaxDevices, "device count");
  expect(snap.processes.size() <= kMaxSlots, "process count");
  for (const auto& d : snap.devices) {
    expect(d.key.size() <= kKeyMax && d.bitstream.size() <= kBitstreamMax, "string length");
    expect(d.kernels.size() <= kMaxKernels && d.users.size() <= kMaxSlots, "list length");
    for (const auto& k : d.kernels) expect(k.accelerator.size() <= kNameMax, "name length");
  }
}

void expectCleanError(const inaccel::Error& e) {
  expect(e.code() == "STATE_CORRUPT" || e.code() == "STATE_VERSION", "error code");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 1. The input as a whole file.
  try {
    if (!uninitialized(data, size)) checkHeader(data, size);
  } catch (const inaccel::Error& e) {
    expectCleanError(e);
  }
  // 2. The input as patches over a used state:
  //    [region][offset lo][offset hi][length - 1] bytes...
  static const size_t regions[][2] = {
      {0, 4096}, {4096, 4096}, {8192, 4096}, {offsetof(State, slots), 1024},
      {offsetof(State, perSlot), 4096}};
  std::unique_ptr<State> s(new State(base()));
  char* bytes = reinterpret_cast<char*>(s.get());
  Liveness live;
  for (size_t i = 0; i < size && i < 8; i++) {
    live.slots[i * 3] = data[i] & 1;
    live.whole[i] = data[i] & 2;
  }
  for (size_t i = 0; i + 4 <= size;) {
    const size_t* r = regions[data[i] % 5];
    size_t off = (data[i + 1] | size_t(data[i + 2]) << 8) % r[1];
    size_t len = std::min<size_t>({size_t(data[i + 3] % 16) + 1, r[1] - off, size - i - 4});
    std::memcpy(bytes + r[0] + off, data + i + 4, len);
    i += 4 + len;
  }
  // Pure reads must be safe on any bytes, unvalidated.
  sane(buildSnapshot(*s, live));
  for (uint32_t d = 0; d < kMaxDevices; d++) queueSums(*s, d, d);  // view()'s sums
  try {
    checkHeader(s.get(), sizeof(State));
    repair(*s);
    for (uint32_t d = 0; d < deviceCount(*s); d++) expect(!(s->devices[d].cfgSeq & 1), "repaired");
    validate(*s);
    sane(buildSnapshot(*s, live));
  } catch (const inaccel::Error& e) {
    expectCleanError(e);
  }
  return 0;
}

#ifdef INACCEL_FUZZ_MAIN
#include <chrono>
#include <random>
#include <vector>

// Without libFuzzer: random inputs, raw header mutations and patch lists.
int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10;
  std::mt19937_64 rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1);
  const uint8_t* header = reinterpret_cast<const uint8_t*>(&base());
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = 0;
  std::vector<uint8_t> input;
  while (std::chrono::steady_clock::now() < end) {
    switch (rng() % 3) {
      case 0:  // random bytes
        input.resize(rng() % 512);
        for (auto& b : input) b = uint8_t(rng());
        break;
      case 1:  // a valid header, truncated and with a few flips
        input.assign(header, header + 16 + rng() % (sizeof(Header) - 16));
        for (int f = int(rng() % 4); f > 0; f--) input[rng() % input.size()] = uint8_t(rng());
        break;
      default:  // patches of small and boundary values over the used state
        input.clear();
        for (int p = 1 + int(rng() % 6); p > 0; p--) {
          uint8_t len = uint8_t(rng() % 8);
          input.insert(input.end(), {uint8_t(rng()), uint8_t(rng()), uint8_t(rng() % 16), len});
          for (int b = 0; b <= len; b++) {
            static const uint8_t edge[] = {0, 1, 2, 0x7f, 0x80, 0xff, 63, 64, 65, 128, 192, 255};
            input.push_back(rng() % 2 ? edge[rng() % sizeof edge] : uint8_t(rng()));
          }
        }
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
    runs++;
  }
  std::printf("fuzz_state: %llu inputs in %.0f s, no failure\n", (unsigned long long)runs, seconds);
  return 0;
}
#endif
