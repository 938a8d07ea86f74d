import fs from "node:fs";
import path from "node:path";
import { InaccelError, checkSignal } from "../errors";
import { bitstreamFolder, extractArchive } from "./archive";
import { importXclbin } from "../xclbin";
import { download } from "./download";
import { readFolder, type FolderBitstream } from "./folder";
import type { Limits } from "./limits";
import { METADATA_FILE } from "./metadata";
import type { InstallOptions } from "./types";

/** Staging folders older than this are left-overs of a crashed install or remove. */
const STALE_MS = 24 * 3600 * 1000;

/** Where an install put a bitstream, and whether it changed anything. */
export interface Installed {
  folder: FolderBitstream;
  installed: boolean;
}

/**
 * Installs a bitstream from a folder, a tar archive (plain or gzip) or an
 * http(s) URL of one into `<root>/<id>/<version>`. An `.xclbin` file, or a
 * folder holding one and no bitstream.json, gets its bitstream.json written
 * from the xclbin's own metadata (src/xclbin).
 *
 * Everything happens in a staging folder inside `root` (`.install-*`, which
 * listings skip), checked file by file, then becomes visible in one
 * rename(2). A failure or a crash at any point leaves the repository as it
 * was. When the target exists already (installed before, or by a process
 * racing this one) its content digest decides: equal is success with
 * nothing changed, different is BITSTREAM_INVALID.
 */
export async function installBitstream(source: string, root: string, limits: Limits, options: InstallOptions = {}): Promise<Installed> {
  const signal = checkSignal(options.signal, "install", () => `the install of ${source} was aborted before it began`);
  const aborted = (): InaccelError => new InaccelError("ABORTED", `the install of ${source} was aborted`, { cause: signal?.reason });
  const goOn = (): void => {
    if (signal?.aborted) throw aborted();
  };
  const url = /^https?:\/\//i.test(source);
  const local = url ? "" : path.resolve(source);
  const stat = url ? undefined : fs.statSync(local, { throwIfNoEntry: false });
  if (!url && !stat) throw new InaccelError("NOT_FOUND", `${source}: no such file or folder`);
  if (fs.statSync(root, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new InaccelError("CONFIG_INVALID", `the repository ${root} is not a folder (INACCEL_REPOSITORY, or the root option)`);
  }
  fs.mkdirSync(root, { recursive: true });
  removeStale(root);
  const staging = fs.mkdtempSync(path.join(root, ".install-"));
  const unpacked = path.join(staging, "unpacked");
  let imported: string | undefined;
  try {
    let dir: string;
    if (stat && needsImport(local, stat)) {
      imported = (await importXclbin(local)).folder;
      dir = imported;
    } else if (stat?.isDirectory()) {
      dir = local;
    } else if (stat && path.basename(local) === METADATA_FILE) {
      dir = path.dirname(local);
    } else {
      let archive = local;
      if (url) {
        archive = path.join(staging, "download");
        await download(source, archive, { maxBytes: limits.totalBytes, stallMs: limits.stallMs, onProgress: options.onProgress, signal, aborted });
        goOn();
      }
      await extractArchive(archive, unpacked, limits, source);
      goOn();
      dir = bitstreamFolder(unpacked, source);
    }
    const copy = copyFolder(readFolder(dir, { verify: true, limits }), path.join(staging, "bitstream"));
    // Hash the copy, not only the original: what is installed is what was checked.
    const checked = readFolder(copy, { verify: true, limits });
    // Hashing and copying run synchronously: an abort that came meanwhile
    // (Ctrl-C's handler among them) runs now, before anything is committed.
    await new Promise((resolve) => setImmediate(resolve));
    goOn();
    return commit(checked, root, limits);
  } catch (error) {
    throw inArchive(error, unpacked, source);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    if (imported) fs.rmSync(imported, { recursive: true, force: true });
  }
}

// An error about a file of an unpacked archive names it inside the archive
// (\`bundle.tgz: vector/bitstream.json: ...\`), not in a staging folder
// that is gone once the install has failed.
function inArchive(error: unknown, unpacked: string, source: string): unknown {
  const prefix = unpacked + path.sep;
  if (!(error instanceof InaccelError) || !error.message.includes(prefix)) return error;
  const message = error.message.slice(error.code.length + 2).replaceAll(prefix, `${source}: `);
  return new InaccelError(error.code, message, { cause: error.cause });
}

/** An .xclbin file, or a folder with an .xclbin and no bitstream.json. */
function needsImport(local: string, stat: fs.Stats): boolean {
  if (stat.isFile()) return local.toLowerCase().endsWith(".xclbin");
  if (!stat.isDirectory() || fs.existsSync(path.join(local, METADATA_FILE))) return false;
  return fs.readdirSync(local).some((name) => name.toLowerCase().endsWith(".xclbin"));
}

/** Copies a checked bitstream's files and its completed bitstream.json into `dest`, read-only. */
function copyFolder(folder: FolderBitstream, dest: string): string {
  fs.mkdirSync(dest);
  for (const file of folder.files) {
    const target = path.join(dest, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(file.real, target, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(target, 0o444);
  }
  const metadata = path.join(dest, METADATA_FILE);
  fs.writeFileSync(metadata, `${JSON.stringify(folder.stored, null, 2)}\n`, { flag: "wx", mode: 0o444 });
  return dest;
}

/** Renames the staged copy into place; an existing copy with the same digest is success. */
function commit(staged: FolderBitstream, root: string, limits: Limits): Installed {
  const { bitstreamId, version } = staged.metadata.json;
  const target = path.join(root, bitstreamId, version);
  // A remove racing this install may delete the <id> folder between mkdir and
  // rename: retry then.
  for (let attempt = 0; ; attempt++) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    try {
      fs.renameSync(staged.dir, target);
      return { folder: readFolder(target, { verify: false, limits }), installed: true };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && attempt < 5) continue;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    }
    let existing: FolderBitstream;
    try {
      existing = readFolder(target, { verify: false, limits });
    } catch (error) {
      throw new InaccelError("BITSTREAM_INVALID", `${bitstreamId}@${version} is installed already, unreadable (${(error as Error).message}); remove it first`);
    }
    if (existing.digest !== staged.digest) {
      throw new InaccelError("BITSTREAM_INVALID", `${bitstreamId}@${version} is installed already with different content; remove it first or give the new one another version`);
    }
    return { folder: existing, installed: false };
  }
}

/** Deletes `.install-*` and `.remove-*` folders left by processes that died mid-way. */
function removeStale(root: string): void {
  for (const name of fs.readdirSync(root)) {
    if (!name.startsWith(".install-") && !name.startsWith(".remove-")) continue;
    const item = path.join(root, name);
    const stat = fs.statSync(item, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > STALE_MS) fs.rmSync(item, { recursive: true, force: true });
  }
}
