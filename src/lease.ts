import type { Device } from "./device";
import { InaccelError, checkSignal, fromNative } from "./errors";
import { runtime } from "./runtime";

/**
 * A whole-card lease taken by {@link lease}. Disposable: a lease held by
 * `using` is released at the end of its block, however the block ends.
 */
export interface DeviceLease {
  readonly device: Device;
  /**
   * Gives the card back to the other processes. Idempotent. Returns at
   * once; the card goes to them when the requests running on it end (one
   * batch), not its queue: those still queued run on afterwards as on a
   * shared card, or fail with `DEVICE_BUSY` on an `exclusive` one.
   */
  release(): void;
  /** The same as {@link DeviceLease.release}. */
  [Symbol.dispose](): void;
}

/** Options of {@link lease}. */
export interface LeaseOptions {
  /**
   * `false` fails with `DEVICE_BUSY` at once instead of waiting for the
   * holder: another process, or this process's own requests still on the
   * device (once they have all settled, the device is free). Default `true`.
   */
  wait?: boolean;
  /**
   * Ends the wait: the promise rejects with `ABORTED` and nothing stays
   * held. An already aborted signal rejects at once.
   */
  signal?: AbortSignal;
}

// Per engine index, this thread's leases of the device and its lease
// calls still waiting: the card goes back when the last lease is released
// and no call is waiting (a waiting call may be granted the lease the
// others hold), so that two parts of a program can each take one.
const uses = new Map<number, { held: number; waiting: number }>();

/**
 * Leases a device whole: until the lease is released (or this process
 * exits, however it exits) no other process or thread runs on it, and this
 * process runs on it with no locking at all. Devices in `exclusive` mode are
 * only used under such a lease. Leases of one device by one thread are
 * counted: the device goes back when the last of them is released.
 *
 * The wait for the holder (another process's lease, or the runs on the
 * card, which then let this one in before new ones) happens off the JS
 * thread: the event loop goes on meanwhile.
 *
 * @param device the device or its `id`
 * @throws InaccelError `BAD_ARGUMENT`, `NO_DEVICE`, `DEVICE_BUSY`, `ABORTED`, or what opening the devices
 * throws (see `devices()`), as a rejected promise.
 */
export function lease(device: Device | number, options: LeaseOptions = {}): Promise<DeviceLease> {
  let index: number, signal: AbortSignal | undefined;
  try {
    const id: unknown = typeof device === "object" && device !== null ? device.id : device;
    if (typeof id !== "number" || !Number.isInteger(id)) {
      const got = typeof id === "number" ? `number ${id}` : typeof device;
      throw new InaccelError("BAD_ARGUMENT", `lease takes a device or its id (an integer), got ${got}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new InaccelError("BAD_ARGUMENT", `lease's options are an object ({ wait, signal }), got ${options === null ? "null" : typeof options}`);
    }
    if (options.wait !== undefined && typeof options.wait !== "boolean") {
      throw new InaccelError("BAD_ARGUMENT", `lease's wait option is true or false, got ${typeof options.wait}`);
    }
    const known = runtime().engineIndex.get(id);
    if (known === undefined) throw new InaccelError("NO_DEVICE", `device ${id} is not in use by this process`);
    index = known;
    signal = checkSignal(options.signal, "lease", () => `the lease of device ${id} was aborted before it was asked`);
  } catch (error) {
    return Promise.reject(error);
  }
  return take(index, options.wait ?? true, signal);
}

function take(index: number, wait: boolean, signal: AbortSignal | undefined): Promise<DeviceLease> {
  const rt = runtime();
  const use = uses.get(index) ?? { held: 0, waiting: 0 };
  uses.set(index, use);
  return new Promise((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const done = (error?: Error): void => {
      use.waiting--;
      if (onAbort) signal!.removeEventListener("abort", onAbort);
      if (!error && !signal?.aborted) {
        use.held++;
        resolve(handle(index, use));
        return;
      }
      giveBackIfUnused(index, use);  // granted as the abort came, or another call's grant
      if (error && (error as { code?: unknown }).code !== "ABORTED") reject(fromNative(error));
      else reject(new InaccelError("ABORTED", `the lease of device ${rt.devices[index]!.id} was aborted`, { cause: signal?.reason }));
    };
    let ticket: number;
    try {
      ticket = rt.native.lease(index, wait, done);
    } catch (error) {
      giveBackIfUnused(index, use);
      reject(fromNative(error));
      return;
    }
    use.waiting++;
    if (signal) {
      onAbort = () => rt.native.abortLease(ticket);
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}

function handle(index: number, use: { held: number; waiting: number }): DeviceLease {
  let mine = true;
  const release = (): void => {
    if (!mine) return;
    mine = false;
    use.held--;
    giveBackIfUnused(index, use);
  };
  return { device: runtime().devices[index]!, release, [Symbol.dispose]: release };
}

// Unleasing a card this thread does not hold does nothing.
function giveBackIfUnused(index: number, use: { held: number; waiting: number }): void {
  if (use.held > 0 || use.waiting > 0) return;
  uses.delete(index);
  runtime().native.unlease(index);
}
