import type { DeviceMode, Reservation } from "../config";
import type { Device } from "../device";
import type { NativeDeviceState, NativeSnapshot } from "../native";

/** How one accelerator fared on one device, since the state file was created. */
export interface KernelStats {
  /** Accelerator id, e.g. `vector.addition`; `(other)` gathers those past the table's capacity. */
  accelerator: string;
  /** Requests that ran to completion. */
  ok: number;
  /** Requests that failed on the device. */
  failed: number;
  /** Nanoseconds the device spent on its requests: data in, kernel, data out. */
  busyNs: number;
}

/** One device: what the host says it is, and what the arbiter's state file says of it. */
export interface DeviceStats {
  /** Stable key of the device on this host, shared by every process. */
  key: string;
  /** The device as discovery lists it; absent when the reader does not know it (no OpenCL there, other `POCL_DEVICES`, ...). */
  device?: Device;
  /** Row of the arbiter's device table; null while no process has used the device. */
  index: number | null;
  mode: DeviceMode;
  /** The users and groups the host configuration reserves the device for; absent: every user. */
  reservedFor?: Reservation;
  /** Id of the bitstream the device is configured with, null when none. */
  bitstream: string | null;
  /** Bumped on every reconfiguration. */
  generation: number;
  reconfigurations: number;
  /**
   * Milliseconds the device took to take on its last configuration, as the
   * process that reconfigured it measured (loading the bitstream); null
   * while unknown. A configuration is kept for four times this at least
   * while its users have requests queued (docs/arbiter.md, quantum).
   */
  configureMs: number | null;
  /** Requests queued or running on the device, over all live processes. */
  queueDepth: number;
  /** Live processes waiting to reconfigure the device or to lease it whole. */
  waiting: number;
  /** Pid of the process leasing the whole device, null when none. */
  lessee: number | null;
  /** Pids of the live processes with requests queued or running on the device. */
  users: number[];
  /** Sums over {@link kernels}. */
  ok: number;
  failed: number;
  busyNs: number;
  kernels: KernelStats[];
}

/** A live process sharing the devices. */
export interface ProcessStats {
  pid: number;
  /** When it joined, in milliseconds since the epoch. */
  startTime: number;
}

/** A snapshot of the devices and of the processes that share them. */
export interface Stats {
  /** When it was taken, in milliseconds since the epoch. */
  time: number;
  /** The arbiter's state directory it was read from. */
  stateDir: string;
  devices: DeviceStats[];
  processes: ProcessStats[];
}

/** How {@link buildStats} joins a snapshot with device information. */
export interface JoinOptions {
  stateDir: string;
  /** Keep the devices of the snapshot that `devices` does not list (after those it lists). */
  others: boolean;
  /** The configured mode of a device no process has used yet. */
  modeOf(device: Device): DeviceMode;
  /** Whom the host configuration reserves a device for (undefined: every user). */
  reservationOf(device: Device): Reservation | undefined;
  time?: number;
}

/**
 * Joins the arbiter's snapshot with the devices discovery lists, by key:
 * one entry per device of `devices` (in that order), then, with `others`,
 * one per device of the snapshot that `devices` lacks.
 */
export function buildStats(snapshot: NativeSnapshot, devices: readonly Device[], options: JoinOptions): Stats {
  const byKey = new Map(snapshot.devices.map((state) => [state.key, state]));
  const known = new Set(devices.map((device) => device.key));
  const listed = devices.map((device) => {
    const state = byKey.get(device.key);
    const stats = state ? fromState(state, device) : unused(device, options.modeOf(device));
    const reservedFor = options.reservationOf(device);
    return reservedFor ? { ...stats, reservedFor } : stats;
  });
  const others = options.others ? snapshot.devices.filter((state) => !known.has(state.key)).map((state) => fromState(state)) : [];
  return {
    time: options.time ?? Date.now(),
    stateDir: options.stateDir,
    devices: [...listed, ...others],
    processes: snapshot.processes.map((p) => ({ pid: p.pid, startTime: p.startTime / 1e6 })),
  };
}

function fromState(state: NativeDeviceState, device?: Device): DeviceStats {
  const kernels = state.kernels.map((k) => ({ accelerator: k.accelerator, ok: k.ok, failed: k.failed, busyNs: k.busyNs }));
  return {
    key: state.key,
    ...(device && { device }),
    index: state.index,
    mode: state.mode,
    bitstream: state.bitstream || null,
    generation: state.generation,
    reconfigurations: state.reconfigurations,
    configureMs: state.configureNs > 0 ? state.configureNs / 1e6 : null,
    queueDepth: state.queueDepth,
    waiting: state.waiting,
    lessee: state.lessee > 0 ? state.lessee : null,
    users: [...state.users],
    ok: sum(kernels, "ok"),
    failed: sum(kernels, "failed"),
    busyNs: sum(kernels, "busyNs"),
    kernels,
  };
}

function unused(device: Device, mode: DeviceMode): DeviceStats {
  return {
    key: device.key, device, index: null, mode, bitstream: null, generation: 0, reconfigurations: 0, configureMs: null,
    queueDepth: 0, waiting: 0, lessee: null, users: [], ok: 0, failed: 0, busyNs: 0, kernels: [],
  };
}

const sum = (kernels: readonly KernelStats[], field: "ok" | "failed" | "busyNs"): number =>
  kernels.reduce((total, kernel) => total + kernel[field], 0);
