import { describeValue, InaccelError } from "./errors";

/** A value `Request.arg` takes: a typed array or Buffer (global memory) or a number/bigint (scalar). */
export type ArgValue = ArrayBufferView | number | bigint;

/**
 * A call of one accelerator, built argument by argument in the order of the
 * kernel's signature, then run with {@link submit}.
 *
 * @example
 * const req = inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(a.length);
 */
export class Request {
  /** Accelerator id, e.g. "vector.addition". */
  readonly accelerator: string;
  readonly #args: ArgValue[] = [];

  constructor(accelerator: string) {
    if (typeof accelerator !== "string" || accelerator.length === 0) {
      throw new InaccelError("UNKNOWN_ACCELERATOR", "an accelerator id is a non-empty string such as \"vector.addition\"");
    }
    this.accelerator = accelerator;
  }

  /** Appends the next positional argument. Checked against the kernel's metadata at submit. */
  arg(value: ArgValue): this {
    // NaN too: a float or double argument may be one (an integer one refuses it at submit).
    const ok = ArrayBuffer.isView(value) || typeof value === "bigint" || typeof value === "number";
    if (!ok) {
      throw new InaccelError(
        "BAD_ARGUMENT",
        `argument ${this.#args.length} of ${this.accelerator}: expected a typed array, Buffer, number or bigint, got ${describeValue(value)}`,
      );
    }
    this.#args.push(value);
    return this;
  }

  /** The arguments given so far. */
  get args(): readonly ArgValue[] {
    return this.#args;
  }
}

/** Starts a request for `accelerator`. */
export function request(accelerator: string): Request {
  return new Request(accelerator);
}
