import type { Device } from "../device";
import type { TargetPlatform } from "./types";

/** The platform of OpenCL C source that any device with a compiler builds. */
export const GENERIC_PLATFORM: Readonly<TargetPlatform> = { vendor: "opencl", name: "any" };

/** True for {@link GENERIC_PLATFORM} (compared case-insensitively). */
export function isGeneric(platform: TargetPlatform): boolean {
  return platform.vendor.toLowerCase() === "opencl" && platform.name.toLowerCase() === "any";
}

/** Lowercase, every run of other characters than letters and digits made one `_`. */
const normal = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");

/**
 * Whether a bitstream built for `platform` runs on `device`.
 *
 * - A source bitstream needs a device with a compiler; the generic platform
 *   fits every such device, any other must match as a binary's does.
 * - Vendor: the device's vendor or its OpenCL platform's vendor contains
 *   `platform.vendor`, case-insensitively ("xilinx" fits "Xilinx, Inc.").
 * - Name: the device name or its OpenCL platform name, normalised (lowercase,
 *   punctuation runs as `_`), equals the normalised `name`,
 *   `name_version` or `vendor_name_version` (Xilinx shells show as
 *   `xilinx_u250_xdma_201830_2` for `xilinx` / `u250` / `xdma_201830.2`).
 */
export function fits(platform: TargetPlatform, format: "source" | "binary", device: Device): boolean {
  if (format === "source") {
    if (!device.compiler) return false;
    if (isGeneric(platform)) return true;
  }
  const vendor = platform.vendor.toLowerCase();
  if (![device.vendor, device.platform.vendor].some((name) => name.toLowerCase().includes(vendor))) return false;
  const wanted = [platform.name];
  if (platform.version) {
    wanted.push(`${platform.name}_${platform.version}`, `${platform.vendor}_${platform.name}_${platform.version}`);
  }
  const names = new Set(wanted.map(normal));
  return [device.name, device.platform.name].some((name) => names.has(normal(name)));
}

/** `vendor/name/version`, for messages and listings. */
export function platformLabel(platform: TargetPlatform): string {
  return [platform.vendor, platform.name, platform.version].filter((part) => part).join("/");
}

/**
 * Orders versions semver-style: dot-separated parts compare numerically
 * when both are digits, else as text; a missing part counts as 0; a
 * pre-release (`1.0.0-rc1`) sorts before its release; `+build` is ignored.
 */
export function compareVersions(a: string, b: string): number {
  const [mainA, preA] = split(a);
  const [mainB, preB] = split(b);
  const main = compareParts(mainA, mainB, "0");
  if (main !== 0) return main;
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  return compareParts(preA, preB, "");
}

function split(version: string): [string[], string[] | undefined] {
  const plain = version.split("+")[0];
  const dash = plain.indexOf("-");
  return dash < 0 ? [plain.split("."), undefined] : [plain.slice(0, dash).split("."), plain.slice(dash + 1).split(".")];
}

function compareParts(a: readonly string[], b: readonly string[], missing: string): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? missing;
    const y = b[i] ?? missing;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const order = numeric ? Math.sign(Number(BigInt(x) - BigInt(y))) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return 0;
}
