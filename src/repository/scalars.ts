/** An OpenCL C scalar type: the element of a buffer or the type of a scalar argument. */
export type ScalarType =
  | "char" | "uchar" | "short" | "ushort" | "int" | "uint"
  | "long" | "ulong" | "float" | "double";

/** Layout and range of one {@link ScalarType}. */
export interface ScalarInfo {
  /** Size in bytes, as OpenCL lays it out on every device. */
  size: number;
  /** True for the integer types. */
  integer: boolean;
  /** Inclusive range of the integer types. */
  min?: bigint;
  max?: bigint;
}

const int = (bits: number, signed: boolean): ScalarInfo => ({
  size: bits / 8,
  integer: true,
  min: signed ? -(1n << BigInt(bits - 1)) : 0n,
  max: signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n,
});

/** Every scalar type, with its layout. */
export const SCALARS: Readonly<Record<ScalarType, ScalarInfo>> = {
  char: int(8, true), uchar: int(8, false),
  short: int(16, true), ushort: int(16, false),
  int: int(32, true), uint: int(32, false),
  long: int(64, true), ulong: int(64, false),
  float: { size: 4, integer: false },
  double: { size: 8, integer: false },
};

/** C spellings accepted in metadata besides the OpenCL names. */
const ALIASES: Readonly<Record<string, ScalarType>> = {
  "signed char": "char", "unsigned char": "uchar", "unsigned short": "ushort",
  "unsigned int": "uint", unsigned: "uint", "unsigned long": "ulong",
  int8_t: "char", uint8_t: "uchar", int16_t: "short", uint16_t: "ushort",
  int32_t: "int", uint32_t: "uint", int64_t: "long", uint64_t: "ulong",
};

/** A metadata argument type, parsed. */
export interface ParsedType {
  pointer: boolean;
  element: ScalarType;
}

/**
 * Parses a metadata type such as `float*`, `const int *`, `uint` or
 * `unsigned int`; undefined when it is not one this library can pass.
 */
export function parseType(type: string): ParsedType | undefined {
  const match = /^\s*(?:const\s+)?([a-z0-9_ ]+?)\s*(\*)?\s*$/.exec(type);
  if (!match) return undefined;
  const name = match[1].replace(/\s+/g, " ");
  const element = name in SCALARS ? (name as ScalarType) : ALIASES[name];
  return element ? { pointer: match[2] === "*", element } : undefined;
}

/** Which typed arrays hold each element type, by their `Symbol.toStringTag` (a Buffer's is "Uint8Array"). */
const VIEWS: Readonly<Record<string, ScalarType>> = {
  Float32Array: "float", Float64Array: "double",
  Int8Array: "char", Uint8Array: "uchar", Uint8ClampedArray: "uchar",
  Int16Array: "short", Uint16Array: "ushort",
  Int32Array: "int", Uint32Array: "uint",
  BigInt64Array: "long", BigUint64Array: "ulong",
};

// The typed arrays' own toStringTag getter: it answers for subclasses too,
// and a property an object sets on itself cannot fool it.
const tagOf = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;

/** The element type a typed array holds; undefined for a DataView. */
export function elementOf(view: ArrayBufferView): ScalarType | undefined {
  const tag = tagOf.call(view) as string | undefined;
  return tag === undefined ? undefined : VIEWS[tag];
}
