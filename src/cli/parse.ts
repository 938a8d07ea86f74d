// What `inaccel run` and `inaccel bench` share: option parsers, and the trials of a built-in.
import { InvalidArgumentError } from "commander";
import { InaccelError } from "../errors";
import { TRIALS, type TrialMaker } from "../reference";

/** A commander argument parser of integers from `min` up. */
export const integer = (min: number) => (text: string): number => {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`expected an integer >= ${min}`);
  }
  return value;
};

/** A commander argument parser of a duration in seconds, above 0 and at most an hour. */
export const seconds = (text: string): number => {
  const value = Number(text);
  if (text.trim() === "" || !(value > 0 && value <= 3600)) {
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
