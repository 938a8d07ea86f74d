import { InaccelError } from "../errors";
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
  const bad = (index: number, problem: string): InaccelError =>
    new InaccelError("BAD_ARGUMENT", `argument ${index} "${specs[index].name}" of ${accelerator} ${problem}`);
  const scalars = new Map<string, bigint>();
  const typed = specs.map((spec, index): TypedArg => {
    const value = values[index];
    if (spec.pointer) {
      const element = ArrayBuffer.isView(value) ? elementOf(value) : undefined;
      if (element !== spec.element) throw bad(index, `expects ${spec.type}, got ${describe(value)}`);
      return value as ArrayBufferView;
    }
    if (typeof value !== "number" && typeof value !== "bigint") throw bad(index, `expects ${spec.type}, got ${describe(value)}`);
    const encoded = encodeScalar(spec.element, value);
    if (typeof encoded === "string") throw bad(index, `expects ${spec.type}, got ${describe(value)}: ${encoded}`);
    if (SCALARS[spec.element].integer) scalars.set(spec.name, BigInt(value));
    return encoded;
  });
  specs.forEach((spec, index) => {
    if (spec.length === undefined) return;
    const needed = evaluate(spec.length, scalars, () => bad(index, `has a length "${spec.length}" that divides by zero`));
    const view = values[index] as ArrayBufferView;
    const held = view.byteLength / SCALARS[spec.element].size;
    if (BigInt(held) < needed) {
      throw bad(index, `holds ${held} ${spec.element} elements, needs ${spec.length} = ${needed}`);
    }
  });
  return typed;
}

function evaluate(text: string, scalars: ReadonlyMap<string, bigint>, onZero: () => InaccelError): bigint {
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

/**
 * The little-endian bytes of `value` as `type`, or why it does not fit:
 * integer types take integers in range (numbers must be safe integers; a
 * bigint is fine too); float and double take numbers, float within its range.
 */
export function encodeScalar(type: ScalarType, value: number | bigint): Uint8Array | string {
  const info = SCALARS[type];
  const bytes = new Uint8Array(info.size);
  const data = new DataView(bytes.buffer);
  if (!info.integer) {
    if (typeof value === "bigint") return "a bigint is not a floating-point value";
    if (type === "double") {
      data.setFloat64(0, value, true);
    } else {
      const single = Math.fround(value);
      if (Number.isFinite(value) && !Number.isFinite(single)) return "out of range for float";
      data.setFloat32(0, single, true);
    }
    return bytes;
  }
  if (typeof value === "number" && !Number.isInteger(value)) return "not an integer";
  if (typeof value === "number" && !Number.isSafeInteger(value)) return "not a safe integer (pass a bigint)";
  const big = BigInt(value);
  if (big < (info.min as bigint) || big > (info.max as bigint)) return `out of range ${info.min}..${info.max}`;
  if (info.size === 8) data.setBigUint64(0, BigInt.asUintN(64, big), true);
  else if (info.size === 4) data.setUint32(0, Number(BigInt.asUintN(32, big)), true);
  else if (info.size === 2) data.setUint16(0, Number(BigInt.asUintN(16, big)), true);
  else data.setUint8(0, Number(BigInt.asUintN(8, big)));
  return bytes;
}

/** `Float32Array`, `number 2.5`, `string`, ... for messages. */
function describe(value: unknown): string {
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === "number" || typeof value === "bigint") return `${typeof value} ${String(value)}${typeof value === "bigint" ? "n" : ""}`;
  if (value === null) return "null";
  return typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}
