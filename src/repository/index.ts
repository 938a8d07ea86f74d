import os from "node:os";
import path from "node:path";
import type { Device } from "../device";
import { describeValue, InaccelError } from "../errors";
import { installBitstream } from "./install";
import { limitsWith, type Limits } from "./limits";
import { kernelCandidates, resolveKernel } from "./resolve";
import { contents, removeBitstreams, summarize, verifyAll, type Entry, type RepositoryDir } from "./store";
import type { BitstreamSummary, InstallOptions, InstallResult, ResolvedKernel, UnreadableFolder, VerifyResult } from "./types";

export type {
  ArgumentSpec, BitstreamRef, BitstreamSummary, DownloadProgress, InstallOptions, InstallResult, ResolvedKernel,
  ScalarType, TargetPlatform, UnreadableFolder, VerifyResult,
} from "./types";
export { typeArguments, type ArgValue, type TypedArg } from "./arguments";
export type { Limits } from "./limits";

/** The accelerators shipped with the package (OpenCL C), always a read-only repository. */
export const BUILTIN_REPOSITORY = path.join(__dirname, "..", "..", "src", "accelerators");

/** Options of {@link Repository}. */
export interface RepositoryOptions {
  /**
   * The writable repository. Default: `$INACCEL_REPOSITORY`, else
   * `~/.inaccel/repository`; created on first install.
   */
  root?: string;
  /** Read-only repositories searched after `root`. Default: `$INACCEL_SYSTEM_REPOSITORIES`, `:`-separated. */
  system?: string[];
  /** Bounds on what install reads; see {@link Limits}. */
  limits?: Partial<Limits>;
}

/**
 * How long {@link Repository.candidates} reuses an answer: at most this
 * long, unless a synchronous loop keeps the event loop from running.
 */
export const CANDIDATES_TTL_MS = 1000;

/**
 * The bitstreams this process can use: one writable repository, then the
 * system ones, then the built-in accelerators, in that order of precedence
 * (an id@version in an earlier one hides the same in later ones).
 * Every method reads the folders afresh when they changed, so installs and
 * removals by other processes are seen at once (by `candidates` within
 * {@link CANDIDATES_TTL_MS}); the folders themselves are
 * read from the options, else from the environment at each call (by
 * `candidates` when its answer is older than the TTL).
 */
export class Repository {
  private readonly options: RepositoryOptions;
  private readonly limits: Limits;
  // candidates() answers by accelerator id, with what they were asked for,
  // all dropped by one timer CANDIDATES_TTL_MS after the first was made.
  private readonly resolved = new Map<string, {
    devices: readonly Device[];
    kernels: ReadonlyMap<number, ResolvedKernel>;
  }>();
  private expiry: NodeJS.Timeout | undefined;

  /**
   * Options left out follow the environment variables at each call.
   * @throws InaccelError `BAD_ARGUMENT` for options that are not an object, a
   * `root` that is not a non-empty string, `system` that is not an array of
   * strings, or a limit that is not a positive integer.
   */
  constructor(options: RepositoryOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new InaccelError("BAD_ARGUMENT", `Repository's options are an object ({ root, system, limits }), got ${describeValue(options)}`);
    }
    if (options.root !== undefined && (typeof options.root !== "string" || options.root === "")) {
      throw new InaccelError("BAD_ARGUMENT", `Repository's root option is a folder's path, got ${describeValue(options.root)}`);
    }
    if (options.system !== undefined && !(Array.isArray(options.system) && options.system.every((dir) => typeof dir === "string"))) {
      throw new InaccelError("BAD_ARGUMENT", `Repository's system option is an array of folders' paths, got ${describeValue(options.system)}`);
    }
    this.options = options;
    this.limits = limitsWith(options.limits);
  }

  /** The writable repository folder. */
  get root(): string {
    return path.resolve(this.options.root
      ?? (process.env.INACCEL_REPOSITORY || path.join(os.homedir(), ".inaccel", "repository")));
  }

  /** Read-only repository folders, after `root` and before the built-in one. */
  get system(): readonly string[] {
    const root = this.root;
    const system = this.options.system ?? (process.env.INACCEL_SYSTEM_REPOSITORIES ?? "").split(":");
    return [...new Set(system.filter((dir) => dir).map((dir) => path.resolve(dir)))]
      .filter((dir) => dir !== root && dir !== BUILTIN_REPOSITORY);
  }

  private dirs(): RepositoryDir[] {
    return [
      { root: this.root, readOnly: false },
      ...this.system.map((root) => ({ root, readOnly: true })),
      { root: BUILTIN_REPOSITORY, readOnly: true },
    ];
  }

  private entries(): Entry[] {
    return this.dirs().flatMap((dir) => contents(dir, this.limits).entries);
  }

  /**
   * Installs a bitstream from a folder, a `.tar`/`.tar.gz`/`.tgz` file or an
   * http(s) URL of one into `root`, atomically. Installing the same content
   * again changes nothing (`installed: false`); the same id@version with
   * other content is BITSTREAM_INVALID. Bad input is BITSTREAM_INVALID,
   * CHECKSUM_MISMATCH, NOT_FOUND or DOWNLOAD_FAILED (also a download that
   * receives nothing for `limits.stallMs`), and leaves the repository as it
   * was; so does an abort of `options.signal` (ABORTED).
   * `options.onProgress` follows a download. A source that is not a
   * non-empty string, or options of the wrong kind, are BAD_ARGUMENT; a
   * source this user may not read, or a `root` it may not write, PERMISSION_DENIED.
   */
  async install(source: string, options: InstallOptions = {}): Promise<InstallResult> {
    if (typeof source !== "string" || source === "") {
      throw new InaccelError("BAD_ARGUMENT", `install takes a folder, a .tar, .tar.gz or .tgz file, or an http(s) URL, got ${describeValue(source)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new InaccelError("BAD_ARGUMENT", `install's options are an object ({ onProgress, signal }), got ${describeValue(options)}`);
    }
    if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
      throw new InaccelError("BAD_ARGUMENT", `install's onProgress option is a function, got ${describeValue(options.onProgress)}`);
    }
    const root = this.root;
    const { folder, installed } = await installBitstream(source, root, this.limits, options).catch((error: unknown) => {
      throw denied(error);
    });
    this.resolved.clear();
    return { ...summarize(folder, { root, readOnly: false }), installed };
  }

  /** Every bitstream of every repository, in precedence order. */
  list(): BitstreamSummary[] {
    return this.entries().map((entry) => structuredClone(entry.summary));
  }

  /**
   * The bitstream folders of every repository whose metadata could not be
   * read, which {@link list} and resolution leave out; {@link verify} says
   * the same and checks the rest.
   */
  unreadable(): UnreadableFolder[] {
    return this.dirs().flatMap((dir) => contents(dir, this.limits).broken.map((folder) => ({ ...folder })));
  }

  /**
   * Removes `bitstreamId` (all its versions) or `bitstreamId@version` from
   * `root` and returns what was removed. NOT_FOUND when nothing matches;
   * PERMISSION_DENIED when it exists only in a read-only repository, or
   * `root` is not this user's to write;
   * BAD_ARGUMENT when `spec` is not a string.
   */
  remove(spec: string): BitstreamSummary[] {
    if (typeof spec !== "string") {
      throw new InaccelError("BAD_ARGUMENT", `remove takes "bitstreamId" or "bitstreamId@version", got ${describeValue(spec)}`);
    }
    this.resolved.clear();
    try {
      return removeBitstreams(spec, this.dirs(), this.limits);
    } catch (error) {
      throw denied(error);
    }
  }

  /**
   * Re-checks every bitstream of every repository: metadata, and each file's
   * sha256 against what bitstream.json records.
   */
  verify(): VerifyResult[] {
    return verifyAll(this.dirs(), this.limits);
  }

  /**
   * The kernel of `acceleratorId` that fits `device` (highest version among
   * those that fit), or undefined when none does. BAD_ARGUMENT for an id
   * that is not a string or a device that is not an object.
   */
  resolve(acceleratorId: string, device: Device): ResolvedKernel | undefined {
    if (typeof acceleratorId !== "string") {
      throw new InaccelError("BAD_ARGUMENT", `resolve takes an accelerator id (a string), got ${describeValue(acceleratorId)}`);
    }
    if (typeof device !== "object" || device === null) {
      throw new InaccelError("BAD_ARGUMENT", `resolve takes a device (one of devices()), got ${describeValue(device)}`);
    }
    return resolveKernel(acceleratorId, device, this.entries());
  }

  /**
   * For each device, by `device.id`, the kernel of `acceleratorId` that fits
   * it. Throws UNKNOWN_ACCELERATOR, listing the accelerators that exist and
   * their platforms, and the folders that could not be read, when no
   * device has one.
   */
  candidates(acceleratorId: string, devices: readonly Device[]): ReadonlyMap<number, ResolvedKernel> {
    // submit() asks this for every request: listing the folders costs 0.15-0.4 ms,
    // so an answer is reused for CANDIDATES_TTL_MS (installs and removals by
    // this object clear it at once; other processes' are seen within the
    // TTL, and so are changed environment variables: reading one costs
    // ~0.4 us, a tenth of the JS thread's time per tiny request). A timer
    // ends the answers, not a clock read per call (~50 ns each): a
    // synchronous loop of submits keeps them until it lets the event loop run.
    const cached = this.resolved.get(acceleratorId);
    if (cached && cached.devices === devices) return cached.kernels;
    const kernels = kernelCandidates(acceleratorId, devices, this.entries(), () => this.unreadable());
    this.resolved.set(acceleratorId, { devices, kernels });
    this.expiry ??= setTimeout(() => {
      this.expiry = undefined;
      this.resolved.clear();
    }, CANDIDATES_TTL_MS).unref();
    return kernels;
  }
}

// A file or folder this user may not read or write (the install's source,
// the repository) is PERMISSION_DENIED, not a raw fs error; the message
// keeps what failed where.
function denied(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!(error instanceof Error) || error instanceof InaccelError || !["EACCES", "EPERM", "EROFS"].includes(String(code))) return error;
  return new InaccelError("PERMISSION_DENIED", error.message, { cause: error });
}
