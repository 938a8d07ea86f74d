import { constants } from "node:buffer";
import { InaccelError } from "./errors";
import { native } from "./native";

/** Any typed-array constructor `alloc` accepts. */
export type TypedArrayConstructor<T extends ArrayBufferView> = {
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const released = new WeakSet<ArrayBuffer>();

/**
 * Allocates a typed array over page-aligned (4096-byte) native memory that
 * devices can use without a copy where they allow it (CPUs map it as is).
 * The memory is zeroed, freed when the array is garbage-collected, or at
 * once by {@link release}.
 *
 * @example
 * const a = inaccel.alloc(Float32Array, 1024);
 */
export function alloc<T extends ArrayBufferView>(Ctor: TypedArrayConstructor<T>, length: number): T {
  if (typeof Ctor !== "function" || !Number.isSafeInteger(Ctor.BYTES_PER_ELEMENT) || Ctor.BYTES_PER_ELEMENT <= 0) {
    throw new InaccelError("BAD_ARGUMENT", "alloc expects a typed array constructor such as Float32Array");
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new InaccelError("BAD_ARGUMENT", `alloc length must be a non-negative integer, got ${String(length)}`);
  }
  const bytes = length * Ctor.BYTES_PER_ELEMENT;
  // Node-API wraps native memory in an ArrayBuffer of at most this many
  // bytes (2^32 before Node.js 22).
  if (bytes > constants.MAX_LENGTH) {
    throw new InaccelError("BAD_ARGUMENT", `alloc of ${bytes} bytes is more than this Node.js wraps (buffer.constants.MAX_LENGTH, ${constants.MAX_LENGTH})`);
  }
  const buffer = native().alloc(bytes);
  return new Ctor(buffer, 0, length);
}

/**
 * Frees memory from {@link alloc} now instead of at garbage collection. The
 * array becomes empty (detached); submitting it afterwards fails with
 * `RELEASED`. Requests already in flight keep the memory until they finish.
 *
 * @returns false when the array was not allocated by {@link alloc} or was released already.
 */
export function release(array: ArrayBufferView): boolean {
  const buffer = array.buffer;
  if (!(buffer instanceof ArrayBuffer) || released.has(buffer)) return false;
  const freed = native().release(buffer);
  if (freed) released.add(buffer);
  return freed;
}

/** True when `array` views memory that {@link release} freed. @internal */
export function isReleased(array: ArrayBufferView): boolean {
  // A released array is detached, so empty; reading `buffer` costs a call
  // into V8's runtime, too much for every argument of every request.
  if (array.byteLength !== 0) return false;
  return array.buffer instanceof ArrayBuffer && released.has(array.buffer);
}
