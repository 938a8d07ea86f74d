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
