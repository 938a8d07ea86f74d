/**
 * Starts `count` requests at once (`make` starts request j and gives its
 * promise as `done`), then awaits each in order and hands it to `check`
 * with what it settled to.
 */
export async function allInFlight<T extends { done: Promise<unknown> }>(
  count: number,
  make: (j: number) => T,
  check: (job: T, j: number, settled: Awaited<T["done"]>) => void,
): Promise<void> {
  const jobs = Array.from({ length: count }, (_, j) => make(j));
  for (let j = 0; j < jobs.length; j++) {
    check(jobs[j]!, j, (await jobs[j]!.done) as Awaited<T["done"]>);
  }
}
