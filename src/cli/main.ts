#!/usr/bin/env node
import path from "node:path";
import { Command } from "commander";
import { InaccelError } from "../errors";
import { register as registerBitstream } from "./bitstream";
import { register as registerDevices } from "./devices";
import { register as registerTop } from "./top";
import { register as registerMetrics } from "./metrics";
import { register as registerDashboard } from "./dashboard";
import { register as registerRun } from "./run";
import { register as registerBench } from "./bench";

// dist/cli/ and src/cli/ are both two levels below the package root.
const { version } = require(path.join(__dirname, "..", "..", "package.json")) as { version: string };

const program = new Command("inaccel")
  .description("Accelerators as a function call: devices, bitstreams, monitoring, smoke tests and benchmarks")
  .version(version, "-V, --version", "print the package's version")
  .showHelpAfterError();

registerBitstream(program);
registerDevices(program);
registerTop(program);
registerMetrics(program);
registerDashboard(program);
registerRun(program);
registerBench(program);

// Output piped into a reader that stops early (`| head`): stop quietly,
// with the status of a process that SIGPIPE ended, as C tools do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(128 + 13);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof InaccelError) {
    process.stderr.write(`inaccel: ${error.message}\n`);
    // ABORTED is an install that Ctrl-C stopped, once it has cleaned up: end
    // by that SIGINT (its handler is gone), so that a calling shell script
    // stops too, as it does when Ctrl-C ends any other program. Where the
    // signal cannot end the process (PID 1 of a container ignores a signal
    // it does not handle), with its status: exiting 0 would say it worked.
    if (error.code === "ABORTED") {
      process.kill(process.pid, "SIGINT");
      process.exit(128 + 2);
    }
    process.exit(1);
  }
  throw error;
});
