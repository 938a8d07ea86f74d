// Kernel metadata from the EMBEDDED_METADATA XML, read the way XRT reads
// it (xclbin_parser.cpp): kernels under project/platform/device/core, their
// <arg> elements by id, multi-component args (same id) merged into one.
import { type Container, invalid, section, SectionKind } from "./container";
import { child, parseXml, XmlError, type XmlElement } from "./xml";

/** One kernel argument as v++ describes it. */
export interface XmlArgument {
  name: string;
  /** Position in the kernel's argument list. */
  index: number;
  /** 0 scalar, 1 global memory pointer, 4 AXI stream (OpenCL address qualifier numbering). */
  addressQualifier: number;
  /** C type as written by v++, e.g. "float*", "unsigned int", "ap_uint<512>*". */
  type: string;
  port: string;
  /** Register offset and size in the kernel's control block. */
  offset: number;
  size: number;
}

/** One kernel of the metadata. */
export interface XmlKernel {
  name: string;
  arguments: XmlArgument[];
}

function numeric(value: string | undefined, field: string, what: string): number {
  // XRT converts with stoul(value, 0): decimal, 0x hex or 0 octal; empty is 0.
  const text = (value ?? "").trim();
  if (text === "") return 0;
  const n = /^0[xX][0-9a-fA-F]{1,8}$/.test(text) ? parseInt(text, 16)
    : /^0[0-7]{0,10}$/.test(text) ? parseInt(text, 8)
    : /^[1-9][0-9]{0,9}$/.test(text) ? parseInt(text, 10) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(what, `${field} "${text}" is not a number`);
  return n;
}

function required(element: XmlElement, key: string, where: string, what: string): string {
  const value = element.attributes[key];
  if (value === undefined) throw invalid(what, `${where} has no ${key}`);
  return value;
}

function kernelOf(xml: XmlElement, what: string): XmlKernel {
  const name = required(xml, "name", "a <kernel>", what);
  const args: XmlArgument[] = [];
  for (const arg of xml.children.filter((c) => c.name === "arg")) {
    const where = `argument of kernel ${name}`;
    const id = required(arg, "id", where, what);
    if (id.trim() === "") continue; // OpenCL run-time info args: not kernel arguments
    args.push({
      name: required(arg, "name", where, what),
      index: numeric(id, `${where} id`, what),
      addressQualifier: numeric(required(arg, "addressQualifier", where, what), `${where} addressQualifier`, what),
      type: arg.attributes.type ?? "no-type",
      port: arg.attributes.port ?? "no-port",
      offset: numeric(required(arg, "offset", where, what), `${where} offset`, what),
      size: numeric(required(arg, "size", where, what), `${where} size`, what),
    });
  }
  args.sort((a, b) => a.index - b.index); // stable: components keep their order
  const merged = args.filter((arg, i) => i === 0 || args[i - 1].index !== arg.index);
  merged.forEach((arg, i) => {
    if (arg.index !== i) throw invalid(what, `kernel ${name} has no argument ${i} (ids must be 0..n-1)`);
  });
  return { name, arguments: merged };
}

/**
 * Reads the EMBEDDED_METADATA section of `container`; BITSTREAM_INVALID
 * when it is missing or malformed.
 */
export function parseMetadata(container: Container, what: string): XmlKernel[] {
  const region = section(container, SectionKind.EMBEDDED_METADATA, what);
  if (!region) throw invalid(what, "no EMBEDDED_METADATA section (the kernels' metadata)");
  const bytes = region.bytes(0, region.size, "EMBEDDED_METADATA");
  const end = bytes.indexOf(0); // some tools NUL-terminate the XML
  let root: XmlElement;
  try {
    root = parseXml(bytes.toString("utf8", 0, end < 0 ? bytes.length : end));
  } catch (error) {
    if (error instanceof XmlError) throw invalid(what, `EMBEDDED_METADATA: ${error.message}`);
    throw error;
  }
  if (root.name !== "project") throw invalid(what, `EMBEDDED_METADATA root is <${root.name}>, not <project>`);
  const platform = child(root, "platform");
  const device = platform && child(platform, "device");
  const core = device && child(device, "core");
  if (!core) throw invalid(what, "EMBEDDED_METADATA has no project/platform/device/core");
  return core.children.filter((c) => c.name === "kernel").map((k) => kernelOf(k, what));
}
