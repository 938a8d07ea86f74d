/** A timed run: its value, the first run's time and the warm run's time. */
export interface Timed<T> {
  value: T;
  firstMs: number;
  ms: number;
}

/**
 * Runs `run` twice and times the second run: the first builds the device's
 * program (or loads it from the cache) and touches the buffers, or compiles
 * the JavaScript loop.
 */
export async function warm<T>(run: () => T | Promise<T>): Promise<Timed<T>> {
  let start = performance.now();
  await run();
  const firstMs = performance.now() - start;
  start = performance.now();
  const value = await run();
  return { value, firstMs, ms: performance.now() - start };
}

/** The examples' parseable summary: `TIME <id> device=<ms> js=<ms> speedup=<x> first=<ms>`. */
export function timeLine(accelerator: string, deviceMs: number, jsMs: number, firstMs: number): string {
  return `TIME ${accelerator} device=${deviceMs.toFixed(2)} js=${jsMs.toFixed(2)} ` +
    `speedup=${(jsMs / deviceMs).toFixed(2)} first=${firstMs.toFixed(2)}`;
}
