#include "engine/lease_waits.h"

#include <string>
#include <vector>

namespace inaccel {

LeaseWaits::~LeaseWaits() {
  std::vector<std::unique_ptr<Wait>> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [ticket, wait] : waits_) {
      wait->aborted.store(true, std::memory_order_relaxed);
      left.push_back(std::move(wait));
    }
    waits_.clear();
  }
  for (auto& wait : left) wait->thread.join();
}

uint64_t LeaseWaits::start(Take take, Done done) {
  std::lock_guard<std::mutex> lock(mutex_);
  reap();
  const uint64_t ticket = next_++;
  auto wait = std::make_unique<Wait>();
  Wait* w = wait.get();
  w->thread = std::thread([w, ticket, take = std::move(take), done = std::move(done)] {
    const auto giveUp = [w] { return w->aborted.load(std::memory_order_relaxed); };
    try {
      take(giveUp);
      done(ticket, nullptr);
    } catch (const Error& error) {
      done(ticket, &error);
    } catch (const std::exception& other) {  // e.g. bad_alloc: reported, never lost
      const Error error("ARBITER_ERROR", std::string("lease: ") + other.what());
      done(ticket, &error);
    }
    w->ended.store(true, std::memory_order_release);
  });
  waits_.emplace(ticket, std::move(wait));
  return ticket;
}

void LeaseWaits::abort(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = waits_.find(ticket);
  if (found != waits_.end()) found->second->aborted.store(true, std::memory_order_relaxed);
}

void LeaseWaits::reap() {
  for (auto it = waits_.begin(); it != waits_.end();) {
    if (it->second->ended.load(std::memory_order_acquire)) {
      it->second->thread.join();
      it = waits_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace inaccel
