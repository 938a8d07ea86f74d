// Float arrays for the request tests: made from a function of the index,
// and checked element by element with the first mismatch named.
import { expect } from "chai";

export function filled(n: number, value: (i: number) => number): Float32Array {
  const array = new Float32Array(n);
  for (let i = 0; i < n; i++) array[i] = value(i);
  return array;
}

export function expectEach(array: Float32Array, want: (i: number) => number, what: string): void {
  for (let i = 0; i < array.length; i++) {
    if (array[i] !== want(i)) expect.fail(`${what}: [${i}] = ${array[i]}, want ${want(i)}`);
  }
}
