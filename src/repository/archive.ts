import fs from "node:fs";
import path from "node:path";
import { InaccelError } from "../errors";
import type { Limits } from "./limits";
import { METADATA_FILE } from "./metadata";

/** The part of the `tar` package used here. */
interface Tar {
  x(options: {
    file: string;
    cwd: string;
    strict: boolean;
    preserveOwner: boolean;
    filter: (path: string, entry: { type: string; linkpath?: string; size: number }) => boolean;
  }): Promise<void>;
}

// tar's bundled typings pull in minizlib's, which name zlib members that
// @types/node 20 lacks; a narrow local type keeps `tsc` clean without
// skipLibCheck. Loaded on first use: it is a third of the package's
// import time, and only installs need it.
let tar: Tar | undefined;

/** Entry types a bitstream tarball may hold; devices, FIFOs and the like are refused. */
const ALLOWED = new Set(["File", "OldFile", "ContiguousFile", "Directory", "SymbolicLink", "Link"]);

/**
 * Unpacks a tar archive (plain or gzip) into the new folder `dest`, refusing
 * the whole archive (BITSTREAM_INVALID, naming it `label`) when any entry
 * has an absolute path or a `..` segment, is a link whose target is
 * absolute or has a `..` segment, is not a file, folder or link, or when the
 * archive has more entries or bytes than `limits` allow.
 */
export async function extractArchive(file: string, dest: string, limits: Limits, label = file): Promise<void> {
  fs.mkdirSync(dest);
  let entries = 0;
  let bytes = 0;
  let problem: string | undefined;
  const refuse = (reason: string): false => {
    problem ??= reason;
    return false;
  };
  try {
    tar ??= require("tar") as Tar;
    await tar.x({
      file,
      cwd: dest,
      strict: true,
      preserveOwner: false,
      filter: (entryPath, entry) => {
        const { type, linkpath, size } = entry;
        if (++entries > limits.archiveEntries) return refuse(`has more than ${limits.archiveEntries} entries`);
        bytes += size;
        if (bytes > limits.totalBytes) return refuse(`unpacks to more than ${limits.totalBytes} bytes`);
        if (!ALLOWED.has(type)) return refuse(`entry ${entryPath} is a ${type}, not a file, folder or link`);
        if (escapes(entryPath)) return refuse(`entry ${entryPath} points outside the archive`);
        if ((type === "SymbolicLink" || type === "Link") && escapes(linkpath ?? "")) {
          return refuse(`link ${entryPath} -> ${linkpath ?? ""} points outside the archive`);
        }
        return problem === undefined;
      },
    });
  } catch (error) {
    throw new InaccelError("BITSTREAM_INVALID", `${label}: not a readable tar archive: ${(error as Error).message}`, { cause: error });
  }
  if (problem !== undefined) throw new InaccelError("BITSTREAM_INVALID", `${label}: ${problem}`);
}

/** Absolute, empty, or with a `..` segment: not safe to follow inside an archive. */
function escapes(entryPath: string): boolean {
  const slashed = entryPath.replace(/\\/g, "/");
  return slashed === "" || slashed.startsWith("/") || /^[A-Za-z]:/.test(slashed) || slashed.split("/").includes("..");
}

/**
 * The bitstream folder inside an unpacked archive: its top, or its one
 * top-level folder (archives made with `tar -czf x.tgz vector/`).
 */
export function bitstreamFolder(unpacked: string, archive: string): string {
  if (fs.existsSync(path.join(unpacked, METADATA_FILE))) return unpacked;
  const entries = fs.readdirSync(unpacked, { withFileTypes: true });
  if (entries.length === 1 && entries[0].isDirectory()) {
    const inner = path.join(unpacked, entries[0].name);
    if (fs.existsSync(path.join(inner, METADATA_FILE))) return inner;
  }
  throw new InaccelError("BITSTREAM_INVALID", `${archive}: no ${METADATA_FILE} at its top or in its one top-level folder`);
}
