import { modeOf, readHostConfig, reservationOf, stateDirectory, type HostConfig } from "./config";
import type { Device } from "./device";
import { fromNative } from "./errors";
import { buildStats, type JoinOptions, type Stats } from "./insight/model";
import { native, type NativeSnapshot } from "./native";
import { describeProblem, discovered, runtime } from "./runtime";

export type { DeviceStats, KernelStats, ProcessStats, Stats } from "./insight/model";

/**
 * A snapshot of the devices this process uses: what each one is (platform,
 * name, ...) joined with the arbiter's view of it, shared by every process
 * of the host: configured bitstream, mode, lessee, users, queue depth and,
 * per accelerator, requests ok / failed and busy time. Counters live in the
 * state file, so they include the requests of every process, those that
 * have exited too.
 *
 * @example
 * for (const d of inaccel.stats().devices) console.log(d.device?.name, d.ok, d.failed);
 * @throws InaccelError as `devices()` does, or `STATE_CORRUPT` when the state file cannot be read.
 */
export function stats(): Stats {
  const rt = runtime();
  const snapshot = call(() => rt.native.snapshot());
  return buildStats(snapshot, rt.devices, { stateDir: rt.stateDir, others: false, ...configured() });
}

/** Options of {@link readStats}. */
export interface ReadStatsOptions {
  /** State directory to read; default: {@link stateDirectory}. */
  stateDir?: string;
  /** Devices to describe (from {@link hostDevices}); devices of the state file not among them are listed by key only. */
  devices?: readonly Device[];
}

/**
 * The same snapshot as {@link stats}, of every device of a state directory,
 * read without joining it: the reader takes no process slot and opens no
 * device, so it works on a host where it cannot (or should not) run
 * anything. A directory no process has used yet reads as empty.
 * @internal
 */
export function readStats(options: ReadStatsOptions = {}): Stats {
  const stateDir = options.stateDir ?? stateDirectory();
  const snapshot = call(() => native().inspect(stateDir));
  return buildStats(snapshot, options.devices ?? [], { stateDir, others: true, ...configured() });
}

/**
 * Every device of the host as discovery finds it (no `INACCEL_DEVICES`
 * narrowing, no engine opened), and why some backends found none.
 * @internal
 */
export function hostDevices(): { devices: Device[]; problems: string[] } {
  try {
    const { devices, problems } = discovered();
    return { devices, problems: problems.map(describeProblem) };
  } catch (error) {
    return { devices: [], problems: [(error as Error).message] };
  }
}

// What the host config says of a device, reading the file at most once.
function configured(): Pick<JoinOptions, "modeOf" | "reservationOf"> {
  let config: HostConfig | undefined;
  return {
    modeOf: (device) => modeOf((config ??= readHostConfig()), device),
    reservationOf: (device) => reservationOf((config ??= readHostConfig()), device),
  };
}

function call(read: () => NativeSnapshot): NativeSnapshot {
  try {
    return read();
  } catch (error) {
    throw fromNative(error);
  }
}
