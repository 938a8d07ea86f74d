import type { DeviceStats, KernelStats, Stats } from "./model";

/** One accelerator's pace on one device between two snapshots. */
export interface KernelRates {
  accelerator: string;
  /** Requests finished per second, ok or failed. */
  requestsPerSecond: number;
  failedPerSecond: number;
  /** Fraction of the interval the device spent on this accelerator. */
  busy: number;
}

/** One device's pace between two snapshots. */
export interface DeviceRates {
  key: string;
  requestsPerSecond: number;
  /**
   * Fraction of the interval the device was busy (1 = all of it). Processes
   * sharing a configuration run side by side, so it may exceed 1.
   */
  busy: number;
  kernels: KernelRates[];
}

/** What changed between two snapshots, per second. */
export interface Rates {
  /** Length of the interval. */
  seconds: number;
  devices: DeviceRates[];
}

/** A snapshot and the rates since the one before it (null for the first). */
export interface Sample {
  stats: Stats;
  rates: Rates | null;
}

/**
 * The rates between two snapshots of the same state directory, or null when
 * `after` is not later than `before`. A counter that went down (the state
 * file was made anew) counts from zero, as Prometheus' rate() does.
 */
export function rates(before: Stats, after: Stats): Rates | null {
  const seconds = (after.time - before.time) / 1000;
  if (!(seconds > 0)) return null;
  const earlier = new Map(before.devices.map((device) => [device.key, device]));
  return {
    seconds,
    devices: after.devices.map((device) => deviceRates(device, earlier.get(device.key), seconds)),
  };
}

/** The sample that follows `previous` (the first when there is none). */
export function nextSample(previous: Sample | undefined, stats: Stats): Sample {
  return { stats, rates: previous ? rates(previous.stats, stats) : null };
}

function deviceRates(now: DeviceStats, then: DeviceStats | undefined, seconds: number): DeviceRates {
  const earlier = new Map((then?.kernels ?? []).map((kernel) => [kernel.accelerator, kernel]));
  const kernels = now.kernels.map((kernel) => kernelRates(kernel, earlier.get(kernel.accelerator), seconds));
  return {
    key: now.key,
    requestsPerSecond: kernels.reduce((total, k) => total + k.requestsPerSecond, 0),
    busy: kernels.reduce((total, k) => total + k.busy, 0),
    kernels,
  };
}

function kernelRates(now: KernelStats, then: KernelStats | undefined, seconds: number): KernelRates {
  const ok = delta(now.ok, then?.ok);
  const failed = delta(now.failed, then?.failed);
  return {
    accelerator: now.accelerator,
    requestsPerSecond: (ok + failed) / seconds,
    failedPerSecond: failed / seconds,
    busy: delta(now.busyNs, then?.busyNs) / 1e9 / seconds,
  };
}

const delta = (now: number, then = 0): number => (now >= then ? now - then : now);
