// From an xclbin's own metadata to a bitstream.json (docs/bitstream-format.md).
import { parseType } from "../repository/scalars";
import type { XclbinArgument, XclbinInfo, XclbinKernel } from "./inspect";

/** One argument of a generated bitstream.json. */
export interface BitstreamArgument {
  name: string;
  type: string;
  access?: "r" | "rw";
  memory?: number;
}

/** One kernel of a generated bitstream.json. */
export interface BitstreamKernel {
  name: string;
  kernelId: string;
  arguments: BitstreamArgument[];
}

/** A generated bitstream.json. */
export interface BitstreamJson {
  bitstreamId: string;
  version: string;
  name: string;
  description: string;
  platform: { vendor: string; name: string };
  kernels: BitstreamKernel[];
  files: Array<{ path: string; sha256: string }>;
}

/** Choices the xclbin cannot make for the user. */
export interface ImportOptions {
  /** Package name; default: the file name without `.xclbin`. */
  bitstreamId?: string;
  /** Default "1.0.0". */
  version?: string;
  /** Accelerator id (after `bitstreamId.`) per kernel name; default: the kernel name. */
  kernelIds?: Record<string, string>;
}

/** A kernel left out of the bitstream.json, and why. */
export interface SkippedKernel {
  kernel: string;
  reason: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** A bitstreamId made of `text`: other characters than [A-Za-z0-9._-] become "_". */
export function defaultBitstreamId(text: string): string {
  const id = text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[^A-Za-z0-9]+/, "").slice(0, 128);
  return id === "" ? "xclbin" : id;
}

/**
 * Our type of an XRT argument: "float*", "uint", ... Pointers to types
 * other than OpenCL scalars (ap_uint<512>*, structs) become byte buffers
 * ("uchar*"); a scalar of such a type, or an AXI stream, cannot be passed
 * from the host: undefined with the reason.
 */
export function argumentType(arg: XclbinArgument): { type: string } | { reason: string } {
  if (arg.addressQualifier === 1) {
    const parsed = parseType(arg.type);
    return { type: parsed?.pointer ? `${parsed.element}*` : "uchar*" };
  }
  if (arg.addressQualifier === 0) {
    const parsed = parseType(arg.type);
    if (parsed && !parsed.pointer) return { type: parsed.element };
    return { reason: `argument ${arg.name} has type "${arg.type}", which the host cannot pass` };
  }
  return { reason: `argument ${arg.name} is an AXI stream (addressQualifier ${arg.addressQualifier})` };
}

function convertKernel(kernel: XclbinKernel, kernelId: string): BitstreamKernel | SkippedKernel {
  if (!IDENTIFIER.test(kernel.name)) return { kernel: kernel.name, reason: "its name is not a C identifier" };
  if (kernel.computeUnits.length === 0) return { kernel: kernel.name, reason: "no compute unit in IP_LAYOUT" };
  const args: BitstreamArgument[] = [];
  for (const arg of kernel.arguments) {
    if (!IDENTIFIER.test(arg.name)) return { kernel: kernel.name, reason: `argument name "${arg.name}" is not a C identifier` };
    const typed = argumentType(arg);
    if ("reason" in typed) return { kernel: kernel.name, reason: typed.reason };
    if (typed.type.endsWith("*")) {
      // The xclbin does not say which way data flows: only `const` tells.
      const access = /^\s*const\b/.test(arg.type) ? "r" : "rw";
      args.push({ name: arg.name, type: typed.type, access, ...(arg.bank !== undefined && { memory: arg.bank }) });
    } else {
      args.push({ name: arg.name, type: typed.type });
    }
  }
  return { name: kernel.name, kernelId, arguments: args };
}

/**
 * The bitstream.json describing `info`, whose program file is `program`
 * with digest `sha256`. Kernels the host cannot drive are left out and
 * listed in `skipped`.
 */
export function toBitstreamJson(
  info: XclbinInfo,
  program: { path: string; sha256: string },
  options: ImportOptions = {},
): { json: BitstreamJson; skipped: SkippedKernel[] } {
  const kernels: BitstreamKernel[] = [];
  const skipped: SkippedKernel[] = [];
  for (const kernel of info.kernels) {
    const result = convertKernel(kernel, options.kernelIds?.[kernel.name] ?? kernel.name);
    if ("reason" in result) skipped.push(result);
    else kernels.push(result);
  }
  const json: BitstreamJson = {
    bitstreamId: options.bitstreamId ?? defaultBitstreamId(program.path.replace(/\.xclbin$/i, "")),
    version: options.version ?? "1.0.0",
    name: program.path,
    description: `Imported from ${program.path} (xclbin ${info.header.uuid}, built by tools ${info.header.version})`,
    // The card's shell must match the platform the xclbin was linked for.
    platform: { vendor: "xilinx", name: info.header.platformVbnv },
    kernels,
    files: [{ path: program.path, sha256: program.sha256 }],
  };
  return { json, skipped };
}
