import type { ScalarType } from "./scalars";

export type { ScalarType } from "./scalars";

/** One argument of a kernel, as its metadata declares it. */
export interface ArgumentSpec {
  /** Argument name (`arg<index>` when the metadata gives none). */
  name: string;
  /** Type as written in the metadata, e.g. `float*` or `int`. */
  type: string;
  /** True for a buffer in global memory. */
  pointer: boolean;
  /** The scalar type, or the element type of a buffer. */
  element: ScalarType;
  /** How the kernel uses a buffer; scalars are always `r`. */
  access: "r" | "w" | "rw";
  /** Memory bank of a buffer. */
  memory?: number;
  /**
   * Element count a buffer must hold: an expression over integer scalar
   * argument names, e.g. `size` or `width*height`.
   */
  length?: string;
}

/** A platform as a bitstream targets it; `version` may be left out. */
export interface TargetPlatform {
  vendor: string;
  name: string;
  version?: string;
}

/** The program a resolved kernel lives in. */
export interface BitstreamRef {
  id: string;
  version: string;
  /** Unique per content: `<id>@<version>:<first 12 hex of the content digest>`. */
  key: string;
  /** `source`: OpenCL C to build; `binary`: a device binary (xclbin, aocx, ...). */
  format: "source" | "binary";
  /** Absolute path of the program file. */
  path: string;
  /** sha256 of the program file, lowercase hex. */
  sha256: string;
  /** Options for the OpenCL compiler (source bitstreams). */
  buildOptions?: string;
}

/** What a request needs to run an accelerator on one device. */
export interface ResolvedKernel {
  /** Accelerator id, e.g. `vector.addition`. */
  accelerator: string;
  /** Kernel function name in the program. */
  kernel: string;
  bitstream: BitstreamRef;
  arguments: ArgumentSpec[];
  /**
   * The global work size: an expression over integer scalar argument
   * names (`"size"`, `"((M+63)/64)*((N+63)/64)*256"`); for an element-wise
   * kernel, one argument's name.
   */
  workSize?: string;
  /**
   * Work-item i touches only element i of each buffer (striding by the
   * global size below `workSize`), so a large request may run in chunks.
   */
  elementwise?: true;
}

/** One bitstream of a repository, as `list()` shows it. */
export interface BitstreamSummary {
  id: string;
  version: string;
  description?: string;
  platform: TargetPlatform;
  format: "source" | "binary";
  /** Accelerator ids it provides. */
  accelerators: string[];
  /** Content key, as in {@link BitstreamRef.key}. */
  key: string;
  /** Absolute path of its folder. */
  path: string;
  /** Absolute path of its program file. */
  program: string;
  /** sha256 of the program file. */
  sha256: string;
  /** Root of the repository that holds it. */
  repository: string;
  /** True for system and built-in repositories, which this process never changes. */
  readOnly: boolean;
}

/** A bitstream folder whose metadata could not be read: listing and resolution leave it out. */
export interface UnreadableFolder {
  /** Absolute path of the folder. */
  path: string;
  /** Why, one line. */
  problem: string;
}

/** How far a download has come. */
export interface DownloadProgress {
  /** Bytes received so far. */
  received: number;
  /** Bytes in all, when the server said (Content-Length). */
  total?: number;
}

/** Options of `install()`. */
export interface InstallOptions {
  /** Called as a URL downloads, after each chunk it receives. */
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * Aborts the install until it commits: it then rejects with `ABORTED`
   * (the signal's reason as its `cause`), leaving the repository as it was.
   */
  signal?: AbortSignal;
}

/** What `install()` did. */
export interface InstallResult extends BitstreamSummary {
  /** False when the same content was installed already (nothing changed). */
  installed: boolean;
}

/** The outcome of re-checking one bitstream folder. */
export interface VerifyResult {
  /** `<id>@<version>`, or the folder name when its metadata is unreadable. */
  bitstream: string;
  path: string;
  readOnly: boolean;
  ok: boolean;
  /** What is wrong, one line each; empty when ok. */
  problems: string[];
}
