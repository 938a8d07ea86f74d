// What the OpenCL probes share: the options that choose the devices and
// the time, and one host thread per device, started together once every
// thread has set up, stopped together after that time.
#pragma once

#include <CL/cl.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cl_check.h"

// --type gpu|cpu, --devices K, --first I, --seconds S.
struct DeviceOptions {
  cl_device_type type = CL_DEVICE_TYPE_GPU;
  int devices = 1;
  int first = 0;
  double seconds = 2;

  // Takes `value` when `key` is one of these options.
  bool take(const std::string& key, const std::string& value) {
    if (key == "--type") type = value == "cpu" ? CL_DEVICE_TYPE_CPU : CL_DEVICE_TYPE_GPU;
    else if (key == "--devices") devices = std::atoi(value.c_str());
    else if (key == "--first") first = std::atoi(value.c_str());
    else if (key == "--seconds") seconds = std::atof(value.c_str());
    else return false;
    return true;
  }
  bool valid() const { return devices >= 1 && first >= 0; }
  // The devices chosen, in platform order; dies where there are too few.
  std::vector<cl_device_id> chosen() const {
    const std::vector<cl_device_id> all = findDevices(type);
    if (static_cast<int>(all.size()) < first + devices) die("not enough devices");
    return {all.begin() + first, all.begin() + first + devices};
  }
};

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
