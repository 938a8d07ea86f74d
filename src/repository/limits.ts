import { InaccelError } from "../errors";

/** Bounds on what the repository reads, so hostile input cannot exhaust the host. */
export interface Limits {
  /** Largest bitstream.json accepted, in bytes. */
  metadataBytes: number;
  /** Largest total size of a bitstream's files, an unpacked tarball or a download, in bytes. */
  totalBytes: number;
  /** Most entries a tarball may hold. */
  archiveEntries: number;
  /** Longest a download may go without receiving anything (the response, or the next bytes), in ms. */
  stallMs: number;
}

/** The limits used unless a Repository is given others. */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  metadataBytes: 1 << 20,
  totalBytes: 4 * 2 ** 30,
  archiveEntries: 4096,
  stallMs: 30000,
};

// setTimeout's longest delay: a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The defaults with `given` over them; each given one must be a positive integer (BAD_ARGUMENT). */
export function limitsWith(given: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(given) as [keyof Limits, unknown][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_LIMITS)) throw new InaccelError("BAD_ARGUMENT", `there is no repository limit "${name}"`);
    const most = name === "stallMs" ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > most) {
      throw new InaccelError("BAD_ARGUMENT", `limits.${name} is an integer from 1 to ${most}, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return limits;
}
