// What `inaccel run` and `inaccel bench` share: option parsers, and the trials of a built-in.
import { InvalidArgumentError } from "commander";
import { InaccelError } from "../errors";
import { TRIALS, type TrialMaker } from "../reference";

/**
 * A commander argument parser of integers from `min` (to `max`), in
 * decimal digits only: Number() alone would take " 80" and "0x10".
 */
export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => (text: string): number => {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer from ${min} to ${max}`);
  }
  return value;
};

/** A commander argument parser of a duration in seconds, above 0 and at most an hour, in decimal. */
export const seconds = (text: string): number => {
  const value = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || !(value > 0 && value <= 3600)) {
    throw new InvalidArgumentError("expected seconds above 0, at most 3600");
  }
  return value;
};

/** The trials of a built-in accelerator, for `inaccel <command>`; UNKNOWN_ACCELERATOR when it has no reference. */
export function trialMaker(command: string, accelerator: string): TrialMaker {
  const maker = TRIALS[accelerator];
  if (!maker) {
    throw new InaccelError("UNKNOWN_ACCELERATOR", `inaccel ${command} has no reference for "${accelerator}"; it runs ${Object.keys(TRIALS).join(", ")}`);
  }
  return maker;
}
