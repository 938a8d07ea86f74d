import { InaccelError } from "../errors";
import { parseExpression } from "./expression";
import { parseType, SCALARS } from "./scalars";
import { schemaProblems } from "./schema";
import type { ArgumentSpec, TargetPlatform } from "./types";

/** Name of the metadata file of every bitstream folder. */
export const METADATA_FILE = "bitstream.json";

/** bitstream.json as the schema admits it. */
export interface BitstreamJson {
  $schema?: string;
  bitstreamId: string;
  version: string;
  name?: string;
  description?: string;
  platform?: TargetPlatform;
  buildOptions?: string;
  kernels: KernelJson[];
  files?: FileJson[];
}

/** One kernel of bitstream.json. */
export interface KernelJson {
  name: string | [string];
  kernelId: string;
  version?: string;
  description?: string;
  workSize?: string;
  elementwise?: boolean;
  arguments: ArgumentJson[];
}

/** One argument of a kernel of bitstream.json. */
export interface ArgumentJson {
  name?: string;
  type: string;
  access?: "r" | "w" | "rw";
  memory?: number | string | Array<number | string>;
  length?: string;
}

/** One file entry of bitstream.json. */
export interface FileJson {
  path: string;
  sha256: string;
}

/** A kernel, checked and normalised. */
export interface KernelInfo {
  accelerator: string;
  kernel: string;
  version?: string;
  arguments: ArgumentSpec[];
  workSize?: string;
  /** Declared element-wise (see ResolvedKernel.elementwise). */
  elementwise?: true;
}

/** A bitstream.json, checked and normalised. */
export interface Metadata {
  /** The validated document, as read. */
  json: BitstreamJson;
  /** Kernels in document order (an accelerator id may repeat; the first is used). */
  kernels: KernelInfo[];
}

const invalid = (source: string, problem: string): InaccelError =>
  new InaccelError("BITSTREAM_INVALID", `${source}: ${problem}`);

/**
 * Parses and checks the text of a bitstream.json: JSON syntax, the schema
 * (unknown fields are refused) and what the schema cannot say (argument
 * types, unique names, length expressions). Throws BITSTREAM_INVALID naming
 * `source` and the field.
 */
export function parseMetadata(text: string, source: string): Metadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `malformed JSON: ${(error as Error).message}`);
  }
  const problems = schemaProblems(value);
  if (problems.length) throw invalid(source, problems.join("; "));
  const json = value as BitstreamJson;
  const kernels = json.kernels.map((kernel, index) =>
    checkKernel(json.bitstreamId, kernel, `kernels[${index}]`, source));
  return { json, kernels };
}

function checkKernel(bitstreamId: string, kernel: KernelJson, field: string, source: string): KernelInfo {
  const args = kernel.arguments.map((arg, index) => checkArgument(arg, index, `${field}.arguments[${index}]`, source));
  const integers = new Set(args.filter((arg) => !arg.pointer && SCALARS[arg.element].integer).map((arg) => arg.name));
  const seen = new Set<string>();
  args.forEach((arg, index) => {
    if (seen.has(arg.name)) throw invalid(source, `${field}.arguments[${index}].name: "${arg.name}" is used twice`);
    seen.add(arg.name);
  });
  // A length or the work size: an expression over the kernel's integer scalars.
  const checkExpression = (text: string, at: string): void => {
    let names: readonly string[];
    try {
      names = parseExpression(text).names;
    } catch (error) {
      throw invalid(source, `${at}: ${(error as Error).message}`);
    }
    const unknown = names.find((name) => !integers.has(name));
    if (unknown) throw invalid(source, `${at}: "${unknown}" is not an integer scalar argument`);
  };
  args.forEach((arg, index) => {
    if (arg.length === undefined) return;
    const at = `${field}.arguments[${index}].length`;
    if (!arg.pointer) throw invalid(source, `${at}: only buffer arguments have a length`);
    checkExpression(arg.length, at);
  });
  const workSize = kernel.workSize?.trim();
  if (workSize !== undefined) checkExpression(workSize, `${field}.workSize`);
  if (kernel.elementwise) {
    // A chunk of the work must be a chunk of every buffer, and the chunked
    // run sets the work-size argument to each chunk's end.
    if (workSize === undefined) throw invalid(source, `${field}.elementwise: needs a workSize`);
    if (!integers.has(workSize)) {
      throw invalid(source, `${field}.workSize: an elementwise kernel's work size is one integer scalar argument, not "${workSize}"`);
    }
    args.forEach((arg, index) => {
      if (arg.pointer && arg.length?.replace(/\s/g, "") !== workSize) {
        throw invalid(source, `${field}.arguments[${index}].length: an elementwise kernel's buffers hold workSize ("${workSize}") elements`);
      }
    });
  }
  return {
    accelerator: `${bitstreamId}.${kernel.kernelId}`,
    kernel: Array.isArray(kernel.name) ? kernel.name[0] : kernel.name,
    ...(kernel.version !== undefined && { version: kernel.version }),
    arguments: args,
    ...(workSize !== undefined && { workSize }),
    ...(kernel.elementwise === true && { elementwise: true as const }),
  };
}

function checkArgument(arg: ArgumentJson, index: number, field: string, source: string): ArgumentSpec {
  const parsed = parseType(arg.type);
  if (!parsed) {
    throw invalid(source, `${field}.type: "${arg.type}" is not a supported type (a scalar such as int or float, or a pointer to one such as float*)`);
  }
  const spec: ArgumentSpec = {
    name: arg.name ?? `arg${index}`,
    type: arg.type.trim(),
    pointer: parsed.pointer,
    element: parsed.element,
    // InAccel's default for buffers is rw; scalars are only ever read.
    access: parsed.pointer ? arg.access ?? "rw" : "r",
  };
  if (parsed.pointer && arg.memory !== undefined) {
    spec.memory = Number(Array.isArray(arg.memory) ? arg.memory[0] : arg.memory);
  }
  if (arg.length !== undefined) spec.length = arg.length;
  return spec;
}
