// Writes the generated xclbins the native XRT test loads: `tsx xrt_make_xclbin.ts DIR`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kind, vaddSpec, writeXclbin } from "../helpers/xclbin-writer";

const dir = process.argv[2];
if (!dir) throw new Error("usage: xrt_make_xclbin.ts DIR");
writeFileSync(join(dir, "vadd.xclbin"), writeXclbin(vaddSpec()));
// Well-formed containers whose kernel metadata is not.
writeFileSync(join(dir, "badxml.xclbin"), writeXclbin({ ...vaddSpec(), xml: "<project><platform>" }));
writeFileSync(join(dir, "unused.xclbin"), writeXclbin({ ...vaddSpec(), mems: [{ tag: "DDR[0]", used: false }, { tag: "DDR[1]" }] }));
writeFileSync(join(dir, "noxml.xclbin"), writeXclbin({ ...vaddSpec(), omit: [Kind.EMBEDDED_METADATA] }));
