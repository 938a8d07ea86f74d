import type { Device } from "./device";
import { InaccelError } from "./errors";

/**
 * Applies an `INACCEL_DEVICES` selector list to the host's devices.
 *
 * The list is comma-separated; a device is kept when any entry matches it:
 * an index (`0`), a type (`cpu`, `gpu`, `accelerator`, `fpga`), a backend
 * (`opencl`, `xrt`), or `platform:<text>` / `name:<text>` (case-insensitive
 * substring). Empty or unset keeps every device.
 */
export function selectDevices(devices: readonly Device[], selector: string | undefined): Device[] {
  const entries = (selector ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (entries.length === 0) return [...devices];
  const matchers = entries.map(parse);
  return devices.filter((device) => matchers.some((match) => match(device)));
}

function parse(entry: string): (device: Device) => boolean {
  if (/^\d+$/.test(entry)) {
    const id = Number(entry);
    return (device) => device.id === id;
  }
  const colon = entry.indexOf(":");
  if (colon > 0) {
    const field = entry.slice(0, colon).toLowerCase();
    const text = entry.slice(colon + 1).toLowerCase();
    if (field === "platform") {
      return (device) => `${device.platform.vendor} ${device.platform.name}`.toLowerCase().includes(text);
    }
    if (field === "name") return (device) => device.name.toLowerCase().includes(text);
    throw new InaccelError("CONFIG_INVALID", `INACCEL_DEVICES: unknown selector "${field}:" in "${entry}"`);
  }
  const word = entry.toLowerCase();
  if (["cpu", "gpu", "accelerator", "fpga", "other"].includes(word)) return (device) => device.type === word;
  if (["opencl", "xrt"].includes(word)) return (device) => device.backend === word;
  throw new InaccelError("CONFIG_INVALID", `INACCEL_DEVICES: cannot read "${entry}"`);
}
