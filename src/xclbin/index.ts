// xclbin import: read an xclbin's own metadata and write the bitstream.json
// for it, so that `inaccel bitstream install kernel.xclbin` needs nothing else.
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { InaccelError } from "../errors";
import { type BitstreamJson, type ImportOptions, type SkippedKernel, toBitstreamJson } from "./bitstream";
import { parseXclbin } from "./inspect";

export { argumentType, defaultBitstreamId, toBitstreamJson } from "./bitstream";
export type { BitstreamArgument, BitstreamJson, BitstreamKernel, ImportOptions, SkippedKernel } from "./bitstream";
export type { SectionHeader, XclbinHeader } from "./container";
export { parseXclbin } from "./inspect";
export type { XclbinArgument, XclbinInfo, XclbinKernel } from "./inspect";
export type { XmlArgument } from "./metadata";
export type { Memory } from "./topology";

/** Largest xclbin read (real ones are tens to hundreds of MiB). */
const MAX_XCLBIN_BYTES = 2 ** 31 - 1;

/** The result of {@link xclbinToBitstream}. */
export interface XclbinBitstream {
  /** The bitstream.json to write next to the xclbin. */
  json: BitstreamJson;
  /** Files of the bitstream folder: file name -> content. */
  files: Map<string, Buffer>;
  /** Kernels left out because the host cannot drive them, with why. */
  skipped: SkippedKernel[];
}

async function readXclbin(file: string): Promise<Buffer> {
  const stat = await fs.stat(file).catch((error: Error) => {
    throw new InaccelError("NOT_FOUND", `${file}: ${error.message}`, { cause: error });
  });
  if (!stat.isFile()) throw new InaccelError("BITSTREAM_INVALID", `${file}: not a file`);
  if (stat.size > MAX_XCLBIN_BYTES) throw new InaccelError("BITSTREAM_INVALID", `${file}: larger than 2 GiB`);
  return fs.readFile(file);
}

/**
 * Reads `file` (an .xclbin) and builds the bitstream.json that describes it
 * from the xclbin's own metadata: platform (its VBNV), kernels, their
 * arguments typed ("float*", "uint", ...), each buffer's memory bank from
 * the connectivity. Throws BITSTREAM_INVALID for a corrupt xclbin or one
 * with no kernel the host can drive, NOT_FOUND when it cannot be read.
 */
export async function xclbinToBitstream(file: string, options: ImportOptions = {}): Promise<XclbinBitstream> {
  const image = await readXclbin(file);
  const info = parseXclbin(image, file);
  if (info.header.platformVbnv === "") throw new InaccelError("BITSTREAM_INVALID", `${file}: the xclbin names no platform`);
  const base = path.basename(file);
  const program = base === "bitstream.json" ? `${base}.xclbin` : base; // the metadata's own name
  const sha256 = createHash("sha256").update(image).digest("hex");
  const { json, skipped } = toBitstreamJson(info, { path: program, sha256 }, options);
  if (json.kernels.length === 0) {
    const why = skipped.map((s) => `${s.kernel}: ${s.reason}`).join("; ");
    throw new InaccelError("BITSTREAM_INVALID", `${file}: no kernel the host can run${why ? ` (${why})` : ""}`);
  }
  return { json, files: new Map([[program, image]]), skipped };
}

/** The .xclbin `source` names: itself, or the only one in the folder it names. */
async function findXclbin(source: string): Promise<string> {
  const stat = await fs.stat(source).catch((error: Error) => {
    throw new InaccelError("NOT_FOUND", `${source}: ${error.message}`, { cause: error });
  });
  if (!stat.isDirectory()) return source;
  const found = (await fs.readdir(source)).filter((name) => name.toLowerCase().endsWith(".xclbin"));
  if (found.length !== 1) {
    throw new InaccelError("BITSTREAM_INVALID", `${source}: holds ${found.length} .xclbin files, expected one`);
  }
  return path.join(source, found[0]);
}

/**
 * Imports an xclbin for installation: `source` is an .xclbin file or a
 * folder holding exactly one. Writes a new temporary folder holding the
 * xclbin and its generated bitstream.json, and returns it; the caller
 * installs that folder and then removes it.
 */
export async function importXclbin(source: string, options: ImportOptions = {}): Promise<{ folder: string }> {
  const { json, files } = await xclbinToBitstream(await findXclbin(source), options);
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), "inaccel-xclbin-"));
  try {
    for (const [name, content] of files) await fs.writeFile(path.join(folder, name), content);
    await fs.writeFile(path.join(folder, "bitstream.json"), `${JSON.stringify(json, null, 2)}\n`);
  } catch (error) {
    await fs.rm(folder, { recursive: true, force: true });
    throw error;
  }
  return { folder };
}
