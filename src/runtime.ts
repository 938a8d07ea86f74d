import type { Device } from "./device";
import { InaccelError, fromNative } from "./errors";
import { currentIdentity, mayUse, modeOf, readHostConfig, reservationOf, stateDirectory } from "./config";
import { InFlight } from "./inflight";
import { native, type Native, type NativeProblem } from "./native";
import { selectDevices } from "./selection";

/** Default quantum: how long a configuration is kept while it has users waiting. */
export const DEFAULT_QUANTUM_MS = 20;

/** This thread's open runtime: the devices it drives and the engine behind them. */
export interface Runtime {
  readonly native: Native;
  /** The requests in flight, settled as the addon hands them back. */
  readonly inFlight: InFlight;
  /** The devices in use (after `INACCEL_DEVICES`), in engine order. */
  readonly devices: readonly Device[];
  /** Device.id -> index in the engine. */
  readonly engineIndex: ReadonlyMap<number, number>;
  readonly stateDir: string;
}

let opened: Runtime | undefined;
let failure: unknown;

/**
 * Discovers the devices and opens the engine on first use; later calls
 * return the same runtime, or throw the same error.
 * @internal
 */
export function runtime(): Runtime {
  if (opened) return opened;
  if (failure) throw failure;
  try {
    opened = open();
    return opened;
  } catch (error) {
    failure = fromNative(error);
    throw failure;
  }
}

/**
 * Every device of the host as discovery finds it, numbered (no
 * `INACCEL_DEVICES` narrowing, no engine opened), and what each backend
 * that found none said.
 * @internal
 */
export function discovered(): { devices: Device[]; problems: NativeProblem[] } {
  const { devices, problems } = native().discover();
  return { devices: devices.map((d, id) => ({ id, ...d })), problems };
}

/** One backend's problem as a line. @internal */
export function describeProblem(problem: NativeProblem): string {
  return `${problem.backend}: ${problem.message}`;
}

function open(): Runtime {
  const addon = native();
  const { devices: all, problems } = discovered();
  if (all.length === 0) {
    const missing = problems.find((p) => p.backend === "opencl" && p.code === "NO_RUNTIME");
    if (missing) throw new InaccelError("NO_RUNTIME", missing.message);
    const why = problems.map(describeProblem).join("; ");
    throw new InaccelError("NO_DEVICE", `no accelerator device found on this host${why ? ` (${why})` : ""}`);
  }
  const selected = selectDevices(all, process.env.INACCEL_DEVICES);
  if (selected.length === 0) {
    throw new InaccelError("NO_DEVICE", `INACCEL_DEVICES="${process.env.INACCEL_DEVICES ?? ""}" selects none of the ${all.length} devices`);
  }
  const config = readHostConfig();
  // Who this process is matters only where a device is reserved (it reads /etc/group).
  const who = selected.some((device) => reservationOf(config, device)) ? currentIdentity() : undefined;
  const devices = who ? selected.filter((device) => mayUse(config, device, who)) : selected;
  if (who && devices.length === 0) {
    throw new InaccelError("NO_DEVICE", `the host configuration reserves every device ${process.env.INACCEL_DEVICES ? "INACCEL_DEVICES selects " : ""}for other users than ${who.user}`);
  }
  const stateDir = stateDirectory(config);
  const inFlight = new InFlight(devices, (slots) => addon.cancel(slots));
  inFlight.records = addon.open({
    devices: devices.map((d) => d.id),
    modes: devices.map((d) => modeOf(config, d)),
    stateDir,
    quantumMs: config.quantumMs ?? DEFAULT_QUANTUM_MS,
  }, (count, errors) => inFlight.settle(count, errors));
  return { native: addon, inFlight, devices, engineIndex: new Map(devices.map((d, i) => [d.id, i])), stateDir };
}

/**
 * Lists the devices this process uses: every OpenCL (and, where present,
 * XRT) device of the host, narrowed by `INACCEL_DEVICES` and by the host
 * configuration's reservations (devices reserved for other users are left out).
 *
 * The first call of this or any other function that uses the devices
 * opens them, and may throw what opening does.
 *
 * @throws InaccelError `NO_RUNTIME` when no OpenCL library is installed, `NO_DEVICE` when none is found,
 * `CONFIG_INVALID` for a bad host configuration or `INACCEL_DEVICES`, and `PERMISSION_DENIED`,
 * `STATE_CORRUPT`, `STATE_VERSION` or `ARBITER_ERROR` for a state directory it cannot use.
 */
export function devices(): Device[] {
  return runtime().devices.map((d) => ({ ...d, platform: { ...d.platform } }));
}
