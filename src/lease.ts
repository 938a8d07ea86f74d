import type { Device } from "./device";
import { InaccelError, fromNative } from "./errors";
import { runtime } from "./runtime";

/** A whole-card lease taken by {@link lease}. */
export interface DeviceLease {
  readonly device: Device;
  /** Gives the card back to the other processes. Idempotent. */
  release(): void;
}

/**
 * Leases a device whole: until the lease is released (or this process
 * exits, however it exits) no other process or thread runs on it, and this
 * process runs on it with no locking at all. Devices in `exclusive` mode are
 * only used under such a lease.
 *
 * @param device the device or its `id`
 * @param options `wait: false` fails with `DEVICE_BUSY` instead of waiting for the holder.
 */
export function lease(device: Device | number, options: { wait?: boolean } = {}): DeviceLease {
  const rt = runtime();
  const id = typeof device === "number" ? device : device.id;
  const index = rt.engineIndex.get(id);
  if (index === undefined) throw new InaccelError("NO_DEVICE", `device ${id} is not in use by this process`);
  try {
    rt.native.lease(index, options.wait ?? true);
  } catch (error) {
    throw fromNative(error);
  }
  let held = true;
  return {
    device: rt.devices[index]!,
    release() {
      if (!held) return;
      held = false;
      rt.native.unlease(index);
    },
  };
}
