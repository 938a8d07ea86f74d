import type { Command } from "commander";
import { InaccelError } from "../errors";
import { table } from "../insight/format";
import { seededRandom, type Trial } from "../reference";
import { lease, type DeviceLease } from "../lease";
import { devices } from "../runtime";
import { stats } from "../stats";
import { submit, type SubmitOptions } from "../submit";
import { integer, seconds, trialMaker } from "./parse";

/** Options of {@link benchAccelerator}. */
export interface BenchOptions {
  /** Problem size; default: the accelerator's own (as `inaccel run`). */
  size?: number;
  /** Measure this device only (an id of `inaccel devices`); default: each device, then all together. */
  device?: number;
  /** Seconds of each phase (latency, throughput) per row; default 1. */
  seconds?: number;
  /** Requests in flight per device in the throughput phase; default 8. */
  inflight?: number;
  /** Seed of the random data; default 1. */
  seed?: number;
  /**
   * Check outputs against the JavaScript reference (default true): after
   * each row, the last output of one request per device. The reference runs
   * in JavaScript, which takes a while for large sizes (a 4096³ gemm: a minute).
   */
  check?: boolean;
}

/** One row of {@link benchAccelerator}'s report: one device, or all of them together. */
export interface BenchRow {
  /** `0: <device name>`, or `all` for every device together. */
  label: string;
  /** The devices that ran the row's requests. */
  devices: number[];
  /** Requests finished in the throughput phase, and per second. */
  requests: number;
  perSecond: number;
  /** Bytes of the buffer arguments per second, in GB/s (10^9 B): what the requests hand over. */
  gigabytesPerSecond: number;
  /** Milliseconds from submit to result, one request at a time; undefined for the `all` row. */
  latencyMs?: { median: number; p99: number };
  /** The device's own mean time per request (`SubmitResult.runMs`). */
  deviceMs: number;
  /** Whether outputs were checked against the JavaScript reference (see {@link BenchOptions.check}). */
  checked: boolean;
  /** False when a checked output differs from the reference; `check` says how they compared. */
  ok: boolean;
  check: string;
}

/** What {@link benchAccelerator} measured. */
export interface BenchReport {
  accelerator: string;
  shape: string;
  bytesPerRequest: number;
  inflight: number;
  seconds: number;
  rows: BenchRow[];
}

/**
 * Measures a built-in accelerator on random data: for each device in use
 * (or the one asked for), the latency of one request at a time and the
 * rate with `inflight` requests in flight; then, with several devices,
 * the rate of all of them together (`inflight` per device, placed by the
 * library). After each row, one output per device is checked against the
 * JavaScript reference (unless `check` is false).
 * An `exclusive` device is leased for the run (DEVICE_BUSY when another
 * process holds it). UNKNOWN_ACCELERATOR for an id with no reference,
 * NO_DEVICE for a device not in use; submit's errors as they come.
 */
export async function benchAccelerator(accelerator: string, options: BenchOptions = {}): Promise<BenchReport> {
  const maker = trialMaker("bench", accelerator);
  const inUse = devices();
  if (options.device !== undefined && !inUse.some((d) => d.id === options.device)) {
    throw new InaccelError("NO_DEVICE", `device ${options.device} is not in use here (devices in use: ${inUse.map((d) => d.id).join(", ") || "none"})`);
  }
  const measured = inUse.filter((d) => options.device === undefined || d.id === options.device);
  const inflight = options.inflight ?? 8;
  const phase = options.seconds ?? 1;
  const size = options.size ?? maker.defaultSize;
  const seed = options.seed ?? 1;
  const together = measured.length > 1 ? measured.length : 1;
  // Each request in flight has arrays of its own, so that its output can be checked.
  const trials = Array.from({ length: inflight * together }, (_, k) => maker.make(size, seededRandom(seed + k)));
  const first = trials[0]!;
  const bytesPerRequest = first.request.args.reduce<number>((sum, arg) => sum + (ArrayBuffer.isView(arg) ? arg.byteLength : 0), 0);
  const report = (label: string, ids: number[], run: Run, latencyMs?: BenchRow["latencyMs"]): BenchRow => {
    const elapsedS = run.elapsedMs / 1000;
    return {
      label, devices: ids, requests: run.requests, perSecond: run.requests / elapsedS,
      gigabytesPerSecond: (run.requests * bytesPerRequest) / elapsedS / 1e9, latencyMs,
      deviceMs: run.deviceMs / run.requests,
      ...(options.check === false ? { checked: false, ok: true, check: "not checked" } : checked(run.lastOn)),
    };
  };
  const rows: BenchRow[] = [];
  // An exclusive device runs only under a lease: one for the run, taken
  // without waiting (DEVICE_BUSY while another process holds it).
  const exclusive = new Set(stats().devices.filter((d) => d.mode === "exclusive").map((d) => d.key));
  const leases: DeviceLease[] = [];
  try {
    for (const device of measured) {
      if (exclusive.has(device.key)) leases.push(await lease(device, { wait: false }));
    }
    for (const device of measured) {
      const on = { device: device.id };
      const used = trials.slice(0, inflight);
      await Promise.all(used.map((trial) => submit(trial.request, on)));  // configures the device
      const latencyMs = await latency(first, on, phase);
      rows.push(report(`${device.id}: ${device.name}`, [device.id], await rate(used, on, phase), latencyMs));
    }
    if (together > 1) {
      rows.push(report("all", measured.map((d) => d.id), await rate(trials, {}, phase)));
    }
  } finally {
    for (const taken of leases) taken.release();
  }
  return { accelerator, shape: first.shape, bytesPerRequest, inflight, seconds: phase, rows };
}

/** What a throughput phase counted. */
interface Run {
  requests: number;
  elapsedMs: number;
  deviceMs: number;
  /** By device id, a trial whose last request ran there. */
  lastOn: Map<number, Trial>;
}

async function latency(trial: Trial, options: SubmitOptions, phase: number): Promise<BenchRow["latencyMs"]> {
  const times: number[] = [];
  const end = performance.now() + phase * 1000;
  do {
    const start = performance.now();
    await submit(trial.request, options);
    times.push(performance.now() - start);
  } while (performance.now() < end);
  times.sort((x, y) => x - y);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { median: at(0.5), p99: at(0.99) };
}

async function rate(trials: Trial[], options: SubmitOptions, phase: number): Promise<Run> {
  let requests = 0;
  let deviceMs = 0;
  const lastOn = new Map<number, Trial>();
  const start = performance.now();
  const end = start + phase * 1000;
  await Promise.all(trials.map(async (trial) => {
    let device: number;
    do {
      const result = await submit(trial.request, options);
      deviceMs += result.runMs;
      device = result.device.id;
      requests++;
    } while (performance.now() < end);
    lastOn.set(device, trial);
  }));
  return { requests, elapsedMs: performance.now() - start, deviceMs, lastOn };
}

// One output per device: every request of a device runs the same kernel.
function checked(lastOn: ReadonlyMap<number, Trial>): Pick<BenchRow, "checked" | "ok" | "check"> {
  const ids = [...lastOn.keys()].sort((x, y) => x - y);
  for (const id of ids) {
    const comparison = lastOn.get(id)!.check();
    if (!comparison.ok) return { checked: true, ok: false, check: `device ${id}: ${comparison.summary}` };
  }
  return { checked: true, ok: true, check: `device ${ids.join(", ")}: output matches the reference` };
}

// Three significant digits below 100 ms (tiny requests take microseconds).
function milliseconds(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3);
}

function render(report: BenchReport): string {
  const out = table(["device", "requests/s", "GB/s", "latency median ms", "p99 ms", "on device ms", "check"]);
  for (const row of report.rows) {
    out.push([
      row.label,
      row.perSecond.toFixed(1),
      row.gigabytesPerSecond.toFixed(3),
      row.latencyMs ? milliseconds(row.latencyMs.median) : "-",
      row.latencyMs ? milliseconds(row.latencyMs.p99) : "-",
      milliseconds(row.deviceMs),
      !row.checked ? "-" : row.ok ? "PASS" : `FAIL: ${row.check}`,
    ]);
  }
  const all = report.rows.find((row) => row.label === "all");
  const best = Math.max(...report.rows.filter((row) => row !== all).map((row) => row.perSecond));
  const scaling = all ? `; all together: ${(all.perSecond / best).toFixed(2)} × the fastest one` : "";
  return `${report.accelerator} ${report.shape} (${report.bytesPerRequest} bytes of arguments), ` +
    `${report.inflight} in flight per device, ${report.seconds} s per phase${scaling}\n${out.toString()}`;
}

/** Adds `inaccel bench [accelerator] [--size N] [--device ID] [--seconds S] [--inflight K] [--json]`. */
export function register(program: Command): void {
  program
    .command("bench")
    .argument("[accelerator]", "a built-in accelerator (as `inaccel run`)", "vector.addition")
    .description("measure a built-in accelerator on each device and on all together: requests/s, GB/s, latency; outputs checked")
    .option("--size <n>", "problem size (as `inaccel run`)", integer(1))
    .option("--device <id>", "measure this device only (an id of `inaccel devices`)", integer(0))
    .option("--seconds <s>", "seconds of each phase per device (default 1)", seconds)
    // Each request in flight has arrays of its own: bounded, so as not to exhaust the host's memory.
    .option("--inflight <n>", "requests in flight per device, 1 to 1024 (default 8)", integer(1, 1024))
    .option("--seed <n>", "seed of the random data (default 1)", integer(0))
    .option("--no-check", "skip checking outputs against the JavaScript reference (slow for large sizes)")
    .option("--json", "print the report as JSON")
    .action(async (accelerator: string, options: BenchOptions & { json?: boolean }) => {
      const report = await benchAccelerator(accelerator, options);
      process.stdout.write(`${options.json ? JSON.stringify(report, null, 2) : render(report)}\n`);
      if (report.rows.some((row) => !row.ok)) process.exitCode = 1;
    });
}
