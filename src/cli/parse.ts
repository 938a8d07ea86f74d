import { InvalidArgumentError } from "commander";

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
