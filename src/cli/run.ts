import type { Command } from "commander";
import { seededRandom, TRIALS } from "../reference";
import { submit } from "../submit";
import { integer, trialMaker } from "./parse";

/** Options of {@link runTrial}. */
export interface RunOptions {
  /** Problem size; default: the accelerator's own (see `inaccel run --help`). */
  size?: number;
  /** Device id to run on; default: whichever the library picks. */
  device?: number;
  /** Seed of the random data; default: drawn at random. */
  seed?: number;
}

/** What one `inaccel run` found. */
export interface RunOutcome {
  ok: boolean;
  /** `PASS|FAIL <accelerator> <shape> on <device>: <times>; <comparison>; seed <seed>`. */
  line: string;
}

/**
 * Runs a built-in accelerator once on random data and checks the output
 * against its JavaScript reference: a smoke test of a device and its
 * bitstream. UNKNOWN_ACCELERATOR for an id with no reference; submit's
 * errors as they come.
 */
export async function runTrial(accelerator: string, options: RunOptions = {}): Promise<RunOutcome> {
  const maker = trialMaker("run", accelerator);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const trial = maker.make(options.size ?? maker.defaultSize, seededRandom(seed));
  const start = performance.now();
  const result = await submit(trial.request, options.device === undefined ? {} : { device: options.device });
  const ms = performance.now() - start;
  const comparison = trial.check();
  const { device } = result;
  const line = `${comparison.ok ? "PASS" : "FAIL"} ${accelerator} ${trial.shape} on device ${device.id} ` +
    `(${device.name}, ${device.platform.name}): ${ms.toFixed(2)} ms, ${result.runMs.toFixed(2)} ms on the device` +
    `${result.reconfigured ? " (configured for it)" : ""}; ${comparison.summary}; seed ${seed}`;
  return { ok: comparison.ok, line };
}

/** Adds `inaccel run <accelerator> [--size N] [--device ID] [--seed S]` to the CLI. */
export function register(program: Command): void {
  const sizes = Object.entries(TRIALS).map(([id, maker]) => `  ${id}: ${maker.size} (default ${maker.defaultSize})`);
  program
    .command("run")
    .argument("<accelerator>", "a built-in accelerator")
    .description("run a built-in accelerator on random data and check it against its JavaScript reference")
    .option("--size <n>", "problem size (below)", integer(1))
    .option("--device <id>", "run on this device (an id of `inaccel devices`)", integer(0))
    .option("--seed <n>", "seed of the random data, to repeat a run", integer(0))
    .addHelpText("after", `\nAccelerators and what --size sets:\n${sizes.join("\n")}`)
    .action(async (accelerator: string, options: RunOptions) => {
      const outcome = await runTrial(accelerator, options);
      process.stdout.write(`${outcome.line}\n`);
      if (!outcome.ok) process.exitCode = 1;
    });
}
