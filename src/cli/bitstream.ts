import Table from "cli-table3";
import type { Command } from "commander";
import { Repository, type BitstreamSummary, type DownloadProgress, type InstallResult } from "../repository";
import { platformLabel } from "../repository/platform";

/** Options every `bitstream` subcommand inherits. */
interface GroupOptions {
  repository?: string;
}

const repositoryOf = (command: Command): Repository =>
  new Repository({ root: command.optsWithGlobals<GroupOptions>().repository });

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * Adds `inaccel bitstream install|list|remove|verify` to the CLI.
 * Failures are thrown as InaccelError, which the CLI's main prints.
 */
export function register(program: Command): void {
  const group = program
    .command("bitstream")
    .description("install, list, remove and verify the bitstreams accelerators run from")
    .option("--repository <folder>", "writable repository (default: $INACCEL_REPOSITORY, else ~/.inaccel/repository)");

  group
    .command("install")
    .argument("<source>", "bitstream folder, .tar/.tar.gz/.tgz file, or http(s) URL of one")
    .description("install a bitstream, checking its metadata and checksums (same content again is a no-op)")
    .action(async (source: string, _options: unknown, command: Command) => {
      const bar = /^https?:\/\//i.test(source) && process.stderr.isTTY ? downloadBar() : undefined;
      // Ctrl-C aborts the install, so that it cleans up its staging folder
      // (Node's default SIGINT exit would leave it, up to the whole download).
      const interrupt = new AbortController();
      const onSigint = (): void => interrupt.abort(new Error("interrupted (SIGINT)"));
      process.once("SIGINT", onSigint);
      let result: InstallResult;
      try {
        result = await repositoryOf(command).install(source, { onProgress: bar?.update, signal: interrupt.signal });
      } finally {
        process.off("SIGINT", onSigint);
        bar?.stop();
      }
      const name = `${result.id}@${result.version}`;
      print(result.installed
        ? `installed ${name} (${result.accelerators.join(", ")}) in ${result.path}`
        : `${name} is installed already with the same content (${result.key})`);
    });

  group
    .command("list")
    .description("list the bitstreams of every repository, in the order resolution prefers them (folders that cannot be read: on stderr)")
    .option("--json", "print JSON instead of a table")
    .action((options: { json?: boolean }, command: Command) => {
      const repository = repositoryOf(command);
      const list = repository.list();
      if (options.json) print(JSON.stringify(list, null, 2));
      else print(table(list));
      const unreadable = repository.unreadable();
      if (unreadable.length) {
        const folders = unreadable.length === 1 ? "1 folder" : `${unreadable.length} folders`;
        process.stderr.write(`inaccel: left out ${folders} whose metadata could not be read (\`inaccel bitstream verify\` checks them):\n`);
        for (const folder of unreadable) process.stderr.write(`  ${folder.problem}\n`);
      }
    });

  group
    .command("remove")
    .argument("<bitstream>", "bitstreamId (every version) or bitstreamId@version")
    .description("remove a bitstream from the writable repository")
    .action((spec: string, _options: unknown, command: Command) => {
      for (const removed of repositoryOf(command).remove(spec)) print(`removed ${removed.id}@${removed.version}`);
    });

  group
    .command("verify")
    .description("re-check every bitstream's metadata and files' sha256 (exit status 1 when any fails)")
    .option("--json", "print JSON instead of text")
    .action((options: { json?: boolean }, command: Command) => {
      const results = repositoryOf(command).verify();
      if (options.json) {
        print(JSON.stringify(results, null, 2));
      } else {
        for (const result of results) {
          print(`${result.ok ? "ok  " : "FAIL"} ${result.bitstream} ${result.path}`);
          for (const problem of result.problems) print(`     ${problem}`);
        }
      }
      if (results.some((result) => !result.ok)) process.exitCode = 1;
    });
}

function table(list: readonly BitstreamSummary[]): string {
  const plain = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
  const out = new Table({ head: ["bitstream", "platform", "format", "accelerators", "repository"], ...plain });
  for (const item of list) {
    out.push([
      `${item.id}@${item.version}`,
      platformLabel(item.platform),
      item.format,
      item.accelerators.join("\n"),
      `${item.repository}${item.readOnly ? " (read-only)" : ""}`,
    ]);
  }
  return out.toString();
}

/**
 * A progress bar on stderr (a terminal) that follows a download, drawn from
 * the first chunk on: with the size the server gave, or bytes alone.
 */
function downloadBar(): { update: (progress: DownloadProgress) => void; stop: () => void } {
  // Loaded here: only an install from a URL on a terminal draws one.
  const { SingleBar } = require("cli-progress") as typeof import("cli-progress");
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  let bar: InstanceType<typeof SingleBar> | undefined;
  return {
    update: ({ received, total }) => {
      if (!bar) {
        bar = new SingleBar({
          stream: process.stderr,
          format: total ? "downloading [{bar}] {percentage}% {got}/{size} MiB" : "downloading {got} MiB",
          hideCursor: true,
          clearOnComplete: true,
        });
        bar.start(total ?? 1, 0, { got: mib(0), size: mib(total ?? 0) });
      }
      bar.update(total ? received : 0, { got: mib(received) });
    },
    stop: () => bar?.stop(),
  };
}
