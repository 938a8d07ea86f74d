import fs from "node:fs";
import path from "node:path";
import { InaccelError } from "../errors";
import { readFolder, type FolderBitstream } from "./folder";
import type { Limits } from "./limits";
import { METADATA_FILE } from "./metadata";
import type { BitstreamSummary, VerifyResult } from "./types";

/** One repository folder and whether this process may change it. */
export interface RepositoryDir {
  root: string;
  readOnly: boolean;
}

/** A bitstream found in a repository. */
export interface Entry {
  folder: FolderBitstream;
  summary: BitstreamSummary;
}

/** What a repository folder holds: readable bitstreams, and folders that failed to load. */
export interface Contents {
  entries: Entry[];
  broken: Array<{ path: string; problem: string }>;
}

const cache = new Map<string, { signature: string; contents: Contents }>();

/**
 * The bitstream folders of a repository: `<root>/<x>/bitstream.json` or
 * `<root>/<x>/<y>/bitstream.json` (installs use `<id>/<version>`); names
 * starting with `.` (installs in progress) are skipped. Cached until a
 * folder of the first two levels changes.
 */
export function contents(repo: RepositoryDir, limits: Limits): Contents {
  const folders = bitstreamFolders(repo.root);
  const signature = folders.map((folder) => `${folder.path}:${folder.stamp}`).join("\n");
  const key = `${repo.readOnly ? "ro" : "rw"}:${repo.root}`;
  const cached = cache.get(key);
  if (cached?.signature === signature) return cached.contents;
  const result: Contents = { entries: [], broken: [] };
  for (const { path: dir } of folders) {
    if (!fs.existsSync(path.join(dir, METADATA_FILE))) continue;
    try {
      const folder = readFolder(dir, { verify: false, limits });
      result.entries.push({ folder, summary: summarize(folder, repo) });
    } catch (error) {
      result.broken.push({ path: dir, problem: (error as Error).message });
    }
  }
  cache.set(key, { signature, contents: result });
  return result;
}

/** The folders that may hold a bitstream, each with a stamp that changes when its content may have. */
function bitstreamFolders(root: string): Array<{ path: string; stamp: string }> {
  const found: Array<{ path: string; stamp: string }> = [];
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((name) => !name.startsWith(".")).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const child = path.join(dir, name);
      const stat = statOf(child);
      if (!stat?.isDirectory()) continue;
      const meta = statOf(path.join(child, METADATA_FILE));
      found.push({ path: child, stamp: `${stat.ino}:${stat.mtimeNs}:${meta ? `${meta.ino}:${meta.mtimeNs}:${meta.size}` : "-"}` });
      if (!meta && depth === 1) visit(child, 2);
    }
  };
  visit(root, 1);
  return found;
}

// A file's stat, or undefined where there is none to be had: absent, in a
// folder this process may not look into (EACCES), or a link loop (ELOOP),
// which holds nothing it can use, as a folder it cannot list holds nothing.
function statOf(file: string): fs.BigIntStats | undefined {
  try {
    return fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The summary of a loaded bitstream folder. */
export function summarize(folder: FolderBitstream, repo: RepositoryDir): BitstreamSummary {
  const { json } = folder.metadata;
  return {
    id: json.bitstreamId,
    version: json.version,
    ...(json.description !== undefined && { description: json.description }),
    platform: folder.platform,
    format: folder.format,
    accelerators: [...new Set(folder.metadata.kernels.map((kernel) => kernel.accelerator))],
    key: `${json.bitstreamId}@${json.version}:${folder.digest.slice(0, 12)}`,
    path: path.resolve(folder.dir),
    program: path.resolve(folder.dir, folder.program.path),
    sha256: folder.program.sha256,
    repository: repo.root,
    readOnly: repo.readOnly,
  };
}

/**
 * Removes `<id>` (every version) or `<id>@<version>` from the writable
 * repository: each folder is first renamed away (atomic: readers see it
 * whole or not at all), then deleted. NOT_FOUND when nothing matches;
 * PERMISSION_DENIED when it is only in a read-only repository.
 */
export function removeBitstreams(spec: string, repos: readonly RepositoryDir[], limits: Limits): BitstreamSummary[] {
  const at = spec.lastIndexOf("@");
  const [id, version] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, undefined];
  const matches = repos.flatMap((repo) => contents(repo, limits).entries.map((entry) => entry.summary))
    .filter((summary) => summary.id === id && (version === undefined || summary.version === version));
  const mine = matches.filter((summary) => !summary.readOnly);
  if (!mine.length) {
    if (matches.length) {
      throw new InaccelError("PERMISSION_DENIED", `${spec} is only in read-only repositories (${[...new Set(matches.map((m) => m.repository))].join(", ")})`);
    }
    throw new InaccelError("NOT_FOUND", `no bitstream ${spec} is installed`);
  }
  for (const summary of mine) {
    const trash = fs.mkdtempSync(path.join(summary.repository, ".remove-"));
    try {
      fs.renameSync(summary.path, path.join(trash, "bitstream"));
    } finally {
      fs.rmSync(trash, { recursive: true, force: true });
    }
    const parent = path.dirname(summary.path);
    if (parent !== summary.repository) {
      try {
        fs.rmdirSync(parent); // the <id> folder, once its last version is gone
      } catch {
        // not empty (other versions), or removed by another process
      }
    }
  }
  return mine;
}

/** Re-reads every bitstream folder of `repos`, hashing each file again. */
export function verifyAll(repos: readonly RepositoryDir[], limits: Limits): VerifyResult[] {
  return repos.flatMap((repo) => {
    const { entries, broken } = contents(repo, limits);
    const checked = entries.map(({ summary }): VerifyResult => {
      const name = `${summary.id}@${summary.version}`;
      try {
        readFolder(summary.path, { verify: true, limits });
        return { bitstream: name, path: summary.path, readOnly: repo.readOnly, ok: true, problems: [] };
      } catch (error) {
        return { bitstream: name, path: summary.path, readOnly: repo.readOnly, ok: false, problems: [(error as Error).message] };
      }
    });
    const unreadable = broken.map((item): VerifyResult => ({
      bitstream: path.relative(repo.root, item.path), path: item.path, readOnly: repo.readOnly, ok: false, problems: [item.problem],
    }));
    return [...checked, ...unreadable];
  });
}
