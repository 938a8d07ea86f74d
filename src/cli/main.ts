#!/usr/bin/env node
import { Command } from "commander";
import { InaccelError } from "../errors";
import { register as registerBitstream } from "./bitstream";

const program = new Command("inaccel")
  .description("Accelerators as a function call: devices, bitstreams, monitoring")
  .showHelpAfterError();

registerBitstream(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof InaccelError) {
    process.stderr.write(`inaccel: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
});
