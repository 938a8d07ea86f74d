// An xclbin's own description of itself: header, memory banks, kernels,
// their compute units and arguments, and the bank each argument is wired to.
import { parseContainer, type XclbinHeader } from "./container";
import { parseMetadata, type XmlArgument } from "./metadata";
import { type Memory, parseTopology, STREAMING_TYPES } from "./topology";

/** A kernel argument with its memory connections. */
export interface XclbinArgument extends XmlArgument {
  /** Banks any compute unit wires this argument to (sorted; empty for scalars). */
  memories: number[];
  /**
   * The bank XRT allocates this argument's buffers in (xrt::kernel::group_id):
   * the highest non-streaming bank of the first compute unit.
   */
  bank?: number;
}

/** A kernel and its compute units. */
export interface XclbinKernel {
  name: string;
  /** Compute unit names ("vadd_1"), in IP_LAYOUT order. */
  computeUnits: string[];
  arguments: XclbinArgument[];
}

/** Everything the import reads from an xclbin. */
export interface XclbinInfo {
  header: XclbinHeader;
  memories: Memory[];
  kernels: XclbinKernel[];
}

const COMPUTE_UNIT_TYPES = new Set([1, 7]); // IP_KERNEL, IP_PS_KERNEL

/**
 * Parses an xclbin image; `what` names it in errors. Throws InaccelError
 * BITSTREAM_INVALID, and nothing else, for any malformed input.
 */
export function parseXclbin(image: Buffer, what = "xclbin"): XclbinInfo {
  const container = parseContainer(image, what);
  const topology = parseTopology(container, what);
  const bankable = (index: number) => !STREAMING_TYPES.has(topology.memories[index].type);
  const kernels = parseMetadata(container, what).map((kernel): XclbinKernel => {
    // Like XRT: a compute unit of kernel "k" is an IP named "k:<cu>".
    const cus = topology.ips.filter((ip) => COMPUTE_UNIT_TYPES.has(ip.type) && ip.name.startsWith(`${kernel.name}:`));
    const wired = (arg: number, ips: ReadonlyArray<{ index: number }>) => [
      ...new Set(topology.connections.filter((c) => c.arg === arg && ips.some((ip) => ip.index === c.ip)).map((c) => c.memory)),
    ].sort((a, b) => a - b);
    return {
      name: kernel.name,
      computeUnits: cus.map((ip) => ip.name.slice(kernel.name.length + 1)),
      arguments: kernel.arguments.map((arg) => {
        const first = cus.length > 0 ? wired(arg.index, cus.slice(0, 1)).filter(bankable) : [];
        return { ...arg, memories: wired(arg.index, cus), bank: first.length > 0 ? first[first.length - 1] : undefined };
      }),
    };
  });
  return { header: container.header, memories: topology.memories, kernels };
}
