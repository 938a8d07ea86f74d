/**
 * Child process of the concurrency tests: waits until the given wall-clock
 * time (so siblings start together), installs a source into a repository
 * and prints the result as JSON.
 * Usage: node -r tsx/cjs test/repository-child.ts <root> <source> <startAtMs>
 */
import { Repository } from "../src/repository";

async function main(): Promise<void> {
  const [root, source, startAt] = process.argv.slice(2);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const result = await new Repository({ root, system: [] }).install(source);
  process.stdout.write(`${JSON.stringify({ installed: result.installed, key: result.key })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
