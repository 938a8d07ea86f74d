import { describeValue, InaccelError } from "../errors";
import { parseExpression, type Expression } from "./expression";
import { elementOf, SCALARS, type ScalarType } from "./scalars";
import type { ArgumentSpec } from "./types";

/** A value given to `request(...).arg()`: a typed array (buffer) or a number/bigint (scalar). */
export type ArgValue = ArrayBufferView | number | bigint;

/**
 * An argument checked against its metadata, ready for the runtime: a buffer
 * argument's typed array as given, a scalar's bytes as its type lays them out.
 */
export type TypedArg = ArrayBufferView;

const expressions = new Map<string, Expression>();
// typeArguments' integer scalars by name, for the length expressions: one
// map for every call, never cleared (clearing a Map allocates its table
// afresh). An expression names only integer scalars of its own kernel
// (metadata checks), and a call sets all of those before it evaluates one,
// so what earlier calls left is never read.
const scalars = new Map<string, number | bigint>();
// The typed arrays' own subarray, whatever an array sets on itself.
const subarray = Object.getPrototypeOf(Uint8Array.prototype).subarray as (this: ArrayBufferView, begin: number, end: number) => ArrayBufferView;

/**
 * What typeArguments reads of a signature beyond the specs, worked out once
 * per specs array: per argument, the index of the integer scalar that is its
 * whole length expression (the common case, `"n"`: read as is, nothing
 * evaluated), else -1; and whether any length is a wider expression, which
 * reads the scalars by name.
 */
interface Lengths {
  direct: Int32Array;
  evaluated: boolean;
}
const lengthsBySpecs = new WeakMap<readonly ArgumentSpec[], Lengths>();

function lengthsOf(specs: readonly ArgumentSpec[]): Lengths {
  let lengths = lengthsBySpecs.get(specs);
  if (!lengths) {
    const direct = new Int32Array(specs.length).fill(-1);
    let evaluated = false;
    specs.forEach((spec, index) => {
      if (spec.length === undefined) return;
      const named = specs.findIndex((other) => other.name === spec.length!.trim());
      if (named >= 0 && !specs[named]!.pointer && SCALARS[specs[named]!.element].integer) direct[index] = named;
      else evaluated = true;
    });
    lengths = { direct, evaluated };
    lengthsBySpecs.set(specs, lengths);
  }
  return lengths;
}

/**
 * Checks request arguments against a kernel's metadata before anything
 * runs, and types them: count; buffer vs scalar; the typed array's element
 * type; scalar kind and range; each buffer's length against its `length`
 * expression. Scalars become the little-endian bytes of their declared type.
 * Throws BAD_ARGUMENT naming the argument (0-based index and name).
 */
export function typeArguments(accelerator: string, specs: readonly ArgumentSpec[], values: readonly ArgValue[]): TypedArg[] {
  if (values.length !== specs.length) {
    const names = specs.map((spec) => spec.name).join(", ");
    throw new InaccelError("BAD_ARGUMENT", `${accelerator} takes ${specs.length} arguments (${names}), got ${values.length}`);
  }
  const typed: TypedArg[] = new Array(specs.length);
  const lengths = lengthsOf(specs);
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index];
    const value = values[index];
    if (spec.pointer) {
      const element = ArrayBuffer.isView(value) ? elementOf(value) : undefined;
      if (element !== spec.element) throw bad(accelerator, specs, index, `expects ${spec.type}, got ${describeValue(value)}`);
      typed[index] = value as ArrayBufferView;
      continue;
    }
    if (typeof value !== "number" && typeof value !== "bigint") {
      throw bad(accelerator, specs, index, `expects ${spec.type}, got ${describeValue(value)}`);
    }
    const encoded = encodeScalar(spec.element, value);
    if (typeof encoded === "string") throw bad(accelerator, specs, index, `expects ${spec.type}, got ${describeValue(value)}: ${encoded}`);
    if (lengths.evaluated && SCALARS[spec.element].integer) scalars.set(spec.name, value);
    typed[index] = encoded;
  }
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index];
    if (spec.length === undefined) continue;
    const from = lengths.direct[index]!;
    const needed = from >= 0 ? values[from] as number | bigint
      : lengthOf(spec.length, scalars, () => bad(accelerator, specs, index, `has a length "${spec.length}" that divides by zero`));
    // A kernel given a negative count reads it as a huge one, or as nothing.
    if (needed < 0) throw bad(accelerator, specs, index, `needs ${spec.length} = ${needed} elements: a length cannot be negative`);
    const held = (values[index] as ArrayBufferView).byteLength / SCALARS[spec.element].size;
    if (typeof needed === "number" ? held < needed : BigInt(held) < needed) {
      throw bad(accelerator, specs, index, `holds ${held} ${spec.element} elements, needs ${spec.length} = ${needed}`);
    }
    // An output-only buffer goes to the device as the elements the kernel
    // writes: the rest of the array would come back from a device buffer
    // no one wrote, as whatever it held before. None written: an empty
    // view, which moves nothing either way.
    if (spec.access === "w" && held > needed) {
      typed[index] = subarray.call(values[index] as Uint8Array, 0, Number(needed));
    }
  }
  return typed;
}

function bad(accelerator: string, specs: readonly ArgumentSpec[], index: number, problem: string): InaccelError {
  return new InaccelError("BAD_ARGUMENT", `argument ${index} "${specs[index].name}" of ${accelerator} ${problem}`);
}

// A length expression's value: exact, as a number where it is a safe integer.
function lengthOf(text: string, scalars: ReadonlyMap<string, number | bigint>, onZero: () => InaccelError): number | bigint {
  let expression = expressions.get(text);
  if (!expression) {
    expression = parseExpression(text);
    expressions.set(text, expression);
  }
  try {
    return expression.evaluate(scalars);
  } catch {
    throw onZero();
  }
}

// Where encodeScalar lays scalars out: a ring of 8-byte slots in one
// off-heap buffer, handed out as views. A small typed array of its own would
// live on V8's heap, and the addon reading it would first have to move it
// off (a malloc per scalar, per request). The addon copies a scalar's bytes
// before submit() returns, long before the ring comes round to its slot.
const RING_SLOTS = 512;
const ring = new ArrayBuffer(RING_SLOTS * 8);
const ringView = new DataView(ring);
const ringBytes = new Uint8Array(ring);
let ringNext = 0;
// Views of the slots by scalar size, made on first use and then reused.
const views: Uint8Array[][] = [[], [], [], [], [], [], [], [], []];

// The view of the slot at byte `at`, the ring moved on past it.
function claimed(at: number, size: number): Uint8Array {
  const slot = ringNext;
  ringNext = (ringNext + 1) % RING_SLOTS;
  return (views[size]![slot] ??= ringBytes.subarray(at, at + size));
}
const RANGES = Object.fromEntries(Object.entries(SCALARS).map(([type, info]) =>
  [type, info.integer ? [Number(info.min), Number(info.max)] : undefined])) as Record<ScalarType, [number, number] | undefined>;

/**
 * The little-endian bytes of `value` as `type`, or why it does not fit:
 * integer types take integers in range (numbers must be safe integers; a
 * bigint is fine too); float and double take numbers, float within its range.
 * The bytes are a view of a shared ring: they hold until 511 more scalars
 * have been encoded.
 */
export function encodeScalar(type: ScalarType, value: number | bigint): Uint8Array | string {
  const info = SCALARS[type];
  const at = ringNext * 8;
  if (!info.integer) {
    if (typeof value === "bigint") return "a bigint is not a floating-point value";
    if (type === "double") {
      ringView.setFloat64(at, value, true);
    } else {
      const single = Math.fround(value);
      if (Number.isFinite(value) && !Number.isFinite(single)) return "out of range for float";
      ringView.setFloat32(at, single, true);
    }
    return claimed(at, info.size);
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return "not an integer";
    if (!Number.isSafeInteger(value)) return "not a safe integer (pass a bigint)";
    const [min, max] = RANGES[type]!;
    if (value < min || value > max) return `out of range ${info.min}..${info.max}`;
    if (info.size <= 4) {
      ringView.setUint32(at, value >>> 0, true); // two's complement; the low bytes are the value
      return claimed(at, info.size);
    }
  } else if (value < (info.min as bigint) || value > (info.max as bigint)) {
    return `out of range ${info.min}..${info.max}`;
  }
  const big = BigInt(value);
  if (info.size === 8) ringView.setBigUint64(at, BigInt.asUintN(64, big), true);
  else ringView.setUint32(at, Number(BigInt.asUintN(32, big)), true);
  return claimed(at, info.size);
}

