import type { Device } from "./device";
import { InaccelError, fromNative } from "./errors";
import { runtime } from "./runtime";

/** A whole-card lease taken by {@link lease}. */
export interface DeviceLease {
  readonly device: Device;
  /** Gives the card back to the other processes. Idempotent. */
  release(): void;
}

// The leases this thread holds, by engine index: a card goes back when the
// last of its leases is released, so that two parts of a program can each
// take one.
const held = new Map<number, number>();

/**
 * Leases a device whole: until the lease is released (or this process
 * exits, however it exits) no other process or thread runs on it, and this
 * process runs on it with no locking at all. Devices in `exclusive` mode are
 * only used under such a lease. Leases of one device by one thread are
 * counted: the device goes back when the last of them is released.
 *
 * @param device the device or its `id`
 * @param options `wait: false` fails with `DEVICE_BUSY` instead of waiting for the holder.
 * @throws InaccelError `BAD_ARGUMENT`, `NO_DEVICE`, `DEVICE_BUSY`.
 */
export function lease(device: Device | number, options: { wait?: boolean } = {}): DeviceLease {
  const id: unknown = typeof device === "object" && device !== null ? device.id : device;
  if (typeof id !== "number") {
    throw new InaccelError("BAD_ARGUMENT", `lease takes a device or its id (a number), got ${typeof device}`);
  }
  const rt = runtime();
  const index = rt.engineIndex.get(id);
  if (index === undefined) throw new InaccelError("NO_DEVICE", `device ${id} is not in use by this process`);
  try {
    rt.native.lease(index, options.wait ?? true);  // at once when this thread holds it already
  } catch (error) {
    throw fromNative(error);
  }
  held.set(index, (held.get(index) ?? 0) + 1);
  let mine = true;
  return {
    device: rt.devices[index]!,
    release() {
      if (!mine) return;
      mine = false;
      const left = held.get(index)! - 1;
      if (left > 0) {
        held.set(index, left);
      } else {
        held.delete(index);
        rt.native.unlease(index);
      }
    },
  };
}
