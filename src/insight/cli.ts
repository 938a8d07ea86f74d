import * as path from "node:path";
import { InvalidArgumentError, Option } from "commander";
import { integer } from "../cli/parse";

/** Options the insight commands share. */
export interface InsightOptions {
  stateDir?: string;
}

/** `--state-dir <dir>`: the arbiter state directory to read. */
export function stateDirOption(): Option {
  return new Option("--state-dir <dir>", "arbiter state directory (default: $INACCEL_STATE_DIR, else the host config's stateDir, else /dev/shm/inaccel)")
    .argParser((text) => {
      if (text === "") throw new InvalidArgumentError("expected a directory");
      return path.resolve(text);
    });
}

/** `--port <n>` on 127.0.0.1; 0 picks a free one. */
export function portOption(defaultPort: number): Option {
  return new Option("--port <n>", "TCP port on 127.0.0.1 (0: any free port)")
    .default(defaultPort)
    .argParser(integer(0, 65535));
}

/** `--interval <ms>` between two snapshots. */
export function intervalOption(): Option {
  return new Option("--interval <ms>", "milliseconds between two snapshots")
    .default(1000)
    .argParser(integer(50, 3600000));
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
