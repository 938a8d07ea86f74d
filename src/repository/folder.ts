import fs from "node:fs";
import path from "node:path";
import { InaccelError } from "../errors";
import { sha256File, sha256Json } from "./hash";
import type { Limits } from "./limits";
import { METADATA_FILE, parseMetadata, type BitstreamJson, type Metadata } from "./metadata";
import { GENERIC_PLATFORM, isGeneric } from "./platform";
import type { TargetPlatform } from "./types";

/** Extensions that mark a program file when bitstream.json does not name it. */
const PROGRAM_EXTENSIONS = [".cl", ".xclbin", ".aocx"];

/** One file of a bitstream folder. */
export interface FolderFile {
  /** Path relative to the folder, `/`-separated. */
  path: string;
  /** Absolute real path (links resolved, inside the folder). */
  real: string;
  sha256: string;
}

/** A bitstream folder, read and checked. */
export interface FolderBitstream {
  dir: string;
  metadata: Metadata;
  files: FolderFile[];
  program: FolderFile;
  format: "source" | "binary";
  platform: TargetPlatform;
  /** The bitstream.json an installed copy holds: platform and every file's sha256 filled in. */
  stored: BitstreamJson;
  /** sha256 of `stored` in canonical form: equal content, equal digest. */
  digest: string;
}

/**
 * Reads a bitstream folder. With `verify`, every file is hashed and checked
 * against the sha256 bitstream.json records (CHECKSUM_MISMATCH); without it,
 * recorded checksums are trusted and only missing ones computed (loading an
 * installed repository, whose files `verify()` re-checks on demand).
 */
export function readFolder(dir: string, options: { verify: boolean; limits: Limits }): FolderBitstream {
  const root = realDir(dir);
  const source = path.join(dir, METADATA_FILE);
  if (!fs.existsSync(source)) throw new InaccelError("BITSTREAM_INVALID", `${dir}: no ${METADATA_FILE} in this folder`);
  const metadataPath = inside(root, METADATA_FILE, source, METADATA_FILE);
  const metadata = parseMetadata(readBounded(metadataPath, options.limits.metadataBytes, source), source);
  const { json } = metadata;
  const named = json.name === undefined ? undefined : checkRelative(json.name, "name", source);
  const paths = json.files?.map((file, index) => checkRelative(file.path, `files[${index}].path`, source))
    ?? [named ?? findProgram(source, fs.readdirSync(root))];
  if (new Set(paths).size !== paths.length) throw invalid(source, "files: a path is listed twice");
  const programPath = named ?? findProgram(source, paths);
  if (!paths.includes(programPath)) throw invalid(source, `name: "${programPath}" is not listed in files`);

  let total = 0;
  const files = paths.map((relative, index): FolderFile => {
    const real = inside(root, relative, source, json.files ? `files[${index}].path` : "name");
    total += fs.statSync(real).size;
    if (total > options.limits.totalBytes) {
      throw invalid(source, `files are larger than the ${options.limits.totalBytes}-byte limit`);
    }
    const recorded = json.files?.[index].sha256;
    const sha256 = options.verify || !recorded ? sha256File(real) : recorded;
    if (recorded && recorded !== sha256) {
      throw new InaccelError("CHECKSUM_MISMATCH", `${path.join(dir, relative)}: sha256 is ${sha256}, ${METADATA_FILE} says ${recorded}`);
    }
    return { path: relative, real, sha256 };
  });
  const program = files[paths.indexOf(programPath)];
  const format = path.extname(programPath).toLowerCase() === ".cl" ? "source" : "binary";
  const platform = json.platform ?? (format === "source" ? { ...GENERIC_PLATFORM } : undefined);
  if (!platform || (format === "binary" && isGeneric(platform))) {
    throw invalid(source, `platform: the binary ${programPath} must declare the platform (vendor, name, version) it was built for`);
  }
  const stored: BitstreamJson = { ...json, platform, files: files.map((file) => ({ path: file.path, sha256: file.sha256 })) };
  return { dir, metadata, files, program, format, platform, stored, digest: sha256Json(stored) };
}

const invalid = (source: string, problem: string): InaccelError =>
  new InaccelError("BITSTREAM_INVALID", `${source}: ${problem}`);

function realDir(dir: string): string {
  try {
    const real = fs.realpathSync(dir);
    if (fs.statSync(real).isDirectory()) return real;
  } catch {
    // reported below
  }
  throw new InaccelError("NOT_FOUND", `${dir} is not a folder`);
}

/** Reads a whole file, refusing one larger than `max` bytes. */
function readBounded(file: string, max: number, source: string): string {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    if (size > max) throw invalid(source, `is ${size} bytes, more than the ${max}-byte limit`);
    const buffer = Buffer.alloc(size);
    let done = 0;
    for (let read; done < size && (read = fs.readSync(fd, buffer, done, size - done, null)) > 0;) done += read;
    return buffer.subarray(0, done).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

/** Refuses absolute paths and `..`; returns the path normalised. */
function checkRelative(relative: string, field: string, source: string): string {
  const normal = path.posix.normalize(relative);
  if (relative.includes("\\") || relative.includes("\0") || path.posix.isAbsolute(normal)
      || normal === "." || normal === ".." || normal.startsWith("../")) {
    throw invalid(source, `${field}: "${relative}" must be a relative path inside the folder`);
  }
  return normal;
}

/** The real path of `relative` in `root`: a regular file, links resolving inside the folder. */
function inside(root: string, relative: string, source: string, field: string): string {
  let real: string;
  try {
    real = fs.realpathSync(path.join(root, relative));
  } catch {
    throw invalid(source, `${field}: ${relative} is missing`);
  }
  if (!real.startsWith(root + path.sep)) throw invalid(source, `${field}: ${relative} links outside the folder`);
  if (!fs.statSync(real).isFile()) throw invalid(source, `${field}: ${relative} is not a regular file`);
  return real;
}

/** The one program file among `candidates`, found by extension. */
function findProgram(source: string, candidates: readonly string[]): string {
  const found = candidates.filter((name) => PROGRAM_EXTENSIONS.includes(path.extname(name).toLowerCase()));
  if (found.length === 1) return found[0];
  const kinds = PROGRAM_EXTENSIONS.join(", ");
  throw invalid(source, found.length
    ? `several program files (${found.sort().join(", ")}); name the one to use with "name"`
    : `no program file (${kinds}) found; name it with "name" or list it in "files"`);
}
