// Helpers of the bench driver: medians, the persistent baseline process,
// child processes started together, and the table.
import { spawn } from "node:child_process";
import * as readline from "node:readline";

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value, digits = 4) {
  if (!Number.isFinite(value)) return null;
  const scale = 10 ** Math.max(0, digits - Math.floor(Math.log10(Math.abs(value) || 1)) - 1);
  return Math.round(value * scale) / scale;
}

/** A process that answers one JSON line per line it is sent. */
export class LineProcess {
  constructor(command, args, options = {}) {
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
    this.stderr = "";
    this.child.stderr.on("data", (chunk) => {
      this.stderr += chunk;
    });
    this.waiting = [];
    this.lines = [];
    this.exited = null;
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(line);
      else this.lines.push(line);
    });
    this.child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const waiter of this.waiting.splice(0)) {
        waiter.reject(new Error(`${command} exited (${signal ?? code}): ${this.stderr.trim()}`));
      }
    });
  }

  /** The next JSON line; rejects when it holds {"error"} or the process ends. */
  next() {
    const parse = (line) => {
      const value = JSON.parse(line);
      if (value.error) throw new Error(`${value.error}${this.stderr ? `\n${this.stderr.trim()}` : ""}`);
      return value;
    };
    if (this.lines.length) return Promise.resolve(this.lines.shift()).then(parse);
    if (this.exited) {
      return Promise.reject(new Error(`process exited (${this.exited.signal ?? this.exited.code}): ${this.stderr.trim()}`));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject })).then(parse);
  }

  ask(line) {
    this.child.stdin.write(line + "\n");
    return this.next();
  }

  send(line) {
    this.child.stdin.write(line + "\n");
  }

  close() {
    if (!this.exited) this.child.stdin.end();
  }

  kill() {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

/**
 * Reports of runs timed together, as one: from the first start to the last
 * end ({"startNs","endNs"} as bench/child.mjs gives them), all requests.
 */
export function together(reports) {
  const start = reports.reduce((m, r) => (BigInt(r.startNs) < m ? BigInt(r.startNs) : m), BigInt(reports[0].startNs));
  const end = reports.reduce((m, r) => (BigInt(r.endNs) > m ? BigInt(r.endNs) : m), BigInt(reports[0].endNs));
  const count = reports.reduce((sum, r) => sum + r.count, 0);
  return { startNs: String(start), endNs: String(end), count };
}

/**
 * Starts `configs.length` child processes, waits until each is warm, lets
 * them all go at once and returns their reports plus the aggregate rate
 * (requests over the span from the first start to the last end).
 */
export async function runTogether(nodeArgs, configs) {
  const children = configs.map(({ env, arg }) =>
    new LineProcess(process.execPath, [...nodeArgs, JSON.stringify(arg)], { env }));
  try {
    const ready = await Promise.all(children.map((c) => c.next()));
    for (const child of children) child.send("go");
    const reports = await Promise.all(children.map((c) => c.next()));
    const { startNs, endNs, count } = together(reports);
    return { ready, reports, rate: count / (Number(BigInt(endNs) - BigInt(startNs)) / 1e9) };
  } finally {
    for (const child of children) child.close();
    await Promise.all(children.map((c) =>
      c.exited ? undefined : new Promise((resolve) => {
        const timer = setTimeout(() => {
          c.kill();
          resolve();
        }, 10000);
        c.child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      })));
  }
}

/** A plain text table of the results. */
export function table(result) {
  const rows = [["case", "unit", "sdk", "baseline", "ratio", "better", "target", "hand-tuned"]];
  for (const c of result.cases) {
    rows.push([
      c.name, c.unit, fmt(c.sdk), fmt(c.baseline), c.ratio == null ? "-" : c.ratio.toFixed(3),
      c.better, c.target ? `${c.target}${c.met == null ? "" : c.met ? " ok" : " MISSED"}` : "",
      c.handTuned == null ? "" : Object.entries(c.handTuned).map(([k, v]) => `${k} ${fmt(v)}`).join(", "),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((cell, i) => (i < 2 || i === 7 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("  ").trimEnd();
  const out = [`device: ${result.device}   (${result.quick ? "quick" : "full"}, ${result.rounds} rounds, medians; ratio = sdk / baseline)`];
  out.push(line(rows[0]), rows[0].map((_, i) => "-".repeat(widths[i])).join("  "));
  for (const r of rows.slice(1)) out.push(line(r));
  for (const c of result.cases) out.push(`  ${c.name}: baseline = ${c.baselineIs}`);
  // The scale-up cases: how far other ways of using the same devices scale.
  const scalings = ["apartScaling", "processScaling", "threadScaling", "rawScaling"];
  for (const c of result.cases) {
    const known = scalings.filter((k) => c[k] != null).map((k) => `${k} ${c[k].toFixed(3)}`);
    if (known.length) out.push(`  ${c.name}: ${known.join(", ")}`);
  }
  return out.join("\n");
}

function fmt(value) {
  if (value == null || !Number.isFinite(value)) return "-";
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return value.toFixed(2);
}
