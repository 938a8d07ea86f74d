import { InvalidArgumentError, Option } from "commander";

/** Options the insight commands share. */
export interface InsightOptions {
  stateDir?: string;
}

/** `--state-dir <dir>`: the arbiter state directory to read. */
export function stateDirOption(): Option {
  return new Option("--state-dir <dir>", "arbiter state directory (default: $INACCEL_STATE_DIR, else the host config's stateDir, else /dev/shm/inaccel)");
}

/** `--port <n>` on 127.0.0.1; 0 picks a free one. */
export function portOption(defaultPort: number): Option {
  return new Option("--port <n>", "TCP port on 127.0.0.1 (0: any free port)")
    .default(defaultPort)
    .argParser((text) => integer(text, 0, 65535, "a port"));
}

/** `--interval <ms>` between two snapshots. */
export function intervalOption(): Option {
  return new Option("--interval <ms>", "milliseconds between two snapshots")
    .default(1000)
    .argParser((text) => integer(text, 50, 3600000, "an interval"));
}

function integer(text: string, min: number, max: number, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new InvalidArgumentError(`${what} is an integer from ${min} to ${max}`);
  }
  return value;
}

/** Resolves on the first SIGINT or SIGTERM (then the default handling is restored). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", done).off("SIGTERM", done);
      resolve(signal);
    };
    process.on("SIGINT", done).on("SIGTERM", done);
  });
}

/** Writes one line to stdout. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
