// Builds the raw baselines (bench/baseline/*.cc) and the OpenCL probes
// (bench/probes/*.cc) into build/bench/ with g++
// on first use, and again whenever their sources change (a content stamp,
// not mtimes: a copied tree keeps what it built).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "build", "bench");

const FLAGS = ["-std=c++17", "-O2", "-Wall", "-Wextra"];

/** The programs, each with its sources, include folders and libraries (tried in order). */
function targets() {
  const arbiterDir = path.join(ROOT, "addon", "arbiter");
  const arbiterSources = fs.existsSync(arbiterDir)
    ? fs.readdirSync(arbiterDir).filter((f) => f.endsWith(".cc")).sort().map((f) => path.join(arbiterDir, f))
    : [];
  const arbiterHeaders = fs.existsSync(arbiterDir)
    ? fs.readdirSync(arbiterDir).filter((f) => f.endsWith(".h")).sort().map((f) => path.join(arbiterDir, f))
    : [];
  const clCheck = path.join(ROOT, "bench", "cl_check.h");
  const probe = (file) => ({
    sources: [path.join(ROOT, "bench", "probes", file)],
    headers: [clCheck, path.join(ROOT, "bench", "probes", "together.h")],
    includes: ["-I" + path.join(ROOT, "bench")],
    libraries: [["-lOpenCL", "-pthread"], ["-l:libOpenCL.so.1", "-pthread"]],
  });
  return {
    vadd_baseline: {
      sources: [path.join(ROOT, "bench", "baseline", "vadd.cc")],
      headers: [clCheck],
      includes: ["-I" + path.join(ROOT, "bench")],
      // -lOpenCL needs the dev symlink; a host with only the runtime library has libOpenCL.so.1.
      libraries: [["-lOpenCL", "-pthread"], ["-l:libOpenCL.so.1", "-pthread"]],
    },
    launch_rate: probe("launch_rate.cc"),
    copy_rate: probe("copy_rate.cc"),
    arbiter_lease: {
      sources: [path.join(ROOT, "bench", "baseline", "arbiter_lease.cc"), ...arbiterSources],
      headers: [...arbiterHeaders, path.join(ROOT, "addon", "common", "error.h"), path.join(ROOT, "addon", "common", "fnv1a.h")],
      includes: ["-I" + path.join(ROOT, "addon")],
      libraries: [["-lpthread"]],
    },
  };
}

function stampOf(target) {
  const hash = createHash("sha256");
  hash.update(FLAGS.join(" "));
  for (const file of [...target.sources, ...target.headers]) {
    hash.update(path.relative(ROOT, file));
    hash.update(fs.readFileSync(file));
  }
  return hash.digest("hex");
}

/**
 * Returns the path of a built baseline program, compiling it if it is
 * missing or its sources changed. Throws with the compiler's output when
 * it cannot be built.
 */
export function ensureBuilt(name, log = () => {}) {
  const target = targets()[name];
  if (!target) throw new Error(`no baseline program ${name}`);
  const binary = path.join(OUT, name);
  const stampFile = `${binary}.stamp`;
  const stamp = stampOf(target);
  if (fs.existsSync(binary) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp) {
    return binary;
  }
  fs.mkdirSync(OUT, { recursive: true });
  let lastError;
  for (const libs of target.libraries) {
    const args = [...FLAGS, ...target.includes, "-o", binary, ...target.sources, ...libs];
    try {
      log(`building ${path.relative(ROOT, binary)}: g++ ${args.map((a) => path.relative(ROOT, a) || a).join(" ")}`);
      execFileSync(process.env.CXX || "g++", args, { stdio: ["ignore", "pipe", "pipe"] });
      fs.writeFileSync(stampFile, stamp);
      return binary;
    } catch (error) {
      lastError = error;
    }
  }
  const output = lastError?.stderr?.toString() ?? String(lastError);
  throw new Error(`cannot build the ${name} baseline with g++ (needs g++, opencl-headers and ` +
    `ocl-icd-opencl-dev, see README.md):\n${output}`);
}
