/** Shared helpers of the repository tests (not a test file itself). */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import * as tar from "tar";
import type { Device } from "../src/device";
import { InaccelError, type ErrorCode } from "../src/errors";

export const PROJECT = path.join(__dirname, "..");
export const FIXTURES = path.join(__dirname, "fixtures");

const made: string[] = [];

/** A fresh temp folder, deleted by {@link cleanup}. */
export function tempDir(prefix = "inaccel-repo-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Deletes every folder {@link tempDir} made (call from an `after` hook). */
export function cleanup(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * For a suite that points INACCEL_REPOSITORY elsewhere (the default
 * repository reads it at each call): an `after` hook that sets it back
 * and runs {@link cleanup}. Call inside the `describe`.
 */
export function restoreRepositoryAfter(): void {
  const saved = process.env.INACCEL_REPOSITORY;
  after(() => {
    if (saved === undefined) delete process.env.INACCEL_REPOSITORY;
    else process.env.INACCEL_REPOSITORY = saved;
    cleanup();
  });
}

/** A writable copy of a fixture folder. */
export function copyFixture(name: string): string {
  const dest = path.join(tempDir("inaccel-fixture-"), name);
  fs.cpSync(path.join(FIXTURES, name), dest, { recursive: true });
  return dest;
}

/** Rewrites a folder's bitstream.json through `edit`. */
export function editMetadata(dir: string, edit: (json: Record<string, any>) => void): void {
  const file = path.join(dir, "bitstream.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, any>;
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
}

/** sha256 of a file, hex. */
export function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Every path under `dir` with its kind and content hash, sorted: equal snapshots, equal trees. */
export function snapshot(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: false }) as string[]) {
    const full = path.join(dir, entry);
    const stat = fs.lstatSync(full);
    out.push(stat.isFile() ? `${entry} ${sha256(full)}` : `${entry}/`);
  }
  return out.sort();
}

/** Packs `folder` into a .tar.gz; `prefix` puts its content under that folder name. */
export async function tarball(folder: string, file: string, prefix?: string): Promise<string> {
  const names = fs.readdirSync(folder);
  if (prefix) {
    const staged = path.join(tempDir("inaccel-tar-"), prefix);
    fs.cpSync(folder, staged, { recursive: true });
    await tar.c({ gzip: true, file, cwd: path.dirname(staged) }, [prefix]);
  } else {
    await tar.c({ gzip: true, file, cwd: folder }, names);
  }
  return file;
}

/** Expects `action` to fail with an InaccelError of `code` whose message matches `pattern`. */
export async function expectError(action: () => unknown, code: ErrorCode, pattern?: RegExp): Promise<InaccelError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).to.be.instanceOf(InaccelError);
  const error = caught as InaccelError;
  expect(error.code, error.message).to.equal(code);
  if (pattern) expect(error.message).to.match(pattern);
  return error;
}

/** A device as the runtime lists it; defaults: a PoCL CPU with a compiler. */
export function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 0,
    key: "test-device",
    backend: "opencl",
    platform: { vendor: "The pocl project", name: "Portable Computing Language", version: "OpenCL 3.0 PoCL" },
    vendor: "GenuineIntel",
    name: "pthread-cpu",
    type: "cpu",
    version: "OpenCL 3.0",
    memory: 1 << 30,
    compiler: true,
    ...overrides,
  };
}

/** Node's arguments to run a TypeScript file through tsx. */
export const TSX = ["-r", "tsx/cjs"];

/** Runs the CLI (`src/cli/main.ts` through tsx) and waits for it. */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [...TSX, path.join(PROJECT, "src", "cli", "main.ts"), ...args], {
    cwd: PROJECT, env: { ...process.env, ...env }, encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a TypeScript script in a child process; resolves with its exit status and output. */
export function runScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX, script, ...args], { cwd: PROJECT, env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}
