// What the OpenCL probes share: one host thread per device, started
// together once every thread has set up, stopped together after a time.
#pragma once

#include <CL/cl.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

// Runs drive(device, ready, go, stop) on a thread per device: it sets up,
// counts itself in `ready`, waits for `go`, works until `stop` and returns
// what it did. Returns each thread's result and the seconds from go to the
// last thread's end.
template <typename Result, typename Drive>
std::pair<std::vector<Result>, double> runTogether(const std::vector<cl_device_id>& devices,
                                                   double seconds, Drive drive) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::vector<Result> results(devices.size());
  std::vector<std::thread> threads;
  for (size_t d = 0; d < devices.size(); ++d) {
    threads.emplace_back([&, d] { results[d] = drive(devices[d], ready, go, stop); });
  }
  while (ready < static_cast<int>(devices.size())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto start = std::chrono::steady_clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  return {std::move(results),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}
