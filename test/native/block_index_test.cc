// BlockIndex (addon/memory/block_index.h): which alloc()ed block a view
// lies in, as blocks come and go, few or many.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "check.h"
#include "memory/block_index.h"

namespace {

struct Holder {
  int id;
};

void* at(uintptr_t address) { return reinterpret_cast<void*>(address); }

// The edge cases, with `extra` blocks filed elsewhere first (past
// kSorted: the index keeps them in its tree).
void edges(size_t extra) {
  inaccel::BlockIndex<Holder> index;
  std::vector<Holder> others(extra);
  for (size_t i = 0; i < extra; i++) index.insert(at(0x7000000000 + i * 0x10000), 100, &others[i]);
  Holder a{1}, b{2}, c{3};
  // a: [0x1000, 0x1000 + 100); b right after a's page, adjacent to it.
  index.insert(at(0x1000), 100, &a);
  index.insert(at(0x2000), 0x1000, &b);
  CHECK(index.containing(at(0x1000), 100) == &a);
  CHECK(index.containing(at(0x1000 + 10), 90) == &a);
  CHECK(index.containing(at(0x1000 + 10), 91) == nullptr);  // past a's end
  CHECK(index.containing(at(0x1000 + 100), 0) == &a);       // empty view at the very end
  CHECK(index.containing(at(0x1000 + 101), 0) == nullptr);
  CHECK(index.containing(at(0x0fff), 1) == nullptr);        // before any block
  CHECK(index.containing(at(0x2000 + 0xfff), 1) == &b);     // b's last byte
  CHECK(index.containing(at(0x2000), 0x1001) == nullptr);
  CHECK(index.containing(at(0x2000 + 0x1000), 0) == &b);    // b's end
  // erase: only with the right holder (or any), once.
  CHECK(index.erase(at(0x1000), &b) == nullptr);
  CHECK(index.erase(at(0x1000 + 1)) == nullptr);
  CHECK(index.erase(at(0x1000), &a) == &a);
  CHECK(index.erase(at(0x1000)) == nullptr);
  CHECK(index.containing(at(0x1000), 1) == nullptr);
  // A new block at a freed one's address: the old holder erases nothing.
  index.insert(at(0x2000), 0x1000, &c);
  CHECK(index.containing(at(0x2100), 16) == &c);
  CHECK(index.erase(at(0x2000), &b) == nullptr);
  CHECK(index.erase(at(0x2000)) == &c);
  CHECK(index.size() == extra);
  for (size_t i = 0; i < extra; i++) CHECK(index.containing(at(0x7000000000 + i * 0x10000 + 50), 50) == &others[i]);
}

// Many blocks filed at descending addresses (as mmap hands them out) and
// freed in any order: each alloc() and release() files or drops one. In a
// sorted array alone that moved all the entries after it each time: 200 000
// blocks took about 20 s (quadratic), a tree takes a few tens of ms. The
// time is printed, not checked (speed belongs to benchmarks).
void many() {
  const size_t n = 200000;
  inaccel::BlockIndex<Holder> index;
  std::vector<Holder> holders(n);
  std::vector<uintptr_t> addresses(n);
  for (size_t i = 0; i < n; i++) addresses[i] = 0x100000000 + (n - i) * 0x200000;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; i++) index.insert(at(addresses[i]), 0x100000, &holders[i]);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; i++) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (size_t k = 0; k < n; k++) {
    const size_t i = order[k];
    if (k % 1000 == 0) CHECK(index.containing(at(addresses[i] + 8), 8) == &holders[i]);
    CHECK(index.erase(at(addresses[i]), &holders[i]) == &holders[i]);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  %zu blocks filed and dropped: %.3f s\n", n, seconds);
  CHECK(index.size() == 0);
}

}  // namespace

int main() {
  edges(0);
  edges(3 * inaccel::BlockIndex<Holder>::kSorted);
  many();
  std::printf("%s\n", check::failures ? "block_index_test: FAILED" : "block_index_test: ok");
  return check::failures ? 1 : 0;
}
