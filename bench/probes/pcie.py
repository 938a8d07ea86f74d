"""Host-to-GPU copy bandwidth of this host's NVIDIA GPUs, alone and at once.

What two cards' large transfers can reach, without OpenCL or the SDK: pinned
host memory, 256 MiB copies on one CUDA stream per GPU and direction, one
host thread per GPU, timed together from the first start to the last end.
Each row is the best of TRIALS: a ceiling, and a thread that starts late
(Python's lock) only lowers a trial. Needs CuPy (the device tool's GPU
machines have it). Prints one JSON object; see docs/performance.md.

    python3 bench/probes/pcie.py
"""
import json
import threading
import time

import cupy
from cupy.cuda import runtime

SIZE = 256 << 20
REPEATS = 16
TRIALS = 3


def copies(device, directions, barrier, results, key):
    with cupy.cuda.Device(device):
        host = cupy.cuda.alloc_pinned_memory(SIZE)
        dev = cupy.cuda.alloc(SIZE)
        streams = {d: cupy.cuda.Stream(non_blocking=True) for d in directions}

        def run():
            for _ in range(REPEATS):
                for direction, stream in streams.items():
                    if direction == "h2d":
                        runtime.memcpyAsync(dev.ptr, host.ptr, SIZE, runtime.memcpyHostToDevice, stream.ptr)
                    else:
                        runtime.memcpyAsync(host.ptr, dev.ptr, SIZE, runtime.memcpyDeviceToHost, stream.ptr)
            for stream in streams.values():
                stream.synchronize()

        run()  # warm-up
        barrier.wait()
        start = time.perf_counter()
        run()
        results[key] = (start, time.perf_counter())


def measure(devices, directions):
    barrier = threading.Barrier(len(devices))
    results = {}
    threads = [threading.Thread(target=copies, args=(d, directions, barrier, results, d)) for d in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    span = max(e for _, e in results.values()) - min(s for s, _ in results.values())
    return round(SIZE * REPEATS * len(directions) * len(devices) / span / 1e9, 1)


def main():
    count = runtime.getDeviceCount()
    sets = [[d] for d in range(count)] + ([list(range(count))] if count > 1 else [])
    out = {"bytesPerCopy": SIZE, "unit": "GB/s, all GPUs and directions of a row together", "rows": []}
    for devices in sets:
        for directions in (["h2d"], ["d2h"], ["h2d", "d2h"]):
            trials = [measure(devices, directions) for _ in range(TRIALS)]
            out["rows"].append({"gpus": devices, "directions": directions, "GBps": max(trials), "trials": trials})
    print(json.dumps(out))


main()
