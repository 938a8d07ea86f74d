// inaccel benchmarks, side by side with hand-written OpenCL host code.
//
//   npm run bench [-- --quick] [-- --json] [-- --cases latency-16,vadd-1Mi] [-- --rounds 7] [-- --out FILE]
//
// Every case runs the raw baseline and the SDK in the same invocation,
// alternating, for several rounds, and reports the medians and the ratio
// sdk / baseline. --json prints one JSON object; without it, a table.
// See docs/performance.md for what each case measures and what bounds it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, ensureBuilt } from "./build.mjs";
import { LineProcess, median, round, runTogether, table } from "./lib.mjs";

const ALL_CASES = [
  "latency-16", "throughput-16-inflight", "vadd-1Mi", "vadd-64Mi", "arbiter-lease", "two-devices", "two-devices-small",
  "four-processes",
];

function parseArgs(argv) {
  const options = { json: false, quick: false, cases: ALL_CASES, rounds: undefined, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--json") options.json = true;
    else if (arg === "--quick") options.quick = true;
    else if (arg === "--cases") options.cases = value().split(",").map((s) => s.trim()).filter(Boolean);
    else if (arg === "--rounds") options.rounds = Number(value());
    else if (arg === "--out") options.out = value();
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write("usage: npm run bench -- [--quick] [--json] [--cases a,b] [--rounds N] [--out FILE]\n" +
        `cases: ${ALL_CASES.join(", ")}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  for (const name of options.cases) if (!ALL_CASES.includes(name)) throw new Error(`unknown case ${name}`);
  if (options.rounds !== undefined && !(Number.isInteger(options.rounds) && options.rounds > 0)) {
    throw new Error("--rounds takes a positive integer");
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
// INACCEL_BENCH_SDK: another build of the package to measure (the path of
// its dist/index.js), e.g. a candidate change against the current one.
const SDK = process.env.INACCEL_BENCH_SDK || "inaccel";
const inaccel = await import(SDK);
const quick = options.quick;
const rounds = options.rounds ?? (quick ? 3 : 7);
const log = options.json ? () => {} : (text) => process.stderr.write(`${text}\n`);

// Work per round. Sized so that --quick ends in well under a minute on a
// 2-core PoCL host, and the full set in a few minutes on a GPU host.
const P = quick
  ? { latIters: 800, tputCount: 4000, inflight: 64, bw1Iters: 8, bw64Iters: 1, leaseIters: 50000,
      scaleN: 65536, scaleInflight: 8, twoCount: 1500, fourCount: 2000, smallCount: 4000, gpuLargeCount: 60 }
  : { latIters: 3000, tputCount: 20000, inflight: 64, bw1Iters: 40, bw64Iters: 4, leaseIters: 300000,
      scaleN: 65536, scaleInflight: 8, twoCount: 6000, fourCount: 8000, smallCount: 30000, gpuLargeCount: 240 };

// A fresh state directory for this run: nothing another process left
// behind (or is doing) weighs on the figures.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "inaccel-bench-"));
process.env.INACCEL_STATE_DIR = path.join(scratch, "state");
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

const KERNEL = path.join(ROOT, "src", "accelerators", "vector", "vadd.cl");
const CHILD = path.join(ROOT, "bench", "child.mjs");

// The one device the single-device cases use: the first GPU, else the
// first device (narrow it with INACCEL_DEVICES).
const devices = inaccel.devices();
const target = devices.find((d) => d.type === "gpu") ?? devices[0];
const submitOptions = devices.length > 1 ? { device: target.id } : {};
const deviceLabel = `${target.name} (${target.platform.name})`;
// The scale-up cases use two GPUs where the selection has them, else two
// PoCL CPU devices made for the purpose.
const gpus = devices.filter((d) => d.type === "gpu");

function vaddRequest(a, b, c) {
  return inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(a.length);
}

function allocVectors(n) {
  const a = inaccel.alloc(Float32Array, n);
  const b = inaccel.alloc(Float32Array, n);
  const c = inaccel.alloc(Float32Array, n);
  for (let i = 0; i < n; i++) {
    a[i] = (i % 1000) * 0.5;
    b[i] = i % 7;
  }
  return { a, b, c };
}

function checkVectors({ a, b, c }) {
  c.fill(-1);
  return () => {
    for (let i = 0; i < a.length; i++) {
      if (c[i] !== a[i] + b[i]) throw new Error(`SDK result wrong at ${i}: ${c[i]} != ${a[i] + b[i]}`);
    }
  };
}

async function sdkSequential(v, iters) {
  const start = performance.now();
  for (let i = 0; i < iters; i++) await inaccel.submit(vaddRequest(v.a, v.b, v.c), submitOptions);
  return (performance.now() - start) * 1000; // µs
}

async function sdkInflight(slots, count) {
  let issued = 0;
  const start = performance.now();
  await Promise.all(slots.map(async (v) => {
    while (issued < count) {
      issued++;
      await inaccel.submit(vaddRequest(v.a, v.b, v.c), submitOptions);
    }
  }));
  return (performance.now() - start) * 1000;
}

/** Runs `rounds` rounds of the measurements, alternating their order. */
async function alternate(measures) {
  const samples = Object.fromEntries(Object.keys(measures).map((k) => [k, []]));
  const keys = Object.keys(measures);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? keys : [...keys].reverse();
    for (const key of order) samples[key].push(await measures[key]());
  }
  return samples;
}

function result(name, unit, better, samples, extra) {
  const sdk = median(samples.sdk);
  const baseline = median(samples.baseline);
  const out = {
    name, unit, sdk: round(sdk), baseline: round(baseline), ratio: round(sdk / baseline),
    better, ...extra,
    samples: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => round(x))])),
  };
  // Other measures of the SDK itself (`variantsIs` names them), then hand-written code.
  const variants = Object.keys(extra?.variantsIs ?? {});
  if (variants.length) out.variants = Object.fromEntries(variants.map((k) => [k, round(median(samples[k]))]));
  const tuned = Object.keys(samples).filter((k) => k !== "sdk" && k !== "baseline" && !variants.includes(k));
  if (tuned.length) out.handTuned = Object.fromEntries(tuned.map((k) => [k, round(median(samples[k]))]));
  return out;
}

/** The raw baseline serving on the first `count` devices that `select` (its flags) picks. */
async function rawOn(select, count, env) {
  const binary = ensureBuilt("vadd_baseline", log);
  const raw = new LineProcess(binary, ["--kernel", KERNEL, ...select, "--devices", String(count), "--serve"], { env });
  raw.info = await raw.next();
  return raw;
}

/** The raw baseline on the single-device cases' device, started once. */
let baseline;
async function rawBaseline() {
  baseline ??= await rawOn(["--platform", target.platform.name, "--device", target.name, "--type", target.type], 1);
  return baseline;
}

const RAW = "raw OpenCL C++ (bench/baseline/vadd.cc): buffers made once; per request blocking write a, " +
  "blocking write b, kernel, blocking read c; pageable malloc memory";
const HAND = "hand-tuned raw OpenCL: ALLOC_HOST_PTR-mapped (pinned) host memory, non-blocking writes, blocking read";
const CHUNKED = "hand-tuned raw OpenCL: pinned host memory, the request cut into chunks (4 at 1Mi, 16 at >= 8Mi) " +
  "over 3 in-order queues so that uploads, kernels and downloads of different chunks overlap";

const cases = {
  async "latency-16"() {
    const raw = await rawBaseline();
    const v = allocVectors(16);
    const verify = checkVectors(v);
    await sdkSequential(v, 200); // warm-up: program build, buffer pool
    verify();
    const samples = await alternate({
      baseline: async () => (await raw.ask(`lat 16 ${P.latIters}`)).value,
      pinned: async () => (await raw.ask(`lat 16 ${P.latIters} pinned`)).value,
      sdk: async () => (await sdkSequential(v, P.latIters)) / P.latIters,
    });
    const r = result("latency-16", "us/request", "lower", samples, {
      baselineIs: RAW, handTunedIs: { pinned: HAND }, params: { n: 16, iters: P.latIters },
      sdkIs: "await inaccel.submit() one at a time, alloc()ed arrays", target: "ratio <= 1.15",
    });
    r.met = r.ratio <= 1.15;
    return r;
  },

  async "throughput-16-inflight"() {
    const raw = await rawBaseline();
    const slots = Array.from({ length: P.inflight }, () => allocVectors(16));
    await sdkInflight(slots, 1000);
    const samples = await alternate({
      baseline: async () => (await raw.ask(`tput 16 ${P.tputCount}`)).value,
      batched: async () => (await raw.ask(`tput 16 ${P.tputCount} batched`)).value,
      sdk: async () => P.tputCount / ((await sdkInflight(slots, P.tputCount)) / 1e6),
    });
    return result("throughput-16-inflight", "requests/s", "higher", samples, {
      baselineIs: `${RAW}; one request at a time (a blocking host loop cannot have more in flight)`,
      sdkIs: `${P.inflight} requests in flight, each on its own alloc()ed arrays`,
      handTunedIs: { batched: "64 requests, each with its own device buffers, enqueued without blocking, one clFinish per 64; pinned host memory" },
      params: { n: 16, count: P.tputCount, inflight: P.inflight },
    });
  },

  async "vadd-1Mi"() {
    return bandwidthCase("vadd-1Mi", 1 << 20, P.bw1Iters);
  },

  async "vadd-64Mi"() {
    const r = await bandwidthCase("vadd-64Mi", 64 << 20, P.bw64Iters);
    if (target.type === "gpu") {
      r.target = "sdk >= 45 GB/s (H100)";
      r.met = r.sdk >= 45;
    }
    return r;
  },

  async "arbiter-lease"() {
    const binary = ensureBuilt("arbiter_lease", log);
    const { execFileSync } = await import("node:child_process");
    const samples = { sdk: [], baseline: [] };
    for (let r = 0; r < rounds; r++) {
      const dir = fs.mkdtempSync(path.join(scratch, "lease-"));
      const out = JSON.parse(execFileSync(binary, [dir, String(P.leaseIters)], { encoding: "utf8" }));
      if (out.error) throw new Error(`arbiter_lease: ${out.error}`);
      samples.sdk.push(out.sdkUs);
      samples.baseline.push(out.rawUs);
    }
    const r = result("arbiter-lease", "us", "lower", samples, {
      baselineIs: "raw kernel floor: one fcntl OFD read-lock + unlock pair on one byte (the two system calls a " +
        "shared run lease is made of)",
      sdkIs: "inaccel::Arbiter::acquire + Lease::release, uncontended, device already configured " +
        "(bench/baseline/arbiter_lease.cc linked with addon/arbiter/*.cc)",
      params: { iters: P.leaseIters }, target: "sdk <= 2 us",
    });
    r.met = r.sdk <= 2;
    return r;
  },

  async "two-devices"() {
    const arg = gpus.length >= 2
      ? { n: 1 << 24, count: P.gpuLargeCount, inflight: 8 }
      : { n: P.scaleN, count: P.twoCount, inflight: P.scaleInflight };
    // The hand-tuned chunked loop moves each device's requests one after another.
    const raw = { line: `bw ${arg.n} ${Math.max(4, Math.round(arg.count / 8))} chunked`, is: RAW_LARGE };
    return gpus.length >= 2 ? twoGpus("two-devices", arg, raw) : twoPocl("two-devices", arg, raw);
  },

  async "two-devices-small"() {
    const arg = { n: 16, count: P.smallCount, inflight: 64 };
    const raw = { line: `tput 16 ${arg.count} batched`, is: RAW_SMALL, pairs: true };
    return gpus.length >= 2 ? twoGpus("two-devices-small", arg, raw) : twoPocl("two-devices-small", arg, raw);
  },

  async "four-processes"() {
    const dir = fs.mkdtempSync(path.join(scratch, "four-"));
    const selector = gpus.length >= 2 ? ids(gpus)
      : devices.length > 1 ? String(target.id) : process.env.INACCEL_DEVICES ?? "";
    const env = (tag) => ({ ...process.env, INACCEL_DEVICES: selector, INACCEL_STATE_DIR: path.join(dir, tag) });
    const arg = { n: P.scaleN, inflight: P.scaleInflight };
    const samples = await alternate({
      baseline: async () => (await runTogether([CHILD], [{ env: env("one"), arg: { ...arg, count: P.fourCount } }])).rate,
      sdk: async () => (await runTogether([CHILD], Array.from({ length: 4 }, () => ({
        env: env("four"), arg: { ...arg, count: P.fourCount / 4 },
      })))).rate,
    });
    const r = result("four-processes", "requests/s", "higher", samples, {
      baselineIs: "the SDK in one process doing all the requests",
      sdkIs: "4 processes sharing the device(s) through the arbiter, each doing a quarter (aggregate rate)",
      params: { ...arg, count: P.fourCount, devices: selector }, target: "ratio >= 0.95",
    });
    r.met = r.ratio >= 0.95;
    return r;
  },
};

function ids(list) {
  return list.map((d) => d.id).join(",");
}

const TWO_TARGET = { "two-devices": 1.9, "two-devices-small": 1.8 };

const RAW_SMALL = "hand-tuned raw OpenCL in one process, one host thread per device, each running the " +
  "throughput-16-inflight `batched` loop (64 requests enqueued without blocking, one clFinish per 64, pinned memory)";
const RAW_LARGE = "hand-tuned raw OpenCL in one process, one host thread per device, each running the vadd " +
  "`chunked` variant on requests of the same size (pinned memory, 4 or 16 chunks over 3 in-order queues), in GB/s";

/**
 * One process of the SDK on two devices (environment `two`) against the
 * same on one (`one`), alternated. Records the devices each side saw, the
 * two-device split, how busy each side's JS thread was (`jsBusy`), and per
 * device how busy it was (`deviceBusy`) and its mean batch (`batch`).
 * Hand-written OpenCL on one and on two devices runs in the same rounds
 * (`raw`: {select: the baseline's device flags, line: its case, is}):
 * `rawScaling` is how far code with no SDK in between scales in one
 * process. With `raw.pairs`, the same requests also come from two
 * processes, and from two worker threads of one process, on either side
 * (`variants`): `processScaling` is two processes on two devices against
 * the better of one and two processes on one device, `threadScaling` the
 * same for threads. Always, the same requests also come from two processes
 * each on a device of its own (`apart`: their two environments), which
 * share nothing but the host: `apartScaling`, against one process on one
 * device, is how far the host and driver scale the SDK's own work.
 */
async function twoVersusOne(name, arg, one, two, extra, raw, apart) {
  const seen = { jsBusy: { one: [], two: [] }, deviceBusy: { one: [], two: [] }, batch: { one: [], two: [] } };
  const measure = (side, env) => async () => {
    const run = await runTogether([CHILD], [{ env, arg }]);
    seen[side] = run.ready[0].devices;
    if (side === "two") seen.split = run.reports[0].perDevice;
    seen.jsBusy[side].push(round(run.reports[0].jsBusy, 3));
    seen.deviceBusy[side].push(run.reports[0].deviceBusy);
    seen.batch[side].push(run.reports[0].batch);
    return run.rate;
  };
  // Two processes, in `envs`, half the requests each.
  const halves = (envs) => runTogether([CHILD], envs.map((env) => ({ env, arg: { ...arg, count: arg.count / 2 } })));
  const pair = (side, env) => async () => {
    const sibling = { ...env, INACCEL_STATE_DIR: `${env.INACCEL_STATE_DIR}-pair` };
    const run = await halves([sibling, sibling]);
    if (side === "two") seen.pairSplit = run.reports.map((report) => report.perDevice);
    return run.rate;
  };
  const threads = (side, env) => async () => {
    const own = { ...env, INACCEL_STATE_DIR: `${env.INACCEL_STATE_DIR}-threads` };
    const run = await runTogether([CHILD], [{ env: own, arg: { ...arg, threads: 2 } }]);
    if (side === "two") seen.threadSplit = run.reports[0].perThread;
    return run.rate;
  };
  const apartRun = async () => {
    const run = await halves(apart);
    seen.apartSplit = run.reports.map((report) => report.perDevice);
    return run.rate;
  };
  const rawSides = [await rawOn(raw.select, 1, one), await rawOn(raw.select, 2, two)];
  const measures = {
    baseline: measure("one", one),
    sdk: measure("two", two),
    apart: apartRun,
    rawOne: async () => (await rawSides[0].ask(raw.line)).value,
    rawTwo: async () => (await rawSides[1].ask(raw.line)).value,
  };
  const variantsIs = {
    apart: "the same requests from two processes (half each), each on a device of its own",
  };
  try {
    if (raw.pairs) {
      measures.processesOne = pair("one", one);
      measures.processesTwo = pair("two", two);
      measures.threadsOne = threads("one", one);
      measures.threadsTwo = threads("two", two);
      Object.assign(variantsIs, {
        processesOne: "the same requests from two processes (half each) on the one device",
        processesTwo: "the same requests from two processes (half each) on the two devices",
        threadsOne: "the same requests from two worker threads of one process (half each) on the one device",
        threadsTwo: "the same requests from two worker threads of one process (half each) on the two devices",
      });
    }
    extra = { ...extra, variantsIs };
    const r = result(name, "requests/s", "higher", await alternate(measures), { devices: seen, ...extra });
    r.handTunedIs = { rawOne: `${raw.is}, on one device`, rawTwo: `${raw.is}, on two devices` };
    r.rawScaling = round(r.handTuned.rawTwo / r.handTuned.rawOne);
    r.apartScaling = round(r.variants.apart / r.baseline);
    if (raw.pairs) {
      r.processScaling = round(r.variants.processesTwo / Math.max(r.baseline, r.variants.processesOne));
      r.threadScaling = round(r.variants.threadsTwo / Math.max(r.baseline, r.variants.threadsOne));
    }
    return r;
  } finally {
    for (const side of rawSides) side.close();
  }
}

/** The SDK on the host's first two GPUs against the same on the first. */
async function twoGpus(name, arg, raw) {
  const dir = fs.mkdtempSync(path.join(scratch, `${name}-`));
  const [first, second, both] = [ids(gpus.slice(0, 1)), ids(gpus.slice(1, 2)), ids(gpus.slice(0, 2))];
  const env = (selector, tag) => ({ ...process.env, INACCEL_DEVICES: selector, INACCEL_STATE_DIR: path.join(dir, tag) });
  const r = await twoVersusOne(name, arg, env(first, "one"), env(both, "two"), {
    baselineIs: `the SDK in one process on one GPU (INACCEL_DEVICES=${first})`,
    sdkIs: `the SDK in one process on two GPUs (INACCEL_DEVICES=${both}), requests spread by the engine`,
    params: arg, target: `ratio >= ${TWO_TARGET[name]}`,
  }, { ...raw, select: ["--platform", gpus[0].platform.name, "--type", "gpu"] },
  [env(first, "apart-1"), env(second, "apart-2")]);
  r.met = r.ratio >= TWO_TARGET[name];
  return r;
}

/**
 * Two PoCL CPU devices against one, with the same POCL_MAX_PTHREAD_COUNT
 * (half the host's cores) either way, so that the two runs differ by the
 * device count and not by how many threads PoCL may start.
 */
async function twoPocl(name, arg, raw) {
  const cores = os.availableParallelism();
  const perDevice = Math.max(1, Math.floor(cores / 2));
  const dir = fs.mkdtempSync(path.join(scratch, `${name}-`));
  const envFor = (pocl, tag = pocl.replace(/ /g, "-")) => ({
    ...process.env, POCL_DEVICES: pocl, POCL_MAX_PTHREAD_COUNT: String(perDevice),
    INACCEL_DEVICES: "cpu",
    INACCEL_STATE_DIR: path.join(dir, tag), INACCEL_PINNED: "0",
  });
  let pocl = "pthread";
  const probe = await runTogether([CHILD], [{ env: envFor(`${pocl} ${pocl}`), arg: { ...arg, count: 64 } }])
    .catch(() => undefined);
  if (!probe || probe.ready[0].devices.length !== 2) pocl = "cpu"; // PoCL >= 4 calls it "cpu"
  const r = await twoVersusOne(name, arg, envFor(pocl), envFor(`${pocl} ${pocl}`), {
    baselineIs: `the SDK on one device (POCL_DEVICES=${pocl})`,
    sdkIs: `the SDK on two devices (POCL_DEVICES="${pocl} ${pocl}"), requests spread by the engine`,
    params: { ...arg, pthreadsPerDevice: perDevice, hostCores: cores },
    target: `ratio >= ${TWO_TARGET[name]} where the host has the cores`,
  }, { ...raw, select: ["--type", "cpu"] }, [envFor(pocl, "apart-1"), envFor(pocl, "apart-2")]);
  r.met = cores >= 4 ? r.ratio >= TWO_TARGET[name] : null;
  return r;
}

async function bandwidthCase(name, n, iters) {
  const raw = await rawBaseline();
  const v = allocVectors(n);
  const verify = checkVectors(v);
  await sdkSequential(v, 1);
  verify();
  const gbps = (us, count) => (3 * 4 * n * count) / (us * 1e3);
  const measures = {
    baseline: async () => (await raw.ask(`bw ${n} ${iters}`)).value,
    pinned: async () => (await raw.ask(`bw ${n} ${iters} pinned`)).value,
    chunked: async () => (await raw.ask(`bw ${n} ${iters} chunked`)).value,
    sdk: async () => gbps(await sdkSequential(v, iters), iters),
  };
  // --quick on a CPU device: the hand-tuned variants of the big case cost
  // more time than they tell there (the device's memory is the host's).
  if (quick && n > (8 << 20) && target.type !== "gpu") {
    delete measures.pinned;
    delete measures.chunked;
  }
  const samples = await alternate(measures);
  for (const a of [v.a, v.b, v.c]) inaccel.release(a);
  return result(name, "GB/s", "higher", samples, {
    baselineIs: RAW, handTunedIs: { pinned: HAND, chunked: CHUNKED }, params: { n, iters },
    sdkIs: "await inaccel.submit() one at a time, alloc()ed arrays; GB/s counts the 3 arrays",
  });
}

async function main() {
  const started = performance.now();
  const out = {
    device: deviceLabel,
    date: new Date().toISOString(),
    host: { cpus: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? "", node: process.version, os: `${os.type()} ${os.release()}` },
    devices: devices.map((d) => `${d.id}: ${d.name} (${d.platform.name}, ${d.type})`),
    quick,
    rounds,
    cases: [],
  };
  for (const name of options.cases) {
    log(`${name} ...`);
    const t = performance.now();
    const r = await cases[name]();
    r.seconds = round((performance.now() - t) / 1000, 3);
    out.cases.push(r);
    log(`  sdk ${r.sdk} ${r.unit}, baseline ${r.baseline}, ratio ${r.ratio}`);
  }
  if (baseline) {
    out.baseline = baseline.info;
    baseline.close();
  }
  out.seconds = round((performance.now() - started) / 1000, 3);
  const text = JSON.stringify(out, null, 2);
  if (options.out) fs.writeFileSync(options.out, text + "\n");
  process.stdout.write(options.json ? `${text}\n` : `${table(out)}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
  baseline?.kill();
  process.exit(1);
});
