const CODES = [
  "UNKNOWN_ACCELERATOR", "BAD_ARGUMENT", "NO_DEVICE", "NO_RUNTIME", "DEVICE_ERROR",
  "DEVICE_BUSY", "RELEASED", "ABORTED", "BITSTREAM_INVALID", "CHECKSUM_MISMATCH", "NOT_FOUND",
  "DOWNLOAD_FAILED", "PERMISSION_DENIED", "STATE_CORRUPT", "STATE_VERSION",
  "ARBITER_ERROR", "CONFIG_INVALID",
] as const;

/**
 * Stable error codes. Code that handles errors should switch on
 * {@link InaccelError.code}, never on the message.
 */
export type ErrorCode = (typeof CODES)[number];

/** The one error class of the library: every failure it reports is one. */
export class InaccelError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = "InaccelError";
    this.code = code;
  }
}

const codes = new Set<string>(CODES);

/**
 * Turns an error thrown by the native addon (an Error whose `code` is set by
 * the glue) into an {@link InaccelError}; anything else is returned as is.
 * An `ABORTED` one gets the reason of `signal`, the call's aborted signal,
 * as its `cause`, as {@link checkSignal}'s does.
 */
export function fromNative(error: unknown, signal?: AbortSignal): unknown {
  if (error instanceof InaccelError) return error;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && codes.has(code)) {
      const options = code === "ABORTED" && signal?.aborted ? { cause: signal.reason } : undefined;
      return new InaccelError(code as ErrorCode, error.message, options);
    }
  }
  return error;
}

/**
 * Checks a call's `signal` option: undefined, or an AbortSignal not yet
 * aborted. Anything else is BAD_ARGUMENT; an aborted signal is ABORTED
 * with `message`, the signal's reason as `cause`.
 */
export function checkSignal(signal: unknown, call: string, message: () => string): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new InaccelError("BAD_ARGUMENT", `${call}'s signal option is an AbortSignal, got ${typeof signal}`);
  }
  if (signal.aborted) throw new InaccelError("ABORTED", message(), { cause: signal.reason });
  return signal;
}

/**
 * What a wrong argument is, for messages: `Float32Array`, `number 2.5`,
 * `bigint 3n`, `null`, `an empty string`, `string`, `Object`, ...
 */
export function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === "number" || typeof value === "bigint") return `${typeof value} ${String(value)}${typeof value === "bigint" ? "n" : ""}`;
  if (value === null) return "null";
  if (value === "") return "an empty string";
  return typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}
