import type { Device } from "../device";
import { InaccelError } from "../errors";
import type { KernelInfo } from "./metadata";
import { compareVersions, fits, platformLabel } from "./platform";
import type { Entry } from "./store";
import type { ResolvedKernel, UnreadableFolder } from "./types";

/** A kernel offering an accelerator, with the bitstream holding it. */
interface Offer {
  entry: Entry;
  kernel: KernelInfo;
}

/**
 * Every offer of `accelerator`, best first: highest bitstream version, then
 * highest kernel version, then binaries before sources, then repository
 * order. An id@version shadowed by an earlier repository is left out, and
 * within a bitstream only the first kernel of an accelerator id counts.
 */
function offers(accelerator: string, entries: readonly Entry[]): Offer[] {
  const seen = new Set<string>();
  const found: Offer[] = [];
  for (const entry of entries) {
    const name = `${entry.summary.id}@${entry.summary.version}`;
    if (seen.has(name)) continue;
    seen.add(name);
    const kernel = entry.folder.metadata.kernels.find((item) => item.accelerator === accelerator);
    if (kernel) found.push({ entry, kernel });
  }
  return found.sort((a, b) =>
    compareVersions(b.entry.summary.version, a.entry.summary.version)
    || compareVersions(b.kernel.version ?? "0", a.kernel.version ?? "0")
    || (a.entry.summary.format === b.entry.summary.format ? 0 : a.entry.summary.format === "binary" ? -1 : 1));
}

function toResolved({ entry, kernel }: Offer): ResolvedKernel {
  const { summary, folder } = entry;
  const buildOptions = folder.metadata.json.buildOptions;
  return {
    accelerator: kernel.accelerator,
    kernel: kernel.kernel,
    bitstream: {
      id: summary.id,
      version: summary.version,
      key: summary.key,
      format: summary.format,
      path: summary.program,
      sha256: summary.sha256,
      ...(buildOptions !== undefined && { buildOptions }),
    },
    arguments: kernel.arguments.map((arg) => ({ ...arg })),
    ...(kernel.workSize !== undefined && { workSize: kernel.workSize }),
    ...(kernel.elementwise && { elementwise: kernel.elementwise }),
  };
}

/** The best kernel of `accelerator` for `device`, or undefined when none fits. */
export function resolveKernel(accelerator: string, device: Device, entries: readonly Entry[]): ResolvedKernel | undefined {
  const offer = offers(accelerator, entries).find(({ entry }) => fits(entry.summary.platform, entry.summary.format, device));
  return offer && toResolved(offer);
}

/**
 * The best kernel of `accelerator` for each device that has one, by device
 * id. Throws UNKNOWN_ACCELERATOR, saying what exists and for which
 * platforms, and which folders could not be read (`unreadable`, asked only
 * then), when no device has one.
 */
export function kernelCandidates(
  accelerator: string, devices: readonly Device[], entries: readonly Entry[], unreadable: () => UnreadableFolder[],
): Map<number, ResolvedKernel> {
  const all = offers(accelerator, entries);
  const result = new Map<number, ResolvedKernel>();
  for (const device of devices) {
    const offer = all.find(({ entry }) => fits(entry.summary.platform, entry.summary.format, device));
    if (offer) result.set(device.id, toResolved(offer));
  }
  if (result.size) return result;
  const deviceList = devices.length
    ? devices.map((device) => `${device.id} "${device.name}" (${device.platform.vendor} / ${device.platform.name}${device.compiler ? "" : ", no compiler"})`).join(", ")
    : "none";
  if (all.length) {
    const targets = all.map(({ entry }) => `${entry.summary.id}@${entry.summary.version} for ${platformLabel(entry.summary.platform)} (${entry.summary.format})`);
    throw new InaccelError("UNKNOWN_ACCELERATOR",
      `${accelerator} exists in ${targets.join(", ")}, but no device fits it; devices: ${deviceList}${unreadableNote(unreadable())}`);
  }
  throw new InaccelError("UNKNOWN_ACCELERATOR",
    `no bitstream provides ${accelerator}; available: ${available(entries)}${unreadableNote(unreadable())}`);
}

/** `; 2 bitstream folders could not be read ...: <why>, <why>`, the first 3; empty when none. */
function unreadableNote(folders: readonly UnreadableFolder[]): string {
  if (!folders.length) return "";
  // Each problem names its file or folder.
  const shown = folders.slice(0, 3).map((folder) => folder.problem).join("; ");
  const more = folders.length > 3 ? ` and ${folders.length - 3} more` : "";
  const count = folders.length === 1 ? "1 bitstream folder" : `${folders.length} bitstream folders`;
  return `; ${count} could not be read (\`inaccel bitstream verify\` checks them): ${shown}${more}`;
}

/** `vector.addition (opencl/any), ...`, at most 40 of them. */
function available(entries: readonly Entry[]): string {
  const byAccelerator = new Map<string, Set<string>>();
  for (const { summary } of entries) {
    for (const accelerator of summary.accelerators) {
      const platforms = byAccelerator.get(accelerator) ?? new Set<string>();
      platforms.add(platformLabel(summary.platform));
      byAccelerator.set(accelerator, platforms);
    }
  }
  if (!byAccelerator.size) return "none (install bitstreams with `inaccel bitstream install`)";
  const lines = [...byAccelerator].sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([accelerator, platforms]) => `${accelerator} (${[...platforms].join(", ")})`);
  const shown = lines.slice(0, 40).join(", ");
  return lines.length > 40 ? `${shown} and ${lines.length - 40} more` : shown;
}
