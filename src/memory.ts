import { constants } from "node:buffer";
import { InaccelError, fromNative } from "./errors";
import { native } from "./native";

/** Any typed-array constructor `alloc` accepts. */
export type TypedArrayConstructor<T extends ArrayBufferView> = {
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const released = new WeakSet<ArrayBuffer>();
// alloc()s of no bytes: no native memory, nothing to free, releasable all the same.
const empty = new WeakSet<ArrayBuffer>();

/**
 * Allocates a typed array over page-aligned (4096-byte) native memory that
 * devices can use without a copy where they allow it (CPUs map it as is).
 * The memory is zeroed, freed when the array is garbage-collected, or at
 * once by {@link release}. Where it is not pinned (hosts without a GPU), an
 * array of 1 MiB or more takes host memory only as its pages are written.
 *
 * @example
 * const a = inaccel.alloc(Float32Array, 1024);
 *
 * @throws InaccelError `BAD_ARGUMENT` for a length or constructor it cannot
 * allocate for (more bytes than `buffer.constants.MAX_LENGTH` included),
 * `DEVICE_ERROR` when the host memory cannot be had, `CONFIG_INVALID` for
 * an `INACCEL_PINNED` other than 0 or 1.
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
  let buffer: ArrayBuffer;
  if (bytes === 0) {
    buffer = new ArrayBuffer(0);
    empty.add(buffer);
  } else {
    try {
      buffer = native().alloc(bytes);
    } catch (error) {
      throw fromNative(error);
    }
  }
  try {
    return new Ctor(buffer, 0, length);
  } catch (cause) {
    release(new Uint8Array(buffer));
    throw new InaccelError("BAD_ARGUMENT", `alloc expects a typed array constructor such as Float32Array: ${Ctor.name} cannot view its memory`, { cause });
  }
}

/**
 * Frees memory from {@link alloc} now instead of at garbage collection. The
 * array becomes empty (detached); submitting it afterwards fails with
 * `RELEASED`. Requests already in flight keep the memory until they finish,
 * those given any view of it (a `subarray` at an offset too).
 *
 * @returns false when the array was not allocated by {@link alloc} or was released already.
 * @throws InaccelError `BAD_ARGUMENT` when `array` is not a typed array or DataView.
 */
export function release(array: ArrayBufferView): boolean {
  if (!ArrayBuffer.isView(array)) {
    throw new InaccelError("BAD_ARGUMENT", `release takes an array from alloc, got ${array === null ? "null" : typeof array}`);
  }
  const buffer = array.buffer;
  if (!(buffer instanceof ArrayBuffer) || released.has(buffer)) return false;
  const freed = empty.has(buffer) || native().release(buffer);
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
