import * as readline from "node:readline";
import type { Command } from "commander";
import { intervalOption, print, stateDirOption, type InsightOptions } from "../insight/cli";
import { deviceLabel, percent, perSecond, pids, table } from "../insight/format";
import type { Stats } from "../insight/model";
import { nextSample, type Sample } from "../insight/rates";
import { hostDevices, readStats } from "../stats";

interface TopOptions extends InsightOptions {
  interval: number;
  once?: boolean;
  json?: boolean;
}

/**
 * Adds `inaccel top`: a live view of the state file, per device and per
 * kernel (ok / failed, requests/s, busy %, reconfigurations, waiting
 * processes), redrawn every interval until q or Ctrl-C. `--json` prints one
 * JSON sample per line instead; `--once` prints one sample (rates over one
 * interval) and exits.
 */
export function register(program: Command): void {
  program
    .command("top")
    .description("live per-device and per-kernel counters read from the arbiter's state file (q or Ctrl-C quits)")
    .addOption(stateDirOption())
    .addOption(intervalOption())
    .option("--once", "print one sample (rates over one interval) and exit")
    .option("--json", "print samples as JSON, one per line")
    .action(async (options: TopOptions) => {
      const { devices } = hostDevices();
      const read = (): Stats => readStats({ stateDir: options.stateDir, devices });
      if (options.once) {
        const first = nextSample(undefined, read());
        await sleep(options.interval);
        const sample = nextSample(first, read());
        print(options.json ? JSON.stringify(sample) : render(sample));
        return;
      }
      await live(read, options.interval, options.json ?? false);
    });
}

// Samples every `interval` ms until q, Ctrl-C, SIGINT or SIGTERM; a failed
// read is reported and the next one tried.
async function live(read: () => Stats, interval: number, json: boolean): Promise<void> {
  const screen = !json && process.stdout.isTTY;
  const show = (sample: Sample): void => {
    if (json) print(JSON.stringify(sample));
    else if (screen) process.stdout.write(`\x1b[H\x1b[2J${render(sample)}\n`);
    else print(render(sample));
  };
  let sample: Sample | undefined;
  const tick = (): void => {
    try {
      sample = nextSample(sample, read());
      show(sample);
    } catch (error) {
      process.stderr.write(`inaccel: ${(error as Error).message}\n`);
    }
  };
  if (screen) process.stdout.write("\x1b[?1049h\x1b[?25l");
  tick();
  const timer = setInterval(tick, interval);
  const keys = process.stdin.isTTY;
  await new Promise<void>((quit) => {
    process.once("SIGINT", () => quit()).once("SIGTERM", () => quit());
    if (!keys) return;
    readline.emitKeypressEvents(process.stdin);
    process.stdin.setRawMode(true);
    process.stdin.on("keypress", (_text: string, key: readline.Key) => {
      if (key.name === "q" || (key.ctrl && key.name === "c")) quit();
    });
  });
  clearInterval(timer);
  if (keys) {
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  if (screen) process.stdout.write("\x1b[?25h\x1b[?1049l");
}

/** The text view of one sample: a device table and a kernel table. */
function render({ stats, rates }: Sample): string {
  const devices = table(["device", "bitstream", "mode", "lessee", "users", "queue", "waiting", "reconfig", "req/s", "busy"]);
  const kernels = table(["device", "accelerator", "ok", "failed", "req/s", "busy"]);
  for (const d of stats.devices) {
    const r = rates?.devices.find((x) => x.key === d.key);
    devices.push([
      deviceLabel(d), d.bitstream ?? "-", d.mode, d.lessee ?? "-", pids(d.users), d.queueDepth, d.waiting,
      d.reconfigurations, perSecond(r?.requestsPerSecond), percent(r?.busy),
    ]);
    for (const k of d.kernels) {
      const kr = r?.kernels.find((x) => x.accelerator === k.accelerator);
      kernels.push([deviceLabel(d), k.accelerator, k.ok, k.failed, perSecond(kr?.requestsPerSecond), percent(kr?.busy)]);
    }
  }
  const when = new Date(stats.time).toLocaleTimeString();
  const head = `inaccel top — ${stats.stateDir} — ${stats.processes.length} live processes — ${when}`;
  return `${head}\n${devices.toString()}\n${kernels.toString()}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
